//! Where the work is (paragraphs 5 and 7): per country, the activities running in a period (by
//! theme and agency) with the open duplicate cases and the overlaps among them, for the world map;
//! and one country's timeline: its activities in the period, the pairs between them, and each
//! agency's current primary focal point.
//!
//! An activity counts in every country it names. A pair counts in the country the two activities
//! share (the smallest code when they share several: the pair's `overlap_group`), once, and only
//! when both activities pass the filters.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text};
use icat_common::ApiError;
use icat_store::DbConn;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The filters both views take. The period is inclusive; an activity is in it when it runs on at
/// least one of its days.
#[derive(Clone, Debug)]
pub struct Filter {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub theme: Option<String>,
    pub sdg: Option<String>,
    /// An agency's id: its activities, and the pairs it is part of.
    pub agency: Option<String>,
}

/// One country on the map.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Country {
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Activities running in the period.
    pub activities: i64,
    /// The same activities by theme (an activity with two themes counts under both).
    pub by_theme: BTreeMap<String, i64>,
    /// The agencies of those activities, by acronym.
    pub agencies: Vec<String>,
    /// Pairs at `duplicate` or `possible` not yet reviewed.
    pub open_cases: i64,
    pub overlaps: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Countries {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Countries with at least one activity, most activities first.
    pub countries: Vec<Country>,
}

/// The filter as SQL over an `activity_countries` row `c` (bind order: from, to, then the given
/// filters in order: agency, theme, sdg). `agency` is the test of the agency filter (`$3`), written
/// by the caller: one side of a pair, or either.
fn conditions(f: &Filter, c: &str, agency: &str) -> String {
    let mut out = format!("{c}.end_date >= $1 AND {c}.start_date <= $2");
    let mut n = 3;
    if f.agency.is_some() {
        if !agency.is_empty() {
            out += &format!(" AND {agency}");
        }
        n += 1;
    }
    if f.theme.is_some() {
        out += &format!(
            " AND EXISTS (SELECT 1 FROM activity_themes t WHERE t.activity_id = {c}.activity_id AND t.theme = ${n})"
        );
        n += 1;
    }
    if f.sdg.is_some() {
        out += &format!(
            " AND EXISTS (SELECT 1 FROM activity_sdgs s WHERE s.activity_id = {c}.activity_id AND s.target = ${n})"
        );
    }
    out
}

/// The filter as SQL over an `activity_pairs` row `p`, binds as in [`conditions`].
fn pair_conditions(f: &Filter) -> String {
    let mut out = "p.early_end >= $1 AND p.late_start <= $2".to_owned();
    let mut n = 3;
    if f.agency.is_some() {
        out += " AND (p.a_agency = $3 OR p.b_agency = $3)";
        n += 1;
    }
    for (value, table, column) in [
        (&f.theme, "activity_themes", "theme"),
        (&f.sdg, "activity_sdgs", "target"),
    ] {
        if value.is_some() {
            for side in ["a_id", "b_id"] {
                out += &format!(
                    " AND EXISTS (SELECT 1 FROM {table} x WHERE x.activity_id = p.{side} AND x.{column} = ${n})"
                );
            }
            n += 1;
        }
    }
    out
}

/// How many placeholders the filter uses: the next one is `$` this plus one.
fn used(f: &Filter) -> usize {
    2 + [&f.agency, &f.theme, &f.sdg].into_iter().flatten().count()
}

/// Runs `sql` with the filter's binds (see [`conditions`]), then `extra` text binds, on either
/// backend. SQLite reads `$n` as named parameters numbered by first appearance, which the
/// statements here keep in order.
fn load<T>(conn: &mut DbConn, sql: &str, f: &Filter, extra: &[&str]) -> QueryResult<Vec<T>>
where
    T: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    macro_rules! run {
        ($c:expr, $backend:ty) => {{
            let mut q = diesel::sql_query(sql)
                .into_boxed::<$backend>()
                .bind::<Date, _>(f.from)
                .bind::<Date, _>(f.to);
            for v in [&f.agency, &f.theme, &f.sdg].into_iter().flatten() {
                q = q.bind::<Text, _>(v.clone());
            }
            for v in extra {
                q = q.bind::<Text, _>((*v).to_owned());
            }
            q.load($c)
        }};
    }
    match conn {
        DbConn::Pg(c) => run!(c, diesel::pg::Pg),
        DbConn::Sqlite(c) => run!(c, diesel::sqlite::Sqlite),
    }
}

#[derive(QueryableByName)]
struct KeyCount {
    #[diesel(sql_type = Text)]
    country: String,
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Group {
    #[diesel(sql_type = Text)]
    country: String,
    #[diesel(sql_type = Text)]
    agency_id: String,
    /// A JSON array, as `activities.themes`.
    #[diesel(sql_type = Text)]
    themes: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The map's activity figures: by country, agency and themes in one pass over the covering index
/// `activity_countries_map` (whose rows carry their activity's themes), keyed by country.
pub fn activity_counts(
    conn: &mut DbConn,
    f: &Filter,
) -> Result<HashMap<String, Country>, ApiError> {
    let c = conditions(f, "c", "c.agency_id = $3");
    let groups: Vec<Group> = load(
        conn,
        &format!(
            "SELECT c.country AS country, c.agency_id AS agency_id, c.themes AS themes, COUNT(*) AS n \
             FROM activity_countries c WHERE {c} GROUP BY c.country, c.agency_id, c.themes"
        ),
        f,
        &[],
    )?;
    let acronyms: HashMap<String, String> = {
        use icat_store::schema::agencies;
        agencies::table
            .select((agencies::id, agencies::acronym))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect()
    };
    let mut out: HashMap<String, Country> = HashMap::new();
    let mut themes_of: HashMap<String, Vec<String>> = HashMap::new();
    for g in groups {
        let e = out
            .entry(g.country.clone())
            .or_insert_with(|| empty(&g.country));
        e.activities += g.n;
        if let Some(acronym) = acronyms.get(&g.agency_id)
            && !e.agencies.contains(acronym)
        {
            e.agencies.push(acronym.clone());
        }
        let themes = themes_of
            .entry(g.themes)
            .or_insert_with_key(|json| serde_json::from_str(json).unwrap_or_default());
        for t in themes.iter() {
            *e.by_theme.entry(t.clone()).or_default() += g.n;
        }
    }
    Ok(out)
}

/// The map's pairs: open cases and overlaps by country.
///
/// A pair counts in the country its two activities share (the first code of its group), when
/// both run in the period (its later start and earlier end, see migration 000012) and both pass
/// the theme and target filters; an agency filter keeps the pairs it is part of (either side).
/// Pairs that share no country have a group starting with a space, which names no country.
pub fn pair_counts(conn: &mut DbConn, f: &Filter) -> Result<Vec<PairCount>, ApiError> {
    let rows: Vec<KeyCount> = load(
        conn,
        &format!(
            "SELECT substr(p.overlap_group, 1, 2) AS country, \
               CASE WHEN p.level = 'overlap' THEN 'overlap' ELSE 'open' END AS key, COUNT(*) AS n \
             FROM activity_pairs p \
             WHERE {} AND (p.level = 'overlap' OR NOT EXISTS \
               (SELECT 1 FROM pair_reviews r WHERE r.a_id = p.a_id AND r.b_id = p.b_id)) \
             GROUP BY substr(p.overlap_group, 1, 2), CASE WHEN p.level = 'overlap' THEN 'overlap' ELSE 'open' END",
            pair_conditions(f)
        ),
        f,
        &[],
    )?;
    Ok(rows
        .into_iter()
        .map(|r| PairCount {
            overlap: r.key.as_deref() == Some("overlap"),
            country: r.country,
            n: r.n,
        })
        .collect())
}

/// Pairs of one kind in one country (see [`pair_counts`]).
pub struct PairCount {
    country: String,
    /// An overlap, or else an open duplicate case.
    overlap: bool,
    n: i64,
}

/// The map from its two halves, which the route reads on two connections at once (each half is a
/// pass over an index of its own; together they took 40-60 ms at 100,000 activities, each alone
/// 15-30 ms). The halves are two snapshots: a pair recorded between them may count before its
/// activity does, until the next reading.
pub fn assemble(
    f: &Filter,
    mut by_country: HashMap<String, Country>,
    pairs: Vec<PairCount>,
) -> Countries {
    for r in pairs {
        if let Some(e) = by_country.get_mut(&r.country) {
            if r.overlap {
                e.overlaps += r.n;
            } else {
                e.open_cases += r.n;
            }
        }
    }
    let mut countries: Vec<Country> = by_country.into_values().collect();
    for c in &mut countries {
        c.agencies.sort_by_key(|a| a.to_lowercase());
    }
    countries.sort_by(|x, y| {
        y.activities
            .cmp(&x.activities)
            .then(x.country.cmp(&y.country))
    });
    Countries {
        from: f.from,
        to: f.to,
        countries,
    }
}

fn empty(country: &str) -> Country {
    Country {
        country: country.to_owned(),
        activities: 0,
        by_theme: BTreeMap::new(),
        agencies: Vec::new(),
        open_cases: 0,
        overlaps: 0,
    }
}

/// One activity on a country's timeline.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Bar {
    pub id: String,
    pub title: String,
    pub agency_id: String,
    pub agency: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub status: String,
    pub themes: Vec<String>,
}

/// A pair between two activities of the timeline.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Link {
    pub a: String,
    pub b: String,
    /// duplicate, possible or overlap.
    pub level: String,
    pub score: f64,
    /// The review's decision, when the pair was reviewed.
    pub review: Option<String>,
}

/// An agency's current primary focal point, beside its row.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Contact {
    pub agency_id: String,
    pub agency: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Timeline {
    pub country: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// By agency, then start date.
    pub activities: Vec<Bar>,
    pub pairs: Vec<Link>,
    /// Every agency of the timeline, with its primary focal point when it has one.
    pub agencies: Vec<Contact>,
    /// True when the period holds more than [`TIMELINE_LIMIT`] activities and only the first are
    /// shown (narrow the period or the theme).
    pub truncated: bool,
}

/// The most activities one timeline draws.
pub const TIMELINE_LIMIT: usize = 500;

#[derive(QueryableByName)]
struct BarRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Text)]
    agency_id: String,
    #[diesel(sql_type = Text)]
    agency: String,
    #[diesel(sql_type = Date)]
    start_date: NaiveDate,
    #[diesel(sql_type = Date)]
    end_date: NaiveDate,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Text)]
    themes: String,
}

/// One country's timeline.
pub fn timeline(conn: &mut DbConn, country: &str, f: &Filter) -> Result<Timeline, ApiError> {
    let c = conditions(f, "c", "c.agency_id = $3");
    let n = used(f) + 1;
    let rows: Vec<BarRow> = load(
        conn,
        &format!(
            "SELECT x.id AS id, x.title AS title, x.agency_id AS agency_id, g.acronym AS agency, \
               x.start_date AS start_date, x.end_date AS end_date, x.status AS status, x.themes AS themes \
             FROM activity_countries c JOIN activities x ON x.id = c.activity_id \
             JOIN agencies g ON g.id = x.agency_id \
             WHERE {c} AND c.country = ${n} \
             ORDER BY lower(g.acronym), x.start_date, x.id LIMIT {}",
            TIMELINE_LIMIT + 1
        ),
        f,
        &[country],
    )?;
    let truncated = rows.len() > TIMELINE_LIMIT;
    let activities: Vec<Bar> = rows
        .into_iter()
        .take(TIMELINE_LIMIT)
        .map(|r| Bar {
            themes: serde_json::from_str(&r.themes).unwrap_or_default(),
            id: r.id,
            title: r.title,
            agency_id: r.agency_id,
            agency: r.agency,
            start_date: r.start_date,
            end_date: r.end_date,
            status: r.status,
        })
        .collect();
    let ids: Vec<&str> = activities.iter().map(|a| a.id.as_str()).collect();
    let pairs = links(conn, &ids)?;
    let mut agencies: Vec<(String, String)> = activities
        .iter()
        .map(|a| (a.agency_id.clone(), a.agency.clone()))
        .collect();
    agencies.dedup();
    let agency_ids: Vec<&str> = agencies.iter().map(|(id, _)| id.as_str()).collect();
    let primaries: HashMap<String, (String, String)> = {
        use icat_store::schema::focal_points as fp;
        fp::table
            .filter(fp::agency_id.eq_any(&agency_ids))
            .filter(fp::role.eq("primary"))
            .filter(fp::valid_until.is_null())
            .select((fp::agency_id, fp::name, fp::email))
            .load::<(String, String, String)>(conn)?
            .into_iter()
            .map(|(a, name, email)| (a, (name, email)))
            .collect()
    };
    let agencies = agencies
        .into_iter()
        .map(|(agency_id, agency)| {
            let (name, email) = primaries.get(&agency_id).cloned().unzip();
            Contact {
                agency_id,
                agency,
                name,
                email,
            }
        })
        .collect();
    Ok(Timeline {
        country: country.to_owned(),
        from: f.from,
        to: f.to,
        activities,
        pairs,
        agencies,
        truncated,
    })
}

/// The pairs between activities of `ids` (both sides among them), with their reviews.
fn links(conn: &mut DbConn, ids: &[&str]) -> QueryResult<Vec<Link>> {
    use icat_store::schema::{activity_pairs as p, pair_reviews as r};
    if ids.len() < 2 {
        return Ok(Vec::new());
    }
    // The pairs of each `a` in the set, then `b` tested here: given both lists, SQLite probes the
    // key for every combination (250,000 probes for 500 bars: 80 ms instead of 6).
    let rows: Vec<(String, String, String, f64, Option<String>)> = p::table
        .left_join(r::table.on(r::a_id.eq(p::a_id).and(r::b_id.eq(p::b_id))))
        .filter(p::a_id.eq_any(ids))
        .select((p::a_id, p::b_id, p::level, p::score, r::decision.nullable()))
        .load(conn)?;
    let shown: HashSet<&str> = ids.iter().copied().collect();
    Ok(rows
        .into_iter()
        .filter(|(_, b, ..)| shown.contains(b.as_str()))
        .map(|(a, b, level, score, review)| Link {
            a,
            b,
            level,
            score,
            review,
        })
        .collect())
}
