//! `Idempotency-Key` for recording: the same key with the same body replays the first response;
//! with another body it is refused (422). Keys are per user and kept at least 24 hours.

use crate::model::Data;
use actix_web::http::StatusCode;
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

/// The fingerprint of a request's meaning: the SHA-256, in hex, of the agency's id, a `|`, and the
/// validated fields as compact JSON with its keys in alphabetical order (serde_json's map keeps
/// them sorted), so that the fingerprint does not depend on how `Data` is laid out in the code.
/// Adding, renaming or retyping a field changes every fingerprint, and with it the answer to the
/// replay of a key stored before (422): the test below pins the format, so that such a change is
/// made knowingly.
pub fn fingerprint(agency_id: &str, data: &Data) -> Result<String, ApiError> {
    let canonical = serde_json::to_value(data).map_err(ApiError::internal)?;
    Ok(
        Sha256::digest(format!("{agency_id}|{canonical}").as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

/// The stored answer to an earlier request with this key, if the body is the same (422 if not).
pub fn replay(
    conn: &mut DbConn,
    user_id: &str,
    key: &str,
    hash: &str,
) -> Result<Option<(StatusCode, String)>, ApiError> {
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
            let status = u16::try_from(status)
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .ok_or_else(|| ApiError::internal(format!("stored status {status} is not one")))?;
            Ok(Some((status, response)))
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
    status: StatusCode,
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
            idempotency_keys::status.eq(i32::from(status.as_u16())),
            idempotency_keys::response.eq(response),
            idempotency_keys::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fingerprint's format, pinned: if this changes, keys stored by the previous version
    /// answer 422 to their replays for up to 48 hours after an upgrade.
    #[test]
    fn the_fingerprint_is_canonical_and_pinned() {
        let date = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let (Some(start), Some(end)) = (date("2026-03-01"), date("2026-12-31")) else {
            panic!("dates")
        };
        let data = Data {
            title: "Training of judges".into(),
            description: "Five workshops".into(),
            countries: vec!["NG".into(), "GH".into()],
            themes: vec!["prosecution".into()],
            sdg_targets: vec!["16.2".into()],
            target_groups: vec![],
            partners: vec!["ECOWAS".into()],
            start_date: start,
            end_date: end,
            status: "planned".into(),
            budget_usd: Some(250_000),
        };
        let canonical = serde_json::to_value(&data)
            .map(|v| v.to_string())
            .unwrap_or_default();
        assert_eq!(
            canonical,
            r#"{"budget_usd":250000,"countries":["NG","GH"],"description":"Five workshops","end_date":"2026-12-31","partners":["ECOWAS"],"sdg_targets":["16.2"],"start_date":"2026-03-01","status":"planned","target_groups":[],"themes":["prosecution"],"title":"Training of judges"}"#
        );
        let hash = fingerprint("agency-1", &data).unwrap_or_default();
        assert_eq!(hash, PINNED);
        let mut other = data.clone();
        other.budget_usd = None;
        assert_ne!(fingerprint("agency-1", &other).unwrap_or_default(), hash);
        assert_ne!(fingerprint("agency-2", &data).unwrap_or_default(), hash);
    }

    const PINNED: &str = "9835d0f8d1bfd33ede6eaf7c1a20aacb03d8cff6a2994ab022cc47c38ec12e33";
}
