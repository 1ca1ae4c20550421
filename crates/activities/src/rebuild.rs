//! `icat dedup rebuild`: every activity's features, band keys and pairs computed again from scratch,
//! with the match model estimated afresh on the log's candidate pairs (after a change of the engine,
//! its weights or its normaliser, and after a bulk load). Reviews are kept.

use crate::feature_cache::{self};
use crate::index::{overlap_group, replace_bands, stored_reasons};
use crate::model::ReasonView;
use diesel::prelude::*;
use icat_common::ApiError;
use icat_common::to_json;
use icat_dedup::Features;
use icat_store::DbConn;
use icat_store::schema::{activities, activity_pairs, pair_reviews};
use std::collections::HashMap;
use std::sync::Arc;

/// The columns the engine reads of an activity.
pub(crate) type Source = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    chrono::NaiveDate,
    chrono::NaiveDate,
);

/// Calls `each` with the id and stored features of every activity of the log, holding few rows
/// at a time. SQLite streams the table in its own order (its rowid order, the order rows were
/// written); PostgreSQL's driver would buffer a whole result, so it reads in slices.
pub(crate) fn each_stored_features(
    conn: &mut DbConn,
    mut each: impl FnMut(String, String),
) -> QueryResult<()> {
    let live = activities::table
        .filter(activities::archived_at.is_null())
        .select((activities::id, activities::features));
    if matches!(conn, DbConn::Sqlite(_)) {
        for row in
            live.load_iter::<(String, String), diesel::connection::DefaultLoadingMode>(conn)?
        {
            let (id, json) = row?;
            each(id, json);
        }
        return Ok(());
    }
    let mut after = String::new();
    loop {
        let rows: Vec<(String, String)> = live
            .filter(activities::id.gt(&after))
            .order(activities::id.asc())
            .limit(REBUILD_SLICE)
            .load(conn)?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.0.clone();
        for (id, json) in rows {
            each(id, json);
        }
    }
}

/// The features of these activities computed afresh from their texts.
pub(crate) fn recompute(
    conn: &mut DbConn,
    ids: &[&String],
    sentences: Option<&icat_embed::Encoder>,
) -> QueryResult<Vec<(String, Features)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Source> = activities::table
        .filter(activities::id.eq_any(ids))
        .order(activities::id.asc())
        .select((
            activities::id,
            activities::agency_id,
            activities::title,
            activities::description,
            activities::countries,
            activities::themes,
            activities::sdg_targets,
            activities::target_groups,
            activities::partners,
            activities::start_date,
            activities::end_date,
        ))
        .load(conn)?;
    let list = |json: &str| -> Vec<String> { serde_json::from_str(json).unwrap_or_default() };
    let lists: Vec<[Vec<String>; 5]> = rows
        .iter()
        .map(|r| [list(&r.4), list(&r.5), list(&r.6), list(&r.7), list(&r.8)])
        .collect();
    let texts: Vec<String> = rows
        .iter()
        .map(|r| icat_dedup::sentence(&r.2, &r.3))
        .collect();
    let meanings = sentences.map(|e| e.encode_all(&texts)).unwrap_or_default();
    let inputs: Vec<icat_dedup::Input<'_>> = rows
        .iter()
        .zip(&lists)
        .enumerate()
        .map(|(i, (r, l))| icat_dedup::Input {
            agency: &r.1,
            title: &r.2,
            description: &r.3,
            countries: &l[0],
            themes: &l[1],
            sdg_targets: &l[2],
            target_groups: &l[3],
            partners: &l[4],
            start: r.9,
            end: r.10,
            meaning: meanings.get(i).map_or(&[], Vec::as_slice),
        })
        .collect();
    let features = icat_dedup::features_all(&inputs);
    Ok(rows.into_iter().map(|r| r.0).zip(features).collect())
}

/// Activities [`rebuild`] reads (PostgreSQL) or computes features of again at a time.
pub(crate) const REBUILD_SLICE: i64 = 5_000;

/// How a rebuild gets the sentence encoder, if there is one: called only when some activity's
/// features must be computed, so that a rebuild that finds every vector stored never loads the
/// model (80 MB).
pub type LoadEncoder<'a> = &'a dyn Fn() -> Result<Arc<icat_embed::Encoder>, ApiError>;

/// Recomputes every activity's features, band keys and pairs from scratch (after a change of the
/// engine or its weights). Reviews are kept: a pair dismissed as `not_duplicate` stays dismissed.
/// Returns the number of activities and of pairs.
pub fn rebuild(
    conn: &mut DbConn,
    sentences: Option<LoadEncoder<'_>>,
) -> Result<(usize, usize), ApiError> {
    let started = std::time::Instant::now();
    let normaliser = icat_dedup::NORMALISER_VERSION.to_string();
    let current =
        icat_store::setting(conn, "dedup_normaliser")?.as_deref() == Some(normaliser.as_str());
    // The stored features are used as they are while the normaliser that wrote them is current (a
    // change of weights needs no new features); otherwise, or where one does not parse, they are
    // computed again from the texts and rewritten where they changed. Each row is parsed as it
    // streams by: (id, stored features if usable, else a hash of the stored JSON).
    let mut records: Vec<(String, Option<Features>, u64)> = Vec::new();
    // Features that lack only their sentence vector (after a bulk load, or once the first encoder
    // is installed) get one where an encoder is at hand; their band keys stand as they are.
    let mut vector_only: std::collections::HashSet<String> = std::collections::HashSet::new();
    each_stored_features(conn, |id, json| {
        match current
            .then(|| serde_json::from_str::<Features>(&json).ok())
            .flatten()
        {
            Some(f) if !f.meaning.is_empty() || sentences.is_none() => {
                records.push((id, Some(f), 0));
            }
            parsed => {
                if parsed.is_some() {
                    vector_only.insert(id.clone());
                }
                records.push((id, None, icat_dedup::text::hash(json.as_bytes())));
            }
        }
    })?;
    // Id order, so that the same log always gives the same pairs.
    records.sort_unstable_by(|x, y| x.0.cmp(&y.0));
    let stale: Vec<&String> = records
        .iter()
        .filter(|r| r.1.is_none())
        .map(|r| &r.0)
        .collect();
    let mut computed: std::collections::HashMap<String, Features> =
        std::collections::HashMap::new();
    let encoder = match sentences {
        Some(load) if !stale.is_empty() => Some(load()?),
        _ => None,
    };
    for chunk in stale.chunks(usize::try_from(REBUILD_SLICE).unwrap_or(5_000)) {
        computed.extend(recompute(conn, chunk, encoder.as_deref())?);
    }
    drop(encoder);
    let mut ids: Vec<String> = Vec::with_capacity(records.len());
    let mut features: Vec<Features> = Vec::with_capacity(records.len());
    let mut rewrite: Vec<usize> = Vec::new();
    for (id, parsed, stored) in records {
        let f = match parsed {
            Some(f) => f,
            None => {
                let f = computed.remove(&id).ok_or_else(|| {
                    ApiError::internal(format!("activity {id} vanished during the rebuild"))
                })?;
                if icat_dedup::text::hash(to_json(&f)?.as_bytes()) != stored {
                    rewrite.push(features.len());
                }
                f
            }
        };
        ids.push(id);
        features.push(f);
    }
    let featured = started.elapsed();
    // The match model is estimated afresh on this log's candidate pairs, people's verdicts held
    // at their answer (`coordinated` says nothing of whether the work is the same).
    let position: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let verdicts: Vec<(String, String, String)> = pair_reviews::table
        .filter(pair_reviews::decision.eq_any(["duplicate", "not_duplicate"]))
        .select((
            pair_reviews::a_id,
            pair_reviews::b_id,
            pair_reviews::decision,
        ))
        .load(conn)?;
    let labelled: Vec<(usize, usize, bool)> = verdicts
        .iter()
        .filter_map(|(a, b, decision)| {
            Some((
                *position.get(a.as_str())?,
                *position.get(b.as_str())?,
                decision == "duplicate",
            ))
        })
        .collect();
    let candidates = icat_dedup::candidates(&features);
    let mut model = icat_dedup::model::estimate(&features, &candidates, &labelled);
    if let Some(estimate) = model.estimate.as_mut() {
        estimate.estimated_at = Some(icat_common::now());
    }
    let estimated = started.elapsed();
    let pairs = icat_dedup::all_pairs_of(&model, &features, candidates);
    let paired = started.elapsed();
    let now = icat_common::now();
    // Every id written comes from the table just read, and activities are never deleted (archiving
    // keeps the row), so the foreign keys hold without checking each of the pairs' references.
    icat_store::without_foreign_key_checks(conn, |conn| {
        icat_store::write(conn, |conn| {
            // Features and band keys change only when the normaliser does; after a change of weights
            // alone, none of them is rewritten.
            // On PostgreSQL a thousand rows a statement: one round trip a row took 204 s for
            // 100,000 (SQLite, in process, takes 6 s row by row).
            for chunk in rewrite.chunks(1_000) {
                let rows: Vec<(&String, String)> = chunk
                    .iter()
                    .map(|&i| Ok((&ids[i], to_json(&features[i])?)))
                    .collect::<QueryResult<_>>()?;
                match conn {
                    DbConn::Pg(pg) => {
                        let (keys, values): (Vec<&String>, Vec<&String>) =
                            rows.iter().map(|(id, json)| (*id, json)).unzip();
                        diesel::sql_query(
                            "UPDATE activities SET features = v.features \
                             FROM unnest($1::text[], $2::text[]) AS v(id, features) \
                             WHERE activities.id = v.id",
                        )
                        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(keys)
                        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(values)
                        .execute(pg)?;
                    }
                    DbConn::Sqlite(_) => {
                        for (id, json) in &rows {
                            diesel::update(activities::table.find(*id))
                                .set(activities::features.eq(json))
                                .execute(conn)?;
                        }
                    }
                }
                for &i in chunk {
                    if !vector_only.contains(&ids[i]) {
                        replace_bands(conn, &ids[i], &icat_dedup::band_keys(&features[i]))?;
                    }
                }
            }
            // A new generation with the model, so that every server scores with it.
            feature_cache::store_model(conn, &model)?;
            if !current {
                icat_store::put_setting(conn, "dedup_normaliser", &normaliser)?;
            }
            icat_store::with_indexes_built_after(conn, "activity_pairs", |conn| {
                diesel::delete(activity_pairs::table).execute(conn)?;
                // In key order, so that the primary key's b-tree grows at its end instead of splitting
                // pages all over the file.
                // With the activities' positions in the same order as their ids (`a` before `b`).
                let mut ordered: Vec<(&str, &str, &icat_dedup::Found, (usize, usize))> = pairs
                    .iter()
                    .map(|p| {
                        let (x, y) = (ids[p.a].as_str(), ids[p.b].as_str());
                        if x < y {
                            (x, y, p, (p.a, p.b))
                        } else {
                            (y, x, p, (p.b, p.a))
                        }
                    })
                    .collect();
                ordered.sort_unstable_by(|l, r| (l.0, l.1).cmp(&(r.0, r.1)));
                for chunk in ordered.chunks(500) {
                    let rows: Vec<_> = chunk
                        .iter()
                        .map(|&(a, b, p, (at_a, at_b))| {
                            let reasons = stored_reasons(p.level, || {
                                icat_dedup::compare(&model, &features[p.a], &features[p.b])
                                    .reasons
                                    .iter()
                                    .map(ReasonView::from)
                                    .collect()
                            })?;
                            Ok((
                                activity_pairs::a_id.eq(a),
                                activity_pairs::b_id.eq(b),
                                activity_pairs::score.eq(p.score),
                                activity_pairs::level.eq(p.level.as_str()),
                                activity_pairs::reasons.eq(reasons),
                                activity_pairs::computed_at.eq(now),
                                activity_pairs::overlap_group.eq(overlap_group(
                                    (&features[p.a].countries, &features[p.a].themes),
                                    (&features[p.b].countries, &features[p.b].themes),
                                )),
                                activity_pairs::a_agency.eq(features[at_a].agency.as_str()),
                                activity_pairs::b_agency.eq(features[at_b].agency.as_str()),
                                activity_pairs::late_start
                                    .eq(features[p.a].start.max(features[p.b].start)),
                                activity_pairs::early_end
                                    .eq(features[p.a].end.min(features[p.b].end)),
                            ))
                        })
                        .collect::<QueryResult<_>>()?;
                    icat_store::execute_natively!(
                        conn,
                        diesel::insert_into(activity_pairs::table).values(&rows)
                    )?;
                }
                Ok::<_, ApiError>(())
            })
        })
    })?;
    // Every pair was rewritten: on PostgreSQL the reads after it (the map, the overlap view) were
    // planned on the old statistics and visited the dead rows until autovacuum came by (a minute
    // later where it runs; never where it is off): at 100,000 activities the map of today took
    // 47-54 ms, and 19-24 after this (2.5 s). Outside the write's transaction, as VACUUM must be.
    if let DbConn::Pg(pg) = conn {
        use diesel::connection::SimpleConnection;
        pg.batch_execute("VACUUM (ANALYZE) activity_pairs, activities, activity_bands")?;
    }
    tracing::info!(
        activities = ids.len(),
        pairs = pairs.len(),
        read_and_features_s = featured.as_secs_f64(),
        estimate_s = (estimated - featured).as_secs_f64(),
        estimated_from = model.estimate.as_ref().map_or(0, |e| e.candidate_pairs),
        pairs_s = (paired - estimated).as_secs_f64(),
        write_s = (started.elapsed() - paired).as_secs_f64(),
        "rebuilt duplicate pairs"
    );
    metrics::gauge!("icat_dedup_rebuild_seconds").set(started.elapsed().as_secs_f64());
    Ok((ids.len(), pairs.len()))
}
