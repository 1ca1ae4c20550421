//! HTTP routes of the member registry: everyone signed in reads, the secretariat writes.

use crate::{Agency, AgencyPatch, Filter, Kind, NewAgency};
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use icat_auth::AuthUser;
use icat_common::validate::{self, double_option};
use icat_common::vocab::schema::{Acronym, Title, WebAddress};
use icat_common::web::{Problem, created, require_if_match, with_etag};
use icat_common::{ApiError, Page, PageParams, Violations};
use icat_store::Db;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// Registers this crate's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_agencies)
        .service(get_agency)
        .service(create_agency)
        .service(update_agency);
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgencyQuery {
    pub working_group: Option<bool>,
    pub active: Option<bool>,
    /// `un_entity`, `intergovernmental` or `other`.
    pub kind: Option<Kind>,
    /// Part of the acronym or name.
    #[param(max_length = 500)]
    pub q: Option<String>,
    /// From 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    /// 1 to 100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

/// List ICAT member agencies.
#[utoipa::path(
    tag = "agencies",
    security(("bearer" = [])),
    params(AgencyQuery),
    responses(
        (status = 200, description = "A page of agencies, by acronym", body = Page<Agency>),
    )
)]
#[get("/api/v1/agencies")]
async fn list_agencies(
    db: web::Data<Db>,
    _user: AuthUser,
    query: web::Query<AgencyQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = PageParams::new(q.page, q.per_page)?;
    let filter = Filter {
        working_group: q.working_group,
        active: q.active,
        kind: q.kind,
        q: icat_common::search::query(q.q)?,
    };
    let page = db.run(move |conn| crate::list(conn, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One agency, by id or acronym (any case), with its ETag.
#[utoipa::path(
    tag = "agencies",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Agency id or acronym")),
    responses(
        (status = 200, description = "The agency", body = Agency),
        (status = 404, description = "No such agency", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/agencies/{id}")]
async fn get_agency(
    db: web::Data<Db>,
    _user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let agency = db.run(move |conn| crate::find(conn, &id)).await?;
    Ok(with_etag(agency.version, &agency))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgency {
    /// Unique, whatever the case; up to 20 characters.
    #[schema(value_type = Acronym)]
    pub acronym: String,
    #[schema(value_type = Title)]
    pub name: String,
    /// `un_entity`, `intergovernmental` or `other`.
    #[schema(value_type = Kind)]
    pub kind: String,
    #[serde(default)]
    pub working_group: bool,
    #[schema(value_type = Option<WebAddress>)]
    pub website: Option<String>,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub joined_on: Option<String>,
}

/// Add an ICAT member (admin).
#[utoipa::path(
    tag = "agencies",
    security(("bearer" = [])),
    request_body = CreateAgency,
    responses(
        (status = 201, description = "Created", body = Agency),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The acronym is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/agencies")]
async fn create_agency(
    db: web::Data<Db>,
    user: AuthUser,
    body: web::Json<CreateAgency>,
) -> Result<HttpResponse, ApiError> {
    user.require_admin()?;
    let body = body.into_inner();
    let mut v = Violations::new();
    let acronym = v.check("acronym", validate::text(&body.acronym, 20));
    let name = v.check("name", validate::text(&body.name, 300));
    let kind = v.check("kind", Kind::parse(&body.kind));
    let website = body
        .website
        .as_deref()
        .and_then(|w| v.check("website", validate::web_address(w)));
    let joined_on = body
        .joined_on
        .as_deref()
        .and_then(|d| v.check("joined_on", validate::date(d)));
    v.into_result()?;
    let (Some(acronym), Some(name), Some(kind)) = (acronym, name, kind) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let new = NewAgency {
        acronym,
        name,
        kind,
        working_group: body.working_group,
        website,
        joined_on,
    };
    let agency = db
        .run(move |conn| crate::create(conn, &user.actor(), new))
        .await?;
    Ok(created(
        &format!("/api/v1/agencies/{}", agency.id),
        agency.version,
        &agency,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgency {
    #[schema(value_type = Option<Acronym>)]
    pub acronym: Option<String>,
    #[schema(value_type = Option<Title>)]
    pub name: Option<String>,
    /// `un_entity`, `intergovernmental` or `other`.
    #[schema(value_type = Option<Kind>)]
    pub kind: Option<String>,
    pub working_group: Option<bool>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<WebAddress>)]
    pub website: Option<Option<String>>,
    /// `YYYY-MM-DD`; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub joined_on: Option<Option<String>>,
    /// `false` marks a former member; its records stay.
    pub active: Option<bool>,
}

/// Change an ICAT member (admin); needs `If-Match`.
#[utoipa::path(
    tag = "agencies",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Agency id"),
        ("If-Match" = String, Header, description = "The ETag you last read, e.g. \"3\""),
    ),
    request_body = UpdateAgency,
    responses(
        (status = 200, description = "Changed", body = Agency),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agency", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The acronym is taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/api/v1/agencies/{id}")]
async fn update_agency(
    req: HttpRequest,
    db: web::Data<Db>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<UpdateAgency>,
) -> Result<HttpResponse, ApiError> {
    user.require_admin()?;
    let if_match = require_if_match(&req)?;
    let body = body.into_inner();
    let mut v = Violations::new();
    let patch = AgencyPatch {
        acronym: body
            .acronym
            .as_deref()
            .and_then(|a| v.check("acronym", validate::text(a, 20))),
        name: body
            .name
            .as_deref()
            .and_then(|n| v.check("name", validate::text(n, 300))),
        kind: body
            .kind
            .as_deref()
            .and_then(|k| v.check("kind", Kind::parse(k)))
            .map(Kind::as_str),
        working_group: body.working_group,
        website: match body.website {
            Some(Some(w)) => v.check("website", validate::web_address(&w)).map(Some),
            Some(None) => Some(None),
            None => None,
        },
        joined_on: match body.joined_on {
            Some(Some(d)) => v.check("joined_on", validate::date(&d)).map(Some),
            Some(None) => Some(None),
            None => None,
        },
        active: body.active,
    };
    v.into_result()?;
    let agency = db
        .run(move |conn| {
            crate::update(
                conn,
                &user.actor(),
                &id,
                |current| if_match.expected(current),
                patch,
            )
        })
        .await?;
    Ok(with_etag(agency.version, &agency))
}
