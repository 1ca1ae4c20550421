//! The focal-point directory (paragraph 9 of the resolution): each agency's designated focal points,
//! `primary` (at most one current, enforced by a partial unique index) and `alternate`, with their
//! history; look-ups by agency, role, country, theme and text (all index-backed); confirmation;
//! vCard 4.0 and CSV exports. (The secretariat's coverage report reads it from `icat_reports`.)
//!
//! May depend on `icat_common`, `icat_store`, `icat_auth` and `icat_audit`. It reads the agencies
//! table for acronyms but never calls the registry crate.

mod routes;
pub mod vcard;

pub use routes::configure;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use icat_audit::{Actor, NewEvent};
use icat_common::search;
use icat_common::{ApiError, Page, PageParams};
use icat_store::schema::{
    agencies, focal_point_countries, focal_point_terms, focal_point_themes, focal_points,
};
use icat_store::{DbConn, lower};
use serde::Serialize;

/// The kind of designation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FpRole {
    /// The agency's focal point for coordination; at most one current.
    Primary,
    /// Any number of alternates.
    Alternate,
}

impl FpRole {
    pub fn as_str(self) -> &'static str {
        match self {
            FpRole::Primary => "primary",
            FpRole::Alternate => "alternate",
        }
    }

    pub fn parse(raw: &str) -> Result<FpRole, icat_common::Rule> {
        match raw {
            "primary" => Ok(FpRole::Primary),
            "alternate" => Ok(FpRole::Alternate),
            _ => Err(icat_common::Rule::not_allowed(
                raw,
                &["primary", "alternate"],
                "must be primary or alternate",
            )),
        }
    }
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = focal_points)]
struct Row {
    id: String,
    agency_id: String,
    role: String,
    name: String,
    title: Option<String>,
    email: String,
    phone: Option<String>,
    languages: String,
    countries: String,
    themes: String,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
    designated_by: Option<String>,
    last_confirmed_at: NaiveDateTime,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// A designation as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FocalPoint {
    pub id: String,
    pub agency_id: String,
    pub agency_acronym: String,
    pub agency_name: String,
    pub role: FpRole,
    pub name: String,
    pub title: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    /// Language codes, most fluent first.
    pub languages: Vec<String>,
    /// ISO 3166-1 alpha-2 codes of the countries covered.
    pub countries: Vec<String>,
    /// Pillars covered: prevention, protection, prosecution, partnerships.
    pub themes: Vec<String>,
    pub valid_from: NaiveDate,
    /// Set when the designation ended; ended designations are history.
    pub valid_until: Option<NaiveDate>,
    /// The user who designated this focal point.
    pub designated_by: Option<String>,
    /// When the agency last confirmed these details (designation counts as confirmation).
    pub last_confirmed_at: chrono::DateTime<chrono::Utc>,
    /// Not ended.
    pub current: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i32,
}

fn json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

impl FocalPoint {
    fn from_row(row: Row, agency_acronym: String, agency_name: String) -> Self {
        FocalPoint {
            role: FpRole::parse(&row.role).unwrap_or(FpRole::Alternate),
            current: row.valid_until.is_none(),
            languages: json_list(&row.languages),
            countries: json_list(&row.countries),
            themes: json_list(&row.themes),
            id: row.id,
            agency_id: row.agency_id,
            agency_acronym,
            agency_name,
            name: row.name,
            title: row.title,
            email: row.email,
            phone: row.phone,
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            designated_by: row.designated_by,
            last_confirmed_at: icat_common::utc(row.last_confirmed_at),
            created_at: icat_common::utc(row.created_at),
            updated_at: icat_common::utc(row.updated_at),
            version: row.version,
        }
    }
}

type Loaded = (Row, String, String);

fn from_loaded((row, acronym, name): Loaded) -> FocalPoint {
    FocalPoint::from_row(row, acronym, name)
}

/// One designation, current or past.
pub fn find(conn: &mut DbConn, id: &str) -> Result<FocalPoint, ApiError> {
    focal_points::table
        .inner_join(agencies::table)
        .filter(focal_points::id.eq(id))
        .select((Row::as_select(), agencies::acronym, agencies::name))
        .first::<Loaded>(conn)
        .optional()?
        .map(from_loaded)
        .ok_or_else(|| ApiError::not_found("no focal point has this id"))
}

/// Look-up filters; all optional, combined with AND.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// An agency id or acronym (any case).
    pub agency: Option<String>,
    pub role: Option<FpRole>,
    pub country: Option<String>,
    pub theme: Option<String>,
    /// Words (or beginnings of words) of the name, title or e-mail address.
    pub q: Option<String>,
    pub include_history: bool,
}

/// The designations that match, ordered by agency, primary first, then name.
pub fn list(
    conn: &mut DbConn,
    filter: &Filter,
    page: PageParams,
) -> Result<Page<FocalPoint>, ApiError> {
    let query = || {
        let mut q = focal_points::table.inner_join(agencies::table).into_boxed();
        if !filter.include_history {
            q = q.filter(focal_points::valid_until.is_null());
        }
        if let Some(agency) = &filter.agency {
            q = q.filter(icat_store::agency_named(agency));
        }
        if let Some(role) = filter.role {
            q = q.filter(focal_points::role.eq(role.as_str()));
        }
        if let Some(country) = &filter.country {
            q = q.filter(
                focal_points::id.eq_any(
                    focal_point_countries::table
                        .filter(focal_point_countries::country.eq(country.clone()))
                        .select(focal_point_countries::focal_point_id),
                ),
            );
        }
        if let Some(theme) = &filter.theme {
            q = q.filter(
                focal_points::id.eq_any(
                    focal_point_themes::table
                        .filter(focal_point_themes::theme.eq(theme.clone()))
                        .select(focal_point_themes::focal_point_id),
                ),
            );
        }
        for term in filter
            .q
            .as_deref()
            .map(search::terms)
            .unwrap_or_default()
            .into_iter()
            .take(8)
        {
            let end = search::prefix_end(&term);
            q = q.filter(
                focal_points::id.eq_any(
                    focal_point_terms::table
                        .filter(focal_point_terms::term.ge(term))
                        .filter(focal_point_terms::term.lt(end))
                        .select(focal_point_terms::focal_point_id),
                ),
            );
        }
        q
    };
    let rows: Vec<Loaded> = query()
        .order((
            lower(agencies::acronym).asc(),
            focal_points::role.desc(),
            // Current first; SQLite and PostgreSQL sort NULLs differently, so say it explicitly.
            focal_points::valid_until.is_not_null().asc(),
            focal_points::valid_until.desc(),
            focal_points::name.asc(),
            focal_points::id.asc(),
        ))
        .limit(page.per_page)
        .offset(page.offset())
        .select((Row::as_select(), agencies::acronym, agencies::name))
        .load(conn)?;
    let total = page.total(rows.len(), || query().count().get_result(conn))?;
    Ok(Page::new(
        rows.into_iter().map(from_loaded).collect(),
        total,
        page,
    ))
}

/// Every designation that matches, for exports; capped so one request cannot ask for unbounded work.
pub fn export(conn: &mut DbConn, filter: &Filter) -> Result<Vec<FocalPoint>, ApiError> {
    icat_common::all_pages(20_000, |page| list(conn, filter, page))
}

/// A validated designation.
#[derive(Clone, Debug)]
pub struct NewFocalPoint {
    pub role: FpRole,
    pub name: String,
    pub title: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub languages: Vec<String>,
    pub countries: Vec<String>,
    pub themes: Vec<String>,
    pub valid_from: NaiveDate,
}

/// The agency a designation is for: id or acronym; it must be an active member.
pub fn resolve_agency(conn: &mut DbConn, id_or_acronym: &str) -> Result<String, ApiError> {
    let (id, active) = icat_store::find_agency(conn, id_or_acronym)?
        .ok_or_else(|| ApiError::not_found("no agency has this id or acronym"))?;
    if !active {
        return Err(ApiError::conflict(
            "this agency is no longer an active member",
        ));
    }
    Ok(id)
}

fn write_index(conn: &mut DbConn, id: &str, fp: &FocalPointText<'_>) -> QueryResult<()> {
    diesel::delete(
        focal_point_countries::table.filter(focal_point_countries::focal_point_id.eq(id)),
    )
    .execute(conn)?;
    diesel::delete(focal_point_themes::table.filter(focal_point_themes::focal_point_id.eq(id)))
        .execute(conn)?;
    diesel::delete(focal_point_terms::table.filter(focal_point_terms::focal_point_id.eq(id)))
        .execute(conn)?;
    for country in fp.countries {
        diesel::insert_into(focal_point_countries::table)
            .values((
                focal_point_countries::focal_point_id.eq(id),
                focal_point_countries::country.eq(country),
            ))
            .execute(conn)?;
    }
    for theme in fp.themes {
        diesel::insert_into(focal_point_themes::table)
            .values((
                focal_point_themes::focal_point_id.eq(id),
                focal_point_themes::theme.eq(theme),
            ))
            .execute(conn)?;
    }
    let text = format!("{} {} {}", fp.name, fp.title.unwrap_or_default(), fp.email);
    for term in search::terms(&text) {
        diesel::insert_into(focal_point_terms::table)
            .values((
                focal_point_terms::focal_point_id.eq(id),
                focal_point_terms::term.eq(term),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The fields the look-up index is built from.
struct FocalPointText<'a> {
    name: &'a str,
    title: Option<&'a str>,
    email: &'a str,
    countries: &'a [String],
    themes: &'a [String],
}

/// Designates a focal point. A new primary ends the agency's current primary in the same
/// transaction (its `valid_until` is set and it stays in the history). Two designations racing for
/// one agency both succeed, one after the other: the loser of the unique index retries.
pub fn designate(
    conn: &mut DbConn,
    actor: &Actor,
    agency_id: &str,
    new: &NewFocalPoint,
) -> Result<FocalPoint, ApiError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match designate_once(conn, actor, agency_id, new) {
            Err(e) if e.code == icat_common::ErrorCode::Conflict && attempt < 4 => continue,
            other => return other,
        }
    }
}

fn designate_once(
    conn: &mut DbConn,
    actor: &Actor,
    agency_id: &str,
    new: &NewFocalPoint,
) -> Result<FocalPoint, ApiError> {
    icat_store::write(conn, |conn| {
        let now = icat_common::now();
        let today = now.date();
        if new.role == FpRole::Primary {
            let ended: Vec<String> = focal_points::table
                .filter(focal_points::agency_id.eq(agency_id))
                .filter(focal_points::role.eq("primary"))
                .filter(focal_points::valid_until.is_null())
                .select(focal_points::id)
                .load(conn)?;
            for id in &ended {
                end_row(conn, actor, id, today, "replaced by a new primary")?;
            }
        }
        let id = icat_common::new_id();
        diesel::insert_into(focal_points::table)
            .values((
                focal_points::id.eq(&id),
                focal_points::agency_id.eq(agency_id),
                focal_points::role.eq(new.role.as_str()),
                focal_points::name.eq(&new.name),
                focal_points::title.eq(new.title.as_deref()),
                focal_points::email.eq(&new.email),
                focal_points::phone.eq(new.phone.as_deref()),
                focal_points::languages.eq(icat_common::to_json(&new.languages)?),
                focal_points::countries.eq(icat_common::to_json(&new.countries)?),
                focal_points::themes.eq(icat_common::to_json(&new.themes)?),
                focal_points::valid_from.eq(new.valid_from),
                focal_points::designated_by.eq(actor.user_id.as_deref()),
                focal_points::last_confirmed_at.eq(now),
                focal_points::version.eq(1),
                focal_points::created_at.eq(now),
                focal_points::updated_at.eq(now),
            ))
            .execute(conn)?;
        write_index(
            conn,
            &id,
            &FocalPointText {
                name: &new.name,
                title: new.title.as_deref(),
                email: &new.email,
                countries: &new.countries,
                themes: &new.themes,
            },
        )?;
        let fp = find(conn, &id)?;
        icat_audit::record(
            conn,
            actor,
            &NewEvent::success("designate", "focal_point", &id)
                .with_changes(icat_common::to_json_value(&fp)?),
        )?;
        Ok(fp)
    })
}

fn end_row(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    on: NaiveDate,
    reason: &str,
) -> Result<(), ApiError> {
    diesel::update(
        focal_points::table
            .filter(focal_points::id.eq(id))
            .filter(focal_points::valid_until.is_null()),
    )
    .set((
        focal_points::valid_until.eq(on),
        focal_points::updated_at.eq(icat_common::now()),
        focal_points::version.eq(focal_points::version + 1),
    ))
    .execute(conn)?;
    icat_audit::record(
        conn,
        actor,
        &NewEvent::success("end", "focal_point", id)
            .with_changes(serde_json::json!({ "reason": reason, "valid_until": on })),
    )?;
    Ok(())
}

/// Checks that a designation is current and that the user may write for its agency.
pub fn writable(
    conn: &mut DbConn,
    id: &str,
    allowed: impl FnOnce(&str) -> Result<(), ApiError>,
) -> Result<FocalPoint, ApiError> {
    let fp = find(conn, id)?;
    allowed(&fp.agency_id)?;
    if !fp.current {
        return Err(ApiError::conflict(
            "this designation has ended; it is history and does not change",
        ));
    }
    Ok(fp)
}

/// Ends a current designation today.
pub fn end(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    allowed: impl FnOnce(&str) -> Result<(), ApiError>,
) -> Result<FocalPoint, ApiError> {
    icat_store::write(conn, |conn| {
        writable(conn, id, allowed)?;
        end_row(conn, actor, id, icat_common::now().date(), "ended")?;
        find(conn, id)
    })
}

/// Records that the agency confirmed the designation's details today.
pub fn confirm(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    allowed: impl FnOnce(&str) -> Result<(), ApiError>,
) -> Result<FocalPoint, ApiError> {
    icat_store::write(conn, |conn| {
        writable(conn, id, allowed)?;
        let now = icat_common::now();
        diesel::update(focal_points::table.find(id))
            .set((
                focal_points::last_confirmed_at.eq(now),
                focal_points::updated_at.eq(now),
                focal_points::version.eq(focal_points::version + 1),
            ))
            .execute(conn)?;
        icat_audit::record(
            conn,
            actor,
            &NewEvent::success("confirm", "focal_point", id),
        )?;
        find(conn, id)
    })
}

/// A change to a current designation; `None` leaves a field as it is. Role and dates are not
/// changed in place: designate anew, or end.
#[derive(Clone, Debug, Default)]
pub struct Patch {
    pub name: Option<String>,
    pub title: Option<Option<String>>,
    pub email: Option<String>,
    pub phone: Option<Option<String>>,
    pub languages: Option<Vec<String>>,
    pub countries: Option<Vec<String>>,
    pub themes: Option<Vec<String>>,
}

#[derive(AsChangeset)]
#[diesel(table_name = focal_points)]
struct Changes {
    name: Option<String>,
    title: Option<Option<String>>,
    email: Option<String>,
    phone: Option<Option<String>>,
    languages: Option<String>,
    countries: Option<String>,
    themes: Option<String>,
    updated_at: NaiveDateTime,
}

/// Changes a current designation if it is still at the version the client read (412 otherwise).
pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    allowed: impl FnOnce(&str) -> Result<(), ApiError>,
    check_version: impl FnOnce(i32) -> Result<i32, ApiError>,
    patch: Patch,
) -> Result<FocalPoint, ApiError> {
    icat_store::write(conn, |conn| {
        let before = writable(conn, id, allowed)?;
        let expected = check_version(before.version)?;
        let changes = Changes {
            name: patch.name.clone(),
            title: patch.title.clone(),
            email: patch.email.clone(),
            phone: patch.phone.clone(),
            languages: patch
                .languages
                .as_deref()
                .map(icat_common::to_json)
                .transpose()?,
            countries: patch
                .countries
                .as_deref()
                .map(icat_common::to_json)
                .transpose()?,
            themes: patch
                .themes
                .as_deref()
                .map(icat_common::to_json)
                .transpose()?,
            updated_at: icat_common::now(),
        };
        let updated = diesel::update(
            focal_points::table
                .filter(focal_points::id.eq(id))
                .filter(focal_points::version.eq(expected)),
        )
        .set((changes, focal_points::version.eq(focal_points::version + 1)))
        .execute(conn)?;
        if updated == 0 {
            return Err(ApiError::precondition_failed());
        }
        let after = find(conn, id)?;
        write_index(
            conn,
            id,
            &FocalPointText {
                name: &after.name,
                title: after.title.as_deref(),
                email: &after.email,
                countries: &after.countries,
                themes: &after.themes,
            },
        )?;
        let diff = icat_audit::diff(
            &icat_common::to_json_value(&before)?,
            &icat_common::to_json_value(&after)?,
        );
        icat_audit::record(
            conn,
            actor,
            &NewEvent::success("update", "focal_point", id).with_changes(diff),
        )?;
        Ok(after)
    })
}

/// Current designations of active members not confirmed since `before`, longest unconfirmed first
/// (the secretariat's coverage report, in `icat_reports`).
pub fn unconfirmed_since(
    conn: &mut DbConn,
    before: chrono::NaiveDateTime,
) -> Result<Vec<FocalPoint>, ApiError> {
    Ok(focal_points::table
        .inner_join(agencies::table)
        .filter(focal_points::valid_until.is_null())
        .filter(focal_points::last_confirmed_at.lt(before))
        .filter(agencies::active.eq(true))
        .order((
            focal_points::last_confirmed_at.asc(),
            focal_points::id.asc(),
        ))
        .select((Row::as_select(), agencies::acronym, agencies::name))
        .load::<Loaded>(conn)?
        .into_iter()
        .map(from_loaded)
        .collect())
}
