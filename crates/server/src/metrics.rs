//! Prometheus metrics: the `metrics` facade's recorder (installed once per process), the
//! middleware that counts and times every request by its route template (never its raw path, so
//! the series stay bounded), and `GET /metrics` in the text exposition format. Off unless
//! `ICAT_METRICS` (on the main port) or `ICAT_METRICS_BIND` (an address of its own) asks for it.
//! The crates that measure (the store, the activity log, sign-in) only call the facade, which
//! costs nothing without a recorder.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use icat_store::Db;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::Mutex;

/// Where the metrics are served.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
    /// On the main port too (`ICAT_METRICS=true`).
    pub on_main_port: bool,
}

/// Seconds: from a cached page (a millisecond) to an import (tens of seconds).
const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0,
];

impl Metrics {
    /// The process's recorder (installed by the first call; tests start many servers in one
    /// process, and a process has one global recorder).
    pub fn install(on_main_port: bool) -> anyhow::Result<Self> {
        static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);
        let mut installed = HANDLE.lock().unwrap_or_else(|e| e.into_inner());
        let handle = match installed.as_ref() {
            Some(handle) => handle.clone(),
            None => {
                let handle = PrometheusBuilder::new()
                    .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)?
                    .set_buckets_for_metric(
                        Matcher::Full("icat_group_commit_batch_size".into()),
                        &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0],
                    )?
                    .set_buckets_for_metric(
                        Matcher::Full("icat_duplicate_candidates".into()),
                        &[0.0, 5.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0],
                    )?
                    .install_recorder()?;
                // The histograms keep every sample until upkeep folds them into their buckets.
                // A scrape runs it (`render`), but a server whose scraper is down, slow or not yet
                // set up kept them all: 30 MB more every 35 s under `make bench`, 873 MB by its
                // end. So it runs every five seconds whatever the scraper does (the interval
                // `PrometheusBuilder::install` would use).
                let kept = handle.clone();
                std::thread::Builder::new()
                    .name("icat-metrics-upkeep".into())
                    .spawn(move || {
                        loop {
                            std::thread::sleep(std::time::Duration::from_secs(5));
                            kept.run_upkeep();
                        }
                    })?;
                installed.replace(handle.clone());
                handle
            }
        };
        describe();
        Ok(Self {
            handle,
            on_main_port,
        })
    }

    /// The text exposition, with the pool's gauges read now.
    pub fn render(&self, db: &Db) -> String {
        let pool = db.pool_state();
        metrics::gauge!("icat_db_pool_connections").set(f64::from(pool.connections));
        metrics::gauge!("icat_db_pool_idle_connections").set(f64::from(pool.idle));
        metrics::gauge!("icat_db_pool_max_connections").set(f64::from(pool.max));
        self.handle.run_upkeep();
        self.handle.render()
    }
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "icat_http_requests_total",
        "Requests answered, by route template, method and status"
    );
    describe_histogram!(
        "icat_http_request_duration_seconds",
        "Time to answer a request, by route template and method"
    );
    describe_gauge!("icat_db_pool_connections", "Database connections open");
    describe_gauge!(
        "icat_db_pool_idle_connections",
        "Database connections open and idle"
    );
    describe_gauge!("icat_db_pool_max_connections", "The pool's size");
    describe_histogram!(
        "icat_db_pool_wait_seconds",
        "Time a request waited for a database connection"
    );
    describe_counter!(
        "icat_db_pool_timeouts_total",
        "Requests answered 503 for want of a database connection"
    );
    describe_histogram!(
        "icat_group_commit_batch_size",
        "Writes committed together by the SQLite group commit"
    );
    describe_histogram!(
        "icat_duplicate_scoring_seconds",
        "Time to score one activity against its candidates"
    );
    describe_histogram!(
        "icat_duplicate_candidates",
        "Candidates compared for one activity"
    );
    describe_gauge!(
        "icat_dedup_rebuild_seconds",
        "Duration of the last duplicate rebuild"
    );
    describe_counter!(
        "icat_login_failures_total",
        "Sign-ins refused for a wrong e-mail or password"
    );
    describe_counter!(
        "icat_login_throttled_total",
        "Sign-ins refused because the account was locked"
    );
}

/// Counts and times every request under its route template (`/api/v1/activities/{id}`), or
/// `unmatched` for paths no route serves.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let method = req.method().to_string();
    let res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16().to_string();
    metrics::counter!("icat_http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("icat_http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    Ok(res)
}

/// `GET /metrics`.
pub async fn exposition(metrics: web::Data<Metrics>, db: web::Data<Db>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(&db))
}

/// Serves `GET /metrics` alone on an address of its own (`ICAT_METRICS_BIND`).
pub fn serve_apart(
    metrics: Metrics,
    db: Db,
    listener: std::net::TcpListener,
) -> std::io::Result<actix_web::dev::Server> {
    let (metrics, db) = (web::Data::new(metrics), web::Data::new(db));
    Ok(actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(metrics.clone())
            .app_data(db.clone())
            .route("/metrics", web::get().to(exposition))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run())
}
