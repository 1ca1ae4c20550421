//! Scoring an activity against the log: its candidates (the LSH buckets it falls in and the
//! activities of its countries nearest its period, never a scan of the log), their comparison with
//! the match model, and the matches shown for it, before saving (the live check) and after.

use crate::feature_cache::{self, FeatureCache};
use crate::model::{Activity, Data, Match, ReasonView};
use diesel::prelude::*;
use icat_common::ApiError;
use icat_dedup::{Features, Level, Model};
use icat_store::DbConn;
use icat_store::schema::{activities, activity_bands, activity_countries, agencies, pair_reviews};
use std::collections::HashMap;
use std::sync::Arc;

/// At most this many matches are returned with a recorded or checked activity.
pub const MATCHES_SHOWN: usize = 20;
/// At most this many activities are taken from one LSH bucket, and from each side of the country
/// block (nearest start dates first).
pub(crate) const BUCKET_TAKE: i64 = icat_dedup::BUCKET_CAP as i64;
pub(crate) const BLOCK_TAKE: i64 = 60;

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

/// A candidate for comparison: its id and features (which hold its agency and dates).
pub(crate) struct Candidate {
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
pub(crate) enum Reader<'a> {
    Cached(&'a FeatureCache),
    Late(&'a Arc<Model>),
}

pub(crate) fn candidates(
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
pub(crate) fn buckets(conn: &mut DbConn, keys: &[i64]) -> QueryResult<Vec<Vec<String>>> {
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
pub(crate) fn matches(
    conn: &mut DbConn,
    reader: Reader<'_>,
    f: &Features,
    keys: &[i64],
    except: Option<&str>,
    since: Option<chrono::NaiveDateTime>,
) -> QueryResult<(Arc<Model>, Vec<Match>)> {
    // Score every candidate on the fast path, keep the strong pairs and the strongest overlaps,
    // and build the explanation of those alone.
    let started = std::time::Instant::now();
    let (model, found) = candidates(conn, reader, f, keys, except, since)?;
    metrics::histogram!("icat_duplicate_candidates").record(found.len() as f64);
    let mut kept: Vec<(Candidate, f64, Level, f64)> = found
        .into_iter()
        .filter_map(|c| {
            let (score, level, log_odds) = icat_dedup::quick(&model, f, &c.features)?;
            Some((c, score, level, log_odds))
        })
        .collect();
    metrics::histogram!("icat_duplicate_scoring_seconds").record(started.elapsed().as_secs_f64());
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
pub(crate) fn dismissed(conn: &mut DbConn, id: &str) -> QueryResult<Vec<String>> {
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
