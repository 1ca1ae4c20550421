//! People's verdicts on pairs of activities, and the match model the verdicts teach.

use actix_web::{HttpResponse, get, post, web};
use icat_auth::{AuthUser, Role};
use icat_common::vocab::schema::Decision;
use icat_common::web::Problem;
use icat_common::{ApiError, Rule, Violations, vocab};
use icat_store::Db;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The match model duplicate detection scores with (secretariat only): parameters per comparison
/// and level, how and when it was estimated, what it expects of its levels and what reviews
/// measured of them.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The current model", body = crate::match_model::MatchModel),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/reports/duplicates/model")]
pub(super) async fn match_model(
    db: web::Data<Db>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    user.require_admin()?;
    let model = db
        .run(|conn| Ok(crate::match_model::current(conn)?))
        .await?;
    Ok(HttpResponse::Ok().json(model))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// The two activities of the pair.
    #[schema(min_items = 2, max_items = 2)]
    pub activity_ids: Vec<String>,
    /// duplicate, not_duplicate or coordinated.
    #[schema(value_type = Decision)]
    pub decision: String,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Reviewed {
    pub pair: crate::review::PairView,
    pub review: crate::review::Review,
}

/// Settle a pair: `duplicate`, `not_duplicate` (never shown as open again, even after a rebuild) or
/// `coordinated` (admins, or editors of one of the two agencies).
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    request_body = ReviewBody,
    responses(
        (status = 201, description = "Recorded", body = Reviewed),
        (status = 403, description = "Not an admin or an editor of either agency", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not two activities of two agencies, or an unknown decision", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/reports/duplicates/reviews")]
pub(super) async fn review(
    db: web::Data<Db>,
    user: AuthUser,
    body: web::Json<ReviewBody>,
) -> Result<HttpResponse, ApiError> {
    if user.role == Role::Viewer {
        return Err(ApiError::forbidden("viewers may read but not review"));
    }
    let body = body.into_inner();
    let mut v = Violations::new();
    let ids = match body.activity_ids.as_slice() {
        [a, b] if a != b => Some((a.clone(), b.clone())),
        _ => {
            v.add("activity_ids", "must name exactly two different activities");
            None
        }
    };
    let decision = v.check(
        "decision",
        match body.decision.as_str() {
            d if vocab::DECISIONS.contains(&d) => Ok(d.to_owned()),
            _ => Err("must be duplicate, not_duplicate or coordinated".to_owned()),
        },
    );
    let note = match body
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        Some(n) if n.chars().count() > 2000 => {
            v.add("note", Rule::too_long(2000));
            None
        }
        other => other.map(str::to_owned),
    };
    v.into_result()?;
    let (Some((a, b)), Some(decision)) = (ids, decision) else {
        return Err(ApiError::internal("validated review missing"));
    };
    let (pair, review) = db
        .run(move |conn| {
            crate::review::review(
                conn,
                &user.actor(),
                (&a, &b),
                &decision,
                note.as_deref(),
                // The secretariat's review is news to both agencies.
                user.agency_id.as_deref().filter(|_| !user.is_admin()),
                |x, y| {
                    if user.is_admin()
                        || user.agency_id.as_deref() == Some(x)
                        || user.agency_id.as_deref() == Some(y)
                    {
                        Ok(())
                    } else {
                        Err(ApiError::forbidden(
                            "only editors of the two agencies, or admins, review a pair",
                        ))
                    }
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(Reviewed { pair, review }))
}
