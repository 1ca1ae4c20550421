//! HTTP routes of the activity log, by area: recording, reading and changing activities (`log`),
//! CSV import and export (`transfer`), and people's verdicts on pairs and the match model behind
//! them (`review`). The duplicate report's own routes are `icat_reports`'.

mod log;
mod review;
mod transfer;

use icat_auth::{AuthUser, Role};
use icat_common::{ApiError, Rule};

/// Registers this crate's routes (fixed paths before `{id}`, which would otherwise take them).
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(log::check)
        .service(transfer::import)
        .service(transfer::export)
        .service(log::record)
        .service(log::list)
        .service(log::get_activity)
        .service(log::activity_matches)
        .service(log::update)
        .service(log::archive)
        .service(review::match_model)
        .service(review::review);
}

/// The agency a write is for: editors write for their own (naming another gives 403), admins must
/// name one, viewers write nothing.
pub(crate) fn writing_agency(
    user: &AuthUser,
    requested: Option<String>,
) -> Result<String, ApiError> {
    match user.role {
        Role::Admin => requested.ok_or_else(|| {
            ApiError::invalid_field(
                "agency_id",
                Rule::new("required", "admins must name the agency"),
            )
        }),
        Role::Editor => {
            let own = user
                .agency_id
                .clone()
                .ok_or_else(|| ApiError::forbidden("your account has no agency"))?;
            match requested {
                Some(other) if other != own => Err(ApiError::forbidden(
                    "editors record activities for their own agency only",
                )),
                _ => Ok(own),
            }
        }
        Role::Viewer => Err(ApiError::forbidden(
            "viewers may read but not record activities",
        )),
    }
}
