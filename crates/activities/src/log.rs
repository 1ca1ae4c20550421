//! The activity log's write paths: record, change and archive activities, keeping their look-up
//! rows, LSH band keys and scored pairs current in the same transaction.

use crate::feature_cache::{self, FeatureCache};
use crate::model::{Activity, Data, Match, ReasonView, Row};
use diesel::prelude::*;
use icat_audit::{Actor, NewEvent};
use icat_common::ApiError;
use icat_common::to_json;
use icat_dedup::{Features, Level, Model};
use icat_store::DbConn;
use icat_store::schema::{
    activities, activity_bands, activity_countries, activity_pairs, activity_sdgs, activity_themes,
    agencies, pair_reviews,
};
use std::collections::HashMap;
use std::sync::Arc;

/// At most this many matches are returned with a recorded or checked activity.
pub const MATCHES_SHOWN: usize = 20;
/// At most this many activities are taken from one LSH bucket, and from each side of the country
/// block (nearest start dates first).
const BUCKET_TAKE: i64 = icat_dedup::BUCKET_CAP as i64;
const BLOCK_TAKE: i64 = 60;

/// What a pair row keeps of its reasons. An overlap's are not stored: a log of 100,000 activities
/// has some 300,000 overlaps and 6,000 strong pairs, and overlap reasons are read only by the
/// overlap report, which builds them from the two activities' features ([`explain`]).
fn stored_reasons(level: Level, reasons: impl FnOnce() -> Vec<ReasonView>) -> QueryResult<String> {
    match level {
        Level::Overlap => Ok(String::new()),
        Level::Duplicate | Level::Possible => to_json(&reasons()),
    }
}

/// The country and theme two activities share, as the overlap view groups them ("NG prevention"):
/// the smallest code of each where they share several, empty where none (migration 000007 writes
/// the same for pairs stored before).
pub fn overlap_group(
    (a_countries, a_themes): (&[String], &[String]),
    (b_countries, b_themes): (&[String], &[String]),
) -> String {
    let first = |x: &[String], y: &[String]| {
        x.iter()
            .filter(|v| y.contains(v))
            .min()
            .cloned()
            .unwrap_or_default()
    };
    format!(
        "{} {}",
        first(a_countries, b_countries),
        first(a_themes, b_themes)
    )
}

type Places = HashMap<String, (Vec<String>, Vec<String>)>;

/// The countries and themes of live activities, from their index tables.
fn places_of<'a>(conn: &mut DbConn, ids: impl Iterator<Item = &'a str>) -> QueryResult<Places> {
    let ids: Vec<&str> = ids.collect();
    let mut out: Places = HashMap::with_capacity(ids.len());
    if ids.is_empty() {
        return Ok(out);
    }
    let countries: Vec<(String, String)> = activity_countries::table
        .filter(activity_countries::activity_id.eq_any(&ids))
        .select((activity_countries::activity_id, activity_countries::country))
        .load(conn)?;
    for (id, c) in countries {
        out.entry(id).or_default().0.push(c);
    }
    let themes: Vec<(String, String)> = activity_themes::table
        .filter(activity_themes::activity_id.eq_any(&ids))
        .select((activity_themes::activity_id, activity_themes::theme))
        .load(conn)?;
    for (id, t) in themes {
        out.entry(id).or_default().1.push(t);
    }
    Ok(out)
}

/// The reasons of pairs whose row did not keep them (overlaps), built from the features of both
/// activities; pairs with an archived or unknown activity get none.
pub fn explain(
    conn: &mut DbConn,
    pairs: &[(String, String)],
) -> QueryResult<HashMap<(String, String), Vec<ReasonView>>> {
    let mut ids: Vec<String> = pairs
        .iter()
        .flat_map(|(a, b)| [a.clone(), b.clone()])
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let features: HashMap<String, Arc<Features>> =
        feature_cache::load(conn, &ids)?.into_iter().collect();
    let model = feature_cache::stored_model(conn)?;
    Ok(pairs
        .iter()
        .filter_map(|(a, b)| {
            let reasons = icat_dedup::compare(&model, features.get(a)?, features.get(b)?)
                .reasons
                .iter()
                .map(ReasonView::from)
                .collect();
            Some(((a.clone(), b.clone()), reasons))
        })
        .collect())
}

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
fn same_activity_locked(
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

/// A candidate for comparison: its id and features (which hold its agency and dates).
struct Candidate {
    id: String,
    features: Arc<Features>,
}

/// Activities of other agencies that may duplicate or overlap one with these features: those that
/// share an LSH bucket (capped per bucket) and those that share a country in an overlapping period
/// (capped). Never a scan of the log. Their features come from `cache` where it holds them.
/// Where a scoring reads its model and its candidates' features: the cache (the model of the
/// generation it reads), or, for the late check inside the write turn, the database for the
/// features and the model that scored the activity before the turn (nothing parsed while every
/// writer waits).
#[derive(Clone, Copy)]
enum Reader<'a> {
    Cached(&'a FeatureCache),
    Late(&'a Arc<Model>),
}

fn candidates(
    conn: &mut DbConn,
    reader: Reader<'_>,
    f: &Features,
    keys: &[i64],
    except: Option<&str>,
    since: Option<chrono::NaiveDateTime>,
) -> QueryResult<(Arc<Model>, Vec<Candidate>)> {
    let mut ids: Vec<String> = Vec::new();
    if let Some(since) = since {
        // The late check: what other writers committed while this activity was scored, and of
        // that only what shares a bucket, or a country in an overlapping period, with it (the
        // tests below, uncapped). It runs inside the write turn, where every row read costs
        // every writer waiting: two index probes are cheaper than reading each late activity.
        let late: Vec<String> = activities::table
            .filter(activities::updated_at.ge(since))
            .filter(activities::agency_id.ne(&f.agency))
            .filter(activities::archived_at.is_null())
            .select(activities::id)
            .limit(500)
            .load(conn)?;
        if !late.is_empty() {
            ids = activity_bands::table
                .filter(activity_bands::activity_id.eq_any(&late))
                .filter(activity_bands::band_key.eq_any(keys))
                .select(activity_bands::activity_id)
                .load(conn)?;
            ids.extend(
                activity_countries::table
                    .filter(activity_countries::activity_id.eq_any(&late))
                    .filter(activity_countries::country.eq_any(&f.countries))
                    .filter(activity_countries::start_date.le(f.end))
                    .filter(activity_countries::end_date.ge(f.start))
                    .select(activity_countries::activity_id)
                    .load::<String>(conn)?,
            );
        }
    } else {
        // A full bucket holds records that merely share common words (the rebuild skips it too):
        // it adds nothing but work.
        let cap = usize::try_from(BUCKET_TAKE).unwrap_or(0);
        for bucket in buckets(conn, keys)? {
            if bucket.len() <= cap {
                ids.extend(bucket);
            }
        }
        // The nearest starts on either side of the activity's start, in its countries: index
        // ranges on (country, start_date), never a visit of every activity of the country.
        for later in [true, false] {
            let q = activity_countries::table
                .filter(activity_countries::country.eq_any(&f.countries))
                .filter(activity_countries::start_date.le(f.end))
                .filter(activity_countries::end_date.ge(f.start))
                .filter(activity_countries::agency_id.ne(&f.agency))
                .select(activity_countries::activity_id)
                .limit(BLOCK_TAKE)
                .into_boxed();
            let block: Vec<String> = if later {
                q.filter(activity_countries::start_date.ge(f.start))
                    .order(activity_countries::start_date.asc())
                    .load(conn)?
            } else {
                q.filter(activity_countries::start_date.lt(f.start))
                    .order(activity_countries::start_date.desc())
                    .load(conn)?
            };
            ids.extend(block);
        }
    }
    ids.sort();
    ids.dedup();
    if let Some(except) = except {
        ids.retain(|id| id != except);
    }
    // The archived leave the band and country tables in their own transaction, so none is
    // among the ids (the late check reads only live ones).
    let (model, found) = match reader {
        Reader::Cached(cache) => cache.features(conn, ids)?,
        Reader::Late(model) => (model.clone(), feature_cache::load(conn, &ids)?),
    };
    let mut out: Vec<Candidate> = found
        .into_iter()
        .map(|(id, features)| Candidate { id, features })
        .collect();
    out.retain(|c| c.features.agency != f.agency);
    Ok((model, out))
}

/// The activities of each LSH bucket, at most [`BUCKET_TAKE`] + 1 of each (one more than a bucket
/// may hold to count as one). SQLite reads in process, a query a key; PostgreSQL takes one round
/// trip for all of them (some twenty a row: 3.6 ms of an import's row went to them).
fn buckets(conn: &mut DbConn, keys: &[i64]) -> QueryResult<Vec<Vec<String>>> {
    match conn {
        DbConn::Pg(pg) => {
            // A key twice would read its bucket twice and make it look full.
            let mut keys = keys.to_vec();
            keys.sort_unstable();
            keys.dedup();
            #[derive(QueryableByName)]
            struct Member {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                band_key: i64,
                #[diesel(sql_type = diesel::sql_types::Text)]
                activity_id: String,
            }
            let members: Vec<Member> = diesel::sql_query(
                "SELECT k.key AS band_key, b.activity_id FROM unnest($1::bigint[]) AS k(key), \
                 LATERAL (SELECT activity_id FROM activity_bands WHERE band_key = k.key LIMIT $2) b",
            )
            .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(&keys)
            .bind::<diesel::sql_types::BigInt, _>(BUCKET_TAKE + 1)
            .load(pg)?;
            let mut by_key: HashMap<i64, Vec<String>> = HashMap::new();
            for m in members {
                by_key.entry(m.band_key).or_default().push(m.activity_id);
            }
            Ok(by_key.into_values().collect())
        }
        DbConn::Sqlite(_) => keys
            .iter()
            .map(|key| {
                activity_bands::table
                    .filter(activity_bands::band_key.eq(key))
                    .select(activity_bands::activity_id)
                    .limit(BUCKET_TAKE + 1)
                    .load(conn)
            })
            .collect(),
    }
}

/// The pairs an activity forms with its candidates, strongest first: every duplicate and possible
/// match, and the strongest few overlaps.
fn matches(
    conn: &mut DbConn,
    reader: Reader<'_>,
    f: &Features,
    keys: &[i64],
    except: Option<&str>,
    since: Option<chrono::NaiveDateTime>,
) -> QueryResult<(Arc<Model>, Vec<Match>)> {
    // Score every candidate on the fast path, keep the strong pairs and the strongest overlaps,
    // and build the explanation of those alone.
    let (model, found) = candidates(conn, reader, f, keys, except, since)?;
    let mut kept: Vec<(Candidate, f64, Level, f64)> = found
        .into_iter()
        .filter_map(|c| {
            let (score, level, log_odds) = icat_dedup::quick(&model, f, &c.features)?;
            Some((c, score, level, log_odds))
        })
        .collect();
    // Strongest first by the unrounded odds: overlaps' scores mostly round to 0.000.
    kept.sort_by(|x, y| y.3.total_cmp(&x.3).then_with(|| x.0.id.cmp(&y.0.id)));
    let mut overlaps = 0;
    kept.retain(|(_, _, level, _)| {
        if *level == Level::Overlap {
            overlaps += 1;
            overlaps <= icat_dedup::OVERLAPS_KEPT
        } else {
            true
        }
    });
    // What a match shows of the other activity, read for the few kept; an activity archived
    // since its features were read is dropped here.
    let mut shown: HashMap<String, (String, String, chrono::NaiveDate, chrono::NaiveDate)> =
        HashMap::with_capacity(kept.len());
    let ids: Vec<&str> = kept.iter().map(|(c, _, _, _)| c.id.as_str()).collect();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String, String, chrono::NaiveDate, chrono::NaiveDate)> =
            activities::table
                .inner_join(agencies::table)
                .filter(activities::id.eq_any(chunk))
                .filter(activities::archived_at.is_null())
                .select((
                    activities::id,
                    agencies::acronym,
                    activities::title,
                    activities::start_date,
                    activities::end_date,
                ))
                .load(conn)?;
        shown.extend(
            rows.into_iter()
                .map(|(id, acronym, title, start, end)| (id, (acronym, title, start, end))),
        );
    }
    let found = kept
        .into_iter()
        .filter_map(|(c, score, level, _)| {
            let (agency_acronym, title, start_date, end_date) = shown.remove(&c.id)?;
            Some(Match {
                reasons: icat_dedup::compare(&model, f, &c.features)
                    .reasons
                    .iter()
                    .map(ReasonView::from)
                    .collect(),
                agency_id: c.features.agency.clone(),
                activity_id: c.id,
                agency_acronym,
                title,
                start_date,
                end_date,
                score,
                level: level.as_str().to_owned(),
            })
        })
        .collect();
    Ok((model, found))
}

/// The ids of activities that people said are not duplicates of `id`.
fn dismissed(conn: &mut DbConn, id: &str) -> QueryResult<Vec<String>> {
    let pairs: Vec<(String, String)> = pair_reviews::table
        .filter(pair_reviews::decision.eq("not_duplicate"))
        .filter(pair_reviews::a_id.eq(id).or(pair_reviews::b_id.eq(id)))
        .select((pair_reviews::a_id, pair_reviews::b_id))
        .load(conn)?;
    Ok(pairs
        .into_iter()
        .map(|(a, b)| if a == id { b } else { a })
        .collect())
}

/// The possible duplicates of a prospective activity, saving nothing (the `check` route).
pub fn check(
    conn: &mut DbConn,
    cache: &FeatureCache,
    agency_id: &str,
    data: &Data,
) -> Result<Vec<Match>, ApiError> {
    let f = data.features(agency_id, &cache.meaning(data));
    let keys = icat_dedup::band_keys(&f);
    let (_, mut found) = matches(conn, Reader::Cached(cache), &f, &keys, None, None)?;
    found.truncate(MATCHES_SHOWN);
    Ok(found)
}

/// The current matches of a recorded activity, scored afresh against today's log, without the pairs
/// people dismissed as `not_duplicate` (the `matches` route: "after saving" in paragraph 7).
pub fn matches_of(
    conn: &mut DbConn,
    cache: &FeatureCache,
    activity: &Activity,
) -> Result<Vec<Match>, ApiError> {
    let data = activity.data();
    // The activity's stored vector where it has one (stored with the text it reads now): a view
    // computes none.
    let stored = cache.features(conn, vec![activity.id.clone()])?.1;
    let f = match stored.first().filter(|(_, s)| !s.meaning.is_empty()) {
        Some((_, s)) => icat_dedup::Features {
            meaning: s.meaning.clone(),
            ..data.features(&activity.agency_id, &[])
        },
        None => data.features(&activity.agency_id, &cache.meaning(&data)),
    };
    let keys = icat_dedup::band_keys(&f);
    let dismissed = dismissed(conn, &activity.id)?;
    let mut found: Vec<Match> = matches(
        conn,
        Reader::Cached(cache),
        &f,
        &keys,
        Some(&activity.id),
        None,
    )?
    .1
    .into_iter()
    .filter(|m| !dismissed.contains(&m.activity_id))
    .collect();
    found.truncate(MATCHES_SHOWN);
    Ok(found)
}

/// Replaces the LSH band rows of an activity with those of its band keys: one multi-row statement
/// (some twenty rows).
fn replace_bands(conn: &mut DbConn, id: &str, keys: &[i64]) -> QueryResult<()> {
    diesel::delete(activity_bands::table.filter(activity_bands::activity_id.eq(id)))
        .execute(conn)?;
    insert_bands(conn, id, keys)
}

fn insert_bands(conn: &mut DbConn, id: &str, keys: &[i64]) -> QueryResult<()> {
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = keys
        .into_iter()
        .map(|key| {
            (
                activity_bands::band_key.eq(key),
                activity_bands::activity_id.eq(id),
            )
        })
        .collect();
    icat_store::execute_natively!(
        conn,
        diesel::insert_into(activity_bands::table).values(&rows)
    )?;
    Ok(())
}

/// Removes the look-up rows of an activity before [`write_index`] writes them anew.
fn clear_index(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::delete(activity_countries::table.filter(activity_countries::activity_id.eq(id)))
        .execute(conn)?;
    diesel::delete(activity_themes::table.filter(activity_themes::activity_id.eq(id)))
        .execute(conn)?;
    diesel::delete(activity_sdgs::table.filter(activity_sdgs::activity_id.eq(id))).execute(conn)?;
    diesel::delete(activity_bands::table.filter(activity_bands::activity_id.eq(id)))
        .execute(conn)?;
    Ok(())
}

/// Writes the look-up rows of an activity that has none (a new one, or one [`clear_index`]ed).
fn write_index(
    conn: &mut DbConn,
    id: &str,
    agency_id: &str,
    data: &Data,
    keys: &[i64],
) -> QueryResult<()> {
    for c in &data.countries {
        diesel::insert_into(activity_countries::table)
            .values((
                activity_countries::activity_id.eq(id),
                activity_countries::country.eq(c),
                activity_countries::agency_id.eq(agency_id),
                activity_countries::start_date.eq(data.start_date),
                activity_countries::end_date.eq(data.end_date),
            ))
            .execute(conn)?;
    }
    for t in &data.themes {
        diesel::insert_into(activity_themes::table)
            .values((
                activity_themes::activity_id.eq(id),
                activity_themes::theme.eq(t),
                activity_themes::start_date.eq(data.start_date),
                activity_themes::end_date.eq(data.end_date),
            ))
            .execute(conn)?;
    }
    for s in &data.sdg_targets {
        diesel::insert_into(activity_sdgs::table)
            .values((
                activity_sdgs::activity_id.eq(id),
                activity_sdgs::target.eq(s),
                activity_sdgs::start_date.eq(data.start_date),
                activity_sdgs::end_date.eq(data.end_date),
            ))
            .execute(conn)?;
    }
    insert_bands(conn, id, keys)
}

/// Whether the activity whose pairs are saved was just written: it then has no pairs and no
/// reviews yet, and the statements that would look for them inside the write turn are skipped.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Written {
    New,
    Changed,
}

/// Replaces the pairs of `id` with those found, adding the activities written or changed since
/// `scored_at` (scoring ran before the write transaction, so that writers do not wait on it; this
/// closes the gap). Returns the matches to show.
fn save_pairs(
    conn: &mut DbConn,
    id: &str,
    f: &Features,
    keys: &[i64],
    (model, mut found): (Arc<Model>, Vec<Match>),
    scored_at: chrono::NaiveDateTime,
    written: Written,
) -> QueryResult<Vec<Match>> {
    if written == Written::Changed {
        remove_pairs(conn, id)?;
    }
    // The few late activities are read afresh, inside the write turn.
    let (_, late) = matches(
        conn,
        Reader::Late(&model),
        f,
        keys,
        Some(id),
        Some(scored_at),
    )?;
    for late in late {
        found.retain(|m| m.activity_id != late.activity_id);
        found.push(late);
    }
    found.retain(|m| m.activity_id != id);
    found.sort_by(|x, y| {
        y.score
            .total_cmp(&x.score)
            .then_with(|| x.activity_id.cmp(&y.activity_id))
    });
    let now = icat_common::now();
    let places = places_of(conn, found.iter().map(|m| m.activity_id.as_str()))?;
    let nowhere = (Vec::new(), Vec::new());
    for m in &found {
        let (a, b) = if id < m.activity_id.as_str() {
            (id, m.activity_id.as_str())
        } else {
            (m.activity_id.as_str(), id)
        };
        let (countries, themes) = places.get(&m.activity_id).unwrap_or(&nowhere);
        diesel::insert_into(activity_pairs::table)
            .values((
                activity_pairs::a_id.eq(a),
                activity_pairs::b_id.eq(b),
                activity_pairs::score.eq(m.score),
                activity_pairs::level.eq(&m.level),
                activity_pairs::reasons.eq(stored_reasons(
                    Level::parse(&m.level).unwrap_or(Level::Overlap),
                    || m.reasons.clone(),
                )?),
                activity_pairs::computed_at.eq(now),
                activity_pairs::overlap_group.eq(overlap_group(
                    (&f.countries, &f.themes),
                    (countries, themes),
                )),
            ))
            .execute(conn)?;
    }
    let hidden = match written {
        Written::New => Vec::new(),
        Written::Changed => dismissed(conn, id)?,
    };
    let mut shown: Vec<Match> = found
        .into_iter()
        .filter(|m| !hidden.contains(&m.activity_id))
        .collect();
    shown.truncate(MATCHES_SHOWN);
    Ok(shown)
}

fn remove_pairs(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::delete(
        activity_pairs::table.filter(activity_pairs::a_id.eq(id).or(activity_pairs::b_id.eq(id))),
    )
    .execute(conn)
    .map(drop)
}

/// Writes an activity and its look-up rows; scoring is the caller's.
fn insert(
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

/// The columns the engine reads of an activity.
type Source = (
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
fn each_stored_features(
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
fn recompute(
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
const REBUILD_SLICE: i64 = 5_000;

/// Recomputes every activity's features, band keys and pairs from scratch (after a change of the
/// engine or its weights). Reviews are kept: a pair dismissed as `not_duplicate` stays dismissed.
/// Returns the number of activities and of pairs.
pub fn rebuild(
    conn: &mut DbConn,
    sentences: Option<&icat_embed::Encoder>,
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
    for chunk in stale.chunks(usize::try_from(REBUILD_SLICE).unwrap_or(5_000)) {
        computed.extend(recompute(conn, chunk, sentences)?);
    }
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
                let mut ordered: Vec<(&str, &str, &icat_dedup::Found)> = pairs
                    .iter()
                    .map(|p| {
                        let (x, y) = (ids[p.a].as_str(), ids[p.b].as_str());
                        if x < y { (x, y, p) } else { (y, x, p) }
                    })
                    .collect();
                ordered.sort_unstable_by(|l, r| (l.0, l.1).cmp(&(r.0, r.1)));
                for chunk in ordered.chunks(500) {
                    let rows: Vec<_> = chunk
                        .iter()
                        .map(|&(a, b, p)| {
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
    Ok((ids.len(), pairs.len()))
}
