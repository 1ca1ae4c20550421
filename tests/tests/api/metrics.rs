//! Prometheus metrics: off unless asked for; when on, `GET /metrics` parses as a scraper reads it
//! and shows requests under their route templates, never their raw paths.

use icat_tests::{Backend, TestApp, on_both_backends};
use openmetrics_parser::{MetricsExposition, PrometheusType, PrometheusValue};
use reqwest::StatusCode;

on_both_backends!(metrics_are_not_served_unless_asked_for);

async fn metrics_are_not_served_unless_asked_for(app: &TestApp) {
    let r = app.client.get(format!("{}/metrics", app.base)).send().await;
    let status = r.map(|r| r.status()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, StatusCode::NOT_FOUND);
}

type Exposition = MetricsExposition<PrometheusType, PrometheusValue>;

/// `/metrics`, parsed by a Prometheus text-format parser (a grammar, which reads label values such
/// as `/api/v1/agencies/{id}` as a scraper does).
async fn scrape(app: &TestApp) -> Exposition {
    let r = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), StatusCode::OK);
    let kind = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let text = r.text().await.unwrap_or_else(|e| panic!("{e}"));
    openmetrics_parser::prometheus::parse_prometheus(&text)
        .unwrap_or_else(|e| panic!("/metrics does not parse: {e:?}\n{text}"))
}

/// The samples of `metric` whose labels include `labels`.
fn samples<'a>(
    scraped: &'a Exposition,
    metric: &str,
    labels: &'a [(&str, &str)],
) -> impl Iterator<Item = &'a PrometheusValue> {
    scraped
        .families
        .get(metric)
        .into_iter()
        .flat_map(|family| family.iter_samples())
        .filter(move |s| {
            s.get_labelset().is_ok_and(|set| {
                labels
                    .iter()
                    .all(|(k, v)| set.get_label_value(k) == Some(*v))
            })
        })
        .map(|s| &s.value)
}

/// The value of a counter or gauge, 0 when absent.
fn value(scraped: &Exposition, metric: &str, labels: &[(&str, &str)]) -> f64 {
    samples(scraped, metric, labels)
        .map(|v| match v {
            PrometheusValue::Counter(c) => c.value.as_f64(),
            PrometheusValue::Gauge(g) | PrometheusValue::Unknown(g) => g.as_f64(),
            _ => 0.0,
        })
        .sum()
}

async fn requests_show_under_their_route_template(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, |s| s.metrics = true).await else {
        eprintln!("ICAT_TEST_PG_URL is not set: PostgreSQL run skipped");
        return;
    };
    let viewer = app.user("viewer", Some("UNODC")).await;
    let before = scrape(&app).await;
    let template = [
        ("route", "/api/v1/agencies/{id}"),
        ("method", "GET"),
        ("status", "200"),
    ];
    let counted = value(&before, "icat_http_requests_total", &template);
    for acronym in ["UNODC", "ILO"] {
        let r = app
            .get(&format!("/api/v1/agencies/{acronym}"), &viewer.access)
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let email = viewer.user["email"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        app.try_login(&email, "not the right passphrase")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let after = scrape(&app).await;
    // The recorder is the process's: other tests' servers count into it too, so only growth is
    // asserted.
    let now = value(&after, "icat_http_requests_total", &template);
    assert!(now >= counted + 2.0, "{counted} -> {now}");
    let routes: Vec<String> = after
        .families
        .values()
        .flat_map(|f| f.iter_samples())
        .filter_map(|s| {
            s.get_labelset()
                .ok()?
                .get_label_value("route")
                .map(str::to_owned)
        })
        .collect();
    assert!(
        routes.iter().all(|r| !r.contains("UNODC")),
        "no raw path as a label: {routes:?}"
    );
    assert!(
        samples(
            &after,
            "icat_http_request_duration_seconds",
            &[("route", "/api/v1/agencies/{id}")]
        )
        .any(|v| matches!(v, PrometheusValue::Histogram(h) if h.count.unwrap_or(0) >= 2)),
        "latency histogram by route"
    );
    assert!(value(&after, "icat_login_failures_total", &[]) >= 1.0);
    assert!(value(&after, "icat_db_pool_max_connections", &[]) >= 1.0);
    assert!(
        samples(&after, "icat_db_pool_wait_seconds", &[])
            .any(|v| matches!(v, PrometheusValue::Histogram(_))),
        "pool waits"
    );
    app.stop().await;
}

mod requests_by_route {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::requests_show_under_their_route_template(icat_tests::Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::requests_show_under_their_route_template(icat_tests::Backend::Postgres).await;
    }
}
