//! The database layer: the portable diesel schema, a connection enum over SQLite (embedded default)
//! and PostgreSQL (for deployments that outgrow one machine), an r2d2 pool, embedded migrations,
//! and the helpers a request's database work runs in: [`Db::run`] (and [`Db::run_big`] for the large
//! reports), [`write`] for a write transaction and [`Db::write_together`] for the group commit.
//!
//! May depend on `icat_common` only, and never on actix-web (checked by `make lint`): the blocking
//! pool it uses is tokio's, which is the one actix-web runs on.

mod group;
pub mod schema;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use icat_common::ApiError;
use std::time::Duration;

/// A connection to either backend; query code is written once against this type.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(diesel::SqliteConnection),
    Pg(diesel::PgConnection),
}

/// Executes a statement on the backend's own connection, for the statements the multi-backend
/// connection cannot compile (multi-row inserts, upserts): `execute_natively!(conn, statement)`
/// gives the `QueryResult<usize>` of `execute`.
#[macro_export]
macro_rules! execute_natively {
    ($conn:expr, $statement:expr) => {
        match $conn {
            $crate::DbConn::Sqlite(c) => diesel::RunQueryDsl::execute($statement, c),
            $crate::DbConn::Pg(c) => diesel::RunQueryDsl::execute($statement, c),
        }
    };
}

/// Which database a URL names. Chosen from the scheme, never by trying each backend in turn
/// (SQLite would accept any string as a file name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The file path of a SQLite URL: `sqlite://data/icat.db`, `sqlite:data/icat.db` or a bare path.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Per-connection SQLite settings: they do not persist in the file, so every pooled connection gets
/// them. WAL lets readers run beside the one writer; the busy timeout makes writers queue instead of
/// failing. The busy timeout comes first: the journal-mode pragma itself may meet a lock (a
/// checkpoint under heavy writing), and before the timeout is set it would fail at once, costing
/// the pool a connection ("database is locked" in the log).
///
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

/// Reads through a memory map of the file (see [`PoolOptions::memory_map`]): every connection then
/// reads the kernel's cached pages in place, where through `read()` each of them copied every page
/// it touched into its own small cache, again and again (a list page's count walks 100,000 index
/// entries: two thirds of its time was the kernel copying pages). Writes still go through the WAL.
/// The size is SQLite's default ceiling (2 GiB of the file mapped; past it, reads go through
/// `read()` again).
const SQLITE_MEMORY_MAP: &str = "PRAGMA mmap_size = 2147418112;";

/// Opens a SQLite connection with [`SQLITE_PRAGMAS`] (and [`SQLITE_MEMORY_MAP`] if asked).
fn sqlite_connect(url: &str, memory_map: bool) -> Result<diesel::SqliteConnection, r2d2::Error> {
    let mut conn = diesel::SqliteConnection::establish(sqlite_path(url))
        .map_err(r2d2::Error::ConnectionError)?;
    conn.batch_execute(SQLITE_PRAGMAS)
        .map_err(r2d2::Error::QueryError)?;
    if memory_map {
        conn.batch_execute(SQLITE_MEMORY_MAP)
            .map_err(r2d2::Error::QueryError)?;
    }
    Ok(conn)
}

/// Opens connections of the backend the URL names.
#[derive(Debug)]
pub struct Manager {
    url: String,
    backend: Backend,
    statement_timeout: Option<Duration>,
    memory_map: bool,
}

/// The per-connection statement limit as PostgreSQL takes it (`0` is none).
fn statement_timeout_sql(limit: Option<Duration>) -> String {
    let ms = limit.map_or(0, |t| t.as_millis().max(1));
    format!("SET statement_timeout = {ms}")
}

/// A pooled connection and when it last came back to the pool.
pub struct Pooled {
    conn: DbConn,
    returned: std::time::Instant,
}

impl std::ops::Deref for Pooled {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

/// A PostgreSQL connection back in the pool for less than this is taken out again without a
/// test statement (HikariCP's "alive bypass" window, 500 ms by default). Under load every
/// connection is back within milliseconds, and the test was a round trip per checkout: two of a
/// directory look-up's five statements. A connection that has rested longer, which a restart of
/// PostgreSQL or the network may have broken, is still tested first. One that breaks within the
/// window fails the statement that finds it, and diesel then holds it broken (its transaction
/// status is unknown), so the pool drops it on its return instead of lending it again.
const TRUSTED_FOR: Duration = Duration::from_millis(500);

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Pooled, r2d2::Error> {
        let conn = match self.backend {
            Backend::Sqlite => sqlite_connect(&self.url, self.memory_map).map(DbConn::Sqlite)?,
            Backend::Postgres => {
                let mut conn = diesel::PgConnection::establish(&self.url)
                    .map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(&statement_timeout_sql(self.statement_timeout))
                    .map_err(r2d2::Error::QueryError)?;
                DbConn::Pg(conn)
            }
        };
        Ok(Pooled {
            conn,
            returned: std::time::Instant::now(),
        })
    }

    fn is_valid(&self, conn: &mut Pooled) -> Result<(), r2d2::Error> {
        if conn.returned.elapsed() < TRUSTED_FOR {
            return Ok(());
        }
        conn.conn.ping().map_err(r2d2::Error::QueryError)
    }

    /// Called as each connection comes back: the moment [`Manager::is_valid`] trusts.
    fn has_broken(&self, conn: &mut Pooled) -> bool {
        conn.returned = std::time::Instant::now();
        conn.conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// The shared handle to the database.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    backend: Backend,
    statement_timeout: Option<Duration>,
    /// One permit per pooled connection: [`Db::run`] takes one before it starts a blocking
    /// thread, so requests beyond the pool wait here, asynchronously, and never as threads.
    slots: std::sync::Arc<tokio::sync::Semaphore>,
    acquire_timeout: Duration,
    group: std::sync::Arc<group::Group>,
    /// This database's SQLite writers' turn (see [`Writer`]).
    writer: std::sync::Arc<Writer>,
    /// The thread of [`Db::run_big`], started with its first job.
    big: std::sync::Arc<std::sync::Mutex<Option<std::sync::mpsc::Sender<BigJob>>>>,
}

/// Work for the thread of [`Db::run_big`].
type BigJob = Box<dyn FnOnce() + Send>;

/// The pool's connections at a moment (for metrics).
#[derive(Clone, Copy, Debug)]
pub struct PoolState {
    pub connections: u32,
    pub idle: u32,
    pub max: u32,
}

/// Pool settings.
#[derive(Clone, Copy, Debug)]
pub struct PoolOptions {
    pub max_size: u32,
    /// How long a request waits for a free connection before it is answered 503.
    pub acquire_timeout: Duration,
    /// The longest one statement may run on PostgreSQL before the server cancels it. A request the
    /// client gave up on does not stop its query; without a limit, a few slow queries hold every
    /// pooled connection and all other requests wait for the pool and fail. Shorter than
    /// `acquire_timeout`, so that a slow query fails alone. `None` for the CLI's long batch work.
    /// (SQLite has no such setting; there every query is bounded by an index and a page cap.)
    pub statement_timeout: Option<Duration>,
    /// SQLite: read through a memory map of the file ([`SQLITE_MEMORY_MAP`]), for a server's many
    /// readers. Off for the CLI's batch work, which reads the file once: mapped pages count in a
    /// process's resident memory (a rebuild at 100,000 activities peaked at 1.4 GB with the map,
    /// 407 MB without).
    pub memory_map: bool,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 16,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: None,
            memory_map: true,
        }
    }
}

impl Db {
    /// Opens a pool on the database the URL names, creating a SQLite file's folder when missing.
    pub fn connect(url: &str, options: PoolOptions) -> Result<Db, BoxError> {
        let backend = Backend::of_url(url);
        if backend == Backend::Sqlite {
            let path = std::path::Path::new(sqlite_path(url));
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
        }
        let writer = std::sync::Arc::new(Writer::default());
        let group = group::Group::new(url, writer.clone(), options.memory_map);
        let manager = Manager {
            url: url.to_owned(),
            backend,
            statement_timeout: options.statement_timeout,
            memory_map: options.memory_map,
        };
        let pool = r2d2::Pool::builder()
            .max_size(options.max_size)
            // A test statement for connections the network may have broken (see
            // [`TRUSTED_FOR`]): SQLite's are files.
            .test_on_check_out(backend == Backend::Postgres)
            .min_idle(Some(1))
            .connection_timeout(options.acquire_timeout)
            .build(manager)?;
        Ok(Db {
            pool,
            backend,
            statement_timeout: options.statement_timeout,
            slots: std::sync::Arc::new(tokio::sync::Semaphore::new(options.max_size as usize)),
            acquire_timeout: options.acquire_timeout,
            group: std::sync::Arc::new(group),
            writer,
            big: std::sync::Arc::default(),
        })
    }

    /// [`write`] for the busiest write (recording an activity), called with a connection of this
    /// database from inside [`Db::run`]. On SQLite the writers waiting at the same moment share one
    /// transaction and one commit (see the `group` module); each still gets its own answer, after
    /// the commit, and its own failure alone. Inside a transaction, and on PostgreSQL (whose
    /// concurrent writers do not wait for each other), it is [`write`].
    pub fn write_together<T, F>(&self, conn: &mut DbConn, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        if matches!(conn, DbConn::Sqlite(_)) && !conn_in_transaction(conn) {
            self.group.write(f)
        } else {
            write(conn, f)
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The size of the pool: how many queries can run at once.
    pub fn max_connections(&self) -> usize {
        self.pool.max_size() as usize
    }

    /// A pooled connection, held by this thread until it is dropped (and known by it as this
    /// database's: see [`Held`]).
    pub fn get(&self) -> Result<Held, ApiError> {
        let conn = self
            .pool
            .get()
            .map_err(|e| ApiError::unavailable(format!("no database connection available: {e}")))?;
        let previous = HELD.with(|held| held.borrow_mut().replace(self.writer.clone()));
        Ok(Held { conn, previous })
    }

    /// Waits, as a future, for one of the pool's connections to be free for this request: without
    /// this bound every request waiting for a connection held a blocking thread of its own (88
    /// threads under the bench, 41 with it). 503 after the pool's wait.
    async fn admit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        let started = std::time::Instant::now();
        let permit = tokio::time::timeout(self.acquire_timeout, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| {
                metrics::counter!("icat_db_pool_timeouts_total").increment(1);
                ApiError::unavailable("no database connection available: timed out")
            })?
            .map_err(ApiError::internal)?;
        metrics::histogram!("icat_db_pool_wait_seconds").record(started.elapsed().as_secs_f64());
        Ok(permit)
    }

    /// The pool's connections now: open, idle, and at most.
    pub fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            connections: state.connections,
            idle: state.idle_connections,
            max: self.pool.max_size(),
        }
    }

    /// Runs `f` with a pooled connection on the blocking thread pool, so database work never stalls
    /// the async workers. Every query of a request goes through here.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let permit = self.admit().await?;
        let db = self.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let _permit = permit;
            let mut conn = db.get()?;
            f(&mut conn)
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// [`Db::run`] for the reads that build tens of megabytes (the duplicate report, with its
    /// JSON): they run one at a time, on a thread of their own. glibc keeps what a thread freed for
    /// that thread's own arena (up to sixteen arenas on two cores), so one report built on any of
    /// the blocking threads in turn left each of them holding its peak: two clients asking for
    /// reports took the server from 75 to 590 MB. Here its memory is one report's, reused.
    pub async fn run_big<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let permit = self.admit().await?;
        let (answer, answered) = tokio::sync::oneshot::channel();
        let db = self.clone();
        let span = tracing::Span::current();
        let job: BigJob = Box::new(move || {
            let _entered = span.enter();
            let _permit = permit;
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut conn = db.get()?;
                f(&mut conn)
            }))
            .unwrap_or_else(|_| Err(ApiError::internal("a report panicked")));
            let _ = answer.send(outcome);
        });
        self.big_thread()?
            .send(job)
            .map_err(|_| ApiError::internal("the report thread has stopped"))?;
        answered
            .await
            .map_err(|_| ApiError::internal("the report thread dropped a job"))?
    }

    /// The sender of [`Db::run_big`]'s thread, started on first use; the thread ends when the
    /// last handle to the database is dropped.
    fn big_thread(&self) -> Result<std::sync::mpsc::Sender<BigJob>, ApiError> {
        let mut big = self
            .big
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(sender) = big.as_ref() {
            return Ok(sender.clone());
        }
        let (sender, jobs) = std::sync::mpsc::channel::<BigJob>();
        std::thread::Builder::new()
            .name("icat-big-reads".into())
            .spawn(move || {
                while let Ok(job) = jobs.recv() {
                    job();
                }
            })
            .map_err(ApiError::internal)?;
        *big = Some(sender.clone());
        Ok(sender)
    }

    /// [`Db::run`] for reads that take microseconds: a row by its key, a page of a small table. On
    /// SQLite, when a connection is free at once, `f` runs on the calling async worker: the two
    /// thread hand-offs of `run` cost more than such a read (a session check through `run` took
    /// most of a directory look-up). Otherwise, and always on PostgreSQL (where every query is a
    /// network round trip), it is `run`. Never for writes: a write may wait for the writer's turn,
    /// and the worker would wait with it.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        if self.backend == Backend::Sqlite
            && let Ok(permit) = self.slots.clone().try_acquire_owned()
            && let Some(mut conn) = self.pool.try_get()
        {
            let _permit = permit;
            return std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut conn)))
                .unwrap_or_else(|_| Err(ApiError::internal("a database read panicked")));
        }
        self.run(f).await
    }

    /// Brings the schema up to date; several servers starting at once on one PostgreSQL take turns.
    pub fn migrate(&self) -> Result<Vec<String>, BoxError> {
        let mut conn = self.pool.get()?;
        if self.backend == Backend::Sqlite {
            return migrate(&mut conn);
        }
        // A migration may rebuild an index over every row: no statement limit while it runs.
        conn.batch_execute("SET statement_timeout = 0")?;
        let applied = migrate(&mut conn);
        conn.batch_execute(&statement_timeout_sql(self.statement_timeout))?;
        applied
    }
}

/// Applies pending migrations and returns their names.
pub fn migrate(conn: &mut DbConn) -> Result<Vec<String>, BoxError> {
    let names = |v: Vec<diesel::migration::MigrationVersion<'_>>| -> Vec<String> {
        v.iter().map(ToString::to_string).collect()
    };
    match conn {
        DbConn::Sqlite(c) => Ok(names(c.run_pending_migrations(SQLITE_MIGRATIONS)?)),
        DbConn::Pg(c) => {
            // An advisory lock, so two servers starting together do not both apply a migration.
            c.batch_execute("SELECT pg_advisory_lock(72830019)")?;
            let applied = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(names);
            c.batch_execute("SELECT pg_advisory_unlock(72830019)")?;
            applied
        }
    }
}

/// Reverts every migration (used by tests that prove migrations go down and up again cleanly).
pub fn revert_all(conn: &mut DbConn) -> Result<Vec<String>, BoxError> {
    let names = |v: Vec<diesel::migration::MigrationVersion<'_>>| -> Vec<String> {
        v.iter().map(ToString::to_string).collect()
    };
    match conn {
        DbConn::Sqlite(c) => Ok(names(c.revert_all_migrations(SQLITE_MIGRATIONS)?)),
        DbConn::Pg(c) => Ok(names(c.revert_all_migrations(POSTGRES_MIGRATIONS)?)),
    }
}

/// Makes the writers that pass `key` take turns until the end of their transaction: on
/// PostgreSQL a transaction-scoped advisory lock (several servers may run the same start-up work
/// at once); SQLite's writers take turns already.
pub fn take_turn(conn: &mut DbConn, key: i64) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(key)
            .execute(pg)?;
    }
    Ok(())
}

/// Runs `f` in a write transaction. On SQLite the transaction is `BEGIN IMMEDIATE`: it takes the
/// write lock up front (queueing on the busy timeout), because a deferred transaction that turns
/// into a write fails at once with SQLITE_BUSY whatever the timeout. Inside another transaction it
/// becomes a savepoint.
pub fn write<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    // SQLite has one writer at a time. Writers of this process take turns here instead of in
    // SQLite's busy handler, which polls with sleeps of up to 100 ms and would give waiting
    // requests needless latency; the busy timeout still covers writers of other processes (and
    // connections not taken from a `Db`).
    let outermost_sqlite = matches!(conn, DbConn::Sqlite(_)) && !conn_in_transaction(conn);
    let writer = held_writer().filter(|_| outermost_sqlite);
    let _turn = writer.as_deref().map(Writer::turn);
    // Dropped before `_turn`: the time is cleared before the next writer takes the turn.
    let _writing = writer.as_deref().map(Writing::begin);
    let began = match conn {
        DbConn::Pg(_) => return conn.transaction(f),
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
    };
    match began {
        Ok(()) => {}
        Err(diesel::result::Error::AlreadyInTransaction) => return conn.transaction(f),
        Err(e) => return Err(e.into()),
    }
    let outcome = f(conn);
    let DbConn::Sqlite(c) = conn else {
        unreachable!("the PostgreSQL case returned above")
    };
    match outcome {
        Ok(value) => match AnsiTransactionManager::commit_transaction(c) {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = AnsiTransactionManager::rollback_transaction(c);
                Err(e.into())
            }
        },
        Err(e) => {
            let _ = AnsiTransactionManager::rollback_transaction(c);
            Err(e)
        }
    }
}

/// Runs `f` with SQLite's foreign-key checks off, for bulk writes whose references come from the
/// database itself (the rebuild's pairs: two index look-ups a row, two thirds of its write time).
/// Must be called outside a transaction (SQLite ignores the pragma inside one). On PostgreSQL `f`
/// runs as is.
pub fn without_foreign_key_checks<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if !matches!(conn, DbConn::Sqlite(_)) {
        return f(conn);
    }
    conn.batch_execute("PRAGMA foreign_keys = OFF")?;
    let outcome = f(conn);
    conn.batch_execute("PRAGMA foreign_keys = ON")?;
    outcome
}

/// Runs `f`, a bulk rewrite of `table`, with the table's secondary indexes dropped, and builds them
/// again afterwards from their own stored definitions: one sort per index instead of a b-tree
/// insertion per row. SQLite only (readers keep seeing the old table and its indexes until the
/// commit); call it inside the write transaction. On PostgreSQL, where dropping an index would lock
/// readers out until the commit, `f` runs as is.
pub fn with_indexes_built_after<T, E, F>(conn: &mut DbConn, table: &str, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if !matches!(conn, DbConn::Sqlite(_)) {
        return f(conn);
    }
    #[derive(QueryableByName)]
    struct Index {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        sql: String,
    }
    // Indexes of constraints (the primary key) have no SQL of their own and stay.
    let indexes: Vec<Index> = diesel::sql_query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? \
         AND sql IS NOT NULL",
    )
    .bind::<diesel::sql_types::Text, _>(table)
    .load(conn)?;
    for index in &indexes {
        conn.batch_execute(&format!(
            "DROP INDEX \"{}\"",
            index.name.replace('"', "\"\"")
        ))?;
    }
    let outcome = f(conn)?;
    for index in &indexes {
        conn.batch_execute(&index.sql)?;
    }
    Ok(outcome)
}

/// The turn of one database's SQLite writers in this process, and when the write transaction in
/// progress began (for [`unseen_since`]). Each [`Db`] has its own: the writers of two databases
/// in one process do not wait for each other.
#[derive(Default)]
pub(crate) struct Writer {
    turn: std::sync::Mutex<()>,
    since: std::sync::Mutex<Option<chrono::NaiveDateTime>>,
}

impl Writer {
    /// Waits for the turn.
    pub(crate) fn turn(&self) -> std::sync::MutexGuard<'_, ()> {
        self.turn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn mark(&self, since: Option<chrono::NaiveDateTime>) {
        *self
            .since
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = since;
    }

    fn since(&self) -> Option<chrono::NaiveDateTime> {
        *self
            .since
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

thread_local! {
    /// The [`Writer`] of the database whose pooled connection this thread holds: [`write`] and
    /// [`unseen_since`] see only a connection, and find its database's state here.
    static HELD: std::cell::RefCell<Option<std::sync::Arc<Writer>>> =
        const { std::cell::RefCell::new(None) };
}

/// A pooled connection of a [`Db`], dereferencing to [`DbConn`]. While this thread holds it, the
/// thread's writes take that database's writer turn.
pub struct Held {
    conn: PooledConn,
    /// What the thread held before, restored on drop.
    previous: Option<std::sync::Arc<Writer>>,
}

impl std::ops::Deref for Held {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl std::ops::DerefMut for Held {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let previous = self.previous.take();
        HELD.with(|held| *held.borrow_mut() = previous);
    }
}

/// The writer of the connection this thread holds, if it came from a [`Db`].
fn held_writer() -> Option<std::sync::Arc<Writer>> {
    HELD.with(|held| held.borrow().clone())
}

/// Marks a write transaction in progress for [`unseen_since`], from its start to its end.
struct Writing<'a>(&'a Writer);

impl<'a> Writing<'a> {
    fn begin(writer: &'a Writer) -> Writing<'a> {
        writer.mark(Some(icat_common::now()));
        Writing(writer)
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.0.mark(None);
    }
}

/// The earliest time stamp a row can carry that a read starting now will not see: now, or, while
/// one of this process's SQLite write transactions is open, the moment it began (its rows carry
/// times from then on but appear only at its commit, possibly after the read began). A writer
/// that scores against such a read takes this first, and inside its write turn looks again at
/// the rows changed since (the late check), so that two activities recorded together still meet.
/// Concurrent writers on PostgreSQL, whose transactions do not take turns, are not covered: the
/// pair of two activities committed at the same instant may wait for `icat dedup rebuild`.
pub fn unseen_since() -> chrono::NaiveDateTime {
    let now = icat_common::now();
    held_writer()
        .and_then(|writer| writer.since())
        .map_or(now, |began| began.min(now))
}

fn conn_in_transaction(conn: &mut DbConn) -> bool {
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c)
            .transaction_depth()
            .is_ok_and(|depth| depth.is_some()),
        DbConn::Pg(_) => false,
    }
}

/// Reads a stored setting.
pub fn setting(conn: &mut DbConn, key: &str) -> QueryResult<Option<String>> {
    use schema::settings::dsl;
    dsl::settings
        .find(key)
        .select(dsl::value)
        .first(conn)
        .optional()
}

/// Stores a setting, replacing the one stored.
pub fn put_setting(conn: &mut DbConn, key: &str, value: &str) -> QueryResult<()> {
    use schema::settings::dsl;
    let upsert = diesel::insert_into(dsl::settings)
        .values((dsl::key.eq(key), dsl::value.eq(value)))
        .on_conflict(dsl::key)
        .do_update()
        .set(dsl::value.eq(value));
    execute_natively!(conn, upsert)?;
    Ok(())
}

/// Stores a setting unless one exists, and returns the stored value: of several servers starting
/// together, the first one's value wins and all use it.
pub fn setting_or_insert(conn: &mut DbConn, key: &str, value: &str) -> QueryResult<String> {
    use schema::settings::dsl;
    if let Some(existing) = setting(conn, key)? {
        return Ok(existing);
    }
    let inserted = diesel::insert_into(dsl::settings)
        .values((dsl::key.eq(key), dsl::value.eq(value)))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(value.to_owned()),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => setting(conn, key)?.ok_or(diesel::result::Error::NotFound),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_comes_from_the_scheme() {
        assert_eq!(Backend::of_url("postgres://u@h/db"), Backend::Postgres);
        assert_eq!(Backend::of_url("postgresql://u@h/db"), Backend::Postgres);
        assert_eq!(Backend::of_url("data/icat.db"), Backend::Sqlite);
        assert_eq!(Backend::of_url("sqlite://data/icat.db"), Backend::Sqlite);
        assert_eq!(sqlite_path("sqlite://data/icat.db"), "data/icat.db");
        assert_eq!(sqlite_path("sqlite:///tmp/x.db"), "/tmp/x.db");
        assert_eq!(sqlite_path("x.db"), "x.db");
    }

    /// Big reads run one at a time on their own thread, whichever request sends them: their
    /// memory then stays with that one thread (see `Db::run_big`).
    #[test]
    fn big_reads_run_on_one_thread() {
        let dir = std::env::temp_dir().join(format!("icat-big-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let url = dir.join("big.db").display().to_string();
        let db = Db::connect(&url, PoolOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let threads = runtime.block_on(async {
            let one = || {
                db.run_big(|conn| {
                    diesel::sql_query("SELECT 1").execute(conn)?;
                    Ok(std::thread::current().name().map(str::to_owned))
                })
            };
            let (a, b, c) = tokio::join!(one(), one(), one());
            [a, b, c].map(|r| r.unwrap_or_else(|e| panic!("{e}")))
        });
        assert!(
            threads
                .iter()
                .all(|t| t.as_deref() == Some("icat-big-reads")),
            "{threads:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The writer turn belongs to a database: a write to one does not wait for a long write to
    /// another in the same process, and [`unseen_since`] in one does not report the other's.
    #[test]
    fn two_databases_have_their_own_writer_turn() {
        use std::time::{Duration, Instant};
        let dir = std::env::temp_dir().join(format!("icat-turns-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let open = |name: &str| {
            let db = Db::connect(
                &dir.join(name).display().to_string(),
                PoolOptions::default(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            db.migrate().unwrap_or_else(|e| panic!("{e}"));
            db
        };
        let (first, second) = (open("first.db"), open("second.db"));
        let (began, begun) = std::sync::mpsc::channel();
        let long = {
            let first = first.clone();
            std::thread::spawn(move || {
                let mut conn = first.get().unwrap_or_else(|e| panic!("{e}"));
                write(&mut conn, |conn| {
                    put_setting(conn, "k", "first")?;
                    let _ = began.send(());
                    std::thread::sleep(Duration::from_millis(600));
                    Ok::<_, diesel::result::Error>(())
                })
                .unwrap_or_else(|e| panic!("{e}"));
            })
        };
        begun.recv().unwrap_or_else(|e| panic!("{e}"));
        let started = Instant::now();
        let mut conn = second.get().unwrap_or_else(|e| panic!("{e}"));
        let unseen = unseen_since();
        write(&mut conn, |conn| put_setting(conn, "k", "second")).unwrap_or_else(|e| panic!("{e}"));
        let waited = started.elapsed();
        drop(conn);
        assert!(
            waited < Duration::from_millis(300),
            "a write to the second database waited {waited:?} for the first's"
        );
        assert!(
            unseen >= icat_common::now() - chrono::Duration::milliseconds(300),
            "the second database saw the first's write in progress: {unseen}"
        );
        // The same database's writers do take turns.
        let started = Instant::now();
        let mut conn = first.get().unwrap_or_else(|e| panic!("{e}"));
        write(&mut conn, |conn| put_setting(conn, "k2", "first")).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            started.elapsed() >= Duration::from_millis(200),
            "{:?}",
            started.elapsed()
        );
        drop(conn);
        long.join()
            .unwrap_or_else(|_| panic!("the long writer panicked"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The bundled SQLite carries the build flags of `.cargo/config.toml` (the reasons are there):
    /// a build that lost them would still pass every other test, only slower.
    #[test]
    fn sqlite_is_built_with_our_flags() {
        #[derive(QueryableByName)]
        struct CompileOption {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let mut conn = diesel::SqliteConnection::establish(":memory:")
            .unwrap_or_else(|e| panic!("in-memory SQLite: {e}"));
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<CompileOption>(&mut conn)
            .unwrap_or_else(|e| panic!("compile options: {e}"))
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        assert!(options.iter().any(|o| o == "ENABLE_QPSG"), "{options:?}");
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
    }
}

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends for ASCII text.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// The agency an `agency` parameter names, as every route takes it: by id, or by acronym in any
/// case. A condition on the `agencies` table (alone or joined).
#[diesel::dsl::auto_type]
pub fn agency_named(id_or_acronym: &str) -> _ {
    let id: String = id_or_acronym.to_owned();
    let acronym: String = id_or_acronym.to_lowercase();
    schema::agencies::id
        .eq(id)
        .or(lower(schema::agencies::acronym).eq(acronym))
}

/// The id of the agency `id_or_acronym` names (see [`agency_named`]) and whether it is an active
/// member, if there is one.
pub fn find_agency(conn: &mut DbConn, id_or_acronym: &str) -> QueryResult<Option<(String, bool)>> {
    schema::agencies::table
        .filter(agency_named(id_or_acronym))
        .select((schema::agencies::id, schema::agencies::active))
        .first(conn)
        .optional()
}

/// A LIKE pattern that finds `text` anywhere, lower-cased, with `%`, `_` and `\` escaped so they
/// match literally (use with `.escape('\\')`).
pub fn contains_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Writes a consistent copy of a SQLite database to `path` while it is in use (`VACUUM INTO`
/// reads one snapshot; writers go on). The file must not exist yet. PostgreSQL deployments back up
/// with `pg_dump` instead (see the README).
pub fn backup_sqlite(conn: &mut DbConn, path: &std::path::Path) -> Result<(), BoxError> {
    let DbConn::Sqlite(c) = conn else {
        return Err("icat backup copies SQLite databases; back up PostgreSQL with pg_dump".into());
    };
    if path.exists() {
        return Err(format!("{} exists already; choose a new file", path.display()).into());
    }
    let target = path.to_str().ok_or("the backup path must be valid UTF-8")?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<diesel::sql_types::Text, _>(target)
        .execute(c)?;
    Ok(())
}
