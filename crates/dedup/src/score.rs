//! Pairwise comparison in the manner of Fellegi and Sunter: each feature is compared, the result
//! falls into a level, each level carries a weight (the log-odds of a match at that level), the
//! weights add up, and the sum maps to a score in 0..1. Every pair keeps its per-feature reasons.

use crate::Features;
use chrono::NaiveDate;
use serde::Serialize;

/// How alike two activities of different agencies are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Different work on the same country, period and theme: worth coordinating.
    Overlap,
    /// Worth a human look.
    Possible,
    /// Almost surely the same piece of work.
    Duplicate,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Overlap => "overlap",
            Level::Possible => "possible",
            Level::Duplicate => "duplicate",
        }
    }

    pub fn parse(raw: &str) -> Option<Level> {
        match raw {
            "overlap" => Some(Level::Overlap),
            "possible" => Some(Level::Possible),
            "duplicate" => Some(Level::Duplicate),
            _ => None,
        }
    }
}

/// Scores at or above these are `duplicate` and `possible`.
pub const DUPLICATE_AT: f64 = 0.85;
pub const POSSIBLE_AT: f64 = 0.55;
/// The summed weight that maps to a score of 0.5.
const MIDPOINT: f64 = 6.0;

/// Why a pair was flagged: one feature's similarity and the weight it added.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    pub feature: &'static str,
    /// 0..1.
    pub similarity: f64,
    /// Log-odds added to the sum (negative: evidence against).
    pub weight: f64,
    pub detail: String,
}

/// The comparison of two activities.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scored {
    pub score: f64,
    /// `None`: not worth showing.
    pub level: Option<Level>,
    pub reasons: Vec<Reason>,
}

fn intersection<T: Ord>(a: &[T], b: &[T]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// Jaccard similarity of two sorted, deduplicated lists; 0 when both are empty.
pub fn jaccard<T: Ord>(a: &[T], b: &[T]) -> f64 {
    let inter = intersection(a, b);
    let union = a.len() + b.len() - inter;
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

/// The share of the smaller set found in the larger: a terse text inside a long one scores high.
fn containment<T: Ord>(a: &[T], b: &[T]) -> f64 {
    let smaller = a.len().min(b.len());
    if smaller == 0 {
        0.0
    } else {
        intersection(a, b) as f64 / smaller as f64
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The score and level of a pair worth keeping, without its reasons (`None`: not worth keeping):
/// the fast path for finding pairs, which skips the explanation texts of the pairs that are not
/// kept and, before comparing any words, the pairs that cannot be kept.
pub fn quick(a: &Features, b: &Features) -> Option<(f64, Level)> {
    // No country in common, or periods apart, weighs -10: with every other feature at its best
    // the sum stays under 4, far below `POSSIBLE_AT` (a sum of 6.3); and an overlap needs both a
    // shared country and a shared period. Most candidates from LSH buckets end here.
    let countries_apart = !a.countries.is_empty()
        && !b.countries.is_empty()
        && intersection(&a.countries, &b.countries) == 0;
    if countries_apart || a.end < b.start || b.end < a.start {
        return None;
    }
    let s = evaluate(a, b, false);
    Some((s.score, s.level?))
}

fn days(a: NaiveDate, b: NaiveDate) -> i64 {
    (b - a).num_days() + 1
}

/// Compares two activities. The result is symmetric: `compare(a, b)` equals `compare(b, a)`.
pub fn compare(a: &Features, b: &Features) -> Scored {
    evaluate(a, b, true)
}

fn evaluate(a: &Features, b: &Features, explain: bool) -> Scored {
    let mut reasons = Vec::with_capacity(9);
    let reason =
        |feature: &'static str, similarity: f64, weight: f64, detail: &dyn Fn() -> String| Reason {
            feature,
            similarity: round(similarity),
            weight,
            detail: if explain { detail() } else { String::new() },
        };

    // A short title inside a longer one ("Safe migration" in "Safe migration for women") counts.
    let title = jaccard(&a.title, &b.title).max(0.85 * containment(&a.title, &b.title));
    let w = match title {
        t if t >= 0.75 => 4.0,
        t if t >= 0.5 => 2.5,
        t if t >= 0.3 => 1.0,
        t if t >= 0.15 => 0.0,
        _ => -1.5,
    };
    reasons.push(reason("title", title, w, &|| {
        format!("titles share {} words", intersection(&a.title, &b.title))
    }));

    // A terse text inside a long one counts, but a handful of words is found inside almost any
    // related text: containment weighs in only from eight distinct words on.
    let terse = a.text.len().min(b.text.len()) < 8;
    let contained = if terse { 0.6 } else { 0.8 } * containment(&a.text, &b.text);
    let text = jaccard(&a.text, &b.text).max(contained);
    // The text carries most of the evidence: records of one country, period and theme are many,
    // and only their words tell the same work from neighbouring work.
    let w = match text {
        t if t >= 0.6 => 5.0,
        t if t >= 0.45 => 4.0,
        t if t >= 0.35 => 3.0,
        t if t >= 0.25 => -0.5,
        _ => -3.0,
    };
    reasons.push(reason("description", text, w, &|| {
        format!(
            "{} of {} distinct words in common",
            intersection(&a.text, &b.text),
            a.text.len().max(b.text.len())
        )
    }));

    let shared: Vec<&String> = a
        .countries
        .iter()
        .filter(|c| b.countries.contains(c))
        .collect();
    let countries = jaccard(&a.countries, &b.countries);
    let w = if a.countries.is_empty() || b.countries.is_empty() {
        0.0
    } else if a.countries == b.countries || shared.len() == a.countries.len().min(b.countries.len())
    {
        1.0
    } else if !shared.is_empty() {
        0.5
    } else {
        // Work in another country is another piece of work, however alike the words.
        -10.0
    };
    let detail = || {
        if a.countries.is_empty() || b.countries.is_empty() {
            "no countries named".to_owned()
        } else if a.countries == b.countries {
            format!("same countries: {}", a.countries.join(", "))
        } else if shared.len() == a.countries.len().min(b.countries.len()) {
            format!("one's countries include the other's: {}", join(&shared))
        } else if !shared.is_empty() {
            format!("shared countries: {}", join(&shared))
        } else {
            "no country in common".to_owned()
        }
    };
    reasons.push(reason("countries", countries, w, &detail));

    let overlap_days = (days(a.start.max(b.start), a.end.min(b.end))).max(0);
    let span = days(a.start.min(b.start), a.end.max(b.end)).max(1);
    let period = overlap_days as f64 / span as f64;
    let w = match period {
        p if p >= 0.8 => 1.5,
        p if p >= 0.5 => 1.0,
        p if p > 0.0 => 0.5,
        // Work in another period is another piece of work, however alike the words.
        _ => -10.0,
    };
    let detail = || {
        if overlap_days > 0 {
            format!("periods overlap {overlap_days} of {span} days")
        } else {
            format!(
                "periods do not overlap ({} to {}, {} to {})",
                a.start, a.end, b.start, b.end
            )
        }
    };
    reasons.push(reason("period", period, w, &detail));

    let themes = jaccard(&a.themes, &b.themes);
    let w = set_weight(&a.themes, &b.themes, themes, 0.5, 0.2, -1.0);
    reasons.push(reason("themes", themes, w, &|| {
        list_detail("themes", &a.themes, &b.themes)
    }));

    let sdg = jaccard(&a.sdg_targets, &b.sdg_targets);
    let w = set_weight(&a.sdg_targets, &b.sdg_targets, sdg, 0.4, 0.2, -0.3);
    reasons.push(reason("sdg_targets", sdg, w, &|| {
        list_detail("SDG targets", &a.sdg_targets, &b.sdg_targets)
    }));

    let groups = jaccard(&a.target_groups, &b.target_groups);
    let w = set_weight(&a.target_groups, &b.target_groups, groups, 1.0, 0.4, -0.5);
    reasons.push(reason("target_groups", groups, w, &|| {
        format!(
            "{} target-group words in common",
            intersection(&a.target_groups, &b.target_groups)
        )
    }));

    let partners = jaccard(&a.partners, &b.partners);
    let w = set_weight(&a.partners, &b.partners, partners, 1.5, 0.7, -0.3);
    reasons.push(reason("partners", partners, w, &|| {
        format!(
            "{} partners in common",
            intersection(&a.partners, &b.partners)
        )
    }));

    if !a.markers.is_empty() || !b.markers.is_empty() {
        let same = a.markers == b.markers;
        let w = if same { 0.0 } else { -3.5 };
        let detail = if same {
            format!("same phase or edition: {}", a.markers.join(", "))
        } else {
            format!(
                "different phase or edition: [{}] and [{}]",
                a.markers.join(", "),
                b.markers.join(", ")
            )
        };
        reasons.push(reason("phase", if same { 1.0 } else { 0.0 }, w, &|| {
            detail.clone()
        }));
    }

    let total: f64 = reasons.iter().map(|r| r.weight).sum();
    let score = round(1.0 / (1.0 + (2.0f64).powf(MIDPOINT - total)));
    let shares_work_area =
        !shared.is_empty() && overlap_days > 0 && intersection(&a.themes, &b.themes) > 0;
    let level = if score >= DUPLICATE_AT {
        Some(Level::Duplicate)
    } else if score >= POSSIBLE_AT {
        Some(Level::Possible)
    } else if shares_work_area {
        Some(Level::Overlap)
    } else {
        None
    };
    Scored {
        score,
        level,
        reasons,
    }
}

fn set_weight<T: Ord>(a: &[T], b: &[T], sim: f64, full: f64, some: f64, none: f64) -> f64 {
    if a.is_empty() || b.is_empty() {
        0.0
    } else if sim >= 0.5 {
        full
    } else if sim > 0.0 {
        some
    } else {
        none
    }
}

fn join(items: &[&String]) -> String {
    items
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn list_detail(name: &str, a: &[String], b: &[String]) -> String {
    let shared: Vec<&String> = a.iter().filter(|x| b.contains(x)).collect();
    if shared.is_empty() {
        format!("no {name} in common")
    } else {
        format!("shared {name}: {}", join(&shared))
    }
}
