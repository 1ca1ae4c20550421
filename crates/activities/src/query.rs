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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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

/// A count being taken (see [`Totals::recent`]), and how long others wait for it at most.
const COUNTING: i64 = -1;
const WAIT_FOR_COUNT: std::time::Duration = std::time::Duration::from_secs(3);

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
    /// The recent count of `key`, or a [`Lease`] to count it. The first request to find no count
    /// leases it ([`COUNTING`]) and the requests that arrive while it counts wait for its count
    /// (at most [`WAIT_FOR_COUNT`]) instead of all counting at once: sixteen clients counting a
    /// theme's 25,000 matches together after a start or a write held every page up to 1.2 s. A
    /// count that has just aged out is leased again with its old value, which the others go on
    /// giving meanwhile.
    fn recent(&self, key: &str) -> Recent<'_> {
        let waiting_since = std::time::Instant::now();
        let lease = || {
            Recent::Count(Lease {
                totals: self,
                key: Some(key.to_owned()),
            })
        };
        loop {
            match self.counts.get(key) {
                None => {
                    self.counts
                        .insert(key.to_owned(), (COUNTING, std::time::Instant::now()));
                    return lease();
                }
                Some((n, at)) if at.elapsed() >= TOTAL_FRESH_FOR => {
                    self.counts
                        .insert(key.to_owned(), (n, std::time::Instant::now()));
                    return lease();
                }
                // The one counting is slow: count too.
                Some((COUNTING, _)) if waiting_since.elapsed() >= WAIT_FOR_COUNT => return lease(),
                Some((COUNTING, _)) => std::thread::sleep(std::time::Duration::from_millis(2)),
                Some((n, _)) => return Recent::Known(n),
            }
        }
    }

    /// Keeps a count just taken.
    fn keep(&self, key: String, n: i64) {
        self.counts.insert(key, (n, std::time::Instant::now()));
    }

    /// A guard that forgets every recent count when dropped: each write route holds one, so that
    /// once its write is done this server counts its lists afresh (other servers' writes show
    /// within [`TOTAL_FRESH_FOR`]).
    pub fn forget_after(&self) -> ForgetAfter<'_> {
        ForgetAfter(self)
    }
}

/// What [`Totals::recent`] found.
enum Recent<'a> {
    /// A count at most [`TOTAL_FRESH_FOR`] old.
    Known(i64),
    /// None: the caller counts, and keeps its count with [`Lease::keep`].
    Count(Lease<'a>),
}

impl Recent<'_> {
    /// The count, where one was known.
    fn known(&self) -> Option<i64> {
        match self {
            Recent::Known(n) => Some(*n),
            Recent::Count(_) => None,
        }
    }
}

/// A count that others may be waiting for. Dropped without one (the statement failed, or the
/// request was cancelled), it withdraws its mark, so that the next request counts at once instead
/// of each waiting out [`WAIT_FOR_COUNT`] for a count that will not come, its pooled connection
/// held while it sleeps.
struct Lease<'a> {
    totals: &'a Totals,
    key: Option<String>,
}

impl Lease<'_> {
    fn keep(mut self, n: i64) {
        if let Some(key) = self.key.take() {
            self.totals.keep(key, n);
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.totals.counts.remove_if(&key, |(n, _)| *n == COUNTING);
        }
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

/// What `q` asks of the full-text indexes: the SQL of a condition up to its one parameter, for
/// the whole text and for the title alone, and that parameter: every word, as the beginning of a
/// word of the activity. The words are folded as the stored ones are ([`search::terms`]: letters
/// and digits only) and go to the database as a bound parameter.
struct Search {
    anywhere: &'static str,
    in_title: &'static str,
    words: String,
}

impl Search {
    fn of(conn: &DbConn, q: &str) -> Option<Self> {
        let terms: Vec<String> = search::terms(q).into_iter().take(SEARCH_TERMS).collect();
        if terms.is_empty() {
            return None;
        }
        Some(match conn {
            // FTS5 syntax: each word quoted (a phrase of the tokens it splits into), `*` for prefix.
            DbConn::Sqlite(_) => Self {
                anywhere: "activities.doc IN (SELECT rowid FROM activity_text WHERE activity_text MATCH ",
                in_title: "activities.doc IN (SELECT rowid FROM activity_titles WHERE activity_titles MATCH ",
                words: terms
                    .iter()
                    .map(|t| format!("\"{}\"*", t.replace('"', "\"\"")))
                    .collect::<Vec<_>>()
                    .join(" "),
            },
            // The expressions of the GIN indexes `activities_search` and `activities_title_search`,
            // to the letter.
            DbConn::Pg(_) => Self {
                anywhere: "to_tsvector('simple', activities.search_terms) @@ to_tsquery('simple', ",
                in_title: "to_tsvector('simple', activities.title_terms) @@ to_tsquery('simple', ",
                words: terms
                    .iter()
                    .map(|t| format!("{t}:*"))
                    .collect::<Vec<_>>()
                    .join(" & "),
            },
        })
    }

    /// The activities that match `q` anywhere.
    fn matches(&self) -> Predicate {
        self.condition("(", self.anywhere, ")", false)
    }

    /// The activities of `rank`: with every word in the title, or matching but not so. (A title
    /// not yet filled, NULL, is never in the first rank.) With `walk` (SQLite), the condition is
    /// one the planner cannot answer from the `doc` index, so that it walks the list's date index
    /// and tests each entry (see [`searched`]).
    fn rank(&self, rank: Rank, walk: bool) -> Predicate {
        match rank {
            Rank::Title => self.condition("(", self.in_title, ")", walk),
            Rank::Rest => Box::new(
                self.condition("(NOT coalesce(", self.in_title, ", false))", walk)
                    .and(self.condition("(", self.anywhere, ")", walk)),
            ),
        }
    }

    fn condition(
        &self,
        open: &'static str,
        index: &'static str,
        close: &'static str,
        walk: bool,
    ) -> Predicate {
        // SQLite's unary `+` makes `doc` an expression, which no index answers.
        let walk = if walk && index.starts_with("activities.doc") {
            "+"
        } else {
            ""
        };
        Box::new(
            diesel::dsl::sql::<Bool>(open)
                .sql(walk)
                .sql(index)
                .bind::<Text, _>(self.words.clone())
                .sql(")")
                .sql(close),
        )
    }
}

type Predicate = Box<dyn BoxableExpression<activities::table, Backend, SqlType = Bool>>;

/// A searched list's two ranks, in list order; each newest start first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rank {
    /// Every word of `q` begins a word of the title.
    Title,
    /// The other matches.
    Rest,
}

/// Where a keyset page starts: right after this activity in list order (newest start first, then
/// newest recorded first; a search lists the first rank, see [`Rank`], before the rest). Sent as
/// `after=` and given back as a page's `next`: `2027-01-01.<id>`, or `t.2027-01-01.<id>` for an
/// activity of a search's first rank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    titled: bool,
    start_date: NaiveDate,
    id: String,
}

impl Cursor {
    /// The cursor after an activity of a list (`in_title`: of a search's first rank).
    pub fn at(in_title: bool, start_date: NaiveDate, id: &str) -> Self {
        Self {
            titled: in_title,
            start_date,
            id: id.to_owned(),
        }
    }

    /// A cursor not shaped like one (optionally `t.`, then `YYYY-MM-DD.` and a lowercase
    /// hyphenated UUID, the pattern the OpenAPI document gives) is a 400; one shaped like one that
    /// names no day (`2027-02-30.`) a 422.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let message = "after must be the `next` of a page of this list";
        let (titled, raw) = match raw.strip_prefix("t.") {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
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
            titled,
            start_date,
            id: id.to_owned(),
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rank = if self.titled { "t." } else { "" };
        write!(f, "{rank}{}.{}", self.start_date, self.id)
    }
}

/// The rows before the cursor in list order: `(start date, id) < (after)`, for `columns` naming
/// the start date and the activity id of the table read.
fn before(
    after: &Cursor,
    columns: &'static str,
) -> diesel::expression::SqlLiteral<Bool, impl diesel::query_builder::QueryFragment<Backend> + use<>>
{
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

impl Window {
    /// The window's offset, size and cursor.
    fn parts(&self) -> (i64, i64, Option<&Cursor>) {
        match self {
            Window::Page(page) => (page.offset(), page.per_page, None),
            Window::After(after, limit) => (0, *limit, after.as_ref()),
        }
    }
}

/// How many match: counted for this answer, or a recent count (see [`Totals`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Total {
    Exact(i64),
    Estimated(i64),
}

impl Total {
    fn n(self) -> i64 {
        match self {
            Total::Exact(n) | Total::Estimated(n) => n,
        }
    }
}

/// The ids of a window of a list, in list order.
struct Found {
    ids: Vec<String>,
    /// How many of `ids`, from the first, are of a search's first rank.
    titled: usize,
    /// With `totals`: how many match in all.
    total: Option<Total>,
}

impl Found {
    /// The cursor of the window after this one when this one was full (more may follow), given
    /// the last activity read of it (its id and start date).
    fn next(&self, limit: i64, last: Option<(&str, NaiveDate)>) -> Option<Cursor> {
        if i64::try_from(self.ids.len()).ok() != Some(limit) {
            return None;
        }
        let (id, start_date) = last?;
        let at = self.ids.iter().position(|i| i == id)?;
        Some(Cursor::at(at < self.titled, start_date, id))
    }
}

/// The activities not archived that pass the filter's conditions other than `q` (`agency`: its id,
/// see [`ids`]). No join: the ids of a page, and their count, come from indexes alone (a join to
/// agencies read every activity's row, features and all, to count a list). A theme or SDG target
/// is one index probe an activity (`EXISTS`; `IN` built the theme's whole id list, 25,000 ids, for
/// every request, and drove the query by it where the agency's own index found 3,166).
fn filtered(filter: &Filter) -> activities::BoxedQuery<'static, Backend> {
    filtered_with(filter, |id| Box::new(activities::agency_id.eq(id)))
}

/// [`filtered`] for SQLite to walk: the date index `activities_list` entry by entry, each tested
/// from the entry itself (its agency, its dates) or by one index probe, stopping after the window.
/// The agency's condition is one no index answers (`+agency_id`), or the planner finds every
/// activity of the agency through its own index and sorts them (`agency=UNODC`: 255 pages a second
/// under 16 clients; walking, 1,800).
fn walked(filter: &Filter) -> activities::BoxedQuery<'static, Backend> {
    filtered_with(filter, |id| {
        Box::new(diesel::dsl::sql::<Bool>("+activities.agency_id = ").bind::<Text, _>(id))
    })
}

fn filtered_with(
    filter: &Filter,
    agency_is: impl FnOnce(String) -> Predicate,
) -> activities::BoxedQuery<'static, Backend> {
    let mut q = activities::table
        .filter(activities::archived_at.is_null())
        .into_boxed();
    if let Some(agency) = &filter.agency {
        q = q.filter(agency_is(agency.clone()));
    }
    if let Some(country) = &filter.country {
        q = q.filter(diesel::dsl::exists(
            activity_countries::table
                .filter(activity_countries::country.eq(country.clone()))
                .filter(activity_countries::activity_id.eq(activities::id)),
        ));
    }
    if let Some(theme) = &filter.theme {
        q = q.filter(diesel::dsl::exists(
            activity_themes::table
                .filter(activity_themes::theme.eq(theme.clone()))
                .filter(activity_themes::activity_id.eq(activities::id)),
        ));
    }
    if let Some(sdg) = &filter.sdg {
        q = q.filter(diesel::dsl::exists(
            activity_sdgs::table
                .filter(activity_sdgs::target.eq(sdg.clone()))
                .filter(activity_sdgs::activity_id.eq(activities::id)),
        ));
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
    q
}

/// `q` in list order (the index `activities_list` (start_date, id) of the activities not
/// archived, walked backwards), cut to a numbered page, or to `limit` after a cursor.
fn in_order(
    q: activities::BoxedQuery<'static, Backend>,
    after: Option<&Cursor>,
    offset: i64,
    limit: i64,
) -> activities::BoxedQuery<'static, Backend> {
    let q = q.order((activities::start_date.desc(), activities::id.desc()));
    let q = match after {
        Some(after) => q.filter(before(after, "activities.start_date, activities.id")),
        None => q,
    };
    q.offset(offset).limit(limit)
}

/// How many match `query`: a small list (at most [`EXACT_UP_TO`]) is counted now, reading at most
/// that many index entries plus one; a large one gives its recent count, or is counted and
/// remembered.
fn count<Q>(conn: &mut DbConn, query: Q, key: String, totals: &Totals) -> Result<Total, ApiError>
where
    Q: Fn() -> activities::BoxedQuery<'static, Backend>,
{
    let lease = match totals.recent(&key) {
        Recent::Known(n) if n > EXACT_UP_TO => return Ok(Total::Estimated(n)),
        Recent::Known(_) => None,
        Recent::Count(lease) => Some(lease),
    };
    let some: Vec<i32> = query()
        // A bound 1, not `sql("1")`: diesel prepares no statement that holds a literal fragment,
        // and PostgreSQL planned this one afresh on every count.
        .select(1_i32.into_sql::<diesel::sql_types::Integer>())
        .limit(EXACT_UP_TO + 1)
        .load(conn)?;
    let found = i64::try_from(some.len()).unwrap_or(i64::MAX);
    let n = if found <= EXACT_UP_TO {
        // Kept too, to end the lease: the others count a small list themselves all the same.
        found
    } else {
        query().count().get_result(conn)?
    };
    match lease {
        Some(lease) => lease.keep(n),
        None => totals.keep(key, n),
    }
    Ok(Total::Exact(n))
}

/// The ids of the matches in `window`, in list order, and (with `totals`) how many match in all.
fn ids(
    conn: &mut DbConn,
    filter: &Filter,
    window: &Window,
    totals: Option<&Totals>,
) -> Result<Found, ApiError> {
    // The agency by its id from here on: conditions on `agency_id` alone, which its indexes
    // answer, where a name could be an id or an acronym in any case.
    let resolved;
    let filter = match &filter.agency {
        Some(agency) => match icat_store::find_agency(conn, agency)? {
            Some((id, _)) => {
                resolved = Filter {
                    agency: Some(id),
                    ..filter.clone()
                };
                &resolved
            }
            None => {
                return Ok(Found {
                    ids: Vec::new(),
                    titled: 0,
                    total: totals.map(|_| Total::Exact(0)),
                });
            }
        },
        None => filter,
    };
    if let Some(search) = filter.q.as_deref().and_then(|q| Search::of(conn, q)) {
        return searched(conn, filter, &search, window, totals);
    }
    let untotalled = |ids| Found {
        ids,
        titled: 0,
        total: None,
    };
    if let Some(country) = &filter.country
        && filter.status.is_none()
    {
        // Its count tests every entry of the country's stretch (1-2 ms for a country with a theme,
        // where the page reads fifty): recent counts serve here whatever their size.
        let key = format!("{filter:?}");
        let recent = totals.map(|t| t.recent(&key));
        let known = recent.as_ref().and_then(Recent::known);
        let count = totals.is_some() && known.is_none();
        let (ids, counted) = ids_in_country(conn, country, filter, window, count)?;
        let total = match (recent, counted) {
            (Some(Recent::Count(lease)), Some(n)) => {
                lease.keep(n);
                Some(Total::Exact(n))
            }
            _ => known.map(Total::Estimated),
        };
        return Ok(Found {
            total,
            ..untotalled(ids)
        });
    }
    let total = match totals {
        Some(totals) => Some(count(
            conn,
            || filtered(filter),
            format!("{filter:?}"),
            totals,
        )?),
        None => None,
    };
    let (offset, limit, after) = window.parts();
    // On SQLite a list with matches enough (or an export, which reads on) walks the date index
    // and tests each entry (see [`walked`]); a sparse one finds its matches through the side
    // tables' indexes and sorts them.
    let walk = match total {
        _ if !matches!(conn, DbConn::Sqlite(_)) => false,
        None => true,
        Some(total) => dense(conn, total.n(), offset + limit)?,
    };
    let q = if walk {
        walked(filter)
    } else {
        filtered(filter)
    };
    let ids = in_order(q, after, offset, limit)
        .select(activities::id)
        .load(conn)?;
    Ok(Found {
        total,
        ..untotalled(ids)
    })
}

/// Whether a list of `size` matches is read faster by walking the date index (SQLite) to the end
/// of a window that reaches `reach` matches into it: a walk reads about `reach * activities /
/// size` entries at a fraction of a microsecond each, finding the matches and sorting them costs
/// some 2 us a match.
fn dense(conn: &mut DbConn, size: i64, reach: i64) -> QueryResult<bool> {
    // The ids of the activities, counted since the first: an upper bound of the entries.
    let activities: Option<i64> = diesel::select(diesel::dsl::sql::<
        diesel::sql_types::Nullable<BigInt>,
    >("(SELECT max(doc) FROM activities)"))
    .get_result(conn)?;
    Ok(size.saturating_mul(size).saturating_mul(8) > reach.saturating_mul(activities.unwrap_or(0)))
}

/// [`ids`] for a search (`q`), ranked: first the activities whose title holds every word, then the
/// other matches, newest first within each. The first rank is read from the titles' own index,
/// whose doclists are short, so that a first page does not sort every match of common words
/// (9,725 for "training judges" at 100,000 activities, 448 of them with both words in the title).
///
/// On SQLite a rank is found one of two ways. A sparse one is looked up by `doc` and sorted; a
/// dense one (a common word: "training" begins a word of 10,525 titles) costs that way about 2 us
/// a match, and is read instead by walking the list's date index (which carries `doc`) and
/// testing each entry, stopping after the window: its cost is the entries walked, about the
/// window over the rank's share of the activities. The rank's size for this choice is a recent
/// count ([`Totals`]); only the time depends on it, never the answer.
fn searched(
    conn: &mut DbConn,
    filter: &Filter,
    search: &Search,
    window: &Window,
    totals: Option<&Totals>,
) -> Result<Found, ApiError> {
    let total = match totals {
        Some(totals) => Some(count(
            conn,
            || filtered(filter).filter(search.matches()),
            format!("{filter:?}"),
            totals,
        )?),
        None => None,
    };
    let (offset, limit, after) = window.parts();
    // Whether to walk for a rank of `size` matches, reading up to `reach` of them.
    let only_q = Filter {
        q: None,
        ..filter.clone()
    } == Filter::default();
    let walk = |conn: &mut DbConn, size: i64, reach: i64| -> QueryResult<bool> {
        Ok(only_q && matches!(conn, DbConn::Sqlite(_)) && dense(conn, size, reach)?)
    };
    let titled_size = |conn: &mut DbConn| -> Result<i64, ApiError> {
        let Some(totals) = totals else {
            return Ok(0);
        };
        let lease = match totals.recent(&format!("title {filter:?}")) {
            Recent::Known(n) => return Ok(n),
            Recent::Count(lease) => lease,
        };
        let n: i64 = filtered(filter)
            .filter(search.rank(Rank::Title, false))
            .count()
            .get_result(conn)?;
        lease.keep(n);
        Ok(n)
    };
    let read = |conn: &mut DbConn,
                which: Rank,
                walk: bool,
                after: Option<&Cursor>,
                offset: i64,
                limit: i64| {
        in_order(
            filtered(filter).filter(search.rank(which, walk)),
            after,
            offset,
            limit,
        )
        .select(activities::id)
        .load::<String>(conn)
    };
    let mut in_title = None;
    let mut ids = match after {
        // After an activity of the second rank: only the second rank is left.
        Some(after) if !after.titled => Vec::new(),
        _ => {
            let size = titled_size(conn)?;
            in_title = totals.map(|_| size);
            let walk = walk(conn, size, offset + limit)?;
            read(conn, Rank::Title, walk, after, offset, limit)?
        }
    };
    let titled = ids.len();
    let wanted = limit - i64::try_from(titled).unwrap_or(limit);
    if wanted > 0 {
        // Where the second rank starts for this window: a numbered page that began in the first
        // rank starts it at its beginning; one past the first rank's end skips what the earlier
        // pages took of it.
        let (rest_after, rest_offset) = match after {
            Some(after) if !after.titled => (Some(after), 0),
            Some(_) => (None, 0),
            None if titled > 0 => (None, 0),
            None => {
                let exact: i64 = filtered(filter)
                    .filter(search.rank(Rank::Title, false))
                    .count()
                    .get_result(conn)?;
                (None, (offset - exact).max(0))
            }
        };
        let rest = match (total, in_title) {
            (Some(total), Some(in_title)) => total.n() - in_title,
            _ => 0,
        };
        let walk = walk(conn, rest, rest_offset + wanted)?;
        ids.extend(read(
            conn,
            Rank::Rest,
            walk,
            rest_after,
            rest_offset,
            wanted,
        )?);
    }
    Ok(Found { ids, titled, total })
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
            q = q.filter(activity_countries::agency_id.eq(agency.clone()));
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
    let found = ids(conn, filter, &window, Some(totals))?;
    let items = rows(conn, &found.ids)?;
    let (params, limit) = match &window {
        Window::Page(page) => (*page, page.per_page),
        Window::After(_, limit) => (PageParams::new(Some(1), Some(*limit))?, *limit),
    };
    let last = items.last().map(|a| (a.id.as_str(), a.start_date));
    let next = found.next(limit, last).map(|c| c.to_string());
    let (total, estimated) = match found.total {
        Some(Total::Exact(n)) => (n, false),
        Some(Total::Estimated(n)) => (n, true),
        None => (0, false),
    };
    Ok(Page::new(items, total, params)
        .with_next(next)
        .estimated(estimated))
}

/// Activities of an export with their agency's acronym, and the cursor of the next chunk when more
/// may follow.
pub type Chunk = (Vec<(Exported, String)>, Option<Cursor>);

/// Up to `limit` matches after `after` (or from the first), with their agency's acronym, without
/// counting them all, and the cursor of the next chunk when more may follow: the chunks an export
/// streams.
pub fn chunk(
    conn: &mut DbConn,
    filter: &Filter,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Chunk, ApiError> {
    let found = ids(conn, filter, &Window::After(after, limit), None)?;
    let mut by_id: std::collections::HashMap<String, (Exported, String)> = activities::table
        .inner_join(agencies::table)
        .filter(activities::id.eq_any(&found.ids))
        .select((Exported::as_select(), agencies::acronym))
        .load::<(Exported, String)>(conn)?
        .into_iter()
        .map(|row| (row.0.id.clone(), row))
        .collect();
    let rows: Vec<(Exported, String)> =
        found.ids.iter().filter_map(|id| by_id.remove(id)).collect();
    let last = rows.last().map(|(a, _)| (a.id.as_str(), a.start_date));
    let next = found.next(limit, last);
    Ok((rows, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first request without a count takes it; one arriving meanwhile waits for that count
    /// instead of counting too; a request after the count is in gets it at once.
    #[test]
    fn one_request_counts_while_the_others_wait_for_it() {
        let totals = Totals::default();
        let Recent::Count(lease) = totals.recent("theme") else {
            panic!("the first counts");
        };
        std::thread::scope(|s| {
            let waiter = s.spawn(|| totals.recent("theme").known());
            std::thread::sleep(std::time::Duration::from_millis(30));
            lease.keep(24_883);
            assert_eq!(
                waiter.join().ok().flatten(),
                Some(24_883),
                "the second waited"
            );
        });
        assert_eq!(totals.recent("theme").known(), Some(24_883));
    }

    #[test]
    fn a_count_that_fails_lets_the_next_request_count_at_once() {
        let totals = Totals::default();
        let first = totals.recent("theme");
        assert!(matches!(first, Recent::Count(_)), "the first counts");
        // Its statement fails: the lease is dropped without a count.
        drop(first);
        assert!(
            totals.counts.get("theme").is_none(),
            "no mark left for others to wait on"
        );
        assert!(
            matches!(totals.recent("theme"), Recent::Count(_)),
            "the next leases it"
        );
        // A count that aged out is leased with its old value, which a failure leaves standing.
        totals.counts.insert(
            "theme".to_owned(),
            (24_883, std::time::Instant::now() - TOTAL_FRESH_FOR),
        );
        drop(totals.recent("theme"));
        assert_eq!(totals.recent("theme").known(), Some(24_883));
    }
}
