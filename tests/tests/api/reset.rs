//! Forgotten passwords: the request answers alike for known and unknown addresses, the e-mailed link
//! (to a real SMTP server) works once and for 30 minutes, sets the password, ends every session and
//! is audited; requests are throttled; without a mail server an admin hands over a link.

use icat_tests::{Backend, MailSink, TestApp, on_both_backends, per_backend};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(without_a_mail_server_an_admin_hands_over_a_link);

per_backend!(
    known_and_unknown_addresses_answer_alike_and_the_link_works_once,
    links_expire_and_requests_are_throttled,
);

const NEW_PASSWORD: &str = "violet quarry lantern beneath";

async fn with_mail(backend: Backend, sink: &MailSink) -> Option<TestApp> {
    let url = sink.url();
    TestApp::start_with(backend, |s| {
        s.smtp_url = Some(url);
        s.public_url = "https://icat.example.org".into();
    })
    .await
}

async fn ask(app: &TestApp, email: &str) -> icat_tests::Reply {
    app.send(
        Method::POST,
        "/api/v1/auth/password-reset",
        None,
        Some(&json!({ "email": email })),
        &[],
    )
    .await
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> icat_tests::Reply {
    app.send(
        Method::POST,
        "/api/v1/auth/password-reset/confirm",
        None,
        Some(&json!({ "token": token, "new_password": password })),
        &[],
    )
    .await
}

fn token_of(url: &str) -> String {
    url.split("#/reset?token=")
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

async fn known_and_unknown_addresses_answer_alike_and_the_link_works_once(backend: Backend) {
    let sink = MailSink::start();
    let Some(app) = with_mail(backend, &sink).await else {
        return;
    };
    let editor = app.user("editor", Some("UNODC")).await;
    let email = editor.user["email"].as_str().unwrap_or_default().to_owned();
    let known = ask(&app, &email.to_uppercase()).await;
    let unknown = ask(&app, "nobody.here@icat.test").await;
    assert_eq!(known.status, StatusCode::ACCEPTED, "{}", known.text);
    assert_eq!(unknown.status, known.status);
    assert_eq!(unknown.text, known.text);
    let r = ask(&app, "not an address").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);

    // One e-mail, to the known address only, with no unsubscribe footer.
    let mail = sink.wait_for(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(sink.messages().len(), 1, "{:?}", sink.messages());
    assert_eq!(mail[0]["to"], json!([email]));
    assert_eq!(
        mail[0]["subject"],
        "[ICAT] Choose a new password for the ICAT Workspace"
    );
    assert_eq!(mail[0]["list_unsubscribe"], "");
    let text = mail[0]["text"].as_str().unwrap_or_default();
    assert!(text.contains("works once, for 30 minutes"), "{text}");
    assert!(
        text.contains("https://icat.example.org/#/reset?token="),
        "{text}"
    );
    let token = token_of(text);
    assert!(token.len() >= 40, "{text}");
    assert!(
        mail[0]["html"].as_str().is_some_and(|h| h.contains(&token)),
        "{mail:?}"
    );

    // The rules hold; a bad token is refused; then the link sets the password, once.
    let r = confirm(&app, &token, "password1234").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["errors"][0]["code"], "weak_password");
    let r = confirm(&app, "not-the-token", NEW_PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["errors"][0]["field"], "token");
    let r = confirm(&app, &token, NEW_PASSWORD).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    // Every session of the account ended.
    let r = app.get("/api/v1/auth/me", &editor.access).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let r = app
        .send(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(&json!({"refresh_token": editor.refresh})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(
        app.try_login(&email, icat_tests::PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    app.login(&email, NEW_PASSWORD).await;
    let r = confirm(&app, &token, "another violet quarry lantern").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(
        app.audit_count("request_password_reset", "success").await,
        1
    );
    assert_eq!(app.audit_count("reset_password", "success").await, 1);
    // Once sent, the outbox keeps nothing of the link (its outcome is recorded a moment after the
    // mail server answered).
    let mut params: Vec<String> = Vec::new();
    for _ in 0..50 {
        params = app
            .db
            .run(|conn| {
                use diesel::prelude::*;
                use icat_store::schema::mail_outbox;
                Ok(mail_outbox::table
                    .filter(mail_outbox::kind.eq("password_reset"))
                    .select(mail_outbox::params)
                    .load(conn)?)
            })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        if params == ["{}"] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(params, vec!["{}".to_owned()]);
    app.stop().await;
}

async fn links_expire_and_requests_are_throttled(backend: Backend) {
    let sink = MailSink::start();
    let Some(app) = with_mail(backend, &sink).await else {
        return;
    };
    let editor = app.user("editor", Some("UNODC")).await;
    let email = editor.user["email"].as_str().unwrap_or_default().to_owned();
    assert_eq!(ask(&app, &email).await.status, StatusCode::ACCEPTED);
    let mail = sink.wait_for(1).await;
    let token = token_of(mail[0]["text"].as_str().unwrap_or_default());
    // Half an hour later the link no longer works.
    app.db
        .run(|conn| {
            use diesel::prelude::*;
            use icat_store::schema::password_resets;
            diesel::update(password_resets::table)
                .set(
                    password_resets::expires_at
                        .eq(icat_common::now() - chrono::Duration::seconds(1)),
                )
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let r = confirm(&app, &token, NEW_PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    // Three requests for one address, then 429; the same for an unknown address.
    for _ in 0..2 {
        assert_eq!(ask(&app, &email).await.status, StatusCode::ACCEPTED);
    }
    let r = ask(&app, &email).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert!(r.header("retry-after").is_some());
    for _ in 0..3 {
        assert_eq!(
            ask(&app, "ghost@icat.test").await.status,
            StatusCode::ACCEPTED
        );
    }
    assert_eq!(
        ask(&app, "ghost@icat.test").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // One client: ten requests in all (eight answered so far), then 429 whatever the address.
    let statuses: Vec<StatusCode> = {
        let mut out = Vec::new();
        for n in 0..3 {
            out.push(ask(&app, &format!("someone{n}@icat.test")).await.status);
        }
        out
    };
    assert_eq!(
        statuses,
        vec![
            StatusCode::ACCEPTED,
            StatusCode::ACCEPTED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    app.stop().await;
}

async fn without_a_mail_server_an_admin_hands_over_a_link(app: &TestApp) {
    let editor = app.user("editor", Some("UNODC")).await;
    let email = editor.user["email"].as_str().unwrap_or_default().to_owned();
    let id = editor.user["id"].as_str().unwrap_or_default().to_owned();
    let r = ask(app, &email).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(r.text.contains("no mail server"), "{}", r.text);
    let path = format!("/api/v1/users/{id}/password-reset");
    let r = app.post(&path, &editor.access, &Value::Null).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let admin = app.admin().await;
    let first = app.post(&path, &admin.access, &Value::Null).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let second = app.post(&path, &admin.access, &Value::Null).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    let url = |r: &icat_tests::Reply| r.body["url"].as_str().unwrap_or_default().to_owned();
    assert!(url(&second).starts_with("http://127.0.0.1:8080/#/reset?token="));
    // A newer link replaces the older one.
    let r = confirm(app, &token_of(&url(&first)), NEW_PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = confirm(app, &token_of(&url(&second)), NEW_PASSWORD).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    app.login(&email, NEW_PASSWORD).await;
    assert_eq!(app.audit_count("create_reset_link", "success").await, 2);
    let r = app
        .post(
            "/api/v1/users/no-such-user/password-reset",
            &admin.access,
            &Value::Null,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}
