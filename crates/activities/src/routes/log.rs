//! Recording, checking, listing, reading, changing and archiving activities.

use super::writing_agency;
use crate::model::{Activity, ActivityBody, ActivityChange, Match};
use crate::{FeatureCache, idempotency, log, query, scoring};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use icat_auth::AuthUser;
use icat_common::vocab::schema::{ActivityStatus, CountryCode, SdgTarget, Theme};
use icat_common::web::{Problem, require_if_match, with_etag};
use icat_common::{ApiError, ErrorCode, Page, PageParams, Rule, Violations, vocab};
use icat_store::Db;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct Recorded {
    pub activity: Activity,
    /// Activities of other agencies that look like the same work, or overlap it; strongest first.
    pub possible_duplicates: Vec<Match>,
}

#[derive(Serialize, ToSchema)]
pub struct Checked {
    pub possible_duplicates: Vec<Match>,
}

/// Record an activity (editors for their own agency, admins for any). The answer lists the
/// activities of other agencies it may duplicate or overlap. Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Up to 255 characters; the same key and body replay the first answer")),
    request_body = ActivityBody,
    responses(
        (status = 201, description = "Recorded", body = Recorded),
        (status = 403, description = "Not allowed to record for this agency", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "duplicate_activity: the agency recorded it already (existing_id)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, or the key was used with another body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/activities")]
pub(super) async fn record(
    req: HttpRequest,
    db: web::Data<Db>,
    totals: web::Data<query::Totals>,
    cache: web::Data<FeatureCache>,
    user: AuthUser,
    body: web::Json<ActivityBody>,
) -> Result<HttpResponse, ApiError> {
    let _counts = totals.forget_after();
    let body = body.into_inner();
    // An admin who names no agency hears it with every other field's complaint.
    let mut v = Violations::new();
    let agency_id = v.take(writing_agency(&user, body.agency_id.clone()))?;
    let key = req
        .headers()
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::bad_request("Idempotency-Key must be ASCII"))
        })
        .transpose()?
        .map(idempotency::parse_key)
        .transpose()?;
    let data = body.parse(&mut v);
    v.into_result()?;
    let (Some(agency_id), Some(data)) = (agency_id, data) else {
        return Err(ApiError::internal("validated activity missing"));
    };
    let hash = idempotency::fingerprint(&agency_id, &data)?;
    let writer = db.get_ref().clone();
    let cache = cache.into_inner();
    let (status, head, response) = db
        .run(move |conn| {
            let attempt = |conn: &mut icat_store::DbConn| {
                // Scoring must not run inside a write transaction (it would hold the writer turn
                // while it reads): the replay check reads, and the key is stored in the
                // activity's own transaction.
                if let Some(key) = &key
                    && let Some(stored) = idempotency::replay(conn, &user.id, key, &hash)?
                {
                    return replayed(stored);
                }
                let meaning = cache.meaning(&data);
                let scored = log::score_new(conn, &cache, &agency_id, data, &meaning)?;
                let (actor, user_id, key, hash) =
                    (user.actor(), user.id.clone(), key.clone(), hash.clone());
                writer.write_together(conn, move |conn| {
                    let (activity, matches) = log::write_scored(conn, &actor, scored)?;
                    let head = Head {
                        id: activity.id.clone(),
                        version: activity.version,
                    };
                    let response = serde_json::to_string(&Recorded {
                        activity,
                        possible_duplicates: matches,
                    })
                    .map_err(ApiError::internal)?;
                    let created = actix_web::http::StatusCode::CREATED;
                    if let Some(key) = &key {
                        idempotency::remember(conn, &user_id, key, &hash, created, &response)?;
                    }
                    Ok((created, head, response))
                })
            };
            match attempt(conn) {
                // Two requests with one key raced: the loser answers as the winner did.
                Err(e)
                    if key.is_some()
                        && matches!(e.code, ErrorCode::Conflict | ErrorCode::DuplicateActivity) =>
                {
                    match key
                        .as_deref()
                        .map(|k| idempotency::replay(conn, &user.id, k, &hash))
                    {
                        Some(Ok(Some(stored))) => replayed(stored),
                        _ => Err(e),
                    }
                }
                other => other,
            }
        })
        .await?;
    Ok(HttpResponse::build(status)
        .insert_header((header::LOCATION, format!("/api/v1/activities/{}", head.id)))
        .insert_header(header::ETag(icat_common::web::etag(head.version)))
        .content_type("application/json")
        .body(response))
}

/// What the headers of a record's answer need: the activity's id and version.
#[derive(Deserialize)]
struct Head {
    id: String,
    version: i32,
}

/// A stored [`Recorded`], as far as its headers need it.
#[derive(Deserialize)]
struct StoredRecorded {
    activity: Head,
}

/// A replayed answer, its head read back from the stored body (which this server wrote).
fn replayed(
    (status, response): (actix_web::http::StatusCode, String),
) -> Result<(actix_web::http::StatusCode, Head, String), ApiError> {
    let stored: StoredRecorded = serde_json::from_str(&response).map_err(ApiError::internal)?;
    Ok((status, stored.activity, response))
}

/// See which activities of other agencies a prospective activity would duplicate or overlap,
/// saving nothing.
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    request_body = ActivityBody,
    responses(
        (status = 200, description = "Possible duplicates and overlaps, strongest first", body = Checked),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/activities/check")]
pub(super) async fn check(
    db: web::Data<Db>,
    cache: web::Data<FeatureCache>,
    user: AuthUser,
    body: web::Json<ActivityBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    // Checking writes nothing: any signed-in user may look, for their agency or a named one.
    let agency_id = body.agency_id.clone().or_else(|| user.agency_id.clone());
    let mut v = Violations::new();
    if agency_id.is_none() {
        v.add(
            "agency_id",
            Rule::new("required", "admins must name the agency"),
        );
    }
    let data = body.parse(&mut v);
    v.into_result()?;
    let (Some(agency_id), Some(data)) = (agency_id, data) else {
        return Err(ApiError::internal("validated activity missing"));
    };
    let cache = cache.into_inner();
    let found = db
        .run(move |conn| scoring::check(conn, &cache, &agency_id, &data))
        .await?;
    Ok(HttpResponse::Ok().json(Checked {
        possible_duplicates: found,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Agency id or acronym.
    pub agency: Option<String>,
    /// ISO 3166-1 alpha-2 code.
    #[param(value_type = Option<CountryCode>)]
    pub country: Option<String>,
    #[param(value_type = Option<Theme>)]
    pub theme: Option<String>,
    /// SDG target, e.g. 8.7.
    #[param(value_type = Option<SdgTarget>)]
    pub sdg: Option<String>,
    /// planned, ongoing, completed or cancelled.
    #[param(value_type = Option<ActivityStatus>)]
    pub status: Option<String>,
    /// Running on or after this day (`YYYY-MM-DD`).
    #[param(format = Date)]
    pub from: Option<String>,
    /// Running on or before this day (`YYYY-MM-DD`).
    #[param(format = Date)]
    pub to: Option<String>,
    /// Words, or beginnings of words, of title, description, partners and target groups. The
    /// activities whose title holds every word come first, then the other matches; each newest
    /// start first.
    #[param(max_length = 500)]
    pub q: Option<String>,
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
    /// The `next` of the previous page: the page right after it, found as fast on page 2,000 as
    /// on page 2 and stable while activities are recorded (instead of `page`: both together are
    /// a 422).
    #[param(
        pattern = r"^(t\.)?[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )]
    pub after: Option<String>,
}

pub(super) fn filter(q: &ListQuery) -> Result<query::Filter, ApiError> {
    let bad = |why: String| ApiError::bad_request(why);
    Ok(query::Filter {
        agency: q.agency.clone().filter(|a| !a.trim().is_empty()),
        country: q
            .country
            .as_deref()
            .map(|c| vocab::country(c).map_err(|r| bad(r.into())))
            .transpose()?,
        theme: q
            .theme
            .as_deref()
            .map(|t| vocab::theme(t).map_err(|r| bad(r.into())))
            .transpose()?,
        sdg: q
            .sdg
            .as_deref()
            .map(|s| vocab::sdg_target(s).map_err(|r| bad(r.into())))
            .transpose()?,
        status: q
            .status
            .as_deref()
            .map(|s| crate::model::status(s).map_err(|r| bad(r.into())))
            .transpose()?,
        from: q
            .from
            .as_deref()
            .map(|d| icat_common::validate::date(d).map_err(|m| bad(format!("from {m}"))))
            .transpose()?,
        to: q
            .to
            .as_deref()
            .map(|d| icat_common::validate::date(d).map_err(|m| bad(format!("to {m}"))))
            .transpose()?,
        q: icat_common::search::query(q.q.clone())?,
    })
}

/// List activities, newest start first (a search: those with every word in the title first).
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of activities", body = Page<Activity>),
        (status = 422, description = "A cursor that names no day, or page and after together", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/activities")]
pub(super) async fn list(
    db: web::Data<Db>,
    totals: web::Data<query::Totals>,
    _user: AuthUser,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams::new(q.page, q.per_page)?;
    let window = match q.after.as_deref() {
        Some(_) if q.page.is_some() => {
            return Err(ApiError::invalid_field(
                "after",
                "give page or after, not both",
            ));
        }
        Some(after) => query::Window::After(Some(query::Cursor::parse(after)?), page.per_page),
        None => query::Window::Page(page),
    };
    let filter = filter(&q)?;
    let page = db
        .run(move |conn| query::list(conn, &filter, window, &totals))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One activity, with its ETag.
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Activity id")),
    responses(
        (status = 200, description = "The activity", body = Activity),
        (status = 404, description = "No such activity (or archived)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/activities/{id}")]
pub(super) async fn get_activity(
    db: web::Data<Db>,
    _user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let activity = db.run(move |conn| log::find(conn, &id)).await?;
    Ok(with_etag(activity.version, &activity))
}

/// The activities of other agencies that duplicate or overlap this one now, strongest first, with
/// their reasons (pairs reviewed `not_duplicate` left out).
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Activity id")),
    responses(
        (status = 200, description = "Its matches", body = Checked),
        (status = 404, description = "No such activity (or archived)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/activities/{id}/matches")]
pub(super) async fn activity_matches(
    db: web::Data<Db>,
    cache: web::Data<FeatureCache>,
    _user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let cache = cache.into_inner();
    let found = db
        .run(move |conn| {
            let activity = log::find(conn, &id)?;
            scoring::matches_of(conn, &cache, &activity)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Checked {
        possible_duplicates: found,
    }))
}

/// Change an activity (its agency's editors, or admins); needs `If-Match`. It is scored again and
/// the answer lists its matches now.
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Activity id"),
        ("If-Match" = String, Header, description = "The ETag you last read, e.g. \"3\""),
    ),
    request_body = ActivityChange,
    responses(
        (status = 200, description = "Changed", body = Recorded),
        (status = 403, description = "Not its agency's editor or an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such activity", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would repeat another activity of the agency", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/api/v1/activities/{id}")]
pub(super) async fn update(
    req: HttpRequest,
    db: web::Data<Db>,
    totals: web::Data<query::Totals>,
    cache: web::Data<FeatureCache>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<ActivityChange>,
) -> Result<HttpResponse, ApiError> {
    let _counts = totals.forget_after();
    let if_match = require_if_match(&req);
    let change = body.into_inner();
    let cache = cache.into_inner();
    let (activity, possible_duplicates) = db
        .run(move |conn| {
            let before = log::find(conn, &id)?;
            user.require_writer_for(&before.agency_id)?;
            // The body is judged before the precondition: an invalid change is 422 whatever the
            // ETag, and a stale ETag on a valid change is 412.
            let data = change.apply(&before.data())?;
            let expected = if_match?.expected(before.version)?;
            log::update(conn, &cache, &user.actor(), &before, expected, &data)
        })
        .await?;
    let version = activity.version;
    Ok(with_etag(
        version,
        &Recorded {
            activity,
            possible_duplicates,
        },
    ))
}

/// Archive an activity (its agency's editors, or admins): gone from lists, pairs and reports, kept
/// in the audit trail. `If-Match` is honoured when sent.
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Activity id")),
    responses(
        (status = 204, description = "Archived"),
        (status = 403, description = "Not its agency's editor or an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such activity", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/api/v1/activities/{id}")]
pub(super) async fn archive(
    req: HttpRequest,
    db: web::Data<Db>,
    totals: web::Data<query::Totals>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let _counts = totals.forget_after();
    let if_match = req
        .headers()
        .contains_key(header::IF_MATCH)
        .then(|| require_if_match(&req));
    db.run(move |conn| {
        let activity = log::find(conn, &id)?;
        user.require_writer_for(&activity.agency_id)?;
        if let Some(if_match) = if_match {
            if_match?.expected(activity.version)?;
        }
        log::archive(conn, &user.actor(), &activity)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
