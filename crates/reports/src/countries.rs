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
use std::collections::{BTreeMap, HashMap};

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

/// The map's figures, one grouped query each: activities by country and theme, agencies by
/// country, pairs by country and level.
pub fn countries(conn: &mut DbConn, f: &Filter) -> Result<Countries, ApiError> {
    let c = conditions(f, "c", "c.agency_id = $3");
    let by_theme: Vec<KeyCount> = load(
        conn,
        &format!(
            "SELECT c.country AS country, t.theme AS key, COUNT(*) AS n FROM activity_countries c \
             JOIN activity_themes t ON t.activity_id = c.activity_id WHERE {c} GROUP BY c.country, t.theme"
        ),
        f,
        &[],
    )?;
    let by_agency: Vec<KeyCount> = load(
        conn,
        &format!(
            "SELECT c.country AS country, a.acronym AS key, COUNT(*) AS n FROM activity_countries c \
             JOIN agencies a ON a.id = c.agency_id WHERE {c} GROUP BY c.country, a.acronym"
        ),
        f,
        &[],
    )?;
    // Each side of a pair in the shared country, in the period and the filters; an agency filter
    // keeps the pairs it is part of (either side). Placeholders first appear in number order.
    let a = conditions(f, "ca", "(ca.agency_id = $3 OR cb.agency_id = $3)");
    let b = conditions(f, "cb", "");
    let pairs: Vec<KeyCount> = load(
        conn,
        &format!(
            "SELECT ca.country AS country, \
               CASE WHEN p.level = 'overlap' THEN 'overlap' ELSE 'open' END AS key, COUNT(*) AS n \
             FROM activity_pairs p \
             JOIN activity_countries ca ON ca.activity_id = p.a_id AND ca.country = substr(p.overlap_group, 1, 2) \
             JOIN activity_countries cb ON cb.activity_id = p.b_id AND cb.country = ca.country \
             WHERE {a} AND {b} AND (p.level = 'overlap' OR NOT EXISTS \
               (SELECT 1 FROM pair_reviews r WHERE r.a_id = p.a_id AND r.b_id = p.b_id)) \
             GROUP BY ca.country, CASE WHEN p.level = 'overlap' THEN 'overlap' ELSE 'open' END"
        ),
        f,
        &[],
    )?;
    let mut out: HashMap<String, Country> = HashMap::new();
    for r in by_agency {
        let e = out
            .entry(r.country.clone())
            .or_insert_with(|| empty(&r.country));
        e.activities += r.n;
        e.agencies.extend(r.key);
    }
    for r in by_theme {
        if let (Some(e), Some(theme)) = (out.get_mut(&r.country), r.key) {
            *e.by_theme.entry(theme).or_default() += r.n;
        }
    }
    for r in pairs {
        if let Some(e) = out.get_mut(&r.country) {
            match r.key.as_deref() {
                Some("overlap") => e.overlaps += r.n,
                _ => e.open_cases += r.n,
            }
        }
    }
    let mut countries: Vec<Country> = out.into_values().collect();
    for c in &mut countries {
        c.agencies.sort_by_key(|a| a.to_lowercase());
    }
    countries.sort_by(|x, y| {
        y.activities
            .cmp(&x.activities)
            .then(x.country.cmp(&y.country))
    });
    Ok(Countries {
        from: f.from,
        to: f.to,
        countries,
    })
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
    let rows: Vec<(String, String, String, f64, Option<String>)> = p::table
        .left_join(r::table.on(r::a_id.eq(p::a_id).and(r::b_id.eq(p::b_id))))
        .filter(p::a_id.eq_any(ids))
        .filter(p::b_id.eq_any(ids))
        .select((p::a_id, p::b_id, p::level, p::score, r::decision.nullable()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(a, b, level, score, review)| Link {
            a,
            b,
            level,
            score,
            review,
        })
        .collect())
}
