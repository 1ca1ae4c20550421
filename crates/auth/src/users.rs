//! User accounts: rows, the API shape (never with the password hash) and the queries on them.

use crate::sessions;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use icat_audit::{Actor, NewEvent};
use icat_common::{ApiError, Page, PageParams};
use icat_store::schema::{agencies, users};
use icat_store::{DbConn, lower};
use serde::{Deserialize, Serialize};

/// What a user may do; the route-by-route matrix is `tests/tests/api/matrix.rs` (docs/SECURITY.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The ICAT secretariat: everything.
    Admin,
    /// Writes its own agency's records.
    Editor,
    /// Reads, writes nothing.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Editor, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }

    /// The role of a stored row; an unknown value (impossible under the CHECK constraint) grants
    /// nothing.
    pub fn from_db(value: &str) -> Role {
        match value {
            "admin" => Role::Admin,
            "editor" => Role::Editor,
            _ => Role::Viewer,
        }
    }
}

/// A row of `users`, hash included: it never leaves this crate's functions as a response.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub agency_id: Option<String>,
    pub password_hash: String,
    pub active: bool,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub must_change_password: bool,
}

/// A user account as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub agency_id: Option<String>,
    pub active: bool,
    /// True until the owner of an account the secretariat created chooses their own password
    /// (`POST /api/v1/auth/password`); meanwhile every other request but `GET /api/v1/auth/me`
    /// and sign-out is refused with 403 `password_change_required`.
    pub must_change_password: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// For optimistic concurrency: send it back as `If-Match: "<version>"` when you change the user.
    pub version: i32,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            role: Role::from_db(&row.role),
            id: row.id,
            email: row.email,
            name: row.name,
            agency_id: row.agency_id,
            active: row.active,
            must_change_password: row.must_change_password,
            created_at: icat_common::utc(row.created_at),
            updated_at: icat_common::utc(row.updated_at),
            version: row.version,
        }
    }
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<UserRow, ApiError> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("no such user"))
}

/// Whether an agency exists; users of agencies are checked against the registry.
fn agency_exists(conn: &mut DbConn, agency_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(agencies::table.find(agency_id))).get_result(conn)
}

/// Filters of the user list.
#[derive(Debug, Default)]
pub struct Filter {
    pub role: Option<Role>,
    pub agency_id: Option<String>,
    pub active: Option<bool>,
    /// Part of the name or e-mail address.
    pub q: Option<String>,
}

pub fn list(conn: &mut DbConn, filter: &Filter, page: PageParams) -> Result<Page<User>, ApiError> {
    let query = || {
        let mut q = users::table.into_boxed();
        if let Some(role) = filter.role {
            q = q.filter(users::role.eq(role.as_str()));
        }
        if let Some(agency) = &filter.agency_id {
            q = q.filter(users::agency_id.eq(agency.clone()));
        }
        if let Some(active) = filter.active {
            q = q.filter(users::active.eq(active));
        }
        if let Some(text) = &filter.q {
            let pattern = icat_store::contains_pattern(text);
            q = q.filter(
                users::email
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(users::name).like(pattern).escape('\\')),
            );
        }
        q
    };
    let rows: Vec<UserRow> = query()
        .order((users::email.asc(), users::id.asc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(UserRow::as_select())
        .load(conn)?;
    let total = page.total(rows.len(), || query().count().get_result(conn))?;
    Ok(Page::new(
        rows.into_iter().map(User::from).collect(),
        total,
        page,
    ))
}

/// A validated new account.
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub agency_id: Option<String>,
    pub password_hash: String,
    /// Whether the owner must choose their own password first: true for every account the
    /// secretariat creates with a password it chose, false for the first admin (whose operator
    /// chose it).
    pub must_change_password: bool,
}

/// Creates an account; the e-mail address must be new (409) and editors and viewers need an agency
/// that exists (422).
pub fn create(conn: &mut DbConn, actor: &Actor, new: NewUser) -> Result<User, ApiError> {
    icat_store::write(conn, |conn| {
        check_agency(conn, new.role, new.agency_id.as_deref())?;
        if find_by_email(conn, &new.email)?.is_some() {
            return Err(ApiError::conflict("a user with this e-mail address exists"));
        }
        let now = icat_common::now();
        let id = icat_common::new_id();
        diesel::insert_into(users::table)
            .values((
                users::id.eq(&id),
                users::email.eq(&new.email),
                users::name.eq(&new.name),
                users::role.eq(new.role.as_str()),
                users::agency_id.eq(new.agency_id.as_deref()),
                users::password_hash.eq(&new.password_hash),
                users::active.eq(true),
                users::must_change_password.eq(new.must_change_password),
                users::version.eq(1),
                users::created_at.eq(now),
                users::updated_at.eq(now),
            ))
            .execute(conn)?;
        let user = User::from(get(conn, &id)?);
        icat_audit::record(
            conn,
            actor,
            &NewEvent::success("create", "user", &id)
                .with_changes(icat_common::to_json_value(&user)?),
        )?;
        Ok(user)
    })
}

fn check_agency(conn: &mut DbConn, role: Role, agency_id: Option<&str>) -> Result<(), ApiError> {
    match agency_id {
        None if role != Role::Admin => Err(ApiError::invalid_field(
            "agency_id",
            icat_common::Rule::new("required", "editors and viewers must belong to an agency"),
        )),
        Some(agency) if !agency_exists(conn, agency)? => Err(ApiError::invalid_field(
            "agency_id",
            icat_common::Rule::new("not_found", "no agency has this id"),
        )),
        _ => Ok(()),
    }
}

/// A change to an account; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub agency_id: Option<Option<String>>,
    pub active: Option<bool>,
}

#[derive(AsChangeset)]
#[diesel(table_name = users)]
struct UserChanges<'a> {
    name: Option<&'a str>,
    role: Option<&'static str>,
    agency_id: Option<Option<&'a str>>,
    active: Option<bool>,
    updated_at: NaiveDateTime,
}

/// Changes an account if it is still at `expected_version` (412 otherwise). A change of role, agency
/// or active flag ends the user's sessions, so it takes effect on the next request.
pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    check_version: impl FnOnce(i32) -> Result<i32, ApiError>,
    patch: UserPatch,
) -> Result<User, ApiError> {
    icat_store::write(conn, |conn| {
        let before = get(conn, id)?;
        let expected = check_version(before.version)?;
        let role = patch.role.unwrap_or(Role::from_db(&before.role));
        let agency = match &patch.agency_id {
            Some(a) => a.as_deref(),
            None => before.agency_id.as_deref(),
        };
        check_agency(conn, role, agency)?;
        let active = patch.active.unwrap_or(before.active);
        if before.role == "admin" && before.active && (role != Role::Admin || !active) {
            lock_admins(conn)?;
            let other_admins: i64 = users::table
                .filter(users::role.eq("admin"))
                .filter(users::active.eq(true))
                .filter(users::id.ne(id))
                .count()
                .get_result(conn)?;
            if other_admins == 0 {
                return Err(ApiError::conflict(
                    "the last active admin cannot be demoted or deactivated",
                ));
            }
        }
        let changes = UserChanges {
            name: patch.name.as_deref(),
            role: patch.role.map(Role::as_str),
            agency_id: patch.agency_id.as_ref().map(|a| a.as_deref()),
            active: patch.active,
            updated_at: icat_common::now(),
        };
        let updated = diesel::update(
            users::table
                .filter(users::id.eq(id))
                .filter(users::version.eq(expected)),
        )
        .set((changes, users::version.eq(users::version + 1)))
        .execute(conn)?;
        if updated == 0 {
            return Err(ApiError::precondition_failed());
        }
        let after = get(conn, id)?;
        if after.role != before.role
            || after.agency_id != before.agency_id
            || after.active != before.active
        {
            sessions::revoke_all(conn, id, None)?;
        }
        let (before, after) = (User::from(before), User::from(after));
        let changes = icat_audit::diff(
            &icat_common::to_json_value(&before)?,
            &icat_common::to_json_value(&after)?,
        );
        icat_audit::record(
            conn,
            actor,
            &NewEvent::success("update", "user", id).with_changes(changes),
        )?;
        Ok(after)
    })
}

/// Stores a new password hash and ends every other session of the user.
pub fn set_password(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    password_hash: &str,
    keep_session: Option<&str>,
) -> Result<(), ApiError> {
    store_password(
        conn,
        actor,
        id,
        password_hash,
        keep_session,
        "change_password",
    )
}

/// [`set_password`], audited as `action` (a change, or a reset by link). Either way the owner
/// chose the password, so the account no longer has to change it.
pub(crate) fn store_password(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    password_hash: &str,
    keep_session: Option<&str>,
    action: &str,
) -> Result<(), ApiError> {
    icat_store::write(conn, |conn| {
        diesel::update(users::table.find(id))
            .set((
                users::password_hash.eq(password_hash),
                users::must_change_password.eq(false),
                users::updated_at.eq(icat_common::now()),
            ))
            .execute(conn)?;
        sessions::revoke_all(conn, id, keep_session)?;
        icat_audit::record(conn, actor, &NewEvent::success(action, "user", id))?;
        Ok(())
    })
}

/// Makes the changes that can take away an admin wait for one another. Two admins deactivating
/// each other at once both counted the other as still active under PostgreSQL's read committed
/// isolation, and the workspace was left with none; after this lock the second counts what the
/// first committed. SQLite's writers already take turns (`BEGIN IMMEDIATE`).
fn lock_admins(conn: &mut DbConn) -> QueryResult<()> {
    /// Any fixed key: the one advisory lock this crate takes.
    const ADMINS: i64 = 0x1CA7_AD01;
    if let DbConn::Pg(_) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({ADMINS})")).execute(conn)?;
    }
    Ok(())
}

/// Whether any active admin exists (the server creates the first one when none does).
pub fn has_active_admin(conn: &mut DbConn) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table
            .filter(users::role.eq("admin"))
            .filter(users::active.eq(true)),
    ))
    .get_result(conn)
}
