//! Group commit on SQLite: writers that arrive while another commits share the next transaction.
//!
//! SQLite has one writer at a time, and each commit costs more than the statements of a recorded
//! activity: the commit writes the pages it touched to the WAL (the pages written by several
//! writers in one transaction are written once), a checkpoint follows every thousand pages, and
//! every commit empties the page cache of every other connection, so the next reads come from the
//! kernel again. One writer, the leader, runs the work of every writer waiting at that moment, each
//! in a savepoint of its own, and commits once; each waiting writer then gets its own answer, after
//! the commit and never before. A writer's failure rolls back its savepoint alone.

use crate::{DbConn, Writer, conn_in_transaction, write};
use diesel::connection::SimpleConnection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2;
use diesel::{Connection, RunQueryDsl};
use icat_common::ApiError;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

/// Hands one writer its answer once the transaction that ran its work has ended.
type Deliver = Box<dyn FnOnce(Result<(), &ApiError>) + Send>;
/// One writer's work, run by the leader inside the shared transaction.
type Job = Box<dyn FnOnce(&mut DbConn) -> Deliver + Send>;

/// The writers of one database waiting for the next group commit.
pub(crate) struct Group {
    state: Mutex<Waiting>,
    /// Signalled when a leader has delivered its group's answers and stepped down.
    done: Condvar,
    url: String,
    /// The connection every group is written on, opened at the first: its commits leave
    /// checkpoints to the [`checkpointer`], which the pool's connections do not.
    writer: Mutex<Option<DbConn>>,
    /// Wakes the checkpointer after a commit (see [`checkpointer`]); set with the writer.
    checkpoint: Mutex<Option<SyncSender<()>>>,
    /// The database's writer turn, which the checkpointer takes to restart the WAL.
    turn: Arc<Writer>,
    /// Whether its connections read through a memory map, as the pool's do.
    memory_map: bool,
}

#[derive(Default)]
struct Waiting {
    /// A leader is running a group now.
    leading: bool,
    jobs: Vec<Job>,
}

impl Group {
    pub(crate) fn new(url: &str, turn: Arc<Writer>, memory_map: bool) -> Group {
        Group {
            turn,
            memory_map,
            state: Mutex::default(),
            done: Condvar::new(),
            url: url.to_owned(),
            writer: Mutex::new(None),
            checkpoint: Mutex::new(None),
        }
    }

    /// Runs `f` in a write transaction shared with the writers waiting beside it.
    pub(crate) fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = sync_channel(1);
        let mut waiting = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        waiting.jobs.push(job(f, answer));
        loop {
            // A leader delivers before it steps down, so an answer is here or the job still waits.
            if let Some(outcome) = received(&answered) {
                return outcome;
            }
            if waiting.leading {
                waiting = self
                    .done
                    .wait(waiting)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            waiting.leading = true;
            let jobs = std::mem::take(&mut waiting.jobs);
            drop(waiting);
            // Should the leader's own code panic, the writers it carried get their answer (the
            // dropped jobs answer "busy"), the next one leads, and it opens a new connection: the
            // old one may have been left inside the transaction, which closing it rolls back.
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.commit(jobs))).is_err()
            {
                *self.writer.lock().unwrap_or_else(PoisonError::into_inner) = None;
            }
            waiting = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            waiting.leading = false;
            self.done.notify_all();
        }
    }

    /// Runs the jobs in one transaction on the writer's connection.
    fn commit(&self, jobs: Vec<Job>) {
        // Only the leader comes here: the lock is never waited for.
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if writer.is_none() {
            match crate::sqlite_connect(&self.url, self.memory_map).and_then(|mut c| {
                c.batch_execute(WRITER_PRAGMAS)
                    .map_err(r2d2::Error::QueryError)?;
                Ok(c)
            }) {
                Ok(c) => {
                    *writer = Some(DbConn::Sqlite(c));
                    *self
                        .checkpoint
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) =
                        checkpointer(&self.url, self.memory_map, self.turn.clone());
                }
                Err(e) => {
                    tracing::error!(error = %e, "the writer's connection could not be opened");
                    return; // the dropped jobs answer "busy"
                }
            }
        }
        if let Some(conn) = writer.as_mut() {
            commit_together(conn, jobs);
        }
        if let Some(wake) = &*self
            .checkpoint
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
        {
            // Already awake: it will see this commit's pages too.
            let _ = wake.try_send(());
        }
    }
}

/// A thread that copies the WAL back into the database file after commits, on a connection of
/// its own, so that writers do not wait for it: run by the committing writer, as SQLite does by
/// default, a checkpoint (the pages written, then two fsyncs) held every writer queued behind it
/// for 25 ms. A passive checkpoint takes no lock and runs beside the writers; but while they keep
/// writing it never catches up, and the WAL can start again from its beginning only once every
/// frame is back in the file. So when the WAL has grown past [`RESTART_AT`] frames, the thread
/// takes the writers' turn for the moment it takes to copy the few frames written since and to
/// restart the log. The thread ends with the group.
fn checkpointer(url: &str, memory_map: bool, turn: Arc<Writer>) -> Option<SyncSender<()>> {
    let mut conn = match crate::sqlite_connect(url, memory_map) {
        Ok(conn) => conn,
        Err(e) => {
            tracing::error!(error = %e, "the checkpointer's connection could not be opened");
            return None;
        }
    };
    let (wake, woken) = sync_channel::<()>(1);
    let started = std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while woken.recv().is_ok() {
                if let Err(e) = checkpoint(&mut conn, &turn) {
                    tracing::warn!(error = %e, "checkpoint failed");
                }
            }
        });
    started.ok().map(|_| wake)
}

/// The WAL size (frames of a page) past which the checkpointer restarts it. Each restart holds the
/// writers for 12-40 ms (the last frames, then an fsync of the database file): at 4,000 frames that
/// came six times a second under sixteen recording clients (record p99 104-116 ms); at 16,000 the
/// WAL file stays under 80 MB and p99 was 94-96 ms. Resting between passive checkpoints instead
/// (so that pages written again and again are copied once) made each restart longer: p99 150-230.
const RESTART_AT: i32 = 16000;

fn checkpoint(conn: &mut diesel::SqliteConnection, turn: &Writer) -> diesel::QueryResult<()> {
    #[derive(diesel::QueryableByName)]
    struct Outcome {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        log: i32,
    }
    let passive: Outcome = diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result(conn)?;
    if passive.log >= RESTART_AT {
        let _turn = turn.turn();
        diesel::sql_query("PRAGMA wal_checkpoint(RESTART)").execute(conn)?;
    }
    Ok(())
}

/// The writer leaves checkpoints to the [`checkpointer`]. Each writer's savepoint keeps the first
/// copy of every page it changes (its statement journal: a recorded activity changes some fifty
/// pages, past the 64 KiB at which SQLite moves it to a temporary file): in memory. And the
/// writer's page cache is larger than a reader's: it is the one connection whose cache outlives
/// commits (its own), and the index pages it changes are the ones it reads next. Under sixteen
/// recording clients the two took record from 490-620 to 640-710 a second, for up to 32 MB more
/// memory.
const WRITER_PRAGMAS: &str =
    "PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32768";

fn received<T>(answered: &Receiver<Result<T, ApiError>>) -> Option<Result<T, ApiError>> {
    match answered.try_recv() {
        Ok(outcome) => Some(outcome),
        Err(TryRecvError::Empty) => None,
        // The transaction never began (the write lock stayed taken past the busy timeout): the
        // leader dropped the work without running it.
        Err(TryRecvError::Disconnected) => Some(Err(ApiError::unavailable(
            "the database is busy; retry the request",
        ))),
    }
}

/// Wraps `f` so that it runs in a savepoint and its answer is sent once the transaction ends.
fn job<T, F>(f: F, answer: SyncSender<Result<T, ApiError>>) -> Job
where
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    Box::new(move |conn: &mut DbConn| -> Deliver {
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| conn.transaction(f)))
                .unwrap_or_else(|_| {
                    // The panic left its savepoint open: roll it back so the others still commit.
                    if let DbConn::Sqlite(c) = conn {
                        let _ = AnsiTransactionManager::rollback_transaction(c);
                    }
                    Err(ApiError::internal("a database write panicked"))
                });
        Box::new(move |committed: Result<(), &ApiError>| {
            let outcome = match (outcome, committed) {
                (Ok(_), Err(e)) => Err(e.clone()),
                (outcome, _) => outcome,
            };
            // The writer waits for its answer; it cannot have gone.
            let _ = answer.send(outcome);
        })
    })
}

/// Runs the jobs in one transaction on `conn` and delivers every answer.
fn commit_together(conn: &mut DbConn, jobs: Vec<Job>) {
    metrics::histogram!("icat_group_commit_batch_size").record(jobs.len() as f64);
    let mut delivers: Vec<Deliver> = Vec::with_capacity(jobs.len());
    let committed = write(conn, |conn| {
        debug_assert!(conn_in_transaction(conn));
        delivers.extend(jobs.into_iter().map(|job| job(conn)));
        Ok::<(), ApiError>(())
    });
    for deliver in delivers {
        deliver(committed.as_ref().map(|_| ()));
    }
}

#[cfg(test)]
mod tests {
    use crate::{Db, PoolOptions, schema::settings};
    use diesel::prelude::*;
    use icat_common::ApiError;
    use std::time::Duration;

    /// Writers that meet in one group each get their own answer: a failure rolls back its own
    /// work alone, a panic too, and the others commit.
    #[test]
    fn a_writer_failing_in_a_group_fails_alone() {
        let dir = std::env::temp_dir().join(format!("icat-group-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let url = dir.join("group.db").display().to_string();
        let options = PoolOptions {
            max_size: 12,
            ..PoolOptions::default()
        };
        let db = Db::connect(&url, options).unwrap_or_else(|e| panic!("{e}"));
        db.migrate().unwrap_or_else(|e| panic!("{e}"));
        let writers: Vec<_> = (0..10)
            .map(|i| {
                let db = db.clone();
                std::thread::spawn(move || {
                    // The first leads and holds its group open while the others queue behind it:
                    // they then commit as the next group.
                    std::thread::sleep(Duration::from_millis(if i == 0 { 0 } else { 50 }));
                    let mut conn = db.get().unwrap_or_else(|e| panic!("{e}"));
                    db.write_together(&mut conn, move |conn| {
                        diesel::insert_into(settings::table)
                            .values((settings::key.eq(format!("k{i}")), settings::value.eq("v")))
                            .execute(conn)?;
                        match i {
                            0 => std::thread::sleep(Duration::from_millis(300)),
                            3 => return Err(ApiError::conflict("refused")),
                            7 => panic!("a writer's bug"),
                            _ => {}
                        }
                        Ok(i)
                    })
                })
            })
            .collect();
        let answers: Vec<Result<usize, ApiError>> = writers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| panic!("a writer's thread panicked"))
            })
            .collect();
        for (i, answer) in answers.iter().enumerate() {
            match i {
                3 => assert!(matches!(answer, Err(e) if e.status == 409), "{answer:?}"),
                7 => assert!(matches!(answer, Err(e) if e.status == 500), "{answer:?}"),
                _ => assert!(matches!(answer, Ok(n) if *n == i), "{i}: {answer:?}"),
            }
        }
        let mut conn = db.get().unwrap_or_else(|e| panic!("{e}"));
        let mut keys: Vec<String> = settings::table
            .select(settings::key)
            .filter(settings::key.like("k%"))
            .load(&mut *conn)
            .unwrap_or_else(|e| panic!("{e}"));
        keys.sort();
        assert_eq!(keys, ["k0", "k1", "k2", "k4", "k5", "k6", "k8", "k9"]);
        drop(conn);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
