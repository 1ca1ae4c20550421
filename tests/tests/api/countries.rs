//! Where the work is: the per-country figures of the map agree with the activity list under the same
//! filters, pairs count once and only between activities both in the period, and a country's
//! timeline holds each of its activities once with the pairs between them and the focal points.

use icat_tests::{Session, TestApp, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    the_map_counts_what_the_list_finds_and_pairs_once,
    a_country_timeline_shows_its_activities_pairs_and_focal_points,
);

fn activity(
    title: &str,
    description: &str,
    countries: &[&str],
    theme: &str,
    start: &str,
    end: &str,
) -> Value {
    json!({"title": title, "description": description, "countries": countries, "themes": [theme],
           "sdg_targets": ["16.2"], "target_groups": ["judges", "prosecutors"],
           "partners": ["National Judicial Institute"], "start_date": start, "end_date": end})
}

/// UNODC's training in Nigeria, IOM's near copy (Nigeria and Ghana), ILO's later prevention work in
/// Nigeria, UNODC's shelter work in Thailand. Returns their ids.
async fn fixture(app: &TestApp) -> (Session, [String; 4]) {
    let unodc = app.user("editor", Some("UNODC")).await;
    let iom = app.user("editor", Some("IOM")).await;
    let ilo = app.user("editor", Some("ILO")).await;
    let bodies = [
        (
            &unodc,
            activity(
                "Training of judges and prosecutors on human trafficking cases in Nigeria",
                "Five workshops for judges and prosecutors of the federal high courts on investigating and adjudicating human trafficking cases.",
                &["NG"],
                "prosecution",
                "2026-03-01",
                "2026-12-31",
            ),
        ),
        (
            &iom,
            activity(
                "Training judges and prosecutors on trafficking in persons cases (Nigeria)",
                "Workshops for federal high court judges and prosecutors: investigating and adjudicating trafficking cases.",
                &["NG", "GH"],
                "prosecution",
                "2026-04-01",
                "2026-12-31",
            ),
        ),
        (
            &ilo,
            activity(
                "Fair recruitment campaign for domestic workers",
                "Radio and community outreach on fair recruitment and the risks of deceptive job offers abroad.",
                &["NG"],
                "prevention",
                "2027-01-01",
                "2027-06-30",
            ),
        ),
        (
            &unodc,
            activity(
                "Shelter standards for survivors",
                "Minimum standards and staff training for shelters receiving survivors of trafficking.",
                &["TH"],
                "protection",
                "2026-05-01",
                "2026-08-31",
            ),
        ),
    ];
    let mut ids = Vec::new();
    for (who, body) in bodies {
        let r = app.post("/api/v1/activities", &who.access, &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        ids.push(
            r.body["activity"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    let ids: [String; 4] = ids.try_into().unwrap_or_else(|_| unreachable!());
    (unodc, ids)
}

fn country<'a>(report: &'a Value, code: &str) -> Option<&'a Value> {
    report["countries"]
        .as_array()?
        .iter()
        .find(|c| c["country"] == code)
}

async fn the_map_counts_what_the_list_finds_and_pairs_once(app: &TestApp) {
    let (unodc, [a, b, ..]) = fixture(app).await;
    let viewer = app.user("viewer", Some("ILO")).await;
    let june = "from=2026-06-01&to=2026-06-30";
    let r = app
        .get(&format!("/api/v1/reports/countries?{june}"), &viewer.access)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let ng = country(&r.body, "NG").cloned().unwrap_or_default();
    assert_eq!(ng["activities"], 2, "{}", r.text);
    assert_eq!(ng["agencies"], json!(["IOM", "UNODC"]));
    assert_eq!(ng["by_theme"], json!({"prosecution": 2}));
    assert_eq!(
        ng["open_cases"], 1,
        "the near copy, counted in the country both name"
    );
    assert_eq!(
        country(&r.body, "GH").map(|c| c["open_cases"].clone()),
        Some(json!(0))
    );
    assert_eq!(
        country(&r.body, "TH").map(|c| c["activities"].clone()),
        Some(json!(1))
    );
    assert!(country(&r.body, "FR").is_none());
    // The same filters on the activity list find the same activities, country by country.
    for filters in [
        june,
        "from=2027-02-01&to=2027-02-01&theme=prevention",
        "from=2026-01-01&to=2027-12-31&agency=ILO",
    ] {
        let map = app
            .get(
                &format!("/api/v1/reports/countries?{filters}"),
                &viewer.access,
            )
            .await;
        assert_eq!(map.status, StatusCode::OK, "{filters}: {}", map.text);
        for c in map.body["countries"].as_array().into_iter().flatten() {
            let code = c["country"].as_str().unwrap_or_default();
            let list = app
                .get(
                    &format!("/api/v1/activities?country={code}&{filters}"),
                    &viewer.access,
                )
                .await;
            assert_eq!(list.status, StatusCode::OK, "{}", list.text);
            assert_eq!(c["activities"], list.body["total"], "{filters} {code}");
        }
        assert!(
            !map.body["countries"].as_array().is_none_or(Vec::is_empty),
            "{filters}"
        );
    }
    // A pair counts only where both its activities run in the period: in March IOM's copy has not
    // started yet; moved into March, the pair counts there too (an edit rewrites its period).
    let nigeria_in_march = async || {
        let r = app
            .get(
                "/api/v1/reports/countries?from=2026-03-01&to=2026-03-31",
                &viewer.access,
            )
            .await;
        let ng = country(&r.body, "NG").cloned().unwrap_or_default();
        (ng["activities"].clone(), ng["open_cases"].clone(), r.text)
    };
    let (activities, open_cases, text) = nigeria_in_march().await;
    assert_eq!((activities, open_cases), (json!(1), json!(0)), "{text}");
    let admin = app.admin().await;
    let r = app
        .patch(
            &format!("/api/v1/activities/{b}"),
            &admin.access,
            "\"1\"",
            &json!({"start_date": "2026-03-15"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (activities, open_cases, text) = nigeria_in_march().await;
    assert_eq!((activities, open_cases), (json!(2), json!(1)), "{text}");
    // A reviewed pair is no longer an open case.
    let r = app
        .post(
            "/api/v1/reports/duplicates/reviews",
            &unodc.access,
            &json!({"activity_ids": [a, b], "decision": "coordinated"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app
        .get(&format!("/api/v1/reports/countries?{june}"), &viewer.access)
        .await;
    assert_eq!(
        country(&r.body, "NG").map(|c| c["open_cases"].clone()),
        Some(json!(0))
    );
    // The default period is today; CSV; refusals.
    let r = app.get("/api/v1/reports/countries", &viewer.access).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let today = chrono::Utc::now().date_naive().to_string();
    assert_eq!(
        (r.body["from"].as_str(), r.body["to"].as_str()),
        (Some(today.as_str()), Some(today.as_str()))
    );
    let r = app
        .get(
            &format!("/api/v1/reports/countries?{june}&format=csv"),
            &viewer.access,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let mut lines = r.text.lines();
    assert!(
        lines
            .next()
            .is_some_and(|h| h.contains("country,activities,agencies,open_cases,overlaps")),
        "{}",
        r.text
    );
    assert!(r.text.contains("NG,2,IOM; UNODC,0,"), "{}", r.text);
    let r = app
        .get(
            "/api/v1/reports/countries?from=2026-06-01&to=2026-05-01",
            &viewer.access,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = app
        .send(Method::GET, "/api/v1/reports/countries", None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn a_country_timeline_shows_its_activities_pairs_and_focal_points(app: &TestApp) {
    let (unodc, [a, b, c, _]) = fixture(app).await;
    let r = app
        .post(
            "/api/v1/agencies/UNODC/focal-points",
            &unodc.access,
            &json!({"role": "primary", "name": "Amina Diallo", "email": "amina.diallo@unodc.test"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let viewer = app.user("viewer", Some("IOM")).await;
    let r = app
        .get(
            "/api/v1/countries/ng/timeline?from=2026-01-01&to=2027-12-31",
            &viewer.access,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["country"], "NG");
    let ids: Vec<&str> = r.body["activities"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["id"].as_str())
        .collect();
    // By agency (ILO, IOM, UNODC), each once.
    assert_eq!(ids, [c.as_str(), b.as_str(), a.as_str()], "{}", r.text);
    let pairs = r.body["pairs"].as_array().cloned().unwrap_or_default();
    assert_eq!(pairs.len(), 1, "{}", r.text);
    let (x, y) = if a < b { (&a, &b) } else { (&b, &a) };
    assert_eq!((&pairs[0]["a"], &pairs[0]["b"]), (&json!(x), &json!(y)));
    assert!(matches!(
        pairs[0]["level"].as_str(),
        Some("duplicate" | "possible")
    ));
    assert_eq!(pairs[0]["review"], Value::Null);
    let agencies = r.body["agencies"].as_array().cloned().unwrap_or_default();
    let unodc_row = agencies
        .iter()
        .find(|g| g["agency"] == "UNODC")
        .cloned()
        .unwrap_or_default();
    assert_eq!(unodc_row["name"], "Amina Diallo");
    assert_eq!(
        agencies
            .iter()
            .find(|g| g["agency"] == "ILO")
            .map(|g| g["name"].clone()),
        Some(Value::Null)
    );
    assert_eq!(r.body["truncated"], false);
    // A period holding only one side of the pair shows no pair.
    let r = app
        .get(
            "/api/v1/countries/NG/timeline?from=2027-01-01&to=2027-12-31",
            &viewer.access,
        )
        .await;
    let ids: Vec<&str> = r.body["activities"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["id"].as_str())
        .collect();
    assert_eq!(ids, [c.as_str()]);
    assert_eq!(r.body["pairs"], json!([]));
    let r = app
        .get(
            "/api/v1/countries/NG/timeline?from=2026-01-01&to=2027-12-31&format=csv",
            &viewer.access,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text.lines().count(), 4, "{}", r.text);
    let r = app
        .get("/api/v1/countries/XX/timeline", &viewer.access)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = app
        .send(
            Method::GET,
            "/api/v1/countries/NG/timeline",
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
