//! The match model through the API: estimated by the rebuild from the workspace's own log,
//! readable by the secretariat, used alike by the live check, the record answer, the matches of
//! an activity and the report, and taught by people's reviews.

use icat_tests::{Session, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    the_rebuild_estimates_the_model_that_every_path_scores_with,
    reviews_change_the_scores_of_similar_pairs_after_a_rebuild,
    a_spanish_record_meets_its_english_twin,
    a_french_rewording_is_seen_through_its_meaning,
);

const SUBJECTS: [&str; 10] = [
    "child marriage",
    "bonded labour in brick kilns",
    "abuse of domestic workers",
    "forced begging",
    "exploitation in agriculture",
    "organ removal",
    "forced criminality",
    "recruitment fraud",
    "exploitation in mining",
    "sexual exploitation in tourism",
];
const ACTIONS: [(&str, &str); 5] = [
    (
        "Baseline survey on {s} in Nigeria",
        "Household survey and interviews measuring {s}, with a public report and policy advice.",
    ),
    (
        "Helpline for people affected by {s}",
        "A free line with counsellors who refer people affected by {s} to shelters and lawyers.",
    ),
    (
        "Radio drama about {s}",
        "Weekly radio episodes and call-in shows about {s} in Hausa, Yoruba and Igbo.",
    ),
    (
        "Case management procedures for {s}",
        "Standard procedures and forms for social workers handling cases of {s}.",
    ),
    (
        "Teacher training against {s}",
        "Teachers learn to notice and report {s} among their pupils.",
    ),
];

fn body(agency_id: &str, title: &str, description: &str) -> Value {
    json!({"agency_id": agency_id, "title": title, "description": description,
           "countries": ["NG"], "themes": ["prevention"], "sdg_targets": ["16.2"],
           "start_date": "2026-01-01", "end_date": "2026-12-31"})
}

async fn record(app: &TestApp, admin: &Session, body: &Value) -> Value {
    let r = app.post("/api/v1/activities", &admin.access, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

/// A log of different work by three agencies in one country and period, enough for an estimate:
/// every (subject, action) once, each by the next agency in turn.
async fn log(app: &TestApp, admin: &Session, agencies: &[String]) {
    let mut n = 0;
    for subject in SUBJECTS {
        for (title, description) in ACTIONS {
            let agency = &agencies[n % agencies.len()];
            n += 1;
            let (t, d) = (
                title.replace("{s}", subject),
                description.replace("{s}", subject),
            );
            record(app, admin, &body(agency, &t, &d)).await;
        }
    }
}

/// Three agencies that write the log, and IOM, which records twins of their work.
async fn agencies(app: &TestApp) -> (Vec<String>, String) {
    let mut three = Vec::new();
    for acronym in ["UNODC", "ILO", "UNICEF"] {
        three.push(app.agency_id(acronym).await);
    }
    (three, app.agency_id("IOM").await)
}

fn score_of(matches: &Value, id: &str) -> Option<f64> {
    matches
        .as_array()?
        .iter()
        .find(|m| m["activity_id"] == id)?
        .get("score")?
        .as_f64()
}

async fn rebuild(app: &TestApp) {
    app.rebuild().await;
}

async fn model(app: &TestApp, admin: &Session) -> Value {
    let r = app
        .get("/api/v1/reports/duplicates/model", &admin.access)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

async fn the_rebuild_estimates_the_model_that_every_path_scores_with(app: &TestApp) {
    let admin = app.admin().await;
    let (agencies, iom) = agencies(app).await;
    // A young workspace scores with the shipped model; editors cannot read it.
    let shipped = model(app, &admin).await;
    assert_eq!(shipped["source"], "shipped");
    assert_eq!(shipped["duplicate_at"], 0.9);
    assert_eq!(shipped["possible_at"], 0.5);
    assert_eq!(shipped["comparisons"].as_array().map(Vec::len), Some(10));
    assert!(shipped["estimated_at"].is_null());
    let editor = app.user("editor", Some("UNODC")).await;
    let denied = app
        .get("/api/v1/reports/duplicates/model", &editor.access)
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    log(app, &admin, &agencies).await;
    let original = record(
        app,
        &admin,
        &body(
            &agencies[0],
            "Training of judges and prosecutors on trafficking cases in Nigeria",
            "Five workshops for federal high court judges and prosecutors on investigating and \
             adjudicating trafficking cases, victim-centred approaches and cooperation.",
        ),
    )
    .await;
    let original_id = original["activity"]["id"].as_str().unwrap_or_default();
    rebuild(app).await;
    let estimated = model(app, &admin).await;
    assert_eq!(estimated["source"], "estimated", "{estimated}");
    assert!(
        estimated["candidate_pairs"].as_u64() >= Some(200),
        "{estimated}"
    );
    assert_eq!(estimated["activities"], 51);
    assert!(estimated["estimated_at"].is_string());
    assert_eq!(estimated["expected"].as_array().map(Vec::len), Some(2));
    assert_ne!(estimated["prior"], shipped["prior"]);

    // The same pair, four ways: the live check, the record answer, the activity's matches and
    // the report all give it one probability, that of the estimated model.
    let twin = body(
        &iom,
        "Training judges and prosecutors on trafficking in persons cases (Nigeria)",
        "Workshops for federal high court judges and prosecutors: investigating and adjudicating \
         trafficking cases, victim-centred approaches, cooperation in criminal matters.",
    );
    let checked = app
        .post("/api/v1/activities/check", &admin.access, &twin)
        .await;
    assert_eq!(checked.status, StatusCode::OK, "{}", checked.text);
    let live = score_of(&checked.body["possible_duplicates"], original_id);
    let recorded = record(app, &admin, &twin).await;
    let twin_id = recorded["activity"]["id"].as_str().unwrap_or_default();
    let answered = score_of(&recorded["possible_duplicates"], original_id);
    let matches = app
        .get(
            &format!("/api/v1/activities/{twin_id}/matches"),
            &admin.access,
        )
        .await;
    let after = score_of(&matches.body["possible_duplicates"], original_id);
    let report = app
        .get("/api/v1/reports/duplicates?status=all", &admin.access)
        .await;
    let reported = report.body["clusters"].as_array().and_then(|clusters| {
        clusters.iter().find_map(|c| {
            c["pairs"].as_array()?.iter().find_map(|p| {
                let ids = [p["a"].as_str()?, p["b"].as_str()?];
                (ids.contains(&original_id) && ids.contains(&twin_id))
                    .then(|| p["score"].as_f64())?
            })
        })
    });
    assert!(live.is_some_and(|s| s >= 0.5), "{}", checked.text);
    assert_eq!(live, answered);
    assert_eq!(live, after, "{}", matches.text);
    assert_eq!(live, reported, "{}", report.text);
}

async fn reviews_change_the_scores_of_similar_pairs_after_a_rebuild(app: &TestApp) {
    let admin = app.admin().await;
    let (agencies, iom) = agencies(app).await;
    log(app, &admin, &agencies).await;
    // One title, two descriptions with no word in common: pairs the model calls different work.
    let mut pairs = Vec::new();
    for (i, (title, a, b)) in [
        (
            "Awareness campaign on human trafficking in Kano",
            "posters in markets",
            "a school quiz",
        ),
        (
            "Training of police officers in Lagos",
            "first response",
            "cybercrime units",
        ),
        (
            "Support to the national action plan, Abuja",
            "costing",
            "a monitoring framework",
        ),
        ("Shelter for victims in Enugu", "a new roof", "night staff"),
        (
            "World Day event in Benin City",
            "a march",
            "a film screening",
        ),
        (
            "Capacity building for labour inspectors in Calabar",
            "port visits",
            "farm audits",
        ),
        (
            "Community dialogue on safe migration in Sokoto",
            "imams",
            "women's groups",
        ),
        (
            "Data collection workshop in Ibadan",
            "court records",
            "shelter registers",
        ),
    ]
    .iter()
    .enumerate()
    {
        let x = record(
            app,
            &admin,
            &body(
                &agencies[i % 3],
                title,
                &format!("Work on {a} with local partners."),
            ),
        )
        .await;
        let y = record(
            app,
            &admin,
            &body(&iom, title, &format!("A separate effort on {b}.")),
        )
        .await;
        pairs.push((
            x["activity"]["id"].as_str().unwrap_or_default().to_owned(),
            y["activity"]["id"].as_str().unwrap_or_default().to_owned(),
        ));
    }
    rebuild(app).await;
    // The pair's score as the activity's matches give it, scored afresh with the current model.
    let scored = |a: String, b: String| {
        let admin = admin.access.clone();
        async move {
            let r = app
                .get(&format!("/api/v1/activities/{a}/matches"), &admin)
                .await;
            score_of(&r.body["possible_duplicates"], &b).unwrap_or(-1.0)
        }
    };
    let (last_a, last_b) = pairs[7].clone();
    let before = scored(last_a.clone(), last_b.clone()).await;
    assert!(before >= 0.0, "the pair is among the activity's matches");
    // The secretariat says seven of them are the same work after all (one event, described by
    // each agency from its own side).
    for (a, b) in &pairs[..7] {
        let r = app
            .post(
                "/api/v1/reports/duplicates/reviews",
                &admin.access,
                &json!({"activity_ids": [a, b], "decision": "duplicate"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    rebuild(app).await;
    let taught = model(app, &admin).await;
    assert_eq!(taught["labelled_pairs"], 7, "{taught}");
    let after = scored(last_a, last_b).await;
    println!("the eighth pair: {before} before the reviews, {after} after");
    assert!(
        before < 0.5 && after >= 0.5,
        "the eighth pair scored {before} before the reviews and {after} after"
    );
}

/// The log, then one English activity by UNODC, then a rebuild: the admin's session, IOM's id
/// (which records the twins) and the English activity's id.
async fn english_original(
    app: &TestApp,
    title: &str,
    description: &str,
) -> (Session, String, String) {
    let admin = app.admin().await;
    let (agencies, iom) = agencies(app).await;
    log(app, &admin, &agencies).await;
    let english = record(app, &admin, &body(&agencies[0], title, description)).await;
    let english_id = english["activity"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    app.rebuild().await;
    (admin, iom, english_id)
}

async fn a_spanish_record_meets_its_english_twin(app: &TestApp) {
    let (admin, iom, english_id) = english_original(
        app,
        "Training of border police on identifying child victims of trafficking",
        "Workshops for border police and immigration officers on the identification of \
         children who are victims of trafficking and on their referral to protection services.",
    )
    .await;
    let spanish = body(
        &iom,
        "Capacitación de la policía de fronteras sobre la identificación de niños víctimas de trata",
        "Talleres para la policía de fronteras y los funcionarios de migración sobre la \
         identificación de los niños víctimas de trata y su derivación a los servicios de protección.",
    );
    let checked = app
        .post("/api/v1/activities/check", &admin.access, &spanish)
        .await;
    let found = checked.body["possible_duplicates"]
        .as_array()
        .and_then(|all| all.iter().find(|m| m["activity_id"] == english_id))
        .cloned()
        .unwrap_or_default();
    assert!(
        found["level"] == "duplicate" || found["level"] == "possible",
        "{}",
        checked.text
    );
}

/// The `meaning` reason of the match with `id` among `matches`.
fn meaning_of(matches: &Value, id: &str) -> Option<Value> {
    matches
        .as_array()?
        .iter()
        .find(|m| m["activity_id"] == id)?["reasons"]
        .as_array()?
        .iter()
        .find(|r| r["feature"] == "meaning")
        .cloned()
}

async fn a_french_rewording_is_seen_through_its_meaning(app: &TestApp) {
    let (admin, iom, english_id) = english_original(
        app,
        "Getting children out of work on fishing boats",
        "Boys who work on fishing boats are taken back to their families and to school, and the \
         boat owners are prosecuted.",
    )
    .await;
    let english_id = english_id.as_str();
    // The same work in French, in words that share nothing with the English ones.
    let french = body(
        &iom,
        "Retirer les enfants du travail sur les bateaux de pêche",
        "Les garçons qui travaillent sur les bateaux de pêche retrouvent leur famille et \
         l'école, et les propriétaires des bateaux sont poursuivis en justice.",
    );
    let checked = app
        .post("/api/v1/activities/check", &admin.access, &french)
        .await;
    assert_eq!(checked.status, StatusCode::OK, "{}", checked.text);
    let meaning = meaning_of(&checked.body["possible_duplicates"], english_id)
        .unwrap_or_else(|| panic!("no meaning reason for the English twin: {}", checked.text));
    assert!(meaning["similarity"].as_f64() >= Some(0.75), "{meaning}");
    assert!(meaning["weight"].as_f64() > Some(0.0), "{meaning}");
    assert!(
        meaning["detail"]
            .as_str()
            .is_some_and(|d| d.contains("French and English")),
        "{meaning}"
    );
    // Recording gives the same reason (the vector is computed alike on every path), and the
    // match outranks every piece of the log's different work.
    let recorded = record(app, &admin, &french).await;
    let matches = &recorded["possible_duplicates"];
    assert_eq!(meaning_of(matches, english_id), Some(meaning), "{recorded}");
    assert_eq!(matches[0]["activity_id"], english_id, "{recorded}");
}
