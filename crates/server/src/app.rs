//! The HTTP application: every crate's routes under one `App`, the OpenAPI document built from
//! those same routes, middleware (request ids, security headers, audit of denials), and the
//! fallback that answers unknown paths with 404 or 405 as problem details.

use crate::bootstrap::State;
use crate::limits::ClientLimits;
use crate::{assets, routes};
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::{DefaultHeaders, Next, from_fn};
use actix_web::{
    App, Error, HttpMessage, HttpRequest, HttpResponse, HttpServer, ResponseError, web,
};
use icat_audit::{Actor, NewEvent, Outcome};
use icat_auth::AuthUser;
use icat_common::ApiError;
use icat_common::web::{JSON_LIMIT, json_config, path_config, payload_config, query_config};
use icat_store::Db;
use std::net::TcpListener;
use std::sync::Arc;
use tracing_actix_web::{RequestId, TracingLogger};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ICAT Workspace API",
        version = "1",
        description = "The coordination workspace of the Inter-Agency Coordination Group against \
            Trafficking in Persons. Errors are RFC 9457 problem details with a stable `code`."
    ),
    modifiers(&Security),
    components(schemas(icat_common::web::Problem)),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Sign-in, tokens and passwords"),
        (name = "users", description = "User accounts (admin)"),
        (name = "agencies", description = "The ICAT member registry"),
        (name = "focal-points", description = "The focal-point directory (paragraph 9)"),
        (name = "activities", description = "The deduplicated activity log (paragraph 7)"),
        (name = "reports", description = "Reports for the secretariat"),
        (name = "audit", description = "The append-only audit trail (admin)"),
        (name = "notifications", description = "Coordination notices: the inbox, e-mail choices, delivery (paragraphs 7-9)"),
    )
)]
struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every documented route of every crate.
fn api(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    routes::configure(cfg);
    icat_auth::configure(cfg);
    icat_agencies::configure(cfg);
    icat_directory::configure(cfg);
    icat_activities::configure(cfg);
    icat_reports::configure(cfg);
    icat_notices::configure(cfg);
    crate::reminders::configure(cfg);
    crate::reset::configure(cfg);
}

/// The OpenAPI document, collected from the very services the server mounts.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(api)
        .split_for_parts();
    let mut doc = doc;
    document_common_failures(&mut doc);
    doc
}

/// Gives the request headers the server parses a schema of what it accepts: `If-Match` is `*` or
/// a list of entity tags (RFC 9110), `Idempotency-Key` 1 to 255 visible ASCII characters.
fn describe_headers(op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{RefOr, path::ParameterIn};
    for p in op.parameters.iter_mut().flatten() {
        let RefOr::T(p) = p else { continue };
        if p.parameter_in != ParameterIn::Header {
            continue;
        }
        let (pattern, max) = match p.name.to_ascii_lowercase().as_str() {
            "if-match" => (
                r#"^(\*|(W/)?"[\x21\x23-\x7e]*"( ?, ?(W/)?"[\x21\x23-\x7e]*")*)$"#,
                1000,
            ),
            "idempotency-key" => (r"^[\x21-\x7e]{1,255}$", 255),
            _ => continue,
        };
        p.schema = Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern))
                .max_length(Some(max))
                .into(),
        );
    }
}

/// Adds the failures any route can answer, so that no client (or fuzzer) meets an undocumented
/// status: 401 on every route that needs a token, 400/413/415 on every route with a body, 400 on
/// every route with query parameters, 503 when the database does not answer in time.
fn document_common_failures(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, path::ParameterIn};
    let problem = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build(),
        )
    };
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            describe_headers(op);
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let has_parameters = op.parameters.iter().flatten().any(|p| {
                matches!(p, RefOr::T(p)
                    if matches!(p.parameter_in, ParameterIn::Query | ParameterIn::Path))
            });
            for parameter in op.parameters.iter_mut().flatten() {
                refuse_control_characters(parameter);
            }
            let mut add = |status: &str, description: &str| {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| problem(description));
            };
            if secured {
                add("401", "Not signed in, or the session has ended");
            }
            if op.request_body.is_some() {
                add("400", "Malformed body or unknown fields");
                add("413", "Body too large");
                add("415", "Wrong content type");
            }
            if has_parameters {
                add(
                    "400",
                    "Bad path or query parameters (a control character, a malformed value)",
                );
            }
            add("503", "The database does not answer in time");
        }
    }
}

/// States in a free-text path or query parameter's schema what `control_character` enforces for
/// every request: no control character. Parameters with an enumeration, a format or a pattern of
/// their own already exclude them.
fn refuse_control_characters(
    parameter: &mut utoipa::openapi::RefOr<utoipa::openapi::path::Parameter>,
) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{Schema, SchemaType, Type};
    let RefOr::T(parameter) = parameter else {
        return;
    };
    let Some(RefOr::T(Schema::Object(schema))) = parameter.schema.as_mut() else {
        return;
    };
    let text = match &schema.schema_type {
        SchemaType::Type(t) => *t == Type::String,
        SchemaType::Array(types) => types.contains(&Type::String),
        SchemaType::AnyValue => false,
    };
    if text && schema.enum_values.is_none() && schema.format.is_none() && schema.pattern.is_none() {
        schema.pattern = Some(r"^[^\u0000-\u001f\u007f-\u009f]*$".to_owned());
    }
}

/// The routes of the document, for telling 405 (known path, other method) from 404.
struct RouteTable {
    routes: Vec<(Vec<String>, Vec<String>)>,
}

impl RouteTable {
    fn new(doc: &utoipa::openapi::OpenApi) -> Self {
        let methods = [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ];
        let json = serde_json::to_value(&doc.paths.paths).unwrap_or_default();
        let routes = json
            .as_object()
            .map(|paths| {
                paths
                    .iter()
                    .map(|(path, item)| {
                        let segments = path.split('/').map(str::to_owned).collect();
                        let allowed = methods
                            .iter()
                            .filter(|m| item.get(**m).is_some())
                            .map(|m| m.to_uppercase())
                            .collect();
                        (segments, allowed)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self { routes }
    }

    /// The methods a concrete path answers, if any route matches it. Where a literal route and a
    /// templated one both match (`/activities/check` and `/activities/{id}`), the literal one is
    /// the resource: only the most specific routes count.
    fn allowed(&self, path: &str) -> Vec<String> {
        let parts: Vec<&str> = path.split('/').collect();
        let is_template = |s: &String| s.starts_with('{') && s.ends_with('}');
        let matching: Vec<(usize, &Vec<String>)> = self
            .routes
            .iter()
            .filter(|(segments, _)| {
                segments.len() == parts.len()
                    && segments
                        .iter()
                        .zip(&parts)
                        .all(|(s, p)| (is_template(s) && !p.is_empty()) || s == p)
            })
            .map(|(segments, methods)| {
                (segments.iter().filter(|s| is_template(s)).count(), methods)
            })
            .collect();
        let fewest = matching.iter().map(|(n, _)| *n).min().unwrap_or(0);
        let mut allowed: Vec<String> = matching
            .into_iter()
            .filter(|(n, _)| *n == fewest)
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        allowed.sort();
        allowed.dedup();
        allowed
    }
}

/// Answers what no route took: the web front-end's files, else 405 for a known path, else 404.
async fn fallback(req: HttpRequest, table: web::Data<RouteTable>) -> HttpResponse {
    let path = req.path();
    let is_read = req.method() == Method::GET || req.method() == Method::HEAD;
    if is_read
        && !path.starts_with("/api/")
        && let Some(res) = assets::response(path)
    {
        return res;
    }
    let allowed = table.allowed(path);
    if allowed.is_empty() {
        return ApiError::not_found(format!("nothing is at {path}")).error_response();
    }
    let mut err = ApiError::new(
        icat_common::ErrorCode::MethodNotAllowed,
        405,
        format!("{path} answers {}", allowed.join(", ")),
    );
    err.allow = Some(allowed.join(", "));
    err.error_response()
}

/// Answers a request with a problem before it reaches a route, with its request id.
fn refuse<B>(
    req: ServiceRequest,
    request_id: Option<String>,
    mut problem: HttpResponse,
) -> ServiceResponse<actix_web::body::EitherBody<B>> {
    if let Some(id) = request_id.and_then(|id| header::HeaderValue::from_str(&id).ok()) {
        problem
            .headers_mut()
            .insert(header::HeaderName::from_static("x-request-id"), id);
    }
    req.into_response(problem).map_into_right_body()
}

/// Where a request's path or query holds a control character once percent-decoded (NUL, line
/// breaks, DEL, C1 codes): no name, code, date or search term has one, and PostgreSQL refuses NUL
/// in text, which made such requests 500s. Checked before routing, so every route refuses them alike.
fn control_character(req: &ServiceRequest) -> Option<&'static str> {
    let holds = |raw: &str| {
        percent_encoding::percent_decode_str(raw)
            .decode_utf8_lossy()
            .chars()
            .any(char::is_control)
    };
    if holds(req.path()) {
        Some("path")
    } else if holds(req.query_string()) {
        Some("query")
    } else {
        None
    }
}

/// Puts the request id on every response and writes every denied request (403) to the audit trail.
async fn request_context(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    // HEAD is GET without the body (RFC 9110, 9.3.2), which monitors and load balancers probe
    // with: it is routed as GET, and the HTTP codec, which saw HEAD, sends the headers alone.
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let request_id = req.extensions().get::<RequestId>().map(ToString::to_string);
    // Bodies are read as sent: a coded one (gzip, br) is refused (RFC 9110, 8.4) rather than
    // parsed as if it were plain or failed as malformed JSON.
    let coded = req
        .headers()
        .get_all(header::CONTENT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find(|coding| !coding.is_empty() && !coding.eq_ignore_ascii_case("identity"))
        .map(str::to_owned);
    if let Some(coding) = coded {
        let mut problem = ApiError::new(
            icat_common::ErrorCode::UnsupportedMediaType,
            415,
            format!("request bodies are read without a content coding; this one is {coding}"),
        )
        .error_response();
        problem.headers_mut().insert(
            header::ACCEPT_ENCODING,
            header::HeaderValue::from_static("identity"),
        );
        return Ok(refuse(req, request_id, problem));
    }
    if let Some(place) = control_character(&req) {
        let problem = ApiError::bad_request(format!(
            "the {place} holds a control character (percent-encoded or not); none is accepted"
        ))
        .error_response();
        return Ok(refuse(req, request_id, problem));
    }
    // Health checks come from load balancers and monitors: never limited.
    if !matches!(req.path(), "/healthz" | "/readyz")
        && let Some(limits) = req.app_data::<web::Data<ClientLimits>>()
    {
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        let client = limits.client(req.peer_addr().map(|a| a.ip()), forwarded);
        if let Some(Err(wait)) = client.map(|c| limits.check(c)) {
            let problem = ApiError::rate_limited(wait.as_secs_f64().ceil() as u64).error_response();
            return Ok(refuse(req, request_id, problem));
        }
    }
    let db = req.app_data::<web::Data<Db>>().cloned();
    let target = format!("{} {}", req.method(), req.path());
    let mut res = next.call(req).await?.map_into_left_body();
    if res.status() == actix_web::http::StatusCode::FORBIDDEN {
        let user = res.request().extensions().get::<AuthUser>().cloned();
        if let (Some(db), Some(user)) = (db, user) {
            let actor = Actor {
                request_id: request_id.clone(),
                ..user.actor()
            };
            let recorded = db
                .run(move |conn| {
                    Ok(icat_audit::record(
                        conn,
                        &actor,
                        &NewEvent {
                            action: "denied",
                            entity: "request",
                            entity_id: None,
                            outcome: Outcome::Denied,
                            changes: Some(serde_json::json!({ "request": target })),
                        },
                    )?)
                })
                .await;
            if let Err(e) = recorded {
                tracing::error!(error = %e, "could not audit a denied request");
            }
        }
    }
    if let Some(id) = request_id.and_then(|id| header::HeaderValue::from_str(&id).ok()) {
        res.headers_mut()
            .insert(header::HeaderName::from_static("x-request-id"), id);
    }
    Ok(res)
}

/// The content security policy: no inline scripts or styles, nothing from elsewhere, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// Starts serving on a bound listener; the returned server runs until stopped or signalled
/// (SIGTERM and SIGINT stop it gracefully, letting requests in flight finish).
pub fn serve(state: State, listener: TcpListener, workers: usize) -> std::io::Result<Server> {
    let doc = openapi();
    let openapi_json = Arc::new(serde_json::to_vec(&doc).unwrap_or_default());
    let table = web::Data::new(RouteTable::new(&doc));
    // Database work is the only blocking work, and `Db::run` admits one task per pooled
    // connection: more blocking threads would only idle.
    let blocking_threads = state.db.max_connections();
    let db = web::Data::new(state.db.clone());
    let auth = web::Data::new(state.auth);
    let limits = web::Data::from(state.limits);
    let features = web::Data::from(state.features);
    let totals = web::Data::new(icat_activities::query::Totals::default());
    let metrics = state.metrics.map(web::Data::new);
    let unsubscribe = web::Data::new(state.unsubscribe);
    if let Some(mailer) = state.mailer {
        tokio::spawn(icat_notices::outbox::run(state.db.clone(), mailer));
    }
    let resets = web::Data::from(state.resets);
    let idle = (limits.clone(), resets.clone());
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            idle.0.forget_idle();
            idle.1.forget_idle();
        }
    });
    let mut server = HttpServer::new(move || {
        let openapi_json = openapi_json.clone();
        let metrics = metrics.clone();
        let (app, _) = App::new()
            .into_utoipa_app()
            .configure(api)
            .split_for_parts();
        app.app_data(db.clone())
            .app_data(auth.clone())
            .app_data(limits.clone())
            .app_data(features.clone())
            .app_data(totals.clone())
            .app_data(unsubscribe.clone())
            .app_data(resets.clone())
            .app_data(table.clone())
            .app_data(json_config(JSON_LIMIT))
            .app_data(payload_config(JSON_LIMIT))
            .app_data(query_config())
            .app_data(path_config())
            .route(
                "/api/openapi.json",
                web::get().to(move || {
                    let body = openapi_json.clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body(body.as_ref().clone())
                    }
                }),
            )
            .configure(|cfg| {
                if let Some(metrics) = metrics.as_ref() {
                    cfg.app_data(metrics.clone());
                    if metrics.on_main_port {
                        cfg.route("/metrics", web::get().to(crate::metrics::exposition));
                    }
                }
            })
            .default_service(web::to(fallback))
            .wrap(from_fn(request_context))
            .wrap(from_fn(crate::metrics::record))
            .wrap(
                DefaultHeaders::new()
                    .add((header::CONTENT_SECURITY_POLICY, CSP))
                    .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                    .add((header::X_FRAME_OPTIONS, "DENY"))
                    .add((header::REFERRER_POLICY, "no-referrer"))
                    .add(("Cross-Origin-Opener-Policy", "same-origin"))
                    .add((
                        "Permissions-Policy",
                        "camera=(), microphone=(), geolocation=()",
                    ))
                    // Personal data: nothing is cached unless a route says otherwise.
                    .add((header::CACHE_CONTROL, "no-store")),
            )
            .wrap(TracingLogger::default())
    })
    .shutdown_timeout(30)
    .worker_max_blocking_threads(blocking_threads);
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok(server.listen(listener)?.run())
}
