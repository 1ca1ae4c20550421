use icat_tests::{TestApp, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends!(
    the_registry_is_seeded_and_listed,
    agencies_are_found_by_id_or_acronym,
    only_admins_change_the_registry,
    new_agencies_are_validated,
    agency_changes_need_the_current_etag,
    concurrent_changes_with_one_etag_let_one_win,
);

async fn the_registry_is_seeded_and_listed(app: &TestApp) {
    let viewer = app.user("viewer", Some("UNICEF")).await;
    let r = app
        .get("/api/v1/agencies?per_page=100", &viewer.access)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["total"], 13);
    assert_eq!(r.body["page"], 1);
    assert_eq!(r.body["per_page"], 100);
    let acronyms: Vec<&str> = r.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["acronym"].as_str())
        .collect();
    assert!(
        acronyms.contains(&"UNODC") && acronyms.contains(&"UN Women") && acronyms.contains(&"OSCE")
    );
    let mut sorted = acronyms.clone();
    sorted.sort_by_key(|a| a.to_lowercase());
    assert_eq!(acronyms, sorted, "listed by acronym");

    let wg = app
        .get(
            "/api/v1/agencies?working_group=true&per_page=100",
            &viewer.access,
        )
        .await;
    assert_eq!(wg.body["total"], 9);
    assert!(
        wg.body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|a| a["working_group"] == true)
    );
    let page2 = app
        .get("/api/v1/agencies?per_page=5&page=3", &viewer.access)
        .await;
    assert_eq!(page2.body["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(page2.body["total"], 13);
    let search = app.get("/api/v1/agencies?q=refugees", &viewer.access).await;
    assert_eq!(search.body["items"][0]["acronym"], "UNHCR");
    assert_eq!(search.body["total"], 1);
    let kind = app
        .get(
            "/api/v1/agencies?kind=intergovernmental&per_page=100",
            &viewer.access,
        )
        .await;
    assert_eq!(kind.body["total"], 3);

    for bad in [
        "per_page=101",
        "per_page=0",
        "page=0",
        "page=x",
        "working_group=maybe",
        "colour=blue",
        "kind=club",
    ] {
        let r = app
            .get(&format!("/api/v1/agencies?{bad}"), &viewer.access)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
        assert_eq!(r.code(), "validation_failed");
    }
}

async fn agencies_are_found_by_id_or_acronym(app: &TestApp) {
    let viewer = app.user("viewer", Some("ILO")).await;
    let by_acronym = app.get("/api/v1/agencies/un%20women", &viewer.access).await;
    assert_eq!(by_acronym.status, StatusCode::OK, "{}", by_acronym.text);
    assert_eq!(by_acronym.body["acronym"], "UN Women");
    assert_eq!(by_acronym.body["kind"], "un_entity");
    assert_eq!(by_acronym.etag(), "\"1\"");
    let id = by_acronym.body["id"].as_str().unwrap_or_default();
    let by_id = app
        .get(&format!("/api/v1/agencies/{id}"), &viewer.access)
        .await;
    assert_eq!(by_id.body, by_acronym.body);
    let missing = app.get("/api/v1/agencies/NOPE", &viewer.access).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "not_found");
    let anonymous = app
        .send(Method::GET, "/api/v1/agencies/UNODC", None, None, &[])
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn only_admins_change_the_registry(app: &TestApp) {
    let editor = app.user("editor", Some("UNODC")).await;
    let viewer = app.user("viewer", Some("UNODC")).await;
    let own = app.agency_id("UNODC").await;
    let other = app.agency_id("ILO").await;
    let new = json!({"acronym": "GLO.ACT", "name": "Global Action", "kind": "other"});
    for session in [&editor, &viewer] {
        let before = app.fingerprint().await;
        for agency in [&own, &other] {
            let path = format!("/api/v1/agencies/{agency}");
            let r = app
                .patch(&path, &session.access, "\"1\"", &json!({"name": "Renamed"}))
                .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
            assert_eq!(r.code(), "forbidden");
        }
        let r = app.post("/api/v1/agencies", &session.access, &new).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(
            app.fingerprint().await,
            before,
            "a denied request changed data"
        );
    }
    let r = app
        .send(Method::POST, "/api/v1/agencies", None, Some(&new), &[])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let admin = app.admin().await;
    let r = app.post("/api/v1/agencies", &admin.access, &new).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["acronym"], "GLO.ACT");
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["working_group"], false);
    assert_eq!(r.body["version"], 1);
    assert!(
        r.header("location")
            .is_some_and(|l| l.ends_with(r.body["id"].as_str().unwrap_or("?")))
    );
}

async fn new_agencies_are_validated(app: &TestApp) {
    let admin = app.admin().await;
    let before = app.fingerprint().await;
    let r = app
        .post("/api/v1/agencies", &admin.access,
              &json!({"acronym": "", "name": "X", "kind": "club", "website": "ftp://x", "joined_on": "2026-13-01"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["acronym", "kind", "website", "joined_on"]);
    let r = app
        .post(
            "/api/v1/agencies",
            &admin.access,
            &json!({"acronym": "Unodc", "name": "Copy", "kind": "un_entity"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "acronyms are unique whatever their case"
    );
    let r = app
        .post(
            "/api/v1/agencies",
            &admin.access,
            &json!({"acronym": "NEW", "name": "New", "kind": "other", "version": 5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "no mass assignment");
    let r = app
        .post(
            "/api/v1/agencies",
            &admin.access,
            &json!({"acronym": "NEW", "name": "New", "kind": "other", "id": "mine"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "no mass assignment");
    assert_eq!(app.fingerprint().await, before);
}

async fn agency_changes_need_the_current_etag(app: &TestApp) {
    let admin = app.admin().await;
    let read = app.get("/api/v1/agencies/OSCE", &admin.access).await;
    let path = format!(
        "/api/v1/agencies/{}",
        read.body["id"].as_str().unwrap_or_default()
    );
    let change = json!({"working_group": true, "website": "https://www.osce.org", "joined_on": "2008-03-01"});
    let r = app
        .send(
            Method::PATCH,
            &path,
            Some(&admin.access),
            Some(&change),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_REQUIRED);
    let r = app.patch(&path, &admin.access, "\"2\"", &change).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let r = app.patch(&path, &admin.access, "W/\"1\"", &change).await;
    assert_eq!(
        r.status,
        StatusCode::PRECONDITION_FAILED,
        "weak tags never match If-Match"
    );
    assert_eq!(
        app.get(&path, &admin.access).await.body["working_group"],
        false,
        "nothing changed"
    );

    let r = app.patch(&path, &admin.access, &read.etag(), &change).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["working_group"], true);
    assert_eq!(r.body["website"], "https://www.osce.org");
    assert_eq!(r.body["joined_on"], "2008-03-01");
    assert_eq!(r.body["version"], 2);
    assert_eq!(r.etag(), "\"2\"");
    // null clears a field; an absent field stays.
    let r = app
        .patch(&path, &admin.access, "\"2\"", &json!({"website": null}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["website"], serde_json::Value::Null);
    assert_eq!(r.body["joined_on"], "2008-03-01");
    // Renaming onto another member's acronym is a conflict.
    let r = app
        .patch(&path, &admin.access, "\"3\"", &json!({"acronym": "ilo"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // The trail says what changed.
    let audit = app
        .get("/api/v1/audit?entity=agency&action=update", &admin.access)
        .await;
    let event = &audit.body["items"][1];
    assert_eq!(event["entity_id"], read.body["id"]);
    assert_eq!(
        event["changes"]["working_group"],
        json!({"from": false, "to": true})
    );
    assert_eq!(event["actor_email"], icat_tests::ADMIN_EMAIL);
}

async fn concurrent_changes_with_one_etag_let_one_win(app: &TestApp) {
    let admin = app.admin().await;
    let read = app.get("/api/v1/agencies/IOM", &admin.access).await;
    let path = format!(
        "/api/v1/agencies/{}",
        read.body["id"].as_str().unwrap_or_default()
    );
    let etag = read.etag();
    let (name_a, name_b) = (json!({"name": "Name A"}), json!({"name": "Name B"}));
    let (a, b) = tokio::join!(
        app.patch(&path, &admin.access, &etag, &name_a),
        app.patch(&path, &admin.access, &etag, &name_b),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "{} / {}", a.text, b.text);
    let now = app.get(&path, &admin.access).await;
    assert_eq!(now.body["version"], 2);
    let winner = if a.status == StatusCode::OK {
        "Name A"
    } else {
        "Name B"
    };
    assert_eq!(now.body["name"], winner);
}
