//! Parse, don't validate: request values become these types at the edge, and the rest of the code
//! cannot hold an invalid one.

use crate::Rule;
use serde::{Deserialize, Deserializer};

/// An e-mail address, trimmed and lower-cased (addresses are unique case-insensitively).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Rule> {
        let bad = || {
            Rule::new(
                "not_an_email",
                "must be an e-mail address like name@example.org",
            )
        };
        let email = raw.trim().to_lowercase();
        if email.len() > 254 {
            return Err(Rule::too_long(254));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(bad());
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '@' || c == '"');
        if !(domain_ok && local_ok) {
            return Err(bad());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A required, trimmed, single-line text of bounded length, with something to read in it.
pub fn text(raw: &str, max: usize) -> Result<String, Rule> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(Rule::required());
    }
    if value.chars().count() > max {
        return Err(Rule::too_long(max));
    }
    if value.chars().any(char::is_control) {
        return Err(control_characters());
    }
    readable(value)?;
    Ok(value.to_owned())
}

/// A calendar day written `YYYY-MM-DD`.
pub fn date(raw: &str) -> Result<chrono::NaiveDate, Rule> {
    chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        Rule::new("not_a_date", "must be a date like 2026-11-28").with("example", "2026-11-28")
    })
}

/// The rule against control characters in a text.
pub fn control_characters() -> Rule {
    Rule::new("control_characters", "must not contain control characters")
}

/// Refuses a text with no letter or digit: one of zero-width or other invisible characters
/// alone (U+200B, U+2060) passes every other check and shows blank.
pub fn readable(value: &str) -> Result<(), Rule> {
    if value.chars().any(char::is_alphanumeric) {
        Ok(())
    } else {
        Err(Rule::new("no_letters", "must contain letters or digits"))
    }
}

/// An http(s) address of bounded length, for agency websites: it must parse as a URL (RFC 3986,
/// as browsers read it) with a host name or address, and carry no credentials.
pub fn web_address(raw: &str) -> Result<String, Rule> {
    let bad = || {
        Rule::new(
            "not_a_web_address",
            "must be a web address like https://www.example.org",
        )
    };
    let value = raw.trim();
    if !(value.starts_with("https://") || value.starts_with("http://")) {
        return Err(Rule::new(
            "not_a_web_address",
            "must start with https:// or http://",
        ));
    }
    if value.len() > 2048 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let url = url::Url::parse(value).map_err(|_| bad())?;
    let host_ok = match url.host() {
        Some(url::Host::Domain(d)) => {
            !d.is_empty()
                && d.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        }
        Some(_) => true,
        None => false,
    };
    if !host_ok || !url.username().is_empty() || url.password().is_some() {
        return Err(bad());
    }
    Ok(value.to_owned())
}

/// For PATCH bodies: tells "absent" (`None`) from "set to null" (`Some(None)`).
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Every parser of outside text answers Ok or a message for any input, never panics,
        /// and what it accepts holds what it promises.
        #[test]
        fn parsers_of_outside_text_never_panic(raw in "\\PC{0,300}|[ -~]{0,80}") {
            if let Ok(email) = Email::parse(&raw) {
                proptest::prop_assert!(email.as_str().contains('@'));
                proptest::prop_assert!(!email.as_str().chars().any(char::is_whitespace));
            }
            if let Ok(url) = web_address(&raw) {
                proptest::prop_assert!(url.starts_with("http"));
            }
            if let Ok(t) = text(&raw, 50) {
                proptest::prop_assert!(!t.is_empty() && t.chars().count() <= 50);
            }
            let _ = crate::vocab::country(&raw);
            let _ = crate::vocab::language(&raw);
            let _ = crate::vocab::theme(&raw);
            let terms = crate::search::terms(&raw);
            for term in &terms {
                let _ = crate::search::prefix_end(term);
            }
            let _ = crate::search::query(Some(raw.clone()));
        }
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Focal.Point@UNODC.org ").map(Email::into_inner),
            Ok("focal.point@unodc.org".to_owned())
        );
        for bad in [
            "",
            "no-at-sign",
            "a@b",
            "a@.org",
            "a b@x.org",
            "@x.org",
            "a@x..org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("  UNODC ", 10), Ok("UNODC".to_owned()));
        assert!(text("   ", 10).is_err());
        assert!(text("abcdefghijk", 10).is_err());
        assert!(text("line\nbreak", 20).is_err());
    }

    #[test]
    fn web_addresses_need_a_scheme() {
        assert!(web_address("https://www.unodc.org").is_ok());
        assert!(web_address("www.unodc.org").is_err());
        assert!(web_address("javascript:alert(1)").is_err());
        assert!(web_address("https://").is_err());
        assert!(web_address("http://[").is_err(), "not a URL");
        assert!(
            web_address("https://user:pw@example.org").is_err(),
            "no credentials"
        );
        assert!(web_address("https://ex ample.org").is_err());
    }
}
