//! Focal-point coverage (paragraph 9 asks each member to designate a focal point): who has a
//! current primary focal point, who has none, and whose details have gone unconfirmed for a year.

use diesel::prelude::*;
use icat_common::ApiError;
use icat_directory::FocalPoint;
use icat_store::schema::{agencies, focal_points};
use icat_store::{DbConn, lower};
use serde::Serialize;

/// An agency in the coverage report.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AgencyRef {
    pub id: String,
    pub acronym: String,
    pub name: String,
    pub working_group: bool,
}

/// Who has designated a primary focal point, and whose details have gone stale.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    /// Active member agencies.
    pub agencies_total: i64,
    /// Active members with a current primary focal point.
    pub with_primary: i64,
    /// Active members without one (paragraph 9 asks each to designate one).
    pub without_primary: Vec<AgencyRef>,
    /// Current designations not confirmed for 12 months.
    pub unconfirmed: Vec<FocalPoint>,
}

/// The agencies with a current primary focal point (this report's and the participation report's).
pub(crate) fn with_primary(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    focal_points::table
        .filter(focal_points::role.eq("primary"))
        .filter(focal_points::valid_until.is_null())
        .select(focal_points::agency_id)
        .load(conn)
}

/// The active members by acronym: id, acronym, name, working group (this report's and the
/// participation report's rows).
pub(crate) fn active_members(
    conn: &mut DbConn,
) -> QueryResult<Vec<(String, String, String, bool)>> {
    agencies::table
        .filter(agencies::active.eq(true))
        .order(lower(agencies::acronym).asc())
        .select((
            agencies::id,
            agencies::acronym,
            agencies::name,
            agencies::working_group,
        ))
        .load(conn)
}

/// The coverage report.
pub fn coverage(conn: &mut DbConn) -> Result<Coverage, ApiError> {
    let active = active_members(conn)?;
    let with_primary = with_primary(conn)?;
    let without_primary: Vec<AgencyRef> = active
        .iter()
        .filter(|(id, ..)| !with_primary.contains(id))
        .map(|(id, acronym, name, working_group)| AgencyRef {
            id: id.clone(),
            acronym: acronym.clone(),
            name: name.clone(),
            working_group: *working_group,
        })
        .collect();
    let stale_before = icat_common::now() - chrono::Duration::days(365);
    let unconfirmed = icat_directory::unconfirmed_since(conn, stale_before)?;
    let total = i64::try_from(active.len()).unwrap_or(i64::MAX);
    Ok(Coverage {
        agencies_total: total,
        with_primary: total - i64::try_from(without_primary.len()).unwrap_or(0),
        without_primary,
        unconfirmed,
    })
}
