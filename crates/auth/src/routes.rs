//! HTTP routes of sign-in (`/api/v1/auth/*`) and of user administration (`/api/v1/users*`).

use crate::extract::{AuthConfig, AuthUser, anonymous_actor};
use crate::sessions::{self, Rotation};
use crate::token::ACCESS_TTL_SECS;
use crate::users::{self, NewUser, Role, User, UserPatch};
use crate::{password, throttle};
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use icat_audit::{NewEvent, Outcome};
use icat_common::validate::{self, Email, double_option};
use icat_common::vocab::schema::{EmailAddress, Name, Password};
use icat_common::web::{Problem, created, require_if_match, with_etag};
use icat_common::{ApiError, Page, PageParams, Rule, Violations};
use icat_store::Db;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Registers this crate's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(login)
        .service(refresh)
        .service(logout)
        .service(me)
        .service(change_password)
        .service(list_users)
        .service(create_user)
        .service(get_user)
        .service(update_user);
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(max_length = 1000)]
    pub email: String,
    #[schema(max_length = 1000)]
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <access_token>`; valid for `expires_in` seconds.
    pub access_token: String,
    /// Exchange at `/api/v1/auth/refresh` for a new pair; each one works once.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    pub expires_in: i64,
    pub user: User,
}

fn tokens(
    config: &AuthConfig,
    user: User,
    session_id: &str,
    refresh_token: String,
) -> Result<HttpResponse, ApiError> {
    let access_token = config.keys.issue(&user.id, session_id)?;
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: ACCESS_TTL_SECS,
        user,
    }))
}

/// Sign in. Unknown e-mail, wrong password and deactivated account give the same 401; repeated
/// failures for one account give 429 with `Retry-After`.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "invalid_credentials", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "rate_limited, with Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/login")]
async fn login(
    req: HttpRequest,
    db: web::Data<Db>,
    config: web::Data<AuthConfig>,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { email, password } = body.into_inner();
    // A control character (NUL above all, which PostgreSQL refuses in text) never belongs to an
    // address: it becomes U+FFFD, so the key names no account and the answer is the usual 401.
    let key: String = email
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .take(254)
        .collect();
    let actor = anonymous_actor(&req, Some(&key));
    let user = {
        let key = key.clone();
        db.run(move |conn| {
            throttle::check(conn, &key)?;
            Ok(users::find_by_email(conn, &key)?)
        })
        .await
        .inspect_err(|e| {
            if e.code == icat_common::ErrorCode::RateLimited {
                metrics::counter!("icat_login_throttled_total").increment(1);
            }
        })?
    };
    let matches = match &user {
        Some(u) => {
            config
                .hasher
                .verify(password, u.password_hash.clone())
                .await?
        }
        None => {
            config.hasher.waste(password).await?;
            false
        }
    };
    match user {
        Some(user) if matches && user.active => {
            let opened = db
                .run(move |conn| {
                    icat_store::write(conn, |conn| {
                        throttle::clear(conn, &user.email)?;
                        let (sid, refresh_token) = sessions::open(conn, &user.id)?;
                        let mut actor = actor;
                        actor.user_id = Some(user.id.clone());
                        icat_audit::record(
                            conn,
                            &actor,
                            &NewEvent::success("login", "user", &user.id),
                        )?;
                        Ok::<_, ApiError>((User::from(user), sid, refresh_token))
                    })
                })
                .await?;
            let (user, sid, refresh_token) = opened;
            tokens(&config, user, &sid, refresh_token)
        }
        user => {
            metrics::counter!("icat_login_failures_total").increment(1);
            let reason = match &user {
                None => "unknown_email",
                Some(u) if !u.active => "inactive_account",
                Some(_) => "wrong_password",
            };
            let user_id = user.map(|u| u.id);
            db.run(move |conn| {
                throttle::fail(conn, &key)?;
                icat_audit::record(
                    conn,
                    &actor,
                    &NewEvent {
                        action: "login",
                        entity: "user",
                        entity_id: user_id.as_deref(),
                        outcome: Outcome::Failure,
                        changes: Some(serde_json::json!({ "reason": reason })),
                    },
                )?;
                Ok(())
            })
            .await?;
            Err(ApiError::invalid_credentials())
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Exchange a refresh token for a new pair. The old refresh token stops working; presenting a used
/// one revokes the whole session.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = TokenResponse),
        (status = 401, description = "Unknown, used or ended", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/refresh")]
async fn refresh(
    req: HttpRequest,
    db: web::Data<Db>,
    config: web::Data<AuthConfig>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = body.into_inner().refresh_token;
    let actor = anonymous_actor(&req, None);
    let rotation = db
        .run(move |conn| sessions::rotate(conn, &presented))
        .await?;
    match rotation {
        Rotation::Rotated {
            user,
            session_id,
            refresh_token,
        } => tokens(&config, User::from(user), &session_id, refresh_token),
        Rotation::Reused {
            user_id,
            session_id,
        } => {
            tracing::warn!(%session_id, "refresh token reused; session revoked");
            db.run(move |conn| {
                let mut actor = actor;
                actor.user_id = Some(user_id);
                Ok(icat_audit::record(
                    conn,
                    &actor,
                    &NewEvent {
                        action: "refresh_token_reused",
                        entity: "session",
                        entity_id: Some(&session_id),
                        outcome: Outcome::Denied,
                        changes: None,
                    },
                )?)
            })
            .await?;
            Err(ApiError::unauthorized(
                "this refresh token was already used; the session has ended",
            ))
        }
        Rotation::Invalid => Err(ApiError::unauthorized(
            "the refresh token is not valid; sign in again",
        )),
    }
}

/// Sign out: this session's tokens stop working.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
    )
)]
#[post("/api/v1/auth/logout")]
async fn logout(db: web::Data<Db>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    db.run(move |conn| {
        icat_store::write(conn, |conn| {
            sessions::revoke(conn, &user.session_id)?;
            icat_audit::record(
                conn,
                &user.actor(),
                &NewEvent::success("logout", "session", &user.session_id),
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = User),
    )
)]
#[get("/api/v1/auth/me")]
async fn me(db: web::Data<Db>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let row = db.run(move |conn| users::get(conn, &user.id)).await?;
    Ok(with_etag(row.version, &User::from(row)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(max_length = 1000)]
    pub current_password: String,
    #[schema(value_type = Password)]
    pub new_password: String,
}

/// Change your password (it must differ from the current one); your other sessions end. An
/// account that must choose its own password may do nothing else first.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 422, description = "Wrong current password, or the new one breaks the rules", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong current passwords", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/password")]
async fn change_password(
    db: web::Data<Db>,
    config: web::Data<AuthConfig>,
    user: AuthUser,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let PasswordChange {
        current_password,
        new_password,
    } = body.into_inner();
    let (row, email) = {
        let (id, email) = (user.id.clone(), user.email.clone());
        let row = db
            .run(move |conn| {
                throttle::check(conn, &email)?;
                users::get(conn, &id)
            })
            .await?;
        (row, user.email.clone())
    };
    let unchanged = new_password == current_password;
    if !config
        .hasher
        .verify(current_password, row.password_hash)
        .await?
    {
        db.run(move |conn| throttle::fail(conn, &email)).await?;
        return Err(ApiError::invalid_field(
            "current_password",
            "is not your current password",
        ));
    }
    if unchanged {
        return Err(ApiError::invalid_field(
            "new_password",
            Rule::new("unchanged", "must differ from your current password"),
        ));
    }
    password::check_rules(&new_password, &[&row.email, &row.name])
        .map_err(|r| ApiError::invalid_field("new_password", r))?;
    let hash = config.hasher.hash(new_password).await?;
    db.run(move |conn| {
        users::set_password(conn, &user.actor(), &user.id, &hash, Some(&user.session_id))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// `admin`, `editor` or `viewer`.
    pub role: Option<Role>,
    pub agency_id: Option<String>,
    pub active: Option<bool>,
    /// Part of the name or e-mail address.
    #[param(max_length = 500)]
    pub q: Option<String>,
    /// From 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    /// 1 to 100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

/// List user accounts (admin).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(UserQuery),
    responses(
        (status = 200, description = "A page of users", body = Page<User>),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/users")]
async fn list_users(
    db: web::Data<Db>,
    user: AuthUser,
    query: web::Query<UserQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require_admin()?;
    let q = query.into_inner();
    let page = PageParams::new(q.page, q.per_page)?;
    let filter = users::Filter {
        role: q.role,
        agency_id: q.agency_id,
        active: q.active,
        q: icat_common::search::query(q.q)?,
    };
    let page = db.run(move |conn| users::list(conn, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(value_type = EmailAddress)]
    pub email: String,
    #[schema(value_type = Name)]
    pub name: String,
    /// `admin`, `editor` or `viewer`.
    #[schema(value_type = Role)]
    pub role: String,
    /// Required for editors and viewers.
    pub agency_id: Option<String>,
    /// 12 to 128 characters, not a common password. A first password only: the account must
    /// choose its own at its first sign-in (`must_change_password`).
    #[schema(value_type = Password)]
    pub password: String,
}

fn parse_role(raw: &str) -> Result<Role, Rule> {
    match raw {
        "admin" => Ok(Role::Admin),
        "editor" => Ok(Role::Editor),
        "viewer" => Ok(Role::Viewer),
        _ => Err(Rule::not_allowed(
            raw,
            &["admin", "editor", "viewer"],
            "must be one of admin, editor, viewer",
        )),
    }
}

/// Create a user account (admin). Its owner signs in with the password given here and must
/// choose their own before anything else (403 `password_change_required` until then).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = User),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The e-mail address is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/users")]
async fn create_user(
    db: web::Data<Db>,
    config: web::Data<AuthConfig>,
    user: AuthUser,
    body: web::Json<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    user.require_admin()?;
    let body = body.into_inner();
    let mut v = Violations::new();
    let email = v.check("email", Email::parse(&body.email));
    let name = v.check("name", validate::text(&body.name, 200));
    let role = v.check("role", parse_role(&body.role));
    let personal: Vec<&str> = email
        .iter()
        .map(Email::as_str)
        .chain([body.name.as_str()])
        .collect();
    if let Err(refused) = password::check_rules(&body.password, &personal) {
        v.add("password", refused);
    }
    v.into_result()?;
    let (Some(email), Some(name), Some(role)) = (email, name, role) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let password_hash = config.hasher.hash(body.password).await?;
    let new = NewUser {
        email: email.into_inner(),
        name,
        role,
        agency_id: body.agency_id,
        password_hash,
        must_change_password: true,
    };
    let created_user = db
        .run(move |conn| users::create(conn, &user.actor(), new))
        .await?;
    Ok(created(
        &format!("/api/v1/users/{}", created_user.id),
        created_user.version,
        &created_user,
    ))
}

/// One user account (admin), with its ETag.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/users/{id}")]
async fn get_user(
    db: web::Data<Db>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require_admin()?;
    let row = db.run(move |conn| users::get(conn, &id)).await?;
    Ok(with_etag(row.version, &User::from(row)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[schema(value_type = Option<Name>)]
    pub name: Option<String>,
    /// `admin`, `editor` or `viewer`.
    #[schema(value_type = Option<Role>)]
    pub role: Option<String>,
    /// `null` removes the agency (admins only).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub agency_id: Option<Option<String>>,
    /// `false` deactivates the account and ends its sessions.
    pub active: Option<bool>,
}

/// Change a user account (admin); needs `If-Match`. A change of role, agency or active flag ends the
/// user's sessions.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "User id"),
        ("If-Match" = String, Header, description = "The ETag you last read, e.g. \"3\""),
    ),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "Changed", body = User),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would leave no active admin", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/api/v1/users/{id}")]
async fn update_user(
    req: HttpRequest,
    db: web::Data<Db>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<UpdateUser>,
) -> Result<HttpResponse, ApiError> {
    user.require_admin()?;
    let if_match = require_if_match(&req)?;
    let body = body.into_inner();
    let mut v = Violations::new();
    let name = body
        .name
        .as_deref()
        .and_then(|n| v.check("name", validate::text(n, 200)));
    let role = body
        .role
        .as_deref()
        .and_then(|r| v.check("role", parse_role(r)));
    v.into_result()?;
    let patch = UserPatch {
        name,
        role,
        agency_id: body.agency_id,
        active: body.active,
    };
    let updated = db
        .run(move |conn| {
            users::update(
                conn,
                &user.actor(),
                &id,
                |current| if_match.expected(current),
                patch,
            )
        })
        .await?;
    Ok(with_etag(updated.version, &updated))
}
