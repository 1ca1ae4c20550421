//! Delivering the outbox over SMTP (`lettre`), on a thread of its own.
//!
//! Each pass claims the due messages for two minutes (`claimed_until`), in one statement that on
//! PostgreSQL skips rows another server holds (`FOR UPDATE SKIP LOCKED`), so of several servers
//! exactly one sends each message; a server killed while sending leaves its claim to expire and
//! the message is sent by the next pass. A message that fails for a while waits longer each time
//! (30 s doubling up to an hour), and is given up (`failed`, with the server's answer) after ten
//! attempts or at once on a permanent (5xx) refusal. Users who chose a daily digest get one
//! message a day listing their new notices.

use crate::mail::{Links, compose};
use crate::{events, language};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};
use icat_common::{ApiError, now};
use icat_store::schema::{mail_outbox, notice_settings, notices, users};
use icat_store::{Db, DbConn};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lettre::message::{Mailbox, MultiPart, header};
use lettre::{Message, SmtpTransport, Transport};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;

/// Messages claimed by one pass.
const BATCH: i64 = 20;
/// How long a claim holds: longer than any SMTP exchange (the transport times out at 30 s).
const CLAIM_SECS: i64 = 120;
/// Attempts before a message that keeps failing is given up.
pub const MAX_ATTEMPTS: i32 = 10;

/// The wait before attempt `attempts + 1`: 30 s, doubling, at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    Duration::seconds((30 * 2_i64.pow(exp)).min(3600))
}

/// Signs and checks the one-click unsubscribe links (RFC 8058): an HS256 token naming the address,
/// signed with the server's key, so a link cannot be made for someone else's address.
#[derive(Clone)]
pub struct UnsubscribeKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

#[derive(Serialize, Deserialize)]
struct UnsubscribeClaims {
    sub: String,
    aud: String,
    lang: String,
}

const UNSUBSCRIBE_AUDIENCE: &str = "icat-unsubscribe";

impl UnsubscribeKeys {
    pub fn new(secret: &str) -> Result<Self, ApiError> {
        Ok(Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()).map_err(ApiError::internal)?,
            decoding: DecodingKey::from_secret(secret.as_bytes()).map_err(ApiError::internal)?,
        })
    }

    pub fn sign(&self, email: &str, lang: &str) -> Result<String, ApiError> {
        let claims = UnsubscribeClaims {
            sub: email.to_owned(),
            aud: UNSUBSCRIBE_AUDIENCE.to_owned(),
            lang: lang.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)
    }

    /// The address and language a valid token names. Unsubscribe links do not expire.
    pub fn verify(&self, token: &str) -> Option<(String, &'static str)> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[UNSUBSCRIBE_AUDIENCE]);
        validation.set_required_spec_claims(&["aud", "sub"]);
        validation.validate_exp = false;
        jsonwebtoken::decode::<UnsubscribeClaims>(token, &self.decoding, &validation)
            .ok()
            .map(|d| (d.claims.sub, language(&d.claims.lang)))
    }
}

/// Everything the worker needs to send.
#[derive(Clone)]
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
    public_url: String,
    keys: UnsubscribeKeys,
}

impl Mailer {
    /// `smtp_url` as lettre reads it: `smtp://host:port` (plain; `?tls=required` for STARTTLS),
    /// `smtps://user:pass@host` (TLS from the start).
    pub fn new(
        smtp_url: &str,
        from: &str,
        public_url: &str,
        keys: UnsubscribeKeys,
    ) -> anyhow::Result<Self> {
        let transport = SmtpTransport::from_url(smtp_url)?
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        Ok(Self {
            transport,
            from: from.parse()?,
            public_url: public_url.trim_end_matches('/').to_owned(),
            keys,
        })
    }
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    recipient: String,
    #[diesel(sql_type = Text)]
    language: String,
    #[diesel(sql_type = Text)]
    params: String,
    #[diesel(sql_type = Integer)]
    attempts: i32,
}

/// Claims up to [`BATCH`] due messages for this worker, counting the attempt.
fn claim(conn: &mut DbConn, at: NaiveDateTime) -> QueryResult<Vec<Claimed>> {
    let lock = match conn {
        DbConn::Pg(_) => "FOR UPDATE SKIP LOCKED",
        DbConn::Sqlite(_) => "",
    };
    let sql = format!(
        "UPDATE mail_outbox SET claimed_until = $1, attempts = attempts + 1 WHERE id IN (\
           SELECT id FROM mail_outbox WHERE state = 'queued' AND next_attempt_at <= $2 \
           AND (claimed_until IS NULL OR claimed_until < $2) \
           ORDER BY next_attempt_at LIMIT {BATCH} {lock}) \
         RETURNING id, kind, recipient, language, params, attempts"
    );
    icat_store::write(conn, |conn| {
        let q = diesel::sql_query(&sql)
            .bind::<Timestamp, _>(at + Duration::seconds(CLAIM_SECS))
            .bind::<Timestamp, _>(at);
        match conn {
            DbConn::Pg(c) => q.load(c),
            DbConn::Sqlite(c) => q.load(c),
        }
    })
}

/// What became of one attempt.
enum Outcome {
    Sent,
    Retry(String),
    Failed(String),
}

fn settle(conn: &mut DbConn, id: &str, attempts: i32, outcome: &Outcome) -> QueryResult<()> {
    let at = now();
    let target = mail_outbox::table.find(id);
    icat_store::write(conn, |conn| {
        // A reset link is a key to an account: once its message is sent or given up, only the
        // token's digest (in `password_resets`) remains.
        if !matches!(outcome, Outcome::Retry(_)) || attempts >= MAX_ATTEMPTS {
            diesel::update(target.filter(mail_outbox::kind.eq("password_reset")))
                .set(mail_outbox::params.eq("{}"))
                .execute(conn)?;
        }
        match outcome {
            Outcome::Sent => diesel::update(target)
                .set((
                    mail_outbox::state.eq("sent"),
                    mail_outbox::sent_at.eq(at),
                    mail_outbox::claimed_until.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?,
            Outcome::Retry(error) if attempts < MAX_ATTEMPTS => diesel::update(target)
                .set((
                    mail_outbox::next_attempt_at.eq(at + backoff(attempts)),
                    mail_outbox::claimed_until.eq(None::<NaiveDateTime>),
                    mail_outbox::last_error.eq(error),
                ))
                .execute(conn)?,
            Outcome::Retry(error) | Outcome::Failed(error) => diesel::update(target)
                .set((
                    mail_outbox::state.eq("failed"),
                    mail_outbox::claimed_until.eq(None::<NaiveDateTime>),
                    mail_outbox::last_error.eq(error),
                ))
                .execute(conn)?,
        };
        Ok(())
    })
}

fn send(mailer: &Mailer, m: &Claimed) -> Outcome {
    let params: Value = serde_json::from_str(&m.params).unwrap_or_default();
    let token = match mailer.keys.sign(&m.recipient, &m.language) {
        Ok(t) => t,
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    let unsubscribe = format!("{}/api/v1/unsubscribe?token={token}", mailer.public_url);
    let composed = compose(
        &m.kind,
        &m.language,
        &params,
        &Links {
            public_url: &mailer.public_url,
            unsubscribe: &unsubscribe,
        },
    );
    let to: Mailbox = match m.recipient.parse() {
        Ok(to) => to,
        Err(e) => return Outcome::Failed(format!("not an address: {e}")),
    };
    let mut message = Message::builder()
        .from(mailer.from.clone())
        .to(to)
        // One id per outbox row: a receiving server that sees a message twice can tell.
        .message_id(Some(format!("<{}@icat-workspace>", m.id)))
        .subject(composed.subject);
    if m.kind != "password_reset" {
        message = message
            .header(ListUnsubscribe(format!("<{unsubscribe}>")))
            .header(ListUnsubscribePost);
    }
    let message = message.multipart(MultiPart::alternative_plain_html(
        composed.text,
        composed.html,
    ));
    let message = match message {
        Ok(message) => message,
        Err(e) => return Outcome::Failed(format!("the message cannot be built: {e}")),
    };
    match mailer.transport.send(&message) {
        Ok(_) => Outcome::Sent,
        Err(e) if e.is_permanent() => Outcome::Failed(e.to_string()),
        Err(e) => Outcome::Retry(e.to_string()),
    }
}

/// `List-Unsubscribe: <https://...>` (RFC 2369).
#[derive(Clone)]
struct ListUnsubscribe(String);

impl header::Header for ListUnsubscribe {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }
    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Clone)]
struct ListUnsubscribePost;

impl header::Header for ListUnsubscribePost {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}

/// A notice as a digest lists it: kind, level, the two activities, the wording's params.
type DigestRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

/// Queues each daily digest that is due: one message per user who chose `daily`, listing the
/// notices since the last digest (or since the choice was made). Several servers may run this at
/// once: a digest is queued only by the one whose update of `last_digest_at` wins.
pub fn queue_digests(conn: &mut DbConn) -> QueryResult<usize> {
    let at = now();
    let due: Vec<(String, String, String, Option<NaiveDateTime>, NaiveDateTime)> =
        notice_settings::table
            .inner_join(users::table)
            .filter(notice_settings::email.eq("daily"))
            .filter(users::active.eq(true))
            .filter(
                notice_settings::last_digest_at
                    .is_null()
                    .or(notice_settings::last_digest_at.le(at - Duration::days(1))),
            )
            .select((
                users::id,
                users::email,
                notice_settings::language,
                notice_settings::last_digest_at,
                notice_settings::updated_at,
            ))
            .load(conn)?;
    let mut queued = 0;
    for (user_id, email, lang, last, chosen) in due {
        let since = last.unwrap_or(chosen);
        let rows: Vec<DigestRow> = notices::table
            .filter(notices::user_id.eq(&user_id))
            .filter(notices::created_at.gt(since))
            .order(notices::created_at.desc())
            .limit(50)
            .select((
                notices::kind,
                notices::level,
                notices::activity_id,
                notices::other_id,
                notices::params,
            ))
            .load(conn)?;
        if rows.is_empty() {
            continue;
        }
        let items: Vec<Value> = rows
            .into_iter()
            .map(|(kind, level, activity_id, other_id, params)| {
                let mut p: Value = serde_json::from_str(&params).unwrap_or_default();
                p["kind"] = json!(kind);
                p["level"] = json!(level);
                p["activity_id"] = json!(activity_id);
                p["other_id"] = json!(other_id);
                p
            })
            .collect();
        let won = icat_store::write(conn, |conn| -> QueryResult<bool> {
            let mut update = diesel::update(notice_settings::table.find(&user_id)).into_boxed();
            update = match last {
                Some(last) => update.filter(notice_settings::last_digest_at.eq(last)),
                None => update.filter(notice_settings::last_digest_at.is_null()),
            };
            let changed = update
                .set(notice_settings::last_digest_at.eq(at))
                .execute(conn)?;
            if changed == 1 {
                events::enqueue(
                    conn,
                    None,
                    "digest",
                    &email,
                    &lang,
                    &json!({ "items": items }),
                )?;
            }
            Ok(changed == 1)
        })?;
        queued += usize::from(won);
    }
    Ok(queued)
}

/// How many messages wait to be sent, for the metrics.
fn depth(conn: &mut DbConn) -> QueryResult<i64> {
    mail_outbox::table
        .filter(mail_outbox::state.eq("queued"))
        .count()
        .get_result(conn)
}

/// Runs the worker until the runtime ends: a pass every second (at once again after a full
/// batch), with the digests that are due. Database work goes through the pool; the SMTP exchanges run on a
/// blocking thread without holding a connection.
pub async fn run(db: Db, mailer: Mailer) {
    let mailer = Arc::new(mailer);
    loop {
        if let Err(e) = db.run(|conn| Ok(queue_digests(conn)?)).await {
            tracing::warn!(error = %e, "the mail worker could not queue digests");
        }
        match deliver_due(&db, &mailer).await {
            Ok(n) if n as i64 == BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "the mail worker could not reach the database"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// Claims the due messages, sends them, and records each outcome; returns how many were claimed.
async fn deliver_due(db: &Db, mailer: &Arc<Mailer>) -> Result<usize, ApiError> {
    let claimed = db.run(|conn| Ok(claim(conn, now())?)).await?;
    let n = claimed.len();
    if n == 0 {
        return Ok(0);
    }
    let sender = mailer.clone();
    let outcomes = tokio::task::spawn_blocking(move || {
        claimed
            .into_iter()
            .map(|m| {
                let outcome = send(&sender, &m);
                (m, outcome)
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(ApiError::internal)?;
    for (m, outcome) in outcomes {
        match &outcome {
            Outcome::Sent => metrics::counter!("icat_mail_sent_total").increment(1),
            Outcome::Retry(e) | Outcome::Failed(e) => {
                metrics::counter!("icat_mail_failures_total").increment(1);
                tracing::warn!(message_id = %m.id, attempt = m.attempts, error = %e, "an e-mail was not delivered");
            }
        }
        db.run(move |conn| Ok(settle(conn, &m.id, m.attempts, &outcome)?))
            .await?;
    }
    let depth = db.run(|conn| Ok(depth(conn)?)).await?;
    metrics::gauge!("icat_mail_outbox_depth").set(depth as f64);
    Ok(n)
}

/// Records that `email` wants no more e-mail (the inbox stays); true when it was not yet so.
pub fn unsubscribe(conn: &mut DbConn, email: &str) -> QueryResult<bool> {
    use icat_store::schema::mail_unsubscribes;
    icat_store::write(conn, |conn| {
        let exists: Option<String> = mail_unsubscribes::table
            .find(email)
            .select(mail_unsubscribes::email)
            .first(conn)
            .optional()?;
        if exists.is_some() {
            return Ok(false);
        }
        diesel::insert_into(mail_unsubscribes::table)
            .values((
                mail_unsubscribes::email.eq(email),
                mail_unsubscribes::at.eq(now()),
            ))
            .execute(conn)?;
        // What waits for this address is not sent either.
        diesel::update(
            mail_outbox::table
                .filter(mail_outbox::recipient.eq(email))
                .filter(mail_outbox::state.eq("queued")),
        )
        .set((
            mail_outbox::state.eq("failed"),
            mail_outbox::last_error.eq("unsubscribed"),
        ))
        .execute(conn)?;
        Ok(true)
    })
}
