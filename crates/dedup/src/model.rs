//! The match model: Fellegi-Sunter, estimated from the workspace's own activities.
//!
//! Each comparison of a pair (title, description, countries, ...) falls into a level. A level
//! carries an m-probability (how often a pair that is the same work lands there) and a
//! u-probability (how often a pair that is not does); its weight is log2(m/u). The prior is the
//! log2 odds that a candidate pair is the same work. Prior plus weights is the log2 odds of a
//! match, so a pair's score is the probability that the two activities are the same work.
//!
//! [`estimate`] learns the model without labels, as record-linkage systems do: m, u and the
//! prior by expectation-maximisation over the candidate pairs (u starting from their own
//! distribution: see [`estimate`] for why not random pairs), with reviewed pairs held at their
//! known answer. The shipped model ([`Model::shipped`]) is where a young workspace starts, and it
//! anchors the estimate: the m its weights imply acts as pseudo-counts (as the candidates' own
//! distribution does for u), so a level seen on few pairs cannot drift far from it.
//!
//! Three levels are rules, not estimates: no country in common, periods that do not overlap, and
//! a different phase or edition weigh -10 in every model (work elsewhere, at another time or in
//! another phase is other work, however alike the words), and no estimate changes that.

use crate::Features;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The comparisons, in the order of [`Gamma`].
pub const COMPARISONS: [&str; 10] = [
    "title",
    "description",
    "countries",
    "period",
    "themes",
    "sdg_targets",
    "target_groups",
    "partners",
    "phase",
    "meaning",
];

/// Level names per comparison; level 0 is always "nothing to compare" (one side left it empty),
/// which weighs nothing.
const LEVELS: [&[&str]; 10] = [
    &[
        "no words", ">= 0.75", ">= 0.5", ">= 0.3", ">= 0.15", "< 0.15",
    ],
    &[
        "no words", ">= 0.6", ">= 0.45", ">= 0.35", ">= 0.25", "< 0.25",
    ],
    &["none named", "all shared", "some shared", "none shared"],
    &[
        "-",
        "overlap >= 80%",
        "overlap >= 50%",
        "overlap > 0",
        "no overlap",
    ],
    SET_LEVELS,
    SET_LEVELS,
    SET_LEVELS,
    SET_LEVELS,
    &["no phase named", "same phase", "different phase"],
    &[
        "not compared (no vector, or the descriptions share most words)",
        ">= 0.85",
        ">= 0.75",
        ">= 0.65",
        ">= 0.55",
        "< 0.55",
    ],
];
const SET_LEVELS: &[&str] = &["none named", ">= 0.5", "> 0", "none shared"];

/// How many levels a comparison has, level 0 included.
pub fn level_count(comparison: usize) -> usize {
    LEVELS.get(comparison).map_or(0, |l| l.len())
}

/// A level's name, as admins read it.
pub fn level_name(comparison: usize, level: usize) -> String {
    LEVELS[comparison][level].to_owned()
}

/// The levels that are rules, weighing [`RULE_WEIGHT`] in every model: work in another country,
/// another period or another phase or edition is other work, however alike the words. Data
/// without labels cannot teach the phase rule: the next phase of a project reads like a copy of
/// the last one, and estimates counted such pairs as matches (a different phase weighed -0.4);
/// as a soft -3.5 it was outweighed by identical titles and descriptions.
const RULES: [(usize, usize); 3] = [(2, 3), (3, 4), (8, 2)];
pub const RULE_WEIGHT: f64 = -10.0;

/// The hand-set weights the engine shipped with (log2 Bayes factors), chosen on the project's
/// tuning set: the starting point and anchor of every estimate.
const SHIPPED_WEIGHTS: [&[f64]; 10] = [
    &[0.0, 4.0, 2.5, 1.0, 0.0, -1.5],
    &[0.0, 5.0, 4.0, 3.0, -0.5, -3.0],
    &[0.0, 1.0, 0.5, RULE_WEIGHT],
    &[0.0, 1.5, 1.0, 0.5, RULE_WEIGHT],
    &[0.0, 0.5, 0.2, -1.0],
    &[0.0, 0.4, 0.2, -0.3],
    &[0.0, 1.0, 0.4, -0.5],
    &[0.0, 1.5, 0.7, -0.3],
    &[0.0, 0.0, RULE_WEIGHT],
    // The sentence vectors' cosine. Levels and weights were read off the tuning set only:
    // duplicates of every kind there at 0.56-0.99 (most >= 0.8), labelled overlaps at 0.19-0.65,
    // unlabelled pairs of one country and period at a median of 0.31.
    &[0.0, 4.0, 2.5, 1.0, -0.5, -3.0],
];
const SHIPPED_PRIOR: f64 = -6.0;

fn shipped_weight(comparison: usize, level: usize) -> f64 {
    SHIPPED_WEIGHTS[comparison][level]
}

/// The index of the sentence vectors' comparison.
const MEANING: usize = 9;

/// A pair's comparison vector: one level per comparison.
pub type Gamma = [u8; 10];

/// The model a scoring uses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// log2 odds that a candidate pair is the same work, before any comparison.
    pub prior: f64,
    /// Per comparison, per level: the weight, and m and u where they were estimated.
    pub comparisons: Vec<Comparison>,
    /// How the model was made.
    pub estimate: Option<Estimate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub name: String,
    pub levels: Vec<LevelParams>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelParams {
    pub level: String,
    /// log2(m/u): what landing here adds to the log2 odds.
    pub weight: f64,
    /// P(level | same work), where estimated.
    pub m: Option<f64>,
    /// P(level | different work), where estimated.
    pub u: Option<f64>,
}

/// What an estimate was made from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// When (UTC), where the caller says.
    pub estimated_at: Option<chrono::NaiveDateTime>,
    /// Activities read.
    pub activities: usize,
    /// Candidate pairs the expectation-maximisation ran over.
    pub candidate_pairs: usize,
    /// Reviewed pairs held at their answer.
    pub labelled_pairs: usize,
    pub iterations: usize,
    /// The estimated share of candidate pairs that are the same work.
    pub match_share: f64,
    /// What the model expects of its own levels on the pairs it was estimated on.
    pub expected: Vec<Expected>,
}

/// The precision and recall a model expects of pairs called `level` or stronger, on the pairs it
/// was estimated on: the mean probability of the pairs so called, and their share of the
/// expected matches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expected {
    /// `duplicate`, or `possible` for duplicate and possible together.
    pub level: String,
    pub precision: f64,
    pub recall: f64,
}

impl Model {
    /// The model a workspace starts from, before it has enough activities to estimate its own.
    pub fn shipped() -> Model {
        Model {
            prior: SHIPPED_PRIOR,
            comparisons: (0..COMPARISONS.len())
                .map(|c| Comparison {
                    name: COMPARISONS[c].to_owned(),
                    levels: (0..level_count(c))
                        .map(|l| LevelParams {
                            level: level_name(c, l),
                            weight: shipped_weight(c, l),
                            m: None,
                            u: None,
                        })
                        .collect(),
                })
                .collect(),
            estimate: None,
        }
    }

    /// The shipped model, built once.
    pub fn shipped_ref() -> &'static Model {
        static SHIPPED: std::sync::LazyLock<Model> = std::sync::LazyLock::new(Model::shipped);
        &SHIPPED
    }

    /// The weight of a comparison at a level (0 for a level the model does not know).
    pub fn weight(&self, comparison: usize, level: u8) -> f64 {
        self.comparisons
            .get(comparison)
            .and_then(|c| c.levels.get(usize::from(level)))
            .map_or(0.0, |l| l.weight)
    }

    /// The log2 odds of a match for a comparison vector.
    pub fn log_odds(&self, gamma: &Gamma) -> f64 {
        self.prior
            + gamma
                .iter()
                .enumerate()
                .map(|(c, &l)| self.weight(c, l))
                .sum::<f64>()
    }
}

/// The probability that log2 odds stand for.
pub fn probability(log_odds: f64) -> f64 {
    1.0 / (1.0 + (-log_odds).exp2())
}

/// Below this many scorable candidate pairs the log is too young to estimate from: the shipped
/// model stays.
const MIN_PAIRS: f64 = 200.0;
/// How many pairs' worth of the shipped model each estimate of m and of u starts from: a level
/// seen on few pairs stays near the shipped weight.
const ANCHOR: f64 = 30.0;
const MAX_ITERATIONS: usize = 200;
/// At most this many candidate pairs are read for an estimate.
const MAX_SAMPLE: usize = 1_000_000;

/// Per comparison, per level: a count or a probability.
type Table = Vec<Vec<f64>>;

fn table() -> Table {
    (0..COMPARISONS.len())
        .map(|c| vec![0.0; level_count(c)])
        .collect()
}

/// Estimates the model from a log's activities by expectation-maximisation over `candidates`
/// (the pairs the engine scores; pairs the rules rule out and pairs of one agency are left out),
/// with `labelled` pairs `(a, b, same work?)` held at their answer wherever they are. A log with
/// fewer than [`MIN_PAIRS`] scorable pairs gets the shipped model back.
///
/// u starts as the candidates' own distribution (almost all of them are different work), not
/// that of random pairs: the engine only ever scores candidates, and LSH picks pairs that share
/// words, so random pairs understate how often different work shares words; started from
/// random pairs, the estimate on Fodors-Zagats took every pair of restaurants of one city and
/// cuisine for a match. m starts as the shipped weights imply on that u.
pub fn estimate(
    records: &[Features],
    candidates: &[(usize, usize)],
    labelled: &[(usize, usize, bool)],
) -> Model {
    let shipped = Model::shipped();
    let scorable = |a: usize, b: usize| {
        let (x, y) = (records.get(a)?, records.get(b)?);
        if x.agency == y.agency || crate::score::ruled_out(x, y) {
            return None;
        }
        Some(crate::score::gamma(x, y))
    };
    let answers: HashMap<(usize, usize), bool> = labelled
        .iter()
        .map(|&(a, b, same)| ((a.min(b), a.max(b)), same))
        .collect();
    // Distinct comparison vectors with their counts (of an even sample of a large log's
    // candidates: a million pairs tell the shares as well as ten); labelled pairs apart, at
    // their answer.
    use rayon::prelude::*;
    let stride = candidates.len().div_ceil(MAX_SAMPLE).max(1);
    let free: HashMap<Gamma, f64> = candidates
        .par_iter()
        .step_by(stride)
        .filter(|&&(a, b)| !answers.contains_key(&(a.min(b), a.max(b))))
        .filter_map(|&(a, b)| scorable(a, b))
        .fold(HashMap::new, |mut counts, g| {
            *counts.entry(g).or_insert(0.0) += 1.0;
            counts
        })
        .reduce(HashMap::new, |mut x, y| {
            for (g, n) in y {
                *x.entry(g).or_insert(0.0) += n;
            }
            x
        });
    let held = answers.iter().filter_map(|(&(a, b), &same)| {
        Some((scorable(a, b)?, 1.0, Some(f64::from(u8::from(same)))))
    });
    let mut pairs: Vec<Observed> = free
        .into_iter()
        .map(|(g, n)| (g, n, None))
        .chain(held)
        .collect();
    // One order whatever the hash maps' order, so one log always gives one model (sums of floats
    // in another order differ in their last bits, and a pair at a cut-off could change sides).
    pairs.sort_unstable_by(|x, y| {
        x.0.cmp(&y.0)
            .then(x.2.partial_cmp(&y.2).unwrap_or(std::cmp::Ordering::Equal))
    });
    fit(&pairs).map_or(shipped, |mut model| {
        if let Some(e) = model.estimate.as_mut() {
            e.activities = records.len();
            e.labelled_pairs = answers.len();
        }
        model
    })
}

/// A comparison vector seen `count` times, with the known probability of a match where the
/// pair was reviewed.
pub type Observed = (Gamma, f64, Option<f64>);

/// Fits m, u and the match share to observed comparison vectors by expectation-maximisation
/// (`None` below [`MIN_PAIRS`]). See [`estimate`].
pub fn fit(pairs: &[Observed]) -> Option<Model> {
    let total: f64 = pairs.iter().map(|(_, n, _)| n).sum();
    if total < MIN_PAIRS {
        return None;
    }

    let mut seen = table();
    for (g, n, _) in pairs {
        for (c, &l) in g.iter().enumerate() {
            seen[c][usize::from(l)] += n;
        }
    }
    let u_start = normalise(&seen, 1.0);
    let mut implied = table();
    for (c, levels) in implied.iter_mut().enumerate() {
        for (l, x) in levels.iter_mut().enumerate().skip(1) {
            *x = u_start[c][l] * shipped_weight(c, l).exp2();
        }
    }
    let m_start = normalise(&implied, 0.0);

    // The sentence vectors are read from the same words as title and description: estimated
    // together, the EM took their agreement for a class of its own (on the public benchmark, two
    // restaurants of one street became matches). So the EM runs without them, and the meaning
    // comparison's m and u are then counted once from the posteriors of the rest.
    let lexical: Vec<Observed> = pairs
        .iter()
        .map(|&(mut g, n, answer)| {
            g[MEANING] = 0;
            (g, n, answer)
        })
        .collect();
    let (mut m, mut u, mut share) = (m_start.clone(), u_start.clone(), probability(SHIPPED_PRIOR));
    let mut iterations = 0;
    while iterations < MAX_ITERATIONS {
        iterations += 1;
        let model = assemble(&m, &u, share, &seen);
        let scaled = |t: &Table| -> Table {
            t.iter()
                .map(|l| l.iter().map(|x| x * ANCHOR).collect())
                .collect()
        };
        let (mut counts_m, mut counts_u) = (scaled(&m_start), scaled(&u_start));
        let mut matched = 0.0;
        for (g, n, answer) in &lexical {
            let p = answer.unwrap_or_else(|| probability(model.log_odds(g)));
            matched += p * n;
            for (c, &l) in g.iter().enumerate() {
                counts_m[c][usize::from(l)] += p * n;
                counts_u[c][usize::from(l)] += (1.0 - p) * n;
            }
        }
        let next = (
            normalise(&counts_m, 0.0),
            normalise(&counts_u, 0.0),
            (matched / total).clamp(1e-6, 0.5),
        );
        let change = next
            .0
            .iter()
            .flatten()
            .zip(m.iter().flatten())
            .chain(next.1.iter().flatten().zip(u.iter().flatten()))
            .map(|(x, y)| (x - y).abs())
            .fold((next.2 - share).abs(), f64::max);
        (m, u, share) = next;
        if change < 1e-7 {
            break;
        }
    }
    // Then the meaning comparison's own expectation-maximisation, the rest held where it came to.
    for _ in 0..MAX_ITERATIONS {
        let model = assemble(&m, &u, share, &seen);
        let (mut counts_m, mut counts_u) = (scaled_row(&m_start), scaled_row(&u_start));
        for (g, n, answer) in pairs {
            let p = answer.unwrap_or_else(|| probability(model.log_odds(g)));
            let l = usize::from(g[MEANING]);
            counts_m[MEANING][l] += p * n;
            counts_u[MEANING][l] += (1.0 - p) * n;
        }
        let next_m = normalise(&counts_m, 0.0).swap_remove(MEANING);
        let next_u = normalise(&counts_u, 0.0).swap_remove(MEANING);
        let change = next_m
            .iter()
            .zip(&m[MEANING])
            .chain(next_u.iter().zip(&u[MEANING]))
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        (m[MEANING], u[MEANING]) = (next_m, next_u);
        if change < 1e-7 {
            break;
        }
    }
    let mut model = assemble(&m, &u, share, &seen);
    let expected = [
        ("duplicate", crate::DUPLICATE_AT),
        ("possible", crate::POSSIBLE_AT),
    ]
    .map(|(level, at)| {
        let (mut called, mut right, mut matches) = (0.0, 0.0, 0.0);
        for (g, n, answer) in pairs {
            let p = answer.unwrap_or_else(|| probability(model.log_odds(g)));
            matches += p * n;
            if probability(model.log_odds(g)) >= at {
                called += n;
                right += p * n;
            }
        }
        Expected {
            level: level.to_owned(),
            precision: if called > 0.0 { right / called } else { 0.0 },
            recall: if matches > 0.0 { right / matches } else { 0.0 },
        }
    })
    .to_vec();
    model.estimate = Some(Estimate {
        estimated_at: None,
        activities: 0,
        candidate_pairs: total as usize,
        labelled_pairs: pairs.iter().filter(|p| p.2.is_some()).count(),
        iterations,
        match_share: share,
        expected,
    });
    Some(model)
}

/// A table of [`ANCHOR`] pairs' worth of counts at `start`'s shares, for every comparison.
fn scaled_row(start: &Table) -> Table {
    start
        .iter()
        .map(|l| l.iter().map(|x| x * ANCHOR).collect())
        .collect()
}

/// Probabilities over each comparison's informative levels (level 0 and rule levels get 0),
/// with `smoothing` added to every count first.
fn normalise(counts: &Table, smoothing: f64) -> Table {
    counts
        .iter()
        .enumerate()
        .map(|(c, levels)| {
            let informative = |l: usize| l > 0 && !RULES.contains(&(c, l));
            let sum: f64 = (0..levels.len())
                .filter(|&l| informative(l))
                .map(|l| levels[l] + smoothing)
                .sum();
            (0..levels.len())
                .map(|l| {
                    if informative(l) && sum > 0.0 {
                        (levels[l] + smoothing) / sum
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect()
}

/// The model of m, u and the match share; levels no pair was `seen` at keep the shipped weight.
fn assemble(m: &Table, u: &Table, share: f64, seen: &Table) -> Model {
    let mut model = Model::shipped();
    model.prior = (share / (1.0 - share)).log2();
    for (c, comparison) in model.comparisons.iter_mut().enumerate() {
        for (l, params) in comparison.levels.iter_mut().enumerate() {
            if l == 0 || RULES.contains(&(c, l)) || seen[c][l] == 0.0 {
                continue;
            }
            let (pm, pu) = (m[c][l].max(1e-9), u[c][l].max(1e-9));
            params.weight = (pm / pu).log2();
            params.m = Some(pm);
            params.u = Some(pu);
        }
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    /// m and u of the informative levels (from level 1) of each comparison: the truth the
    /// synthetic pairs are drawn from. The phase comparison has one informative level.
    fn truth() -> Vec<(Vec<f64>, Vec<f64>)> {
        let words = (
            vec![0.5, 0.25, 0.15, 0.06, 0.04],
            vec![0.01, 0.02, 0.07, 0.2, 0.7],
        );
        let set = (vec![0.8, 0.15, 0.05], vec![0.3, 0.2, 0.5]);
        vec![
            words.clone(),
            (
                vec![0.2, 0.3, 0.3, 0.1, 0.1],
                vec![0.02, 0.03, 0.05, 0.2, 0.7],
            ),
            (vec![0.9, 0.1], vec![0.6, 0.4]),
            (vec![0.7, 0.2, 0.1], vec![0.3, 0.3, 0.4]),
            set.clone(),
            (vec![0.6, 0.3, 0.1], vec![0.4, 0.2, 0.4]),
            set.clone(),
            (vec![0.5, 0.4, 0.1], vec![0.05, 0.15, 0.8]),
            (vec![1.0], vec![1.0]),
            (
                vec![0.55, 0.25, 0.1, 0.05, 0.05],
                vec![0.01, 0.04, 0.1, 0.25, 0.6],
            ),
        ]
    }

    fn draw(rng: &mut StdRng, probabilities: &[f64]) -> u8 {
        let mut x: f64 = rng.random();
        for (i, p) in probabilities.iter().enumerate() {
            if x < *p {
                return (i + 1) as u8;
            }
            x -= p;
        }
        probabilities.len() as u8
    }

    #[test]
    fn estimation_recovers_known_m_and_u_from_synthetic_pairs() -> Result<(), &'static str> {
        let (share, pairs) = (0.08, 200_000);
        let truth = truth();
        let mut rng = StdRng::seed_from_u64(16);
        let mut counts: HashMap<Gamma, f64> = HashMap::new();
        for _ in 0..pairs {
            let is_match = rng.random::<f64>() < share;
            let mut g: Gamma = [0; 10];
            for (c, (m, u)) in truth.iter().enumerate() {
                g[c] = draw(&mut rng, if is_match { m } else { u });
            }
            *counts.entry(g).or_default() += 1.0;
        }
        let observed: Vec<Observed> = counts.into_iter().map(|(g, n)| (g, n, None)).collect();
        let model = fit(&observed).ok_or("too few pairs")?;
        let estimate = model.estimate.as_ref().ok_or("no estimate")?;
        // Stated tolerance: every m and u within 0.02 of the truth, the share within 0.005.
        assert!(
            (estimate.match_share - share).abs() < 0.005,
            "share {} against {share}",
            estimate.match_share
        );
        for (c, (m, u)) in truth.iter().enumerate() {
            for l in 0..m.len() {
                let params = &model.comparisons[c].levels[l + 1];
                let (got_m, got_u) = (params.m.unwrap_or(-1.0), params.u.unwrap_or(-1.0));
                assert!(
                    (got_m - m[l]).abs() < 0.02 && (got_u - u[l]).abs() < 0.02,
                    "{} {}: m {got_m:.3} u {got_u:.3}, truth m {} u {}",
                    COMPARISONS[c],
                    params.level,
                    m[l],
                    u[l]
                );
            }
        }
        Ok(())
    }

    #[test]
    fn reviewed_pairs_pull_the_estimate_toward_their_answer() -> Result<(), &'static str> {
        // Pairs of middling words and alike in everything else: reviews that call 200 of them
        // different work lower the odds the estimate gives such pairs.
        let mut rng = StdRng::seed_from_u64(17);
        let truth = truth();
        let mut observed: Vec<Observed> = Vec::new();
        for _ in 0..20_000 {
            let is_match = rng.random::<f64>() < 0.05;
            let mut g: Gamma = [0; 10];
            for (c, (m, u)) in truth.iter().enumerate() {
                g[c] = draw(&mut rng, if is_match { m } else { u });
            }
            observed.push((g, 1.0, None));
        }
        let ambiguous: Gamma = [2, 3, 1, 1, 1, 1, 1, 1, 1, 2];
        let before = fit(&observed).ok_or("too few pairs")?;
        let reviewed: Vec<Observed> = (0..200).map(|_| (ambiguous, 1.0, Some(0.0))).collect();
        observed.extend(reviewed);
        let after = fit(&observed).ok_or("too few pairs")?;
        assert!(
            after.log_odds(&ambiguous) < before.log_odds(&ambiguous) - 1.0,
            "{} then {}",
            before.log_odds(&ambiguous),
            after.log_odds(&ambiguous)
        );
        assert_eq!(after.estimate.map(|e| e.labelled_pairs), Some(200));
        Ok(())
    }

    #[test]
    fn a_young_log_keeps_the_shipped_model_and_rules_hold_in_every_model()
    -> Result<(), &'static str> {
        assert!(fit(&[([1; 10], 10.0, None)]).is_none());
        let observed: Vec<Observed> = (0..500u32)
            .map(|i| ([(i % 5 + 1) as u8, 1, 1, 1, 1, 1, 1, 1, 1, 1], 1.0, None))
            .collect();
        let model = fit(&observed).ok_or("too few pairs")?;
        for (c, l) in RULES {
            assert_eq!(model.weight(c, l as u8), RULE_WEIGHT);
        }
        assert_eq!(model.weight(0, 0), 0.0);
        Ok(())
    }
}
