//! HTTP routes of the directory. Everyone signed in reads (contact details are personal data:
//! never cached, never logged); admins write for any agency, editors for their own.

use crate::{Filter, FocalPoint, FpRole, NewFocalPoint, Patch, vcard};
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use icat_auth::AuthUser;
use icat_common::validate::{self, Email, double_option};
use icat_common::vocab::schema::{CountryCode, EmailAddress, Language, Name, Phone, Theme};
use icat_common::web::{Problem, created, require_if_match, with_etag};
use icat_common::{ApiError, Page, PageParams, Rule, Violations, vocab};
use icat_store::Db;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// Registers this crate's routes (the exports before `{id}`, which would otherwise take them).
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(export_vcards)
        .service(export_csv)
        .service(list_focal_points)
        .service(designate)
        .service(get_focal_point)
        .service(update_focal_point)
        .service(end_focal_point)
        .service(confirm_focal_point)
        .service(focal_point_vcard);
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    /// Agency id or acronym.
    pub agency: Option<String>,
    /// `primary` or `alternate`.
    pub role: Option<FpRole>,
    /// ISO 3166-1 alpha-2 code of a country covered.
    #[param(value_type = Option<CountryCode>)]
    pub country: Option<String>,
    /// A theme covered.
    #[param(value_type = Option<Theme>)]
    pub theme: Option<String>,
    /// Words, or beginnings of words, of the name, title or e-mail address.
    #[param(max_length = 500)]
    pub q: Option<String>,
    /// Also ended designations.
    #[serde(default)]
    pub include_history: bool,
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    pub agency: Option<String>,
    pub role: Option<FpRole>,
    #[param(value_type = Option<CountryCode>)]
    pub country: Option<String>,
    #[param(value_type = Option<Theme>)]
    pub theme: Option<String>,
    #[param(max_length = 500)]
    pub q: Option<String>,
    #[serde(default)]
    pub include_history: bool,
}

fn filter(
    agency: Option<String>,
    role: Option<FpRole>,
    country: Option<String>,
    theme: Option<String>,
    q: Option<String>,
    include_history: bool,
) -> Result<Filter, ApiError> {
    let country = country
        .map(|c| vocab::country(&c).map_err(ApiError::bad_request))
        .transpose()?;
    let theme = theme
        .map(|t| vocab::theme(&t).map_err(ApiError::bad_request))
        .transpose()?;
    Ok(Filter {
        agency: agency.filter(|a| !a.trim().is_empty()),
        role,
        country,
        theme,
        q: icat_common::search::query(q)?,
        include_history,
    })
}

/// Look up focal points: current designations unless `include_history=true`.
#[utoipa::path(
    tag = "focal-points",
    security(("bearer" = [])),
    params(DirectoryQuery),
    responses(
        (status = 200, description = "A page of designations", body = Page<FocalPoint>),
    )
)]
#[get("/api/v1/focal-points")]
async fn list_focal_points(
    db: web::Data<Db>,
    _user: AuthUser,
    query: web::Query<DirectoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = PageParams::new(q.page, q.per_page)?;
    let filter = filter(q.agency, q.role, q.country, q.theme, q.q, q.include_history)?;
    let page = db
        .read(move |conn| crate::list(conn, &filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One designation, current or past, with its ETag.
#[utoipa::path(
    tag = "focal-points",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Focal point id")),
    responses(
        (status = 200, description = "The designation", body = FocalPoint),
        (status = 404, description = "No such focal point", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/focal-points/{id}")]
async fn get_focal_point(
    db: web::Data<Db>,
    _user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let fp = db.run(move |conn| crate::find(conn, &id)).await?;
    Ok(with_etag(fp.version, &fp))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Designation {
    /// `primary` or `alternate`. A new primary ends the agency's current one.
    #[schema(value_type = FpRole)]
    pub role: String,
    #[schema(value_type = Name)]
    pub name: String,
    #[schema(value_type = Option<Name>)]
    pub title: Option<String>,
    #[schema(value_type = EmailAddress)]
    pub email: String,
    #[schema(value_type = Option<Phone>)]
    pub phone: Option<String>,
    /// Language codes such as `en`, `fr`, `pt-BR`.
    #[serde(default)]
    #[schema(value_type = Vec<Language>, max_items = 20)]
    pub languages: Vec<String>,
    /// ISO 3166-1 alpha-2 codes.
    #[serde(default)]
    #[schema(value_type = Vec<CountryCode>, max_items = 250)]
    pub countries: Vec<String>,
    /// prevention, protection, prosecution, partnerships.
    #[serde(default)]
    #[schema(value_type = Vec<Theme>, max_items = 4)]
    pub themes: Vec<String>,
    /// `YYYY-MM-DD`; today when absent.
    #[schema(format = Date)]
    pub valid_from: Option<String>,
}

fn phone(raw: &str) -> Result<String, Rule> {
    let value = raw.trim();
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value
        .chars()
        .all(|c| c.is_ascii_digit() || " +()-./".contains(c));
    if allowed && (5..=20).contains(&digits) && value.len() <= 40 {
        Ok(value.to_owned())
    } else {
        Err(Rule::new(
            "not_a_phone",
            "must be a telephone number like +43 1 26060 0",
        ))
    }
}

/// Designate a focal point of an agency (admin, or an editor of that agency).
#[utoipa::path(
    tag = "focal-points",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Agency id or acronym")),
    request_body = Designation,
    responses(
        (status = 201, description = "Designated", body = FocalPoint),
        (status = 403, description = "Not an admin or an editor of this agency", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agency", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The agency is no longer an active member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/agencies/{id}/focal-points")]
async fn designate(
    db: web::Data<Db>,
    user: AuthUser,
    agency: web::Path<String>,
    body: web::Json<Designation>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let agency = agency.into_inner();
    let agency_id = db
        .run(move |conn| crate::resolve_agency(conn, &agency))
        .await?;
    user.require_writer_for(&agency_id)?;
    let mut v = Violations::new();
    let role = v.check("role", FpRole::parse(&body.role));
    let name = v.check("name", validate::text(&body.name, 200));
    let title = body
        .title
        .as_deref()
        .and_then(|t| v.check("title", validate::text(t, 200)));
    let email = v.check("email", Email::parse(&body.email));
    let phone = body
        .phone
        .as_deref()
        .and_then(|p| v.check("phone", phone(p)));
    let languages = v.check(
        "languages",
        vocab::list(&body.languages, 20, vocab::language),
    );
    let countries = v.check(
        "countries",
        vocab::list(&body.countries, 250, vocab::country),
    );
    let themes = v.check("themes", vocab::list(&body.themes, 4, vocab::theme));
    let valid_from = match body.valid_from.as_deref() {
        Some(d) => v.check("valid_from", validate::date(d)),
        None => Some(icat_common::now().date()),
    };
    v.into_result()?;
    let (
        Some(role),
        Some(name),
        Some(email),
        Some(languages),
        Some(countries),
        Some(themes),
        Some(valid_from),
    ) = (role, name, email, languages, countries, themes, valid_from)
    else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let new = NewFocalPoint {
        role,
        name,
        title,
        email: email.into_inner(),
        phone,
        languages,
        countries,
        themes,
        valid_from,
    };
    let fp = db
        .run(move |conn| crate::designate(conn, &user.actor(), &agency_id, &new))
        .await?;
    Ok(created(
        &format!("/api/v1/focal-points/{}", fp.id),
        fp.version,
        &fp,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FocalPointChange {
    #[schema(value_type = Option<Name>)]
    pub name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Name>)]
    pub title: Option<Option<String>>,
    #[schema(value_type = Option<EmailAddress>)]
    pub email: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Phone>)]
    pub phone: Option<Option<String>>,
    #[schema(value_type = Option<Vec<Language>>, max_items = 20)]
    pub languages: Option<Vec<String>>,
    #[schema(value_type = Option<Vec<CountryCode>>, max_items = 250)]
    pub countries: Option<Vec<String>>,
    #[schema(value_type = Option<Vec<Theme>>, max_items = 4)]
    pub themes: Option<Vec<String>>,
}

/// Change a current designation's details (admin, or an editor of its agency); needs `If-Match`.
/// Ended designations are history and answer 409. To change the role, designate anew.
#[utoipa::path(
    tag = "focal-points",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Focal point id"),
        ("If-Match" = String, Header, description = "The ETag you last read, e.g. \"3\""),
    ),
    request_body = FocalPointChange,
    responses(
        (status = 200, description = "Changed", body = FocalPoint),
        (status = 403, description = "Not an admin or an editor of this agency", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such focal point", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The designation has ended", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/api/v1/focal-points/{id}")]
async fn update_focal_point(
    req: HttpRequest,
    db: web::Data<Db>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<FocalPointChange>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut v = Violations::new();
    let patch = Patch {
        name: body
            .name
            .as_deref()
            .and_then(|n| v.check("name", validate::text(n, 200))),
        title: match body.title {
            Some(Some(t)) => v.check("title", validate::text(&t, 200)).map(Some),
            Some(None) => Some(None),
            None => None,
        },
        email: body
            .email
            .as_deref()
            .and_then(|e| v.check("email", Email::parse(e)))
            .map(Email::into_inner),
        phone: match body.phone {
            Some(Some(p)) => v.check("phone", phone(&p)).map(Some),
            Some(None) => Some(None),
            None => None,
        },
        languages: body
            .languages
            .and_then(|l| v.check("languages", vocab::list(&l, 20, vocab::language))),
        countries: body
            .countries
            .and_then(|c| v.check("countries", vocab::list(&c, 250, vocab::country))),
        themes: body
            .themes
            .and_then(|t| v.check("themes", vocab::list(&t, 4, vocab::theme))),
    };
    let if_match = require_if_match(&req);
    let fp = db
        .run(move |conn| {
            // Rights first: a stranger gets 403 whatever else is wrong with the request.
            let current = crate::find(conn, &id)?;
            user.require_writer_for(&current.agency_id)?;
            let if_match = if_match?;
            v.into_result()?;
            crate::update(
                conn,
                &user.actor(),
                &id,
                |agency| user.require_writer_for(agency),
                |version| if_match.expected(version),
                patch,
            )
        })
        .await?;
    Ok(with_etag(fp.version, &fp))
}

/// End a current designation today (admin, or an editor of its agency); it stays in the history.
#[utoipa::path(
    tag = "focal-points",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Focal point id")),
    responses(
        (status = 200, description = "Ended", body = FocalPoint),
        (status = 403, description = "Not an admin or an editor of this agency", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such focal point", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already ended", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/focal-points/{id}/end")]
async fn end_focal_point(
    db: web::Data<Db>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let fp = db
        .run(move |conn| {
            crate::end(conn, &user.actor(), &id, |agency| {
                user.require_writer_for(agency)
            })
        })
        .await?;
    Ok(with_etag(fp.version, &fp))
}

/// Confirm that a designation's details are still right (admin, or an editor of its agency).
#[utoipa::path(
    tag = "focal-points",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Focal point id")),
    responses(
        (status = 200, description = "Confirmed: last_confirmed_at is now", body = FocalPoint),
        (status = 403, description = "Not an admin or an editor of this agency", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such focal point", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The designation has ended", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/focal-points/{id}/confirm")]
async fn confirm_focal_point(
    db: web::Data<Db>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let fp = db
        .run(move |conn| {
            crate::confirm(conn, &user.actor(), &id, |agency| {
                user.require_writer_for(agency)
            })
        })
        .await?;
    Ok(with_etag(fp.version, &fp))
}

/// One focal point as a vCard 4.0 (`text/vcard`).
#[utoipa::path(
    tag = "focal-points",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Focal point id")),
    responses(
        (status = 200, description = "vCard 4.0", body = String, content_type = "text/vcard"),
        (status = 404, description = "No such focal point", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/focal-points/{id}/vcard")]
async fn focal_point_vcard(
    db: web::Data<Db>,
    _user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let fp = db.run(move |conn| crate::find(conn, &id)).await?;
    let filename = format!(
        "{}-{}.vcf",
        fp.agency_acronym
            .replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
        fp.role.as_str()
    );
    Ok(icat_common::web::download(
        "text/vcard; charset=utf-8",
        &filename,
        vcard::card(&fp),
    ))
}

/// Every matching focal point as vCards, filtered like the list.
#[utoipa::path(
    tag = "focal-points",
    security(("bearer" = [])),
    params(ExportQuery),
    responses(
        (status = 200, description = "vCard 4.0, one card per focal point", body = String, content_type = "text/vcard"),
    )
)]
#[get("/api/v1/focal-points/export.vcf")]
async fn export_vcards(
    db: web::Data<Db>,
    _user: AuthUser,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let filter = filter(q.agency, q.role, q.country, q.theme, q.q, q.include_history)?;
    let all = db.run(move |conn| crate::export(conn, &filter)).await?;
    let body: String = all.iter().map(vcard::card).collect();
    Ok(icat_common::web::download(
        "text/vcard; charset=utf-8",
        "icat-focal-points.vcf",
        body,
    ))
}

/// The HXL hashtags under the CSV header (Humanitarian Exchange Language).
const CSV_COLUMNS: [(&str, &str); 15] = [
    ("id", "#meta+id"),
    ("agency", "#org+acronym"),
    ("agency_name", "#org+name"),
    ("role", "#contact+role"),
    ("name", "#contact+name"),
    ("title", "#contact+title"),
    ("email", "#contact+email"),
    ("phone", "#contact+phone"),
    ("languages", "#meta+languages"),
    ("countries", "#country+code+list"),
    ("themes", "#sector+list"),
    ("valid_from", "#date+start"),
    ("valid_until", "#date+end"),
    ("last_confirmed_at", "#date+confirmed"),
    ("current", "#status+current"),
];

fn csv_of(all: &[FocalPoint]) -> Result<String, ApiError> {
    let mut out = icat_common::SpreadsheetCsv::new();
    out.row(CSV_COLUMNS.iter().map(|(h, _)| *h))?;
    out.row(CSV_COLUMNS.iter().map(|(_, t)| *t))?;
    for fp in all {
        out.row(vec![
            fp.id.clone(),
            fp.agency_acronym.clone(),
            fp.agency_name.clone(),
            fp.role.as_str().to_owned(),
            fp.name.clone(),
            fp.title.clone().unwrap_or_default(),
            fp.email.clone(),
            fp.phone.clone().unwrap_or_default(),
            fp.languages.join(";"),
            fp.countries.join(";"),
            fp.themes.join(";"),
            fp.valid_from.to_string(),
            fp.valid_until.map(|d| d.to_string()).unwrap_or_default(),
            fp.last_confirmed_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            fp.current.to_string(),
        ])?;
    }
    out.finish()
}

/// The directory as CSV with an HXL hashtag row under the header, filtered like the list.
#[utoipa::path(
    tag = "focal-points",
    security(("bearer" = [])),
    params(ExportQuery),
    responses(
        (status = 200, description = "CSV; lists inside a cell are separated by `;`", body = String, content_type = "text/csv"),
    )
)]
#[get("/api/v1/focal-points/export.csv")]
async fn export_csv(
    db: web::Data<Db>,
    _user: AuthUser,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let filter = filter(q.agency, q.role, q.country, q.theme, q.q, q.include_history)?;
    let all = db.run(move |conn| crate::export(conn, &filter)).await?;
    Ok(icat_common::web::download(
        "text/csv; charset=utf-8",
        "icat-focal-points.csv",
        csv_of(&all)?,
    ))
}
