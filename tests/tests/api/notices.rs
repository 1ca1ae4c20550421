//! Coordination notices: the other agency hears of a match in its inbox and by e-mail (a real SMTP
//! server, `tests/mail/sink.py`), once per pair; reviews notify the other side; each user reads
//! only their own; choices, unsubscribe links, refused addresses and a mail server that is down.

use icat_tests::{Backend, MailSink, Reply, Session, TestApp, on_both_backends, per_backend};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    without_a_mail_server_notices_stay_in_the_inbox,
    overlaps_reach_those_who_asked_and_a_rising_level_notifies_again,
);

per_backend!(
    a_match_reaches_the_other_agency_once_by_inbox_and_email,
    choices_and_unsubscribe_links_are_honoured,
    refused_and_unreachable_mail_is_retried_then_shown_to_admins,
    a_daily_digest_gathers_the_days_notices,
    reminders_reach_focal_points_or_else_editors,
);

/// A server whose notices go to `sink` (None when ICAT_TEST_PG_URL is unset for PostgreSQL).
async fn with_mail(backend: Backend, sink: &MailSink) -> Option<TestApp> {
    let url = sink.url();
    TestApp::start_with(backend, |s| {
        s.smtp_url = Some(url);
        s.mail_from = "ICAT Workspace <workspace@icat.test>".into();
        s.public_url = "https://icat.example.org".into();
    })
    .await
}

fn activity(title: &str, description: &str, start: &str) -> Value {
    json!({"title": title, "description": description, "countries": ["NG"],
           "themes": ["prosecution"], "sdg_targets": ["16.2"], "target_groups": ["judges", "prosecutors"],
           "partners": ["National Judicial Institute"], "start_date": start, "end_date": "2026-12-31",
           "status": "planned", "budget_usd": 250000})
}

fn judges() -> Value {
    activity(
        "Training of judges and prosecutors on human trafficking cases in Nigeria",
        "Five workshops for judges and prosecutors of the federal high courts on investigating and \
         adjudicating human trafficking cases, victim-centred approaches and international cooperation.",
        "2026-03-01",
    )
}

fn near_copy() -> Value {
    activity(
        "Training judges and prosecutors on trafficking in persons cases (Nigeria)",
        "Workshops for federal high court judges and prosecutors: investigating and adjudicating \
         trafficking cases, victim-centred approaches, international cooperation in criminal matters.",
        "2026-04-01",
    )
}

async fn record(app: &TestApp, s: &Session, body: &Value) -> String {
    let r = app.post("/api/v1/activities", &s.access, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["activity"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn inbox(app: &TestApp, s: &Session, query: &str) -> Reply {
    let r = app
        .get(&format!("/api/v1/notifications{query}"), &s.access)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r
}

/// Saves a user's notice choices (`PUT /api/v1/me/notification-settings`).
async fn choose(app: &TestApp, s: &Session, body: Value) -> Reply {
    app.send(
        Method::PUT,
        "/api/v1/me/notification-settings",
        Some(&s.access),
        Some(&body),
        &[],
    )
    .await
}

fn items(r: &Reply) -> Vec<Value> {
    r.body["items"].as_array().cloned().unwrap_or_default()
}

fn to(m: &Value) -> String {
    m["to"][0].as_str().unwrap_or_default().to_owned()
}

fn email(s: &Session) -> String {
    s.user["email"].as_str().unwrap_or_default().to_owned()
}

async fn without_a_mail_server_notices_stay_in_the_inbox(app: &TestApp) {
    let unodc = app.user("editor", Some("UNODC")).await;
    let iom = app.user("editor", Some("IOM")).await;
    let a = record(app, &unodc, &judges()).await;
    let b = record(app, &iom, &near_copy()).await;
    let got = items(&inbox(app, &unodc, "").await);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["activity_id"], json!(a));
    assert_eq!(got[0]["other_id"], json!(b));
    // An imported copy notifies as a recorded one does.
    let r = app
        .import_csv(
            &iom,
            "title,description,countries,themes,start_date,end_date,agency\n\
             Training judges and prosecutors on human trafficking cases in Nigeria,\
             Workshops for judges and prosecutors of the federal high courts on trafficking cases,\
             NG,prosecution,2026-03-01,2026-12-31,IOM\n",
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let got = items(&inbox(app, &unodc, "").await);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|n| n["activity_id"] == json!(a)), "{got:?}");
    // No mail server: nothing waits in the outbox.
    let admin = app.admin().await;
    let mail = app.get("/api/v1/mail", &admin.access).await;
    assert_eq!(mail.status, StatusCode::OK, "{}", mail.text);
    assert_eq!(mail.body["total"], 0, "{}", mail.text);
}

async fn a_match_reaches_the_other_agency_once_by_inbox_and_email(backend: Backend) {
    let sink = MailSink::start();
    let Some(app) = with_mail(backend, &sink).await else {
        return;
    };
    let unodc = app.user("editor", Some("UNODC")).await;
    let unodc_viewer = app.user("viewer", Some("UNODC")).await;
    let iom = app.user("editor", Some("IOM")).await;
    // UNODC's focal point has no account: the e-mail alone reaches them.
    let r = app
        .post(
            "/api/v1/agencies/UNODC/focal-points",
            &unodc.access,
            &json!({"role": "primary", "name": "Amina Diallo", "email": "amina.diallo@unodc.test",
                    "languages": ["fr", "en"], "countries": ["NG"], "themes": ["prosecution"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let a = record(&app, &unodc, &judges()).await;
    assert!(items(&inbox(&app, &iom, "").await).is_empty());
    let b = record(&app, &iom, &near_copy()).await;

    // UNODC's editor reads it in the inbox; the viewer (not a focal point) and IOM hear nothing.
    let r = inbox(&app, &unodc, "").await;
    let got = items(&r);
    assert_eq!(got.len(), 1, "{}", r.text);
    assert_eq!(r.body["unread"], 1);
    let n = &got[0];
    assert_eq!(n["kind"], "match");
    assert!(
        matches!(n["level"].as_str(), Some("duplicate" | "possible")),
        "{n}"
    );
    assert_eq!(n["activity_id"], json!(a));
    assert_eq!(n["other_id"], json!(b));
    assert_eq!(n["params"]["other_agency"], "IOM");
    assert_eq!(n["read_at"], Value::Null);
    assert!(items(&inbox(&app, &unodc_viewer, "").await).is_empty());
    assert!(items(&inbox(&app, &iom, "").await).is_empty());

    // Two e-mails: the editor's in English, the focal point's in French.
    let mail = sink.wait_for(2).await;
    assert_eq!(mail.len(), 2, "{mail:?}");
    let editor_mail = mail
        .iter()
        .find(|m| to(m) == email(&unodc))
        .unwrap_or_else(|| panic!("no mail to the editor: {mail:?}"));
    let subject = editor_mail["subject"].as_str().unwrap_or_default();
    assert!(
        subject.starts_with("[ICAT] IOM records work like yours"),
        "{subject}"
    );
    assert_eq!(editor_mail["from"], "workspace@icat.test");
    let link = format!("https://icat.example.org/#/activities/{a}");
    for part in ["text", "html"] {
        let body = editor_mail[part].as_str().unwrap_or_default();
        assert!(body.contains(&link), "{part}: {body}");
        assert!(
            body.contains("Training judges and prosecutors"),
            "{part}: {body}"
        );
    }
    assert!(
        editor_mail["list_unsubscribe"]
            .as_str()
            .unwrap_or_default()
            .starts_with("<https://icat.example.org/api/v1/unsubscribe?token="),
        "{editor_mail}"
    );
    assert_eq!(
        editor_mail["list_unsubscribe_post"],
        "List-Unsubscribe=One-Click"
    );
    let point_mail = mail
        .iter()
        .find(|m| to(m) == "amina.diallo@unodc.test")
        .unwrap_or_else(|| panic!("no mail to the focal point: {mail:?}"));
    assert!(
        point_mail["subject"]
            .as_str()
            .unwrap_or_default()
            .contains("enregistre un travail semblable"),
        "{point_mail}"
    );

    // An edit that leaves the level as it was notifies no one again.
    let current = app
        .get(&format!("/api/v1/activities/{b}"), &iom.access)
        .await;
    let r = app
        .patch(
            &format!("/api/v1/activities/{b}"),
            &iom.access,
            &current.etag(),
            &json!({"status": "ongoing"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(items(&inbox(&app, &unodc, "").await).len(), 1);

    // UNODC reviews the pair: IOM hears of it, UNODC does not.
    let r = app
        .post(
            "/api/v1/reports/duplicates/reviews",
            &unodc.access,
            &json!({"activity_ids": [a, b], "decision": "coordinated"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let got = items(&inbox(&app, &iom, "").await);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["kind"], "review");
    assert_eq!(got[0]["params"]["decision"], "coordinated");
    assert_eq!(got[0]["activity_id"], json!(b));
    assert_eq!(items(&inbox(&app, &unodc, "").await).len(), 1);
    let mail = sink.wait_for(3).await;
    assert!(
        mail.iter().any(|m| to(m) == email(&iom)
            && m["subject"]
                .as_str()
                .is_some_and(|s| s.contains("was reviewed"))),
        "{mail:?}"
    );

    // Each reads only their own: IOM cannot mark UNODC's notice read (404, as if absent).
    let theirs = n["id"].as_str().unwrap_or_default();
    let r = app
        .send(
            Method::POST,
            &format!("/api/v1/notifications/{theirs}/read"),
            Some(&iom.access),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(inbox(&app, &unodc, "").await.body["unread"], 1);
    let r = app
        .send(
            Method::POST,
            &format!("/api/v1/notifications/{theirs}/read"),
            Some(&unodc.access),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = inbox(&app, &unodc, "?unread=true").await;
    assert_eq!(r.body["unread"], 0);
    assert!(items(&r).is_empty());
    assert_eq!(inbox(&app, &unodc, "").await.body["total"], 1);
    let r = app
        .post("/api/v1/notifications/read-all", &iom.access, &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["marked"], 1);
    assert_eq!(inbox(&app, &iom, "").await.body["unread"], 0);
    // Signed out, nothing.
    let r = app
        .send(Method::GET, "/api/v1/notifications", None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

async fn choices_and_unsubscribe_links_are_honoured(backend: Backend) {
    let sink = MailSink::start();
    let Some(app) = with_mail(backend, &sink).await else {
        return;
    };
    let unodc = app.user("editor", Some("UNODC")).await;
    let iom = app.user("editor", Some("IOM")).await;
    let r = app
        .get("/api/v1/me/notification-settings", &unodc.access)
        .await;
    assert_eq!(
        r.body,
        json!({"email": "immediate", "overlaps": false, "language": "en"})
    );
    for bad in [
        json!({"email": "hourly", "overlaps": false, "language": "en"}),
        json!({"email": "daily", "overlaps": false, "language": "de"}),
        json!({"email": "daily", "overlaps": false, "language": "en", "extra": 1}),
    ] {
        let r = choose(&app, &unodc, bad.clone()).await;
        assert!(r.status.is_client_error(), "{bad}: {}", r.text);
    }
    // Spanish e-mails for UNODC's editor.
    let r = choose(
        &app,
        &unodc,
        json!({"email": "immediate", "overlaps": false, "language": "es"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    record(&app, &unodc, &judges()).await;
    record(&app, &iom, &near_copy()).await;
    let mail = sink.wait_for(1).await;
    assert!(
        mail[0]["subject"]
            .as_str()
            .is_some_and(|s| s.contains("registra un trabajo similar")),
        "{mail:?}"
    );

    // The unsubscribe link asks before it acts, then stops every e-mail; the inbox stays.
    let header = mail[0]["list_unsubscribe"].as_str().unwrap_or_default();
    let path = header
        .trim_matches(|c| c == '<' || c == '>')
        .trim_start_matches("https://icat.example.org");
    let page = app.send(Method::GET, path, None, None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("<form method=\"post\""), "{}", page.text);
    let forged = app
        .send(
            Method::POST,
            &format!("{}x", path),
            None,
            None,
            &[("content-type", "application/x-www-form-urlencoded")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND, "{}", forged.text);
    let done = app
        .send(
            Method::POST,
            path,
            None,
            None,
            &[("content-type", "application/x-www-form-urlencoded")],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert!(done.text.contains(&email(&unodc)), "{}", done.text);
    // IOM's editor chose the inbox only.
    let r = choose(
        &app,
        &iom,
        json!({"email": "none", "overlaps": false, "language": "en"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let before = (
        items(&inbox(&app, &unodc, "").await).len(),
        items(&inbox(&app, &iom, "").await).len(),
    );
    // Another IOM copy of UNODC's activity, then a UNODC copy of IOM's.
    let mut again = near_copy();
    again["start_date"] = json!("2026-04-15");
    again["title"] = json!("Training for judges and prosecutors on trafficking cases, Nigeria");
    record(&app, &iom, &again).await;
    let mut back = judges();
    back["start_date"] = json!("2026-03-15");
    back["title"] = json!("Training of Nigerian judges and prosecutors on trafficking cases");
    record(&app, &unodc, &back).await;
    // Both heard in the inbox, neither by e-mail.
    assert!(items(&inbox(&app, &unodc, "").await).len() > before.0);
    assert!(items(&inbox(&app, &iom, "").await).len() > before.1);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(sink.messages().len(), 1, "{:?}", sink.messages());
    app.stop().await;
}

async fn refused_and_unreachable_mail_is_retried_then_shown_to_admins(backend: Backend) {
    // A mail server that is not there yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"));
    let Some(app) = TestApp::start_with(backend, |s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    })
    .await
    else {
        return;
    };
    let admin = app.admin().await;
    let unodc = app.user("editor", Some("UNODC")).await;
    let iom = app.user("editor", Some("IOM")).await;
    // A second UNODC editor whose mailbox the server refuses.
    let unodc_id = app.agency_id("UNODC").await;
    let r = app
        .post(
            "/api/v1/users",
            &admin.access,
            &json!({"email": "refused.editor@icat.test", "name": "Refused Editor", "role": "editor",
                    "agency_id": unodc_id, "password": icat_tests::PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    record(&app, &unodc, &judges()).await;
    record(&app, &iom, &near_copy()).await;

    // Both wait, retried later, with the reason.
    let mut queued = Value::Null;
    for _ in 0..100 {
        queued = app
            .get("/api/v1/mail?state=queued", &admin.access)
            .await
            .body;
        let tried = queued["items"].as_array().is_some_and(|v| {
            // Claimed (the attempt counts) and settled (the reason is kept).
            v.len() == 2
                && v.iter()
                    .all(|m| m["attempts"] == 1 && m["last_error"].is_string())
        });
        if tried {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let waiting = queued["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(waiting.len(), 2, "{queued}");
    for m in &waiting {
        assert_eq!(m["attempts"], 1, "{m}");
        assert!(
            m["last_error"].as_str().is_some_and(|e| !e.is_empty()),
            "{m}"
        );
        // The first retry waits 30 s.
        let next = m["next_attempt_at"].as_str().unwrap_or_default();
        let next =
            chrono::DateTime::parse_from_rfc3339(next).unwrap_or_else(|e| panic!("{next}: {e}"));
        let wait = next.signed_duration_since(chrono::Utc::now()).num_seconds();
        assert!((20..=31).contains(&wait), "{wait} s: {m}");
    }
    let r = app.get("/api/v1/mail", &unodc.access).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The server comes back, and the retry is due (as it would be 30 s later).
    let sink = MailSink::start_on(port);
    app.db
        .run(|conn| {
            use diesel::prelude::*;
            use icat_store::schema::mail_outbox;
            diesel::update(mail_outbox::table)
                .set(mail_outbox::next_attempt_at.eq(icat_common::now()))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mail = sink.wait_for(1).await;
    assert_eq!(to(&mail[0]), email(&unodc), "{mail:?}");
    // The refused address ends failed, with the server's answer, for admins to see.
    let failed = messages_in(&app, &admin, "failed", 1).await;
    let m = &failed["items"][0];
    assert_eq!(m["recipient"], "refused.editor@icat.test");
    assert!(
        m["last_error"].as_str().is_some_and(|e| e.contains("550")),
        "{m}"
    );
    messages_in(&app, &admin, "sent", 1).await;
    // Delivered once: nothing more arrives.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(sink.messages().len(), 1);
    app.stop().await;
}

/// The admins' list of e-mails in `state`, once it holds `n` (each outcome is recorded a moment
/// after the mail server answered).
async fn messages_in(app: &TestApp, admin: &Session, state: &str, n: i64) -> Value {
    let mut got = Value::Null;
    for _ in 0..100 {
        got = app
            .get(&format!("/api/v1/mail?state={state}"), &admin.access)
            .await
            .body;
        if got["total"] == n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(got["total"], n, "{state}: {got}");
    got
}

async fn a_daily_digest_gathers_the_days_notices(backend: Backend) {
    let sink = MailSink::start();
    let Some(app) = with_mail(backend, &sink).await else {
        return;
    };
    let unodc = app.user("editor", Some("UNODC")).await;
    let iom = app.user("editor", Some("IOM")).await;
    let r = choose(
        &app,
        &unodc,
        json!({"email": "daily", "overlaps": false, "language": "fr"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let a = record(&app, &unodc, &judges()).await;
    record(&app, &iom, &near_copy()).await;
    assert_eq!(items(&inbox(&app, &unodc, "").await).len(), 1);
    // The first day since the choice has not passed: nothing is sent.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert!(sink.messages().is_empty(), "{:?}", sink.messages());
    // A day later (the choice moved back a day), one digest in French lists the notice.
    let user_id = unodc.user["id"].as_str().unwrap_or_default().to_owned();
    app.db
        .run(move |conn| {
            use diesel::prelude::*;
            use icat_store::schema::{notice_settings, notices};
            let day_ago = icat_common::now() - chrono::Duration::hours(25);
            diesel::update(notice_settings::table.find(&user_id))
                .set(notice_settings::last_digest_at.eq(day_ago))
                .execute(conn)?;
            diesel::update(notices::table.filter(notices::user_id.eq(&user_id)))
                .set(notices::created_at.eq(day_ago + chrono::Duration::hours(1)))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mail = sink.wait_for(1).await;
    assert_eq!(to(&mail[0]), email(&unodc));
    assert_eq!(
        mail[0]["subject"],
        "[ICAT] Un nouvel avis dans l'espace de travail de l'ICAT"
    );
    let text = mail[0]["text"].as_str().unwrap_or_default();
    assert!(text.contains(&format!("/#/activities/{a}")), "{text}");
    assert!(
        text.contains("IOM enregistre un travail semblable"),
        "{text}"
    );
    // Only one a day.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(sink.messages().len(), 1);
    app.stop().await;
}

async fn reminders_reach_focal_points_or_else_editors(backend: Backend) {
    let sink = MailSink::start();
    let Some(app) = with_mail(backend, &sink).await else {
        return;
    };
    let admin = app.admin().await;
    let unodc = app.user("editor", Some("UNODC")).await;
    let iom = app.user("editor", Some("IOM")).await;
    // IOM has a primary focal point (without an account) and no activity; UNODC neither.
    let r = app
        .post(
            "/api/v1/agencies/IOM/focal-points",
            &iom.access,
            &json!({"role": "primary", "name": "Lucía Pérez", "email": "lucia.perez@iom.test",
                    "languages": ["es"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let body =
        json!({"agencies": ["unodc", "IOM"], "note": "Please act before the March meeting."});
    let r = app.post("/api/v1/reminders", &unodc.access, &body).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    // A struct's fields in an array are no body (schemathesis sent `[null, null]`).
    let r = app
        .post("/api/v1/reminders", &admin.access, &json!([null, null]))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = app
        .post(
            "/api/v1/reminders",
            &admin.access,
            &json!({"agencies": ["NOPE"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = app.post("/api/v1/reminders", &admin.access, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let reminded = r.body["reminded"].as_array().cloned().unwrap_or_default();
    assert_eq!(reminded.len(), 2, "{}", r.text);
    let of = |acronym: &str| {
        reminded
            .iter()
            .find(|m| m["acronym"] == acronym)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        of("UNODC")["reasons"],
        json!(["no_focal_point", "no_recent_activity"])
    );
    assert_eq!(of("UNODC")["recipients"], json!([email(&unodc)]));
    assert_eq!(of("IOM")["reasons"], json!(["no_recent_activity"]));
    assert_eq!(of("IOM")["recipients"], json!(["lucia.perez@iom.test"]));
    // UNODC's editor has it in the inbox; IOM's editor (not its focal point) does not.
    let got = items(&inbox(&app, &unodc, "").await);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["kind"], "reminder");
    assert!(items(&inbox(&app, &iom, "").await).is_empty());
    let mail = sink.wait_for(2).await;
    let unodc_mail = mail
        .iter()
        .find(|m| to(m) == email(&unodc))
        .unwrap_or_else(|| panic!("{mail:?}"));
    let text = unodc_mail["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("designate a focal point for coordination"),
        "{text}"
    );
    assert!(
        text.contains("Please act before the March meeting."),
        "{text}"
    );
    let iom_mail = mail
        .iter()
        .find(|m| to(m) == "lucia.perez@iom.test")
        .unwrap_or_else(|| panic!("{mail:?}"));
    assert!(
        iom_mail["subject"]
            .as_str()
            .is_some_and(|s| s.contains("recordatorio")),
        "{iom_mail}"
    );
    assert_eq!(app.audit_count("remind", "success").await, 2);
    app.stop().await;
}

async fn overlaps_reach_those_who_asked_and_a_rising_level_notifies_again(app: &TestApp) {
    let asked = app.user("editor", Some("UNODC")).await;
    let quiet = app.user("editor", Some("UNODC")).await;
    let iom = app.user("editor", Some("IOM")).await;
    let r = choose(
        app,
        &asked,
        json!({"email": "none", "overlaps": true, "language": "en"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    record(app, &asked, &judges()).await;
    // Other work in the same country, theme and period: an overlap.
    let other = activity(
        "Legal aid clinics for survivors in Lagos",
        "Free legal counselling and representation for survivors of trafficking in Lagos state courts.",
        "2026-05-01",
    );
    let r = app.post("/api/v1/activities", &iom.access, &other).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let levels: Vec<&str> = r.body["possible_duplicates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["level"].as_str())
        .collect();
    assert_eq!(levels, ["overlap"], "{}", r.text);
    let b = r.body["activity"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let got = items(&inbox(app, &asked, "").await);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["level"], "overlap");
    assert!(items(&inbox(app, &quiet, "").await).is_empty());
    // IOM rewrites it into a near copy: the level rises, and both UNODC editors hear of it.
    let current = app
        .get(&format!("/api/v1/activities/{b}"), &iom.access)
        .await;
    let r = app
        .patch(
            &format!("/api/v1/activities/{b}"),
            &iom.access,
            &current.etag(),
            &json!({"title": near_copy()["title"], "description": near_copy()["description"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for (who, s, n) in [("asked", &asked, 2), ("quiet", &quiet, 1)] {
        let got = items(&inbox(app, s, "").await);
        assert_eq!(got.len(), n, "{who}: {got:?}");
        assert!(
            matches!(got[0]["level"].as_str(), Some("duplicate" | "possible")),
            "{who}: {got:?}"
        );
    }
}
