//! The `icat` server: settings, start-up (migrate, seed, first admin), every crate's routes under
//! one actix-web `App` with the OpenAPI document built from them, the embedded web front-end, and
//! the command line. The only crate that knows all the others.

pub mod app;
mod assets;
pub mod bootstrap;
pub mod config;
pub mod limits;
pub mod metrics;
mod reminders;
pub mod reset;
mod routes;
pub mod seed;

pub use app::{openapi, serve};
pub use bootstrap::{State, prepare};
pub use config::Settings;

/// Sets up logging: human-readable text, or JSON lines for log collectors.
pub fn init_tracing(settings: &Settings) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&settings.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if settings.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
