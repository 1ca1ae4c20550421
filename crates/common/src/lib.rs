//! Shared vocabulary of the ICAT Workspace: the one error type (RFC 9457 problem details with stable
//! codes), pagination, optimistic-concurrency helpers, validated input types and the clock.
//!
//! Depends on nothing internal. Its HTTP mapping (`ResponseError`, extractors) sits behind the `web`
//! feature so that the store crate, which depends on this one, stays free of actix-web.

mod error;
mod page;
pub mod validate;
#[cfg(feature = "web")]
pub mod web;

pub use error::{ApiError, ErrorCode, FieldError, Violations};
pub use page::{Page, PageParams};

/// The current time in UTC, truncated to microseconds so that SQLite and PostgreSQL store and
/// return exactly the same value.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::SubsecRound;
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}

/// A stored UTC timestamp as the API shows it: RFC 3339 with a `Z`.
pub fn utc(at: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    at.and_utc()
}

/// A fresh random identifier for a new row; ids are opaque, unguessable strings in the API.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
