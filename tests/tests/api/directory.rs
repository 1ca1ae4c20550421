use icat_tests::{Reply, Session, TestApp, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    editors_designate_their_agencys_focal_points,
    a_new_primary_ends_the_current_one,
    racing_designations_leave_exactly_one_primary,
    the_role_matrix_of_directory_writes,
    look_ups_filter_by_every_field,
    ended_designations_are_history,
    designations_are_validated,
    vcards_are_rfc_6350_and_importable,
    the_csv_export_carries_hxl_tags,
    the_coverage_report_shows_gaps_and_stale_details,
);

fn person(role: &str, name: &str, email: &str) -> Value {
    json!({"role": role, "name": name, "title": "Programme Officer", "email": email,
           "phone": "+43 1 26060 4000", "languages": ["en", "fr"],
           "countries": ["NG", "th"], "themes": ["protection", "prosecution"]})
}

async fn designate(app: &TestApp, session: &Session, agency: &str, body: &Value) -> Reply {
    app.post(
        &format!("/api/v1/agencies/{agency}/focal-points"),
        &session.access,
        body,
    )
    .await
}

fn id(r: &Reply) -> String {
    r.body["id"].as_str().unwrap_or_default().to_owned()
}

async fn editors_designate_their_agencys_focal_points(app: &TestApp) {
    let editor = app.user("editor", Some("UNODC")).await;
    let r = designate(
        app,
        &editor,
        "UNODC",
        &person("primary", "Amina Diallo", "Amina.Diallo@UNODC.org"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.header("location").map(str::to_owned),
        Some(format!("/api/v1/focal-points/{}", id(&r)))
    );
    assert_eq!(r.etag(), "\"1\"");
    let fp = &r.body;
    assert_eq!(fp["agency_acronym"], "UNODC");
    assert_eq!(fp["role"], "primary");
    assert_eq!(fp["email"], "amina.diallo@unodc.org");
    assert_eq!(fp["countries"], json!(["NG", "TH"]));
    assert_eq!(fp["themes"], json!(["protection", "prosecution"]));
    assert_eq!(fp["languages"], json!(["en", "fr"]));
    assert_eq!(fp["current"], true);
    assert_eq!(fp["valid_until"], Value::Null);
    assert_eq!(fp["designated_by"], editor.user["id"]);
    assert!(
        fp["last_confirmed_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    let viewer = app.user("viewer", Some("ILO")).await;
    let read = app
        .get(&format!("/api/v1/focal-points/{}", id(&r)), &viewer.access)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, r.body);
    assert_eq!(
        read.header("cache-control"),
        Some("no-store"),
        "contact details are personal data"
    );
    let anonymous = app
        .send(Method::GET, "/api/v1/focal-points", None, None, &[])
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.audit_count("designate", "success").await, 1);
}

async fn a_new_primary_ends_the_current_one(app: &TestApp) {
    let editor = app.user("editor", Some("IOM")).await;
    let first = designate(
        app,
        &editor,
        "IOM",
        &person("primary", "First Person", "first@iom.int"),
    )
    .await;
    let alternate = designate(
        app,
        &editor,
        "IOM",
        &person("alternate", "Alt Person", "alt@iom.int"),
    )
    .await;
    let second = designate(
        app,
        &editor,
        "IOM",
        &person("primary", "Second Person", "second@iom.int"),
    )
    .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);

    let old = app
        .get(
            &format!("/api/v1/focal-points/{}", id(&first)),
            &editor.access,
        )
        .await;
    assert_eq!(old.body["current"], false);
    assert_eq!(
        old.body["valid_until"].as_str().map(str::len),
        Some(10),
        "valid_until is a date"
    );
    assert_eq!(old.body["version"], 2);
    let alt = app
        .get(
            &format!("/api/v1/focal-points/{}", id(&alternate)),
            &editor.access,
        )
        .await;
    assert_eq!(alt.body["current"], true, "alternates are not touched");

    let current = app
        .get("/api/v1/focal-points?agency=iom", &editor.access)
        .await;
    assert_eq!(current.body["total"], 2);
    assert_eq!(
        current.body["items"][0]["name"], "Second Person",
        "primary first"
    );
    assert_eq!(current.body["items"][1]["name"], "Alt Person");
    let history = app
        .get(
            "/api/v1/focal-points?agency=IOM&include_history=true",
            &editor.access,
        )
        .await;
    assert_eq!(history.body["total"], 3);
    let primaries = app
        .get(
            "/api/v1/focal-points?agency=IOM&role=primary&include_history=true",
            &editor.access,
        )
        .await;
    let names: Vec<&str> = primaries.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["Second Person", "First Person"],
        "current before past"
    );
}

async fn racing_designations_leave_exactly_one_primary(app: &TestApp) {
    let admin = app.admin().await;
    designate(
        app,
        &admin,
        "UNHCR",
        &person("primary", "Before Race", "before@unhcr.org"),
    )
    .await;
    let (a, b) = (
        person("primary", "Racer One", "one@unhcr.org"),
        person("primary", "Racer Two", "two@unhcr.org"),
    );
    let (ra, rb) = tokio::join!(
        designate(app, &admin, "UNHCR", &a),
        designate(app, &admin, "UNHCR", &b)
    );
    assert_eq!(ra.status, StatusCode::CREATED, "{}", ra.text);
    assert_eq!(rb.status, StatusCode::CREATED, "{}", rb.text);
    let current = app
        .get(
            "/api/v1/focal-points?agency=UNHCR&role=primary",
            &admin.access,
        )
        .await;
    assert_eq!(current.body["total"], 1, "{}", current.text);
    let history = app
        .get(
            "/api/v1/focal-points?agency=UNHCR&role=primary&include_history=true",
            &admin.access,
        )
        .await;
    assert_eq!(history.body["total"], 3);
}

async fn the_role_matrix_of_directory_writes(app: &TestApp) {
    let admin = app.admin().await;
    let own_editor = app.user("editor", Some("UNICEF")).await;
    let other_editor = app.user("editor", Some("ILO")).await;
    let own_viewer = app.user("viewer", Some("UNICEF")).await;
    let other_viewer = app.user("viewer", Some("ILO")).await;
    let target = id(&designate(
        app,
        &admin,
        "UNICEF",
        &person("alternate", "Target Person", "target@unicef.org"),
    )
    .await);
    let fp_path = format!("/api/v1/focal-points/{target}");

    for (who, session) in [
        ("other editor", &other_editor),
        ("own viewer", &own_viewer),
        ("other viewer", &other_viewer),
    ] {
        let before = app.fingerprint().await;
        let tries = [
            designate(
                app,
                session,
                "UNICEF",
                &person("primary", "Intruder", "x@unicef.org"),
            )
            .await,
            app.patch(
                &fp_path,
                &session.access,
                "\"1\"",
                &json!({"name": "Changed"}),
            )
            .await,
            app.send(
                Method::POST,
                &format!("{fp_path}/confirm"),
                Some(&session.access),
                None,
                &[],
            )
            .await,
            app.send(
                Method::POST,
                &format!("{fp_path}/end"),
                Some(&session.access),
                None,
                &[],
            )
            .await,
        ];
        for r in &tries {
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}: {}", r.text);
            assert_eq!(r.code(), "forbidden");
        }
        assert_eq!(
            app.fingerprint().await,
            before,
            "{who}: a denied request changed data"
        );
    }
    // A PATCH without If-Match from a stranger is still 403: rights come first.
    let r = app
        .send(
            Method::PATCH,
            &fp_path,
            Some(&other_editor.access),
            Some(&json!({"name": "X"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The other editor may write for their own agency.
    let r = designate(
        app,
        &other_editor,
        "ILO",
        &person("primary", "Own Person", "own@ilo.org"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);

    for (who, session) in [("own editor", &own_editor), ("admin", &admin)] {
        let read = app.get(&fp_path, &session.access).await;
        let r = app
            .patch(
                &fp_path,
                &session.access,
                &read.etag(),
                &json!({"title": format!("Set by {who}")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{who}: {}", r.text);
        let r = app
            .send(
                Method::POST,
                &format!("{fp_path}/confirm"),
                Some(&session.access),
                None,
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{who}: {}", r.text);
    }
    let r = app
        .send(
            Method::POST,
            &format!("{fp_path}/end"),
            Some(&own_editor.access),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["current"], false);
    let r = designate(
        app,
        &own_editor,
        "UNICEF",
        &person("primary", "New Primary", "new@unicef.org"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

async fn look_ups_filter_by_every_field(app: &TestApp) {
    let admin = app.admin().await;
    let mut a = person("primary", "Héloïse Müller", "h.muller@unodc.org");
    a["countries"] = json!(["FR", "DE"]);
    a["themes"] = json!(["prevention"]);
    let mut b = person("alternate", "John Smith", "j.smith@unodc.org");
    b["countries"] = json!(["NG"]);
    b["themes"] = json!(["prosecution", "partnerships"]);
    b["title"] = json!("Legal Adviser");
    let mut c = person("primary", "Joan Smithers", "joan@ilo.org");
    c["countries"] = json!(["NG", "GH"]);
    c["themes"] = json!(["partnerships"]);
    for (agency, body) in [("UNODC", &a), ("UNODC", &b), ("ILO", &c)] {
        assert_eq!(
            designate(app, &admin, agency, body).await.status,
            StatusCode::CREATED
        );
    }
    let names = |r: &Reply| -> Vec<String> {
        r.body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["name"].as_str().map(str::to_owned))
            .collect()
    };
    let cases = [
        ("agency=unodc", vec!["Héloïse Müller", "John Smith"]),
        ("role=primary", vec!["Joan Smithers", "Héloïse Müller"]),
        ("country=ng", vec!["Joan Smithers", "John Smith"]),
        ("country=DE", vec!["Héloïse Müller"]),
        ("theme=partnerships", vec!["Joan Smithers", "John Smith"]),
        ("country=NG&theme=prosecution", vec!["John Smith"]),
        ("q=smi", vec!["Joan Smithers", "John Smith"]),
        ("q=smith", vec!["Joan Smithers", "John Smith"]),
        ("q=jo%20smith", vec!["Joan Smithers", "John Smith"]),
        ("q=joh%20smi", vec!["John Smith"]),
        ("q=muller", vec!["Héloïse Müller"]),
        ("q=HELO", vec!["Héloïse Müller"]),
        ("q=legal", vec!["John Smith"]),
        ("q=ilo.org", vec!["Joan Smithers"]),
        ("q=nobody", vec![]),
        (
            "q=%25",
            vec!["Joan Smithers", "Héloïse Müller", "John Smith"],
        ),
        ("agency=ILO&role=alternate", vec![]),
        ("agency=NOSUCH", vec![]),
    ];
    for (query, expected) in cases {
        let r = app
            .get(&format!("/api/v1/focal-points?{query}"), &admin.access)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
        assert_eq!(names(&r), expected, "{query}");
        assert_eq!(r.body["total"], expected.len(), "{query}");
    }
    let page = app
        .get("/api/v1/focal-points?per_page=2&page=2", &admin.access)
        .await;
    assert_eq!(names(&page), ["John Smith"]);
    assert_eq!(page.body["total"], 3);
    // Past the last page: no rows, and still the true total.
    let beyond = app
        .get("/api/v1/focal-points?per_page=2&page=5", &admin.access)
        .await;
    assert!(names(&beyond).is_empty());
    assert_eq!(beyond.body["total"], 3);
    for bad in [
        "country=XX",
        "theme=rescue",
        "role=boss",
        "per_page=500",
        "include_history=perhaps",
        "sort=name",
    ] {
        let r = app
            .get(&format!("/api/v1/focal-points?{bad}"), &admin.access)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.code(), "validation_failed");
    }
}

async fn ended_designations_are_history(app: &TestApp) {
    let editor = app.user("editor", Some("OHCHR")).await;
    let r = designate(
        app,
        &editor,
        "OHCHR",
        &person("alternate", "Short Stay", "short@ohchr.org"),
    )
    .await;
    let path = format!("/api/v1/focal-points/{}", id(&r));
    let ended = app
        .send(
            Method::POST,
            &format!("{path}/end"),
            Some(&editor.access),
            None,
            &[],
        )
        .await;
    assert_eq!(ended.status, StatusCode::OK);
    let before = app.fingerprint().await;
    let again = app
        .send(
            Method::POST,
            &format!("{path}/end"),
            Some(&editor.access),
            None,
            &[],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let confirm = app
        .send(
            Method::POST,
            &format!("{path}/confirm"),
            Some(&editor.access),
            None,
            &[],
        )
        .await;
    assert_eq!(confirm.status, StatusCode::CONFLICT);
    let patch = app
        .patch(
            &path,
            &editor.access,
            &ended.etag(),
            &json!({"name": "Rewritten"}),
        )
        .await;
    assert_eq!(patch.status, StatusCode::CONFLICT);
    assert_eq!(patch.code(), "conflict");
    assert_eq!(app.fingerprint().await, before);
    assert_eq!(
        app.get(&path, &editor.access).await.body["name"],
        "Short Stay"
    );
}

async fn designations_are_validated(app: &TestApp) {
    let admin = app.admin().await;
    let before = app.fingerprint().await;
    let bad = json!({"role": "chief", "name": "", "email": "nope", "phone": "call me",
                     "languages": ["english"], "countries": ["XX"], "themes": ["rescue"], "valid_from": "tomorrow"});
    let r = designate(app, &admin, "UNODC", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "role",
            "name",
            "email",
            "phone",
            "languages",
            "countries",
            "themes",
            "valid_from"
        ]
    );
    let mut extra = person("primary", "Mass Assign", "mass@unodc.org");
    extra["valid_until"] = json!("2020-01-01");
    assert_eq!(
        designate(app, &admin, "UNODC", &extra).await.status,
        StatusCode::BAD_REQUEST
    );
    let mut extra = person("primary", "Mass Assign", "mass@unodc.org");
    extra["agency_id"] = json!("other");
    assert_eq!(
        designate(app, &admin, "UNODC", &extra).await.status,
        StatusCode::BAD_REQUEST
    );
    let r = designate(
        app,
        &admin,
        "NOSUCH",
        &person("primary", "Nobody", "n@x.org"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.fingerprint().await, before);

    // PATCH: validation after rights and If-Match.
    let created = designate(
        app,
        &admin,
        "UNODC",
        &person("primary", "Valid Person", "valid@unodc.org"),
    )
    .await;
    let path = format!("/api/v1/focal-points/{}", id(&created));
    let r = app
        .patch(
            &path,
            &admin.access,
            "\"1\"",
            &json!({"email": "broken", "countries": ["ZZ"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .patch(&path, &admin.access, "\"1\"", &json!({"role": "alternate"}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "the role is not changed in place"
    );
    let r = app
        .send(
            Method::PATCH,
            &path,
            Some(&admin.access),
            Some(&json!({"name": "X Y"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_REQUIRED);
    let r = app
        .patch(&path, &admin.access, "\"7\"", &json!({"name": "X Y"}))
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let r = app
        .patch(
            &path,
            &admin.access,
            "\"1\"",
            &json!({"name": "Renamed Person", "phone": null, "countries": ["GH"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["phone"], Value::Null);
    assert_eq!(r.body["title"], "Programme Officer");
    assert_eq!(r.etag(), "\"2\"");
    // The look-up index follows the change.
    let found = app
        .get("/api/v1/focal-points?q=renamed&country=GH", &admin.access)
        .await;
    assert_eq!(found.body["total"], 1);
    let gone = app
        .get(
            "/api/v1/focal-points?country=NG&agency=UNODC",
            &admin.access,
        )
        .await;
    assert_eq!(gone.body["total"], 0);
}

async fn vcards_are_rfc_6350_and_importable(app: &TestApp) {
    let admin = app.admin().await;
    let mut tricky = person("primary", "Doe, Jane; Jr.", "jane.doe@unodc.org");
    tricky["title"] = json!("Head, Human Trafficking; Migrant Smuggling Section");
    let r = designate(app, &admin, "UNODC", &tricky).await;
    let path = format!("/api/v1/focal-points/{}/vcard", id(&r));
    let card = app.get(&path, &admin.access).await;
    assert_eq!(card.status, StatusCode::OK);
    assert_eq!(
        card.header("content-type"),
        Some("text/vcard; charset=utf-8")
    );
    assert!(
        card.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment"))
    );
    let text = &card.text;
    assert!(text.starts_with("BEGIN:VCARD\r\nVERSION:4.0\r\n"));
    assert!(text.ends_with("END:VCARD\r\n"));
    assert!(text.contains("FN:Doe\\, Jane; Jr.\r\n"), "{text}");
    assert!(text.contains("N:Jr.;Doe\\, Jane\\;;;;\r\n"), "{text}");
    assert!(text.contains("ORG:United Nations Office on Drugs and Crime\r\n"));
    assert!(text.contains("EMAIL;TYPE=work:jane.doe@unodc.org\r\n"));
    assert!(text.contains("TEL;VALUE=uri;TYPE=work:tel:+431260604000\r\n"));
    assert!(text.contains("LANG;PREF=1:en\r\n"));
    assert!(text.contains(&format!("UID:urn:uuid:{}\r\n", id(&r))));
    assert!(text.contains("ROLE:ICAT primary focal point\r\n"));
    assert!(text.split("\r\n").all(|line| line.len() <= 75));

    // A real vCard parser reads it back.
    let cards = vcard4::parse(text).unwrap_or_else(|e| panic!("not a valid vCard: {e}\n{text}"));
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0].formatted_name[0].value, "Doe, Jane; Jr.");
    assert_eq!(cards[0].email[0].value, "jane.doe@unodc.org");
    assert_eq!(
        cards[0].title[0].value,
        "Head, Human Trafficking; Migrant Smuggling Section"
    );

    designate(
        app,
        &admin,
        "ILO",
        &person("primary", "Second Card", "second@ilo.org"),
    )
    .await;
    let all = app
        .get("/api/v1/focal-points/export.vcf", &admin.access)
        .await;
    assert_eq!(all.status, StatusCode::OK);
    let cards = vcard4::parse(&all.text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cards.len(), 2);
    let filtered = app
        .get("/api/v1/focal-points/export.vcf?agency=ILO", &admin.access)
        .await;
    assert_eq!(
        vcard4::parse(&filtered.text).map(|c| c.len()).unwrap_or(0),
        1
    );
}

async fn the_csv_export_carries_hxl_tags(app: &TestApp) {
    let admin = app.admin().await;
    designate(
        app,
        &admin,
        "UNODC",
        &person("primary", "=HYPERLINK(\"http://evil\")", "csv@unodc.org"),
    )
    .await;
    designate(
        app,
        &admin,
        "ILO",
        &person("alternate", "Plain Name", "plain@ilo.org"),
    )
    .await;
    let r = app
        .get("/api/v1/focal-points/export.csv", &admin.access)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let mut rows = csv::Reader::from_reader(r.text.as_bytes());
    let headers: Vec<String> = rows
        .headers()
        .map(|h| h.iter().map(str::to_owned).collect())
        .unwrap_or_default();
    assert_eq!(
        &headers[..5],
        ["id", "agency", "agency_name", "role", "name"]
    );
    let records: Vec<csv::StringRecord> = rows.records().filter_map(Result::ok).collect();
    assert_eq!(records.len(), 3, "a hashtag row and two focal points");
    assert_eq!(&records[0][1], "#org+acronym");
    assert_eq!(&records[0][4], "#contact+name");
    assert_eq!(&records[0][6], "#contact+email");
    assert!(records[0].iter().all(|tag| tag.starts_with('#')));
    assert_eq!(&records[1][1], "ILO");
    assert_eq!(
        &records[2][4], "'=HYPERLINK(\"http://evil\")",
        "formulas are defused"
    );
    assert_eq!(&records[2][9], "NG;TH");
}

async fn the_coverage_report_shows_gaps_and_stale_details(app: &TestApp) {
    let admin = app.admin().await;
    let r = app
        .get("/api/v1/reports/focal-point-coverage", &admin.access)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["agencies_total"], 13);
    assert_eq!(r.body["with_primary"], 0);
    assert_eq!(r.body["without_primary"].as_array().map(Vec::len), Some(13));

    let fp = designate(
        app,
        &admin,
        "UNODC",
        &person("primary", "Kept Current", "kept@unodc.org"),
    )
    .await;
    designate(
        app,
        &admin,
        "ILO",
        &person("alternate", "Only Alternate", "alt@ilo.org"),
    )
    .await;
    let stale = designate(
        app,
        &admin,
        "IOM",
        &person("primary", "Gone Stale", "stale@iom.int"),
    )
    .await;
    // Thirteen months without confirmation.
    let stale_id = id(&stale);
    app.db
        .run(move |conn| {
            use diesel::prelude::*;
            use icat_store::schema::focal_points::dsl;
            let long_ago = icat_common::now() - chrono::Duration::days(400);
            diesel::update(dsl::focal_points.find(stale_id))
                .set(dsl::last_confirmed_at.eq(long_ago))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let viewer = app.user("viewer", Some("UNFPA")).await;
    let r = app
        .get("/api/v1/reports/focal-point-coverage", &viewer.access)
        .await;
    assert_eq!(r.body["with_primary"], 2);
    let missing: Vec<&str> = r.body["without_primary"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["acronym"].as_str())
        .collect();
    assert_eq!(missing.len(), 11);
    assert!(missing.contains(&"ILO") && !missing.contains(&"UNODC") && !missing.contains(&"IOM"));
    let unconfirmed: Vec<&str> = r.body["unconfirmed"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(unconfirmed, ["Gone Stale"]);
    assert!(!unconfirmed.contains(&"Kept Current"), "{}", fp.text);

    let confirm = app
        .send(
            Method::POST,
            &format!("/api/v1/focal-points/{}/confirm", id(&stale)),
            Some(&admin.access),
            None,
            &[],
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK);
    let r = app
        .get("/api/v1/reports/focal-point-coverage", &admin.access)
        .await;
    assert_eq!(r.body["unconfirmed"], json!([]));
}
