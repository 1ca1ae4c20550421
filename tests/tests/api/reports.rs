use icat_tests::{Session, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;

on_both_backends!(
    participation_shows_focal_points_and_recent_work,
    summaries_count_by_dimension_and_period,
    duplicate_report_pages_cover_every_cluster_once,
);

fn activity(
    title: &str,
    countries: &[&str],
    themes: &[&str],
    sdgs: &[&str],
    start: &str,
    end: &str,
) -> Value {
    json!({"title": title, "description": format!("{title}: a piece of work of the member."),
           "countries": countries, "themes": themes, "sdg_targets": sdgs, "start_date": start, "end_date": end})
}

async fn participation_shows_focal_points_and_recent_work(app: &TestApp) {
    let editor = app.user("editor", Some("UNODC")).await;
    let viewer = app.user("viewer", Some("ILO")).await;
    let r = app
        .get("/api/v1/reports/participation", &viewer.access)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let rows = r.body.as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 13);
    assert!(
        rows.iter()
            .all(|p| p["has_primary_focal_point"] == false && p["activities_last_12_months"] == 0)
    );

    let fp = json!({"role": "primary", "name": "Amina Diallo", "email": "amina@unodc.org"});
    assert_eq!(
        app.post("/api/v1/agencies/UNODC/focal-points", &editor.access, &fp)
            .await
            .status,
        StatusCode::CREATED
    );
    let a = activity(
        "Judicial training",
        &["NG"],
        &["prosecution"],
        &["16.2"],
        "2026-01-01",
        "2026-06-30",
    );
    assert_eq!(
        app.post("/api/v1/activities", &editor.access, &a)
            .await
            .status,
        StatusCode::CREATED
    );
    let r = app
        .get("/api/v1/reports/participation", &viewer.access)
        .await;
    let find = |acronym: &str| {
        r.body
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["acronym"] == acronym)
            .cloned()
            .unwrap_or_default()
    };
    let unodc = find("UNODC");
    assert_eq!(unodc["has_primary_focal_point"], true);
    assert_eq!(unodc["activities_last_12_months"], 1);
    assert_eq!(unodc["working_group"], true);
    assert!(
        unodc["last_activity_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let osce = find("OSCE");
    assert_eq!(
        (
            osce["has_primary_focal_point"].clone(),
            osce["working_group"].clone()
        ),
        (json!(false), json!(false))
    );
    assert_eq!(osce["last_activity_at"], Value::Null);

    let csv = app
        .get("/api/v1/reports/participation?format=csv", &viewer.access)
        .await;
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(csv.text.starts_with("acronym,name,working_group,has_primary_focal_point,activities_last_12_months,last_activity_at"));
    assert_eq!(csv.text.lines().count(), 14);
    assert_eq!(
        app.get("/api/v1/reports/participation?format=xml", &viewer.access)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

async fn summaries_count_by_dimension_and_period(app: &TestApp) {
    let unodc = app.user("editor", Some("UNODC")).await;
    let ilo = app.user("editor", Some("ILO")).await;
    for (who, body) in [
        (
            &unodc,
            activity(
                "Judges training",
                &["NG", "GH"],
                &["prosecution"],
                &["16.2"],
                "2026-01-01",
                "2026-06-30",
            ),
        ),
        (
            &unodc,
            activity(
                "Hotline",
                &["NG"],
                &["protection"],
                &["16.2", "5.2"],
                "2027-01-01",
                "2027-12-31",
            ),
        ),
        (
            &ilo,
            activity(
                "Labour inspection",
                &["TH"],
                &["prevention", "protection"],
                &["8.7"],
                "2026-03-01",
                "2026-09-30",
            ),
        ),
    ] {
        assert_eq!(
            app.post("/api/v1/activities", &who.access, &body)
                .await
                .status,
            StatusCode::CREATED
        );
    }
    let counts = |v: &Value| -> Vec<(String, i64)> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                (
                    c["key"].as_str().unwrap_or_default().to_owned(),
                    c["count"].as_i64().unwrap_or(0),
                )
            })
            .collect()
    };
    let all = app.get("/api/v1/reports/summary", &ilo.access).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.body["total"], 3);
    assert_eq!(
        counts(&all.body["by_theme"]),
        [
            ("protection".to_owned(), 2),
            ("prevention".to_owned(), 1),
            ("prosecution".to_owned(), 1)
        ]
    );
    assert_eq!(
        counts(&all.body["by_sdg_target"]),
        [
            ("16.2".to_owned(), 2),
            ("5.2".to_owned(), 1),
            ("8.7".to_owned(), 1)
        ]
    );
    assert_eq!(
        counts(&all.body["by_country"]),
        [
            ("NG".to_owned(), 2),
            ("GH".to_owned(), 1),
            ("TH".to_owned(), 1)
        ]
    );
    assert_eq!(
        counts(&all.body["by_agency"]),
        [("UNODC".to_owned(), 2), ("ILO".to_owned(), 1)]
    );
    let y2026 = app
        .get(
            "/api/v1/reports/summary?from=2026-01-01&to=2026-12-31",
            &ilo.access,
        )
        .await;
    assert_eq!(y2026.body["total"], 2);
    assert_eq!(y2026.body["from"], "2026-01-01");
    assert_eq!(
        counts(&y2026.body["by_agency"]),
        [("ILO".to_owned(), 1), ("UNODC".to_owned(), 1)]
    );
    let csv = app
        .get(
            "/api/v1/reports/summary?format=csv&from=2027-01-01",
            &ilo.access,
        )
        .await;
    assert!(csv.text.starts_with("dimension,key,count"));
    assert!(csv.text.contains("total,,1"), "{}", csv.text);
    assert!(csv.text.contains("country,NG,1"));
    // A period that ends before it starts is well-formed but breaks a rule: 422.
    assert_eq!(
        app.get(
            "/api/v1/reports/summary?from=2026-05-01&to=2026-01-01",
            &ilo.access
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    for bad in ["from=soon", "to=2026-13-01", "format=pdf", "agency=ILO"] {
        assert_eq!(
            app.get(&format!("/api/v1/reports/summary?{bad}"), &ilo.access)
                .await
                .status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    // Archived work leaves every count: the themes, targets and countries are counted from tables
    // of their own, which the archive empties.
    let labour = app.get("/api/v1/activities?country=TH", &ilo.access).await;
    let id = labour.body["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let etag = app
        .get(&format!("/api/v1/activities/{id}"), &ilo.access)
        .await
        .etag();
    let r = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/activities/{id}"),
            Some(&ilo.access),
            None,
            &[("if-match", etag.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let after = app.get("/api/v1/reports/summary", &ilo.access).await;
    assert_eq!(after.body["total"], 2);
    assert_eq!(
        counts(&after.body["by_theme"]),
        [("prosecution".to_owned(), 1), ("protection".to_owned(), 1)]
    );
    assert_eq!(
        counts(&after.body["by_sdg_target"]),
        [("16.2".to_owned(), 2), ("5.2".to_owned(), 1)]
    );
    assert_eq!(
        counts(&after.body["by_country"]),
        [("NG".to_owned(), 2), ("GH".to_owned(), 1)]
    );
    assert_eq!(counts(&after.body["by_agency"]), [("UNODC".to_owned(), 2)]);
}

/// Every cluster of the report `query`, walked `per_page` at a time by page number; checks each
/// page's size and that every page gives the same total.
async fn report_pages(app: &TestApp, s: &Session, query: &str, per_page: i64) -> Vec<Value> {
    let mut all: Vec<Value> = Vec::new();
    let mut total = None;
    for page in 1..=1000 {
        let path = format!("/api/v1/reports/duplicates?{query}&page={page}&per_page={per_page}");
        let r = app.get(&path, &s.access).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        assert_eq!(r.body["page"], page, "{path}");
        assert_eq!(r.body["per_page"], per_page, "{path}");
        let this_total = r.body["total"].as_i64().unwrap_or(-1);
        assert!(this_total >= 0, "{path}: no total");
        assert_eq!(
            *total.get_or_insert(this_total),
            this_total,
            "{path}: total moved"
        );
        let clusters = r.body["clusters"].as_array().cloned().unwrap_or_default();
        let left = this_total - all.len() as i64;
        assert_eq!(clusters.len() as i64, left.clamp(0, per_page), "{path}");
        all.extend(clusters);
        if all.len() as i64 >= this_total {
            // One page past the end: empty, same total.
            let r = app
                .get(
                    &format!(
                        "/api/v1/reports/duplicates?{query}&page={}&per_page={per_page}",
                        page + 1
                    ),
                    &s.access,
                )
                .await;
            assert_eq!(r.body["clusters"], json!([]));
            assert_eq!(r.body["total"], this_total);
            return all;
        }
    }
    panic!("{query}: the pages never ended");
}

fn cluster_ids(clusters: &[Value]) -> Vec<String> {
    clusters
        .iter()
        .map(|c| c["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn pair_keys(clusters: &[Value]) -> Vec<(String, String)> {
    clusters
        .iter()
        .flat_map(|c| c["pairs"].as_array().cloned().unwrap_or_default())
        .map(|p| {
            (
                p["a"].as_str().unwrap_or_default().to_owned(),
                p["b"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn best_score(c: &Value) -> f64 {
    c["pairs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["score"].as_f64())
        .fold(0.0, f64::max)
}

async fn duplicate_report_pages_cover_every_cluster_once(app: &TestApp) {
    // The seed plants near-copies across agencies (clusters) among work that shares country,
    // theme and period (overlaps).
    app.seed_activities_of(1_200, 13).await;
    let admin = app.admin().await;
    for (query, per_page) in [("status=open", 7), ("level=overlap", 4)] {
        let whole = report_pages(app, &admin, query, 100).await;
        assert!(
            whole.len() > 3 * per_page as usize,
            "{query}: {} clusters",
            whole.len()
        );
        let ids = cluster_ids(&whole);
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            ids.len(),
            "{query}: a cluster twice"
        );
        let keys = pair_keys(&whole);
        assert_eq!(
            keys.iter().collect::<HashSet<_>>().len(),
            keys.len(),
            "{query}: a pair in two clusters"
        );
        // Small pages walk the same clusters in the same order.
        assert_eq!(
            cluster_ids(&report_pages(app, &admin, query, per_page).await),
            ids,
            "{query}"
        );
        let counts: Vec<usize> = whole
            .iter()
            .map(|c| c["pair_count"].as_u64().unwrap_or(0) as usize)
            .collect();
        let shown: Vec<usize> = whole
            .iter()
            .map(|c| c["pairs"].as_array().map_or(0, Vec::len))
            .collect();
        if query == "level=overlap" {
            // Grouped by country and theme, largest groups first, each with its strongest few.
            assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
            assert!(
                counts.iter().zip(&shown).all(|(n, s)| *s == (*n).min(3)),
                "{counts:?} {shown:?}"
            );
            assert!(
                counts.iter().any(|n| *n > 3),
                "groups hold more than they show: {counts:?}"
            );
            for c in &whole {
                let group = c["group"].as_str().unwrap_or_default();
                let (country, theme) = group.split_once(' ').unwrap_or_default();
                assert_eq!(c["id"], format!("overlap-{country}-{theme}"));
                for a in c["activities"].as_array().into_iter().flatten() {
                    assert!(
                        a["countries"]
                            .as_array()
                            .is_some_and(|x| x.contains(&json!(country))),
                        "{group}: {a}"
                    );
                    assert!(
                        a["themes"]
                            .as_array()
                            .is_some_and(|x| x.contains(&json!(theme))),
                        "{group}: {a}"
                    );
                }
            }
        } else {
            // Strongest first, every pair shown.
            let best: Vec<f64> = whole.iter().map(best_score).collect();
            assert!(best.windows(2).all(|w| w[0] >= w[1]), "{best:?}");
            assert!(whole.iter().all(|c| c["level"] != "overlap"));
            assert_eq!(counts, shown);
        }
        // Every pair shows its activities and its reasons.
        for c in &whole {
            let shown: HashSet<&str> = c["activities"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a["id"].as_str())
                .collect();
            for p in c["pairs"].as_array().into_iter().flatten() {
                assert!(
                    shown.contains(p["a"].as_str().unwrap_or_default())
                        && shown.contains(p["b"].as_str().unwrap_or_default())
                );
                assert!(
                    p["reasons"].as_array().is_some_and(|r| !r.is_empty()),
                    "{p}"
                );
            }
        }
        // The CSV is the whole report, one row a pair, in the pages' order: a cluster's rows start
        // with the pairs its page shows.
        let r = app
            .get(
                &format!("/api/v1/reports/duplicates?{query}&format=csv"),
                &admin.access,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(r.text.as_bytes())
            .records()
            .filter_map(Result::ok)
            .collect();
        assert_eq!(
            rows.len(),
            counts.iter().sum::<usize>(),
            "{query}: one row a pair"
        );
        let mut at = 0;
        for (c, n) in whole.iter().zip(&counts) {
            let group = &rows[at..at + n];
            assert!(
                group
                    .iter()
                    .all(|r| r[0] == *c["id"].as_str().unwrap_or_default()),
                "{query}: {}",
                c["id"]
            );
            let csv_keys: Vec<(String, String)> = group
                .iter()
                .map(|r| (r[3].to_owned(), r[6].to_owned()))
                .collect();
            assert_eq!(
                csv_keys[..c["pairs"].as_array().map_or(0, Vec::len)],
                pair_keys(std::slice::from_ref(c))[..]
            );
            assert_eq!(
                csv_keys.iter().collect::<HashSet<_>>().len(),
                *n,
                "{query}: a pair twice"
            );
            at += n;
        }
    }
    // A reviewed overlap leaves its group's open count and shows under status=reviewed alone.
    let first = &report_pages(app, &admin, "level=overlap", 100).await[0];
    let (id, count) = (
        first["id"].clone(),
        first["pair_count"].as_i64().unwrap_or(0),
    );
    let pair = &first["pairs"][0];
    let r = app
        .post(
            "/api/v1/reports/duplicates/reviews",
            &admin.access,
            &json!({"activity_ids": [pair["a"], pair["b"]], "decision": "coordinated"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let group_in = |clusters: Vec<Value>| clusters.into_iter().find(|c| c["id"] == id);
    let open = group_in(report_pages(app, &admin, "level=overlap", 100).await).unwrap_or_default();
    assert_eq!(open["pair_count"], count - 1);
    assert!(!pair_keys(std::slice::from_ref(&open)).contains(&(
        pair["a"].as_str().unwrap_or_default().to_owned(),
        pair["b"].as_str().unwrap_or_default().to_owned()
    )));
    let reviewed = report_pages(app, &admin, "level=overlap&status=reviewed", 10).await;
    assert_eq!(reviewed.len(), 1);
    assert_eq!(reviewed[0]["id"], id);
    assert_eq!(reviewed[0]["pair_count"], 1);
    assert_eq!(reviewed[0]["pairs"][0]["review"]["decision"], "coordinated");
    let all = group_in(report_pages(app, &admin, "level=overlap&status=all", 100).await)
        .unwrap_or_default();
    assert_eq!(all["pair_count"], count);
    // An agency's page holds only clusters that involve it.
    let whole = report_pages(app, &admin, "status=open", 100).await;
    let agency = whole[0]["agencies"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mine = report_pages(app, &admin, &format!("agency={agency}"), 5).await;
    assert!(!mine.is_empty() && mine.len() <= whole.len());
    assert!(mine.iter().all(|c| {
        c["agencies"]
            .as_array()
            .is_some_and(|a| a.contains(&json!(agency)))
    }));
    // So does its overlap view (read from the agencies each pair keeps).
    let overlaps = report_pages(app, &admin, "level=overlap&status=all", 100).await;
    let mine = report_pages(
        app,
        &admin,
        &format!("level=overlap&status=all&agency={agency}"),
        100,
    )
    .await;
    assert!(!mine.is_empty() && mine.len() <= overlaps.len());
    assert!(mine.iter().all(|c| {
        c["agencies"]
            .as_array()
            .is_some_and(|a| a.contains(&json!(agency)))
    }));
    // The CSV is every cluster, whatever the page.
    let whole_csv = app
        .get("/api/v1/reports/duplicates?format=csv", &admin.access)
        .await;
    let paged_csv = app
        .get(
            "/api/v1/reports/duplicates?format=csv&page=2&per_page=1",
            &admin.access,
        )
        .await;
    assert_eq!(paged_csv.text, whole_csv.text);
    // Bad pages are refused.
    for bad in [
        "page=0",
        "per_page=0",
        "per_page=101",
        "page=x",
        "page=1000001",
    ] {
        let r = app
            .get(&format!("/api/v1/reports/duplicates?{bad}"), &admin.access)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
    }
}
