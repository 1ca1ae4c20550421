//! Start-up work shared by `icat serve`, the CLI and the tests: open the database, migrate, seed the
//! registry, settle the token key and make sure an admin exists.

use crate::config::Settings;
use anyhow::Context;
use icat_audit::Actor;
use icat_auth::AuthConfig;
use icat_auth::password::{self, Hasher};
use icat_auth::token::{TokenKeys, random_token};
use icat_auth::users::{self, NewUser, Role};
use icat_common::validate::Email;
use icat_store::{Db, PoolOptions};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// What the running server shares with its handlers.
#[derive(Clone)]
pub struct State {
    pub db: Db,
    pub auth: AuthConfig,
    pub limits: std::sync::Arc<crate::limits::ClientLimits>,
    /// Candidates' features read lately, for scoring.
    pub features: std::sync::Arc<icat_activities::FeatureCache>,
    /// Prometheus metrics, when asked for (`ICAT_METRICS`, `ICAT_METRICS_BIND`).
    pub metrics: Option<crate::metrics::Metrics>,
    /// Signs and checks the unsubscribe links of e-mails.
    pub unsubscribe: icat_notices::outbox::UnsubscribeKeys,
    /// The SMTP sender of notices, when a mail server is configured (`ICAT_SMTP_URL`).
    pub mailer: Option<icat_notices::outbox::Mailer>,
    /// Forgotten passwords: the links' address and the request limits.
    pub resets: std::sync::Arc<crate::reset::Resets>,
}

/// What the database is opened for: the CLI's batch work runs without a statement limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Serve,
    Batch,
}

/// Opens and migrates the database and seeds the member registry.
pub async fn open_database(settings: &Settings, purpose: Purpose) -> anyhow::Result<Db> {
    let statement_timeout = (purpose == Purpose::Serve && settings.statement_timeout_ms > 0)
        .then(|| std::time::Duration::from_millis(settings.statement_timeout_ms));
    let options = PoolOptions {
        max_size: settings.db_pool_size.max(2),
        statement_timeout,
        memory_map: purpose == Purpose::Serve,
        ..PoolOptions::default()
    };
    let url = settings.database_url.clone();
    let db = tokio::task::spawn_blocking(move || -> anyhow::Result<Db> {
        let db = Db::connect(&url, options)
            .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
        let applied = db
            .migrate()
            .map_err(|e| anyhow::anyhow!("cannot migrate the database: {e}"))?;
        for name in applied {
            tracing::info!(migration = %name, "applied migration");
        }
        Ok(db)
    })
    .await??;
    let seeded = db.run(icat_agencies::seed_if_empty).await?;
    if seeded > 0 {
        tracing::info!(agencies = seeded, "seeded the ICAT member registry");
    }
    let started = std::time::Instant::now();
    let filled = db
        .run(|conn| Ok(icat_activities::fill_title_terms(conn)?))
        .await?;
    if filled > 0 {
        let seconds = started.elapsed().as_secs_f64();
        tracing::info!(
            activities = filled,
            seconds,
            "filled the title words search ranks first"
        );
    }
    Ok(db)
}

/// The sentence encoder of `settings.sentence_model`, loaded once per process and folder (the
/// tests start many servers in one process; each would hold its own 80 MB).
pub async fn sentences(settings: &Settings) -> anyhow::Result<Arc<icat_embed::Encoder>> {
    static LOADED: Mutex<Vec<(String, Arc<icat_embed::Encoder>)>> = Mutex::new(Vec::new());
    let folder = settings.sentence_model.clone();
    if let Some((_, held)) = LOADED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(f, _)| *f == folder)
    {
        return Ok(held.clone());
    }
    let path = folder.clone();
    let encoder = tokio::task::spawn_blocking(move || icat_embed::Encoder::load(Path::new(&path)))
        .await?
        .with_context(|| {
            format!(
                "cannot load the sentence model from {folder} (ICAT_SENTENCE_MODEL): fetch it with \
                 tools/model-data, which make run does"
            )
        })?;
    let encoder = Arc::new(encoder);
    LOADED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((folder, encoder.clone()));
    Ok(encoder)
}

/// Everything `icat serve` needs before it takes requests.
pub async fn prepare(settings: &Settings) -> anyhow::Result<State> {
    let db = open_database(settings, Purpose::Serve).await?;
    let secret = match &settings.jwt_secret {
        Some(secret) => secret.clone(),
        // Stored in the database, so every server sharing it signs with the same key.
        None => {
            let generated = format!("{}{}", random_token(), random_token());
            db.run(move |conn| {
                Ok(icat_store::setting_or_insert(
                    conn,
                    "jwt_secret",
                    &generated,
                )?)
            })
            .await?
        }
    };
    let auth = AuthConfig {
        keys: TokenKeys::new(&secret).context("the token key is not usable")?,
        hasher: Hasher::new(settings.hash_concurrency),
    };
    let limits = std::sync::Arc::new(crate::limits::ClientLimits::new(
        settings.rate_limit,
        settings.rate_limit_burst,
        settings.trusted_proxies.clone(),
    ));
    let features = Arc::new(
        icat_activities::FeatureCache::new(settings.feature_cache_mb.saturating_mul(1 << 20))
            .with_sentences(sentences(settings).await?),
    );
    let metrics = (settings.metrics || settings.metrics_bind.is_some())
        .then(|| crate::metrics::Metrics::install(settings.metrics))
        .transpose()?;
    let unsubscribe = icat_notices::outbox::UnsubscribeKeys::new(&secret)?;
    let mailer = settings
        .smtp_url
        .as_deref()
        .map(|url| {
            icat_notices::outbox::Mailer::new(
                url,
                &settings.mail_from,
                &settings.public_url,
                unsubscribe.clone(),
            )
            .context("ICAT_SMTP_URL or ICAT_MAIL_FROM is not usable")
        })
        .transpose()?;
    icat_notices::deliver_by_mail(mailer.is_some());
    let state = State {
        db,
        auth,
        limits,
        features,
        metrics,
        unsubscribe,
        mailer,
        resets: std::sync::Arc::new(crate::reset::Resets::new(&settings.public_url)),
    };
    ensure_admin(&state, settings).await?;
    Ok(state)
}

/// Creates the first admin when the database has no active one: from `ICAT_ADMIN_EMAIL` and
/// `ICAT_ADMIN_PASSWORD` when both are set, otherwise with a generated password printed once.
async fn ensure_admin(state: &State, settings: &Settings) -> anyhow::Result<()> {
    if state
        .db
        .run(|conn| Ok(users::has_active_admin(conn)?))
        .await?
    {
        return Ok(());
    }
    let email = settings
        .admin_email
        .clone()
        .unwrap_or_else(|| "admin@icat.local".to_owned());
    let (password, generated) = match &settings.admin_password {
        Some(p) => (p.clone(), false),
        None => (random_token()[..24].to_owned(), true),
    };
    let created = create_admin(
        &state.db,
        &state.auth.hasher,
        &email,
        "ICAT secretariat",
        &password,
    )
    .await;
    if let Err(e) = created {
        // Another server starting on the same database created it a moment ago.
        if state
            .db
            .run(|conn| Ok(users::has_active_admin(conn)?))
            .await?
        {
            return Ok(());
        }
        return Err(e);
    }
    if generated {
        // Printed, not logged: logs are often shipped elsewhere; the terminal is the admin's.
        println!(
            "\nFirst admin created.\n  e-mail:   {email}\n  password: {password}\n\
             Sign in and change this password; it is not shown again.\n"
        );
    } else {
        tracing::info!(%email, "created the first admin from ICAT_ADMIN_EMAIL");
    }
    Ok(())
}

/// Creates an admin account (also `icat create-admin`).
pub async fn create_admin(
    db: &Db,
    hasher: &Hasher,
    email: &str,
    name: &str,
    password: &str,
) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|m| anyhow::anyhow!("admin e-mail {m}"))?;
    password::check_rules(password, &[email.as_str(), name])
        .map_err(|r| anyhow::anyhow!("admin password {}", r.message))?;
    let password_hash = hasher.hash(password.to_owned()).await?;
    let new = NewUser {
        email: email.into_inner(),
        name: name.to_owned(),
        role: Role::Admin,
        agency_id: None,
        password_hash,
        // The operator who runs this chose the password.
        must_change_password: false,
    };
    db.run(move |conn| users::create(conn, &Actor::default(), new))
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the admin: {}", e.detail))?;
    Ok(())
}
