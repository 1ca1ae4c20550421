//! One error type for the whole service. Every failure a client can see is an [`ApiError`] with a
//! stable machine `code`; the HTTP mapping to RFC 9457 problem details lives in `web.rs`.

use serde::Serialize;

/// The stable error codes of the API contract, one per kind of failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Unauthorized,
    InvalidCredentials,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    DuplicateActivity,
    PreconditionFailed,
    UnsupportedMediaType,
    /// 400 for malformed input, 422 for well-formed input that breaks a rule.
    ValidationFailed,
    PreconditionRequired,
    PayloadTooLarge,
    RateLimited,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict => "conflict",
            Self::DuplicateActivity => "duplicate_activity",
            Self::PreconditionFailed => "precondition_failed",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::ValidationFailed => "validation_failed",
            Self::PreconditionRequired => "precondition_required",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::Unauthorized => "Authentication required",
            Self::InvalidCredentials => "Invalid credentials",
            Self::Forbidden => "Forbidden",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::Conflict => "Conflict",
            Self::DuplicateActivity => "Duplicate activity",
            Self::PreconditionFailed => "Precondition failed",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::ValidationFailed => "Validation failed",
            Self::PreconditionRequired => "Precondition required",
            Self::PayloadTooLarge => "Payload too large",
            Self::RateLimited => "Too many requests",
            Self::Unavailable => "Service unavailable",
            Self::Internal => "Internal error",
        }
    }
}

/// One field's complaint inside a validation error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// For uploaded files: the line of the file (the header is line 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    pub field: String,
    /// Which rule the value broke, for rules with a code of their own (so far the password
    /// rules: `too_short`, `too_long`, `contains_personal_info`, `weak_password`); clients word
    /// it in their language, `message` says it in English.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub message: String,
}

/// A failure the client sees, with everything needed to render it as problem details.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{code:?} ({status}): {detail}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub status: u16,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// The id of the record this request would duplicate (`duplicate_activity`, `conflict`).
    pub existing_id: Option<String>,
    /// Seconds to wait, for `rate_limited` and `unavailable`.
    pub retry_after: Option<u64>,
    /// The methods a path does answer, for `method_not_allowed`.
    pub allow: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, status: u16, detail: impl Into<String>) -> Self {
        Self {
            code,
            status,
            detail: detail.into(),
            errors: Vec::new(),
            existing_id: None,
            retry_after: None,
            allow: None,
        }
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, 401, detail)
    }
    pub fn invalid_credentials() -> Self {
        Self::new(
            ErrorCode::InvalidCredentials,
            401,
            "email or password is wrong",
        )
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, 403, detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, 404, detail)
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, 409, detail)
    }
    pub fn precondition_failed() -> Self {
        Self::new(
            ErrorCode::PreconditionFailed,
            412,
            "the resource has changed since you read it; fetch it again and retry",
        )
    }
    pub fn precondition_required() -> Self {
        Self::new(
            ErrorCode::PreconditionRequired,
            428,
            "this request needs an If-Match header with the ETag you last read",
        )
    }
    /// Malformed input: bad JSON, unknown fields, unparsable query strings (400).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationFailed, 400, detail)
    }
    /// Well-formed input that breaks a rule (422), with one entry per offending field.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            errors,
            ..Self::new(ErrorCode::ValidationFailed, 422, detail)
        }
    }
    /// A single-field rule violation with the rule's code (422).
    pub fn invalid_coded(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError {
            row: None,
            field: field.to_owned(),
            code: Some(code.to_owned()),
            message: message.into(),
        }])
    }
    /// A single-field rule violation (422).
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError {
            code: None,
            row: None,
            field: field.to_owned(),
            message: message.into(),
        }])
    }
    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after.max(1)),
            ..Self::new(
                ErrorCode::RateLimited,
                429,
                "too many attempts; wait before trying again",
            )
        }
    }
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self {
            retry_after: Some(1),
            ..Self::new(ErrorCode::Unavailable, 503, detail)
        }
    }
    /// An unexpected failure: the cause goes to the log, never to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::Internal, 500, "an unexpected error occurred")
    }

    pub fn title(&self) -> &'static str {
        self.code.title()
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        match &err {
            Error::NotFound => Self::not_found("no such record"),
            Error::DatabaseError(Kind::UniqueViolation, _) => {
                Self::conflict("a record with the same unique value already exists")
            }
            Error::DatabaseError(Kind::ForeignKeyViolation, _) => {
                Self::invalid_field("id", "refers to a record that does not exist")
            }
            Error::DatabaseError(Kind::SerializationFailure, _) => {
                Self::unavailable("the database was busy; retry the request")
            }
            Error::DatabaseError(Kind::ClosedConnection, _) => {
                Self::unavailable("the database connection was lost; retry the request")
            }
            Error::DatabaseError(_, info) if info.message().contains("database is locked") => {
                Self::unavailable("the database was busy; retry the request")
            }
            // PostgreSQL's statement_timeout (see icat_store::PoolOptions).
            Error::DatabaseError(_, info) if info.message().contains("statement timeout") => {
                Self::unavailable("the request took too long and was stopped; narrow it or retry")
            }
            _ => Self::internal(err),
        }
    }
}

/// Collects field errors while a request body is parsed into domain types, so a client learns about
/// every broken field at once rather than one per round trip.
#[derive(Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            code: None,
            row: None,
            field: field.to_owned(),
            message: message.into(),
        });
    }
    /// Records a field's error with the code of the rule it broke.
    pub fn add_coded(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            row: None,
            field: field.to_owned(),
            code: Some(code.to_owned()),
            message: message.into(),
        });
    }
    /// Keeps the value of a field check, or records its error.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The complaints, each marked with a row of an uploaded file.
    pub fn into_rows(self, row: usize) -> Vec<FieldError> {
        self.0
            .into_iter()
            .map(|e| FieldError {
                row: Some(row),
                ..e
            })
            .collect()
    }
    pub fn into_result(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(self.0))
        }
    }
}
