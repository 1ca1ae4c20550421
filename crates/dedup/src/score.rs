//! Pairwise comparison in the manner of Fellegi and Sunter: each comparison of two activities
//! falls into a level, the [`Model`] gives each level a weight (log2 m/u), prior and weights add
//! up to the log2 odds that the two are the same work, and the score is that probability. Every
//! pair keeps its per-comparison reasons.

use crate::Features;
use crate::model::{Gamma, Model, probability};
use crate::reason::{Param, Said};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

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

/// Probabilities at or above these are `duplicate` ("very likely the same work") and `possible`
/// ("more likely the same work than not").
pub const DUPLICATE_AT: f64 = 0.9;
pub const POSSIBLE_AT: f64 = 0.5;

/// Why a pair was flagged: one feature's similarity and the weight it added.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    pub feature: &'static str,
    /// 0..1.
    pub similarity: f64,
    /// Log-odds added to the sum (negative: evidence against).
    pub weight: f64,
    /// The reason in English (from `code` and `params`, see [`Said::english`]).
    pub detail: String,
    /// What the reason found, stable across releases: the interface words it in its language.
    pub code: &'static str,
    pub params: BTreeMap<&'static str, Param>,
}

/// The comparison of two activities.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scored {
    /// The probability that the two are the same work, rounded to three decimals.
    pub score: f64,
    /// The same, unrounded, as log2 odds: what ranks pairs whose scores round alike (overlaps,
    /// mostly under 0.001).
    pub log_odds: f64,
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

/// True when a pair can never be kept, before any word is compared: no country in common, or
/// periods apart (a rule of every model, see [`crate::model`]); an overlap needs both a shared
/// country and a shared period too. Most candidates from LSH buckets end here.
pub(crate) fn ruled_out(a: &Features, b: &Features) -> bool {
    let countries_apart = !a.countries.is_empty()
        && !b.countries.is_empty()
        && intersection(&a.countries, &b.countries) == 0;
    countries_apart || a.end < b.start || b.end < a.start
}

/// The score, level and log2 odds of a pair worth keeping, without its reasons (`None`: not
/// worth keeping):
/// the fast path for finding pairs, which skips the explanation texts of the pairs that are not
/// kept and, before comparing any words, the pairs that cannot be kept.
pub fn quick(model: &Model, a: &Features, b: &Features) -> Option<(f64, Level, f64)> {
    if ruled_out(a, b) {
        return None;
    }
    let s = evaluate(model, a, b, false);
    Some((s.score, s.level?, s.log_odds))
}

fn days(a: NaiveDate, b: NaiveDate) -> i64 {
    (b - a).num_days() + 1
}

/// Compares two activities under `model`. The result is symmetric: `compare(m, a, b)` equals
/// `compare(m, b, a)`.
pub fn compare(model: &Model, a: &Features, b: &Features) -> Scored {
    evaluate(model, a, b, true)
}

/// A pair's comparison vector: the level of each of [`crate::model::COMPARISONS`].
pub fn gamma(a: &Features, b: &Features) -> Gamma {
    let s = Similarities::of(a, b);
    s.levels(a, b)
}

/// How many stems of an activity's text its title lacks: the size of its description's body.
/// (Counted, never collected: scoring compares hundreds of pairs while a user waits.)
fn body_len(f: &Features) -> usize {
    f.text
        .iter()
        .filter(|w| f.title.binary_search(w).is_err())
        .count()
}

/// How many stems the bodies of two descriptions share: stems of both texts in neither title.
fn body_shared(a: &Features, b: &Features) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.text.len() && j < b.text.len() {
        match a.text[i].cmp(&b.text[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                let w = &a.text[i];
                if a.title.binary_search(w).is_err() && b.title.binary_search(w).is_err() {
                    n += 1;
                }
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// The similarities a pair's levels and reasons are read from.
struct Similarities {
    title: f64,
    text: f64,
    /// Words of the shorter description body, shared, and of the longer.
    body_words: usize,
    body_shared: usize,
    body_longest: usize,
    countries: f64,
    shared_countries: usize,
    overlap_days: i64,
    span: i64,
    period: f64,
    themes: f64,
    sdg: f64,
    groups: f64,
    partners: f64,
    /// Cosine of the sentence vectors, where both have one.
    meaning: Option<f64>,
}

impl Similarities {
    fn of(a: &Features, b: &Features) -> Similarities {
        // A short title inside a longer one ("Safe migration" in "Safe migration for women")
        // counts.
        let title = jaccard(&a.title, &b.title).max(0.85 * containment(&a.title, &b.title));
        // The description is compared on the words it adds to the title: compared with the
        // title's words in, title and description were one piece of evidence counted twice.
        let (len_a, len_b, shared) = (body_len(a), body_len(b), body_shared(a, b));
        let (body_words, body_longest) = (len_a.min(len_b), len_a.max(len_b));
        // A terse text inside a long one counts, but a handful of words is found inside almost
        // any related text: containment weighs in only from eight distinct words on.
        let ratio = |n: usize, d: usize| if d == 0 { 0.0 } else { n as f64 / d as f64 };
        let contained = if body_words < 8 { 0.6 } else { 0.8 } * ratio(shared, body_words);
        let text = ratio(shared, len_a + len_b - shared).max(contained);
        let body_shared = shared;
        let overlap_days = (days(a.start.max(b.start), a.end.min(b.end))).max(0);
        let span = days(a.start.min(b.start), a.end.max(b.end)).max(1);
        Similarities {
            title,
            text,
            body_words,
            body_shared,
            body_longest,
            countries: jaccard(&a.countries, &b.countries),
            shared_countries: intersection(&a.countries, &b.countries),
            overlap_days,
            span,
            period: overlap_days as f64 / span as f64,
            themes: jaccard(&a.themes, &b.themes),
            sdg: jaccard(&a.sdg_targets, &b.sdg_targets),
            groups: jaccard(&a.target_groups, &b.target_groups),
            partners: jaccard(&a.partners, &b.partners),
            meaning: crate::cosine(&a.meaning, &b.meaning),
        }
    }

    fn levels(&self, a: &Features, b: &Features) -> Gamma {
        // Bands 1 (alike) to 5 (unlike); see model::TITLE_BANDS and DESCRIPTION_BANDS.
        let title_band = |t: f64| match t {
            t if t >= 0.75 => 1,
            t if t >= 0.5 => 2,
            t if t >= 0.3 => 3,
            t if t >= 0.15 => 4,
            _ => 5,
        };
        // The description's levels sit lower: records of one country, period and theme are
        // many, and only a large share of their words tells the same work from neighbouring work.
        let description_band = |t: f64| match t {
            t if t >= 0.6 => 1,
            t if t >= 0.45 => 2,
            t if t >= 0.35 => 3,
            t if t >= 0.25 => 4,
            _ => 5,
        };
        let set_level = |empty: bool, sim: f64| match sim {
            _ if empty => 0,
            s if s >= 0.5 => 1,
            s if s > 0.0 => 2,
            _ => 3,
        };
        let countries = if a.countries.is_empty() || b.countries.is_empty() {
            0
        } else if self.shared_countries == a.countries.len().min(b.countries.len()) {
            1
        } else if self.shared_countries > 0 {
            2
        } else {
            3
        };
        let period = match self.period {
            p if p >= 0.8 => 1,
            p if p >= 0.5 => 2,
            p if p > 0.0 => 3,
            _ => 4,
        };
        let phase = if a.markers.is_empty() && b.markers.is_empty() {
            0
        } else if a.markers == b.markers {
            1
        } else {
            2
        };
        let empty = |x: usize, y: usize| x == 0 || y == 0;
        let description = if self.body_words == 0 {
            0
        } else {
            description_band(self.text)
        };
        // The sentence vector is read from the same words: where the descriptions already share
        // most of them (levels 1 and 2), the vectors agreeing too is the same evidence again, and
        // counting it twice made two restaurants of one street a match in the public benchmark.
        // It speaks where the words do not: other wording, another language.
        let meaning = match self.meaning {
            None => 0,
            Some(_) if matches!(description, 1 | 2) => 0,
            Some(c) if c >= 0.85 => 1,
            Some(c) if c >= 0.75 => 2,
            Some(c) if c >= 0.65 => 3,
            Some(c) if c >= 0.55 => 4,
            Some(_) => 5,
        };
        [
            if empty(a.title.len(), b.title.len()) {
                0
            } else {
                title_band(self.title)
            },
            description,
            countries,
            period,
            set_level(empty(a.themes.len(), b.themes.len()), self.themes),
            set_level(empty(a.sdg_targets.len(), b.sdg_targets.len()), self.sdg),
            set_level(
                empty(a.target_groups.len(), b.target_groups.len()),
                self.groups,
            ),
            set_level(empty(a.partners.len(), b.partners.len()), self.partners),
            phase,
            meaning,
        ]
    }
}

fn evaluate(model: &Model, a: &Features, b: &Features, explain: bool) -> Scored {
    let s = Similarities::of(a, b);
    let gamma = s.levels(a, b);
    let weight = |c: usize| model.weight(c, gamma[c]);
    let mut reasons = Vec::with_capacity(10);
    let reason = |feature: &'static str, similarity: f64, weight: f64, said: &dyn Fn() -> Said| {
        let said = if explain { said() } else { Said::default() };
        Reason {
            feature,
            similarity: round(similarity),
            weight: round(weight),
            detail: if explain {
                said.english()
            } else {
                String::new()
            },
            code: said.code,
            params: said.params,
        }
    };

    // Title and description are one comparison of the model (see model::COMPARISONS): each
    // reason carries half its weight.
    reasons.push(reason("title", s.title, weight(0), &|| {
        Said::new("title_words").count("shared", intersection(&a.title, &b.title))
    }));
    reasons.push(reason("description", s.text, weight(1), &|| {
        Said::new("description_words")
            .count("shared", s.body_shared)
            .count("of", s.body_longest)
    }));

    let shared: Vec<&String> = a
        .countries
        .iter()
        .filter(|c| b.countries.contains(c))
        .collect();
    let said = || match gamma[2] {
        0 => Said::new("no_countries"),
        _ if a.countries == b.countries => Said::new("same_countries").list("items", &a.countries),
        1 => Said::new("countries_within").list("items", &shared),
        2 => Said::new("shared_countries").list("items", &shared),
        _ => Said::new("no_country_shared"),
    };
    reasons.push(reason("countries", s.countries, weight(2), &said));

    let (overlap_days, span) = (s.overlap_days, s.span);
    let said = || {
        if overlap_days > 0 {
            Said::new("period_overlap")
                .count("days", overlap_days as usize)
                .count("span", span as usize)
        } else {
            Said::new("period_apart")
                .text("a_start", a.start)
                .text("a_end", a.end)
                .text("b_start", b.start)
                .text("b_end", b.end)
        }
    };
    reasons.push(reason("period", s.period, weight(3), &said));
    reasons.push(reason("themes", s.themes, weight(4), &|| {
        list_said("shared_themes", "no_theme_shared", &a.themes, &b.themes)
    }));
    // The optional lists give a reason only where both activities name some: a list one of them
    // left empty is level 0, which carries no evidence ("Partners 0 %: 0 in common" told a user
    // nothing and read as evidence against).
    if gamma[5] != 0 {
        reasons.push(reason("sdg_targets", s.sdg, weight(5), &|| {
            list_said(
                "shared_sdg_targets",
                "no_sdg_target_shared",
                &a.sdg_targets,
                &b.sdg_targets,
            )
        }));
    }
    if gamma[6] != 0 {
        reasons.push(reason("target_groups", s.groups, weight(6), &|| {
            Said::new("target_group_words")
                .count("shared", intersection(&a.target_groups, &b.target_groups))
        }));
    }
    if gamma[7] != 0 {
        reasons.push(reason("partners", s.partners, weight(7), &|| {
            Said::new("shared_partners").count("shared", intersection(&a.partners, &b.partners))
        }));
    }
    if gamma[8] != 0 {
        let same = gamma[8] == 1;
        let said = || {
            if same {
                Said::new("same_phase").list("a", &a.markers)
            } else {
                Said::new("different_phase")
                    .list("a", &a.markers)
                    .list("b", &b.markers)
            }
        };
        reasons.push(reason(
            "phase",
            if same { 1.0 } else { 0.0 },
            weight(8),
            &said,
        ));
    }

    if let Some(cosine) = s.meaning.filter(|_| gamma[9] != 0) {
        let said = || {
            let code = match gamma[9] {
                1 => "meaning_same",
                2 => "meaning_much",
                3 => "meaning_related",
                _ => "meaning_different",
            };
            let said = Said::new(code).count("percent", (cosine.max(0.0) * 100.0).round() as usize);
            if a.language != b.language && !a.language.is_empty() && !b.language.is_empty() {
                said.text("a_language", &a.language)
                    .text("b_language", &b.language)
            } else {
                said
            }
        };
        reasons.push(reason("meaning", cosine.max(0.0), weight(9), &said));
    }

    let log_odds = model.log_odds(&gamma);
    let score = round(probability(log_odds));
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
        log_odds,
        level,
        reasons,
    }
}

/// `shared` with the items both lists hold, or `none` when they hold none in common.
fn list_said(shared: &'static str, none: &'static str, a: &[String], b: &[String]) -> Said {
    let items: Vec<&String> = a.iter().filter(|x| b.contains(x)).collect();
    if items.is_empty() {
        Said::new(none)
    } else {
        Said::new(shared).list("items", &items)
    }
}
