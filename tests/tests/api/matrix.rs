//! The authorisation matrix, generated from the served route table: every route x every role x own
//! agency / other agency. A denial must answer 401 or 403 with its problem code and change nothing
//! in the database; an allowed request must succeed. A route missing from `RULES` fails the test, so
//! a new route cannot ship unclassified. Then mass-assignment probes on every JSON write route.

use icat_tests::{PASSWORD, Session, TestApp, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

on_both_backends!(
    every_route_x_every_role_is_allowed_or_denied_as_designed,
    bodies_cannot_assign_protected_fields,
);

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Rule {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user.
    Signed,
    /// The secretariat only.
    Admin,
    /// Admins, and editors of the agency the record belongs to (here UNODC).
    Writer,
    /// Admins, and editors of either agency of a duplicate pair (here UNODC and IOM).
    Reviewer,
}

const RULES: &[(&str, &str, Rule)] = &[
    ("GET", "/healthz", Rule::Public),
    ("GET", "/readyz", Rule::Public),
    ("POST", "/api/v1/auth/login", Rule::Public),
    ("POST", "/api/v1/auth/refresh", Rule::Public),
    ("POST", "/api/v1/auth/logout", Rule::Signed),
    ("GET", "/api/v1/auth/me", Rule::Signed),
    ("POST", "/api/v1/auth/password", Rule::Signed),
    ("GET", "/api/v1/users", Rule::Admin),
    ("POST", "/api/v1/users", Rule::Admin),
    ("GET", "/api/v1/users/{id}", Rule::Admin),
    ("PATCH", "/api/v1/users/{id}", Rule::Admin),
    ("GET", "/api/v1/agencies", Rule::Signed),
    ("POST", "/api/v1/agencies", Rule::Admin),
    ("GET", "/api/v1/agencies/{id}", Rule::Signed),
    ("PATCH", "/api/v1/agencies/{id}", Rule::Admin),
    ("GET", "/api/v1/audit", Rule::Admin),
    ("GET", "/api/v1/vocabularies", Rule::Signed),
    ("GET", "/api/v1/focal-points", Rule::Signed),
    ("POST", "/api/v1/agencies/{id}/focal-points", Rule::Writer),
    ("GET", "/api/v1/focal-points/{id}", Rule::Signed),
    ("PATCH", "/api/v1/focal-points/{id}", Rule::Writer),
    ("POST", "/api/v1/focal-points/{id}/end", Rule::Writer),
    ("POST", "/api/v1/focal-points/{id}/confirm", Rule::Writer),
    ("GET", "/api/v1/focal-points/{id}/vcard", Rule::Signed),
    ("GET", "/api/v1/focal-points/export.vcf", Rule::Signed),
    ("GET", "/api/v1/focal-points/export.csv", Rule::Signed),
    ("GET", "/api/v1/reports/focal-point-coverage", Rule::Signed),
    ("POST", "/api/v1/activities", Rule::Writer),
    ("GET", "/api/v1/activities", Rule::Signed),
    ("POST", "/api/v1/activities/check", Rule::Signed),
    ("GET", "/api/v1/activities/{id}", Rule::Signed),
    ("GET", "/api/v1/activities/{id}/matches", Rule::Signed),
    ("PATCH", "/api/v1/activities/{id}", Rule::Writer),
    ("DELETE", "/api/v1/activities/{id}", Rule::Writer),
    ("POST", "/api/v1/activities/import", Rule::Writer),
    ("GET", "/api/v1/activities/export.csv", Rule::Signed),
    ("GET", "/api/v1/reports/duplicates", Rule::Signed),
    ("GET", "/api/v1/reports/duplicates/model", Rule::Admin),
    ("POST", "/api/v1/reports/duplicates/reviews", Rule::Reviewer),
    ("GET", "/api/v1/reports/participation", Rule::Signed),
    ("GET", "/api/v1/reports/summary", Rule::Signed),
    ("GET", "/api/v1/notifications", Rule::Signed),
    // Signed-in users, on their own notice (anyone else's is 404 to them: see the notices tests).
    ("POST", "/api/v1/notifications/{id}/read", Rule::Signed),
    ("POST", "/api/v1/notifications/read-all", Rule::Signed),
    ("GET", "/api/v1/me/notification-settings", Rule::Signed),
    ("PUT", "/api/v1/me/notification-settings", Rule::Signed),
    ("GET", "/api/v1/mail", Rule::Admin),
    // The e-mail's signed link is the credential.
    ("GET", "/api/v1/unsubscribe", Rule::Public),
    ("POST", "/api/v1/unsubscribe", Rule::Public),
    ("POST", "/api/v1/reminders", Rule::Admin),
    // The request answers alike for anyone (here 403: the test server has no mail server); the
    // link's token is the credential of the confirmation.
    ("POST", "/api/v1/auth/password-reset", Rule::Public),
    ("POST", "/api/v1/auth/password-reset/confirm", Rule::Public),
    ("POST", "/api/v1/users/{id}/password-reset", Rule::Admin),
    ("GET", "/api/v1/reports/countries", Rule::Signed),
    ("GET", "/api/v1/countries/{code}/timeline", Rule::Signed),
];

/// The principals: nobody, a viewer of UNODC, an editor of UNODC (own agency), an editor of ILO
/// (another agency, in no pair of the fixture), and an admin.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Anonymous,
    Viewer,
    OwnEditor,
    OtherEditor,
    Admin,
}

const EVERYONE: [Who; 5] = [
    Who::Anonymous,
    Who::Viewer,
    Who::OwnEditor,
    Who::OtherEditor,
    Who::Admin,
];

fn allowed(rule: Rule, who: Who) -> bool {
    match (rule, who) {
        (Rule::Public, _) => true,
        (_, Who::Anonymous) => false,
        (Rule::Signed, _) => true,
        (_, Who::Admin) => true,
        (Rule::Writer | Rule::Reviewer, Who::OwnEditor) => true,
        _ => false,
    }
}

/// Records of UNODC (the "own" agency) and of IOM, fresh for each allowed request so that one
/// request's change (an archive, an ended designation) does not decide the next one's answer.
struct Fixture {
    unodc: String,
    activity: String,
    other_activity: String,
    focal_point: String,
    user: String,
}

static SERIAL: AtomicUsize = AtomicUsize::new(0);

fn serial() -> usize {
    SERIAL.fetch_add(1, Ordering::Relaxed)
}

fn activity_body(agency_id: &str, title: &str) -> Value {
    json!({"agency_id": agency_id, "title": title,
           "description": "Workshops for labour inspectors on indicators of forced labour and trafficking in the garment sector.",
           "countries": ["BD"], "themes": ["prevention"], "sdg_targets": ["8.7"],
           "target_groups": ["labour inspectors"], "partners": ["Ministry of Labour"],
           "start_date": "2027-01-01", "end_date": "2027-12-31"})
}

async fn fixture(app: &TestApp, admin: &Session) -> Fixture {
    let n = serial();
    let id_of = |acronym: &'static str| async move {
        app.get(&format!("/api/v1/agencies/{acronym}"), &admin.access)
            .await
            .body["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let unodc = id_of("UNODC").await;
    let iom = id_of("IOM").await;
    let title = format!("Labour inspection against forced labour in garment factories, round {n}");
    let a = app
        .post(
            "/api/v1/activities",
            &admin.access,
            &activity_body(&unodc, &title),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let b = app
        .post(
            "/api/v1/activities",
            &admin.access,
            &activity_body(&iom, &title),
        )
        .await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.text);
    let fp = app
        .post(
            &format!("/api/v1/agencies/{unodc}/focal-points"),
            &admin.access,
            &json!({"role": "alternate", "name": format!("Focal Point {n}"),
                    "email": format!("fp{n}@unodc.example")}),
        )
        .await;
    assert_eq!(fp.status, StatusCode::CREATED, "{}", fp.text);
    let user = app
        .post(
            "/api/v1/users",
            &admin.access,
            &json!({"email": format!("someone{n}@unodc.example"), "name": "Someone",
                    "role": "viewer", "agency_id": unodc, "password": PASSWORD}),
        )
        .await;
    assert_eq!(user.status, StatusCode::CREATED, "{}", user.text);
    let id = |r: &icat_tests::Reply, key: &str| {
        r.body
            .pointer(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Fixture {
        activity: id(&a, "/activity/id"),
        other_activity: id(&b, "/activity/id"),
        focal_point: id(&fp, "/id"),
        user: id(&user, "/id"),
        unodc,
    }
}

/// A notice of the user's own, written straight into the database (what it says does not matter
/// to the matrix), so that every principal has one to mark read.
async fn own_notice(app: &TestApp, user_id: &str) -> String {
    let user_id = user_id.to_owned();
    app.db
        .run(move |conn| {
            use diesel::prelude::*;
            use icat_store::schema::notices;
            let id = icat_common::new_id();
            diesel::insert_into(notices::table)
                .values((
                    notices::id.eq(&id),
                    notices::user_id.eq(&user_id),
                    notices::kind.eq("reminder"),
                    notices::params.eq("{}"),
                    notices::created_at.eq(icat_common::now()),
                ))
                .execute(conn)?;
            Ok(id)
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A valid request for a route against the fixture: the path, a JSON body (or CSV text) and headers.
struct Call {
    path: String,
    json: Option<Value>,
    csv: Option<String>,
    if_match_of: Option<String>,
}

fn call(method: &str, route: &str, fx: &Fixture, session: Option<&Session>) -> Call {
    let n = serial();
    let mut c = Call {
        path: route.to_owned(),
        json: None,
        csv: None,
        if_match_of: None,
    };
    let (path, json): (String, Option<Value>) = match (method, route) {
        ("POST", "/api/v1/auth/login") => (
            route.into(),
            Some(json!({"email": "nobody@icat.test", "password": "not the password at all"})),
        ),
        ("POST", "/api/v1/auth/refresh") => (
            route.into(),
            Some(json!({"refresh_token": session.map(|s| s.refresh.clone()).unwrap_or_default()})),
        ),
        ("POST", "/api/v1/auth/password") => (
            route.into(),
            Some(
                json!({"current_password": PASSWORD, "new_password": "another long passphrase here"}),
            ),
        ),
        ("POST", "/api/v1/users") => (
            route.into(),
            Some(
                json!({"email": format!("new{n}@icat.test"), "name": "New", "role": "viewer",
                        "agency_id": fx.unodc, "password": PASSWORD}),
            ),
        ),
        ("POST", "/api/v1/agencies") => (
            route.into(),
            Some(
                json!({"acronym": format!("NEW{n}"), "name": format!("New member {n}"), "kind": "other"}),
            ),
        ),
        ("PATCH", "/api/v1/users/{id}") => (
            format!("/api/v1/users/{}", fx.user),
            Some(json!({"name": "Renamed"})),
        ),
        ("GET", "/api/v1/users/{id}") => (format!("/api/v1/users/{}", fx.user), None),
        ("PATCH", "/api/v1/agencies/{id}") => (
            format!("/api/v1/agencies/{}", fx.unodc),
            Some(json!({"website": format!("https://www.unodc.org/{n}")})),
        ),
        ("GET", "/api/v1/agencies/{id}") => (format!("/api/v1/agencies/{}", fx.unodc), None),
        ("POST", "/api/v1/agencies/{id}/focal-points") => (
            format!("/api/v1/agencies/{}/focal-points", fx.unodc),
            Some(json!({"role": "alternate", "name": "Another Person",
                        "email": format!("other{n}@unodc.example")})),
        ),
        ("PATCH", "/api/v1/focal-points/{id}") => (
            format!("/api/v1/focal-points/{}", fx.focal_point),
            Some(json!({"title": "Programme Officer"})),
        ),
        (_, r) if r.starts_with("/api/v1/focal-points/{id}") => {
            (r.replace("{id}", &fx.focal_point), None)
        }
        ("POST", "/api/v1/activities") => (
            route.into(),
            Some(activity_body(
                &fx.unodc,
                &format!("Shelter standards review {n}"),
            )),
        ),
        ("POST", "/api/v1/activities/check") => (
            route.into(),
            Some(activity_body(
                &fx.unodc,
                "Labour inspection against forced labour",
            )),
        ),
        ("PATCH", "/api/v1/activities/{id}") => (
            format!("/api/v1/activities/{}", fx.activity),
            Some(json!({"budget_usd": 1000})),
        ),
        (_, r) if r.starts_with("/api/v1/activities/{id}") => {
            (r.replace("{id}", &fx.activity), None)
        }
        ("POST", "/api/v1/activities/import") => {
            c.csv = Some(format!(
                "title,description,countries,themes,start_date,end_date,agency\n\
                 Imported review {n},Review of victim services,TH,protection,2027-01-01,2027-06-30,UNODC\n"
            ));
            (route.into(), None)
        }
        ("PUT", "/api/v1/me/notification-settings") => (
            route.into(),
            Some(json!({"email": "daily", "overlaps": true, "language": "fr"})),
        ),
        (_, "/api/v1/unsubscribe") => {
            let keys = icat_notices::outbox::UnsubscribeKeys::new(icat_tests::JWT_SECRET)
                .unwrap_or_else(|e| panic!("{e}"));
            let token = keys
                .sign(&format!("someone{n}@unodc.example"), "en")
                .unwrap_or_else(|e| panic!("{e}"));
            (format!("{route}?token={token}"), None)
        }
        ("POST", "/api/v1/auth/password-reset") => (
            route.into(),
            Some(json!({"email": format!("someone{n}@unodc.example")})),
        ),
        ("POST", "/api/v1/auth/password-reset/confirm") => (
            route.into(),
            Some(json!({"token": "not-a-token", "new_password": "violet quarry lantern beneath"})),
        ),
        ("POST", "/api/v1/users/{id}/password-reset") => {
            (format!("/api/v1/users/{}/password-reset", fx.user), None)
        }
        ("GET", "/api/v1/countries/{code}/timeline") => {
            ("/api/v1/countries/BD/timeline".to_owned(), None)
        }
        ("POST", "/api/v1/reminders") => (
            route.into(),
            Some(json!({"agencies": ["UNODC"], "note": "probe"})),
        ),
        ("POST", "/api/v1/reports/duplicates/reviews") => (
            route.into(),
            Some(json!({"activity_ids": [fx.activity, fx.other_activity],
                        "decision": "coordinated", "note": "probe"})),
        ),
        _ => (route.into(), None),
    };
    c.path = path;
    c.json = json;
    if method == "PATCH" || method == "DELETE" {
        c.if_match_of = Some(c.path.clone());
    }
    c
}

async fn send(
    app: &TestApp,
    method: &str,
    c: &Call,
    token: Option<&str>,
    admin: &Session,
) -> icat_tests::Reply {
    let mut headers: Vec<(&str, String)> = Vec::new();
    if let Some(of) = &c.if_match_of {
        // The current ETag, read by an admin: a denial must come from the role, not the version.
        headers.push(("if-match", app.get(of, &admin.access).await.etag()));
    }
    if c.csv.is_some() {
        headers.push(("content-type", "text/csv".into()));
    }
    let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
    let mut req = app
        .client
        .request(method, format!("{}{}", app.base, c.path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(j) = &c.json {
        req = req.json(j);
    }
    if let Some(csv) = &c.csv {
        req = req.body(csv.clone());
    }
    for (k, v) in &headers {
        req = req.header(*k, v);
    }
    icat_tests::Reply::of(req).await
}

/// The routes the server itself lists in its OpenAPI document, as (METHOD, path).
async fn served_routes(app: &TestApp) -> BTreeSet<(String, String)> {
    let doc = app
        .send(Method::GET, "/api/openapi.json", None, None, &[])
        .await;
    let mut out = BTreeSet::new();
    for (path, item) in doc.body["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            out.insert((method.to_uppercase(), path.clone()));
        }
    }
    out
}

async fn session_for(app: &TestApp, who: Who) -> Option<Session> {
    match who {
        Who::Anonymous => None,
        Who::Viewer => Some(app.user("viewer", Some("UNODC")).await),
        Who::OwnEditor => Some(app.user("editor", Some("UNODC")).await),
        Who::OtherEditor => Some(app.user("editor", Some("ILO")).await),
        Who::Admin => Some(app.admin().await),
    }
}

async fn every_route_x_every_role_is_allowed_or_denied_as_designed(app: &TestApp) {
    let served = served_routes(app).await;
    let classified: BTreeSet<(String, String)> = RULES
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(
        served, classified,
        "every served route needs a rule here, and every rule a served route"
    );

    let admin = app.admin().await;
    let mut sessions = Vec::new();
    for who in EVERYONE {
        sessions.push((who, session_for(app, who).await));
    }
    let shared = fixture(app, &admin).await;
    let (mut denied, mut passed) = (0, 0);
    for &(method, route, rule) in RULES {
        for (who, session) in &sessions {
            let who = *who;
            let label = format!("{method} {route} as {who:?}");
            if allowed(rule, who) {
                // Routes that end or change the caller's own session get a caller of their own.
                let own;
                let session = if route.starts_with("/api/v1/auth/") && who != Who::Anonymous {
                    own = session_for(app, if who == Who::Admin { Who::Viewer } else { who }).await;
                    own.as_ref()
                } else {
                    session.as_ref()
                };
                let fx = fixture(app, &admin).await;
                let mut c = call(method, route, &fx, session);
                if route == "/api/v1/notifications/{id}/read" {
                    let user = session.map(|s| s.user["id"].clone()).unwrap_or_default();
                    let notice = own_notice(app, user.as_str().unwrap_or_default()).await;
                    c.path = route.replace("{id}", &notice);
                }
                let r = send(app, method, &c, session.map(|s| s.access.as_str()), &admin).await;
                let expected_failure = route == "/api/v1/auth/login"
                    || route == "/api/v1/auth/password-reset/confirm"
                    || (route == "/api/v1/auth/refresh" && session.is_none());
                if route == "/api/v1/auth/password-reset" {
                    // Self-service reset is off without a mail server, for everyone alike.
                    assert_eq!(r.status, StatusCode::FORBIDDEN, "{label}: {}", r.text);
                    assert!(r.text.contains("no mail server"), "{label}: {}", r.text);
                } else if expected_failure {
                    assert!(
                        r.status.is_client_error()
                            && r.status != StatusCode::FORBIDDEN
                            && r.status != StatusCode::NOT_FOUND,
                        "{label}: {} {}",
                        r.status,
                        r.text
                    );
                } else {
                    assert!(
                        r.status.is_success(),
                        "{label} should be allowed: {} {}",
                        r.status,
                        r.text
                    );
                }
                passed += 1;
            } else {
                let c = call(method, route, &shared, session.as_ref());
                let before = app.fingerprint().await;
                let r = send(
                    app,
                    method,
                    &c,
                    session.as_ref().map(|s| s.access.as_str()),
                    &admin,
                )
                .await;
                let (status, code) = if who == Who::Anonymous {
                    (StatusCode::UNAUTHORIZED, "unauthorized")
                } else {
                    (StatusCode::FORBIDDEN, "forbidden")
                };
                assert_eq!(r.status, status, "{label}: {}", r.text);
                assert_eq!(r.code(), code, "{label}");
                assert_eq!(app.fingerprint().await, before, "{label} changed data");
                denied += 1;
            }
        }
    }
    eprintln!(
        "authorisation matrix on {:?}: {} routes x {} principals: {passed} allowed, {denied} denied",
        app.backend,
        RULES.len(),
        EVERYONE.len()
    );
}

/// Fields a client must never set: ids, versions, audit fields, and (where the contract does not
/// give them) agency, role and active flags.
const PROTECTED: &[&str] = &[
    "id",
    "version",
    "created_at",
    "updated_at",
    "created_by",
    "designated_by",
    "archived_at",
    "password_hash",
    "agency_id",
    "role",
    "active",
    "current",
    "last_confirmed_at",
];

/// Fields the contract lets a body carry on a route.
fn legitimate(method: &str, route: &str, field: &str) -> bool {
    matches!(
        (method, route, field),
        ("POST", "/api/v1/users", "role" | "agency_id")
            | (
                "PATCH",
                "/api/v1/users/{id}",
                "role" | "agency_id" | "active"
            )
            | ("PATCH", "/api/v1/agencies/{id}", "active")
            | (
                "POST",
                "/api/v1/activities" | "/api/v1/activities/check",
                "agency_id"
            )
            | ("POST", "/api/v1/agencies/{id}/focal-points", "role")
    )
}

async fn bodies_cannot_assign_protected_fields(app: &TestApp) {
    let admin = app.admin().await;
    let fx = fixture(app, &admin).await;
    let mut probes = 0;
    for &(method, route, _) in RULES {
        if route.starts_with("/api/v1/auth/") {
            continue; // login, refresh and password bodies are covered in auth.rs
        }
        let c = call(method, route, &fx, Some(&admin));
        let Some(Value::Object(body)) = &c.json else {
            continue;
        };
        for field in PROTECTED {
            if legitimate(method, route, field) || body.contains_key(*field) {
                continue;
            }
            let mut probe = body.clone();
            probe.insert(
                (*field).to_owned(),
                json!("00000000-0000-0000-0000-000000000000"),
            );
            let c = Call {
                path: c.path.clone(),
                json: Some(Value::Object(probe)),
                csv: None,
                if_match_of: c.if_match_of.clone(),
            };
            let before = app.fingerprint().await;
            let r = send(app, method, &c, Some(&admin.access), &admin).await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "{method} {route} with {field}: {}",
                r.text
            );
            assert_eq!(r.code(), "validation_failed");
            assert_eq!(
                app.fingerprint().await,
                before,
                "{method} {route} with {field}"
            );
            probes += 1;
        }
    }
    assert!(probes > 50, "only {probes} probes ran");
}
