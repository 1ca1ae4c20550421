//! Rules that span rows, raced: requests that are each allowed alone, sent at once, 50 rounds, so
//! that a check-then-write gap shows on PostgreSQL's read committed (SQLite's writers take turns).
//! The admin rule has its own race in `users.rs`.

use icat_tests::{Reply, Session, TestApp, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    racing_primary_designations_leave_one_current_primary,
    racing_identical_records_save_one,
    racing_reviews_of_one_pair_leave_one_review,
    racing_requests_with_one_idempotency_key_save_one_and_answer_alike,
);

const ROUNDS: usize = 50;

fn activity(title: &str, round: usize) -> Value {
    json!({"title": title, "description": "Joint inspections of fishing vessels with port authorities.",
           "countries": ["TH"], "themes": ["protection"],
           "start_date": format!("{}-01-01", 2030 + round % 40), "end_date": format!("{}-06-30", 2030 + round % 40)})
}

async fn record(app: &TestApp, session: &Session, body: &Value) -> Reply {
    app.post("/api/v1/activities", &session.access, body).await
}

async fn racing_primary_designations_leave_one_current_primary(app: &TestApp) {
    let admin = app.admin().await;
    for round in 0..ROUNDS {
        let person = |n: usize| {
            json!({"role": "primary", "name": format!("Racer {round} {n}"),
                   "email": format!("racer.{round}.{n}@unhcr.org")})
        };
        let path = "/api/v1/agencies/UNHCR/focal-points";
        let (one, two) = (person(1), person(2));
        let (a, b) = tokio::join!(
            app.post(path, &admin.access, &one),
            app.post(path, &admin.access, &two),
        );
        // Each ends the primary before it: both are designations, one after the other.
        assert_eq!(
            (a.status, b.status),
            (StatusCode::CREATED, StatusCode::CREATED),
            "round {round}: {} / {}",
            a.text,
            b.text
        );
        let current = app
            .get(
                "/api/v1/focal-points?agency=UNHCR&role=primary",
                &admin.access,
            )
            .await;
        assert_eq!(current.body["total"], 1, "round {round}: {}", current.text);
    }
}

async fn racing_identical_records_save_one(app: &TestApp) {
    let unodc = app.user("editor", Some("UNODC")).await;
    for round in 0..ROUNDS {
        let body = activity(&format!("Port inspection campaign {round}"), round);
        let (a, b, c) = tokio::join!(
            record(app, &unodc, &body),
            record(app, &unodc, &body),
            record(app, &unodc, &body)
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16(), c.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [201, 409, 409],
            "round {round}: {} / {} / {}",
            a.text,
            b.text,
            c.text
        );
        let saved = [&a, &b, &c]
            .into_iter()
            .find(|r| r.status == StatusCode::CREATED);
        let saved_id = saved.map(|r| r.body["activity"]["id"].clone());
        for r in [&a, &b, &c]
            .into_iter()
            .filter(|r| r.status == StatusCode::CONFLICT)
        {
            assert_eq!(r.code(), "duplicate_activity");
            assert_eq!(
                Some(r.body["existing_id"].clone()),
                saved_id,
                "round {round}"
            );
        }
    }
    assert_eq!(app.activity_count(&unodc).await, ROUNDS as i64);
}

async fn racing_reviews_of_one_pair_leave_one_review(app: &TestApp) {
    let unodc = app.user("editor", Some("UNODC")).await;
    let iom = app.user("editor", Some("IOM")).await;
    for round in 0..ROUNDS {
        let title =
            format!("Port inspection campaign for fishing vessels in Thailand, phase {round}");
        let a = record(app, &unodc, &activity(&title, round)).await;
        let b = record(app, &iom, &activity(&title, round)).await;
        assert_eq!(
            (a.status, b.status),
            (StatusCode::CREATED, StatusCode::CREATED),
            "{} / {}",
            a.text,
            b.text
        );
        let ids = json!([a.body["activity"]["id"], b.body["activity"]["id"]]);
        let review = |decision: &str| json!({"activity_ids": ids, "decision": decision, "note": format!("round {round}")});
        let (first, second) = (review("duplicate"), review("coordinated"));
        let path = "/api/v1/reports/duplicates/reviews";
        let (x, y) = tokio::join!(
            app.post(path, &unodc.access, &first),
            app.post(path, &iom.access, &second),
        );
        // Both are answered as reviews (the later replaces the earlier); never a 5xx.
        assert_eq!(
            (x.status, y.status),
            (StatusCode::CREATED, StatusCode::CREATED),
            "round {round}: {} / {}",
            x.text,
            y.text
        );
    }
    let reviews = app
        .fingerprint()
        .await
        .into_iter()
        .find(|(table, ..)| table == "pair_reviews");
    assert_eq!(
        reviews.map(|(_, n, _)| n),
        Some(ROUNDS as i64),
        "one review per pair"
    );
}

async fn racing_requests_with_one_idempotency_key_save_one_and_answer_alike(app: &TestApp) {
    let unodc = app.user("editor", Some("UNODC")).await;
    for round in 0..ROUNDS {
        let body = activity(&format!("Port inspection campaign {round}"), round);
        let key = format!("race-{round}");
        let headers = [("idempotency-key", key.as_str())];
        let send = || {
            app.send(
                Method::POST,
                "/api/v1/activities",
                Some(&unodc.access),
                Some(&body),
                &headers,
            )
        };
        let (a, b, c) = tokio::join!(send(), send(), send());
        // The one saved, and the first answer replayed to the others.
        for r in [&a, &b, &c] {
            assert_eq!(r.status, StatusCode::CREATED, "round {round}: {}", r.text);
            assert_eq!(
                r.body["activity"]["id"], a.body["activity"]["id"],
                "round {round}"
            );
        }
    }
    assert_eq!(app.activity_count(&unodc).await, ROUNDS as i64);
}
