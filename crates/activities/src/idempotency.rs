//! `Idempotency-Key` for recording: the same key with the same body replays the first response;
//! with another body it is refused (422). Keys are per user and kept at least 24 hours.

use diesel::prelude::*;
use icat_common::ApiError;
use icat_store::DbConn;
use icat_store::schema::idempotency_keys;
use sha2::{Digest, Sha256};

/// Keys older than this are forgotten.
const KEEP_HOURS: i64 = 48;

/// A key as a client may send it: 1 to 255 visible ASCII characters.
pub fn parse_key(raw: &str) -> Result<String, ApiError> {
    if raw.is_empty() || raw.len() > 255 || !raw.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(raw.to_owned())
}

/// The fingerprint of a request's meaning (agency and validated fields).
pub fn fingerprint(request: &str) -> String {
    Sha256::digest(request.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The stored answer to an earlier request with this key, if the body is the same (422 if not).
pub fn replay(
    conn: &mut DbConn,
    user_id: &str,
    key: &str,
    hash: &str,
) -> Result<Option<(u16, String)>, ApiError> {
    let stored: Option<(String, i32, String)> = idempotency_keys::table
        .find((user_id, key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status,
            idempotency_keys::response,
        ))
        .first(conn)
        .optional()?;
    match stored {
        Some((stored_hash, status, response)) if stored_hash == hash => {
            Ok(Some((u16::try_from(status).unwrap_or(200), response)))
        }
        Some(_) => Err(ApiError::invalid_field(
            "Idempotency-Key",
            "was used with a different request body",
        )),
        None => Ok(None),
    }
}

/// Remembers the answer to a keyed request, in the transaction that made it.
pub fn remember(
    conn: &mut DbConn,
    user_id: &str,
    key: &str,
    hash: &str,
    status: u16,
    response: &str,
) -> QueryResult<()> {
    let now = icat_common::now();
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::created_at.lt(now - chrono::Duration::hours(KEEP_HOURS))),
    )
    .execute(conn)?;
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(user_id),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(hash),
            idempotency_keys::status.eq(i32::from(status)),
            idempotency_keys::response.eq(response),
            idempotency_keys::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}
