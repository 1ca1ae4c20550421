use icat_tests::{ADMIN_EMAIL, FIRST_PASSWORD, PASSWORD, TestApp, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends!(
    only_admins_manage_users,
    new_users_are_validated,
    user_changes_need_the_current_etag,
    the_last_admin_stays,
    admins_deactivating_each_other_at_once_leave_one,
);

async fn only_admins_manage_users(app: &TestApp) {
    let admin = app.admin().await;
    let ilo = app.agency_id("ILO").await;
    let editor = app.user("editor", Some("ILO")).await;
    let viewer = app.user("viewer", Some("ILO")).await;
    let target = format!(
        "/api/v1/users/{}",
        viewer.user["id"].as_str().unwrap_or_default()
    );
    let etag = app.get(&target, &admin.access).await.etag();
    let new_user = json!({"email": "new.person@icat.test", "name": "New", "role": "viewer",
                          "agency_id": ilo, "password": PASSWORD});

    for session in [&editor, &viewer] {
        let before = app.fingerprint().await;
        let denied_before = app.audit_count("denied", "denied").await;
        let tries = [
            app.get("/api/v1/users", &session.access).await,
            app.get(&target, &session.access).await,
            app.post("/api/v1/users", &session.access, &new_user).await,
            app.patch(&target, &session.access, &etag, &json!({"role": "admin"}))
                .await,
            app.get("/api/v1/audit", &session.access).await,
        ];
        for r in &tries {
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
            assert_eq!(r.code(), "forbidden");
        }
        assert_eq!(
            app.fingerprint().await,
            before,
            "a denied request changed data"
        );
        assert_eq!(app.audit_count("denied", "denied").await, denied_before + 5);
    }
    // Signed out: 401 on every route.
    for (method, path) in [
        (Method::GET, "/api/v1/users"),
        (Method::POST, "/api/v1/users"),
        (Method::GET, target.as_str()),
    ] {
        let r = app.send(method, path, None, Some(&new_user), &[]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }

    let r = app.post("/api/v1/users", &admin.access, &new_user).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.header("location").map(str::to_owned),
        Some(format!(
            "/api/v1/users/{}",
            r.body["id"].as_str().unwrap_or_default()
        ))
    );
    assert_eq!(r.body["role"], "viewer");
    assert_eq!(r.body["agency_id"], ilo);
    assert!(r.body.get("password").is_none() && r.body.get("password_hash").is_none());
    let list = app
        .get(&format!("/api/v1/users?agency_id={ilo}"), &admin.access)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["total"], 3);
    let list = app.get("/api/v1/users?role=admin", &admin.access).await;
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["items"][0]["email"], ADMIN_EMAIL);
    let list = app.get("/api/v1/users?q=NEW.PERSON", &admin.access).await;
    assert_eq!(list.body["total"], 1);
    app.login("new.person@icat.test", PASSWORD).await;
}

async fn new_users_are_validated(app: &TestApp) {
    let admin = app.admin().await;
    let ilo = app.agency_id("ILO").await;
    let before = app.fingerprint().await;
    let r = app
        .post("/api/v1/users", &admin.access,
              &json!({"email": "not-an-email", "name": " ", "role": "boss", "agency_id": ilo, "password": "short"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "validation_failed");
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["email", "name", "role", "password"]);

    let base = json!({"email": "someone@icat.test", "name": "Someone", "role": "editor", "password": PASSWORD});
    let mut no_agency = base.clone();
    no_agency["agency_id"] = json!(null);
    let r = app.post("/api/v1/users", &admin.access, &no_agency).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "agency_id");
    let mut unknown_agency = base.clone();
    unknown_agency["agency_id"] = json!("no-such-agency");
    let r = app
        .post("/api/v1/users", &admin.access, &unknown_agency)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut common = base.clone();
    common["agency_id"] = json!(ilo);
    common["password"] = json!("Password2024!");
    assert_eq!(
        app.post("/api/v1/users", &admin.access, &common)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // No mass assignment: ids, versions and hashes never come from a body.
    for (field, value) in [
        ("id", json!("chosen-id")),
        ("version", json!(7)),
        ("password_hash", json!("x")),
        ("active", json!(false)),
    ] {
        let mut extra = base.clone();
        extra["agency_id"] = json!(ilo);
        extra[field] = value;
        let r = app.post("/api/v1/users", &admin.access, &extra).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}: {}", r.text);
        assert_eq!(r.code(), "validation_failed");
    }
    assert_eq!(app.fingerprint().await, before);

    let mut ok = base.clone();
    ok["agency_id"] = json!(ilo);
    assert_eq!(
        app.post("/api/v1/users", &admin.access, &ok).await.status,
        StatusCode::CREATED
    );
    ok["email"] = json!("SomeOne@ICAT.test");
    let r = app.post("/api/v1/users", &admin.access, &ok).await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "e-mail addresses are unique whatever their case"
    );
    assert_eq!(r.code(), "conflict");
}

async fn user_changes_need_the_current_etag(app: &TestApp) {
    let admin = app.admin().await;
    let viewer = app.user("viewer", Some("IOM")).await;
    let path = format!(
        "/api/v1/users/{}",
        viewer.user["id"].as_str().unwrap_or_default()
    );
    let read = app.get(&path, &admin.access).await;
    assert_eq!(read.etag(), "\"1\"");
    let body = json!({"name": "Renamed"});
    let r = app
        .send(Method::PATCH, &path, Some(&admin.access), Some(&body), &[])
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(r.code(), "precondition_required");
    let r = app.patch(&path, &admin.access, "\"9\"", &body).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(r.code(), "precondition_failed");
    assert_eq!(
        app.get(&path, &admin.access).await.body["name"],
        "A viewer",
        "nothing changed"
    );
    let r = app.patch(&path, &admin.access, &read.etag(), &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["name"], "Renamed");
    assert_eq!(r.etag(), "\"2\"");
    let r = app
        .patch(
            &path,
            &admin.access,
            &read.etag(),
            &json!({"name": "Lost update"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::PRECONDITION_FAILED,
        "the old ETag is stale now"
    );
    let r = app
        .patch(&path, &admin.access, "\"2\"", &json!({"agency_id": null}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "viewers need an agency"
    );
    let r = app
        .patch(&path, &admin.access, "\"2\"", &json!({"email": "x@y.org"}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "e-mail is not changeable here"
    );
    let missing = app
        .patch("/api/v1/users/nope", &admin.access, "\"1\"", &body)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

async fn the_last_admin_stays(app: &TestApp) {
    let admin = app.admin().await;
    let me = app.get("/api/v1/auth/me", &admin.access).await;
    let path = format!(
        "/api/v1/users/{}",
        me.body["id"].as_str().unwrap_or_default()
    );
    let etag = app.get(&path, &admin.access).await.etag();
    for change in [
        json!({"role": "viewer", "agency_id": app.agency_id("ILO").await}),
        json!({"active": false}),
    ] {
        let r = app.patch(&path, &admin.access, &etag, &change).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    }
    assert_eq!(
        app.get("/api/v1/auth/me", &admin.access).await.status,
        StatusCode::OK
    );
}

/// Two admins, no other: each deactivates the other at the same moment, 50 rounds. Alone each
/// change is allowed; together they must leave one active admin (one 200, one 409). The survivor
/// and a new admin race in the next round.
async fn admins_deactivating_each_other_at_once_leave_one(app: &TestApp) {
    let mut survivor = app.admin().await;
    for round in 0..50 {
        // Made by the survivor: the first admin may be the one deactivated.
        let email = format!("rival.{round}@icat.test");
        let r = app
            .post(
                "/api/v1/users",
                &survivor.access,
                &json!({"email": email, "name": "A rival", "role": "admin", "password": FIRST_PASSWORD}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let rival = app.login(&email, FIRST_PASSWORD).await;
        app.choose_password(&rival, FIRST_PASSWORD).await;
        let path = |s: &icat_tests::Session| {
            format!(
                "/api/v1/users/{}",
                s.user["id"].as_str().unwrap_or_default()
            )
        };
        let (survivor_path, rival_path) = (path(&survivor), path(&rival));
        let survivor_etag = app.get(&survivor_path, &survivor.access).await.etag();
        let rival_etag = app.get(&rival_path, &survivor.access).await.etag();
        let off = json!({"active": false});
        let (by_survivor, by_rival) = tokio::join!(
            app.patch(&rival_path, &survivor.access, &rival_etag, &off),
            app.patch(&survivor_path, &rival.access, &survivor_etag, &off),
        );
        let mut statuses = [by_survivor.status.as_u16(), by_rival.status.as_u16()];
        statuses.sort_unstable();
        // One wins. The other is refused: 409 (it would leave no admin), or 401 when the winner's
        // change had already ended its sessions before its own request was read.
        assert!(
            matches!(statuses, [200, 401 | 409]),
            "round {round}: {statuses:?} {} / {}",
            by_survivor.text,
            by_rival.text
        );
        if by_rival.status == StatusCode::OK {
            survivor = rival;
        }
        let me = app.get("/api/v1/auth/me", &survivor.access).await;
        assert_eq!(
            me.status,
            StatusCode::OK,
            "round {round}: the survivor still signs in"
        );
        assert_eq!(me.body["role"], "admin");
        assert_eq!(me.body["active"], true, "round {round}");
    }
    let active_admins = app
        .get("/api/v1/users?role=admin&per_page=100", &survivor.access)
        .await
        .body["items"]
        .as_array()
        .map(|all| all.iter().filter(|u| u["active"] == true).count());
    assert_eq!(active_admins, Some(1), "one active admin after 50 rounds");
}
