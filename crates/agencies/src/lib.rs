//! The ICAT member registry: agencies (UN entities, intergovernmental and other organisations),
//! seeded on first start from the members that public sources confirm, and run by the secretariat
//! through `/api/v1/agencies`.
//!
//! May depend on `icat_common`, `icat_store`, `icat_auth` and `icat_audit`.

mod routes;

pub use routes::configure;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use icat_audit::{Actor, NewEvent};
use icat_common::{ApiError, Page, PageParams};
use icat_store::schema::agencies;
use icat_store::{DbConn, lower};
use serde::Serialize;

/// What kind of organisation a member is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    UnEntity,
    Intergovernmental,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::UnEntity, Kind::Intergovernmental, Kind::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::UnEntity => "un_entity",
            Kind::Intergovernmental => "intergovernmental",
            Kind::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Result<Kind, icat_common::Rule> {
        match raw {
            "un_entity" => Ok(Kind::UnEntity),
            "intergovernmental" => Ok(Kind::Intergovernmental),
            "other" => Ok(Kind::Other),
            _ => Err(icat_common::Rule::not_allowed(
                raw,
                &["un_entity", "intergovernmental", "other"],
                "must be one of un_entity, intergovernmental, other",
            )),
        }
    }
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = agencies)]
struct AgencyRow {
    id: String,
    acronym: String,
    name: String,
    kind: String,
    working_group: bool,
    website: Option<String>,
    joined_on: Option<NaiveDate>,
    active: bool,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// An ICAT member organisation.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Agency {
    pub id: String,
    pub acronym: String,
    pub name: String,
    pub kind: Kind,
    /// Named at the ICAT working group's meetings.
    pub working_group: bool,
    pub website: Option<String>,
    pub joined_on: Option<NaiveDate>,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// For optimistic concurrency: send it back as `If-Match: "<version>"`.
    pub version: i32,
}

impl From<AgencyRow> for Agency {
    fn from(row: AgencyRow) -> Self {
        Agency {
            kind: Kind::parse(&row.kind).unwrap_or(Kind::Other),
            id: row.id,
            acronym: row.acronym,
            name: row.name,
            working_group: row.working_group,
            website: row.website,
            joined_on: row.joined_on,
            active: row.active,
            created_at: icat_common::utc(row.created_at),
            updated_at: icat_common::utc(row.updated_at),
            version: row.version,
        }
    }
}

/// An agency by id or by acronym (any case).
pub fn find(conn: &mut DbConn, id_or_acronym: &str) -> Result<Agency, ApiError> {
    agencies::table
        .filter(icat_store::agency_named(id_or_acronym))
        .select(AgencyRow::as_select())
        .first(conn)
        .optional()?
        .map(Agency::from)
        .ok_or_else(|| ApiError::not_found("no agency has this id or acronym"))
}

/// Filters of the agency list.
#[derive(Debug, Default)]
pub struct Filter {
    pub working_group: Option<bool>,
    pub active: Option<bool>,
    pub kind: Option<Kind>,
    /// Part of the acronym or name.
    pub q: Option<String>,
}

pub fn list(
    conn: &mut DbConn,
    filter: &Filter,
    page: PageParams,
) -> Result<Page<Agency>, ApiError> {
    let query = || {
        let mut q = agencies::table.into_boxed();
        if let Some(wg) = filter.working_group {
            q = q.filter(agencies::working_group.eq(wg));
        }
        if let Some(active) = filter.active {
            q = q.filter(agencies::active.eq(active));
        }
        if let Some(kind) = filter.kind {
            q = q.filter(agencies::kind.eq(kind.as_str()));
        }
        if let Some(text) = &filter.q {
            let pattern = icat_store::contains_pattern(text);
            q = q.filter(
                lower(agencies::acronym)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(agencies::name).like(pattern).escape('\\')),
            );
        }
        q
    };
    let rows: Vec<AgencyRow> = query()
        .order((lower(agencies::acronym).asc(), agencies::id.asc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(AgencyRow::as_select())
        .load(conn)?;
    let total = page.total(rows.len(), || query().count().get_result(conn))?;
    Ok(Page::new(
        rows.into_iter().map(Agency::from).collect(),
        total,
        page,
    ))
}

/// A validated new member.
#[derive(Debug, Clone)]
pub struct NewAgency {
    pub acronym: String,
    pub name: String,
    pub kind: Kind,
    pub working_group: bool,
    pub website: Option<String>,
    pub joined_on: Option<NaiveDate>,
}

fn acronym_taken(conn: &mut DbConn, acronym: &str, except: Option<&str>) -> QueryResult<bool> {
    let same = agencies::table
        .filter(lower(agencies::acronym).eq(acronym.to_lowercase()))
        .filter(agencies::id.ne(except.unwrap_or_default()));
    diesel::select(diesel::dsl::exists(same)).get_result(conn)
}

fn conflict_acronym() -> ApiError {
    ApiError::conflict("another agency has this acronym (acronyms are unique, whatever their case)")
}

/// Adds a member; acronyms are unique case-insensitively (409).
pub fn create(conn: &mut DbConn, actor: &Actor, new: NewAgency) -> Result<Agency, ApiError> {
    icat_store::write(conn, |conn| {
        if acronym_taken(conn, &new.acronym, None)? {
            return Err(conflict_acronym());
        }
        let now = icat_common::now();
        let id = icat_common::new_id();
        diesel::insert_into(agencies::table)
            .values((
                agencies::id.eq(&id),
                agencies::acronym.eq(&new.acronym),
                agencies::name.eq(&new.name),
                agencies::kind.eq(new.kind.as_str()),
                agencies::working_group.eq(new.working_group),
                agencies::website.eq(new.website.as_deref()),
                agencies::joined_on.eq(new.joined_on),
                agencies::active.eq(true),
                agencies::version.eq(1),
                agencies::created_at.eq(now),
                agencies::updated_at.eq(now),
            ))
            .execute(conn)?;
        let agency = find(conn, &id)?;
        icat_audit::record(
            conn,
            actor,
            &NewEvent::success("create", "agency", &id)
                .with_changes(icat_common::to_json_value(&agency)?),
        )?;
        Ok(agency)
    })
}

/// A change to a member; `None` leaves a field as it is, `Some(None)` clears a nullable one.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = agencies)]
pub struct AgencyPatch {
    pub acronym: Option<String>,
    pub name: Option<String>,
    pub kind: Option<&'static str>,
    pub working_group: Option<bool>,
    pub website: Option<Option<String>>,
    pub joined_on: Option<Option<NaiveDate>>,
    pub active: Option<bool>,
}

/// Changes a member if it is still at the version the client read (412 otherwise).
pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    check_version: impl FnOnce(i32) -> Result<i32, ApiError>,
    patch: AgencyPatch,
) -> Result<Agency, ApiError> {
    icat_store::write(conn, |conn| {
        let before = agencies::table
            .find(id)
            .select(AgencyRow::as_select())
            .first(conn)
            .optional()?
            .map(Agency::from)
            .ok_or_else(|| ApiError::not_found("no agency has this id"))?;
        let expected = check_version(before.version)?;
        if let Some(acronym) = &patch.acronym
            && acronym_taken(conn, acronym, Some(id))?
        {
            return Err(conflict_acronym());
        }
        let updated = diesel::update(
            agencies::table
                .filter(agencies::id.eq(id))
                .filter(agencies::version.eq(expected)),
        )
        .set((
            &patch,
            agencies::updated_at.eq(icat_common::now()),
            agencies::version.eq(agencies::version + 1),
        ))
        .execute(conn)?;
        if updated == 0 {
            return Err(ApiError::precondition_failed());
        }
        let after = find(conn, id)?;
        let changes = icat_audit::diff(
            &icat_common::to_json_value(&before)?,
            &icat_common::to_json_value(&after)?,
        );
        icat_audit::record(
            conn,
            actor,
            &NewEvent::success("update", "agency", id).with_changes(changes),
        )?;
        Ok(after)
    })
}

/// The ICAT members confirmed by public sources (see `data/icat-members.csv`).
const MEMBERS_CSV: &str = include_str!("../data/icat-members.csv");

#[derive(serde::Deserialize)]
struct MemberRecord {
    acronym: String,
    name: String,
    kind: String,
    working_group: bool,
}

/// The seed members, parsed from the embedded CSV.
pub fn seed_members() -> Result<Vec<NewAgency>, ApiError> {
    csv::Reader::from_reader(MEMBERS_CSV.as_bytes())
        .deserialize::<MemberRecord>()
        .map(|record| {
            let r = record.map_err(ApiError::internal)?;
            Ok(NewAgency {
                kind: Kind::parse(&r.kind).map_err(ApiError::internal)?,
                acronym: r.acronym,
                name: r.name,
                working_group: r.working_group,
                website: None,
                joined_on: None,
            })
        })
        .collect()
}

/// Seeds the registry on first start: only while it is empty, so the secretariat's later edits are
/// never undone. Returns how many members were added.
pub fn seed_if_empty(conn: &mut DbConn) -> Result<usize, ApiError> {
    icat_store::write(conn, |conn| {
        // Servers starting together on one new PostgreSQL database: the second waits for the
        // first's members and then finds the registry seeded.
        icat_store::take_turn(conn, 0x1CA7_5EED)?;
        let existing: i64 = agencies::table.count().get_result(conn)?;
        if existing > 0 {
            return Ok(0);
        }
        let members = seed_members()?;
        let actor = Actor::default();
        for member in &members {
            create(conn, &actor, member.clone())?;
        }
        Ok(members.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_data_parses() {
        let members = seed_members().unwrap_or_default();
        assert!(members.len() >= 13);
        assert!(
            members
                .iter()
                .any(|m| m.acronym == "UNODC" && m.working_group)
        );
        assert!(
            members
                .iter()
                .any(|m| m.acronym == "INTERPOL" && m.kind == Kind::Intergovernmental)
        );
    }
}
