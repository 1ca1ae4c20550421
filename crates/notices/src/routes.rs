//! HTTP routes: each user's own inbox and choices, the admins' view of every e-mail, and the
//! unsubscribe link of the e-mails (no sign-in: the link's signed token names the address).

use crate::inbox::{self, Inbox, Message, Settings};
use crate::outbox::{self, UnsubscribeKeys};
use actix_web::{HttpResponse, get, post, put, web};
use icat_auth::AuthUser;
use icat_common::web::Problem;
use icat_common::{ApiError, Page, PageParams};
use icat_store::Db;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Registers this crate's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_notices)
        .service(read_all)
        .service(read_one)
        .service(get_settings)
        .service(put_settings)
        .service(list_mail)
        .service(unsubscribe_page)
        .service(unsubscribe_now);
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// Only the notices not yet read.
    pub unread: Option<bool>,
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    /// 1 to 100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

/// The caller's own notices, newest first, with the unread count.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(InboxQuery),
    responses((status = 200, description = "A page of the caller's notices", body = Inbox))
)]
#[get("/api/v1/notifications")]
async fn list_notices(
    db: web::Data<Db>,
    user: AuthUser,
    query: web::Query<InboxQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = PageParams::new(q.page, q.per_page)?;
    let unread = q.unread.unwrap_or(false);
    let inbox = db
        .run(move |conn| inbox::list(conn, &user.id, unread, page))
        .await?;
    Ok(HttpResponse::Ok().json(inbox))
}

/// Marks one of the caller's notices read.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Notice id")),
    responses(
        (status = 204, description = "Read"),
        (status = 404, description = "The caller has no such notice", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/notifications/{id}/read")]
async fn read_one(
    db: web::Data<Db>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    db.run(move |conn| inbox::mark_read(conn, &user.id, &id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, ToSchema)]
pub struct Marked {
    /// Notices that were unread.
    pub marked: usize,
}

/// Marks every notice of the caller read.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, description = "How many were unread", body = Marked))
)]
#[post("/api/v1/notifications/read-all")]
async fn read_all(db: web::Data<Db>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let marked = db.run(move |conn| inbox::read_all(conn, &user.id)).await?;
    Ok(HttpResponse::Ok().json(Marked { marked }))
}

/// How the caller hears of notices.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's choices", body = Settings))
)]
#[get("/api/v1/me/notification-settings")]
async fn get_settings(db: web::Data<Db>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let s = db.run(move |conn| inbox::settings(conn, &user.id)).await?;
    Ok(HttpResponse::Ok().json(s))
}

/// Changes how the caller hears of notices: e-mail at once, a daily digest or none; overlaps or
/// not; the e-mails' language.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    request_body = Settings,
    responses(
        (status = 200, description = "Saved", body = Settings),
        (status = 422, description = "Not a choice offered", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/api/v1/me/notification-settings")]
async fn put_settings(
    db: web::Data<Db>,
    user: AuthUser,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let s: Settings = icat_common::web::json_object(body.into_inner())?;
    let saved = s.clone();
    db.run(move |conn| inbox::save_settings(conn, &user.id, &s))
        .await?;
    Ok(HttpResponse::Ok().json(saved))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MailQuery {
    /// `queued`, `sent` or `failed`.
    pub state: Option<MailState>,
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    /// 1 to 100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

#[derive(Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailState {
    Queued,
    Sent,
    Failed,
}

/// Every e-mail and its delivery state, newest first (admin).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(MailQuery),
    responses(
        (status = 200, description = "A page of e-mails", body = Page<Message>),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/mail")]
async fn list_mail(
    db: web::Data<Db>,
    user: AuthUser,
    query: web::Query<MailQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require_admin()?;
    let q = query.into_inner();
    let page = PageParams::new(q.page, q.per_page)?;
    let state = q.state.map(|s| match s {
        MailState::Queued => "queued",
        MailState::Sent => "sent",
        MailState::Failed => "failed",
    });
    let page = db
        .run(move |conn| inbox::messages(conn, state, page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnsubscribeQuery {
    /// The signed token of the e-mail's link.
    #[param(max_length = 2000)]
    pub token: String,
}

/// A language's words on the unsubscribe pages: code, question, button, confirmation.
type PageWords = (&'static str, &'static str, &'static str, &'static str);

const PAGE_WORDS: [PageWords; 3] = [
    (
        "en",
        "Stop e-mails from the ICAT Workspace to {email}? Notices stay in your inbox in the workspace.",
        "Unsubscribe",
        "{email} will receive no more e-mails from the ICAT Workspace.",
    ),
    (
        "fr",
        "Ne plus envoyer de courriels de l'espace de travail de l'ICAT à {email} ? Les avis restent dans votre boîte de réception de l'espace de travail.",
        "Se désabonner",
        "{email} ne recevra plus de courriels de l'espace de travail de l'ICAT.",
    ),
    (
        "es",
        "¿Dejar de enviar correos del espacio de trabajo del ICAT a {email}? Los avisos siguen en su bandeja del espacio de trabajo.",
        "Darse de baja",
        "{email} no recibirá más correos del espacio de trabajo del ICAT.",
    ),
];

fn html_page(lang: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width\"><title>ICAT Workspace</title>\
             </head><body><main>{body}</main></body></html>"
        ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn verified(keys: &UnsubscribeKeys, token: &str) -> Result<(String, &'static PageWords), ApiError> {
    let (email, lang) = keys
        .verify(token)
        .ok_or_else(|| ApiError::not_found("this unsubscribe link is not valid"))?;
    let words = PAGE_WORDS
        .iter()
        .find(|w| w.0 == lang)
        .unwrap_or(&PAGE_WORDS[0]);
    Ok((email, words))
}

/// The page an e-mail's unsubscribe link opens: it asks before it acts, so that a link scanner
/// following the link unsubscribes no one.
#[utoipa::path(
    tag = "notifications",
    params(UnsubscribeQuery),
    responses(
        (status = 200, description = "A page asking to confirm", content_type = "text/html", body = String),
        (status = 404, description = "The link is not valid (its signature does not match)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/unsubscribe")]
async fn unsubscribe_page(
    keys: web::Data<UnsubscribeKeys>,
    query: web::Query<UnsubscribeQuery>,
) -> Result<HttpResponse, ApiError> {
    let token = query.into_inner().token;
    let (email, words) = verified(&keys, &token)?;
    Ok(html_page(
        words.0,
        &format!(
            "<p>{}</p><form method=\"post\" action=\"/api/v1/unsubscribe?token={}\">\
             <button type=\"submit\">{}</button></form>",
            escape(&words.1.replace("{email}", &email)),
            escape(&token),
            escape(words.2)
        ),
    ))
}

/// Unsubscribes the link's address from every e-mail (RFC 8058 one-click: mail clients post
/// `List-Unsubscribe=One-Click`; the body is not needed and not read). The inbox stays.
#[utoipa::path(
    tag = "notifications",
    params(UnsubscribeQuery),
    responses(
        (status = 200, description = "Unsubscribed (also when it already was)", content_type = "text/html", body = String),
        (status = 404, description = "The link is not valid (its signature does not match)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/unsubscribe")]
async fn unsubscribe_now(
    db: web::Data<Db>,
    keys: web::Data<UnsubscribeKeys>,
    query: web::Query<UnsubscribeQuery>,
) -> Result<HttpResponse, ApiError> {
    let token = query.into_inner().token;
    let (email, words) = verified(&keys, &token)?;
    let address = email.clone();
    db.run(move |conn| Ok(outbox::unsubscribe(conn, &address)?))
        .await?;
    Ok(html_page(
        words.0,
        &format!("<p>{}</p>", escape(&words.3.replace("{email}", &email))),
    ))
}
