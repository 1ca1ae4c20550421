//! Per-account sign-in throttling, kept in the database so that several servers behind one load
//! balancer share it. Keyed by the e-mail address typed, known or not, so the answers do not tell
//! which accounts exist.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use icat_common::ApiError;
use icat_store::DbConn;
use icat_store::schema::login_throttle;

/// Failures allowed before the account is locked for a while.
pub const FREE_FAILURES: i32 = 5;
/// Failures further apart than this start the count again.
const WINDOW_MINUTES: i64 = 15;
const BASE_LOCK_SECS: i64 = 30;
const MAX_LOCK_SECS: i64 = 15 * 60;

/// 429 with the seconds to wait while the account is locked.
pub fn check(conn: &mut DbConn, email: &str) -> Result<(), ApiError> {
    let locked_until: Option<Option<NaiveDateTime>> = login_throttle::table
        .find(email)
        .select(login_throttle::locked_until)
        .first(conn)
        .optional()?;
    let now = icat_common::now();
    match locked_until.flatten() {
        Some(until) if until > now => {
            let secs = (until - now).num_seconds() + 1;
            Err(ApiError::rate_limited(u64::try_from(secs).unwrap_or(1)))
        }
        _ => Ok(()),
    }
}

/// Counts a failure; the fifth in a row and each after it lock the account, each time for twice as
/// long as before (30 s, 60 s, ... up to 15 minutes).
pub fn fail(conn: &mut DbConn, email: &str) -> Result<(), ApiError> {
    icat_store::write(conn, |conn| {
        let now = icat_common::now();
        let previous: Option<(i32, NaiveDateTime)> = login_throttle::table
            .find(email)
            .select((login_throttle::failures, login_throttle::last_failure_at))
            .first(conn)
            .optional()?;
        let failures = match previous {
            Some((n, last)) if now - last < Duration::minutes(WINDOW_MINUTES) => n + 1,
            _ => 1,
        };
        let locked_until = (failures >= FREE_FAILURES).then(|| {
            let doublings = u32::try_from(failures - FREE_FAILURES).unwrap_or(0).min(10);
            now + Duration::seconds((BASE_LOCK_SECS << doublings).min(MAX_LOCK_SECS))
        });
        let values = (
            login_throttle::failures.eq(failures),
            login_throttle::last_failure_at.eq(now),
            login_throttle::locked_until.eq(locked_until),
        );
        if previous.is_some() {
            diesel::update(login_throttle::table.find(email))
                .set(values)
                .execute(conn)?;
        } else {
            diesel::insert_into(login_throttle::table)
                .values((login_throttle::email.eq(email), values))
                .execute(conn)?;
        }
        // Forget stale entries, so typed-in addresses do not pile up.
        diesel::delete(
            login_throttle::table
                .filter(login_throttle::last_failure_at.lt(now - Duration::days(1))),
        )
        .execute(conn)?;
        Ok(())
    })
}

/// A successful sign-in clears the count.
pub fn clear(conn: &mut DbConn, email: &str) -> QueryResult<()> {
    diesel::delete(login_throttle::table.find(email))
        .execute(conn)
        .map(drop)
}
