//! CSV import: a file of activities recorded all or nothing, without holding up other writers.
//!
//! Every row is checked before any is written (who it is for, whether it repeats an activity the
//! agency already has or an earlier row), reading only: a dry run stops there and never takes the
//! writer's turn. The rows are then recorded a batch at a time: a batch's sentence vectors are
//! computed and the batch is scored against the log outside any transaction (beside other
//! requests, and seeing the batches written before it); then it is written in one short write
//! turn, whose late check meets the rows of its own batch and whatever other writers wrote
//! meanwhile. Another agency's record so waits for one batch's write at most, never for the file.
//! Should a batch fail, the batches written before it are taken out again in one turn, so that
//! the file stays all or nothing; the audit log keeps both the records and their removal.

use crate::FeatureCache;
use crate::csvio::ImportRow;
use crate::log;
use crate::model::Data;
use diesel::prelude::*;
use icat_audit::{Actor, NewEvent};
use icat_auth::{AuthUser, Role};
use icat_common::{ApiError, FieldError};
use icat_store::schema::{
    activities, activity_bands, activity_countries, activity_pairs, activity_sdgs, activity_themes,
    pair_reviews,
};
use icat_store::{Db, DbConn};
use std::collections::HashSet;
use std::sync::Arc;

/// Rows a write turn holds: about 50 ms of writing at 100,000 activities on SQLite, and few enough
/// that the late check of a batch (capped at 500 rows written since it was scored) sees them all.
const BATCH: usize = 25;

/// What an import did (or, for a dry run, would do).
pub struct Outcome {
    pub created: usize,
    /// Rows that repeat an activity the agency already has, or an earlier row of the file.
    pub skipped: usize,
}

/// Imports the valid rows of a file for `user`. Errors: 403 for rows of another agency (editors),
/// 422 with every row's agency error (admins), or the failure of a batch, after which nothing of
/// the file is left.
pub async fn import(
    db: &Db,
    cache: Arc<FeatureCache>,
    user: AuthUser,
    rows: Vec<ImportRow>,
    dry_run: bool,
) -> Result<Outcome, ApiError> {
    let planner = user.clone();
    let (rows, mut skipped) = db.run(move |conn| plan(conn, &planner, rows)).await?;
    if dry_run {
        return Ok(Outcome {
            created: rows.len(),
            skipped,
        });
    }
    let actor = user.actor();
    let mut spent = Spent::default();
    let mut written: Vec<String> = Vec::with_capacity(rows.len());
    // The vectors of the next batch are computed while this one is scored and written.
    let mut batches = rows.into_iter().peekable();
    let mut next = vectors_of(&cache, &mut batches);
    while let Some(pending) = next {
        let waited = std::time::Instant::now();
        let (batch, meanings) = pending.await.map_err(ApiError::internal)?;
        spent.vectors += waited.elapsed();
        next = vectors_of(&cache, &mut batches);
        match record_batch(db, &cache, &actor, batch, meanings, &mut spent).await {
            Ok((ids, repeats)) => {
                written.extend(ids);
                skipped += repeats;
            }
            Err(failure) => {
                let count = written.len();
                if let Err(e) = db.run(move |conn| undo(conn, &actor, &written)).await {
                    tracing::error!(error = %e, activities = count,
                        "an import failed and the activities it had written could not be removed");
                }
                return Err(failure);
            }
        }
    }
    tracing::info!(
        created = written.len(),
        skipped,
        vectors_s = spent.vectors.as_secs_f64(),
        scoring_s = spent.scoring.as_secs_f64(),
        writing_s = spent.writing.as_secs_f64(),
        "imported activities"
    );
    Ok(Outcome {
        created: written.len(),
        skipped,
    })
}

/// A batch of rows and, once computed, their sentence vectors.
type Vectored = (Vec<(String, Data)>, Vec<Vec<f32>>);

/// Takes the next batch of rows and starts computing their sentence vectors on a thread of the
/// blocking pool (a few milliseconds of a core each; one core, so that the import leaves the others
/// to the requests beside it), without a database connection.
fn vectors_of(
    cache: &FeatureCache,
    rows: &mut std::iter::Peekable<std::vec::IntoIter<(String, Data)>>,
) -> Option<
    impl std::future::Future<Output = Result<Vectored, actix_web::error::BlockingError>> + use<>,
> {
    rows.peek()?;
    let batch: Vec<(String, Data)> = rows.by_ref().take(BATCH).collect();
    let encoder = cache.sentences().cloned();
    Some(actix_web::web::block(move || {
        let meanings = match encoder {
            Some(encoder) => {
                let texts: Vec<String> = batch
                    .iter()
                    .map(|(_, d)| icat_dedup::sentence(&d.title, &d.description))
                    .collect();
                encoder.encode_batched(&texts)
            }
            None => vec![Vec::new(); batch.len()],
        };
        (batch, meanings)
    }))
}

/// Where an import's time went, for its log line (`vectors`: waiting for them).
#[derive(Default)]
struct Spent {
    vectors: std::time::Duration,
    scoring: std::time::Duration,
    writing: std::time::Duration,
}

/// The rows to record, each with its agency, and how many were left out as repeats.
fn plan(
    conn: &mut DbConn,
    user: &AuthUser,
    rows: Vec<ImportRow>,
) -> Result<(Vec<(String, Data)>, usize), ApiError> {
    let mut errors = Vec::new();
    let mut targets = Vec::with_capacity(rows.len());
    for row in &rows {
        match agency_of(conn, user, row.agency.as_deref())? {
            Ok(agency) => targets.push(agency),
            Err(message) => errors.push(FieldError::new("agency", Some(row.line), message)),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let mut seen = HashSet::new();
    let mut kept = Vec::with_capacity(rows.len());
    let mut skipped = 0;
    for (row, agency) in rows.into_iter().zip(targets) {
        let key = row.data.same_key();
        if !seen.insert((agency.clone(), key.clone()))
            || log::same_activity(conn, &agency, &key, None)?.is_some()
        {
            skipped += 1;
        } else {
            kept.push((agency, row.data));
        }
    }
    Ok((kept, skipped))
}

/// Scores one batch, with its vectors, outside any transaction and writes it in one write turn. Returns the ids
/// written and how many rows turned out, inside the turn, to repeat an activity another request
/// recorded meanwhile.
async fn record_batch(
    db: &Db,
    cache: &Arc<FeatureCache>,
    actor: &Actor,
    batch: Vec<(String, Data)>,
    meanings: Vec<Vec<f32>>,
    spent: &mut Spent,
) -> Result<(Vec<String>, usize), ApiError> {
    let started = std::time::Instant::now();
    let scorer = cache.clone();
    let scored = db
        .run(move |conn| {
            batch
                .into_iter()
                .zip(meanings)
                .map(|((agency, data), meaning): ((String, Data), Vec<f32>)| {
                    log::score_new(conn, &scorer, &agency, data, &meaning)
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let scored_done = std::time::Instant::now();
    spent.scoring += scored_done - started;
    let actor = actor.clone();
    let written = db
        .run(move |conn| {
            icat_store::write(conn, |conn| {
                let (mut ids, mut repeats) = (Vec::with_capacity(scored.len()), 0);
                for one in scored {
                    match log::write_scored(conn, &actor, one) {
                        Ok((activity, _)) => ids.push(activity.id),
                        // Recorded by another request since the file was checked: a repeat, as it
                        // would have been then.
                        Err(e) if e.code == icat_common::ErrorCode::DuplicateActivity => {
                            repeats += 1
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok((ids, repeats))
            })
        })
        .await;
    spent.writing += scored_done.elapsed();
    written
}

/// Takes the activities an import wrote out again, with their look-up rows and pairs (and any
/// review made of them meanwhile), in one write turn, auditing each removal.
fn undo(conn: &mut DbConn, actor: &Actor, ids: &[String]) -> Result<(), ApiError> {
    icat_store::write(conn, |conn| {
        for chunk in ids.chunks(500) {
            diesel::delete(
                activity_pairs::table.filter(
                    activity_pairs::a_id
                        .eq_any(chunk)
                        .or(activity_pairs::b_id.eq_any(chunk)),
                ),
            )
            .execute(conn)?;
            diesel::delete(
                pair_reviews::table.filter(
                    pair_reviews::a_id
                        .eq_any(chunk)
                        .or(pair_reviews::b_id.eq_any(chunk)),
                ),
            )
            .execute(conn)?;
            diesel::delete(activity_bands::table.filter(activity_bands::activity_id.eq_any(chunk)))
                .execute(conn)?;
            diesel::delete(
                activity_countries::table.filter(activity_countries::activity_id.eq_any(chunk)),
            )
            .execute(conn)?;
            diesel::delete(
                activity_themes::table.filter(activity_themes::activity_id.eq_any(chunk)),
            )
            .execute(conn)?;
            diesel::delete(activity_sdgs::table.filter(activity_sdgs::activity_id.eq_any(chunk)))
                .execute(conn)?;
            diesel::delete(activities::table.filter(activities::id.eq_any(chunk))).execute(conn)?;
        }
        for id in ids {
            icat_audit::record(
                conn,
                actor,
                &NewEvent::success("delete", "activity", id).with_changes(serde_json::json!({
                    "reason": "a later row of the same import failed; the file is imported all or nothing",
                })),
            )?;
        }
        Ok(())
    })
}

/// The agency a row is imported for: admins name it by acronym; editors import for their own
/// (naming another is refused with 403 for the whole file).
fn agency_of(
    conn: &mut DbConn,
    user: &AuthUser,
    named: Option<&str>,
) -> Result<Result<String, String>, ApiError> {
    let found = match named {
        Some(named) => icat_store::find_agency(conn, named)?,
        None => None,
    };
    match user.role {
        Role::Admin => match (named, found) {
            (None, _) => Ok(Err("admins must name the agency of each row".into())),
            (Some(a), None) => Ok(Err(format!("{a:?} is not an agency of the registry"))),
            (Some(_), Some((_, false))) => {
                Ok(Err("this agency is no longer an active member".into()))
            }
            (Some(_), Some((id, true))) => Ok(Ok(id)),
        },
        _ => {
            let own = user
                .agency_id
                .clone()
                .ok_or_else(|| ApiError::forbidden("your account has no agency"))?;
            match (named, found) {
                (None, _) => Ok(Ok(own)),
                (Some(_), Some((id, _))) if id == own => Ok(Ok(own)),
                _ => Err(ApiError::forbidden(
                    "editors import activities for their own agency only",
                )),
            }
        }
    }
}
