//! CSV export (streamed) and import (see `importing`) of activities.

use super::log::{ListQuery, filter};

use crate::{FeatureCache, csvio, importing, query};
use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, post, web};
use futures_util::StreamExt;
use icat_auth::{AuthUser, Role};
use icat_common::vocab::schema::{ActivityStatus, CountryCode, SdgTarget, Theme};
use icat_common::web::Problem;
use icat_common::{ApiError, ErrorCode};
use icat_store::Db;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Largest CSV upload.
const IMPORT_LIMIT: usize = 5 * 1024 * 1024;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    pub agency: Option<String>,
    #[param(value_type = Option<CountryCode>)]
    pub country: Option<String>,
    #[param(value_type = Option<Theme>)]
    pub theme: Option<String>,
    #[param(value_type = Option<SdgTarget>)]
    pub sdg: Option<String>,
    #[param(value_type = Option<ActivityStatus>)]
    pub status: Option<String>,
    #[param(format = Date)]
    pub from: Option<String>,
    #[param(format = Date)]
    pub to: Option<String>,
    #[param(max_length = 500)]
    pub q: Option<String>,
}

/// The activities as CSV (the import's columns plus `id`, with an HXL hashtag row), filtered like
/// the list.
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(ExportQuery),
    responses(
        (status = 200, description = "CSV", body = String, content_type = "text/csv"),
    )
)]
#[get("/api/v1/activities/export.csv")]
pub(super) async fn export(
    db: web::Data<Db>,
    _user: AuthUser,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let filter = filter(&ListQuery {
        agency: q.agency,
        country: q.country,
        theme: q.theme,
        sdg: q.sdg,
        status: q.status,
        from: q.from,
        to: q.to,
        q: q.q,
        page: None,
        per_page: None,
        after: None,
    })?;
    // The first chunk is read before the answer starts, so that a failing database is still a
    // proper error; later chunks are read as the client takes the earlier ones (a slow client
    // holds no connection between them).
    let first = {
        let filter = filter.clone();
        db.run(move |conn| query::chunk(conn, &filter, None, EXPORT_CHUNK))
            .await?
    };
    let db = db.into_inner();
    let chunks = futures_util::stream::try_unfold((Some(first), true), move |(read, header)| {
        let (db, filter) = (db.clone(), filter.clone());
        async move {
            let Some((rows, after)) = read else {
                return Ok(None);
            };
            let csv = csvio::export(&rows, header)?;
            let next = match after {
                Some(after) => Some(
                    db.run(move |conn| query::chunk(conn, &filter, Some(after), EXPORT_CHUNK))
                        .await?,
                ),
                None => None,
            };
            Ok::<_, ApiError>(Some((web::Bytes::from(csv), (next, false))))
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"icat-activities.csv\"",
        ))
        .streaming(chunks))
}

/// Activities an export reads at a time: a few hundred kilobytes of CSV.
const EXPORT_CHUNK: i64 = 1000;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Validate and count only; save nothing.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Imported {
    pub created: usize,
    /// Rows that repeat an activity the agency already has (or an earlier row of the file).
    pub duplicates_skipped: usize,
    /// Always empty here: a file with an invalid row answers 422 with every row's errors.
    pub errors: Vec<icat_common::FieldError>,
    pub dry_run: bool,
}

/// Import activities from CSV (`text/csv`). An invalid row saves nothing of the file (422 with
/// every row's errors); rows that repeat an activity the agency already has are skipped. Rows are
/// written a few at a time, so that other writers never wait for the file (others may see them
/// before the answer); a failure part-way takes out what was written and saves nothing.
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "Columns by header name: title, description, countries, themes, sdg_targets, target_groups, partners, start_date, end_date, status, budget_usd, agency (admins); lists separated by `;`"),
    responses(
        (status = 200, description = "Imported (or, with dry_run, what would be)", body = Imported),
        (status = 403, description = "Not allowed to import for this agency", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than 5 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not text/csv", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid rows, each with its line, field and message", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/activities/import")]
pub(super) async fn import(
    req: HttpRequest,
    db: web::Data<Db>,
    totals: web::Data<query::Totals>,
    cache: web::Data<FeatureCache>,
    user: AuthUser,
    q: web::Query<ImportQuery>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let _counts = totals.forget_after();
    if user.role == Role::Viewer {
        return Err(ApiError::forbidden(
            "viewers may read but not import activities",
        ));
    }
    if req.content_type() != "text/csv" {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            415,
            "send the file as text/csv",
        ));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("the upload broke off: {e}")))?;
        if bytes.len() + chunk.len() > IMPORT_LIMIT {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                413,
                "files of up to 5 MiB are accepted",
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    let rows = csvio::parse(&bytes)?;
    let outcome = importing::import(&db, cache.into_inner(), user, rows, q.dry_run).await?;
    Ok(HttpResponse::Ok().json(Imported {
        created: outcome.created,
        duplicates_skipped: outcome.skipped,
        errors: vec![],
        dry_run: q.dry_run,
    }))
}
