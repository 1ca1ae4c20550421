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
    /// 403 until an account the secretariat created chooses its own password.
    PasswordChangeRequired,
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
            Self::PasswordChangeRequired => "password_change_required",
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
            Self::PasswordChangeRequired => "Password change required",
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
    /// The rule the value broke, stable for clients to word in their language with `params`
    /// (`message` says it in English): `required`, `too_short` (`min`), `too_long` (`max`),
    /// `too_many` (`max`), `control_characters`, `no_letters`, `not_a_date` (`example`),
    /// `out_of_range` (`min`, `max`), `before` (`other`: the field it must not precede),
    /// `not_allowed` (`value`, `allowed`), `not_whole`, `not_a_number`, `separator` (`value`,
    /// `separator`), `not_an_email`, `not_a_web_address`, `not_a_phone`, `not_a_country`
    /// (`value`), `not_a_language` (`value`), `not_found`, the password rules
    /// (`contains_personal_info`, `weak_password`, with zxcvbn's advice in `message`, `unchanged`),
    /// `invalid_link`; for CSV files `not_utf8`, `unreadable`, `column_unnamed`,
    /// `column_repeated`, `column_unknown`, `column_missing`, `cell_count` (`cells`, `columns`);
    /// and `invalid` for the few rules without a code of their own (the message says why).
    #[schema(example = "too_long")]
    pub code: String,
    /// What the wording needs: `{"max": 300}` for `too_long`, `{"other": "start_date"}` for
    /// `before`, `{"value": "XX"}` for `not_allowed`.
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(value_type = Object)]
    pub params: serde_json::Map<String, serde_json::Value>,
    pub message: String,
}

/// A broken validation rule: a stable code, the values its wording needs, and the English message
/// (the codes are listed on [`FieldError::code`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub code: &'static str,
    pub params: serde_json::Map<String, serde_json::Value>,
    pub message: String,
}

impl Rule {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            params: serde_json::Map::new(),
            message: message.into(),
        }
    }
    /// The rule with one more parameter for its wording.
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.params.insert(name.to_owned(), value.into());
        self
    }
    pub fn required() -> Self {
        Self::new("required", "must not be empty")
    }
    pub fn too_long(max: usize) -> Self {
        Self::new("too_long", format!("must be at most {max} characters")).with("max", max)
    }
    pub fn too_short(min: usize) -> Self {
        Self::new("too_short", format!("must be at least {min} characters")).with("min", min)
    }
    /// A value outside a closed list: `value` as given, `allowed` the list.
    pub fn not_allowed(value: &str, allowed: &[&str], message: impl Into<String>) -> Self {
        Self::new("not_allowed", message)
            .with("value", value)
            .with("allowed", allowed.to_vec())
    }
    fn at(self, field: &str, row: Option<usize>) -> FieldError {
        FieldError {
            row,
            field: field.to_owned(),
            code: self.code.to_owned(),
            params: self.params,
            message: self.message,
        }
    }
}

/// A rule without a code of its own: the English message is all there is.
impl From<String> for Rule {
    fn from(message: String) -> Self {
        Self::new("invalid", message)
    }
}

impl From<&str> for Rule {
    fn from(message: &str) -> Self {
        Self::new("invalid", message)
    }
}

/// Where a rule's words are all there is (a bad query parameter is a 400 with a sentence).
impl From<Rule> for String {
    fn from(rule: Rule) -> Self {
        rule.message
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl FieldError {
    /// A field's (or a file row's) broken rule.
    pub fn new(field: &str, row: Option<usize>, rule: impl Into<Rule>) -> Self {
        rule.into().at(field, row)
    }
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
    pub fn password_change_required() -> Self {
        Self::new(
            ErrorCode::PasswordChangeRequired,
            403,
            "choose your own password first (POST /api/v1/auth/password): this account still has the one it was given",
        )
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
    /// A single-field rule violation (422).
    pub fn invalid_field(field: &str, rule: impl Into<Rule>) -> Self {
        Self::invalid(vec![FieldError::new(field, None, rule)])
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
    pub fn add(&mut self, field: &str, rule: impl Into<Rule>) {
        self.0.push(FieldError::new(field, None, rule));
    }
    /// Keeps the value of a check that may fail with field errors (a 422), recording them with the
    /// others; any other failure (a 403) is the answer at once.
    pub fn take<T>(&mut self, result: Result<T, ApiError>) -> Result<Option<T>, ApiError> {
        match result {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.code == ErrorCode::ValidationFailed => {
                self.0.extend(e.errors);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
    /// Keeps the value of a field check, or records its error.
    pub fn check<T, E: Into<Rule>>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(rule) => {
                self.add(field, rule);
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
