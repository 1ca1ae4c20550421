//! The activity log's write paths: record, change and archive activities, with their look-up rows,
//! band keys and pairs (`index`) current in the same transaction, scored (`scoring`) before it.

use crate::feature_cache::{self, FeatureCache};
use crate::index::{Written, clear_index, remove_pairs, save_pairs, write_index};
use crate::model::{Activity, Data, Match, Row};
use crate::scoring::{Reader, matches};
use diesel::prelude::*;
use icat_audit::{Actor, NewEvent};
use icat_common::ApiError;
use icat_common::to_json;
use icat_dedup::{Features, Model};
use icat_store::DbConn;
use icat_store::schema::{
    activities, activity_bands, activity_countries, activity_sdgs, activity_themes, agencies,
};
use std::sync::Arc;

/// One activity with its agency's acronym.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Activity, ApiError> {
    activities::table
        .inner_join(agencies::table)
        .filter(activities::id.eq(id))
        .filter(activities::archived_at.is_null())
        .select((Row::as_select(), agencies::acronym))
        .first::<(Row, String)>(conn)
        .optional()?
        .map(|(row, acronym)| Activity::from_row(row, acronym))
        .ok_or_else(|| ApiError::not_found("no activity has this id"))
}

/// The agency's live activity with the same normalised title, countries and dates, if any.
pub fn same_activity(
    conn: &mut DbConn,
    agency_id: &str,
    key: &str,
    except: Option<&str>,
) -> QueryResult<Option<String>> {
    activities::table
        .filter(activities::agency_id.eq(agency_id))
        .filter(activities::same_key.eq(key))
        .filter(activities::archived_at.is_null())
        .filter(activities::id.ne(except.unwrap_or_default()))
        .select(activities::id)
        .first(conn)
        .optional()
}

/// [`same_activity`] for a write: on PostgreSQL it first waits, until the end of the transaction,
/// for any other transaction writing the same agency and key. Two requests (or two servers)
/// writing one activity at once would otherwise both find none, and the loser would meet the
/// unique index as a bare `conflict` instead of `duplicate_activity` with the winner's id.
/// (SQLite's writers take turns already.)
pub(crate) fn same_activity_locked(
    conn: &mut DbConn,
    agency_id: &str,
    key: &str,
    except: Option<&str>,
) -> QueryResult<Option<String>> {
    if let DbConn::Pg(pg) = conn {
        let lock = icat_dedup::text::hash(format!("{agency_id}|{key}").as_bytes());
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(lock.cast_signed())
            .execute(pg)?;
    }
    same_activity(conn, agency_id, key, except)
}

pub fn duplicate_activity(existing_id: String) -> ApiError {
    let mut err = ApiError::new(
        icat_common::ErrorCode::DuplicateActivity,
        409,
        "your agency has already recorded this activity (same title, countries and dates)",
    );
    err.existing_id = Some(existing_id);
    err
}

/// Writes an activity and its look-up rows; scoring is the caller's.
pub(crate) fn insert(
    conn: &mut DbConn,
    created_by: Option<&str>,
    agency_id: &str,
    data: &Data,
    features: &str,
    same_key: &str,
    keys: &[i64],
) -> QueryResult<String> {
    let now = icat_common::now();
    let id = icat_common::new_time_ordered_id();
    diesel::insert_into(activities::table)
        .values((
            activities::id.eq(&id),
            activities::agency_id.eq(agency_id),
            activities::title.eq(&data.title),
            activities::description.eq(&data.description),
            activities::countries.eq(to_json(&data.countries)?),
            activities::themes.eq(to_json(&data.themes)?),
            activities::sdg_targets.eq(to_json(&data.sdg_targets)?),
            activities::target_groups.eq(to_json(&data.target_groups)?),
            activities::partners.eq(to_json(&data.partners)?),
            activities::start_date.eq(data.start_date),
            activities::end_date.eq(data.end_date),
            activities::status.eq(&data.status),
            activities::budget_usd.eq(data.budget_usd),
            activities::same_key.eq(same_key),
            activities::features.eq(features),
            activities::search_terms.eq(data.search_terms()),
            activities::title_terms.eq(data.title_terms()),
            activities::created_by.eq(created_by),
            activities::created_at.eq(now),
            activities::updated_at.eq(now),
            activities::version.eq(1),
        ))
        .execute(conn)?;
    write_index(conn, &id, agency_id, data, keys)?;
    Ok(id)
}

/// Writes activities in one transaction without scoring them (bulk loads such as `icat seed`;
/// run [`rebuild`] afterwards). Repeats of an agency's existing activity are skipped; returns how
/// many were written.
pub fn load_unscored(
    conn: &mut DbConn,
    created_by: Option<&str>,
    batch: &[(String, Data)],
) -> Result<usize, ApiError> {
    icat_store::write(conn, |conn| {
        let mut written = 0;
        for (agency_id, data) in batch {
            // Without its sentence vector: the rebuild that follows a bulk load computes them all
            // at once, outside this transaction.
            let f = data.features(agency_id, &[]);
            let same_key = data.same_key();
            if same_activity(conn, agency_id, &same_key, None)?.is_some() {
                continue;
            }
            insert(
                conn,
                created_by,
                agency_id,
                data,
                &to_json(&f)?,
                &same_key,
                &icat_dedup::band_keys(&f),
            )?;
            written += 1;
        }
        Ok(written)
    })
}

/// An activity scored against the log and ready to be written: everything its write needs, owned,
/// so that the write may run on another writer's thread (`Db::write_together`).
pub struct Scored {
    agency_id: String,
    data: Data,
    f: Features,
    keys: Vec<i64>,
    features: String,
    same_key: String,
    /// The model that scored it, and the matches it found.
    found: (Arc<Model>, Vec<Match>),
    scored_at: chrono::NaiveDateTime,
}

/// Scores a new activity against its candidates. Scoring reads only: it runs before the write
/// turn, beside other requests, and [`write_scored`] catches up with what was written meanwhile.
pub fn score_new(
    conn: &mut DbConn,
    cache: &FeatureCache,
    agency_id: &str,
    data: Data,
    meaning: &[f32],
) -> Result<Scored, ApiError> {
    let f = data.features(agency_id, meaning);
    let keys = icat_dedup::band_keys(&f);
    let scored_at = icat_store::unseen_since();
    let found = matches(conn, Reader::Cached(cache), &f, &keys, None, None)?;
    Ok(Scored {
        agency_id: agency_id.to_owned(),
        features: to_json(&f)?,
        same_key: data.same_key(),
        data,
        f,
        keys,
        found,
        scored_at,
    })
}

/// Records an activity for an agency and scores it against its candidates. One agency recording
/// the same activity twice gets 409 `duplicate_activity` with the existing id.
pub fn record(
    conn: &mut DbConn,
    cache: &FeatureCache,
    actor: &Actor,
    agency_id: &str,
    data: &Data,
    meaning: &[f32],
) -> Result<(Activity, Vec<Match>), ApiError> {
    let scored = score_new(conn, cache, agency_id, data.clone(), meaning)?;
    icat_store::write(conn, |conn| write_scored(conn, actor, scored))
}

/// Writes a [`Scored`] activity, inside the caller's write transaction: the activity, its look-up
/// rows, its pairs (with those of activities written since it was scored) and the audit event.
/// Returns the activity and the matches to show.
pub fn write_scored(
    conn: &mut DbConn,
    actor: &Actor,
    scored: Scored,
) -> Result<(Activity, Vec<Match>), ApiError> {
    let Scored {
        agency_id,
        data,
        f,
        keys,
        features,
        same_key,
        found,
        scored_at,
    } = scored;
    let active: Option<bool> = agencies::table
        .find(&agency_id)
        .select(agencies::active)
        .first(conn)
        .optional()?;
    match active {
        None => {
            return Err(ApiError::invalid_field(
                "agency_id",
                "no agency has this id",
            ));
        }
        Some(false) => {
            return Err(ApiError::conflict(
                "this agency is no longer an active member",
            ));
        }
        Some(true) => {}
    }
    if let Some(existing) = same_activity_locked(conn, &agency_id, &same_key, None)? {
        return Err(duplicate_activity(existing));
    }
    let id = insert(
        conn,
        actor.user_id.as_deref(),
        &agency_id,
        &data,
        &features,
        &same_key,
        &keys,
    )?;
    let shown = save_pairs(conn, &id, &f, &keys, found, scored_at, Written::New)?;
    let activity = find(conn, &id)?;
    icat_audit::record(
        conn,
        actor,
        &NewEvent::success("create", "activity", &id).with_changes(serde_json::json!({
            "title": activity.title,
            "agency_id": activity.agency_id,
            "matches": shown.iter().map(|m| serde_json::json!({"activity_id": m.activity_id, "level": m.level, "score": m.score})).collect::<Vec<_>>(),
        })),
    )?;
    Ok((activity, shown))
}

/// Changes an activity if it is still at the version the client read, and rescores it.
pub fn update(
    conn: &mut DbConn,
    cache: &FeatureCache,
    actor: &Actor,
    before: &Activity,
    expected_version: i32,
    data: &Data,
) -> Result<(Activity, Vec<Match>), ApiError> {
    let f = data.features(&before.agency_id, &cache.meaning(data));
    let keys = icat_dedup::band_keys(&f);
    let same_key = data.same_key();
    let scored_at = icat_store::unseen_since();
    let found = matches(
        conn,
        Reader::Cached(cache),
        &f,
        &keys,
        Some(&before.id),
        None,
    )?;
    icat_store::write(conn, |conn| {
        if let Some(existing) =
            same_activity_locked(conn, &before.agency_id, &same_key, Some(&before.id))?
        {
            return Err(duplicate_activity(existing));
        }
        let updated = diesel::update(
            activities::table
                .filter(activities::id.eq(&before.id))
                .filter(activities::version.eq(expected_version))
                .filter(activities::archived_at.is_null()),
        )
        .set((
            activities::title.eq(&data.title),
            activities::description.eq(&data.description),
            activities::countries.eq(to_json(&data.countries)?),
            activities::themes.eq(to_json(&data.themes)?),
            activities::sdg_targets.eq(to_json(&data.sdg_targets)?),
            activities::target_groups.eq(to_json(&data.target_groups)?),
            activities::partners.eq(to_json(&data.partners)?),
            activities::start_date.eq(data.start_date),
            activities::end_date.eq(data.end_date),
            activities::status.eq(&data.status),
            activities::budget_usd.eq(data.budget_usd),
            activities::same_key.eq(&same_key),
            activities::features.eq(to_json(&f)?),
            activities::search_terms.eq(data.search_terms()),
            activities::title_terms.eq(data.title_terms()),
            activities::updated_at.eq(icat_common::now()),
            activities::version.eq(activities::version + 1),
        ))
        .execute(conn)?;
        if updated == 0 {
            return Err(ApiError::precondition_failed());
        }
        feature_cache::features_changed(conn)?;
        clear_index(conn, &before.id)?;
        write_index(conn, &before.id, &before.agency_id, data, &keys)?;
        let shown = save_pairs(
            conn,
            &before.id,
            &f,
            &keys,
            found,
            scored_at,
            Written::Changed,
        )?;
        let after = find(conn, &before.id)?;
        let diff = icat_audit::diff(
            &icat_common::to_json_value(before)?,
            &icat_common::to_json_value(&after)?,
        );
        icat_audit::record(
            conn,
            actor,
            &NewEvent::success("update", "activity", &before.id).with_changes(diff),
        )?;
        Ok((after, shown))
    })
}

/// Archives an activity: gone from lists, reports and pairs; kept in the table and the audit trail.
pub fn archive(conn: &mut DbConn, actor: &Actor, activity: &Activity) -> Result<(), ApiError> {
    icat_store::write(conn, |conn| {
        let now = icat_common::now();
        let archived = diesel::update(
            activities::table
                .filter(activities::id.eq(&activity.id))
                .filter(activities::archived_at.is_null()),
        )
        .set((
            activities::archived_at.eq(now),
            activities::updated_at.eq(now),
            activities::version.eq(activities::version + 1),
        ))
        .execute(conn)?;
        if archived == 0 {
            return Err(ApiError::not_found("no activity has this id"));
        }
        remove_pairs(conn, &activity.id)?;
        diesel::delete(activity_bands::table.filter(activity_bands::activity_id.eq(&activity.id)))
            .execute(conn)?;
        // The country block and the summary read these tables alone: an archived activity must
        // leave them.
        diesel::delete(
            activity_countries::table.filter(activity_countries::activity_id.eq(&activity.id)),
        )
        .execute(conn)?;
        diesel::delete(
            activity_themes::table.filter(activity_themes::activity_id.eq(&activity.id)),
        )
        .execute(conn)?;
        diesel::delete(activity_sdgs::table.filter(activity_sdgs::activity_id.eq(&activity.id)))
            .execute(conn)?;
        icat_audit::record(
            conn,
            actor,
            &NewEvent::success("archive", "activity", &activity.id).with_changes(
                serde_json::json!({"title": activity.title, "agency_id": activity.agency_id}),
            ),
        )?;
        Ok(())
    })
}
