//! Reading the log: filtered, searched, paginated lists and exports. Every filter is served by an
//! index (side tables for countries, themes and SDG targets; the full-text index for `q`).

use crate::model::{Activity, Row};
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use icat_common::{ApiError, Page, PageParams, search};
use icat_store::schema::{
    activities, activity_countries, activity_sdgs, activity_themes, agencies,
};
use icat_store::{DbConn, lower};

/// Filters of the activity list; all optional, combined with AND.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Agency id or acronym.
    pub agency: Option<String>,
    pub country: Option<String>,
    pub theme: Option<String>,
    pub sdg: Option<String>,
    pub status: Option<String>,
    /// Activities running on or after this day.
    pub from: Option<NaiveDate>,
    /// Activities running on or before this day.
    pub to: Option<NaiveDate>,
    /// Words, or beginnings of words, of title, description, partners and target groups.
    pub q: Option<String>,
}

/// At most this many words of `q` are looked up (all must match).
const SEARCH_TERMS: usize = 8;

/// The full-text condition for `q` as SQL up to its one parameter, and that parameter: every word,
/// as the beginning of a word of the activity. The words are folded as the stored ones are
/// ([`search::terms`]: letters and digits only) and go to the database as a bound parameter.
fn full_text(conn: &DbConn, q: &str) -> Option<(&'static str, String)> {
    let terms: Vec<String> = search::terms(q).into_iter().take(SEARCH_TERMS).collect();
    if terms.is_empty() {
        return None;
    }
    Some(match conn {
        // FTS5 syntax: each word quoted (a phrase of the tokens it splits into), `*` for prefix.
        DbConn::Sqlite(_) => (
            "activities.doc IN (SELECT rowid FROM activity_text WHERE activity_text MATCH ",
            terms
                .iter()
                .map(|t| format!("\"{}\"*", t.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        // The expression of the GIN index `activities_search`, to the letter.
        DbConn::Pg(_) => (
            "to_tsvector('simple', activities.search_terms) @@ to_tsquery('simple', ",
            terms
                .iter()
                .map(|t| format!("{t}:*"))
                .collect::<Vec<_>>()
                .join(" & "),
        ),
    })
}

pub fn list(
    conn: &mut DbConn,
    filter: &Filter,
    page: PageParams,
) -> Result<Page<Activity>, ApiError> {
    let text = filter.q.as_deref().and_then(|q| full_text(conn, q));
    let query = || {
        let mut q = activities::table
            .inner_join(agencies::table)
            .filter(activities::archived_at.is_null())
            .into_boxed();
        if let Some(agency) = &filter.agency {
            q = q.filter(
                agencies::id
                    .eq(agency.clone())
                    .or(lower(agencies::acronym).eq(agency.to_lowercase())),
            );
        }
        if let Some(country) = &filter.country {
            q = q.filter(
                activities::id.eq_any(
                    activity_countries::table
                        .filter(activity_countries::country.eq(country.clone()))
                        .select(activity_countries::activity_id),
                ),
            );
        }
        if let Some(theme) = &filter.theme {
            q = q.filter(
                activities::id.eq_any(
                    activity_themes::table
                        .filter(activity_themes::theme.eq(theme.clone()))
                        .select(activity_themes::activity_id),
                ),
            );
        }
        if let Some(sdg) = &filter.sdg {
            q = q.filter(
                activities::id.eq_any(
                    activity_sdgs::table
                        .filter(activity_sdgs::target.eq(sdg.clone()))
                        .select(activity_sdgs::activity_id),
                ),
            );
        }
        if let Some(status) = &filter.status {
            q = q.filter(activities::status.eq(status.clone()));
        }
        if let Some(from) = filter.from {
            q = q.filter(activities::end_date.ge(from));
        }
        if let Some(to) = filter.to {
            q = q.filter(activities::start_date.le(to));
        }
        if let Some((condition, words)) = &text {
            q = q.filter(
                diesel::dsl::sql::<Bool>(condition)
                    .bind::<Text, _>(words.clone())
                    .sql(")"),
            );
        }
        q
    };
    // The page's ids first, then their rows: sorting every match with all its columns (texts,
    // features) held a few megabytes per request in the sorter and took most of its time.
    let page_of_ids = || {
        query()
            .order((activities::start_date.desc(), activities::id.asc()))
            .limit(page.per_page)
            .offset(page.offset())
    };
    // On SQLite, a filter through a side table or the text index finds its matches out of date
    // order, so they are all found and sorted anyway: the same pass counts them (a window over the
    // matches), where a separate count would find them all a second time (half of such a list's
    // time). Without one, the page walks the date index and stops after it, and counting alone is
    // cheaper. PostgreSQL counts apart: its planner costs the window as if the `LIMIT` could stop
    // it early, and walked the date index testing every row's text (2.5 s instead of 50 ms).
    let picked_by_index = filter.agency.is_some()
        || filter.country.is_some()
        || filter.theme.is_some()
        || filter.sdg.is_some()
        || text.is_some();
    let count_in_page = matches!(conn, DbConn::Sqlite(_)) && picked_by_index;
    let (ids, total): (Vec<String>, i64) = if count_in_page {
        let counted: Vec<(String, i64)> = page_of_ids()
            .select((
                activities::id,
                diesel::dsl::sql::<BigInt>("COUNT(*) OVER ()"),
            ))
            .load(conn)?;
        let total = match counted.first() {
            Some((_, total)) => *total,
            // A page past the end has no row to carry the count.
            None if page.offset() > 0 => query().count().get_result(conn)?,
            None => 0,
        };
        (counted.into_iter().map(|(id, _)| id).collect(), total)
    } else {
        let total = query().count().get_result(conn)?;
        (page_of_ids().select(activities::id).load(conn)?, total)
    };
    let mut rows: Vec<(Row, String)> = activities::table
        .inner_join(agencies::table)
        .filter(activities::id.eq_any(&ids))
        .select((Row::as_select(), agencies::acronym))
        .load(conn)?;
    rows.sort_by_key(|(r, _)| ids.iter().position(|id| *id == r.id));
    Ok(Page::new(
        rows.into_iter()
            .map(|(r, a)| Activity::from_row(r, a))
            .collect(),
        total,
        page,
    ))
}

/// Every matching activity for an export, capped so one request cannot ask for unbounded work.
pub fn export(conn: &mut DbConn, filter: &Filter) -> Result<Vec<Activity>, ApiError> {
    icat_common::all_pages(50_000, |page| list(conn, filter, page))
}
