//! The secretariat's reports on taking part (paragraph 8) and on the work done (paragraphs 5 and
//! 13): per agency, whether it has a primary focal point and how much it recorded lately; and the
//! activity counts by theme, SDG target, country and agency over a period.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::count_star;
use diesel::prelude::*;
use icat_common::ApiError;
use icat_store::DbConn;
use icat_store::schema::{
    activities, activity_countries, activity_sdgs, activity_themes, agencies,
};
use serde::Serialize;
use std::collections::HashMap;

/// One member's participation.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Participation {
    pub agency_id: String,
    pub acronym: String,
    pub name: String,
    pub working_group: bool,
    pub has_primary_focal_point: bool,
    /// Activities recorded in the last 12 months (archived ones not counted).
    pub activities_last_12_months: i64,
    /// When the agency last recorded an activity.
    pub last_activity_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Every active member, by acronym.
pub fn participation(conn: &mut DbConn) -> Result<Vec<Participation>, ApiError> {
    let members = crate::coverage::active_members(conn)?;
    let with_primary = crate::coverage::with_primary(conn)?;
    // Both from the index `activities_recorded` (agency, recorded at) of the live activities.
    let since = icat_common::now() - chrono::Duration::days(365);
    let recent: HashMap<String, i64> = activities::table
        .filter(activities::archived_at.is_null())
        .filter(activities::created_at.ge(since))
        .group_by(activities::agency_id)
        .select((activities::agency_id, count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    // One seek per member to the end of its stretch of the index (a grouped MAX walked all of it).
    let mut last: HashMap<String, Option<NaiveDateTime>> = HashMap::new();
    for (id, ..) in &members {
        let at = activities::table
            .filter(activities::archived_at.is_null())
            .filter(activities::agency_id.eq(id))
            .select(diesel::dsl::max(activities::created_at))
            .first::<Option<NaiveDateTime>>(conn)?;
        last.insert(id.clone(), at);
    }
    Ok(members
        .into_iter()
        .map(|(id, acronym, name, working_group)| Participation {
            has_primary_focal_point: with_primary.contains(&id),
            activities_last_12_months: recent.get(&id).copied().unwrap_or(0),
            last_activity_at: last.get(&id).copied().flatten().map(icat_common::utc),
            agency_id: id,
            acronym,
            name,
            working_group,
        })
        .collect())
}

/// One count of the summary.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Count {
    pub key: String,
    pub count: i64,
}

/// Activity counts over a period.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Activities running in the period (all, without one).
    pub total: i64,
    pub by_theme: Vec<Count>,
    pub by_sdg_target: Vec<Count>,
    pub by_country: Vec<Count>,
    /// By agency acronym.
    pub by_agency: Vec<Count>,
}

fn sorted(rows: Vec<(String, i64)>) -> Vec<Count> {
    let mut counts: Vec<Count> = rows
        .into_iter()
        .map(|(key, count)| Count { key, count })
        .collect();
    counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    counts
}

/// One dimension of the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    Theme,
    SdgTarget,
    Country,
    Agency,
}

impl Dimension {
    pub const ALL: [Dimension; 4] = [
        Dimension::Theme,
        Dimension::SdgTarget,
        Dimension::Country,
        Dimension::Agency,
    ];
}

/// The counts of one dimension: the live activities that run at some time between `from` and
/// `to` (each optional), by key. One grouped query over an index that holds the period
/// (`activities_recorded`, and each side table's `(key, start_date, end_date)`): no activity row
/// is read. Archived activities have left the side tables. The four dimensions are independent
/// reads, so the server runs them side by side on pooled connections (see `summary`).
pub fn counts(
    conn: &mut DbConn,
    dimension: Dimension,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<(String, i64)>, ApiError> {
    // Dates both backends store and compare alike (chrono's own extremes are not).
    let lo = from.unwrap_or(NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or_default());
    let hi = to.unwrap_or(NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default());
    Ok(match dimension {
        Dimension::Theme => activity_themes::table
            .filter(activity_themes::end_date.ge(lo))
            .filter(activity_themes::start_date.le(hi))
            .group_by(activity_themes::theme)
            .select((activity_themes::theme, count_star()))
            .load(conn)?,
        Dimension::SdgTarget => activity_sdgs::table
            .filter(activity_sdgs::end_date.ge(lo))
            .filter(activity_sdgs::start_date.le(hi))
            .group_by(activity_sdgs::target)
            .select((activity_sdgs::target, count_star()))
            .load(conn)?,
        Dimension::Country => activity_countries::table
            .filter(activity_countries::end_date.ge(lo))
            .filter(activity_countries::start_date.le(hi))
            .group_by(activity_countries::country)
            .select((activity_countries::country, count_star()))
            .load(conn)?,
        Dimension::Agency => {
            let per_agency: Vec<(String, i64)> = activities::table
                .filter(activities::archived_at.is_null())
                .filter(activities::end_date.ge(lo))
                .filter(activities::start_date.le(hi))
                .group_by(activities::agency_id)
                .select((activities::agency_id, count_star()))
                .load(conn)?;
            let acronyms: HashMap<String, String> = agencies::table
                .select((agencies::id, agencies::acronym))
                .load::<(String, String)>(conn)?
                .into_iter()
                .collect();
            per_agency
                .into_iter()
                .map(|(id, n)| (acronyms.get(&id).cloned().unwrap_or(id), n))
                .collect()
        }
    })
}

/// The summary from its four dimensions' counts (in [`Dimension::ALL`]'s order). Every activity
/// has exactly one agency, so the total is the agencies' sum.
pub fn summary(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    [themes, sdgs, countries, agencies]: [Vec<(String, i64)>; 4],
) -> Summary {
    Summary {
        from,
        to,
        total: agencies.iter().map(|(_, n)| n).sum(),
        by_theme: sorted(themes),
        by_sdg_target: sorted(sdgs),
        by_country: sorted(countries),
        by_agency: sorted(agencies),
    }
}
