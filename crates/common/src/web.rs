//! The HTTP face of [`ApiError`]: RFC 9457 problem details, the extractor configurations that turn
//! actix-web's own failures (bad JSON, wrong content type, oversized bodies, bad query strings)
//! into the same shape, and the ETag / If-Match helpers of optimistic concurrency.

use crate::{ApiError, ErrorCode, FieldError};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, error, web};
use serde::Serialize;

/// The problem-details body (RFC 9457) every error answers with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:icat:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code; clients branch on this, not on the text.
    pub code: ErrorCode,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For `duplicate_activity`: the activity this request would repeat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<String>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let body = Problem {
            kind: format!("urn:icat:problem:{}", self.code.as_str()),
            title: self.title().to_owned(),
            status: self.status,
            detail: self.detail.clone(),
            code: self.code,
            errors: self.errors.clone(),
            existing_id: self.existing_id.clone(),
        };
        let mut res = HttpResponse::build(self.status_code());
        res.content_type("application/problem+json")
            .insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Some(allow) = &self.allow {
            res.insert_header((header::ALLOW, allow.clone()));
        }
        if self.code == ErrorCode::Unauthorized || self.code == ErrorCode::InvalidCredentials {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        res.json(body)
    }
}

/// Largest JSON body any route accepts unless it sets its own limit.
pub const JSON_LIMIT: usize = 64 * 1024;

/// JSON bodies: only `application/json` (415 otherwise), a size limit (413) and problem details for
/// malformed JSON or unknown fields (400).
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .content_type_required(true)
        .content_type(|mime| mime.type_() == "application" && mime.subtype() == "json")
        .error_handler(|err, _req| {
            let api = match &err {
                error::JsonPayloadError::ContentType => ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    415,
                    "the body must be JSON, sent with Content-Type: application/json",
                ),
                error::JsonPayloadError::Overflow { limit }
                | error::JsonPayloadError::OverflowKnownLength { limit, .. } => ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    413,
                    format!("the body is larger than the {limit} bytes this route accepts"),
                ),
                error::JsonPayloadError::Deserialize(e) => {
                    ApiError::bad_request(format!("the JSON body is not valid here: {e}"))
                }
                other => ApiError::bad_request(format!("the body could not be read: {other}")),
            };
            api.into()
        })
}

/// Query strings that do not parse (a letter for a number, an unknown parameter) give 400.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        ApiError::bad_request(format!("the query string is not valid here: {err}")).into()
    })
}

/// Path segments that do not parse give 404: such a resource cannot exist.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|_err, _req| ApiError::not_found("no such resource").into())
}

/// Raw bodies (CSV uploads and the like): a size limit answered with 413.
pub fn payload_config(limit: usize) -> web::PayloadConfig {
    web::PayloadConfig::new(limit)
}

/// The strong ETag of a resource at a version.
pub fn etag(version: i32) -> header::EntityTag {
    header::EntityTag::new_strong(version.to_string())
}

/// Checks the `If-Match` precondition of a write against the version the client must have read:
/// missing gives 428, anything but a strong match gives 412. Returns the version to update from.
pub fn require_if_match(req: &HttpRequest) -> Result<IfMatch, ApiError> {
    let values: Vec<&str> = req
        .headers()
        .get_all(header::IF_MATCH)
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        return Err(ApiError::precondition_required());
    }
    let mut tags = Vec::new();
    for value in values {
        match entity_tags(value) {
            Some(EntityTags::Any) => return Ok(IfMatch::Any),
            Some(EntityTags::Strong(found)) => tags.extend(found),
            None => {
                return Err(ApiError::bad_request(
                    "If-Match must be * or a list of ETags like \"3\"",
                ));
            }
        }
    }
    Ok(IfMatch::Versions(tags))
}

enum EntityTags {
    Any,
    /// The versions named by strong tags. Weak tags and tags that are no version of ours are
    /// well-formed but can never match (RFC 9110 compares If-Match strongly): they lead to 412.
    Strong(Vec<i32>),
}

/// Parses one `If-Match` field value: `*`, or `#entity-tag` where an entity tag is `"..."` or
/// `W/"..."` (commas may sit inside the quotes). `None` when it is not well-formed.
fn entity_tags(value: &str) -> Option<EntityTags> {
    let value = value.trim();
    if value == "*" {
        return Some(EntityTags::Any);
    }
    let mut versions = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        let (weak, quoted) = match rest.strip_prefix("W/") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let body = quoted.strip_prefix('"')?;
        let end = body.find('"')?;
        let tag = &body[..end];
        if !tag
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
        {
            return None;
        }
        if !weak && let Ok(v) = tag.parse::<i32>() {
            versions.push(v);
        }
        rest = &body[end + 1..];
        if !(rest.is_empty() || rest.starts_with([',', ' ', '\t'])) {
            return None;
        }
    }
    if versions.is_empty() && value.trim_matches([' ', '\t', ',']).is_empty() {
        return None;
    }
    Some(EntityTags::Strong(versions))
}

/// What an `If-Match` header accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Versions(Vec<i32>),
}

impl IfMatch {
    /// The version the update must find in the database, or 412 when the client's copy is stale.
    pub fn expected(&self, current: i32) -> Result<i32, ApiError> {
        match self {
            Self::Any => Ok(current),
            Self::Versions(v) if v.contains(&current) => Ok(current),
            Self::Versions(_) => Err(ApiError::precondition_failed()),
        }
    }
}

/// A 200 JSON answer with the resource's ETag and no caching (the API serves personal data).
pub fn with_etag<T: Serialize>(version: i32, body: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(header::ETag(etag(version)))
        .json(body)
}

/// A 201 JSON answer with the new resource's ETag and location.
pub fn created<T: Serialize>(location: &str, version: i32, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header(header::ETag(etag(version)))
        .insert_header((header::LOCATION, location.to_owned()))
        .json(body)
}

/// A file to download (CSV, vCard): its type, a file name and the body.
pub fn download(content_type: &str, filename: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type.to_owned())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(body)
}

/// A JSON body as `T`, which must come as an object: serde would also read a struct from an array
/// of its fields in order, and a body whose fields are all optional would take `[null, null]`.
pub fn json_object<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> Result<T, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    }
    serde_json::from_value(body)
        .map_err(|e| ApiError::bad_request(format!("the JSON body is not valid here: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    proptest::proptest! {
        /// Any If-Match value parses or is refused; none panics.
        #[test]
        fn any_if_match_value_is_handled(value in "[ -~]{0,80}|(W/)?\"[!#-~]{0,8}\"( ?, ?(W/)?\"[!#-~,]{0,8}\")*") {
            let _ = entity_tags(&value);
        }
    }

    #[test]
    fn if_match_parsing() {
        let req = TestRequest::default().to_http_request();
        assert_eq!(
            require_if_match(&req).map_err(|e| e.status),
            Err(428),
            "missing header"
        );
        let req = TestRequest::default()
            .insert_header((header::IF_MATCH, "\"3\", \"4\""))
            .to_http_request();
        let im = require_if_match(&req).map_err(|e| e.status);
        assert_eq!(im, Ok(IfMatch::Versions(vec![3, 4])));
        let req = TestRequest::default()
            .insert_header((header::IF_MATCH, "W/\"3\""))
            .to_http_request();
        let weak = require_if_match(&req).map_err(|e| e.status);
        assert_eq!(
            weak.and_then(|m| m.expected(3).map_err(|e| e.status)),
            Err(412)
        );
        // Well-formed tags that are no version of ours are stale, not malformed: 412.
        for stale in [
            "\"k?V{qI7r\"",
            "\"|R^*\", W/\"m\", W/\"~9xI_S,+9kH!W)S\"",
            "W/\"\"",
        ] {
            let req = TestRequest::default()
                .insert_header((header::IF_MATCH, stale))
                .to_http_request();
            let found = require_if_match(&req).map_err(|e| e.status);
            assert_eq!(
                found.and_then(|m| m.expected(3).map_err(|e| e.status)),
                Err(412),
                "{stale}"
            );
        }
        for malformed in ["3", "\"3", "abc", ",", "\"3\"x"] {
            let req = TestRequest::default()
                .insert_header((header::IF_MATCH, malformed))
                .to_http_request();
            assert_eq!(
                require_if_match(&req).map_err(|e| e.status),
                Err(400),
                "{malformed}"
            );
        }
    }
}
