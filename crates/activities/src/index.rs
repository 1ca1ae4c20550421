//! What an activity keeps beside its row, written in the same transaction as it: the look-up rows
//! of its countries, themes and SDG targets, its LSH band keys, and its scored pairs with other
//! agencies' activities (with the country and theme the overlap view groups them by).

use crate::model::{Data, Match, ReasonView};
use crate::scoring::{MATCHES_SHOWN, Reader, dismissed, matches};
use diesel::prelude::*;
use icat_common::to_json;
use icat_dedup::{Features, Level, Model};
use icat_store::DbConn;
use icat_store::schema::{
    activity_bands, activity_countries, activity_pairs, activity_sdgs, activity_themes,
};
use std::collections::HashMap;
use std::sync::Arc;

/// What a pair row keeps of its reasons. An overlap's are not stored: a log of 100,000 activities
/// has some 300,000 overlaps and 6,000 strong pairs, and overlap reasons are read only by the
/// overlap report, which builds them from the two activities' features ([`explain`]).
pub(crate) fn stored_reasons(
    level: Level,
    reasons: impl FnOnce() -> Vec<ReasonView>,
) -> QueryResult<String> {
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

pub(crate) type Places = HashMap<String, (Vec<String>, Vec<String>)>;

/// The countries and themes of live activities, from their index tables.
pub(crate) fn places_of<'a>(
    conn: &mut DbConn,
    ids: impl Iterator<Item = &'a str>,
) -> QueryResult<Places> {
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

/// Replaces the LSH band rows of an activity with those of its band keys: one multi-row statement
/// (some twenty rows).
pub(crate) fn replace_bands(conn: &mut DbConn, id: &str, keys: &[i64]) -> QueryResult<()> {
    diesel::delete(activity_bands::table.filter(activity_bands::activity_id.eq(id)))
        .execute(conn)?;
    insert_bands(conn, id, keys)
}

pub(crate) fn insert_bands(conn: &mut DbConn, id: &str, keys: &[i64]) -> QueryResult<()> {
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
pub(crate) fn clear_index(conn: &mut DbConn, id: &str) -> QueryResult<()> {
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
pub(crate) fn write_index(
    conn: &mut DbConn,
    id: &str,
    agency_id: &str,
    data: &Data,
    keys: &[i64],
) -> QueryResult<()> {
    let themes = to_json(&data.themes)?;
    for c in &data.countries {
        diesel::insert_into(activity_countries::table)
            .values((
                activity_countries::activity_id.eq(id),
                activity_countries::country.eq(c),
                activity_countries::agency_id.eq(agency_id),
                activity_countries::start_date.eq(data.start_date),
                activity_countries::end_date.eq(data.end_date),
                activity_countries::themes.eq(&themes),
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
pub(crate) enum Written {
    New,
    Changed,
}

/// Replaces the pairs of `id` with those found, adding the activities written or changed since
/// `scored_at` (scoring ran before the write transaction, so that writers do not wait on it; this
/// closes the gap). Returns the matches to show.
pub(crate) fn save_pairs(
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
        let ((a, a_agency), (b, b_agency)) = if id < m.activity_id.as_str() {
            (
                (id, f.agency.as_str()),
                (m.activity_id.as_str(), m.agency_id.as_str()),
            )
        } else {
            (
                (m.activity_id.as_str(), m.agency_id.as_str()),
                (id, f.agency.as_str()),
            )
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
                activity_pairs::a_agency.eq(a_agency),
                activity_pairs::b_agency.eq(b_agency),
                activity_pairs::late_start.eq(f.start.max(m.start_date)),
                activity_pairs::early_end.eq(f.end.min(m.end_date)),
            ))
            .execute(conn)?;
    }
    // The other agencies hear of it, in this same transaction (their notices and e-mail exist
    // exactly when these pairs do).
    let notify: Vec<icat_notices::events::Found> = found
        .iter()
        .map(|m| icat_notices::events::Found {
            other: &m.activity_id,
            other_agency: &m.agency_id,
            level: &m.level,
        })
        .collect();
    icat_notices::events::matched(conn, id, &notify)?;
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

pub(crate) fn remove_pairs(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::delete(
        activity_pairs::table.filter(activity_pairs::a_id.eq(id).or(activity_pairs::b_id.eq(id))),
    )
    .execute(conn)
    .map(drop)
}

/// Fills `title_terms` (which search ranks first) of the activities written before the column
/// existed, a thousand rows a transaction; returns how many. Run at start-up after the migrations:
/// an activity not yet filled is found by search all the same, only never in the first rank.
pub fn fill_title_terms(conn: &mut DbConn) -> QueryResult<usize> {
    use icat_store::schema::activities;
    let mut filled = 0;
    loop {
        let rows: Vec<(String, String)> = activities::table
            .filter(activities::title_terms.is_null())
            .select((activities::id, activities::title))
            .limit(1_000)
            .load(conn)?;
        if rows.is_empty() {
            return Ok(filled);
        }
        let (ids, terms): (Vec<String>, Vec<String>) = rows
            .into_iter()
            .map(|(id, title)| (id, crate::model::title_terms(&title)))
            .unzip();
        icat_store::write(conn, |conn| match conn {
            // One statement a batch: a round trip a row would take minutes at 100,000.
            DbConn::Pg(pg) => diesel::sql_query(
                "UPDATE activities SET title_terms = v.terms \
                 FROM unnest($1::text[], $2::text[]) AS v(id, terms) \
                 WHERE activities.id = v.id",
            )
            .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&ids)
            .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&terms)
            .execute(pg)
            .map(drop),
            DbConn::Sqlite(_) => ids.iter().zip(&terms).try_for_each(|(id, terms)| {
                diesel::update(activities::table.find(id))
                    .set(activities::title_terms.eq(terms))
                    .execute(conn)
                    .map(drop)
            }),
        })?;
        filled += ids.len();
    }
}
