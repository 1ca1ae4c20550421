//! The read side: a user's own notices, marking them read, the user's choices, and (for admins)
//! the state of every e-mail.

use crate::EmailMode;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use icat_common::{ApiError, PageParams, now, utc};
use icat_store::DbConn;
use icat_store::schema::{mail_outbox, notice_settings, notices};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One notice in the caller's inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct Notice {
    pub id: String,
    /// `match` (another agency's activity matches one of yours), `review` (a pair of yours was
    /// reviewed) or `reminder` (from the secretariat).
    pub kind: String,
    /// The pair's level: `duplicate`, `possible` or `overlap`.
    pub level: Option<String>,
    /// Your agency's activity.
    pub activity_id: Option<String>,
    /// The other agency's activity.
    pub other_id: Option<String>,
    /// What the wording needs: `title`, `other_title`, `other_agency`, and for a review its
    /// `decision`; for a reminder `agency`, `reasons` and `note`.
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub read_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A page of the caller's inbox, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Inbox {
    pub items: Vec<Notice>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    /// Unread notices, in the whole inbox.
    pub unread: i64,
}

type NoticeRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

/// The caller's notices (only unread ones when `unread_only`), newest first.
pub fn list(
    conn: &mut DbConn,
    user_id: &str,
    unread_only: bool,
    page: PageParams,
) -> Result<Inbox, ApiError> {
    let unread: i64 = notices::table
        .filter(notices::user_id.eq(user_id))
        .filter(notices::read_at.is_null())
        .count()
        .get_result(conn)?;
    let total: i64 = if unread_only {
        unread
    } else {
        notices::table
            .filter(notices::user_id.eq(user_id))
            .count()
            .get_result(conn)?
    };
    let mut query = notices::table
        .filter(notices::user_id.eq(user_id))
        .into_boxed();
    if unread_only {
        query = query.filter(notices::read_at.is_null());
    }
    let rows: Vec<NoticeRow> = query
        .order((notices::created_at.desc(), notices::id.desc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select((
            notices::id,
            notices::kind,
            notices::level,
            notices::activity_id,
            notices::other_id,
            notices::params,
            notices::created_at,
            notices::read_at,
        ))
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(
            |(id, kind, level, activity_id, other_id, params, created_at, read_at)| Notice {
                id,
                kind,
                level,
                activity_id,
                other_id,
                params: serde_json::from_str(&params).unwrap_or_default(),
                created_at: utc(created_at),
                read_at: read_at.map(utc),
            },
        )
        .collect();
    Ok(Inbox {
        items,
        total,
        page: page.page,
        per_page: page.per_page,
        unread,
    })
}

/// Marks one of the caller's notices read (a notice of anyone else is 404, as if it did not exist).
pub fn mark_read(conn: &mut DbConn, user_id: &str, id: &str) -> Result<(), ApiError> {
    icat_store::write(conn, |conn| {
        let mine: Option<Option<NaiveDateTime>> = notices::table
            .filter(notices::id.eq(id))
            .filter(notices::user_id.eq(user_id))
            .select(notices::read_at)
            .first(conn)
            .optional()?;
        match mine {
            None => Err(ApiError::not_found("you have no notice with this id")),
            Some(Some(_)) => Ok(()),
            Some(None) => {
                diesel::update(notices::table.find(id))
                    .set(notices::read_at.eq(now()))
                    .execute(conn)?;
                Ok(())
            }
        }
    })
}

/// Marks every notice of the caller read; returns how many were unread.
pub fn read_all(conn: &mut DbConn, user_id: &str) -> Result<usize, ApiError> {
    icat_store::write(conn, |conn| {
        Ok(diesel::update(
            notices::table
                .filter(notices::user_id.eq(user_id))
                .filter(notices::read_at.is_null()),
        )
        .set(notices::read_at.eq(now()))
        .execute(conn)?)
    })
}

/// How a user hears of notices.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `immediate` (an e-mail per notice), `daily` (a digest a day) or `none` (inbox only).
    pub email: EmailMode,
    /// Whether overlaps (the same theme in the same country and period) are notified too.
    pub overlaps: bool,
    /// The language of the e-mails: `en`, `fr` or `es`.
    #[schema(pattern = "^(en|fr|es)$")]
    pub language: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            email: EmailMode::Immediate,
            overlaps: false,
            language: "en".into(),
        }
    }
}

pub fn settings(conn: &mut DbConn, user_id: &str) -> Result<Settings, ApiError> {
    let row: Option<(String, bool, String)> = notice_settings::table
        .find(user_id)
        .select((
            notice_settings::email,
            notice_settings::with_overlaps,
            notice_settings::language,
        ))
        .first(conn)
        .optional()?;
    Ok(row
        .map(|(email, overlaps, language)| Settings {
            email: EmailMode::parse(&email),
            overlaps,
            language,
        })
        .unwrap_or_default())
}

pub fn save_settings(conn: &mut DbConn, user_id: &str, s: &Settings) -> Result<(), ApiError> {
    if !crate::LANGUAGES.contains(&s.language.as_str()) {
        return Err(ApiError::invalid_field(
            "language",
            icat_common::Rule::not_allowed(&s.language, &crate::LANGUAGES, "must be en, fr or es"),
        ));
    }
    let values = (
        notice_settings::email.eq(s.email.as_str()),
        notice_settings::with_overlaps.eq(s.overlaps),
        notice_settings::language.eq(&s.language),
        notice_settings::updated_at.eq(now()),
    );
    icat_store::write(conn, |conn| {
        // A daily digest counts its first day from the choice.
        let before: Option<String> = notice_settings::table
            .find(user_id)
            .select(notice_settings::email)
            .first(conn)
            .optional()?;
        if s.email == EmailMode::Daily && before.as_deref() != Some("daily") {
            let chosen = (notice_settings::user_id.eq(user_id), values);
            let upsert = diesel::insert_into(notice_settings::table)
                .values((chosen, notice_settings::last_digest_at.eq(now())))
                .on_conflict(notice_settings::user_id)
                .do_update()
                .set((values, notice_settings::last_digest_at.eq(now())));
            icat_store::execute_natively!(conn, upsert)?;
            return Ok(());
        }
        let upsert = diesel::insert_into(notice_settings::table)
            .values((notice_settings::user_id.eq(user_id), values))
            .on_conflict(notice_settings::user_id)
            .do_update()
            .set(values);
        icat_store::execute_natively!(conn, upsert)?;
        Ok(())
    })
}

/// One e-mail, as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    pub id: String,
    /// `match`, `review`, `reminder` or `digest`.
    pub kind: String,
    pub recipient: String,
    /// `queued` (waiting, or retrying after a failure), `sent` or `failed` (given up).
    pub state: String,
    pub attempts: i32,
    /// The mail server's last answer when it refused or could not be reached.
    pub last_error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
}

type MessageRow = (
    String,
    String,
    String,
    String,
    i32,
    Option<String>,
    NaiveDateTime,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

/// Every e-mail, newest first, optionally in one state.
pub fn messages(
    conn: &mut DbConn,
    state: Option<&str>,
    page: PageParams,
) -> Result<icat_common::Page<Message>, ApiError> {
    let mut count = mail_outbox::table.into_boxed();
    let mut query = mail_outbox::table.into_boxed();
    if let Some(state) = state {
        count = count.filter(mail_outbox::state.eq(state.to_owned()));
        query = query.filter(mail_outbox::state.eq(state.to_owned()));
    }
    let total: i64 = count.count().get_result(conn)?;
    let rows: Vec<MessageRow> = query
        .order((mail_outbox::created_at.desc(), mail_outbox::id.desc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select((
            mail_outbox::id,
            mail_outbox::kind,
            mail_outbox::recipient,
            mail_outbox::state,
            mail_outbox::attempts,
            mail_outbox::last_error,
            mail_outbox::created_at,
            mail_outbox::next_attempt_at,
            mail_outbox::sent_at,
        ))
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(
            |(id, kind, recipient, state, attempts, last_error, created, next, sent)| Message {
                next_attempt_at: (state == "queued").then(|| utc(next)),
                id,
                kind,
                recipient,
                state,
                attempts,
                last_error,
                created_at: utc(created),
                sent_at: sent.map(utc),
            },
        )
        .collect();
    Ok(icat_common::Page::new(items, total, page))
}
