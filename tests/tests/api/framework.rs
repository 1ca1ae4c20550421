use icat_tests::{TestApp, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::Value;

on_both_backends!(
    framework_errors_are_problem_details,
    responses_carry_security_headers_and_request_ids,
    the_openapi_document_lists_every_route,
    health_and_readiness,
    the_web_front_end_is_served,
    vocabularies_list_what_the_api_accepts,
);

async fn vocabularies_list_what_the_api_accepts(app: &TestApp) {
    let r = app
        .send(Method::GET, "/api/v1/vocabularies", None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let viewer = app.user("viewer", Some("IOM")).await;
    let r = app.get("/api/v1/vocabularies", &viewer.access).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let countries = r.body["countries"].as_array().cloned().unwrap_or_default();
    assert_eq!(countries.len(), 249);
    assert!(countries.iter().any(|c| c == "NG"));
    assert_eq!(
        r.body["themes"],
        serde_json::json!(["prevention", "protection", "prosecution", "partnerships"])
    );
    assert_eq!(
        r.body["sdg_targets"],
        serde_json::json!(["5.2", "8.7", "16.2"])
    );
    assert_eq!(
        r.body["review_decisions"],
        serde_json::json!(["duplicate", "not_duplicate", "coordinated"])
    );
}

async fn framework_errors_are_problem_details(app: &TestApp) {
    let admin = app.admin().await;
    let r = app.get("/api/v1/nothing-here", &admin.access).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "not_found");

    let r = app
        .send(
            Method::DELETE,
            "/api/v1/agencies",
            Some(&admin.access),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.code(), "method_not_allowed");
    assert_eq!(r.header("allow"), Some("GET, POST"));
    let r = app
        .send(
            Method::PUT,
            "/api/v1/users/some-id",
            Some(&admin.access),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.header("allow"), Some("GET, PATCH"));

    let url = format!("{}/api/v1/agencies", app.base);
    let raw = |body: &'static str, content_type: &'static str| {
        app.client
            .post(&url)
            .bearer_auth(&admin.access)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let check = |res: reqwest::Response, status: u16, code: &'static str| async move {
        assert_eq!(res.status().as_u16(), status);
        assert_eq!(
            res.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        let body: Value = res.json().await.unwrap_or_default();
        assert_eq!(body["code"], code);
        assert_eq!(body["status"], status);
        assert!(body["type"].as_str().is_some_and(|t| t.ends_with(code)));
        assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    };
    check(
        raw("{\"acronym\":", "application/json")
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        400,
        "validation_failed",
    )
    .await;
    check(
        raw("acronym=X", "application/x-www-form-urlencoded")
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        415,
        "unsupported_media_type",
    )
    .await;
    check(
        raw("<agency/>", "text/xml")
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        415,
        "unsupported_media_type",
    )
    .await;
    let huge = format!(
        "{{\"acronym\":\"X\",\"name\":\"{}\",\"kind\":\"other\"}}",
        "n".repeat(200_000)
    );
    let res = app
        .client
        .post(&url)
        .bearer_auth(&admin.access)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    check(res, 413, "payload_too_large").await;
    let res = app
        .client
        .post(&url)
        .bearer_auth(&admin.access)
        .header("content-type", "application/json")
        .body("[1,2]")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    check(res, 400, "validation_failed").await;
}

async fn responses_carry_security_headers_and_request_ids(app: &TestApp) {
    let admin = app.admin().await;
    for r in [
        app.get("/api/v1/agencies", &admin.access).await,
        app.get("/api/v1/nothing", &admin.access).await,
        app.send(Method::GET, "/", None, None, &[]).await,
    ] {
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        assert!(r.header("x-request-id").is_some_and(|id| id.len() >= 32));
    }
    let a = app.get("/api/v1/agencies", &admin.access).await;
    let b = app.get("/api/v1/agencies", &admin.access).await;
    assert_ne!(a.header("x-request-id"), b.header("x-request-id"));
    assert_eq!(a.header("cache-control"), Some("no-store"));
}

async fn the_openapi_document_lists_every_route(app: &TestApp) {
    let r = app
        .send(Method::GET, "/api/openapi.json", None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );
    let expected = [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/refresh", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/auth/me", "get"),
        ("/api/v1/auth/password", "post"),
        ("/api/v1/users", "get"),
        ("/api/v1/users", "post"),
        ("/api/v1/users/{id}", "get"),
        ("/api/v1/users/{id}", "patch"),
        ("/api/v1/agencies", "get"),
        ("/api/v1/agencies", "post"),
        ("/api/v1/agencies/{id}", "get"),
        ("/api/v1/agencies/{id}", "patch"),
        ("/api/v1/audit", "get"),
        ("/api/v1/focal-points", "get"),
        ("/api/v1/agencies/{id}/focal-points", "post"),
        ("/api/v1/focal-points/{id}", "get"),
        ("/api/v1/focal-points/{id}", "patch"),
        ("/api/v1/focal-points/{id}/end", "post"),
        ("/api/v1/focal-points/{id}/confirm", "post"),
        ("/api/v1/focal-points/{id}/vcard", "get"),
        ("/api/v1/focal-points/export.vcf", "get"),
        ("/api/v1/focal-points/export.csv", "get"),
        ("/api/v1/reports/focal-point-coverage", "get"),
        ("/api/v1/activities", "post"),
        ("/api/v1/activities", "get"),
        ("/api/v1/activities/check", "post"),
        ("/api/v1/activities/{id}", "get"),
        ("/api/v1/activities/{id}/matches", "get"),
        ("/api/v1/activities/{id}", "patch"),
        ("/api/v1/activities/{id}", "delete"),
        ("/api/v1/activities/import", "post"),
        ("/api/v1/activities/export.csv", "get"),
        ("/api/v1/reports/duplicates", "get"),
        ("/api/v1/reports/duplicates/model", "get"),
        ("/api/v1/reports/duplicates/reviews", "post"),
        ("/api/v1/reports/participation", "get"),
        ("/api/v1/reports/summary", "get"),
        ("/api/v1/vocabularies", "get"),
        ("/api/v1/notifications", "get"),
        ("/api/v1/notifications/{id}/read", "post"),
        ("/api/v1/notifications/read-all", "post"),
        ("/api/v1/me/notification-settings", "get"),
        ("/api/v1/me/notification-settings", "put"),
        ("/api/v1/mail", "get"),
        ("/api/v1/unsubscribe", "get"),
        ("/api/v1/unsubscribe", "post"),
        ("/api/v1/reminders", "post"),
        ("/api/v1/auth/password-reset", "post"),
        ("/api/v1/auth/password-reset/confirm", "post"),
        ("/api/v1/users/{id}/password-reset", "post"),
        ("/api/v1/reports/countries", "get"),
        ("/api/v1/countries/{code}/timeline", "get"),
    ];
    for (path, method) in expected {
        assert!(
            r.body["paths"][path][method].is_object(),
            "{method} {path} is not documented"
        );
    }
    let documented: usize = r.body["paths"]
        .as_object()
        .map(|p| {
            p.values()
                .map(|item| item.as_object().map_or(0, |o| o.len()))
                .sum()
        })
        .unwrap_or(0);
    assert_eq!(
        documented,
        expected.len(),
        "undocumented or unexpected operations"
    );
    assert_eq!(
        r.body["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for schema in [
        "Problem",
        "Agency",
        "User",
        "TokenResponse",
        "Event",
        "FocalPoint",
        "Coverage",
        "Activity",
        "Match",
        "Recorded",
        "Report",
    ] {
        assert!(
            r.body["components"]["schemas"][schema].is_object(),
            "schema {schema}"
        );
    }
}

async fn health_and_readiness(app: &TestApp) {
    let r = app.send(Method::GET, "/healthz", None, None, &[]).await;
    assert_eq!(
        (r.status, r.body.clone()),
        (StatusCode::OK, serde_json::json!({"status": "ok"}))
    );
    let r = app.send(Method::GET, "/readyz", None, None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "ready");
}

async fn the_web_front_end_is_served(app: &TestApp) {
    let r = app.send(Method::GET, "/", None, None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    assert!(r.text.contains("ICAT Workspace"));
    assert!(!r.text.contains("<script>"), "no inline scripts");
    // The modules the entry point imports are served too, as JavaScript.
    let module = app.send(Method::GET, "/js/api.js", None, None, &[]).await;
    assert_eq!(module.status, StatusCode::OK);
    assert!(module.text.contains("export async function request"));
    let js = app.send(Method::GET, "/app.js", None, None, &[]).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(
        js.header("content-type")
            .is_some_and(|c| c.contains("javascript"))
    );
    let r = app
        .send(Method::GET, "/no-such-page.html", None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
