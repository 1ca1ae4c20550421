//! Password rules and hashing. Hashing is argon2id with the OWASP parameters (m=19 MiB, t=2, p=1),
//! run on a few threads of its own: each hash holds 19 MiB, so an uncapped login flood would take
//! the memory of the machine. Own threads rather than the blocking pool because the allocator keeps
//! freed 19 MiB blocks in the arena of the thread that used them: spread over dozens of pool
//! threads, a flood of 50 sign-ins grew the process past 500 MB with only two hashes at a time.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use icat_common::{ApiError, Rule};
use std::cell::RefCell;
use std::sync::{Arc, LazyLock, Mutex, mpsc};
use std::time::Duration;
use tokio::sync::{Semaphore, oneshot};

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

/// The lowest zxcvbn score a new password may have: 3 of 0-4, "safely unguessable" (more than
/// 10^8 guesses: against our argon2id at a few dozen guesses a second per core, decades).
const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// Why a new password was refused: a [`Rule`] with a stable `code` for clients to word in their
/// language, and the reason in English words (for `weak_password`, zxcvbn's own feedback).
pub type Refusal = Rule;

/// Checks a new password against the rules: 12 to 128 characters, no composition rules, neither
/// the user's e-mail address nor their name inside it, and a zxcvbn score of at least 3 (zxcvbn
/// also knows the e-mail's and the name's words, so "Jane2024!" for Jane Doe scores low).
/// `personal`: the user's e-mail address and name, where known.
pub fn check_rules(password: &str, personal: &[&str]) -> Result<(), Refusal> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(Rule::too_short(MIN_LEN));
    }
    if len > MAX_LEN {
        return Err(Rule::too_long(MAX_LEN));
    }
    // The e-mail address and the name themselves, as written or without their separators
    // ("janedoe"), may not be inside the password. The local part of the address alone is often a
    // plain word ("secretariat"): zxcvbn weighs it, and every word of the name and the address,
    // as one of the user's own words instead.
    let lower = password.to_lowercase();
    let folded = alphanumeric(&lower);
    let personal: Vec<String> = personal.iter().map(|v| v.trim().to_lowercase()).collect();
    if personal.iter().any(|v| {
        let joined = alphanumeric(v);
        (v.chars().count() >= 4 && lower.contains(v.as_str()))
            || (joined.chars().count() >= 4 && folded.contains(&joined))
    }) {
        return Err(Refusal::new(
            "contains_personal_info",
            "must not contain your e-mail address or name",
        ));
    }
    let mut inputs: Vec<String> = personal
        .iter()
        .flat_map(|v| {
            let local = v.split('@').next().unwrap_or_default();
            let words = v.split(|c: char| !c.is_alphanumeric()).map(str::to_owned);
            [
                v.clone(),
                alphanumeric(v),
                local.to_owned(),
                alphanumeric(local),
            ]
            .into_iter()
            .chain(words)
        })
        .filter(|v| v.chars().count() >= 3)
        .collect();
    inputs.sort();
    inputs.dedup();
    let user_inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(password, &user_inputs);
    if estimate.score() >= MIN_SCORE {
        return Ok(());
    }
    let mut why: Vec<String> = Vec::new();
    if let Some(feedback) = estimate.feedback() {
        why.extend(feedback.warning().map(|w| w.to_string()));
        why.extend(feedback.suggestions().iter().map(ToString::to_string));
    }
    if why.is_empty() {
        why.push("Add another word or two. Uncommon words are better.".to_owned());
    }
    Err(Refusal::new(
        "weak_password",
        format!("is too easy to guess. {}", why.join(" ")),
    ))
}

fn alphanumeric(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Hashes and verifies passwords with a cap on how many run at once.
#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    jobs: mpsc::SyncSender<Job>,
}

type Job = Box<dyn FnOnce() + Send>;

/// How long a sign-in waits for a hashing slot before it is told to come back later.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(10);

impl Hasher {
    /// `concurrency` hashes at most at once (each holds 19 MiB while it runs), on as many threads.
    pub fn new(concurrency: usize) -> Self {
        let threads = concurrency.max(1);
        let (jobs, queue) = mpsc::sync_channel::<Job>(threads);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            // The threads end when the last Hasher (the last sender) is dropped.
            let spawned = std::thread::Builder::new()
                .name(format!("icat-hash-{i}"))
                .spawn(move || {
                    loop {
                        let next = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match next {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!("cannot start a password hashing thread: {e}");
            }
        }
        Self {
            permits: Arc::new(Semaphore::new(threads)),
            jobs,
        }
    }

    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move || hash_now(&password).map_err(ApiError::internal))
            .await
    }

    /// True when the password matches the stored hash. A hash that does not parse never matches.
    pub async fn verify(&self, password: String, hash: String) -> Result<bool, ApiError> {
        self.run(move || Ok(verify_now(&password, &hash))).await
    }

    /// Spends the time of one verification without a stored hash, so that an unknown e-mail
    /// answers as slowly as a wrong password and does not reveal which addresses exist.
    pub async fn waste(&self, password: String) -> Result<(), ApiError> {
        self.run(move || {
            verify_now(&password, &DUMMY_HASH);
            Ok(())
        })
        .await
    }

    /// Runs `f` on a hashing thread once a slot is free (503 after waiting [`QUEUE_TIMEOUT`]).
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let _permit = tokio::time::timeout(QUEUE_TIMEOUT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| ApiError::unavailable("too many sign-ins at once; retry shortly"))?
            .map_err(ApiError::internal)?;
        let (done, result) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move || {
            let _entered = span.enter();
            // The caller may have gone away (client disconnected): nobody to tell, nothing lost.
            let _ = done.send(f());
        });
        // With one permit per thread, the queue always has room: this never waits.
        self.jobs
            .send(job)
            .map_err(|_| ApiError::internal("the password hashing threads have stopped"))?;
        result
            .await
            .map_err(|_| ApiError::internal("a password hashing thread failed"))?
    }
}

thread_local! {
    /// The 19 MiB of argon2 state, allocated once per hashing thread and reused: the crate's own
    /// `hash_password` allocates (64-byte aligned) on every call, and glibc kept ~19 MiB more after
    /// each of the first dozen calls even on one thread.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs argon2 with this thread's reusable memory.
fn argon2_into(
    argon2: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let blocks = params.block_count();
    MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
    })
}

/// A new PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) with a random 16-byte salt.
fn hash_now(password: &str) -> Result<String, String> {
    let params = Params::default();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt_bytes: [u8; 16] = rand::random();
    let salt = Salt::new(&salt_bytes).map_err(|e| e.to_string())?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(&argon2, &params, password.as_bytes(), &salt, &mut out)
        .map_err(|e| e.to_string())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.into(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(phc.to_string())
}

/// True when `password` gives the stored hash, compared in constant time. A stored hash that
/// does not parse (or names another algorithm) never matches.
fn verify_now(password: &str, stored: &str) -> bool {
    let Ok(phc) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(phc.algorithm.as_str()),
        Params::try_from(&phc),
        phc.salt.as_ref(),
        phc.hash.as_ref(),
    ) else {
        return false;
    };
    let version = phc
        .version
        .and_then(|v| Version::try_from(v).ok())
        .unwrap_or_default();
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    argon2_into(&argon2, &params, password.as_bytes(), salt, &mut out).is_ok()
        && Output::new(&out).is_ok_and(|found| found == *expected)
}

/// A hash of a random password, computed once, for [`Hasher::waste`].
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_now(&crate::token::random_token()).unwrap_or_default());

#[cfg(test)]
mod tests {
    use super::*;

    fn code(password: &str, personal: &[&str]) -> Option<&'static str> {
        check_rules(password, personal).err().map(|r| r.code)
    }

    #[test]
    fn length_limits() {
        assert_eq!(code("short pass", &[]), Some("too_short"));
        assert_eq!(code(&"x".repeat(129), &[]), Some("too_long"));
        assert_eq!(code("a quiet river at dawn", &[]), None);
        // Counted in characters, not bytes.
        assert_eq!(code("éééééééééé", &[]), Some("too_short"));
        assert_eq!(code("çava très bien merci", &[]), None);
    }

    #[test]
    fn weak_passwords_are_refused_with_zxcvbns_reasons() {
        for p in [
            "password1234",
            "Password2024!",
            "123456789012",
            "987654321098",
            "qwertyuiop12",
            "iloveyou2024",
            "P@ssw0rd2024",
            "letmein12345",
            "aaaaaaaaaaaaaaa",
            "éééééééééééé",
            "abcdefghijkl",
            "trustno1trustno1",
        ] {
            let refusal = check_rules(p, &[]).err();
            assert_eq!(
                refusal.as_ref().map(|r| r.code),
                Some("weak_password"),
                "{p}"
            );
            // The answer says why, in zxcvbn's words.
            assert!(
                refusal.is_some_and(|r| r.message.starts_with("is too easy to guess. ")
                    && r.message.len() > "is too easy to guess. ".len() + 10),
                "{p}"
            );
        }
        for p in [
            "a quiet river at dawn",
            "seeded account passphrase",
            "correct horse battery staple 42",
            "Fünf Gänse überqueren die Straße",
        ] {
            assert_eq!(code(p, &[]), None, "{p} should be accepted");
        }
    }

    #[test]
    fn the_users_own_email_and_name_are_refused() {
        let jane = ["jane.doe@unodc.org", "Jane Doe"];
        for p in [
            "jane.doe@unodc.org",
            "Jane.Doe@UNODC.org and more",
            "my name is jane doe!",
            "janedoe rivers at dawn",
            "xx JANE DOE xx long enough",
            "janedoeunodcorg and words",
        ] {
            assert_eq!(code(p, &jane), Some("contains_personal_info"), "{p}");
        }
        // A word of the name dressed with digits is weak.
        assert_eq!(code("jane12345678", &jane), Some("weak_password"));
        assert_eq!(code("a quiet river at dawn", &jane), None);
    }

    #[test]
    fn hashes_verify_both_ways_with_the_crates_own_api() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        // A hash made by the crate's standard API (as stored by earlier releases) verifies here.
        let theirs = Argon2::default()
            .hash_password(b"a quiet river at dawn")
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(theirs.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_now("a quiet river at dawn", &theirs));
        assert!(!verify_now("a quiet river at dusk", &theirs));
        // And ours is a standard PHC string the crate verifies.
        let ours = hash_now("a quiet river at dawn").unwrap_or_default();
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_ne!(
            ours,
            hash_now("a quiet river at dawn").unwrap_or_default(),
            "salted"
        );
        assert!(
            Argon2::default()
                .verify_password(b"a quiet river at dawn", ours.as_str())
                .is_ok()
        );
        assert!(verify_now("a quiet river at dawn", &ours));
        assert!(!verify_now("anything", "not a hash"));
        assert!(!verify_now(
            "anything",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$"
        ));
    }
}
