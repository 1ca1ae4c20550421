//! The `AuthUser` extractor and the role guards every crate's handlers use. The token is decoded
//! once per request and the session and user are read from the database, so logout, password
//! change, role change and deactivation all act on the very next request.

use crate::token::TokenKeys;
use crate::users::Role;
use crate::{password::Hasher, sessions};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use icat_audit::Actor;
use icat_common::ApiError;
use icat_store::Db;
use std::future::Future;
use std::pin::Pin;

/// What the auth crate shares with the server: signing keys and the capped hasher.
#[derive(Clone)]
pub struct AuthConfig {
    pub keys: TokenKeys,
    pub hasher: Hasher,
}

/// The signed-in user of a request.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub agency_id: Option<String>,
    pub session_id: String,
    pub request_id: Option<String>,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Admins only (the ICAT secretariat).
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "only the ICAT secretariat (admin) may do this",
            ))
        }
    }

    /// Admins, or editors of the named agency: the rule of every agency-owned record.
    pub fn require_writer_for(&self, agency_id: &str) -> Result<(), ApiError> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Editor if self.agency_id.as_deref() == Some(agency_id) => Ok(()),
            Role::Editor => Err(ApiError::forbidden(
                "editors may change only their own agency's records",
            )),
            Role::Viewer => Err(ApiError::forbidden(
                "viewers may read but not change records",
            )),
        }
    }

    /// The audit context of this user's request.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.id.clone()),
            email: Some(self.email.clone()),
            request_id: self.request_id.clone(),
        }
    }
}

/// The request id that the tracing middleware gave this request.
pub fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(ToString::to_string)
}

/// The audit context of a request made before sign-in.
pub fn anonymous_actor(req: &HttpRequest, email: Option<&str>) -> Actor {
    Actor {
        user_id: None,
        email: email.map(str::to_owned),
        request_id: request_id(req),
    }
}

fn bearer(req: &HttpRequest) -> Result<&str, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("sign in first: this route needs a bearer token"))?
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not valid"))?;
    let (scheme, token) = value.split_once(' ').ok_or_else(|| {
        ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "the Authorization header must be `Bearer <token>`",
        ));
    }
    Ok(token.trim())
}

/// What an account that must still choose its own password may do: read who it is, choose the
/// password, sign out. The secretariat knows the password it was given, so nothing else is the
/// owner's own doing until then.
fn allowed_before_first_password(req: &HttpRequest) -> bool {
    use actix_web::http::Method;
    matches!(
        (req.method(), req.path()),
        (&Method::GET, "/api/v1/auth/me")
            | (&Method::POST, "/api/v1/auth/password")
            | (&Method::POST, "/api/v1/auth/logout")
    )
}

async fn authenticate(req: HttpRequest) -> Result<AuthUser, ApiError> {
    let config = req
        .app_data::<web::Data<AuthConfig>>()
        .ok_or_else(|| ApiError::internal("AuthConfig is not registered"))?;
    let db = req
        .app_data::<web::Data<Db>>()
        .ok_or_else(|| ApiError::internal("Db is not registered"))?
        .clone();
    let claims = config.keys.verify(bearer(&req)?)?;
    let (sid, sub) = (claims.sid.clone(), claims.sub.clone());
    let row = db
        .read(move |conn| Ok(sessions::principal(conn, &sid, &sub)?))
        .await?
        .ok_or_else(|| ApiError::unauthorized("this session has ended; sign in again"))?;
    if row.must_change_password && !allowed_before_first_password(&req) {
        return Err(ApiError::password_change_required());
    }
    let user = AuthUser {
        role: Role::from_db(&row.role),
        id: row.id,
        email: row.email,
        agency_id: row.agency_id,
        session_id: claims.sid,
        request_id: request_id(&req),
    };
    // Kept for the middleware that audits denied requests.
    req.extensions_mut().insert(user.clone());
    Ok(user)
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}
