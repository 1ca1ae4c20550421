//! Authentication and authorisation: user accounts with roles, argon2id password hashing with a cap
//! on concurrent hashes, short-lived JWT access tokens, rotating refresh sessions with reuse
//! detection, per-account sign-in throttling, the `AuthUser` extractor with its role guards, and
//! the `/api/v1/auth` and `/api/v1/users` routes.
//!
//! May depend on `icat_common`, `icat_store` and `icat_audit`.

mod extract;
pub mod password;
pub mod reset;
mod routes;
pub mod sessions;
pub mod throttle;
pub mod token;
pub mod users;

pub use extract::{AuthConfig, AuthUser, anonymous_actor, request_id};
pub use routes::configure;
pub use users::{Role, User};
