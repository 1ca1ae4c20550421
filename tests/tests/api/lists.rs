//! Lists and exports at more than a page: keyset pages (`after=`), the streamed CSV export, and
//! the request guard that refuses control characters in any path or query parameter.

use icat_tests::{Session, TestApp, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashSet;

on_both_backends!(
    keyset_pages_cover_every_match_once_while_activities_are_recorded,
    a_search_lists_title_matches_first_on_every_kind_of_page,
    the_streamed_export_holds_every_activity_and_round_trips,
    control_characters_in_any_path_or_query_parameter_are_400,
    activity_dates_outside_1990_to_2100_are_refused,
);

fn activity(title: &str, start: &str) -> Value {
    json!({"title": title, "description": "Workshops for labour inspectors.",
           "countries": ["KE"], "themes": ["protection"],
           "start_date": start, "end_date": "2030-12-31"})
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["id"].as_str().map(str::to_owned))
        .collect()
}

/// Walks a list by its cursors, `per_page` at a time, calling `between` after each page.
async fn walk(
    app: &TestApp,
    session: &Session,
    query: &str,
    mut between: impl AsyncFnMut(),
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut path = format!("/api/v1/activities?{query}");
    for _ in 0..1000 {
        let r = app.get(&path, &session.access).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        seen.extend(ids(&r.body));
        between().await;
        match r.body["next"].as_str() {
            Some(next) => path = format!("/api/v1/activities?{query}&after={next}"),
            None => return seen,
        }
    }
    panic!("the cursor never ended");
}

async fn keyset_pages_cover_every_match_once_while_activities_are_recorded(app: &TestApp) {
    let unodc = app.user("editor", Some("UNODC")).await;
    // Three share a start date: the cursor must order them by more than the date.
    let starts = [
        "2027-03-01",
        "2027-03-01",
        "2027-03-01",
        "2026-01-15",
        "2028-07-01",
        "2025-05-05",
        "2027-03-02",
    ];
    for (i, start) in starts.iter().enumerate() {
        let r = app
            .post(
                "/api/v1/activities",
                &unodc.access,
                &activity(&format!("Inspector course number {i}"), start),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    // The numbered pages give the order; the cursor pages must give the same.
    let numbered = app
        .get("/api/v1/activities?per_page=100", &unodc.access)
        .await;
    let order = ids(&numbered.body);
    assert_eq!(order.len(), starts.len());
    let dates: Vec<&str> = numbered.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["start_date"].as_str())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted, "newest start first");
    assert_eq!(walk(app, &unodc, "per_page=2", async || {}).await, order);
    // Activities recorded while a reader walks: each page carries on where the last one ended,
    // no activity comes twice and none that was there is missed.
    let mut recorded = 0;
    let seen = walk(app, &unodc, "per_page=2", async || {
        recorded += 1;
        let start = if recorded % 2 == 0 {
            "2030-06-01"
        } else {
            "2020-01-01"
        };
        let r = app
            .post(
                "/api/v1/activities",
                &unodc.access,
                &activity(&format!("Recorded while walking {recorded}"), start),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    })
    .await;
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no activity twice: {seen:?}");
    assert!(
        order.iter().all(|id| unique.contains(id)),
        "every earlier activity seen"
    );
    // Filters hold along the cursor; the count is of every match, not of those after it.
    let page = app
        .get("/api/v1/activities?per_page=1&country=KE", &unodc.access)
        .await;
    let total = page.body["total"].as_i64();
    let next = page.body["next"].as_str().unwrap_or_default().to_owned();
    let second = app
        .get(
            &format!("/api/v1/activities?per_page=1&country=KE&after={next}"),
            &unodc.access,
        )
        .await;
    assert_eq!(second.body["total"].as_i64(), total);
    assert_eq!(
        walk(app, &unodc, "per_page=3&country=FR", async || {})
            .await
            .len(),
        0
    );
    // A cursor is the list's own or nothing; it does not mix with page numbers.
    // Not shaped like a cursor: 400; shaped like one but naming no day, or beside `page`: 422.
    for (bad, status) in [
        ("after=yesterday", StatusCode::BAD_REQUEST),
        ("after=2027-03-01.not-an-id", StatusCode::BAD_REQUEST),
        (
            "after=2027-13-01.0193a0e2-0000-7000-8000-000000000000",
            StatusCode::BAD_REQUEST,
        ),
        (
            "after=2027-02-30.0193a0e2-0000-7000-8000-000000000000",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &format!("after={next}&page=2"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let r = app
            .get(&format!("/api/v1/activities?{bad}"), &unodc.access)
            .await;
        assert_eq!(r.status, status, "{bad}: {}", r.text);
        assert_eq!(r.code(), "validation_failed");
    }
}

async fn a_search_lists_title_matches_first_on_every_kind_of_page(app: &TestApp) {
    let unodc = app.user("editor", Some("UNODC")).await;
    let record = async |title: &str, description: &str, start: &str| -> String {
        let mut body = activity(title, start);
        body["description"] = json!(description);
        let r = app.post("/api/v1/activities", &unodc.access, &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body["activity"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    // "train border": both words begin words of the first two titles (the first rank, newest
    // first), only of the texts of the next two (the second rank, newest first, although they
    // start later than the first rank's), and of the last one not at all.
    let officials = record("Training of border officials", "Two weeks.", "2026-01-01").await;
    let police = record("Border police trainers", "A joint exercise.", "2025-01-01").await;
    let inspectors = record(
        "Workshops for labour inspectors",
        "Training at the border crossing.",
        "2030-01-01",
    )
    .await;
    let shelter = record("Shelter training", "Near the border.", "2029-01-01").await;
    record(
        "Shelter management",
        "Case files for social workers.",
        "2030-06-01",
    )
    .await;
    // A title written before the title index existed (NULL): found, but never in the first rank,
    // until start-up fills it.
    let unfilled = record("Border training manual", "Printed.", "2024-01-01").await;
    let id = unfilled.clone();
    app.db
        .run(move |conn| {
            use diesel::prelude::*;
            use icat_store::schema::activities;
            diesel::update(activities::table.find(id))
                .set(activities::title_terms.eq(None::<String>))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let expected = [&officials, &police, &inspectors, &shelter, &unfilled].map(String::clone);
    let query = "q=train%20BORDER";
    let all = app
        .get(
            &format!("/api/v1/activities?{query}&per_page=100"),
            &unodc.access,
        )
        .await;
    assert_eq!(ids(&all.body), expected, "{}", all.text);
    assert_eq!(all.body["total"], 5);
    // Numbered pages of every size, including pages that begin in the second rank and a page
    // past the end, give the same order.
    for per_page in 1..=6 {
        let mut seen = Vec::new();
        for page in 1..=6 {
            let r = app
                .get(
                    &format!("/api/v1/activities?{query}&per_page={per_page}&page={page}"),
                    &unodc.access,
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            assert_eq!(r.body["total"], 5, "per_page={per_page} page={page}");
            seen.extend(ids(&r.body));
        }
        assert_eq!(seen, expected, "numbered pages of {per_page}");
        // And so do cursors, across the two ranks.
        let walked = walk(
            app,
            &unodc,
            &format!("{query}&per_page={per_page}"),
            async || {},
        )
        .await;
        assert_eq!(walked, expected, "cursor pages of {per_page}");
    }
    // The streamed export of a search keeps the list's order.
    let csv = app
        .get(
            &format!("/api/v1/activities/export.csv?{query}"),
            &unodc.access,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let at: Vec<usize> = expected
        .iter()
        .map(|id| csv.text.find(id).unwrap_or(usize::MAX))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "export order {at:?}");
    // Filled at start-up: the title then ranks first (newest first: 2026, 2025, 2024).
    let filled = app
        .db
        .run(|conn| Ok(icat_activities::fill_title_terms(conn)?))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(filled, 1);
    let all = app
        .get(
            &format!("/api/v1/activities?{query}&per_page=100"),
            &unodc.access,
        )
        .await;
    assert_eq!(
        ids(&all.body),
        [&officials, &police, &unfilled, &inspectors, &shelter].map(String::clone)
    );
    // A cursor of the first rank is refused where it is malformed, like any other.
    let r = app
        .get(
            &format!(
                "/api/v1/activities?{query}&after=t.2027-13-01.0193a0e2-0000-7000-8000-000000000000"
            ),
            &unodc.access,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

async fn the_streamed_export_holds_every_activity_and_round_trips(app: &TestApp) {
    // More than two of the export's chunks of 1,000.
    app.seed_activities(2_500).await;
    let admin = app.admin().await;
    let r = app
        .get("/api/v1/activities/export.csv", &admin.access)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let mut reader = csv::Reader::from_reader(r.text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().filter_map(Result::ok).collect();
    assert!(
        rows[0].iter().all(|c| c.starts_with('#')),
        "one HXL row, under the header"
    );
    let exported: Vec<&str> = rows[1..].iter().map(|r| &r[0]).collect();
    assert!(
        !exported.iter().any(|id| id.starts_with('#')),
        "the header rows come once"
    );
    // Every activity once, in the list's order.
    let listed = walk(app, &admin, "per_page=100", async || {}).await;
    assert_eq!(listed.len(), 2_500);
    assert_eq!(
        exported,
        listed.iter().map(String::as_str).collect::<Vec<_>>()
    );
    // A list of more than a thousand matches is counted for one answer, then for ten seconds
    // gives that count again, marked as an estimate, until this server writes an activity; a
    // smaller list is counted every time (lists by country excepted: see below).
    // (A filter no earlier request here used: the walk above already counted the whole list.)
    let every = "/api/v1/activities?per_page=5&from=1990-01-01";
    let first = app.get(every, &admin.access).await;
    assert_eq!(first.body["total"], 2_500);
    assert_eq!(first.body.get("total_estimated"), None, "{}", first.text);
    let again = app.get(every, &admin.access).await;
    assert_eq!(again.body["total"], 2_500);
    assert_eq!(again.body["total_estimated"], true);
    assert_eq!(
        ids(&again.body),
        ids(&first.body),
        "the page itself is read afresh"
    );
    let small = app
        .get(
            "/api/v1/activities?per_page=5&sdg=5.2&from=2029-06-01",
            &admin.access,
        )
        .await;
    let small_again = app
        .get(
            "/api/v1/activities?per_page=5&sdg=5.2&from=2029-06-01",
            &admin.access,
        )
        .await;
    assert!(
        small.body["total"]
            .as_i64()
            .is_some_and(|n| n > 0 && n <= 1_000)
    );
    assert_eq!(small_again.body["total"], small.body["total"]);
    assert_eq!(small_again.body.get("total_estimated"), None);
    // A list filtered by country is read from the country's index (without status or text); with
    // a status it takes the general way: both give the same activities in the same order.
    for filter in [
        "country=NG",
        "country=NG&theme=protection",
        "country=BR&sdg=8.7&from=2028-01-01",
        "country=KE&agency=ICMPD&to=2029-06-30",
    ] {
        let by_country = walk(app, &admin, &format!("per_page=7&{filter}"), async || {}).await;
        let general = walk(
            app,
            &admin,
            &format!("per_page=7&{filter}&status=planned"),
            async || {},
        )
        .await;
        assert!(!by_country.is_empty(), "{filter}");
        assert_eq!(by_country, general, "{filter}");
        let page = app
            .get(
                &format!("/api/v1/activities?per_page=1&{filter}"),
                &admin.access,
            )
            .await;
        assert_eq!(page.body["total"], by_country.len(), "{filter}");
        assert_eq!(
            page.body["total_estimated"], true,
            "{filter}: the walk counted it"
        );
    }
    // A write on this server forgets the recent counts: the next answer counts afresh.
    let ke = "/api/v1/activities?per_page=1&country=KE";
    let before = app.get(ke, &admin.access).await.body["total"].as_i64();
    let agency = app.agency_id("ICMPD").await;
    let r = app
        .post(
            "/api/v1/activities",
            &admin.access,
            &json!({"agency_id": agency, "title": "Labour inspection in Mombasa port",
                    "description": "Inspections of recruitment in the port.", "countries": ["KE"],
                    "themes": ["protection"], "start_date": "2027-04-01", "end_date": "2027-09-30"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let after = app.get(ke, &admin.access).await;
    assert_eq!(after.body["total"].as_i64(), before.map(|n| n + 1));
    assert_eq!(after.body.get("total_estimated"), None, "counted afresh");
    // Filters stream too.
    let ng = app
        .get("/api/v1/activities?country=NG&per_page=1", &admin.access)
        .await;
    let r = app
        .get("/api/v1/activities/export.csv?country=NG", &admin.access)
        .await;
    let lines = csv::Reader::from_reader(r.text.as_bytes())
        .records()
        .count();
    assert_eq!(Some(lines as i64 - 1), ng.body["total"].as_i64());
    // Importing the whole export back repeats every activity: all skipped, nothing new.
    let back = app.import_csv(&admin, &r.text).await;
    let (status, body) = (back.status, back.body);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (
            body["created"].as_i64(),
            body["duplicates_skipped"].as_i64()
        ),
        (Some(0), Some(lines as i64 - 1))
    );
}

async fn control_characters_in_any_path_or_query_parameter_are_400(app: &TestApp) {
    let admin = app.admin().await;
    let before = app.fingerprint().await;
    let mut tried = 0;
    for (method, path, operation) in app.operations().await {
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let named = |place: &str| -> Vec<String> {
            parameters
                .iter()
                .filter(|p| p["in"] == place)
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect()
        };
        let sane = path.replace("{id}", "UNODC").replace("{code}", "NG");
        let mut targets: Vec<String> = Vec::new();
        for name in named("path") {
            for bad in ["%00", "a%0Ab", "%7F", "%C2%85"] {
                targets.push(
                    path.replace(&format!("{{{name}}}"), bad)
                        .replace("{id}", "UNODC")
                        .replace("{code}", "NG"),
                );
            }
        }
        for name in named("query") {
            for bad in ["%00", "x%0D%0Ay", "%1B"] {
                targets.push(format!("{sane}?{name}={bad}"));
            }
        }
        for target in targets {
            let r = app
                .send(
                    method.clone(),
                    &target,
                    Some(&admin.access),
                    Some(&json!({})),
                    &[],
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "{method} {target}: {}",
                r.text
            );
            assert_eq!(r.code(), "validation_failed", "{method} {target}");
            assert!(r.text.contains("control character"), "{}", r.text);
            tried += 1;
        }
    }
    assert!(tried >= 150, "only {tried} requests tried");
    // Routes the document leaves out are guarded alike, signed in or not.
    for target in [
        "/%00",
        "/api/v1/nothing%00here",
        "/healthz?x=%00",
        "/api/v1/agencies/UN%00ODC",
    ] {
        let r = app.send(Method::GET, target, None, None, &[]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{target}: {}", r.text);
    }
    assert_eq!(app.fingerprint().await, before, "nothing changed");
    // Percent signs and non-ASCII letters are not control characters.
    let r = app
        .get("/api/v1/activities?q=%25%20caf%C3%A9", &admin.access)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

async fn activity_dates_outside_1990_to_2100_are_refused(app: &TestApp) {
    let unodc = app.user("editor", Some("UNODC")).await;
    for (start, end) in [
        ("0000-01-01", "2027-01-01"),
        ("1989-12-31", "2027-01-01"),
        ("2027-01-01", "9999-12-31"),
        ("2027-01-01", "2101-01-01"),
    ] {
        let mut body = activity("Labour inspection course", start);
        body["end_date"] = json!(end);
        let r = app.post("/api/v1/activities", &unodc.access, &body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{start}..{end}: {}",
            r.text
        );
        assert!(r.text.contains("1990 to 2100"), "{}", r.text);
        let r = app
            .post("/api/v1/activities/check", &unodc.access, &body)
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "check {start}..{end}: {}",
            r.text
        );
    }
    // The same rule holds in a CSV import, and on the edges the dates go in.
    let csv = "title,description,countries,themes,start_date,end_date\nOld course,Inspectors,KE,protection,1900-01-01,1901-01-01\n";
    let r = app.import_csv(&unodc, csv).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(app.activity_count(&unodc).await, 0, "nothing saved");
    let mut body = activity("Labour inspection course", "1990-01-01");
    body["end_date"] = json!("2100-12-31");
    let r = app.post("/api/v1/activities", &unodc.access, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // An edit is held to it too.
    let id = r.body["activity"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let etag = app
        .get(&format!("/api/v1/activities/{id}"), &unodc.access)
        .await
        .etag();
    let r = app
        .patch(
            &format!("/api/v1/activities/{id}"),
            &unodc.access,
            &etag,
            &json!({"end_date": "3000-01-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
}
