//! Forgotten passwords: single-use reset tokens valid 30 minutes. Only a token's SHA-256 digest is
//! stored; using one sets the new password, ends every session of the account and is audited.
//! How the token reaches its owner (e-mail, or an admin handing the link over) is the caller's.

use crate::token::{digest, random_token};
use crate::users::{self, UserRow};
use diesel::prelude::*;
use icat_audit::Actor;
use icat_common::{ApiError, Rule, now};
use icat_store::DbConn;
use icat_store::schema::password_resets;

/// How long a reset link works.
pub const VALID_MINUTES: i64 = 30;

/// A new reset token for an account; earlier unused ones of the account stop working.
/// `created_by` is the admin who asked for it, None when the owner asked by e-mail.
pub fn issue(
    conn: &mut DbConn,
    user_id: &str,
    created_by: Option<&str>,
) -> QueryResult<(String, chrono::NaiveDateTime)> {
    let token = random_token();
    let at = now();
    let expires = at + chrono::Duration::minutes(VALID_MINUTES);
    diesel::update(
        password_resets::table
            .filter(password_resets::user_id.eq(user_id))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(at))
    .execute(conn)?;
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::token_hash.eq(digest(&token)),
            password_resets::user_id.eq(user_id),
            password_resets::created_at.eq(at),
            password_resets::expires_at.eq(expires),
            password_resets::created_by.eq(created_by),
        ))
        .execute(conn)?;
    Ok((token, expires))
}

/// The account a token resets, if the token is unused and unexpired (read only: see [`complete`]).
pub fn holder(conn: &mut DbConn, token: &str) -> Result<UserRow, ApiError> {
    let user_id: Option<String> = password_resets::table
        .find(digest(token))
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.gt(now()))
        .select(password_resets::user_id)
        .first(conn)
        .optional()?;
    let invalid = || {
        ApiError::invalid_field(
            "token",
            Rule::new(
                "invalid_link",
                "the link is not valid, was used already or has expired",
            ),
        )
    };
    let user = users::get(conn, &user_id.ok_or_else(invalid)?).map_err(|_| invalid())?;
    if !user.active {
        return Err(invalid());
    }
    Ok(user)
}

/// Uses a token: the account gets `password_hash`, every session of it ends, the token is spent.
/// Two uses at once: the second finds the token spent.
pub fn complete(
    conn: &mut DbConn,
    token: &str,
    password_hash: &str,
    request_id: Option<String>,
) -> Result<(), ApiError> {
    icat_store::write(conn, |conn| {
        let user = holder(conn, token)?;
        let spent = diesel::update(
            password_resets::table
                .find(digest(token))
                .filter(password_resets::used_at.is_null()),
        )
        .set(password_resets::used_at.eq(now()))
        .execute(conn)?;
        if spent != 1 {
            return Err(ApiError::invalid_field(
                "token",
                Rule::new("invalid_link", "the link was used already"),
            ));
        }
        let actor = Actor {
            user_id: Some(user.id.clone()),
            email: Some(user.email.clone()),
            request_id,
        };
        users::store_password(
            conn,
            &actor,
            &user.id,
            password_hash,
            None,
            "reset_password",
        )
    })
}
