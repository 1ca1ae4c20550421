//! Input that used to pass and lose or change data: text with nothing readable in it, list
//! items holding the CSV list separator, CSV files with repeated or nameless columns, and
//! request bodies under a content coding; and HEAD, which monitors probe with. Every refusal names
//! its rule by a stable code with the values a client needs to word it in its own language.

use icat_tests::{Reply, Session, TestApp, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    invisible_text_and_list_separators_are_refused,
    csv_files_with_repeated_or_nameless_columns_are_refused_whole,
    coded_request_bodies_get_415_on_every_route_with_a_body,
    head_answers_as_get_without_the_body_on_every_get_route,
    values_starting_with_an_apostrophe_survive_export_and_import,
    every_broken_rule_comes_back_at_once_with_its_code_and_parameters,
);

fn activity(title: &str, description: &str, partners: &[&str]) -> Value {
    json!({"title": title, "description": description, "countries": ["NG"],
           "themes": ["prevention"], "partners": partners,
           "start_date": "2026-01-01", "end_date": "2026-12-31"})
}

fn fields(r: &Reply) -> Vec<String> {
    r.body["errors"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn invisible_text_and_list_separators_are_refused(app: &TestApp) {
    let editor = app.user("editor", Some("UNODC")).await;
    for (body, field) in [
        (
            activity("\u{200b}\u{200b}\u{200b}", "Workshops for judges", &[]),
            "title",
        ),
        (
            activity("Training of judges", "\u{2060}", &[]),
            "description",
        ),
        (
            activity(
                "Training of judges",
                "Workshops for judges",
                &["Save the Children; Sweden"],
            ),
            "partners",
        ),
    ] {
        let r = app.post("/api/v1/activities", &editor.access, &body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.code(), "validation_failed", "{}", r.text);
        assert_eq!(fields(&r), [field], "{}", r.text);
    }
    assert_eq!(app.activity_count(&editor).await, 0, "nothing saved");
    // Readable text with invisible characters inside it is kept as sent.
    let r = app
        .post(
            "/api/v1/activities",
            &editor.access,
            &activity(
                "Training\u{200b} of judges",
                "Workshops",
                &["Save the Children"],
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // Other text fields follow the same rule: a focal point's name.
    let admin = app.admin().await;
    let unodc = app.agency_id("UNODC").await;
    let r = app
        .post(
            &format!("/api/v1/agencies/{unodc}/focal-points"),
            &admin.access,
            &json!({"name": "\u{200b}", "email": "fp@unodc.example", "role": "primary"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(fields(&r).contains(&"name".to_owned()), "{}", r.text);
}

async fn import(app: &TestApp, session: &Session, csv: &str) -> Reply {
    app.import_csv(session, csv).await
}

async fn csv_files_with_repeated_or_nameless_columns_are_refused_whole(app: &TestApp) {
    let editor = app.user("editor", Some("UNODC")).await;
    let row =
        "Border officials training,Identification at borders,NG,prevention,2026-05-01,2026-09-30";
    let twice = format!(
        "title,description,countries,themes,start_date,end_date,title\n{row},Another title\n"
    );
    let r = import(app, &editor, &twice).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(fields(&r), ["title"], "{}", r.text);
    assert!(r.text.contains("named twice"), "{}", r.text);
    let nameless = format!("title,description,countries,themes,start_date,end_date,\n{row},x\n");
    let r = import(app, &editor, &nameless).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(fields(&r), ["column 7"], "{}", r.text);
    assert_eq!(app.activity_count(&editor).await, 0, "nothing saved");
    // The same file with its columns named once goes in.
    let once = format!("title,description,countries,themes,start_date,end_date\n{row}\n");
    let r = import(app, &editor, &once).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(app.activity_count(&editor).await, 1);
}

async fn coded_request_bodies_get_415_on_every_route_with_a_body(app: &TestApp) {
    let admin = app.admin().await;
    let before = app.fingerprint().await;
    let mut tried = 0;
    for (method, path, operation) in app.operations().await {
        if operation.get("requestBody").is_none() {
            continue;
        }
        let path = path.replace("{id}", "00000000-0000-0000-0000-000000000000");
        for coding in ["gzip", "br", "identity, gzip"] {
            let r = app
                .send(
                    method.clone(),
                    &path,
                    Some(&admin.access),
                    Some(&json!({})),
                    &[("content-encoding", coding)],
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{method} {path} with {coding}: {}",
                r.text
            );
            assert_eq!(r.code(), "unsupported_media_type", "{}", r.text);
            assert_eq!(r.header("accept-encoding"), Some("identity"));
            tried += 1;
        }
    }
    assert!(tried >= 30, "only {tried} requests tried");
    assert_eq!(app.fingerprint().await, before, "nothing changed");
    // `identity` is no coding at all.
    let r = app
        .send(
            Method::POST,
            "/api/v1/activities/check",
            Some(&admin.access),
            Some(&json!({"agency_id": app.agency_id("UNODC").await,
                         "title": "Training of judges", "description": "Workshops",
                         "countries": ["NG"], "themes": ["prevention"],
                         "start_date": "2026-01-01", "end_date": "2026-12-31"})),
            &[("content-encoding", "identity")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

async fn head_answers_as_get_without_the_body_on_every_get_route(app: &TestApp) {
    let admin = app.admin().await;
    let mut tried = 0;
    let mut paths: Vec<String> = vec!["/".into(), "/app.js".into()];
    for (method, path, _) in app.operations().await {
        if method == Method::GET {
            paths.push(path);
        }
    }
    for path in paths {
        // Every path parameter gets an id no record has: a 404 is an answer like any other.
        let path: String = path
            .split('/')
            .map(|part| {
                if part.starts_with('{') {
                    "00000000-0000-0000-0000-000000000000"
                } else {
                    part
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for token in [None, Some(admin.access.as_str())] {
            let get = app.send(Method::GET, &path, token, None, &[]).await;
            let head = app.send(Method::HEAD, &path, token, None, &[]).await;
            assert_eq!(head.status, get.status, "HEAD {path}: {}", get.text);
            assert_eq!(head.text, "", "HEAD {path} sends no body");
            assert_eq!(
                head.header("content-type"),
                get.header("content-type"),
                "HEAD {path}"
            );
            if let Some(length) = get.header("content-length") {
                assert_eq!(head.header("content-length"), Some(length), "HEAD {path}");
            }
            tried += 1;
        }
    }
    assert!(tried >= 40, "only {tried} requests tried");
    // A route without GET answers HEAD as it answers GET: 405 with the methods it has.
    let head = app
        .send(Method::HEAD, "/api/v1/auth/login", None, None, &[])
        .await;
    assert_eq!(head.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(head.header("allow"), Some("POST"));
}

async fn values_starting_with_an_apostrophe_survive_export_and_import(app: &TestApp) {
    let unodc = app.user("editor", Some("UNODC")).await;
    let values = [
        "'=not a formula",
        "'quoted from a report'",
        "=SUM(1,2) as text",
    ];
    let body = json!({"title": values[0], "description": values[1], "countries": ["NG"],
                      "themes": ["prevention"], "partners": [values[2]],
                      "start_date": "2026-01-01", "end_date": "2026-12-31"});
    let r = app.post("/api/v1/activities", &unodc.access, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["activity"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let export = app
        .get("/api/v1/activities/export.csv", &unodc.access)
        .await;
    assert!(export.text.contains("''=not a formula"), "{}", export.text);
    // The activity is archived, then imported back from the export: every value as it was.
    let path = format!("/api/v1/activities/{id}");
    let version = r.body["activity"]["version"].as_i64().unwrap_or_default();
    let gone = app
        .send(
            Method::DELETE,
            &path,
            Some(&unodc.access),
            None,
            &[("if-match", &format!("\"{version}\""))],
        )
        .await;
    assert!(gone.status.is_success(), "{}", gone.text);
    let r = import(app, &unodc, &export.text).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["created"], 1, "{}", r.text);
    let mine = app.get("/api/v1/activities", &unodc.access).await;
    let got = &mine.body["items"][0];
    assert_eq!(got["title"], values[0], "{}", mine.text);
    assert_eq!(got["description"], values[1], "{}", mine.text);
    assert_eq!(got["partners"], json!([values[2]]), "{}", mine.text);
}

/// What a form in French or Spanish needs: every field's complaint in one answer, each with the
/// code of its rule and that rule's parameters (the English `message` is for people reading JSON).
async fn every_broken_rule_comes_back_at_once_with_its_code_and_parameters(app: &TestApp) {
    let editor = app.user("editor", Some("UNODC")).await;
    let body = json!({"title": "ab", "description": "   ", "countries": [], "themes": ["rescue"],
                      "sdg_targets": ["8.7"], "partners": ["A; B"], "start_date": "2027-05-01",
                      "end_date": "2027-04-01", "status": "paused", "budget_usd": 10.5});
    let r = app.post("/api/v1/activities", &editor.access, &body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let got: Vec<(String, String, Value)> = r.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
            (
                e["field"].as_str().unwrap_or_default().to_owned(),
                e["code"].as_str().unwrap_or_default().to_owned(),
                e.get("params").cloned().unwrap_or(json!({})),
            )
        })
        .collect();
    let want = [
        ("title", "too_short", json!({"min": 5})),
        ("description", "required", json!({})),
        ("countries", "required", json!({})),
        (
            "themes",
            "not_allowed",
            json!({"value": "rescue", "allowed": ["prevention", "protection", "prosecution", "partnerships"]}),
        ),
        ("partners", "separator", json!({"value": "A; B", "separator": ";"})),
        ("end_date", "before", json!({"other": "start_date"})),
        (
            "status",
            "not_allowed",
            json!({"value": "paused", "allowed": ["planned", "ongoing", "completed", "cancelled"]}),
        ),
        ("budget_usd", "not_whole", json!({})),
    ]
    .map(|(f, c, p)| (f.to_owned(), c.to_owned(), p));
    assert_eq!(got, want, "{}", r.text);
    // Lengths and dates name their bounds; a title of five characters is enough.
    let mut body = activity(&"t".repeat(301), "Workshops for judges", &[]);
    body["start_date"] = json!("0999-01-01");
    body["end_date"] = json!("2027-02-30");
    let r = app.post("/api/v1/activities", &editor.access, &body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let errors = &r.body["errors"];
    assert_eq!(errors[0]["code"], "too_long", "{}", r.text);
    assert_eq!(errors[0]["params"], json!({"max": 300}));
    assert_eq!(errors[1]["code"], "out_of_range", "{}", r.text);
    assert_eq!(errors[1]["params"], json!({"min": 1990, "max": 2100}));
    assert_eq!(errors[2]["code"], "not_a_date", "{}", r.text);
    assert_eq!(app.activity_count(&editor).await, 0, "nothing saved");
    let r = app
        .post(
            "/api/v1/activities",
            &editor.access,
            &activity("Fiver", "Workshops for judges", &[]),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // An admin who names no agency hears it together with the rest.
    let admin = app.admin().await;
    for path in ["/api/v1/activities", "/api/v1/activities/check"] {
        let mut body = activity("ab", "Workshops for judges", &[]);
        body["themes"] = json!([]);
        let r = app.post(path, &admin.access, &body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(
            fields(&r),
            ["agency_id", "title", "themes"],
            "{path}: {}",
            r.text
        );
    }
    // The other forms follow suit: a focal point's e-mail address and telephone.
    let unodc = app.agency_id("UNODC").await;
    let r = app
        .post(
            &format!("/api/v1/agencies/{unodc}/focal-points"),
            &admin.access,
            &json!({"name": "Ana Diaz", "email": "ana", "phone": "call me", "role": "chief"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let codes: Vec<(&str, &str)> = r.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or(""),
                e["code"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("role", "not_allowed"),
            ("email", "not_an_email"),
            ("phone", "not_a_phone")
        ],
        "{}",
        r.text
    );
}
