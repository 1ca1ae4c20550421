//! Refresh sessions: a sign-in opens one; its refresh tokens rotate on every use, and a used token
//! presented again is taken as theft and revokes the whole session.

use crate::token;
use crate::users::UserRow;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use icat_common::ApiError;
use icat_store::DbConn;
use icat_store::schema::{refresh_tokens, sessions, users};

/// A session lasts 30 days from sign-in, however often it is refreshed.
const SESSION_DAYS: i64 = 30;

/// Opens a session for a user and returns its id and first refresh token.
pub fn open(conn: &mut DbConn, user_id: &str) -> QueryResult<(String, String)> {
    let now = icat_common::now();
    let session_id = icat_common::new_id();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(&session_id),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(now + Duration::days(SESSION_DAYS)),
        ))
        .execute(conn)?;
    let refresh = new_refresh_token(conn, &session_id, now)?;
    Ok((session_id, refresh))
}

fn new_refresh_token(
    conn: &mut DbConn,
    session_id: &str,
    now: NaiveDateTime,
) -> QueryResult<String> {
    let token = token::random_token();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(token::digest(&token)),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

/// What a refresh attempt found.
pub enum Rotation {
    /// A new refresh token for the session, and the session's user.
    Rotated {
        user: UserRow,
        session_id: String,
        refresh_token: String,
    },
    /// The token had been used already: the session is now revoked.
    Reused { user_id: String, session_id: String },
    /// Unknown token, or a session that has ended.
    Invalid,
}

/// Exchanges a refresh token for a new one. Only one of two concurrent uses of one token can win:
/// the token is marked used by a conditional update.
pub fn rotate(conn: &mut DbConn, presented: &str) -> Result<Rotation, ApiError> {
    icat_store::write(conn, |conn| {
        let now = icat_common::now();
        let digest = token::digest(presented);
        let Some(session_id) = refresh_tokens::table
            .find(&digest)
            .select(refresh_tokens::session_id)
            .first::<String>(conn)
            .optional()?
        else {
            return Ok(Rotation::Invalid);
        };
        let marked = diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(&digest))
                .filter(refresh_tokens::used_at.is_null()),
        )
        .set(refresh_tokens::used_at.eq(now))
        .execute(conn)?;
        let Some((user, revoked_at, expires_at)) = sessions::table
            .inner_join(users::table)
            .filter(sessions::id.eq(&session_id))
            .select((
                UserRow::as_select(),
                sessions::revoked_at,
                sessions::expires_at,
            ))
            .first::<(UserRow, Option<NaiveDateTime>, NaiveDateTime)>(conn)
            .optional()?
        else {
            return Ok(Rotation::Invalid);
        };
        if marked == 0 {
            revoke(conn, &session_id)?;
            return Ok(Rotation::Reused {
                user_id: user.id,
                session_id,
            });
        }
        if revoked_at.is_some() || expires_at <= now || !user.active {
            return Ok(Rotation::Invalid);
        }
        let refresh_token = new_refresh_token(conn, &session_id, now)?;
        Ok(Rotation::Rotated {
            user,
            session_id,
            refresh_token,
        })
    })
}

/// Ends one session; its access and refresh tokens stop working on their next use.
pub fn revoke(conn: &mut DbConn, session_id: &str) -> QueryResult<()> {
    diesel::update(
        sessions::table
            .filter(sessions::id.eq(session_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(icat_common::now()))
    .execute(conn)
    .map(drop)
}

/// Ends every session of a user, but `keep` (the session that changed the password).
pub fn revoke_all(conn: &mut DbConn, user_id: &str, keep: Option<&str>) -> QueryResult<()> {
    let now = icat_common::now();
    let targets = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null());
    match keep {
        Some(keep) => diesel::update(targets.filter(sessions::id.ne(keep)))
            .set(sessions::revoked_at.eq(now))
            .execute(conn),
        None => diesel::update(targets)
            .set(sessions::revoked_at.eq(now))
            .execute(conn),
    }
    .map(drop)
}

/// The user behind an access token, if its session is still open and the user still active. This
/// runs on every authenticated request, so revocations and role changes act at once.
pub fn principal(
    conn: &mut DbConn,
    session_id: &str,
    user_id: &str,
) -> QueryResult<Option<UserRow>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(session_id))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(icat_common::now()))
        .filter(users::active.eq(true))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}
