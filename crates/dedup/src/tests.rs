use super::*;
use proptest::prelude::*;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

struct Owned {
    agency: String,
    title: String,
    description: String,
    countries: Vec<String>,
    themes: Vec<String>,
    sdg: Vec<String>,
    groups: Vec<String>,
    partners: Vec<String>,
    start: NaiveDate,
    end: NaiveDate,
}

impl Owned {
    fn features(&self) -> Features {
        features(&Input {
            agency: &self.agency,
            title: &self.title,
            description: &self.description,
            countries: &self.countries,
            themes: &self.themes,
            sdg_targets: &self.sdg,
            target_groups: &self.groups,
            partners: &self.partners,
            start: self.start,
            end: self.end,
            meaning: &[],
        })
    }
}

fn base() -> Owned {
    Owned {
        agency: "UNODC".into(),
        title: "Training of judges and prosecutors on human trafficking cases in Nigeria".into(),
        description:
            "A series of five workshops for judges and prosecutors of the federal high courts on \
            investigating and adjudicating human trafficking cases, victim-centred approaches and \
            international cooperation in criminal matters."
                .into(),
        countries: strings(&["NG"]),
        themes: strings(&["prosecution"]),
        sdg: strings(&["16.2", "8.7"]),
        groups: strings(&["judges", "prosecutors"]),
        partners: strings(&["NAPTIP", "National Judicial Institute"]),
        start: date("2026-03-01"),
        end: date("2026-12-31"),
    }
}

#[test]
fn a_near_copy_from_another_agency_is_a_duplicate_with_reasons() {
    let a = base();
    let mut b = base();
    b.agency = "IOM".into();
    b.title = "Training judges and prosecutors on trafficking in persons cases (Nigeria)".into();
    b.start = date("2026-04-01");
    let scored = compare(Model::shipped_ref(), &a.features(), &b.features());
    assert_eq!(scored.level, Some(Level::Duplicate), "{scored:#?}");
    for feature in [
        "title",
        "description",
        "countries",
        "period",
        "themes",
        "partners",
    ] {
        assert!(
            scored.reasons.iter().any(|r| r.feature == feature),
            "no {feature} reason"
        );
    }
    assert!(scored.reasons.iter().all(|r| !r.detail.is_empty()));
    // Each reason names what it found by code, and its English is worded from that code.
    for r in &scored.reasons {
        assert!(!r.code.is_empty(), "{} has no code", r.feature);
        let said = crate::Said {
            code: r.code,
            params: r.params.clone(),
        };
        assert_eq!(said.english(), r.detail);
    }
    let countries = scored.reasons.iter().find(|r| r.feature == "countries");
    assert!(
        matches!(countries.and_then(|r| r.params.get("items")), Some(crate::Param::List(items)) if !items.is_empty()),
        "countries in common are given as codes: {countries:?}"
    );
}

/// A list one of the two activities left empty is no evidence, and no reason says otherwise; the
/// score is the same with or without the reason.
#[test]
fn lists_left_empty_give_no_reason() {
    let a = base();
    let mut b = base();
    b.agency = "IOM".into();
    b.partners = Vec::new();
    b.sdg = Vec::new();
    let scored = compare(Model::shipped_ref(), &a.features(), &b.features());
    let features: Vec<&str> = scored.reasons.iter().map(|r| r.feature).collect();
    assert!(!features.contains(&"partners"), "{features:?}");
    assert!(!features.contains(&"sdg_targets"), "{features:?}");
    assert!(features.contains(&"target_groups"), "{features:?}");
    assert_eq!(
        quick(Model::shipped_ref(), &a.features(), &b.features()).map(|q| q.0),
        scored.level.map(|_| scored.score)
    );
}

#[test]
fn a_french_record_of_the_same_work_is_found() {
    let a = base();
    let mut b = base();
    b.agency = "OSCE".into();
    b.title = "Formation des juges et procureurs sur la traite des êtres humains au Nigéria".into();
    b.description =
        "Ateliers de formation pour juges et procureurs sur les enquêtes et poursuites \
        dans les affaires de traite des êtres humains et la coopération internationale."
            .into();
    let scored = compare(Model::shipped_ref(), &a.features(), &b.features());
    assert!(scored.level >= Some(Level::Possible), "{scored:#?}");
}

#[test]
fn a_generic_title_elsewhere_and_later_is_no_duplicate() {
    let a = base();
    let mut b = base();
    b.agency = "ILO".into();
    b.countries = strings(&["TH"]);
    b.start = date("2028-01-01");
    b.end = date("2028-12-31");
    let scored = compare(Model::shipped_ref(), &a.features(), &b.features());
    assert!(scored.level.is_none(), "{scored:#?}");
    assert!(scored.score < POSSIBLE_AT);
}

#[test]
fn phase_two_of_a_programme_is_not_phase_one() {
    let mut a = base();
    a.title = "Judicial training on trafficking cases, phase I".into();
    let mut b = base();
    b.agency = "UNHCR".into();
    b.title = "Judicial training on trafficking cases, phase II".into();
    b.start = date("2027-01-01");
    b.end = date("2027-12-31");
    let scored = compare(Model::shipped_ref(), &a.features(), &b.features());
    assert_ne!(scored.level, Some(Level::Duplicate), "{scored:#?}");
    assert!(
        scored
            .reasons
            .iter()
            .any(|r| r.feature == "phase" && r.weight < 0.0)
    );
}

#[test]
fn different_work_in_one_place_and_time_is_an_overlap() {
    let a = base();
    let mut b = base();
    b.agency = "UNICEF".into();
    b.title = "Shelters and psychosocial care for child survivors".into();
    b.description =
        "Running two shelters in Lagos and Edo state with case management and family tracing."
            .into();
    b.themes = strings(&["protection", "prosecution"]);
    b.groups = strings(&["children"]);
    b.partners = strings(&["Edo State Task Force"]);
    let scored = compare(Model::shipped_ref(), &a.features(), &b.features());
    assert_eq!(scored.level, Some(Level::Overlap), "{scored:#?}");
}

#[test]
fn candidates_never_pair_one_agency_with_itself_and_find_near_copies() {
    let a = base();
    let mut same = base();
    same.title.push_str(" (second record)");
    let mut other = base();
    other.agency = "IOM".into();
    let far = Owned {
        agency: "ILO".into(),
        title: "Fair recruitment in Asian fishing fleets".into(),
        description: "Labour inspection on vessels".into(),
        countries: strings(&["TH"]),
        start: date("2020-01-01"),
        end: date("2020-06-30"),
        ..base()
    };
    let records = [
        a.features(),
        same.features(),
        other.features(),
        far.features(),
    ];
    let pairs = candidates(&records);
    assert!(!pairs.contains(&(0, 1)), "same agency");
    assert!(pairs.contains(&(0, 2)) && pairs.contains(&(1, 2)));
    assert!(!pairs.iter().any(|&(i, j)| i == 3 || j == 3), "{pairs:?}");
    let kept = all_pairs(Model::shipped_ref(), &records);
    assert!(
        kept.iter()
            .any(|p| (p.a, p.b) == (0, 2) && p.level == Level::Duplicate)
    );
}

#[test]
fn overlaps_are_capped_per_record() {
    // Five records each overlapping five others: 25 overlaps, and each record keeps its strongest two.
    let pairs: Vec<Found> = (0..5)
        .flat_map(|a| {
            (5..10).map(move |b| Found {
                a,
                b,
                score: 0.01 * (a * 5 + b) as f64,
                level: Level::Overlap,
                log_odds: (a * 5 + b) as f64 - 100.0,
            })
        })
        .collect();
    let kept = keep_strongest_overlaps(pairs.clone(), 2);
    assert!(
        kept.len() < pairs.len() && kept.len() <= 2 * 10,
        "{}",
        kept.len()
    );
    for record in 0..10 {
        let n = kept
            .iter()
            .filter(|p| p.a == record || p.b == record)
            .count();
        assert!(n >= 2, "record {record} keeps {n}");
    }
    // Strong pairs are never dropped.
    let strong: Vec<Found> = pairs
        .iter()
        .map(|p| Found {
            level: Level::Possible,
            ..*p
        })
        .collect();
    assert_eq!(keep_strongest_overlaps(strong, 2).len(), 25);
}

proptest! {
    #[test]
    fn normalisation_never_panics(text in "\\PC{0,200}") {
        let _ = text::stems(&text);
        let _ = text::markers(&text);
    }

    #[test]
    fn scores_are_symmetric_bounded_and_explained(
        t1 in "[a-z ]{0,60}", t2 in "[a-z ]{0,60}",
        d1 in "[a-z ]{0,200}", d2 in "[a-z ]{0,200}",
        c1 in proptest::sample::subsequence(vec!["NG", "TH", "FR", "BR"], 0..4),
        c2 in proptest::sample::subsequence(vec!["NG", "TH", "FR", "BR"], 0..4),
        s1 in 0i64..2000, l1 in 0i64..700, s2 in 0i64..2000, l2 in 0i64..700,
    ) {
        let day = |n: i64| date("2024-01-01") + chrono::Duration::days(n);
        let make = |agency: &str, t: &str, d: &str, c: &[&str], s: i64, l: i64| Owned {
            agency: agency.into(), title: t.into(), description: d.into(),
            countries: c.iter().map(|x| (*x).to_owned()).collect(),
            start: day(s), end: day(s + l), ..base()
        };
        let a = make("A", &t1, &d1, &c1, s1, l1).features();
        let b = make("B", &t2, &d2, &c2, s2, l2).features();
        let ab = compare(Model::shipped_ref(), &a, &b);
        let ba = compare(Model::shipped_ref(), &b, &a);
        prop_assert_eq!(ab.score, ba.score);
        prop_assert_eq!(ab.level, ba.level);
        prop_assert!((0.0..=1.0).contains(&ab.score));
        prop_assert!(ab.reasons.len() >= 8);
        // The fast path keeps exactly the pairs the full comparison gives a level, at its score.
        prop_assert_eq!(quick(Model::shipped_ref(), &a, &b), ab.level.map(|level| (ab.score, level, ab.log_odds)));
        prop_assert_eq!(quick(Model::shipped_ref(), &b, &a), ab.level.map(|level| (ab.score, level, ab.log_odds)));
    }
}
