//! Resource limits: per-client rate limits that a forged `X-Forwarded-For` cannot get round, and a
//! flood of wrong passwords that leaves the rest of the API answering within the argon2 memory cap.

use icat_tests::{Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn with_limits(backend: Backend, per_second: u32, burst: u32) -> Option<TestApp> {
    TestApp::start_with(backend, |s| {
        s.rate_limit = per_second;
        s.rate_limit_burst = burst;
    })
    .await
}

async fn one_client_is_limited_whatever_it_claims_to_be(backend: Backend) {
    let Some(app) = with_limits(backend, 2, 10).await else {
        eprintln!("ICAT_TEST_PG_URL is not set: PostgreSQL run skipped");
        return;
    };
    let mut limited = 0;
    let mut first_limited = None;
    for i in 0..40 {
        // A different forged client address on every request: it must not buy a fresh bucket.
        let forged = format!("198.51.100.{i}");
        let r = app
            .send(
                Method::GET,
                "/api/v1/agencies",
                None,
                None,
                &[("x-forwarded-for", &forged), ("x-real-ip", &forged)],
            )
            .await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
            assert_eq!(r.code(), "rate_limited");
            assert!(
                r.header("retry-after")
                    .and_then(|s| s.parse::<u64>().ok())
                    .is_some_and(|s| s >= 1)
            );
            assert!(r.header("x-request-id").is_some());
            first_limited.get_or_insert(i);
        } else {
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
        }
    }
    assert!(limited >= 25, "only {limited} of 40 requests were limited");
    assert!(
        first_limited.is_some_and(|i| i >= 10),
        "the burst of 10 is allowed first: {first_limited:?}"
    );
    // Health checks are never limited (load balancers poll them).
    for _ in 0..20 {
        let r = app.send(Method::GET, "/healthz", None, None, &[]).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    app.stop().await;
}

/// 50 concurrent sign-ins with wrong passwords: the hashing is capped (two at a time, 19 MiB each),
/// so the process stays under 300 MB and other routes keep answering (no 5xx) during the flood.
async fn a_login_flood_leaves_the_api_answering(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        eprintln!("ICAT_TEST_PG_URL is not set: PostgreSQL run skipped");
        return;
    };
    let viewer = app.user("viewer", Some("UNODC")).await;
    eprintln!("before the flood: {:?} MB", peak_mb());
    let flood: Vec<_> = (0..50)
        .map(|i| {
            let client = app.client.clone();
            let url = format!("{}/api/v1/auth/login", app.base);
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({"email": format!("someone{i}@icat.test"), "password": "wrong password, wrong"}))
                    .send()
                    .await
                    .map(|r| r.status())
            })
        })
        .collect();
    let mut answered = 0;
    while !flood.iter().all(tokio::task::JoinHandle::is_finished) {
        let r = app
            .get("/api/v1/focal-points?agency=UNODC", &viewer.access)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        answered += 1;
    }
    for handle in flood {
        let status = handle
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::SERVICE_UNAVAILABLE,
            "a wrong password gets 401 (or 503 when the hashing queue is full): {status}"
        );
    }
    assert!(
        answered >= 1,
        "directory look-ups answered during the flood"
    );
    if let Some(mb) = peak_mb() {
        assert!(mb < 300, "peak memory of the test process: {mb} MB");
    }
    app.stop().await;
}

/// The peak resident memory of this process (server and test client), in MB.
fn peak_mb() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb / 1024)
}

/// A query that runs past the statement limit is cancelled with a 503 instead of holding its pooled
/// connection (abandoned slow searches once held the whole pool, and every other request failed).
/// PostgreSQL only: SQLite has no statement limit, its queries are bounded by indexes and caps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_statement_is_cancelled_and_frees_its_connection() {
    let Some(app) = TestApp::start_with(Backend::Postgres, |s| s.statement_timeout_ms = 300).await
    else {
        eprintln!("ICAT_TEST_PG_URL is not set: PostgreSQL run skipped");
        return;
    };
    // More slow statements than the pool (8) has connections, all at once.
    let sleepers: Vec<_> = (0..12)
        .map(|_| {
            let db = app.db.clone();
            tokio::spawn(async move {
                db.run(|conn| {
                    use diesel::RunQueryDsl;
                    diesel::sql_query("SELECT pg_sleep(30)")
                        .execute(conn)
                        .map_err(icat_common::ApiError::from)
                })
                .await
            })
        })
        .collect();
    for sleeper in sleepers {
        let Ok(Err(err)) = sleeper.await else {
            panic!("a 30 s statement must not finish under a 300 ms limit");
        };
        assert_eq!(err.status, 503, "{err}");
        assert_eq!(err.code, icat_common::ErrorCode::Unavailable);
    }
    // Every connection came back usable, with the limit still set.
    let admin = app
        .login(icat_tests::ADMIN_EMAIL, icat_tests::ADMIN_PASSWORD)
        .await;
    let r = app.get("/api/v1/agencies", &admin.access).await;
    assert_eq!(r.status, StatusCode::OK);
    let limit = app
        .db
        .run(|conn| {
            use diesel::RunQueryDsl;
            #[derive(diesel::QueryableByName)]
            struct Setting {
                #[diesel(sql_type = diesel::sql_types::Text)]
                statement_timeout: String,
            }
            diesel::sql_query("SHOW statement_timeout")
                .get_result::<Setting>(conn)
                .map(|s| s.statement_timeout)
                .map_err(icat_common::ApiError::from)
        })
        .await;
    assert_eq!(limit.ok().as_deref(), Some("300ms"));
    app.stop().await;
}

/// Pooled PostgreSQL connections back within 500 ms are reused without a test statement; one that
/// PostgreSQL dropped (a restart, an administrator's `pg_terminate_backend`) fails the one request
/// that finds it, and is tested and replaced before the next, even on a pool reused at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_postgresql_dropped_fails_one_request_at_most() {
    let Some(app) = TestApp::start_with(Backend::Postgres, |s| s.db_pool_size = 1).await else {
        eprintln!("ICAT_TEST_PG_URL is not set: PostgreSQL run skipped");
        return;
    };
    let ready = |app: &TestApp| {
        let request = app.client.get(format!("{}/readyz", app.base));
        async move { request.send().await.map(|r| r.status()).ok() }
    };
    assert_eq!(ready(&app).await, Some(StatusCode::OK));
    // The pool's one connection is dropped by PostgreSQL, from another connection.
    let admin_url = std::env::var("ICAT_TEST_PG_URL").unwrap_or_default();
    let name = app
        .database_url
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    tokio::task::spawn_blocking(move || {
        use diesel::{Connection, RunQueryDsl};
        let mut admin = diesel::PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("ICAT_TEST_PG_URL does not connect: {e}"));
        let terminate = format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        );
        diesel::sql_query(terminate)
            .execute(&mut admin)
            .unwrap_or_else(|e| panic!("{e}"));
        #[derive(diesel::QueryableByName)]
        struct Left {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let left = format!("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '{name}'");
        for _ in 0..200 {
            let Left { n } = diesel::sql_query(&left)
                .get_result(&mut admin)
                .unwrap_or_else(|e| panic!("{e}"));
            if n == 0 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        panic!("the test database's connections did not end");
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(ready(&app).await);
    }
    let failed = answers
        .iter()
        .filter(|a| **a != Some(StatusCode::OK))
        .count();
    assert!(failed <= 1, "one failure at most: {answers:?}");
    assert_eq!(answers.last(), Some(&Some(StatusCode::OK)), "{answers:?}");
    app.stop().await;
}

/// Reads that may run on the async worker (the session check, directory look-ups) never wait
/// there for a connection: with every pooled connection taken, a look-up waits off the worker,
/// other requests meanwhile get their answers, and the look-up answers once a connection is back.
async fn a_full_pool_never_stalls_the_worker(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, |s| s.db_pool_size = 2).await else {
        eprintln!("ICAT_TEST_PG_URL is not set: PostgreSQL run skipped");
        return;
    };
    let viewer = app.user("viewer", Some("UNODC")).await;
    let held: Vec<_> = (0..2)
        .map(|_| app.db.get().unwrap_or_else(|e| panic!("{e:?}")))
        .collect();
    let lookup = {
        let request = app
            .client
            .get(format!("{}/api/v1/focal-points?agency=UNODC", app.base))
            .bearer_auth(&viewer.access);
        tokio::spawn(async move { request.send().await.map(|r| r.status()) })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !lookup.is_finished(),
        "the look-up had no connection to run on"
    );
    // The server has one worker: it answers while the look-up waits for a connection.
    let health = app.send(Method::GET, "/healthz", None, None, &[]).await;
    assert_eq!(health.status, StatusCode::OK);
    assert!(
        !lookup.is_finished(),
        "the look-up ended before any connection came back"
    );
    drop(held);
    let status = lookup
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

mod full_pool {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::a_full_pool_never_stalls_the_worker(icat_tests::Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::a_full_pool_never_stalls_the_worker(icat_tests::Backend::Postgres).await;
    }
}

mod rate_limits {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::one_client_is_limited_whatever_it_claims_to_be(icat_tests::Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::one_client_is_limited_whatever_it_claims_to_be(icat_tests::Backend::Postgres).await;
    }
}

mod login_flood {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::a_login_flood_leaves_the_api_answering(icat_tests::Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::a_login_flood_leaves_the_api_answering(icat_tests::Backend::Postgres).await;
    }
}
