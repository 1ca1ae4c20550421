use icat_tests::{TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    participation_shows_focal_points_and_recent_work,
    summaries_count_by_dimension_and_period
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
