//! Password rules and hashing. Hashing is argon2id with the OWASP parameters (m=19 MiB, t=2, p=1),
//! run on the blocking pool under a semaphore: each hash holds 19 MiB, so an uncapped login flood
//! would take the memory of the machine.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use icat_common::ApiError;
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio::sync::Semaphore;

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

static COMMON: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// Checks a new password against the rules: 12 to 128 characters, no composition rules, not a
/// common password or a common word dressed with digits and punctuation, not the e-mail address.
pub fn check_rules(password: &str, email: Option<&str>) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(format!("must be at least {MIN_LEN} characters"));
    }
    if len > MAX_LEN {
        return Err(format!("must be at most {MAX_LEN} characters"));
    }
    let lower = password.to_lowercase();
    let stem =
        lower.trim_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation() || c == ' ');
    let first = lower.chars().next();
    let one_char_repeated = first.is_some_and(|f| lower.chars().all(|c| c == f));
    let is_email = email.is_some_and(|e| {
        let e = e.to_lowercase();
        lower == e || e.split('@').next().is_some_and(|local| stem == local)
    });
    if one_char_repeated
        || is_email
        || COMMON.iter().any(|c| *c == lower || *c == stem)
        || (stem.is_empty() && is_sequence(&lower))
    {
        return Err("is too common or too easy to guess; choose a longer phrase".into());
    }
    Ok(())
}

/// Digits only, counting up or down ("123456789012", "987654321098").
fn is_sequence(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    digits.len() == s.chars().count()
        && (digits.windows(2).all(|w| (w[0] + 1) % 10 == w[1])
            || digits.windows(2).all(|w| (w[1] + 1) % 10 == w[0]))
}

/// Hashes and verifies passwords with a cap on how many run at once.
#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
}

/// How long a sign-in waits for a hashing slot before it is told to come back later.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(10);

impl Hasher {
    /// `concurrency` hashes at most at once (each holds 19 MiB while it runs).
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.blocking(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(ApiError::internal)
        })
        .await
    }

    /// True when the password matches the stored hash. A hash that does not parse never matches.
    pub async fn verify(&self, password: String, hash: String) -> Result<bool, ApiError> {
        self.blocking(move || Ok(verify_now(&password, &hash)))
            .await
    }

    /// Spends the time of one verification without a stored hash, so that an unknown e-mail
    /// answers as slowly as a wrong password and does not reveal which addresses exist.
    pub async fn waste(&self, password: String) -> Result<(), ApiError> {
        self.blocking(move || {
            verify_now(&password, &DUMMY_HASH);
            Ok(())
        })
        .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = tokio::time::timeout(QUEUE_TIMEOUT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| ApiError::unavailable("too many sign-ins at once; retry shortly"))?
            .map_err(ApiError::internal)?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let result = f();
            drop(permit);
            result
        })
        .await
        .map_err(ApiError::internal)?
    }
}

fn verify_now(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a random password, computed once, for [`Hasher::waste`].
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let random = crate::token::random_token();
    Argon2::default()
        .hash_password(random.as_bytes())
        .map(|h| h.to_string())
        .unwrap_or_default()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_limits() {
        assert!(check_rules("short pass", None).is_err());
        assert!(check_rules(&"x".repeat(129), None).is_err());
        assert!(check_rules("a quiet river at dawn", None).is_ok());
        // Counted in characters, not bytes.
        assert!(check_rules("éééééééééééé", None).is_err(), "repeated char");
        assert!(check_rules("çava très bien merci", None).is_ok());
    }

    #[test]
    fn common_passwords_and_their_dressings_are_refused() {
        for p in [
            "password1234",
            "Password2024!",
            "123456789012",
            "987654321098",
            "qwertyuiop12",
            "!!iloveyou!!2024",
            "aaaaaaaaaaaaaaa",
        ] {
            assert!(check_rules(p, None).is_err(), "{p} should be refused");
        }
        assert!(check_rules("jane.doe@unodc.org", Some("Jane.Doe@unodc.org")).is_err());
        assert!(check_rules("jane.doe2024!", Some("jane.doe@unodc.org")).is_err());
    }

    #[test]
    fn hashes_verify() {
        let hash = Argon2::default()
            .hash_password(b"a quiet river at dawn")
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_now("a quiet river at dawn", &hash));
        assert!(!verify_now("a quiet river at dusk", &hash));
        assert!(!verify_now("anything", "not a hash"));
    }
}
