use icat_tests::{Reply, Session, TestApp, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    recording_returns_the_activity_and_its_matches,
    a_near_copy_from_another_agency_comes_back_with_reasons,
    one_agency_cannot_record_the_same_activity_twice,
    idempotency_keys_replay_and_refuse,
    the_role_matrix_of_activity_writes,
    lists_filter_search_and_paginate,
    changes_need_the_etag_and_rescore,
    a_check_after_an_edit_compares_with_the_edited_text,
    archiving_removes_from_lists_pairs_and_reports,
    csv_import_is_atomic_and_skips_repeats,
    a_file_of_several_batches_finds_its_own_pairs_and_stays_all_or_nothing,
    csv_export_round_trips,
    reviews_settle_pairs_for_good,
    overlaps_are_reported_by_country_and_theme_with_reasons,
    records_sent_together_each_get_their_own_answer,
);

fn activity(title: &str, description: &str, countries: &[&str], start: &str, end: &str) -> Value {
    json!({"title": title, "description": description, "countries": countries,
           "themes": ["prosecution"], "sdg_targets": ["16.2"], "target_groups": ["judges", "prosecutors"],
           "partners": ["National Judicial Institute"], "start_date": start, "end_date": end,
           "status": "planned", "budget_usd": 250000})
}

fn judges() -> Value {
    activity(
        "Training of judges and prosecutors on human trafficking cases in Nigeria",
        "Five workshops for judges and prosecutors of the federal high courts on investigating and \
         adjudicating human trafficking cases, victim-centred approaches and international cooperation.",
        &["NG"],
        "2026-03-01",
        "2026-12-31",
    )
}

fn near_copy() -> Value {
    activity(
        "Training judges and prosecutors on trafficking in persons cases (Nigeria)",
        "Workshops for federal high court judges and prosecutors: investigating and adjudicating \
         trafficking cases, victim-centred approaches, international cooperation in criminal matters.",
        &["NG", "GH"],
        "2026-04-01",
        "2026-12-31",
    )
}

async fn record(app: &TestApp, session: &Session, body: &Value) -> Reply {
    app.post("/api/v1/activities", &session.access, body).await
}

fn id(r: &Reply) -> String {
    r.body["activity"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The one cluster of a duplicate report that must hold exactly one.
fn sole_cluster(report: &Reply) -> Value {
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    let clusters = report.body["clusters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(clusters.len(), 1, "{}", report.text);
    clusters[0].clone()
}

async fn recording_returns_the_activity_and_its_matches(app: &TestApp) {
    let editor = app.user("editor", Some("UNODC")).await;
    let r = record(app, &editor, &judges()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let a = &r.body["activity"];
    assert_eq!(a["agency_acronym"], "UNODC");
    assert_eq!(a["countries"], json!(["NG"]));
    assert_eq!(a["status"], "planned");
    assert_eq!(a["budget_usd"], 250000);
    assert_eq!(a["created_by"], editor.user["id"]);
    assert_eq!(a["version"], 1);
    assert_eq!(r.body["possible_duplicates"], json!([]));
    assert_eq!(
        r.header("location").map(str::to_owned),
        Some(format!("/api/v1/activities/{}", id(&r)))
    );
    assert_eq!(r.etag(), "\"1\"");
    let read = app
        .get(&format!("/api/v1/activities/{}", id(&r)), &editor.access)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, r.body["activity"]);
    assert!(app.audit_count("create", "success").await >= 1);

    let mut bad = judges();
    bad["end_date"] = json!("2025-01-01");
    bad["countries"] = json!(["XX"]);
    bad["themes"] = json!([]);
    bad["budget_usd"] = json!(-5);
    let r = record(app, &editor, &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["countries", "themes", "end_date", "budget_usd"]);
    for (field, value) in [
        ("id", json!("x")),
        ("version", json!(3)),
        ("created_by", json!("me")),
        ("archived_at", json!(null)),
    ] {
        let mut extra = judges();
        extra[field] = value;
        assert_eq!(
            record(app, &editor, &extra).await.status,
            StatusCode::BAD_REQUEST,
            "{field}"
        );
    }
    assert_eq!(app.activity_count(&editor).await, 1);
}

async fn a_near_copy_from_another_agency_comes_back_with_reasons(app: &TestApp) {
    let unodc = app.user("editor", Some("UNODC")).await;
    let iom = app.user("editor", Some("IOM")).await;
    let first = record(app, &unodc, &judges()).await;
    // Before saving: the check finds it and saves nothing.
    let checked = app
        .post("/api/v1/activities/check", &iom.access, &near_copy())
        .await;
    assert_eq!(checked.status, StatusCode::OK, "{}", checked.text);
    let m = &checked.body["possible_duplicates"][0];
    assert_eq!(m["activity_id"].as_str(), Some(id(&first).as_str()));
    assert_eq!(m["agency_acronym"], "UNODC");
    assert!(m["level"] == "duplicate" || m["level"] == "possible", "{m}");
    assert_eq!(app.activity_count(&iom).await, 1, "check saved nothing");
    // Saving: the same match, with reasons for every feature.
    let second = record(app, &iom, &near_copy()).await;
    assert_eq!(second.status, StatusCode::CREATED);
    let m = &second.body["possible_duplicates"][0];
    assert_eq!(m["activity_id"].as_str(), Some(id(&first).as_str()));
    assert!(
        m["score"]
            .as_f64()
            .is_some_and(|s| (0.55..=1.0).contains(&s))
    );
    let features: Vec<&str> = m["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["feature"].as_str())
        .collect();
    for f in [
        "title",
        "description",
        "countries",
        "period",
        "themes",
        "partners",
    ] {
        assert!(features.contains(&f), "no {f} reason: {features:?}");
    }
    assert!(
        m["reasons"][0]["detail"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    // After saving, either activity's page lists the other, with reasons, for any signed-in user.
    let viewer = app.user("viewer", Some("ILO")).await;
    let matches = app
        .get(
            &format!("/api/v1/activities/{}/matches", id(&first)),
            &viewer.access,
        )
        .await;
    assert_eq!(matches.status, StatusCode::OK, "{}", matches.text);
    let m = &matches.body["possible_duplicates"][0];
    assert_eq!(m["activity_id"].as_str(), Some(id(&second).as_str()));
    assert_eq!(m["agency_acronym"], "IOM");
    assert!(m["reasons"].as_array().is_some_and(|r| r.len() >= 6));
    assert_eq!(
        app.get("/api/v1/activities/no-such-id/matches", &viewer.access)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // The pair is kept: the report shows it.
    let report = app.get("/api/v1/reports/duplicates", &unodc.access).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    let cluster = &report.body["clusters"][0];
    assert_eq!(cluster["agencies"], json!(["IOM", "UNODC"]));
    assert_eq!(cluster["pairs"].as_array().map(Vec::len), Some(1));
    // The same agency's own near-copy is never a cross-agency match.
    let own = app
        .post("/api/v1/activities/check", &unodc.access, &near_copy())
        .await;
    assert!(
        own.body["possible_duplicates"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|m| m["agency_acronym"] != "UNODC")
    );
}

async fn one_agency_cannot_record_the_same_activity_twice(app: &TestApp) {
    let editor = app.user("editor", Some("UNODC")).await;
    let first = record(app, &editor, &judges()).await;
    let mut again = judges();
    again["title"] =
        json!("TRAINING of judges and prosecutors on human-trafficking cases in Nigeria!");
    again["description"] = json!("Another wording of the same thing.");
    let r = record(app, &editor, &again).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.code(), "duplicate_activity");
    assert_eq!(r.body["existing_id"].as_str(), Some(id(&first).as_str()));
    assert_eq!(app.activity_count(&editor).await, 1);
    // Other dates are another activity.
    let mut later = judges();
    later["start_date"] = json!("2027-03-01");
    later["end_date"] = json!("2027-12-31");
    assert_eq!(
        record(app, &editor, &later).await.status,
        StatusCode::CREATED
    );
}

async fn idempotency_keys_replay_and_refuse(app: &TestApp) {
    let editor = app.user("editor", Some("UNODC")).await;
    let send = |body: Value, key: &'static str, session: Session| async move {
        app.send(
            Method::POST,
            "/api/v1/activities",
            Some(&session.access),
            Some(&body),
            &[("idempotency-key", key)],
        )
        .await
    };
    let first = send(judges(), "key-1", editor.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let replay = send(judges(), "key-1", editor.clone()).await;
    assert_eq!(replay.status, StatusCode::CREATED, "{}", replay.text);
    assert_eq!(replay.body, first.body, "the first answer, replayed");
    assert_eq!(app.activity_count(&editor).await, 1);
    let other = send(near_copy(), "key-1", editor.clone()).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.code(), "validation_failed");
    assert_eq!(app.activity_count(&editor).await, 1);
    // Keys are per user.
    let colleague = app.user("editor", Some("UNODC")).await;
    let theirs = send(judges(), "key-1", colleague).await;
    assert_eq!(
        theirs.status,
        StatusCode::CONFLICT,
        "a new request for them: the activity exists"
    );
    let long = "k".repeat(256);
    let r = app
        .send(
            Method::POST,
            "/api/v1/activities",
            Some(&editor.access),
            Some(&near_copy()),
            &[("idempotency-key", long.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

async fn the_role_matrix_of_activity_writes(app: &TestApp) {
    let admin = app.admin().await;
    let own = app.user("editor", Some("UNODC")).await;
    let other = app.user("editor", Some("ILO")).await;
    let viewer = app.user("viewer", Some("UNODC")).await;
    let unodc = app.agency_id("UNODC").await;
    let created = record(app, &own, &judges()).await;
    let path = format!("/api/v1/activities/{}", id(&created));
    let csv = "title,description,countries,themes,start_date,end_date\nTitle A,B,NG,prevention,2026-01-01,2026-02-01\n";
    for (who, session) in [("other editor", &other), ("viewer", &viewer)] {
        let before = app.activity_count(&admin).await;
        let mut for_unodc = near_copy();
        for_unodc["agency_id"] = json!(unodc);
        let tries = [
            record(app, session, &for_unodc).await,
            app.patch(
                &path,
                &session.access,
                "\"1\"",
                &json!({"title": "Changed"}),
            )
            .await,
            app.send(Method::DELETE, &path, Some(&session.access), None, &[])
                .await,
        ];
        for r in &tries {
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}: {}", r.text);
        }
        let unchanged = app.get(&path, &admin.access).await;
        assert_eq!(unchanged.body["version"], 1, "{who}");
        assert_eq!(app.activity_count(&admin).await, before, "{who}");
    }
    let r = app
        .client
        .post(format!("{}/api/v1/activities/import", app.base))
        .bearer_auth(&viewer.access)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .map(|r| r.status())
        .unwrap_or_default();
    assert_eq!(r, StatusCode::FORBIDDEN);
    // Admins must name the agency; with it they record for anyone.
    let r = record(app, &admin, &near_copy()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut named = near_copy();
    named["agency_id"] = json!(app.agency_id("OSCE").await);
    assert_eq!(
        record(app, &admin, &named).await.status,
        StatusCode::CREATED
    );
    // Editors may name their own agency.
    let mut own_named = near_copy();
    own_named["agency_id"] = json!(unodc);
    own_named["start_date"] = json!("2028-01-01");
    own_named["end_date"] = json!("2028-02-01");
    assert_eq!(
        record(app, &own, &own_named).await.status,
        StatusCode::CREATED
    );
}

async fn lists_filter_search_and_paginate(app: &TestApp) {
    let unodc = app.user("editor", Some("UNODC")).await;
    let ilo = app.user("editor", Some("ILO")).await;
    record(app, &unodc, &judges()).await;
    let mut fishing = activity(
        "Fair recruitment in Thai fishing fleets",
        "Labour inspection on vessels with port authorities.",
        &["TH"],
        "2025-01-01",
        "2025-12-31",
    );
    fishing["themes"] = json!(["prevention", "partnerships"]);
    fishing["sdg_targets"] = json!(["8.7"]);
    fishing["status"] = json!("completed");
    record(app, &ilo, &fishing).await;
    let mut shelters = activity(
        "Shelters for child survivors",
        "Case management and family tracing in Edo state.",
        &["NG"],
        "2027-01-01",
        "2027-06-30",
    );
    shelters["themes"] = json!(["protection"]);
    record(app, &ilo, &shelters).await;
    let titles = |r: &Reply| -> Vec<String> {
        r.body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["title"].as_str().map(str::to_owned))
            .collect()
    };
    let cases: [(&str, &[&str]); 11] = [
        (
            "",
            &[
                "Shelters for child survivors",
                "Training of judges and prosecutors on human trafficking cases in Nigeria",
                "Fair recruitment in Thai fishing fleets",
            ],
        ),
        (
            "agency=ilo",
            &[
                "Shelters for child survivors",
                "Fair recruitment in Thai fishing fleets",
            ],
        ),
        (
            "country=NG",
            &[
                "Shelters for child survivors",
                "Training of judges and prosecutors on human trafficking cases in Nigeria",
            ],
        ),
        ("theme=protection", &["Shelters for child survivors"]),
        ("sdg=8.7", &["Fair recruitment in Thai fishing fleets"]),
        (
            "status=completed",
            &["Fair recruitment in Thai fishing fleets"],
        ),
        (
            "from=2026-06-01&to=2026-07-01",
            &["Training of judges and prosecutors on human trafficking cases in Nigeria"],
        ),
        ("q=vessels", &["Fair recruitment in Thai fishing fleets"]),
        (
            "q=judg%20NIGERIA",
            &["Training of judges and prosecutors on human trafficking cases in Nigeria"],
        ),
        (
            "q=federal%20court",
            &["Training of judges and prosecutors on human trafficking cases in Nigeria"],
        ),
        ("q=nothing-like-this", &[]),
    ];
    for (query, expected) in cases {
        let r = app
            .get(&format!("/api/v1/activities?{query}"), &ilo.access)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
        assert_eq!(titles(&r), expected, "{query}");
        assert_eq!(r.body["total"], expected.len(), "{query}");
    }
    // Pages of the whole log, and of a filtered one (counted in the pass that finds the page):
    // the total holds on every page, past the last one too.
    for (query, total) in [("", 3), ("country=NG&", 2), ("q=case&", 2)] {
        let second = app
            .get(
                &format!("/api/v1/activities?{query}per_page=1&page=2"),
                &ilo.access,
            )
            .await;
        assert_eq!(second.body["total"], total, "{query}: {}", second.text);
        assert_eq!(titles(&second).len(), 1, "{query}");
        let beyond = app
            .get(
                &format!("/api/v1/activities?{query}per_page=2&page=3"),
                &ilo.access,
            )
            .await;
        assert_eq!(beyond.status, StatusCode::OK, "{query}: {}", beyond.text);
        assert_eq!(beyond.body["total"], total, "{query}");
        assert!(titles(&beyond).is_empty(), "{query}");
    }
    for bad in [
        "per_page=101",
        "country=ZZ",
        "theme=x",
        "sdg=1.1",
        "status=done",
        "from=yesterday",
        "page=0",
        "colour=red",
    ] {
        let r = app
            .get(&format!("/api/v1/activities?{bad}"), &ilo.access)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

async fn changes_need_the_etag_and_rescore(app: &TestApp) {
    let unodc = app.user("editor", Some("UNODC")).await;
    let iom = app.user("editor", Some("IOM")).await;
    let first = record(app, &unodc, &judges()).await;
    let mut unrelated = activity(
        "Mobile legal clinics for migrants",
        "Legal aid at border posts.",
        &["NG"],
        "2024-01-01",
        "2024-06-30",
    );
    unrelated["themes"] = json!(["protection"]);
    let second = record(app, &iom, &unrelated).await;
    assert_eq!(second.body["possible_duplicates"], json!([]));
    let path = format!("/api/v1/activities/{}", id(&second));
    let copy = near_copy();
    let change = json!({"title": copy["title"], "description": copy["description"], "start_date": "2026-04-01", "end_date": "2026-12-31", "themes": ["prosecution"]});
    let r = app
        .send(Method::PATCH, &path, Some(&iom.access), Some(&change), &[])
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_REQUIRED);
    let r = app.patch(&path, &iom.access, "\"5\"", &change).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let r = app
        .patch(
            &path,
            &iom.access,
            "\"1\"",
            &json!({"end_date": "2023-01-01"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "end before start"
    );
    let r = app.patch(&path, &iom.access, "\"1\"", &change).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.etag(), "\"2\"");
    assert_eq!(
        r.body["activity"]["countries"],
        json!(["NG"]),
        "absent fields stay"
    );
    assert_eq!(
        r.body["possible_duplicates"][0]["activity_id"].as_str(),
        Some(id(&first).as_str()),
        "rescored"
    );
    // The search index follows the edit: the old words no longer find it, the new ones do.
    let (second_id, access) = (id(&second), iom.access.as_str());
    let found = |query: &'static str| {
        let second_id = second_id.clone();
        async move {
            let r = app
                .get(&format!("/api/v1/activities?q={query}"), access)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r.body["items"]
                .as_array()
                .map(|items| items.iter().any(|a| a["id"] == second_id.as_str()))
                .unwrap_or(false)
        }
    };
    assert!(
        !found("clinics").await,
        "the old title is no longer searchable"
    );
    assert!(
        found("adjudicat%20victim-centred").await,
        "the new description is"
    );
    let report = app.get("/api/v1/reports/duplicates", &unodc.access).await;
    assert_eq!(report.body["clusters"].as_array().map(Vec::len), Some(1));
    let r = app
        .patch(
            &path,
            &iom.access,
            "\"2\"",
            &json!({"budget_usd": null, "status": "ongoing"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["activity"]["budget_usd"], Value::Null);
    assert_eq!(r.body["activity"]["status"], "ongoing");
}

/// Scoring keeps candidates' features in memory; an edit must reach the next check all the same.
async fn a_check_after_an_edit_compares_with_the_edited_text(app: &TestApp) {
    let unodc = app.user("editor", Some("UNODC")).await;
    let iom = app.user("editor", Some("IOM")).await;
    // Same country and period as `judges()`, so a check of that reads it as a candidate.
    let mut unrelated = activity(
        "Mobile legal clinics for migrants",
        "Legal aid at border posts.",
        &["NG"],
        "2026-03-01",
        "2026-12-31",
    );
    unrelated["themes"] = json!(["protection"]);
    let theirs = record(app, &iom, &unrelated).await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.text);
    let strong = |r: &Reply| -> Vec<String> {
        r.body["possible_duplicates"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter(|m| m["level"] != "overlap")
            .filter_map(|m| m["activity_id"].as_str().map(str::to_owned))
            .collect()
    };
    let before = app
        .post("/api/v1/activities/check", &unodc.access, &judges())
        .await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    assert_eq!(strong(&before), Vec::<String>::new(), "{}", before.text);
    let copy = near_copy();
    let change = json!({"title": copy["title"], "description": copy["description"], "themes": ["prosecution"]});
    let path = format!("/api/v1/activities/{}", id(&theirs));
    let r = app.patch(&path, &iom.access, "\"1\"", &change).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let after = app
        .post("/api/v1/activities/check", &unodc.access, &judges())
        .await;
    assert_eq!(strong(&after), vec![id(&theirs)], "{}", after.text);
}

async fn archiving_removes_from_lists_pairs_and_reports(app: &TestApp) {
    let unodc = app.user("editor", Some("UNODC")).await;
    let iom = app.user("editor", Some("IOM")).await;
    record(app, &unodc, &judges()).await;
    let copy = record(app, &iom, &near_copy()).await;
    assert_eq!(
        app.get("/api/v1/reports/duplicates", &iom.access)
            .await
            .body["clusters"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let path = format!("/api/v1/activities/{}", id(&copy));
    let r = app
        .send(
            Method::DELETE,
            &path,
            Some(&iom.access),
            None,
            &[("if-match", "\"7\"")],
        )
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let r = app
        .send(Method::DELETE, &path, Some(&iom.access), None, &[])
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&path, &iom.access).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.activity_count(&iom).await, 1);
    assert_eq!(
        app.get("/api/v1/reports/duplicates?status=all", &iom.access)
            .await
            .body["clusters"],
        json!([])
    );
    assert_eq!(app.audit_count("archive", "success").await, 1);
    assert_eq!(
        app.send(Method::DELETE, &path, Some(&iom.access), None, &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // The same activity may be recorded again once the old one is archived.
    assert_eq!(
        record(app, &iom, &near_copy()).await.status,
        StatusCode::CREATED
    );
}

async fn import_csv(app: &TestApp, session: &Session, body: &str, query: &str) -> Reply {
    let res = app
        .client
        .post(format!("{}/api/v1/activities/import{query}", app.base))
        .bearer_auth(&session.access)
        .header("content-type", "text/csv")
        .body(body.to_owned())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

/// A CSV line of `activity`-shaped fields for an admin's import (agency first).
fn csv_line(agency: &str, title: &str, description: &str, countries: &str, start: &str) -> String {
    format!("{agency},\"{title}\",\"{description}\",{countries},prosecution,{start},2026-12-31\n")
}

/// An import is written a batch at a time (so that it holds up no other writer), yet pairs
/// between rows of different batches are found, and a batch that fails takes the batches written
/// before it out again: the file is all or nothing, and the audit trail says so.
async fn a_file_of_several_batches_finds_its_own_pairs_and_stays_all_or_nothing(app: &TestApp) {
    use diesel::connection::SimpleConnection;
    let admin = app.admin().await;
    let header = "agency,title,description,countries,themes,start_date,end_date\n";
    let filler = |from: usize, to: usize| -> String {
        (from..to)
            .map(|i| {
                csv_line(
                    if i % 2 == 0 { "UNHCR" } else { "UNICEF" },
                    &format!("Filler activity number {i} of the import"),
                    &format!("Unrelated work item {i}: {}", "word ".repeat(i % 7 + 1)),
                    ["TH", "KH", "VN", "PH"][i % 4],
                    "2026-02-01",
                )
            })
            .collect()
    };
    let first = judges();
    let copy = near_copy();
    let mut file = String::from(header);
    file += &csv_line(
        "UNODC",
        first["title"].as_str().unwrap_or_default(),
        first["description"].as_str().unwrap_or_default(),
        "NG",
        "2026-03-01",
    );
    file += &filler(1, 180);
    file += &csv_line(
        "IOM",
        copy["title"].as_str().unwrap_or_default(),
        copy["description"].as_str().unwrap_or_default(),
        "NG;GH",
        "2026-04-01",
    );
    file += &filler(181, 250);
    let done = app.import_csv(&admin, &file).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["created"], 250, "{}", done.text);
    let report = app.get("/api/v1/reports/duplicates", &admin.access).await;
    let agencies: Vec<&Value> = report.body["clusters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| &c["agencies"])
        .collect();
    assert!(
        agencies.contains(&&json!(["IOM", "UNODC"])),
        "the first and the 181st row of the file are one piece of work: {}",
        report.text
    );

    // A fault injected into the database: the 230th row of the next file cannot be written, after
    // two batches have been.
    let failing = "Injected failure row";
    let sql = match app.backend {
        icat_tests::Backend::Sqlite => format!(
            "CREATE TRIGGER import_fault BEFORE INSERT ON activities WHEN new.title = '{failing}' \
             BEGIN SELECT RAISE(ABORT, 'injected fault'); END;"
        ),
        icat_tests::Backend::Postgres => format!(
            "CREATE FUNCTION import_fault() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected fault'; \
             END $$ LANGUAGE plpgsql; CREATE TRIGGER import_fault BEFORE INSERT ON activities \
             FOR EACH ROW WHEN (NEW.title = '{failing}') EXECUTE FUNCTION import_fault();"
        ),
    };
    app.db
        .run(move |conn| Ok(conn.batch_execute(&sql)?))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let before = app.fingerprint().await;
    let pairs_before = app
        .get(
            "/api/v1/reports/duplicates?level=overlap&status=all&per_page=1",
            &admin.access,
        )
        .await
        .body["total"]
        .clone();
    let deleted_before = app.audit_count("delete", "success").await;
    let mut file = String::from(header);
    file += &csv_line(
        "UNODC",
        "Second file: training of labour inspectors in Nigeria",
        "Labour inspectors of Lagos state trained on indicators of forced labour",
        "NG",
        "2026-03-01",
    );
    file += &filler(1001, 1229);
    file += &csv_line(
        "UNHCR",
        failing,
        "This row cannot be written",
        "TH",
        "2026-02-01",
    );
    file += &filler(1230, 1260);
    let failed = app.import_csv(&admin, &file).await;
    assert_eq!(
        failed.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        failed.text
    );
    assert_eq!(
        app.fingerprint().await,
        before,
        "nothing of the failed file is left"
    );
    assert_eq!(
        app.get(
            "/api/v1/reports/duplicates?level=overlap&status=all&per_page=1",
            &admin.access
        )
        .await
        .body["total"],
        pairs_before,
        "no pair of the failed file is left"
    );
    #[derive(diesel::QueryableByName)]
    struct Orphans {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let orphans = app
        .db
        .run(|conn| {
            use diesel::prelude::*;
            Ok(diesel::sql_query(
                "SELECT (SELECT COUNT(*) FROM activity_bands WHERE activity_id NOT IN (SELECT id FROM activities)) \
                 + (SELECT COUNT(*) FROM activity_countries WHERE activity_id NOT IN (SELECT id FROM activities)) AS n",
            )
            .get_result::<Orphans>(conn)?
            .n)
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(orphans, 0, "no look-up row of the failed file is left");
    // Every row before the failing one was written in the batches before it (the file is larger
    // than a batch, so there is at least one), and each was audited as taken out.
    let removed = app.audit_count("delete", "success").await - deleted_before;
    assert!(
        (1..230).contains(&removed),
        "the batches written before the failure are audited as taken out: {removed}"
    );
}

async fn csv_import_is_atomic_and_skips_repeats(app: &TestApp) {
    let editor = app.user("editor", Some("UNODC")).await;
    record(app, &editor, &judges()).await;
    let good = "Title,description,countries,themes,sdg_targets,partners,start_date,end_date,status,budget_usd\n\
        #activity+title,#activity+description,#country+code+list,#sector+list,#indicator+sdg+list,#org+partner+list,#date+start,#date+end,#status,#value+budget+usd\n\
        Border officials training,Identification of victims at borders,NG;BJ,prevention;protection,16.2,ECOWAS,2026-05-01,2026-09-30,planned,\"120,000\"\n\
        Training of judges and prosecutors on human trafficking cases in Nigeria,Again,NG,prosecution,,,2026-03-01,2026-12-31,,\n\
        Border officials training,Same row twice,NG;BJ,prevention,,,2026-05-01,2026-09-30,,\n\
        Hotline for victims,24/7 hotline,TH,protection,,,2026-01-01,2026-12-31,ongoing,\n";
    let dry = import_csv(app, &editor, good, "?dry_run=true").await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
    assert_eq!(
        (
            dry.body["created"].as_i64(),
            dry.body["duplicates_skipped"].as_i64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(
        app.activity_count(&editor).await,
        1,
        "a dry run saves nothing"
    );
    let done = import_csv(app, &editor, good, "").await;
    assert_eq!(
        (
            done.body["created"].as_i64(),
            done.body["duplicates_skipped"].as_i64()
        ),
        (Some(2), Some(2)),
        "{}",
        done.text
    );
    assert_eq!(done.body["errors"], json!([]));
    assert_eq!(app.activity_count(&editor).await, 3);
    let border = app
        .get("/api/v1/activities?q=border%20officials", &editor.access)
        .await;
    assert_eq!(border.body["items"][0]["budget_usd"], 120000);
    assert_eq!(border.body["items"][0]["countries"], json!(["NG", "BJ"]));

    let bad = "title,description,countries,themes,start_date,end_date\n\
        Fine row,Fine,NG,prevention,2026-01-01,2026-02-01\n\
        ,No title,XX,prevention,2026-01-01,2026-02-01\n\
        Bad dates,Text,NG,rescue,2026-05-01,2026-01-01\n";
    let r = import_csv(app, &editor, bad, "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let errors: Vec<(i64, &str)> = r.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| Some((e["row"].as_i64()?, e["field"].as_str()?)))
        .collect();
    assert_eq!(
        errors,
        [
            (3, "title"),
            (3, "countries"),
            (4, "themes"),
            (4, "end_date")
        ]
    );
    assert_eq!(
        app.activity_count(&editor).await,
        3,
        "nothing of an invalid file is saved"
    );

    let r = import_csv(app, &editor, "title,colour\nx,red\n", "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let other = "agency,title,description,countries,themes,start_date,end_date\nILO,Border training,Y,NG,prevention,2026-01-01,2026-02-01\n";
    assert_eq!(
        import_csv(app, &editor, other, "").await.status,
        StatusCode::FORBIDDEN
    );
    let admin = app.admin().await;
    let r = import_csv(app, &admin, other, "").await;
    assert_eq!(r.body["created"], 1, "{}", r.text);
    let r = import_csv(app, &admin, "title,description,countries,themes,start_date,end_date\nTitle X,Y,NG,prevention,2026-01-01,2026-02-01\n", "").await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "admins name the agency"
    );
    let r = app
        .client
        .post(format!("{}/api/v1/activities/import", app.base))
        .bearer_auth(&editor.access)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .map(|r| r.status())
        .unwrap_or_default();
    assert_eq!(r, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = format!(
        "title,description,countries,themes,start_date,end_date\n{}",
        "x,y,NG,prevention,2026-01-01,2026-02-01\n".repeat(150_000)
    );
    assert_eq!(
        import_csv(app, &editor, &huge, "").await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

async fn csv_export_round_trips(app: &TestApp) {
    let editor = app.user("editor", Some("UNODC")).await;
    record(app, &editor, &judges()).await;
    let mut tricky = near_copy();
    tricky["title"] = json!("-5% trafficking, \"quoted\"; and more");
    tricky["start_date"] = json!("2029-01-01");
    tricky["end_date"] = json!("2029-02-01");
    record(app, &editor, &tricky).await;
    let r = app
        .get("/api/v1/activities/export.csv", &editor.access)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let mut reader = csv::Reader::from_reader(r.text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map(|h| h.iter().map(str::to_owned).collect())
        .unwrap_or_default();
    assert_eq!(headers[0], "id");
    assert!(headers.contains(&"budget_usd".to_owned()));
    let records: Vec<csv::StringRecord> = reader.records().filter_map(Result::ok).collect();
    assert_eq!(records.len(), 3);
    assert!(records[0].iter().all(|c| c.starts_with('#')), "HXL row");
    assert_eq!(&records[1][2], "'-5% trafficking, \"quoted\"; and more");
    // Importing the export back repeats every activity: all skipped, the title restored.
    let back = import_csv(app, &editor, &r.text, "").await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text);
    assert_eq!(
        (
            back.body["created"].as_i64(),
            back.body["duplicates_skipped"].as_i64()
        ),
        (Some(0), Some(2))
    );
}

async fn reviews_settle_pairs_for_good(app: &TestApp) {
    let unodc = app.user("editor", Some("UNODC")).await;
    let iom = app.user("editor", Some("IOM")).await;
    let third = app.user("editor", Some("ILO")).await;
    let viewer = app.user("viewer", Some("UNODC")).await;
    let a = id(&record(app, &unodc, &judges()).await);
    let b = id(&record(app, &iom, &near_copy()).await);
    let body =
        json!({"activity_ids": [b, a], "decision": "not_duplicate", "note": "different courts"});
    for (who, s) in [("viewer", &viewer), ("third agency", &third)] {
        let r = app
            .post("/api/v1/reports/duplicates/reviews", &s.access, &body)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}: {}", r.text);
    }
    let r = app
        .post(
            "/api/v1/reports/duplicates/reviews",
            &iom.access,
            &json!({"activity_ids": [a], "decision": "maybe"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get("/api/v1/reports/duplicates", &iom.access)
            .await
            .body["clusters"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let r = app
        .post("/api/v1/reports/duplicates/reviews", &iom.access, &body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["review"]["decision"], "not_duplicate");
    assert_eq!(
        app.get("/api/v1/reports/duplicates", &iom.access)
            .await
            .body["clusters"],
        json!([]),
        "no longer open"
    );
    let matches = app
        .get(&format!("/api/v1/activities/{a}/matches"), &iom.access)
        .await;
    assert_eq!(
        matches.body["possible_duplicates"],
        json!([]),
        "a dismissed pair leaves the activity's matches"
    );
    let reviewed = app
        .get("/api/v1/reports/duplicates?status=reviewed", &iom.access)
        .await;
    assert_eq!(
        reviewed.body["clusters"][0]["pairs"][0]["review"]["note"],
        "different courts"
    );
    assert_eq!(app.audit_count("review", "success").await, 1);
    // A rebuild recomputes the pairs and keeps the verdict.
    let (activities, pairs) = app.rebuild().await;
    assert_eq!(activities, 2);
    assert!(pairs >= 1);
    // The second rebuild keeps the stored features (same normaliser) and finds the same pairs.
    let again = app.rebuild().await;
    assert_eq!(again, (activities, pairs));
    assert_eq!(
        app.get("/api/v1/reports/duplicates", &iom.access)
            .await
            .body["clusters"],
        json!([])
    );
    // Dismissed matches are not offered again when the activity changes.
    let path = format!("/api/v1/activities/{b}");
    let r = app
        .patch(&path, &iom.access, "\"1\"", &json!({"status": "ongoing"}))
        .await;
    assert!(
        r.body["possible_duplicates"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|m| m["activity_id"].as_str() != Some(a.as_str())),
        "{}",
        r.text
    );
    let csv = app
        .get(
            "/api/v1/reports/duplicates?status=all&format=csv",
            &unodc.access,
        )
        .await;
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        csv.text
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("not_duplicate")),
        "{}",
        csv.text
    );
    for bad in [
        "level=maybe",
        "status=closed",
        "min_score=2",
        "format=xml",
        "country=ZZ",
    ] {
        assert_eq!(
            app.get(&format!("/api/v1/reports/duplicates?{bad}"), &unodc.access)
                .await
                .status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

/// Different work in the same country, period and theme is an overlap: not in the default
/// (duplicate) report, grouped by country and theme under `level=overlap`, with its reasons
/// (built when read: overlap rows do not store them), also after a rebuild.
async fn overlaps_are_reported_by_country_and_theme_with_reasons(app: &TestApp) {
    let unodc = app.user("editor", Some("UNODC")).await;
    let iom = app.user("editor", Some("IOM")).await;
    let first = record(app, &unodc, &judges()).await;
    let clinics = json!({"title": "Mobile legal clinics for migrants",
        "description": "Legal aid and referral at border posts and bus stations.",
        "countries": ["NG", "GH"], "themes": ["prosecution", "protection"], "sdg_targets": [],
        "target_groups": ["migrants"], "partners": ["Bar Association"],
        "start_date": "2026-05-01", "end_date": "2026-09-30", "status": "planned"});
    let second = record(app, &iom, &clinics).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    let levels: Vec<&str> = second.body["possible_duplicates"]
        .as_array()
        .map(|m| m.iter().filter_map(|x| x["level"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(levels, ["overlap"], "{}", second.text);
    let check = |report: &Reply| {
        let cluster = sole_cluster(report);
        assert_eq!(cluster["group"], "NG prosecution");
        assert_eq!(cluster["level"], "overlap");
        let mut ids = vec![id(&first), id(&second)];
        ids.sort();
        assert_eq!(cluster["activity_ids"], json!(ids));
        let reasons = cluster["pairs"][0]["reasons"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let detail_of = |feature: &str| {
            reasons
                .iter()
                .find(|r| r["feature"] == feature)
                .and_then(|r| r["detail"].as_str())
                .map(str::to_owned)
                .unwrap_or_default()
        };
        assert!(detail_of("countries").contains("NG"), "{reasons:?}");
        assert!(detail_of("period").contains("overlap"), "{reasons:?}");
        assert!(detail_of("themes").contains("prosecution"), "{reasons:?}");
    };
    let strong = app.get("/api/v1/reports/duplicates", &iom.access).await;
    assert_eq!(
        strong.body["clusters"],
        json!([]),
        "an overlap is no duplicate"
    );
    check(
        &app.get("/api/v1/reports/duplicates?level=overlap", &iom.access)
            .await,
    );
    assert_eq!(app.rebuild().await, (2, 1));
    check(
        &app.get("/api/v1/reports/duplicates?level=overlap", &iom.access)
            .await,
    );
    // Stored features that do not parse are computed again from the texts and written back.
    let damaged = id(&second);
    let features_of = |target: String| {
        app.db.run(move |conn| {
            use diesel::prelude::*;
            use icat_store::schema::activities::dsl;
            dsl::activities
                .find(target)
                .select(dsl::features)
                .first::<String>(conn)
                .map_err(icat_common::ApiError::from)
        })
    };
    let good = features_of(damaged.clone()).await.ok();
    let target = damaged.clone();
    let broken = app
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            use icat_store::schema::activities::dsl;
            diesel::update(dsl::activities.find(target))
                .set(dsl::features.eq("{}"))
                .execute(conn)
                .map_err(icat_common::ApiError::from)
        })
        .await;
    assert_eq!(broken.ok(), Some(1));
    assert_eq!(app.rebuild().await, (2, 1));
    assert_eq!(
        features_of(damaged).await.ok(),
        good,
        "rewritten as they were"
    );
    if app.backend == icat_tests::Backend::Sqlite {
        // The rebuild drops the pairs' secondary indexes while it writes, and builds them again.
        let indexes = app
            .db
            .run(|conn| {
                use diesel::prelude::*;
                #[derive(diesel::QueryableByName)]
                struct Name {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    name: String,
                }
                diesel::sql_query(
                    "SELECT name FROM sqlite_master WHERE type = 'index' \
                     AND tbl_name = 'activity_pairs' AND sql IS NOT NULL ORDER BY name",
                )
                .load::<Name>(conn)
                .map(|v| v.into_iter().map(|n| n.name).collect::<Vec<_>>())
                .map_err(icat_common::ApiError::from)
            })
            .await;
        assert_eq!(
            indexes.ok(),
            Some(vec![
                "activity_pairs_a_agency".to_owned(),
                "activity_pairs_b".to_owned(),
                "activity_pairs_b_agency".to_owned(),
                "activity_pairs_group".to_owned(),
                "activity_pairs_level".to_owned(),
                "activity_pairs_period".to_owned()
            ])
        );
    } else {
        // PostgreSQL: the rebuild leaves what it rewrote vacuumed and analyzed, so that the reads
        // after it are planned on fresh statistics (`last_vacuum` counts only a VACUUM asked for,
        // never autovacuum's).
        let fresh = app
            .db
            .run(|conn| {
                use diesel::prelude::*;
                #[derive(diesel::QueryableByName)]
                struct N {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    n: i64,
                }
                diesel::sql_query(
                    "SELECT count(*) AS n FROM pg_stat_user_tables \
                     WHERE relname IN ('activity_pairs', 'activities', 'activity_bands') \
                     AND last_vacuum IS NOT NULL AND last_analyze IS NOT NULL",
                )
                .get_result::<N>(conn)
                .map(|r| r.n)
                .map_err(icat_common::ApiError::from)
            })
            .await;
        assert_eq!(
            fresh.ok(),
            Some(3),
            "vacuumed and analyzed after the rebuild"
        );
    }
    check(
        &app.get("/api/v1/reports/duplicates?level=overlap", &iom.access)
            .await,
    );
}

/// Activities recorded at the same moment (on SQLite they share one transaction and commit: see
/// `icat_store::Db::write_together`): each request gets its own answer, a refused one changes
/// nothing for the others, and two that duplicate each other still meet, whichever was scored
/// before the other was saved.
async fn records_sent_together_each_get_their_own_answer(app: &TestApp) {
    let unodc = app.user("editor", Some("UNODC")).await;
    let iom = app.user("editor", Some("IOM")).await;
    let ilo = app.user("editor", Some("ILO")).await;
    let unrelated = |i: usize| {
        activity(
            &format!("Labour inspection campaign number {i} in fishing ports"),
            &format!("Joint inspections of fishing vessels, round {i}, with port authorities."),
            &["TH"],
            &format!("20{}-01-01", 30 + i),
            &format!("20{}-06-30", 30 + i),
        )
    };
    let bodies = [
        judges(),
        near_copy(),
        unrelated(1),
        unrelated(2),
        unrelated(3),
    ];
    let more = [unrelated(4), unrelated(5)];
    let (first, copy, repeat, a, b, c, d, e) = tokio::join!(
        record(app, &unodc, &bodies[0]),
        record(app, &iom, &bodies[1]),
        record(app, &unodc, &bodies[0]),
        record(app, &ilo, &bodies[2]),
        record(app, &ilo, &bodies[3]),
        record(app, &ilo, &bodies[4]),
        record(app, &ilo, &more[0]),
        record(app, &ilo, &more[1]),
    );
    for r in [&copy, &a, &b, &c, &d, &e] {
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    // One of the agency's two identical records is saved, the other refused with its id.
    let (saved, refused) = if first.status == StatusCode::CREATED {
        (first, repeat)
    } else {
        (repeat, first)
    };
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.text);
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(refused.code(), "duplicate_activity");
    assert_eq!(
        refused.body["existing_id"].as_str(),
        Some(id(&saved).as_str())
    );
    assert_eq!(app.activity_count(&unodc).await, 7);
    // The near-copy pair: found afresh on both backends, and kept by whichever of the two was
    // saved second. (On PostgreSQL two writers that commit at the same instant may each miss the
    // other until `icat dedup rebuild`: see `icat_store::unseen_since`.)
    let matches = app
        .get(
            &format!("/api/v1/activities/{}/matches", id(&copy)),
            &iom.access,
        )
        .await;
    assert_eq!(
        matches.body["possible_duplicates"][0]["activity_id"].as_str(),
        Some(id(&saved).as_str()),
        "{}",
        matches.text
    );
    if app.backend == icat_tests::Backend::Sqlite {
        let report = app.get("/api/v1/reports/duplicates", &unodc.access).await;
        let mut ids = vec![id(&saved), id(&copy)];
        ids.sort();
        assert_eq!(sole_cluster(&report)["activity_ids"], json!(ids));
    }
    // Each answer is its own activity's.
    for (r, title) in [(&a, 1), (&e, 5)] {
        assert_eq!(
            r.body["activity"]["title"].as_str(),
            Some(format!("Labour inspection campaign number {title} in fishing ports").as_str())
        );
    }
}
