//! The duplicate report: the maintained pairs, filtered, grouped into clusters (strong pairs) or by
//! country and theme (overlaps), with people's reviews, a page at a time.

use diesel::prelude::*;
use icat_activities::model::ReasonView;
use icat_activities::review::load_reviews;
pub use icat_activities::review::{PairView, Review};
use icat_common::ApiError;
use icat_store::DbConn;
use icat_store::schema::{
    activities, activity_countries, activity_pairs, activity_themes, agencies,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Which pairs to show.
#[derive(Clone, Debug)]
pub struct Filter {
    pub country: Option<String>,
    pub theme: Option<String>,
    /// Agency id or acronym: pairs that involve it.
    pub agency: Option<String>,
    pub min_score: f64,
    /// duplicate, possible or overlap; default duplicate and possible.
    pub level: Option<icat_dedup::Level>,
    pub status: ReviewStatus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewStatus {
    Open,
    Reviewed,
    All,
}

/// An activity named in the report.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ActivityRef {
    pub id: String,
    pub agency_acronym: String,
    pub title: String,
    pub countries: Vec<String>,
    pub themes: Vec<String>,
    pub start_date: chrono::NaiveDate,
    pub end_date: chrono::NaiveDate,
}

/// Activities of different agencies that look like the same work (or, for overlaps, work in the
/// same country and theme).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Cluster {
    /// Stable while its members are the same.
    pub id: String,
    /// The strongest level among its pairs.
    pub level: String,
    /// For overlap groups: the country and theme they share.
    pub group: Option<String>,
    pub agencies: Vec<String>,
    pub activity_ids: Vec<String>,
    pub activities: Vec<ActivityRef>,
    /// Pairs in the cluster: all of them are in `pairs`, except in an overlap group, which shows
    /// its strongest few (with their activities and agencies; the CSV has every pair).
    pub pair_count: i64,
    pub pairs: Vec<PairView>,
}

/// One page of the report.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub generated_at: chrono::DateTime<chrono::Utc>,
    /// Clusters (or overlap groups) on every page.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub clusters: Vec<Cluster>,
}

/// A pair as the outline holds it: enough to group and order, not to show.
#[derive(Clone, Debug)]
struct Link {
    a: String,
    b: String,
    score: f64,
    level: String,
}

/// A cluster before it is filled in: who is in it and which pairs, in report order. An overlap
/// group holds only its name and size here: its pairs are read when a page or the CSV needs them.
#[derive(Clone, Debug)]
pub struct Shell {
    id: String,
    group: Option<String>,
    ids: Vec<String>,
    links: Vec<Link>,
    pair_count: usize,
}

/// Every cluster the filter selects, in report order, and what it takes to fill them in: built
/// from the pairs' keys and scores (overlaps: from their groups' counts), so that a page costs
/// what its own clusters do.
#[derive(Clone, Debug)]
pub struct Outline {
    pub clusters: Vec<Shell>,
    filter: Filter,
    /// The agency filter's id; `None` with an agency filter: it names no agency.
    agency: Option<String>,
    reviews: HashMap<(String, String), Review>,
    generated_at: chrono::DateTime<chrono::Utc>,
}

/// Overlap pairs shown with each group on a page (the group's count says how many it holds; the
/// CSV holds them all).
pub const OVERLAP_PAIRS_SHOWN: usize = 3;

/// Overlap pairs the CSV fills and writes at a time.
pub const OVERLAP_CHUNK: usize = 1000;

fn stable_id(prefix: &str, ids: &[String]) -> String {
    let hash = icat_dedup::text::hash(ids.join(",").as_bytes());
    format!("{prefix}-{hash:016x}")
}

/// One page of the report.
pub fn duplicates(
    conn: &mut DbConn,
    filter: &Filter,
    page: icat_common::PageParams,
) -> Result<Report, ApiError> {
    let outline = outline(conn, filter)?;
    let from = usize::try_from(page.offset()).unwrap_or(usize::MAX);
    let to = from.saturating_add(usize::try_from(page.per_page).unwrap_or(0));
    Ok(Report {
        generated_at: outline.generated_at,
        total: i64::try_from(outline.clusters.len()).unwrap_or(i64::MAX),
        page: page.page,
        per_page: page.per_page,
        clusters: fill(conn, &outline, from..to)?,
    })
}

type Backend = <DbConn as diesel::Connection>::Backend;
type Predicate =
    Box<dyn BoxableExpression<activity_pairs::table, Backend, SqlType = diesel::sql_types::Bool>>;

/// Which of a pair's two agencies an agency filter tests: either, or one side only. The overlap
/// view counts the two sides apart, each an index range of its own (SQLite's planner tested both
/// columns of all 281,512 overlaps for `a OR b`: 0.25 s); a pair's two agencies always differ, so
/// the two counts add up.
#[derive(Clone, Copy, Debug)]
enum Side {
    Either,
    A,
    B,
}

/// The pairs the filter selects, the review status aside. The filters run in the database on the
/// activities' own index tables: a pair is kept when either of its activities matches.
fn selected(filter: &Filter, agency: Option<&str>, side: Side) -> Predicate {
    let mut p: Predicate = match filter.level {
        Some(level) => Box::new(activity_pairs::level.eq(level.as_str().to_owned())),
        None => Box::new(activity_pairs::level.eq_any(["duplicate", "possible"])),
    };
    // Every score is at least 0: the condition is left out then, or SQLite's planner walks the
    // index on (level, score) and sorts every overlap instead of reading them in group order.
    if filter.min_score > 0.0 {
        p = Box::new(p.and(activity_pairs::score.ge(filter.min_score)));
    }
    if let Some(country) = &filter.country {
        let having = || {
            activity_countries::table
                .filter(activity_countries::country.eq(country.clone()))
                .select(activity_countries::activity_id)
        };
        p = Box::new(
            p.and(
                activity_pairs::a_id
                    .eq_any(having())
                    .or(activity_pairs::b_id.eq_any(having())),
            ),
        );
    }
    if let Some(theme) = &filter.theme {
        let having = || {
            activity_themes::table
                .filter(activity_themes::theme.eq(theme.clone()))
                .select(activity_themes::activity_id)
        };
        p = Box::new(
            p.and(
                activity_pairs::a_id
                    .eq_any(having())
                    .or(activity_pairs::b_id.eq_any(having())),
            ),
        );
    }
    if let Some(agency) = agency {
        // From the pair's own columns, two index ranges (archiving deletes an activity's pairs).
        let (a, b) = (
            activity_pairs::a_agency.eq(agency.to_owned()),
            activity_pairs::b_agency.eq(agency.to_owned()),
        );
        p = match side {
            Side::Either => Box::new(p.and(a.or(b))),
            Side::A => Box::new(p.and(a)),
            Side::B => Box::new(p.and(b)),
        };
    }
    p
}

impl Outline {
    fn shows(&self, key: &(String, String)) -> bool {
        let open = !self.reviews.contains_key(key);
        match self.filter.status {
            ReviewStatus::Open => open,
            ReviewStatus::Reviewed => !open,
            ReviewStatus::All => true,
        }
    }

    fn selected(&self) -> Predicate {
        self.selected_on(Side::Either)
    }

    fn selected_on(&self, side: Side) -> Predicate {
        selected(&self.filter, self.agency.as_deref(), side)
    }

    /// Whether this is the overlap view (groups by country and theme).
    pub fn overlaps(&self) -> bool {
        self.filter.level == Some(icat_dedup::Level::Overlap)
    }
}

/// The clusters the filter selects, grouped and ordered.
pub fn outline(conn: &mut DbConn, filter: &Filter) -> Result<Outline, ApiError> {
    let mut outline = Outline {
        clusters: Vec::new(),
        filter: filter.clone(),
        agency: None,
        reviews: load_reviews(conn)?,
        generated_at: icat_common::utc(icat_common::now()),
    };
    if let Some(agency) = &filter.agency {
        match agency_id(conn, agency)? {
            Some(id) => outline.agency = Some(id),
            None => return Ok(outline),
        }
    }
    outline.clusters = if outline.overlaps() {
        overlap_groups(conn, &outline)?
    } else {
        let rows: Vec<(String, String, f64, String)> = activity_pairs::table
            .filter(outline.selected())
            .order((
                activity_pairs::score.desc(),
                activity_pairs::a_id.asc(),
                activity_pairs::b_id.asc(),
            ))
            .select((
                activity_pairs::a_id,
                activity_pairs::b_id,
                activity_pairs::score,
                activity_pairs::level,
            ))
            .load(conn)?;
        let links = rows
            .into_iter()
            .filter(|(a, b, ..)| outline.shows(&(a.clone(), b.clone())))
            .map(|(a, b, score, level)| Link { a, b, score, level })
            .collect();
        strong_clusters(links)
    };
    Ok(outline)
}

/// The outline's clusters `range` (clamped), with their activities, reasons and reviews; an
/// overlap group with its strongest [`OVERLAP_PAIRS_SHOWN`] pairs.
pub fn fill(
    conn: &mut DbConn,
    outline: &Outline,
    range: std::ops::Range<usize>,
) -> Result<Vec<Cluster>, ApiError> {
    let end = range.end.min(outline.clusters.len());
    let mut shells = outline.clusters[range.start.min(end)..end].to_vec();
    if outline.overlaps() {
        for shell in &mut shells {
            shell.links = overlap_links(conn, outline, shell, 0, OVERLAP_PAIRS_SHOWN)?;
            shell.ids = ids_of(&shell.links);
        }
    }
    filled(conn, outline, shells)
}

/// The overlap CSV's rows of one group: its pairs from `offset`, at most `limit`, filled in.
pub fn fill_overlaps(
    conn: &mut DbConn,
    outline: &Outline,
    group: usize,
    offset: usize,
    limit: usize,
) -> Result<Option<Cluster>, ApiError> {
    let Some(shell) = outline.clusters.get(group) else {
        return Ok(None);
    };
    let mut shell = shell.clone();
    shell.links = overlap_links(conn, outline, &shell, offset, limit)?;
    shell.ids = ids_of(&shell.links);
    Ok(filled(conn, outline, vec![shell])?.pop())
}

fn ids_of(links: &[Link]) -> Vec<String> {
    let mut ids: Vec<String> = links
        .iter()
        .flat_map(|l| [l.a.clone(), l.b.clone()])
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Clusters with their activities, reasons (stored, or explained for overlaps) and reviews.
fn filled(
    conn: &mut DbConn,
    outline: &Outline,
    shells: Vec<Shell>,
) -> Result<Vec<Cluster>, ApiError> {
    let mut ids: Vec<String> = shells.iter().flat_map(|s| s.ids.clone()).collect();
    ids.sort();
    ids.dedup();
    let refs = load_refs(conn, &ids)?;
    let keys: Vec<(String, String)> = shells
        .iter()
        .flat_map(|s| s.links.iter().map(|l| (l.a.clone(), l.b.clone())))
        .collect();
    let mut reasons = if outline.overlaps() {
        HashMap::new()
    } else {
        stored_reasons(conn, &keys)?
    };
    let missing: Vec<(String, String)> = keys
        .into_iter()
        .filter(|k| !reasons.contains_key(k))
        .collect();
    if !missing.is_empty() {
        reasons.extend(icat_activities::scoring::explain(conn, &missing)?);
    }
    Ok(shells
        .into_iter()
        .map(|shell| {
            let pairs = shell
                .links
                .iter()
                .map(|l| {
                    let key = (l.a.clone(), l.b.clone());
                    PairView {
                        reasons: reasons.get(&key).cloned().unwrap_or_default(),
                        review: outline.reviews.get(&key).cloned(),
                        a: l.a.clone(),
                        b: l.b.clone(),
                        score: l.score,
                        level: l.level.clone(),
                    }
                })
                .collect();
            build_cluster(shell, pairs, &refs)
        })
        .collect())
}

/// The reasons kept in the pairs' rows (strong pairs; an overlap's row keeps none).
fn stored_reasons(
    conn: &mut DbConn,
    keys: &[(String, String)],
) -> QueryResult<HashMap<(String, String), Vec<ReasonView>>> {
    let wanted: std::collections::HashSet<&(String, String)> = keys.iter().collect();
    let mut firsts: Vec<&str> = keys.iter().map(|(a, _)| a.as_str()).collect();
    firsts.sort_unstable();
    firsts.dedup();
    let mut out = HashMap::with_capacity(keys.len());
    for chunk in firsts.chunks(500) {
        let rows: Vec<(String, String, String)> = activity_pairs::table
            .filter(activity_pairs::a_id.eq_any(chunk))
            .select((
                activity_pairs::a_id,
                activity_pairs::b_id,
                activity_pairs::reasons,
            ))
            .load(conn)?;
        for (a, b, json) in rows {
            let key = (a, b);
            if !wanted.contains(&key) {
                continue;
            }
            let reasons: Vec<ReasonView> = serde_json::from_str(&json).unwrap_or_default();
            if !reasons.is_empty() {
                out.insert(key, reasons);
            }
        }
    }
    Ok(out)
}

fn strong_clusters(links: Vec<Link>) -> Vec<Shell> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut names: Vec<&str> = Vec::new();
    for l in &links {
        for id in [l.a.as_str(), l.b.as_str()] {
            index.entry(id).or_insert_with(|| {
                names.push(id);
                names.len() - 1
            });
        }
    }
    let edges: Vec<icat_dedup::Edge> = links
        .iter()
        .map(|l| icat_dedup::Edge {
            a: index[l.a.as_str()],
            b: index[l.b.as_str()],
            score: l.score,
        })
        .collect();
    // Strongest first (the clustering's order), then by their members.
    let clusters = icat_dedup::cluster(names.len(), &edges);
    // Each pair goes to the cluster holding both its activities (a chain split again may leave a
    // pair between two clusters: it belongs to neither).
    let mut cluster_of = vec![usize::MAX; names.len()];
    for (c, members) in clusters.iter().enumerate() {
        for &m in members {
            cluster_of[m] = c;
        }
    }
    let mut inside: Vec<Vec<Link>> = vec![Vec::new(); clusters.len()];
    for (l, e) in links.iter().zip(&edges) {
        let c = cluster_of[e.a];
        if c == cluster_of[e.b] && c != usize::MAX {
            inside[c].push(l.clone());
        }
    }
    clusters
        .iter()
        .zip(inside)
        .map(|(members, links)| {
            let mut ids: Vec<String> = members.iter().map(|m| names[*m].to_owned()).collect();
            ids.sort();
            Shell {
                id: stable_id("dup", &ids),
                group: None,
                ids,
                pair_count: links.len(),
                links,
            }
        })
        .collect()
}

/// The overlap groups (by the country and theme each pair's activities share, see
/// `icat_activities`' `index::overlap_group`), largest first: counted in the database from the index
/// `activity_pairs_group`, the few reviewed pairs then taken off (or counted alone).
fn overlap_groups(conn: &mut DbConn, outline: &Outline) -> QueryResult<Vec<Shell>> {
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    if outline.filter.status != ReviewStatus::Reviewed {
        let sides: &[Side] = match outline.agency {
            Some(_) => &[Side::A, Side::B],
            None => &[Side::Either],
        };
        for side in sides {
            let rows: Vec<(String, i64)> = activity_pairs::table
                .group_by(activity_pairs::overlap_group)
                .select((activity_pairs::overlap_group, diesel::dsl::count_star()))
                .filter(outline.selected_on(*side))
                .load(conn)?;
            for (group, n) in rows {
                *counts.entry(group).or_default() += n;
            }
        }
    }
    if outline.filter.status != ReviewStatus::All {
        let sign = if outline.filter.status == ReviewStatus::Open {
            -1
        } else {
            1
        };
        for (_, _, group) in reviewed_overlaps(conn, outline)? {
            *counts.entry(group).or_default() += sign;
        }
    }
    let mut groups: Vec<(String, i64)> = counts.into_iter().filter(|(_, n)| *n > 0).collect();
    groups.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
    Ok(groups
        .into_iter()
        .map(|(group, n)| Shell {
            id: format!("overlap-{}", group.replace(' ', "-")),
            group: Some(group),
            ids: Vec::new(),
            links: Vec::new(),
            pair_count: usize::try_from(n).unwrap_or(0),
        })
        .collect())
}

/// The selected overlap pairs that people reviewed, with their group (reviews are few).
fn reviewed_overlaps(
    conn: &mut DbConn,
    outline: &Outline,
) -> QueryResult<Vec<(String, String, String)>> {
    let mut firsts: Vec<&str> = outline.reviews.keys().map(|(a, _)| a.as_str()).collect();
    firsts.sort_unstable();
    firsts.dedup();
    let mut out = Vec::new();
    for chunk in firsts.chunks(500) {
        let rows: Vec<(String, String, String)> = activity_pairs::table
            .filter(outline.selected())
            .filter(activity_pairs::a_id.eq_any(chunk))
            .select((
                activity_pairs::a_id,
                activity_pairs::b_id,
                activity_pairs::overlap_group,
            ))
            .load(conn)?;
        out.extend(
            rows.into_iter()
                .filter(|(a, b, _)| outline.reviews.contains_key(&(a.clone(), b.clone()))),
        );
    }
    Ok(out)
}

/// An overlap group's pairs the outline shows, strongest first, from `offset`, at most `limit`.
fn overlap_links(
    conn: &mut DbConn,
    outline: &Outline,
    shell: &Shell,
    offset: usize,
    limit: usize,
) -> QueryResult<Vec<Link>> {
    let group = shell.group.clone().unwrap_or_default();
    let order = (
        activity_pairs::score.desc(),
        activity_pairs::a_id.asc(),
        activity_pairs::b_id.asc(),
    );
    let columns = (
        activity_pairs::a_id,
        activity_pairs::b_id,
        activity_pairs::score,
        activity_pairs::level,
    );
    let rows: Vec<(String, String, f64, String)> = match outline.filter.status {
        // Reviewed pairs are few: read them all, then page.
        ReviewStatus::Reviewed => activity_pairs::table
            .filter(outline.selected())
            .filter(activity_pairs::overlap_group.eq(group))
            .order(order)
            .select(columns)
            .load::<(String, String, f64, String)>(conn)?
            .into_iter()
            .filter(|(a, b, ..)| outline.shows(&(a.clone(), b.clone())))
            .skip(offset)
            .take(limit)
            .collect(),
        ReviewStatus::All => activity_pairs::table
            .filter(outline.selected())
            .filter(activity_pairs::overlap_group.eq(group))
            .order(order)
            .select(columns)
            .offset(i64::try_from(offset).unwrap_or(i64::MAX))
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .load(conn)?,
        // Open: the database pages the group; reviewed pairs before or inside the page are
        // skipped by reading that many more (reviews are few).
        ReviewStatus::Open => {
            let reviewed = outline.reviews.len();
            activity_pairs::table
                .filter(outline.selected())
                .filter(activity_pairs::overlap_group.eq(group))
                .order(order)
                .select(columns)
                .limit(i64::try_from(offset + limit + reviewed).unwrap_or(i64::MAX))
                .load::<(String, String, f64, String)>(conn)?
                .into_iter()
                .filter(|(a, b, ..)| outline.shows(&(a.clone(), b.clone())))
                .skip(offset)
                .take(limit)
                .collect()
        }
    };
    Ok(rows
        .into_iter()
        .map(|(a, b, score, level)| Link { a, b, score, level })
        .collect())
}

fn build_cluster(
    shell: Shell,
    pairs: Vec<PairView>,
    refs: &HashMap<String, ActivityRef>,
) -> Cluster {
    let activities: Vec<ActivityRef> = shell
        .ids
        .iter()
        .filter_map(|i| refs.get(i).cloned())
        .collect();
    let mut agencies: Vec<String> = activities
        .iter()
        .map(|a| a.agency_acronym.clone())
        .collect();
    agencies.sort();
    agencies.dedup();
    let level = ["duplicate", "possible", "overlap"]
        .into_iter()
        .find(|l| pairs.iter().any(|p| p.level == *l))
        .unwrap_or("overlap")
        .to_owned();
    Cluster {
        id: shell.id,
        level,
        group: shell.group,
        agencies,
        activity_ids: shell.ids,
        activities,
        pair_count: i64::try_from(shell.pair_count).unwrap_or(i64::MAX),
        pairs,
    }
}

fn agency_id(conn: &mut DbConn, id_or_acronym: &str) -> QueryResult<Option<String>> {
    Ok(icat_store::find_agency(conn, id_or_acronym)?.map(|(id, _)| id))
}

fn load_refs(conn: &mut DbConn, ids: &[String]) -> QueryResult<HashMap<String, ActivityRef>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<(
            String,
            String,
            String,
            String,
            String,
            chrono::NaiveDate,
            chrono::NaiveDate,
        )> = activities::table
            .inner_join(agencies::table)
            .filter(activities::id.eq_any(chunk))
            .filter(activities::archived_at.is_null())
            .select((
                activities::id,
                agencies::acronym,
                activities::title,
                activities::countries,
                activities::themes,
                activities::start_date,
                activities::end_date,
            ))
            .load(conn)?;
        for (id, acronym, title, countries, themes, start, end) in rows {
            out.insert(
                id.clone(),
                ActivityRef {
                    id,
                    agency_acronym: acronym,
                    title,
                    countries: serde_json::from_str(&countries).unwrap_or_default(),
                    themes: serde_json::from_str(&themes).unwrap_or_default(),
                    start_date: start,
                    end_date: end,
                },
            );
        }
    }
    Ok(out)
}
