//! Writing notices, always inside the transaction of the change that caused them: a match found
//! when an activity is recorded, edited or imported ([`matched`]), a review ([`reviewed`]), a
//! reminder from the secretariat ([`remind`]).
//!
//! Who hears: the other agency's active editors and its current focal points (primary and
//! alternates). A focal point with an account gets the notice in the inbox and by e-mail as that
//! account chose; one without an account gets the e-mail. Overlaps reach only the accounts that
//! asked for them.

use crate::{EmailMode, LANGUAGES, language, mail_is_on};
use diesel::prelude::*;
use icat_common::{new_id, now, to_json};
use icat_store::DbConn;
use icat_store::schema::{
    activities, agencies, focal_points, mail_outbox, mail_unsubscribes, notice_settings, notices,
    pair_notices, pair_reviews, users,
};
use serde_json::{Value, json};
use std::collections::HashMap;

/// One pair an activity was just found in.
pub struct Found<'a> {
    /// The other agency's activity.
    pub other: &'a str,
    pub other_agency: &'a str,
    /// `duplicate`, `possible` or `overlap`.
    pub level: &'a str,
}

/// How strong a level is; a pair notifies again only when an edit makes it stronger.
fn strength(level: &str) -> u8 {
    match level {
        "duplicate" => 3,
        "possible" => 2,
        "overlap" => 1,
        _ => 0,
    }
}

/// Someone who hears of an agency's notices.
#[derive(Clone)]
struct Recipient {
    /// None for a focal point without an account: e-mail only.
    user_id: Option<String>,
    email: String,
    language: &'static str,
    mode: EmailMode,
    overlaps: bool,
}

type UserRow = (String, String, Option<String>, Option<bool>, Option<String>);

/// The people who hear of `agency`'s notices: its active editors and current focal points.
fn recipients(conn: &mut DbConn, agency: &str) -> QueryResult<Vec<Recipient>> {
    let points: Vec<(String, String)> = focal_points::table
        .filter(focal_points::agency_id.eq(agency))
        .filter(focal_points::valid_until.is_null())
        .select((focal_points::email, focal_points::languages))
        .load(conn)?;
    let point_emails: Vec<&str> = points.iter().map(|(e, _)| e.as_str()).collect();
    let accounts: Vec<UserRow> = users::table
        .left_join(notice_settings::table)
        .filter(users::active.eq(true))
        .filter(
            users::agency_id
                .eq(agency)
                .and(users::role.eq("editor"))
                .or(users::email.eq_any(&point_emails)),
        )
        .select((
            users::id,
            users::email,
            notice_settings::email.nullable(),
            notice_settings::with_overlaps.nullable(),
            notice_settings::language.nullable(),
        ))
        .load(conn)?;
    let mut out: Vec<Recipient> = accounts
        .into_iter()
        .map(|(id, email, mode, overlaps, lang)| Recipient {
            user_id: Some(id),
            email,
            language: language(lang.as_deref().unwrap_or("en")),
            mode: mode
                .as_deref()
                .map_or(EmailMode::Immediate, EmailMode::parse),
            overlaps: overlaps.unwrap_or(false),
        })
        .collect();
    for (email, languages) in points {
        if out.iter().any(|r| r.email == email) {
            continue;
        }
        // A focal point's first language the workspace writes in; English otherwise.
        let spoken: Vec<String> = serde_json::from_str(&languages).unwrap_or_default();
        let lang = spoken
            .iter()
            .find_map(|l| LANGUAGES.into_iter().find(|x| x == l))
            .unwrap_or("en");
        out.push(Recipient {
            user_id: None,
            email,
            language: lang,
            mode: EmailMode::Immediate,
            overlaps: false,
        });
    }
    Ok(out)
}

/// What a notice says, for the inbox and the e-mail.
struct Notice<'a> {
    kind: &'a str,
    level: Option<&'a str>,
    activity_id: Option<&'a str>,
    other_id: Option<&'a str>,
    params: Value,
}

/// Writes `notice` for each recipient: into the inbox of those with an account, into the outbox for
/// those who get e-mail now (never to an address that unsubscribed). Returns how many notices.
fn deliver(conn: &mut DbConn, to: &[Recipient], notice: &Notice) -> QueryResult<usize> {
    let at = now();
    let params = to_json(&notice.params)?;
    let unsubscribed: Vec<String> = if mail_is_on() {
        let emails: Vec<&str> = to.iter().map(|r| r.email.as_str()).collect();
        mail_unsubscribes::table
            .filter(mail_unsubscribes::email.eq_any(emails))
            .select(mail_unsubscribes::email)
            .load(conn)?
    } else {
        Vec::new()
    };
    let mut written = 0;
    for r in to {
        let notice_id = match &r.user_id {
            Some(user_id) => {
                let id = new_id();
                diesel::insert_into(notices::table)
                    .values((
                        notices::id.eq(&id),
                        notices::user_id.eq(user_id),
                        notices::kind.eq(notice.kind),
                        notices::level.eq(notice.level),
                        notices::activity_id.eq(notice.activity_id),
                        notices::other_id.eq(notice.other_id),
                        notices::params.eq(&params),
                        notices::created_at.eq(at),
                    ))
                    .execute(conn)?;
                written += 1;
                Some(id)
            }
            None => None,
        };
        if mail_is_on() && r.mode == EmailMode::Immediate && !unsubscribed.contains(&r.email) {
            let mut message = notice.params.clone();
            message["kind"] = json!(notice.kind);
            message["level"] = json!(notice.level);
            message["activity_id"] = json!(notice.activity_id);
            message["other_id"] = json!(notice.other_id);
            enqueue(
                conn,
                notice_id.as_deref(),
                notice.kind,
                &r.email,
                r.language,
                &message,
            )?;
        }
    }
    metrics::counter!("icat_notices_total", "kind" => notice.kind.to_owned())
        .increment(written as u64);
    Ok(written)
}

/// Puts one e-mail in the outbox, due now (inside the caller's transaction).
pub fn enqueue(
    conn: &mut DbConn,
    notice_id: Option<&str>,
    kind: &str,
    recipient: &str,
    language: &str,
    params: &Value,
) -> QueryResult<()> {
    let at = now();
    diesel::insert_into(mail_outbox::table)
        .values((
            mail_outbox::id.eq(new_id()),
            mail_outbox::notice_id.eq(notice_id),
            mail_outbox::kind.eq(kind),
            mail_outbox::recipient.eq(recipient),
            mail_outbox::language.eq(language),
            mail_outbox::params.eq(to_json(params)?),
            mail_outbox::state.eq("queued"),
            mail_outbox::attempts.eq(0),
            mail_outbox::next_attempt_at.eq(at),
            mail_outbox::created_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// Titles and agency acronyms of live activities, by id.
fn describe(conn: &mut DbConn, ids: &[&str]) -> QueryResult<HashMap<String, (String, String)>> {
    let rows: Vec<(String, String, String)> = activities::table
        .inner_join(agencies::table)
        .filter(activities::id.eq_any(ids))
        .select((activities::id, activities::title, agencies::acronym))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, title, acronym)| (id, (title, acronym)))
        .collect())
}

fn ordered<'a>(x: &'a str, y: &'a str) -> (&'a str, &'a str) {
    if x < y { (x, y) } else { (y, x) }
}

/// Tells the agencies of the activities that `id` (of `agency`, just recorded, edited or imported)
/// matches. A pair notifies once, again only when its level rises; a reviewed pair never. Returns
/// how many notices were written.
pub fn matched(conn: &mut DbConn, id: &str, found: &[Found]) -> QueryResult<usize> {
    let mut wanted: Vec<&Found> = found.iter().filter(|f| strength(f.level) > 1).collect();
    if found.iter().any(|f| f.level == "overlap") {
        // Overlaps are many; only look for their recipients when someone asked for them.
        let anyone: Option<String> = notice_settings::table
            .filter(notice_settings::with_overlaps.eq(true))
            .select(notice_settings::user_id)
            .first(conn)
            .optional()?;
        if anyone.is_some() {
            wanted.extend(found.iter().filter(|f| f.level == "overlap"));
        }
    }
    if wanted.is_empty() {
        return Ok(0);
    }
    let others: Vec<&str> = wanted.iter().map(|f| f.other).collect();
    let pair_of = |other: &str| {
        let (a, b) = ordered(id, other);
        (a.to_owned(), b.to_owned())
    };
    let notified: HashMap<(String, String), String> = pair_notices::table
        .filter(
            pair_notices::a_id
                .eq(id)
                .and(pair_notices::b_id.eq_any(&others))
                .or(pair_notices::b_id
                    .eq(id)
                    .and(pair_notices::a_id.eq_any(&others))),
        )
        .select((pair_notices::a_id, pair_notices::b_id, pair_notices::level))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(a, b, level)| ((a, b), level))
        .collect();
    let reviewed: Vec<(String, String)> = pair_reviews::table
        .filter(
            pair_reviews::a_id
                .eq(id)
                .and(pair_reviews::b_id.eq_any(&others))
                .or(pair_reviews::b_id
                    .eq(id)
                    .and(pair_reviews::a_id.eq_any(&others))),
        )
        .select((pair_reviews::a_id, pair_reviews::b_id))
        .load(conn)?;
    wanted.retain(|f| {
        let pair = pair_of(f.other);
        !reviewed.contains(&pair)
            && notified
                .get(&pair)
                .is_none_or(|before| strength(f.level) > strength(before))
    });
    if wanted.is_empty() {
        return Ok(0);
    }
    let mut ids: Vec<&str> = wanted.iter().map(|f| f.other).collect();
    ids.push(id);
    let described = describe(conn, &ids)?;
    let Some((title, acronym)) = described.get(id) else {
        return Ok(0);
    };
    let mut audiences: HashMap<&str, Vec<Recipient>> = HashMap::new();
    let mut written = 0;
    let at = now();
    for f in wanted {
        let (a, b) = ordered(id, f.other);
        let upsert = diesel::insert_into(pair_notices::table)
            .values((
                pair_notices::a_id.eq(a),
                pair_notices::b_id.eq(b),
                pair_notices::level.eq(f.level),
                pair_notices::notified_at.eq(at),
            ))
            .on_conflict((pair_notices::a_id, pair_notices::b_id))
            .do_update()
            .set((
                pair_notices::level.eq(f.level),
                pair_notices::notified_at.eq(at),
            ));
        icat_store::execute_natively!(conn, upsert)?;
        let Some((other_title, _)) = described.get(f.other) else {
            continue;
        };
        if !audiences.contains_key(f.other_agency) {
            audiences.insert(f.other_agency, recipients(conn, f.other_agency)?);
        }
        let everyone = &audiences[f.other_agency];
        let to: Vec<Recipient> = everyone
            .iter()
            .filter(|r| f.level != "overlap" || r.overlaps)
            .cloned()
            .collect();
        written += deliver(
            conn,
            &to,
            &Notice {
                kind: "match",
                level: Some(f.level),
                activity_id: Some(f.other),
                other_id: Some(id),
                params: json!({
                    "title": other_title,
                    "other_title": title,
                    "other_agency": acronym,
                }),
            },
        )?;
    }
    Ok(written)
}

/// Tells the agency (or agencies) that did not review a pair what its review decided:
/// `reviewer_agency` is the reviewer's agency, None for the secretariat (both agencies hear).
pub fn reviewed(
    conn: &mut DbConn,
    (a, b): (&str, &str),
    reviewer_agency: Option<&str>,
    decision: &str,
    level: &str,
) -> QueryResult<usize> {
    let described = describe(conn, &[a, b])?;
    let agency_of: Vec<(String, String)> = activities::table
        .filter(activities::id.eq_any([a, b]))
        .select((activities::id, activities::agency_id))
        .load(conn)?;
    let mut written = 0;
    for (mine, theirs) in [(a, b), (b, a)] {
        let Some((_, agency)) = agency_of.iter().find(|(x, _)| x == mine) else {
            continue;
        };
        if reviewer_agency == Some(agency.as_str()) {
            continue;
        }
        let (Some((title, _)), Some((other_title, other_acronym))) =
            (described.get(mine), described.get(theirs))
        else {
            continue;
        };
        let to = recipients(conn, agency)?;
        written += deliver(
            conn,
            &to,
            &Notice {
                kind: "review",
                level: Some(level),
                activity_id: Some(mine),
                other_id: Some(theirs),
                params: json!({
                    "title": title,
                    "other_title": other_title,
                    "other_agency": other_acronym,
                    "decision": decision,
                    "by_secretariat": reviewer_agency.is_none(),
                }),
            },
        )?;
    }
    Ok(written)
}

/// Why an agency is reminded (the coverage and participation reports' findings).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No current primary focal point (paragraph 9).
    NoFocalPoint,
    /// The primary focal point has not been confirmed for 12 months.
    FocalPointUnconfirmed,
    /// No activity recorded in 12 months (paragraph 8).
    NoRecentActivity,
}

/// Reminds one agency, by its focal points or, where it has none, its editors. Returns the
/// addresses written to (in the inbox or the outbox).
pub fn remind(
    conn: &mut DbConn,
    agency: &str,
    reasons: &[Reason],
    note: Option<&str>,
) -> QueryResult<Vec<String>> {
    let everyone = recipients(conn, agency)?;
    let points: Vec<String> = focal_points::table
        .filter(focal_points::agency_id.eq(agency))
        .filter(focal_points::valid_until.is_null())
        .select(focal_points::email)
        .load(conn)?;
    let to: Vec<Recipient> = everyone
        .into_iter()
        .filter(|r| points.is_empty() || points.contains(&r.email))
        .collect();
    let acronym: String = agencies::table
        .find(agency)
        .select(agencies::acronym)
        .first(conn)?;
    // A reminder is e-mailed now whatever the account chose for match notices: the secretariat
    // sends few, and each asks for an action.
    let urgent: Vec<Recipient> = to
        .iter()
        .cloned()
        .map(|r| Recipient {
            mode: EmailMode::Immediate,
            ..r
        })
        .collect();
    deliver(
        conn,
        &urgent,
        &Notice {
            kind: "reminder",
            level: None,
            activity_id: None,
            other_id: None,
            params: json!({ "agency": acronym, "reasons": reasons, "note": note }),
        },
    )?;
    Ok(to.into_iter().map(|r| r.email).collect())
}
