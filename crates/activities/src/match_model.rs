//! What the secretariat reads of the match model duplicate detection scores with: its parameters
//! per comparison and level, how and when it was estimated, what it expects of its own levels,
//! and what people's reviews measured of them (docs/DUPLICATES.md explains how to read it).

use crate::feature_cache;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use icat_store::DbConn;
use icat_store::schema::{activity_pairs, pair_reviews};
use serde::Serialize;

/// The match model: a pair's score is the probability that the two activities are the same
/// work, its prior plus the weights of the levels it falls into, as log2 odds.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MatchModel {
    /// `estimated` by the last `icat dedup rebuild` from this workspace's activities, or
    /// `shipped` (none estimated yet, or too few pairs to estimate from).
    pub source: String,
    /// Pairs with a score at least this are `duplicate` ("very likely the same work").
    pub duplicate_at: f64,
    /// Pairs with a score at least this are `possible` ("more likely the same work than not").
    pub possible_at: f64,
    /// log2 odds that a candidate pair is the same work, before any comparison.
    pub prior: f64,
    pub estimated_at: Option<DateTime<Utc>>,
    /// Activities, candidate pairs and reviewed pairs the estimate read.
    pub activities: Option<usize>,
    pub candidate_pairs: Option<usize>,
    pub labelled_pairs: Option<usize>,
    /// The estimated share of candidate pairs that are the same work.
    pub match_share: Option<f64>,
    /// What the model expects of pairs called `duplicate`, and `possible` or stronger.
    pub expected: Vec<LevelExpectation>,
    /// What reviews measured: of the reviewed pairs now at each level, how many people called
    /// the same work (`duplicate`) and how many not (`not_duplicate`).
    pub reviewed: Vec<LevelReviews>,
    pub comparisons: Vec<ComparisonWeights>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LevelExpectation {
    /// duplicate, or possible (duplicate and possible together).
    pub level: String,
    pub precision: f64,
    pub recall: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LevelReviews {
    /// duplicate, possible or overlap.
    pub level: String,
    pub same_work: i64,
    pub not_same_work: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ComparisonWeights {
    /// title, description, countries, period, themes, sdg_targets, target_groups, partners, phase.
    pub name: String,
    pub levels: Vec<LevelWeight>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LevelWeight {
    pub level: String,
    /// log2(m/u): what a pair at this level adds to its log2 odds.
    pub weight: f64,
    /// P(level | same work), where estimated.
    pub m: Option<f64>,
    /// P(level | different work), where estimated.
    pub u: Option<f64>,
}

/// The model scorings use now, with what reviews measured of its levels.
pub fn current(conn: &mut DbConn) -> QueryResult<MatchModel> {
    let model = feature_cache::stored_model(conn)?;
    let verdicts: Vec<(String, String)> = pair_reviews::table
        .inner_join(
            activity_pairs::table.on(activity_pairs::a_id
                .eq(pair_reviews::a_id)
                .and(activity_pairs::b_id.eq(pair_reviews::b_id))),
        )
        .filter(pair_reviews::decision.eq_any(["duplicate", "not_duplicate"]))
        .select((activity_pairs::level, pair_reviews::decision))
        .load(conn)?;
    let reviewed = ["duplicate", "possible", "overlap"]
        .map(|level| {
            let of = |decision: &str| {
                verdicts
                    .iter()
                    .filter(|(l, d)| l == level && d == decision)
                    .count() as i64
            };
            LevelReviews {
                level: level.to_owned(),
                same_work: of("duplicate"),
                not_same_work: of("not_duplicate"),
            }
        })
        .into();
    let estimate = model.estimate.as_ref();
    Ok(MatchModel {
        source: if estimate.is_some() {
            "estimated"
        } else {
            "shipped"
        }
        .to_owned(),
        duplicate_at: icat_dedup::DUPLICATE_AT,
        possible_at: icat_dedup::POSSIBLE_AT,
        prior: model.prior,
        estimated_at: estimate.and_then(|e| e.estimated_at).map(|t| t.and_utc()),
        activities: estimate.map(|e| e.activities),
        candidate_pairs: estimate.map(|e| e.candidate_pairs),
        labelled_pairs: estimate.map(|e| e.labelled_pairs),
        match_share: estimate.map(|e| e.match_share),
        expected: estimate
            .map(|e| {
                e.expected
                    .iter()
                    .map(|x| LevelExpectation {
                        level: x.level.clone(),
                        precision: x.precision,
                        recall: x.recall,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        reviewed,
        comparisons: model
            .comparisons
            .into_iter()
            .map(|c| ComparisonWeights {
                name: c.name,
                levels: c
                    .levels
                    .into_iter()
                    .map(|l| LevelWeight {
                        level: l.level,
                        weight: l.weight,
                        m: l.m,
                        u: l.u,
                    })
                    .collect(),
            })
            .collect(),
    })
}
