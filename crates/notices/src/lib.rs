//! Coordination notices (paragraphs 7 to 9): when another agency records, edits or imports an
//! activity that matches one of an agency's own, or reviews a pair of theirs, that agency's editors
//! and focal points hear of it, in their inbox and by e-mail.
//!
//! The write side ([`events`]) runs inside the transaction of the change that caused it, so a
//! notice and its e-mail exist exactly when the change does (a transactional outbox). The e-mail
//! waits in `mail_outbox` until the worker ([`outbox`]) delivers it over SMTP with retries; of
//! several servers on one database exactly one claims each message. [`inbox`] is the read side and
//! each user's choices; [`mail`] words the messages in the recipient's language.
//!
//! May depend on `icat_common`, `icat_store` and `icat_auth` (its routes' signed-in user); the
//! activity log and the reports call it, never the other way round.

pub mod events;
pub mod inbox;
pub mod mail;
pub mod outbox;
mod routes;

pub use routes::configure;

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether e-mail is written to the outbox at all: only when a mail server is configured
/// (`ICAT_SMTP_URL`); without one the workspace keeps notices in the inbox only.
static MAIL_ON: AtomicBool = AtomicBool::new(false);

/// Turns e-mail on or off for this process (the server, at start, from its settings).
pub fn deliver_by_mail(on: bool) {
    MAIL_ON.store(on, Ordering::Relaxed);
}

/// Whether this process sends e-mail (a mail server is configured).
pub fn mail_is_on() -> bool {
    MAIL_ON.load(Ordering::Relaxed)
}

/// How a user wants to hear of notices by e-mail.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EmailMode {
    /// One message per notice, as it happens.
    Immediate,
    /// One message a day listing the day's notices.
    Daily,
    /// The inbox only.
    None,
}

impl EmailMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Immediate => "immediate",
            Self::Daily => "daily",
            Self::None => "none",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "daily" => Self::Daily,
            "none" => Self::None,
            _ => Self::Immediate,
        }
    }
}

/// The interface languages a message can be written in.
pub const LANGUAGES: [&str; 3] = ["en", "fr", "es"];

/// A language of [`LANGUAGES`], English when `s` is none of them.
pub fn language(s: &str) -> &'static str {
    LANGUAGES.into_iter().find(|l| *l == s).unwrap_or("en")
}
