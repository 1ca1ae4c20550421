//! Forgotten passwords. A user asks with an e-mail address and, when an active account has it, gets
//! a single-use link valid 30 minutes by e-mail; an admin can make such a link for an account and
//! hand it over (the way back in when the workspace has no mail server). The tokens are
//! `icat_auth::reset`'s, the e-mail `icat_notices`'; the routes live here because they join them.
//!
//! The request's answer never says whether the account exists: every well-formed request gets the
//! same 202 at once, and the look-up and the e-mail happen after the answer, so its timing says
//! nothing either. Requests are limited per address and per client.

use crate::limits::ClientLimits;
use actix_web::{HttpRequest, HttpResponse, post, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use icat_audit::NewEvent;
use icat_auth::{AuthConfig, AuthUser, password, reset, users};
use icat_common::validate::Email;
use icat_common::vocab::schema::EmailAddress;
use icat_common::web::Problem;
use icat_common::{ApiError, Rule, Violations};
use icat_store::Db;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;
use utoipa::ToSchema;

/// Registers the routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(request_reset)
        .service(confirm_reset)
        .service(reset_link);
}

/// The workspace's public address (for the links) and the request limits.
pub struct Resets {
    public_url: String,
    /// Three requests for one address at once, then one every five minutes.
    by_address: DefaultKeyedRateLimiter<String>,
    /// Ten requests from one client at once, then one a minute.
    by_client: DefaultKeyedRateLimiter<IpAddr>,
}

impl Resets {
    pub fn new(public_url: &str) -> Self {
        let quota = |minutes: u64, burst: u32| {
            Quota::with_period(Duration::from_secs(minutes * 60))
                .map(|q| q.allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN)))
                .unwrap_or_else(|| Quota::per_hour(NonZeroU32::MIN))
        };
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            by_address: RateLimiter::dashmap(quota(5, 3)),
            by_client: RateLimiter::dashmap(quota(1, 10)),
        }
    }

    fn link(&self, token: &str) -> String {
        format!("{}/#/reset?token={token}", self.public_url)
    }

    /// 429 with the wait when either limit is used up.
    fn check(&self, client: Option<IpAddr>, email: &str) -> Result<(), ApiError> {
        let now = DefaultClock::default().now();
        let waited = |e: governor::NotUntil<_>| {
            ApiError::rate_limited(e.wait_time_from(now).as_secs_f64().ceil() as u64)
        };
        if let Some(client) = client {
            self.by_client.check_key(&client).map_err(waited)?;
        }
        self.by_address.check_key(&email.to_owned()).map_err(waited)
    }

    /// Drops the limits of addresses and clients quiet long enough to be full again.
    pub fn forget_idle(&self) {
        self.by_address.retain_recent();
        self.by_client.retain_recent();
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    #[schema(value_type = EmailAddress)]
    pub email: String,
    /// The language of the e-mail: `en`, `fr` or `es` (English otherwise).
    #[schema(pattern = "^(en|fr|es)$")]
    pub language: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    pub detail: &'static str,
}

const ACCEPTED: &str = "If an active account has this address, a link to choose a new password is on its way to it. \
    The link works once, for 30 minutes.";

/// Ask for a link to choose a new password (no sign-in). The answer is the same whether or not an
/// account has the address.
#[utoipa::path(
    tag = "auth",
    request_body = ResetRequest,
    responses(
        (status = 202, description = "Accepted (whether or not an account has the address)", body = Accepted),
        (status = 403, description = "Self-service reset is off: the workspace has no mail server; an admin makes reset links", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an e-mail address", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests for this address or from this client", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/password-reset")]
async fn request_reset(
    req: HttpRequest,
    db: web::Data<Db>,
    resets: web::Data<Resets>,
    limits: web::Data<ClientLimits>,
    body: web::Json<ResetRequest>,
) -> Result<HttpResponse, ApiError> {
    let ResetRequest { email, language } = body.into_inner();
    let email = Email::parse(&email)
        .map_err(|m| ApiError::invalid_field("email", m))?
        .into_inner();
    if !icat_notices::mail_is_on() {
        return Err(ApiError::forbidden(
            "self-service password reset is off: this workspace has no mail server; \
             ask the ICAT secretariat for a reset link",
        ));
    }
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let client = limits.client(req.peer_addr().map(|a| a.ip()), forwarded);
    resets.check(client, &email)?;
    let language = icat_notices::language(language.as_deref().unwrap_or("en"));
    let request_id = icat_auth::request_id(&req);
    // After the answer: the look-up and the e-mail take no part in its timing.
    let resets = resets.into_inner();
    tokio::spawn(async move {
        let done = db
            .run(move |conn| {
                icat_store::write(conn, |conn| {
                    let Some(user) = users::find_by_email(conn, &email)?.filter(|u| u.active)
                    else {
                        return Ok(());
                    };
                    let (token, _) = reset::issue(conn, &user.id, None)?;
                    icat_notices::events::enqueue(
                        conn,
                        None,
                        "password_reset",
                        &user.email,
                        language,
                        &json!({ "url": resets.link(&token), "email": user.email,
                                 "minutes": reset::VALID_MINUTES }),
                    )?;
                    let actor = icat_audit::Actor {
                        user_id: Some(user.id.clone()),
                        email: Some(user.email.clone()),
                        request_id,
                    };
                    icat_audit::record(
                        conn,
                        &actor,
                        &NewEvent::success("request_password_reset", "user", &user.id),
                    )?;
                    Ok(())
                })
            })
            .await;
        if let Err(e) = done {
            tracing::error!(error = %e, "a password reset could not be prepared");
        }
    });
    Ok(HttpResponse::Accepted().json(Accepted { detail: ACCEPTED }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    /// The token of the link.
    #[schema(max_length = 200)]
    pub token: String,
    /// 12 to 128 characters, not easy to guess (zxcvbn score 3 or more), without the account's
    /// e-mail address or name.
    #[schema(min_length = 12, max_length = 128)]
    pub new_password: String,
}

/// Choose a new password with a reset link's token (no sign-in): the link is spent and every
/// session of the account ends.
#[utoipa::path(
    tag = "auth",
    request_body = ResetConfirm,
    responses(
        (status = 204, description = "The new password is set"),
        (status = 422, description = "The link is not valid, was used or has expired; or the password breaks the rules", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/password-reset/confirm")]
async fn confirm_reset(
    req: HttpRequest,
    db: web::Data<Db>,
    config: web::Data<AuthConfig>,
    body: web::Json<ResetConfirm>,
) -> Result<HttpResponse, ApiError> {
    let ResetConfirm {
        token,
        new_password,
    } = body.into_inner();
    let mut v = Violations::new();
    if token.is_empty() || token.len() > 200 {
        v.add("token", Rule::new("invalid_link", "the link is not valid"));
    }
    v.into_result()?;
    let probe = token.clone();
    let user = db.run(move |conn| reset::holder(conn, &probe)).await?;
    password::check_rules(&new_password, &[&user.email, &user.name])
        .map_err(|r| ApiError::invalid_field("new_password", r))?;
    let hash = config.hasher.hash(new_password).await?;
    let request_id = icat_auth::request_id(&req);
    db.run(move |conn| reset::complete(conn, &token, &hash, request_id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, ToSchema)]
pub struct ResetLink {
    /// The link to hand to the account's owner; it works once.
    pub url: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Make a single-use link (30 minutes) for an account to choose a new password, to hand over
/// (admin). Earlier links of the account stop working.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 201, description = "The link", body = ResetLink),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The account is deactivated", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/users/{id}/password-reset")]
async fn reset_link(
    db: web::Data<Db>,
    resets: web::Data<Resets>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require_admin()?;
    let actor = user.actor();
    let resets = resets.into_inner();
    let link = db
        .run(move |conn| {
            icat_store::write(conn, |conn| {
                let account = users::get(conn, &id)?;
                if !account.active {
                    return Err(ApiError::invalid_field(
                        "id",
                        "the account is deactivated: reactivate it first",
                    ));
                }
                let (token, expires) = reset::issue(conn, &account.id, actor.user_id.as_deref())?;
                icat_audit::record(
                    conn,
                    &actor,
                    &NewEvent::success("create_reset_link", "user", &account.id),
                )?;
                Ok(ResetLink {
                    url: resets.link(&token),
                    expires_at: icat_common::utc(expires),
                })
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(link))
}
