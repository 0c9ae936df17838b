//! Every error the API answers with: a status and an [`ErrorBody`], one constructor per code.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kernel::{InfraError, TripId};

use super::body::{ErrorBody, Violation};

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The JSON body.
    pub body: ErrorBody,
}

impl ApiError {
    fn new(status: StatusCode, error: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                error: error.to_owned(),
                message: bounded(message.into()),
                violations: Vec::new(),
            },
        }
    }

    /// 400: the body is not JSON.
    pub fn invalid_json(violation: Violation) -> Self {
        let mut error = Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "the request body is not valid JSON",
        );
        error.body.violations.push(violation);
        error
    }

    /// 400: the body breaks the request schema.
    pub fn invalid_request(violations: Vec<Violation>) -> Self {
        let count = violations.len();
        let mut error = Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!(
                "the request does not match the NewTrip schema: {count} violation{}",
                if count == 1 { "" } else { "s" }
            ),
        );
        error.body.violations = violations;
        error
    }

    /// 400: the `Idempotency-Key` header is unusable.
    pub fn invalid_idempotency_key(reason: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            format!("the Idempotency-Key header {reason}"),
        )
    }

    /// 400: the path does not hold a trip id.
    pub fn invalid_trip_id(message: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_trip_id",
            message.to_string(),
        )
    }

    /// 400: a search's query parameter is missing, repeated, unknown or invalid.
    pub fn invalid_query(error: &search::domain::InvalidParameter) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("query parameter `{}`: {}", error.parameter, error.message),
        )
    }

    /// 404: no such trip.
    pub fn trip_not_found(trip_id: TripId) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "trip_not_found",
            format!("no trip {trip_id}"),
        )
    }

    /// 404: no such route.
    pub fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no resource at {path}; see /openapi.json"),
        )
    }

    /// 405: the route exists, the method does not.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this resource does not support that method; see /openapi.json",
        )
    }

    /// 409: the trip exists: its booking has ended, or it was started with another body (Step
    /// Functions' `ExecutionAlreadyExists`, which API Gateway answers with the same body).
    pub fn trip_exists(trip_id: TripId) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "trip_exists",
            format!(
                "trip {trip_id} exists: its booking has finished, or it was started with another \
                 body; see /trips/{trip_id}. A new booking needs a new Idempotency-Key"
            ),
        )
    }

    /// 500: Step Functions refused the execution for a reason no request can cause (a missing
    /// state machine, a denied permission): API Gateway's answer; the local API never gives it.
    pub fn start_failed() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "start_failed",
            "the booking could not be started; nothing was booked",
        )
    }

    /// 503: Step Functions did not answer (API Gateway's answer); locally, a request whose trip's
    /// start was withdrawn round after round by other requests' failed log writes.
    pub fn start_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "start_unavailable",
            "the booking could not be started now; retry with the same Idempotency-Key",
        )
    }

    /// 413: the body is larger than any trip request.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {limit} bytes"),
        )
    }

    /// 414: the request's URI is longer than the HTTP server reads (hyper's limit, 65,534
    /// bytes; the connection layer gives hyper's answer this body).
    pub fn uri_too_long() -> Self {
        Self::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            "the request's URI is longer than this server reads (65,534 bytes); \
             a search's parameters are a few dozen bytes",
        )
    }

    /// 431: the request's headers are more or larger than the HTTP server reads (hyper's
    /// limits: 100 headers, a head of about 400 KiB; the connection layer gives hyper's answer
    /// this body).
    pub fn header_fields_too_large() -> Self {
        Self::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "header_fields_too_large",
            "the request's headers are more or larger than this server reads \
             (at most 100 headers, about 400 KiB in all)",
        )
    }

    /// 400: the request line or a header is not HTTP (hyper's answer, which
    /// the connection layer gives this body).
    pub fn malformed_request() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            "the request line or a header is not valid HTTP/1.1",
        )
    }

    /// 415: not sent as JSON.
    pub fn unsupported_media_type(found: Option<&str>) -> Self {
        let found = found.map_or_else(|| "none".to_owned(), |f| format!("`{f}`"));
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send the body as `Content-Type: application/json` (found {found})"),
        )
    }

    /// 503: the store failed.
    pub fn store_unavailable(error: &InfraError) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            format!("the store failed: {error}"),
        )
    }
}

/// The longest message, in characters, of an error or of one of its violations: the schema's
/// validator and the search's parameters quote the offending value, and an error must not grow
/// with the request it rejects (a 60 KB string would make a 120 KB answer).
const MESSAGE_CHARS: usize = 240;

/// `message`, cut in the middle when it is longer than [`MESSAGE_CHARS`].
pub(crate) fn bounded(message: String) -> String {
    saga_runtime::bounded(message, MESSAGE_CHARS)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}
