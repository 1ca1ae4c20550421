//! The duplicate report: the maintained pairs, filtered, grouped into clusters (strong pairs) or by
//! country and theme (overlaps), with people's reviews; and the reviews themselves.

use crate::model::ReasonView;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use icat_audit::{Actor, NewEvent};
use icat_common::ApiError;
use icat_store::DbConn;
use icat_store::schema::{activities, activity_pairs, agencies, pair_reviews};
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

/// A person's verdict on a pair.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Review {
    /// duplicate, not_duplicate or coordinated.
    pub decision: String,
    pub note: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: chrono::DateTime<chrono::Utc>,
}

/// A scored pair in the report.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PairView {
    pub a: String,
    pub b: String,
    /// The probability (0..1) that the two activities are the same work.
    pub score: f64,
    pub level: String,
    pub reasons: Vec<ReasonView>,
    pub review: Option<Review>,
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
    pub pairs: Vec<PairView>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub generated_at: chrono::DateTime<chrono::Utc>,
    pub clusters: Vec<Cluster>,
}

type PairRow = (String, String, f64, String, String);

fn stable_id(prefix: &str, ids: &[String]) -> String {
    let hash = icat_dedup::text::hash(ids.join(",").as_bytes());
    format!("{prefix}-{hash:016x}")
}

/// Builds the report.
pub fn duplicates(conn: &mut DbConn, filter: &Filter) -> Result<Report, ApiError> {
    let mut q = activity_pairs::table
        .filter(activity_pairs::score.ge(filter.min_score))
        .into_boxed();
    q = match filter.level {
        Some(level) => q.filter(activity_pairs::level.eq(level.as_str())),
        None => q.filter(activity_pairs::level.eq_any(["duplicate", "possible"])),
    };
    let rows: Vec<PairRow> = q
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
            activity_pairs::reasons,
        ))
        .limit(20_000)
        .load(conn)?;
    let reviews = load_reviews(conn)?;
    let mut ids: Vec<String> = rows
        .iter()
        .flat_map(|r| [r.0.clone(), r.1.clone()])
        .collect();
    ids.sort();
    ids.dedup();
    let refs = load_refs(conn, &ids)?;
    let agency_filter = match &filter.agency {
        Some(a) => Some(agency_acronym(conn, a)?),
        None => None,
    };
    let keep = |a: &ActivityRef, b: &ActivityRef| {
        let either = |test: &dyn Fn(&ActivityRef) -> bool| test(a) || test(b);
        filter
            .country
            .as_ref()
            .is_none_or(|c| either(&|x| x.countries.contains(c)))
            && filter
                .theme
                .as_ref()
                .is_none_or(|t| either(&|x| x.themes.contains(t)))
            && agency_filter
                .as_ref()
                .is_none_or(|ag| either(&|x| Some(&x.agency_acronym) == ag.as_ref()))
    };
    let pairs: Vec<PairView> = rows
        .into_iter()
        .filter_map(|(a, b, score, level, reasons)| {
            let (ra, rb) = (refs.get(&a)?, refs.get(&b)?);
            if !keep(ra, rb) {
                return None;
            }
            let review = reviews.get(&(a.clone(), b.clone())).cloned();
            let open = review.is_none();
            let shown = match filter.status {
                ReviewStatus::Open => open,
                ReviewStatus::Reviewed => !open,
                ReviewStatus::All => true,
            };
            shown.then(|| PairView {
                a,
                b,
                score,
                level,
                reasons: serde_json::from_str(&reasons).unwrap_or_default(),
                review,
            })
        })
        .collect();
    let pairs = with_reasons(conn, pairs)?;
    let clusters = if filter.level == Some(icat_dedup::Level::Overlap) {
        overlap_groups(pairs, &refs)
    } else {
        strong_clusters(pairs, &refs)
    };
    Ok(Report {
        generated_at: icat_common::utc(icat_common::now()),
        clusters,
    })
}

/// Fills in the reasons of the pairs whose row does not keep them (overlaps: see
/// `crate::log::explain`).
fn with_reasons(conn: &mut DbConn, mut pairs: Vec<PairView>) -> QueryResult<Vec<PairView>> {
    let missing: Vec<(String, String)> = pairs
        .iter()
        .filter(|p| p.reasons.is_empty())
        .map(|p| (p.a.clone(), p.b.clone()))
        .collect();
    if missing.is_empty() {
        return Ok(pairs);
    }
    let mut explained = crate::log::explain(conn, &missing)?;
    for p in pairs.iter_mut().filter(|p| p.reasons.is_empty()) {
        if let Some(reasons) = explained.remove(&(p.a.clone(), p.b.clone())) {
            p.reasons = reasons;
        }
    }
    Ok(pairs)
}

fn strong_clusters(pairs: Vec<PairView>, refs: &HashMap<String, ActivityRef>) -> Vec<Cluster> {
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &pairs {
        for id in [p.a.as_str(), p.b.as_str()] {
            let next = index.len();
            index.entry(id).or_insert(next);
        }
    }
    let names: Vec<&str> = {
        let mut v = vec![""; index.len()];
        for (id, i) in &index {
            v[*i] = id;
        }
        v
    };
    let edges: Vec<icat_dedup::Edge> = pairs
        .iter()
        .filter_map(|p| {
            Some(icat_dedup::Edge {
                a: *index.get(p.a.as_str())?,
                b: *index.get(p.b.as_str())?,
                score: p.score,
            })
        })
        .collect();
    let clusters = icat_dedup::cluster(index.len(), &edges);
    // Each pair goes to the cluster holding both its activities (a chain split again may leave a
    // pair between two clusters: it belongs to neither).
    let mut cluster_of = vec![usize::MAX; index.len()];
    for (c, members) in clusters.iter().enumerate() {
        for &m in members {
            cluster_of[m] = c;
        }
    }
    let home: Vec<Option<usize>> = pairs
        .iter()
        .map(|p| {
            let (a, b) = (*index.get(p.a.as_str())?, *index.get(p.b.as_str())?);
            (cluster_of[a] == cluster_of[b] && cluster_of[a] != usize::MAX).then_some(cluster_of[a])
        })
        .collect();
    let member_ids: Vec<Vec<String>> = clusters
        .iter()
        .map(|members| {
            let mut ids: Vec<String> = members.iter().map(|m| names[*m].to_owned()).collect();
            ids.sort();
            ids
        })
        .collect();
    let mut inside: Vec<Vec<PairView>> = vec![Vec::new(); clusters.len()];
    for (p, home) in pairs.into_iter().zip(home) {
        if let Some(c) = home {
            inside[c].push(p);
        }
    }
    member_ids
        .into_iter()
        .zip(inside)
        .map(|(ids, inside)| build_cluster(stable_id("dup", &ids), None, ids, inside, refs))
        .collect()
}

fn overlap_groups(pairs: Vec<PairView>, refs: &HashMap<String, ActivityRef>) -> Vec<Cluster> {
    let mut groups: BTreeMap<(String, String), Vec<PairView>> = BTreeMap::new();
    for p in pairs {
        let (Some(a), Some(b)) = (refs.get(&p.a), refs.get(&p.b)) else {
            continue;
        };
        let country = a
            .countries
            .iter()
            .find(|c| b.countries.contains(c))
            .cloned()
            .unwrap_or_default();
        let theme = a
            .themes
            .iter()
            .find(|t| b.themes.contains(t))
            .cloned()
            .unwrap_or_default();
        groups.entry((country, theme)).or_default().push(p);
    }
    let mut out: Vec<Cluster> = groups
        .into_iter()
        .map(|((country, theme), inside)| {
            let mut ids: Vec<String> = inside
                .iter()
                .flat_map(|p| [p.a.clone(), p.b.clone()])
                .collect();
            ids.sort();
            ids.dedup();
            build_cluster(
                stable_id(&format!("overlap-{country}-{theme}"), &ids),
                Some(format!("{country} {theme}")),
                ids,
                inside,
                refs,
            )
        })
        .collect();
    out.sort_by(|x, y| {
        y.pairs
            .len()
            .cmp(&x.pairs.len())
            .then_with(|| x.id.cmp(&y.id))
    });
    out
}

fn build_cluster(
    id: String,
    group: Option<String>,
    ids: Vec<String>,
    pairs: Vec<PairView>,
    refs: &HashMap<String, ActivityRef>,
) -> Cluster {
    let activities: Vec<ActivityRef> = ids.iter().filter_map(|i| refs.get(i).cloned()).collect();
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
        id,
        level,
        group,
        agencies,
        activity_ids: ids,
        activities,
        pairs,
    }
}

fn agency_acronym(conn: &mut DbConn, id_or_acronym: &str) -> QueryResult<Option<String>> {
    agencies::table
        .filter(
            agencies::id
                .eq(id_or_acronym)
                .or(icat_store::lower(agencies::acronym).eq(id_or_acronym.to_lowercase())),
        )
        .select(agencies::acronym)
        .first(conn)
        .optional()
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

type ReviewRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    NaiveDateTime,
);

fn load_reviews(conn: &mut DbConn) -> QueryResult<HashMap<(String, String), Review>> {
    let rows: Vec<ReviewRow> = pair_reviews::table
        .select((
            pair_reviews::a_id,
            pair_reviews::b_id,
            pair_reviews::decision,
            pair_reviews::note,
            pair_reviews::reviewed_by,
            pair_reviews::reviewed_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(a, b, decision, note, by, at)| {
            (
                (a, b),
                Review {
                    decision,
                    note,
                    reviewed_by: by,
                    reviewed_at: icat_common::utc(at),
                },
            )
        })
        .collect())
}

/// Records a person's verdict on a pair of activities of different agencies (the latest verdict
/// stands; every one is in the audit trail). `allowed` checks the reviewer's rights against the
/// two agencies.
pub fn review(
    conn: &mut DbConn,
    actor: &Actor,
    ids: (&str, &str),
    decision: &str,
    note: Option<&str>,
    allowed: impl FnOnce(&str, &str) -> Result<(), ApiError>,
) -> Result<(PairView, Review), ApiError> {
    let (a, b) = if ids.0 < ids.1 { ids } else { (ids.1, ids.0) };
    icat_store::write(conn, |conn| {
        let agencies_of: Vec<(String, String)> = activities::table
            .filter(activities::id.eq_any([a, b]))
            .filter(activities::archived_at.is_null())
            .select((activities::id, activities::agency_id))
            .load(conn)?;
        let agency = |id: &str| {
            agencies_of
                .iter()
                .find(|(x, _)| x == id)
                .map(|(_, ag)| ag.clone())
        };
        let (Some(agency_a), Some(agency_b)) = (agency(a), agency(b)) else {
            return Err(ApiError::invalid_field(
                "activity_ids",
                "both must be activities of the log",
            ));
        };
        if agency_a == agency_b {
            return Err(ApiError::invalid_field(
                "activity_ids",
                "must be activities of two different agencies",
            ));
        }
        allowed(&agency_a, &agency_b)?;
        // One review per pair, the latest: an upsert, so that two reviews sent at once are both
        // answered (a delete then insert let the second fail on the key under PostgreSQL).
        let now = icat_common::now();
        let review = (
            pair_reviews::decision.eq(decision),
            pair_reviews::note.eq(note),
            pair_reviews::reviewed_by.eq(actor.user_id.as_deref()),
            pair_reviews::reviewed_at.eq(now),
        );
        let upsert = diesel::insert_into(pair_reviews::table)
            .values((pair_reviews::a_id.eq(a), pair_reviews::b_id.eq(b), review))
            .on_conflict((pair_reviews::a_id, pair_reviews::b_id))
            .do_update()
            .set(review);
        icat_store::execute_natively!(conn, upsert)?;
        icat_audit::record(
            conn,
            actor,
            &NewEvent::success("review", "activity_pair", &format!("{a}:{b}"))
                .with_changes(serde_json::json!({"decision": decision, "note": note})),
        )?;
        let review = Review {
            decision: decision.to_owned(),
            note: note.map(str::to_owned),
            reviewed_by: actor.user_id.clone(),
            reviewed_at: icat_common::utc(now),
        };
        let pair: Option<(f64, String, String)> = activity_pairs::table
            .find((a, b))
            .select((
                activity_pairs::score,
                activity_pairs::level,
                activity_pairs::reasons,
            ))
            .first(conn)
            .optional()?;
        let view = match pair {
            Some((score, level, reasons)) => with_reasons(
                conn,
                vec![PairView {
                    a: a.to_owned(),
                    b: b.to_owned(),
                    score,
                    level,
                    reasons: serde_json::from_str(&reasons).unwrap_or_default(),
                    review: Some(review.clone()),
                }],
            )?
            .remove(0),
            None => PairView {
                a: a.to_owned(),
                b: b.to_owned(),
                score: 0.0,
                level: "none".into(),
                reasons: vec![],
                review: Some(review.clone()),
            },
        };
        Ok((view, review))
    })
}
