//! Token probes beyond the basics of auth.rs: tokens signed with another key, claims missing or
//! wrong, a refresh token presented as an access token; and the size and type limits of bodies.

use icat_tests::{TestApp, on_both_backends};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    forged_and_incomplete_tokens_are_refused,
    bodies_are_bounded_and_json_only
);

/// The key the test servers sign with (see `TestApp::start_with`).
const SECRET: &str = "test-secret-test-secret-test-secret-0123";

async fn forged_and_incomplete_tokens_are_refused(app: &TestApp) {
    let admin = app.admin().await;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&["icat-api"]);
    let claims: Value = jsonwebtoken::decode::<Value>(
        &admin.access,
        &DecodingKey::from_secret(SECRET.as_bytes()).unwrap_or_else(|e| panic!("{e}")),
        &validation,
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .claims;
    // The genuine token works: the probes below fail for what they change, not by accident.
    assert_eq!(
        app.get("/api/v1/audit", &admin.access).await.status,
        StatusCode::OK
    );
    let sign = |claims: &Value, key: &str, alg: Algorithm| {
        jsonwebtoken::encode(
            &Header::new(alg),
            claims,
            &EncodingKey::from_secret(key.as_bytes()).unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let now = chrono::Utc::now().timestamp();
    let mut probes: Vec<(&str, String)> = vec![
        (
            "another key",
            sign(
                &claims,
                "another-secret-another-secret-0123456789",
                Algorithm::HS256,
            ),
        ),
        (
            "HS512 with the right key",
            sign(&claims, SECRET, Algorithm::HS512),
        ),
        ("the refresh token as a bearer", admin.refresh.clone()),
    ];
    let changed = [
        ("no exp", "exp", Value::Null),
        ("expired an hour ago", "exp", json!(now - 3600)),
        ("another audience", "aud", json!("another-api")),
        ("another issuer", "iss", json!("someone-else")),
        ("no session", "sid", Value::Null),
        (
            "another user",
            "sub",
            json!("00000000-0000-0000-0000-000000000000"),
        ),
        (
            "another session",
            "sid",
            json!("00000000-0000-0000-0000-000000000000"),
        ),
    ];
    for (what, field, value) in changed {
        let mut c = claims.clone();
        if value.is_null() {
            c.as_object_mut().map(|o| o.remove(field));
        } else {
            c[field] = value;
        }
        probes.push((what, sign(&c, SECRET, Algorithm::HS256)));
    }
    for (what, token) in probes {
        let r = app.get("/api/v1/audit", &token).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {}", r.text);
        assert_eq!(r.code(), "unauthorized", "{what}");
    }
}

async fn bodies_are_bounded_and_json_only(app: &TestApp) {
    let editor = app.user("editor", Some("UNODC")).await;
    let big = json!({"title": "x".repeat(70_000), "description": "d", "countries": ["NG"],
                     "themes": ["prevention"], "start_date": "2027-01-01", "end_date": "2027-02-01"});
    let before = app.fingerprint().await;
    let r = app.post("/api/v1/activities", &editor.access, &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    assert_eq!(r.code(), "payload_too_large");
    let body = r#"{"title": "t"}"#;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "text/csv",
    ] {
        let r = icat_tests::Reply::of(
            app.client
                .request(Method::POST, format!("{}/api/v1/activities", app.base))
                .bearer_auth(&editor.access)
                .header("content-type", content_type)
                .body(body),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}"
        );
        assert_eq!(r.code(), "unsupported_media_type");
    }
    assert_eq!(app.fingerprint().await, before, "nothing was written");
    for list in [
        "/api/v1/activities",
        "/api/v1/focal-points",
        "/api/v1/agencies",
        "/api/v1/users",
        "/api/v1/audit",
    ] {
        let admin = app.admin().await;
        for bad in ["per_page=101", "per_page=0", "page=0", "page=abc"] {
            let r = app.get(&format!("{list}?{bad}"), &admin.access).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{list}?{bad}");
        }
        let r = app
            .get(&format!("{list}?q={}", "a".repeat(501)), &admin.access)
            .await;
        if list != "/api/v1/audit" {
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{list} with a long q");
        }
    }
}
