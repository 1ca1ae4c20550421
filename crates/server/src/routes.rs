//! The server's own routes: health, readiness and the audit trail (whose admin guard comes from
//! `icat_auth`, which itself writes to the trail, so the route cannot live in `icat_audit`).

use actix_web::{HttpResponse, get, web};
use chrono::{NaiveDate, NaiveDateTime};
use icat_auth::AuthUser;
use icat_common::web::Problem;
use icat_common::{ApiError, Page, PageParams};
use icat_store::Db;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `ready` for /readyz.
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(tag = "health", responses((status = 200, description = "Alive", body = Health)))]
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The database does not answer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
async fn readyz(db: web::Data<Db>) -> Result<HttpResponse, ApiError> {
    use diesel::connection::SimpleConnection;
    let ping = db.run(|conn| Ok(conn.batch_execute("SELECT 1")?));
    match tokio::time::timeout(Duration::from_secs(3), ping).await {
        Ok(Ok(())) => Ok(HttpResponse::Ok().json(Health { status: "ready" })),
        _ => Err(ApiError::unavailable("the database does not answer")),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// A user id or e-mail address.
    pub actor: Option<String>,
    /// `user`, `agency`, `session`, ...
    pub entity: Option<String>,
    /// `create`, `update`, `login`, `denied`, ...
    pub action: Option<String>,
    /// From this day on (`YYYY-MM-DD`; an RFC 3339 moment works too).
    #[param(format = Date)]
    pub from: Option<String>,
    /// Up to this day, included (`YYYY-MM-DD`; an RFC 3339 moment works too).
    #[param(format = Date)]
    pub to: Option<String>,
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

/// A moment from a query value; a bare date means its start (or, for `to`, its end).
fn moment(raw: &str, end_of_day: bool) -> Result<NaiveDateTime, ApiError> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(at.naive_utc());
    }
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request("from and to must be dates (YYYY-MM-DD) or RFC 3339 times")
    })?;
    let time = if end_of_day {
        day.and_hms_micro_opt(23, 59, 59, 999_999)
    } else {
        day.and_hms_opt(0, 0, 0)
    };
    time.ok_or_else(|| ApiError::bad_request("not a valid date"))
}

/// The audit trail, newest first (admin). Every write, sign-in attempt and denied request.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of events", body = Page<icat_audit::Event>),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/audit")]
async fn audit_list(
    db: web::Data<Db>,
    user: AuthUser,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require_admin()?;
    let q = query.into_inner();
    let page = PageParams::new(q.page, q.per_page)?;
    let filter = icat_audit::Filter {
        actor: q.actor,
        entity: q.entity,
        action: q.action,
        from: q.from.as_deref().map(|f| moment(f, false)).transpose()?,
        to: q.to.as_deref().map(|t| moment(t, true)).transpose()?,
    };
    let page = db
        .run(move |conn| icat_audit::list(conn, &filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Serialize, ToSchema)]
pub struct Vocabularies {
    /// Every ISO 3166-1 alpha-2 code the API accepts, in alphabetical order.
    pub countries: Vec<&'static str>,
    /// The Global Plan of Action's pillars.
    pub themes: &'static [&'static str],
    pub sdg_targets: &'static [&'static str],
    pub activity_statuses: &'static [&'static str],
    pub roles: Vec<&'static str>,
    pub agency_kinds: Vec<&'static str>,
    pub review_decisions: &'static [&'static str],
}

/// The controlled vocabularies, so that clients (the web front-end among them) offer exactly the
/// values the API accepts. Names are left to the client's language (`Intl.DisplayNames` in a browser).
#[utoipa::path(
    tag = "health",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The vocabularies", body = Vocabularies),
    )
)]
#[get("/api/v1/vocabularies")]
async fn vocabularies(_user: AuthUser) -> HttpResponse {
    use icat_common::vocab;
    HttpResponse::Ok().json(Vocabularies {
        countries: vocab::countries().collect(),
        themes: &vocab::THEMES,
        sdg_targets: &vocab::SDG_TARGETS,
        activity_statuses: &icat_activities::model::STATUSES,
        roles: icat_auth::Role::ALL.map(icat_auth::Role::as_str).to_vec(),
        agency_kinds: icat_agencies::Kind::ALL
            .map(icat_agencies::Kind::as_str)
            .to_vec(),
        review_decisions: &vocab::DECISIONS,
    })
}

/// Registers the server's own routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz)
        .service(readyz)
        .service(audit_list)
        .service(vocabularies);
}
