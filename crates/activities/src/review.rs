//! People's verdicts on pairs of activities of different agencies: `duplicate`, `not_duplicate`
//! (never shown as open again, even after a rebuild) or `coordinated`; the latest stands, every one
//! is in the audit trail. The duplicate report (`icat_reports`) shows them beside the pairs.

use crate::model::ReasonView;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use icat_audit::{Actor, NewEvent};
use icat_common::ApiError;
use icat_store::DbConn;
use icat_store::schema::{activities, activity_pairs, pair_reviews};
use serde::Serialize;
use std::collections::HashMap;

/// A person's verdict on a pair.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Review {
    /// duplicate, not_duplicate or coordinated.
    pub decision: String,
    pub note: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: chrono::DateTime<chrono::Utc>,
}

/// A scored pair in the report.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PairView {
    pub a: String,
    pub b: String,
    /// The probability (0..1) that the two activities are the same work.
    pub score: f64,
    pub level: String,
    pub reasons: Vec<ReasonView>,
    pub review: Option<Review>,
}

/// Fills in the reasons of the pairs whose row does not keep them (overlaps: see
/// `crate::scoring::explain`).
fn with_reasons(conn: &mut DbConn, mut pairs: Vec<PairView>) -> QueryResult<Vec<PairView>> {
    let missing: Vec<(String, String)> = pairs
        .iter()
        .filter(|p| p.reasons.is_empty())
        .map(|p| (p.a.clone(), p.b.clone()))
        .collect();
    if missing.is_empty() {
        return Ok(pairs);
    }
    let mut explained = crate::scoring::explain(conn, &missing)?;
    for p in pairs.iter_mut().filter(|p| p.reasons.is_empty()) {
        if let Some(reasons) = explained.remove(&(p.a.clone(), p.b.clone())) {
            p.reasons = reasons;
        }
    }
    Ok(pairs)
}

type ReviewRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    NaiveDateTime,
);

/// Every review, by pair.
pub fn load_reviews(conn: &mut DbConn) -> QueryResult<HashMap<(String, String), Review>> {
    let rows: Vec<ReviewRow> = pair_reviews::table
        .select((
            pair_reviews::a_id,
            pair_reviews::b_id,
            pair_reviews::decision,
            pair_reviews::note,
            pair_reviews::reviewed_by,
            pair_reviews::reviewed_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(a, b, decision, note, by, at)| {
            (
                (a, b),
                Review {
                    decision,
                    note,
                    reviewed_by: by,
                    reviewed_at: icat_common::utc(at),
                },
            )
        })
        .collect())
}

/// Records a person's verdict on a pair of activities of different agencies (the latest verdict
/// stands; every one is in the audit trail). `allowed` checks the reviewer's rights against the
/// two agencies.
pub fn review(
    conn: &mut DbConn,
    actor: &Actor,
    ids: (&str, &str),
    decision: &str,
    note: Option<&str>,
    reviewer_agency: Option<&str>,
    allowed: impl FnOnce(&str, &str) -> Result<(), ApiError>,
) -> Result<(PairView, Review), ApiError> {
    let (a, b) = if ids.0 < ids.1 { ids } else { (ids.1, ids.0) };
    icat_store::write(conn, |conn| {
        let agencies_of: Vec<(String, String)> = activities::table
            .filter(activities::id.eq_any([a, b]))
            .filter(activities::archived_at.is_null())
            .select((activities::id, activities::agency_id))
            .load(conn)?;
        let agency = |id: &str| {
            agencies_of
                .iter()
                .find(|(x, _)| x == id)
                .map(|(_, ag)| ag.clone())
        };
        let (Some(agency_a), Some(agency_b)) = (agency(a), agency(b)) else {
            return Err(ApiError::invalid_field(
                "activity_ids",
                "both must be activities of the log",
            ));
        };
        if agency_a == agency_b {
            return Err(ApiError::invalid_field(
                "activity_ids",
                "must be activities of two different agencies",
            ));
        }
        allowed(&agency_a, &agency_b)?;
        // One review per pair, the latest: an upsert, so that two reviews sent at once are both
        // answered (a delete then insert let the second fail on the key under PostgreSQL).
        let now = icat_common::now();
        let review = (
            pair_reviews::decision.eq(decision),
            pair_reviews::note.eq(note),
            pair_reviews::reviewed_by.eq(actor.user_id.as_deref()),
            pair_reviews::reviewed_at.eq(now),
        );
        let upsert = diesel::insert_into(pair_reviews::table)
            .values((pair_reviews::a_id.eq(a), pair_reviews::b_id.eq(b), review))
            .on_conflict((pair_reviews::a_id, pair_reviews::b_id))
            .do_update()
            .set(review);
        icat_store::execute_natively!(conn, upsert)?;
        icat_audit::record(
            conn,
            actor,
            &NewEvent::success("review", "activity_pair", &format!("{a}:{b}"))
                .with_changes(serde_json::json!({"decision": decision, "note": note})),
        )?;
        // The agency that did not review hears of it (both, when the secretariat reviewed).
        let level: Option<String> = activity_pairs::table
            .find((a, b))
            .select(activity_pairs::level)
            .first(conn)
            .optional()?;
        icat_notices::events::reviewed(
            conn,
            (a, b),
            reviewer_agency,
            decision,
            level.as_deref().unwrap_or("none"),
        )?;
        let review = Review {
            decision: decision.to_owned(),
            note: note.map(str::to_owned),
            reviewed_by: actor.user_id.clone(),
            reviewed_at: icat_common::utc(now),
        };
        let pair: Option<(f64, String, String)> = activity_pairs::table
            .find((a, b))
            .select((
                activity_pairs::score,
                activity_pairs::level,
                activity_pairs::reasons,
            ))
            .first(conn)
            .optional()?;
        let view = match pair {
            Some((score, level, reasons)) => with_reasons(
                conn,
                vec![PairView {
                    a: a.to_owned(),
                    b: b.to_owned(),
                    score,
                    level,
                    reasons: serde_json::from_str(&reasons).unwrap_or_default(),
                    review: Some(review.clone()),
                }],
            )?
            .remove(0),
            None => PairView {
                a: a.to_owned(),
                b: b.to_owned(),
                score: 0.0,
                level: "none".into(),
                reasons: vec![],
                review: Some(review.clone()),
            },
        };
        Ok((view, review))
    })
}
