//! `icat`: the ICAT Workspace server and its administration commands.

use anyhow::Context;
use clap::{Parser, Subcommand};
use icat_server::{Settings, bootstrap, init_tracing};

#[derive(Parser)]
#[command(name = "icat", version, about = "The ICAT Workspace server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate, seed, create the first admin if there is none, and serve the API and web front-end.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Duplicate detection maintenance.
    Dedup {
        #[command(subcommand)]
        command: DedupCommand,
    },
    /// Fill the database with a deterministic synthetic data set (benchmarks, demonstrations).
    Seed {
        #[arg(long, default_value_t = 1_000)]
        activities: usize,
        #[arg(long, default_value_t = 31)]
        agencies: usize,
        #[arg(long, default_value_t = 30)]
        users: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Write a consistent copy of the (SQLite) database to a new file while the server runs.
    /// Restore by stopping the server and putting the copy in place of the database file.
    Backup {
        /// Where to write the copy; the file must not exist.
        path: std::path::PathBuf,
    },
    /// Create an admin account; the password comes from ICAT_ADMIN_PASSWORD or a prompt.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "ICAT secretariat")]
        name: String,
    },
}

#[derive(Subcommand)]
enum DedupCommand {
    /// Recompute every activity's features, band keys and pairs from scratch (after a change of
    /// the engine or its weights). Reviews are kept.
    Rebuild,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load()?;
    init_tracing(&settings);
    match cli.command {
        Command::Serve => {
            let state = bootstrap::prepare(&settings).await?;
            let listener = std::net::TcpListener::bind(&settings.bind)
                .with_context(|| format!("cannot listen on {}", settings.bind))?;
            tracing::info!(
                address = %settings.bind,
                backend = state.db.backend().name(),
                "serving the ICAT Workspace on http://{}",
                settings.bind
            );
            if let (Some(metrics), Some(bind)) = (state.metrics.clone(), &settings.metrics_bind) {
                let apart = std::net::TcpListener::bind(bind)
                    .with_context(|| format!("cannot listen on {bind} (ICAT_METRICS_BIND)"))?;
                tracing::info!(address = %bind, "serving metrics on http://{bind}/metrics");
                // Stops with the process (the main server handles the signals).
                tokio::spawn(icat_server::metrics::serve_apart(
                    metrics,
                    state.db.clone(),
                    apart,
                )?);
            }
            icat_server::serve(state, listener, settings.workers)?.await?;
        }
        Command::Migrate => {
            bootstrap::open_database(&settings, bootstrap::Purpose::Batch).await?;
            println!("The database is up to date.");
        }
        Command::Dedup {
            command: DedupCommand::Rebuild,
        } => {
            let db = bootstrap::open_database(&settings, bootstrap::Purpose::Batch).await?;
            // Loaded only if some activity lacks its vector.
            let folder = settings.sentence_model.clone();
            let load = move || {
                icat_embed::Encoder::load(std::path::Path::new(&folder))
                    .map(std::sync::Arc::new)
                    .map_err(|e| {
                        icat_common::ApiError::internal(format!(
                            "cannot load the sentence model from {folder} (ICAT_SENTENCE_MODEL): {e}"
                        ))
                    })
            };
            let started = std::time::Instant::now();
            let (activities, pairs) = db
                .run(move |conn| icat_activities::rebuild(conn, Some(&load)))
                .await?;
            println!(
                "Rebuilt {pairs} pairs over {activities} activities in {:.2} s.",
                started.elapsed().as_secs_f64()
            );
            let model = db
                .run(|conn| Ok(icat_activities::match_model::current(conn)?))
                .await?;
            match model.candidate_pairs {
                Some(pairs) => println!(
                    "Match model estimated from {pairs} candidate pairs ({} reviewed): {:.1} % of them the same work.",
                    model.labelled_pairs.unwrap_or(0),
                    100.0 * model.match_share.unwrap_or(0.0)
                ),
                None => println!(
                    "Too few candidate pairs to estimate a match model: the shipped one scores."
                ),
            }
        }
        Command::Seed {
            activities,
            agencies,
            users,
            seed,
        } => {
            let db = bootstrap::open_database(&settings, bootstrap::Purpose::Batch).await?;
            let hasher = icat_auth::password::Hasher::new(1);
            icat_server::seed::run(
                &db,
                &hasher,
                Some(bootstrap::sentences(&settings).await?),
                icat_server::seed::Plan {
                    activities,
                    agencies,
                    users,
                    seed,
                },
            )
            .await?;
        }
        Command::Backup { path } => {
            let db =
                icat_store::Db::connect(&settings.database_url, icat_store::PoolOptions::default())
                    .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
            let mut conn = db.get()?;
            icat_store::backup_sqlite(&mut conn, &path).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("Backed up to {}.", path.display());
        }
        Command::CreateAdmin { email, name } => {
            let password = match settings.admin_password.clone() {
                Some(p) => p,
                None => rpassword::prompt_password("Password for the new admin: ")?,
            };
            let db = bootstrap::open_database(&settings, bootstrap::Purpose::Batch).await?;
            let hasher = icat_auth::password::Hasher::new(1);
            bootstrap::create_admin(&db, &hasher, &email, &name, &password).await?;
            println!("Admin {email} created.");
        }
    }
    Ok(())
}
