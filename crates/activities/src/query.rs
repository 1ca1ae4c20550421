//! Reading the log: filtered, searched, paginated lists and exports. Every filter is served by an
//! index (side tables for countries, themes and SDG targets; the full-text index for `q`).

use crate::model::{Activity, Exported, Row};
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Text};
use icat_common::{ApiError, Page, PageParams, search};
use icat_store::DbConn;
use icat_store::schema::{
    activities, activity_countries, activity_sdgs, activity_themes, agencies,
};

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

/// Lists with at most this many matches are counted for every answer; larger counts (and lists
/// read from a country's index, see [`ids_in_country`]) are taken at most every [`TOTAL_FRESH_FOR`]
/// per filter and given as estimates (`total_estimated`) in between.
const EXACT_UP_TO: i64 = 1_000;

/// How long a large list's count is given again before it is taken afresh.
const TOTAL_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(10);

/// Recent counts of large lists (and of lists by country), by filter, in this process. Counting
/// 100,000 matches walks as many index entries (a few milliseconds) where the page itself reads
/// fifty: a count taken for every page was most of a list's cost. Each server keeps its own; a
/// count is at most [`TOTAL_FRESH_FOR`] old, and marked as an estimate whenever it was not taken for
/// the answer (a count read just before a write and kept just after it may lag by that write until
/// it ages out: it is marked all the same).
pub struct Totals {
    counts: quick_cache::sync::Cache<String, (i64, std::time::Instant)>,
}

impl Default for Totals {
    fn default() -> Self {
        Self {
            counts: quick_cache::sync::Cache::new(1_000),
        }
    }
}

impl Totals {
    fn recent(&self, key: &str) -> Option<i64> {
        self.counts
            .get(key)
            .filter(|(_, at)| at.elapsed() < TOTAL_FRESH_FOR)
            .map(|(n, _)| n)
    }

    /// A guard that forgets every recent count when dropped: each write route holds one, so that
    /// once its write is done this server counts its lists afresh (other servers' writes show
    /// within [`TOTAL_FRESH_FOR`]).
    pub fn forget_after(&self) -> ForgetAfter<'_> {
        ForgetAfter(self)
    }
}

/// See [`Totals::forget_after`].
pub struct ForgetAfter<'a>(&'a Totals);

impl Drop for ForgetAfter<'_> {
    fn drop(&mut self) {
        self.0.counts.clear();
    }
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

/// Where a keyset page starts: right after this activity in list order (newest start first, then
/// newest recorded first). Sent as `after=` and given back as a page's `next`: `2027-01-01.<id>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    start_date: NaiveDate,
    id: String,
}

impl Cursor {
    pub fn at(start_date: NaiveDate, id: &str) -> Self {
        Self {
            start_date,
            id: id.to_owned(),
        }
    }

    /// A cursor not shaped like one (`YYYY-MM-DD.` and a lowercase hyphenated UUID, the pattern the
    /// OpenAPI document gives) is a 400; one shaped like one that names no day (`2027-02-30.`) a 422.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let message = "after must be the `next` of a page of this list";
        let (date, id) = raw
            .split_once('.')
            .filter(|(date, id)| {
                date.len() == 10
                    && date.bytes().enumerate().all(|(i, b)| match i {
                        4 | 7 => b == b'-',
                        _ => b.is_ascii_digit(),
                    })
                    && (1..=12).contains(&date[5..7].parse::<u32>().unwrap_or(0))
                    && (1..=31).contains(&date[8..10].parse::<u32>().unwrap_or(0))
                    && id.len() == 36
                    && !id.bytes().any(|b| b.is_ascii_uppercase())
                    && uuid::Uuid::try_parse(id).is_ok()
            })
            .ok_or_else(|| ApiError::bad_request(message))?;
        let start_date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|_| ApiError::invalid_field("after", message))?;
        Ok(Self {
            start_date,
            id: id.to_owned(),
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.start_date, self.id)
    }
}

/// The rows before the cursor in list order: `(start date, id) < (after)`, for `columns` naming
/// the start date and the activity id of the table read.
fn before(
    after: &Cursor,
    columns: &'static str,
) -> diesel::expression::SqlLiteral<Bool, impl diesel::query_builder::QueryFragment<Backend>> {
    diesel::dsl::sql::<Bool>("(")
        .sql(columns)
        .sql(") < (")
        .bind::<Date, _>(after.start_date)
        .sql(", ")
        .bind::<Text, _>(after.id.clone())
        .sql(")")
}

type Backend = <DbConn as diesel::Connection>::Backend;

/// Which part of the matches a read wants, in list order.
#[derive(Clone, Debug)]
pub enum Window {
    /// A numbered page (`?page=`): its offset is walked every time.
    Page(PageParams),
    /// Up to `limit` activities after a cursor, or from the first: a keyset read that starts where
    /// the last one ended, at the same cost on every page.
    After(Option<Cursor>, i64),
}

/// How many match: counted for this answer, or a recent count (see [`Totals`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Total {
    Exact(i64),
    Estimated(i64),
}

/// The ids of the matches in `window`, in list order, and (with `totals`) how many match in all.
fn ids(
    conn: &mut DbConn,
    filter: &Filter,
    window: &Window,
    totals: Option<&Totals>,
) -> Result<(Vec<String>, Option<Total>), ApiError> {
    let text = filter.q.as_deref().and_then(|q| full_text(conn, q));
    if let Some(country) = &filter.country
        && text.is_none()
        && filter.status.is_none()
    {
        // Its count tests every entry of the country's stretch (1-2 ms for a country with a theme,
        // where the page reads fifty): recent counts serve here whatever their size.
        let key = format!("{filter:?}");
        let recent = totals.and_then(|t| t.recent(&key));
        let count = totals.is_some() && recent.is_none();
        let (ids, counted) = ids_in_country(conn, country, filter, window, count)?;
        let total = match (totals, counted) {
            (Some(totals), Some(n)) => {
                totals.counts.insert(key, (n, std::time::Instant::now()));
                Some(Total::Exact(n))
            }
            _ => recent.map(Total::Estimated),
        };
        return Ok((ids, total));
    }
    let query = || {
        // No join: the page's ids, and their count, come from the index `activities_list` alone
        // (a join to agencies read every activity's row, features and all, to count a list).
        let mut q = activities::table
            .filter(activities::archived_at.is_null())
            .into_boxed();
        if let Some(agency) = &filter.agency {
            q = q.filter(
                activities::agency_id.eq_any(
                    agencies::table
                        .filter(icat_store::agency_named(agency))
                        .select(agencies::id),
                ),
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
    // The index `activities_list` (start_date, id) of the activities not archived, walked backwards.
    let ordered = || {
        let q = query().order((activities::start_date.desc(), activities::id.desc()));
        match window {
            Window::Page(page) => q.limit(page.per_page).offset(page.offset()),
            Window::After(None, limit) => q.limit(*limit),
            Window::After(Some(after), limit) => q
                .filter(before(after, "activities.start_date, activities.id"))
                .limit(*limit),
        }
    };
    let Some(totals) = totals else {
        return Ok((ordered().select(activities::id).load(conn)?, None));
    };
    // On SQLite, a filter through a side table or the text index finds its matches out of date
    // order, so they are all found and sorted anyway: the same pass counts them (a window over the
    // matches), where a separate count would find them all a second time (half of such a list's
    // time). Without one, the page walks the date index and stops after it, and counting alone is
    // cheaper. PostgreSQL counts apart: its planner costs the window as if the `LIMIT` could stop
    // it early, and walked the date index testing every row's text (2.5 s instead of 50 ms). A
    // keyset page counts apart too: its window would count only the matches after the cursor.
    let picked_by_index = filter.agency.is_some()
        || filter.country.is_some()
        || filter.theme.is_some()
        || filter.sdg.is_some()
        || text.is_some();
    let count_in_page =
        matches!(conn, DbConn::Sqlite(_)) && picked_by_index && matches!(window, Window::Page(_));
    if count_in_page {
        let counted: Vec<(String, i64)> = ordered()
            .select((
                activities::id,
                diesel::dsl::sql::<BigInt>("COUNT(*) OVER ()"),
            ))
            .load(conn)?;
        let total = match counted.first() {
            Some((_, total)) => *total,
            // A page past the end has no row to carry the count.
            None if matches!(window, Window::Page(p) if p.offset() > 0) => {
                query().count().get_result(conn)?
            }
            None => 0,
        };
        Ok((
            counted.into_iter().map(|(id, _)| id).collect(),
            Some(Total::Exact(total)),
        ))
    } else {
        // A small list is counted now (reading at most EXACT_UP_TO + 1 index entries); a large
        // one gives its recent count, or is counted and remembered.
        let some: Vec<i32> = query()
            .select(diesel::dsl::sql::<diesel::sql_types::Integer>("1"))
            .limit(EXACT_UP_TO + 1)
            .load(conn)?;
        let found = i64::try_from(some.len()).unwrap_or(i64::MAX);
        let key = format!("{filter:?}");
        let total = if found <= EXACT_UP_TO {
            Total::Exact(found)
        } else if let Some(recent) = totals.recent(&key) {
            Total::Estimated(recent)
        } else {
            let n = query().count().get_result(conn)?;
            totals.counts.insert(key, (n, std::time::Instant::now()));
            Total::Exact(n)
        };
        Ok((ordered().select(activities::id).load(conn)?, Some(total)))
    }
}

/// [`ids`] for a list filtered by country (without text or status): read from the country's stretch
/// of the covering index `activity_countries_block` (country, start_date, end_date, agency_id,
/// activity_id), whose rows are the live activities only (archiving deletes them), in date order. A
/// page walks its entries and the count that stretch, testing a theme or target by one index probe
/// each, without reading an activity's row (the general path found every match through the side
/// table, read each one's row and sorted them all: 10-12 ms for Nigeria at 100,000 activities,
/// here under 2).
fn ids_in_country(
    conn: &mut DbConn,
    country: &str,
    filter: &Filter,
    window: &Window,
    count: bool,
) -> Result<(Vec<String>, Option<i64>), ApiError> {
    let query = || {
        let mut q = activity_countries::table
            .filter(activity_countries::country.eq(country.to_owned()))
            .into_boxed();
        if let Some(agency) = &filter.agency {
            q = q.filter(
                activity_countries::agency_id.eq_any(
                    agencies::table
                        .filter(icat_store::agency_named(agency))
                        .select(agencies::id),
                ),
            );
        }
        if let Some(theme) = &filter.theme {
            q = q.filter(diesel::dsl::exists(
                activity_themes::table
                    .filter(activity_themes::theme.eq(theme.clone()))
                    .filter(activity_themes::activity_id.eq(activity_countries::activity_id)),
            ));
        }
        if let Some(sdg) = &filter.sdg {
            q = q.filter(diesel::dsl::exists(
                activity_sdgs::table
                    .filter(activity_sdgs::target.eq(sdg.clone()))
                    .filter(activity_sdgs::activity_id.eq(activity_countries::activity_id)),
            ));
        }
        if let Some(from) = filter.from {
            q = q.filter(activity_countries::end_date.ge(from));
        }
        if let Some(to) = filter.to {
            q = q.filter(activity_countries::start_date.le(to));
        }
        q
    };
    let ordered = query().order((
        activity_countries::start_date.desc(),
        activity_countries::activity_id.desc(),
    ));
    let ordered = match window {
        Window::Page(page) => ordered.limit(page.per_page).offset(page.offset()),
        Window::After(None, limit) => ordered.limit(*limit),
        Window::After(Some(after), limit) => ordered
            .filter(before(
                after,
                "activity_countries.start_date, activity_countries.activity_id",
            ))
            .limit(*limit),
    };
    let ids = ordered.select(activity_countries::activity_id).load(conn)?;
    let total = if count {
        Some(query().count().get_result(conn)?)
    } else {
        None
    };
    Ok((ids, total))
}

/// The activities of `ids`, in that order. The page's ids come first and then their rows:
/// sorting every match with all its columns (texts, features) held a few megabytes per request in
/// the sorter and took most of its time.
fn rows(conn: &mut DbConn, ids: &[String]) -> Result<Vec<Activity>, ApiError> {
    let rows: Vec<(Row, String)> = activities::table
        .inner_join(agencies::table)
        .filter(activities::id.eq_any(ids))
        .select((Row::as_select(), agencies::acronym))
        .load(conn)?;
    let mut by_id: std::collections::HashMap<String, Activity> = rows
        .into_iter()
        .map(|(r, a)| (r.id.clone(), Activity::from_row(r, a)))
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// A page of the list, numbered or after a cursor, with the count of every match and, when more
/// may follow, the cursor of the next page.
pub fn list(
    conn: &mut DbConn,
    filter: &Filter,
    window: Window,
    totals: &Totals,
) -> Result<Page<Activity>, ApiError> {
    let (ids, total) = ids(conn, filter, &window, Some(totals))?;
    let items = rows(conn, &ids)?;
    let (params, limit) = match &window {
        Window::Page(page) => (*page, page.per_page),
        Window::After(_, limit) => (PageParams::new(Some(1), Some(*limit))?, *limit),
    };
    let next = (usize::try_from(limit).ok() == Some(items.len()))
        .then(|| {
            items
                .last()
                .map(|a| Cursor::at(a.start_date, &a.id).to_string())
        })
        .flatten();
    let (total, estimated) = match total {
        Some(Total::Exact(n)) => (n, false),
        Some(Total::Estimated(n)) => (n, true),
        None => (0, false),
    };
    Ok(Page::new(items, total, params)
        .with_next(next)
        .estimated(estimated))
}

/// Up to `limit` matches after `after` (or from the first), with their agency's acronym, without
/// counting them all: the chunks an export streams.
pub fn chunk(
    conn: &mut DbConn,
    filter: &Filter,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Vec<(Exported, String)>, ApiError> {
    let (ids, _) = ids(conn, filter, &Window::After(after, limit), None)?;
    let mut by_id: std::collections::HashMap<String, (Exported, String)> = activities::table
        .inner_join(agencies::table)
        .filter(activities::id.eq_any(&ids))
        .select((Exported::as_select(), agencies::acronym))
        .load::<(Exported, String)>(conn)?
        .into_iter()
        .map(|row| (row.0.id.clone(), row))
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}
