//! The secretariat's reminders (paragraphs 8 and 9): the members that the coverage and
//! participation reports list (no primary focal point, a focal point unconfirmed for 12 months, no
//! activity in 12 months) are reminded through their focal points or, where they have none, their
//! editors. The findings come from `icat_reports`, the messages from `icat_notices`; the route
//! lives here because it joins the two.

use actix_web::{HttpResponse, post, web};
use icat_audit::NewEvent;
use icat_auth::AuthUser;
use icat_common::web::Problem;
use icat_common::{ApiError, Rule, Violations};
use icat_notices::events::Reason;
use icat_store::Db;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Registers the route.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(remind);
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemindRequest {
    /// Members to remind, by id or acronym; every member with something to be reminded of when
    /// absent. A member named here with nothing to be reminded of is left out.
    #[schema(max_items = 200)]
    pub agencies: Option<Vec<String>>,
    /// A few words of the secretariat's own, added to each message.
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// One member reminded.
#[derive(Serialize, ToSchema)]
pub struct Reminded {
    pub agency_id: String,
    pub acronym: String,
    pub reasons: Vec<Reason>,
    /// The addresses written to (their inbox and e-mail).
    pub recipients: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Reminders {
    pub reminded: Vec<Reminded>,
}

/// Remind members of what they have not done (admin); each reminder is in the audit trail.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    request_body = RemindRequest,
    responses(
        (status = 200, description = "The members reminded, why, and to whom", body = Reminders),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An agency that is not a member", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/reminders")]
async fn remind(
    db: web::Data<Db>,
    user: AuthUser,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    user.require_admin()?;
    let RemindRequest { agencies, note } = icat_common::web::json_object(body.into_inner())?;
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    let mut v = Violations::new();
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        v.add("note", Rule::too_long(2000));
    }
    if agencies.as_ref().is_some_and(|a| a.len() > 200) {
        v.add(
            "agencies",
            Rule::new("too_many", "must name at most 200 members").with("max", 200),
        );
    }
    v.into_result()?;
    let actor = user.actor();
    let reminded = db
        .run(move |conn| {
            let members = icat_reports::summary::participation(conn)?;
            let stale_before = icat_common::now() - chrono::Duration::days(365);
            let unconfirmed: Vec<String> = icat_directory::unconfirmed_since(conn, stale_before)?
                .into_iter()
                .map(|f| f.agency_id)
                .collect();
            let named = |m: &icat_reports::summary::Participation| {
                agencies.as_ref().is_none_or(|names| {
                    names
                        .iter()
                        .any(|n| n == &m.agency_id || n.eq_ignore_ascii_case(&m.acronym))
                })
            };
            if let Some(names) = &agencies {
                let unknown: Vec<&String> = names
                    .iter()
                    .filter(|n| {
                        !members
                            .iter()
                            .any(|m| *n == &m.agency_id || n.eq_ignore_ascii_case(&m.acronym))
                    })
                    .collect();
                if !unknown.is_empty() {
                    return Err(ApiError::invalid_field(
                        "agencies",
                        "must name active members (by id or acronym)",
                    ));
                }
            }
            icat_store::write(conn, |conn| {
                let mut out = Vec::new();
                for m in members.iter().filter(|m| named(m)) {
                    let mut reasons = Vec::new();
                    if !m.has_primary_focal_point {
                        reasons.push(Reason::NoFocalPoint);
                    }
                    if unconfirmed.contains(&m.agency_id) {
                        reasons.push(Reason::FocalPointUnconfirmed);
                    }
                    if m.activities_last_12_months == 0 {
                        reasons.push(Reason::NoRecentActivity);
                    }
                    if reasons.is_empty() {
                        continue;
                    }
                    let recipients = icat_notices::events::remind(
                        conn,
                        &m.agency_id,
                        &reasons,
                        note.as_deref(),
                    )?;
                    icat_audit::record(
                        conn,
                        &actor,
                        &NewEvent::success("remind", "agency", &m.agency_id).with_changes(
                            serde_json::json!({"reasons": reasons, "recipients": recipients.len(),
                                               "note": note}),
                        ),
                    )?;
                    out.push(Reminded {
                        agency_id: m.agency_id.clone(),
                        acronym: m.acronym.clone(),
                        reasons,
                        recipients,
                    });
                }
                Ok(out)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Reminders { reminded }))
}
