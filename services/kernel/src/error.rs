//! Infrastructure errors and the saga error names they become.
//!
//! Step Functions routes a failed task by the *name* of its error (`Retry`/`Catch` compare the
//! Lambda `errorType` with `ErrorEquals`). The kernel fixes four names for store failures, so
//! every service reports them the same way and every saga retries the same ones:
//!
//! | name               | transient | raised when                                                        |
//! |--------------------|-----------|--------------------------------------------------------------------|
//! | `StoreThrottled`   | yes       | throttling: provisioned throughput, request limit, throttling error |
//! | `StoreUnavailable` | yes       | timeouts, connection failures, DynamoDB 5xx / internal errors       |
//! | `StoreConflict`    | yes       | a concurrent transaction touched the same item (`TransactionConflict`) |
//! | `StoreFailed`      | no        | the request is wrong or the data is: validation errors, missing table, access denied, an item that does not map |
//!
//! Transient names belong in a step's `transient_errors` (retried with backoff); `StoreFailed` is
//! a bug or a misconfiguration that the same request would hit again, so it goes straight to the
//! step's `Catch` and compensation. Business outcomes (sold out, card declined, …) are never
//! infrastructure errors: each service names them in its own per-operation enum.
//!
//! A service embeds [`InfraError`] in its per-operation error enum with one variant per name,
//! derives `StepError` (each variant's name is the error name), and lets
//! [`impl_from_infra_error!`](crate::impl_from_infra_error) write the `From` conversion, so `?`
//! works on every kernel call and a missing variant is a compile error:
//!
//! ```
//! use kernel::InfraError;
//! use saga_model::StepError;
//!
//! #[derive(Debug, thiserror::Error, saga_macros::StepError)]
//! pub enum ReserveSeatError {
//!     #[error("no seat left on this flight")]
//!     SoldOut,
//!     #[error(transparent)]
//!     StoreThrottled(InfraError),
//!     #[error(transparent)]
//!     StoreUnavailable(InfraError),
//!     #[error(transparent)]
//!     StoreConflict(InfraError),
//!     #[error(transparent)]
//!     StoreFailed(InfraError),
//! }
//! kernel::impl_from_infra_error!(ReserveSeatError);
//!
//! let error: ReserveSeatError = InfraError::throttled("slow down").into();
//! assert_eq!(error.name(), "StoreThrottled");
//! // In the saga: business_errors: [SoldOut, StoreFailed],
//! //              transient_errors: [StoreThrottled, StoreUnavailable, StoreConflict]
//! ```
//!
//! An operation whose only failures are the store's (most compensations) returns
//! `Result<_, InfraError>` directly: [`InfraError`] implements `StepError` itself, with the four
//! names above.

use std::error::Error as StdError;
use std::fmt;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// The saga error names of store failures (see the [module docs](self)).
pub mod names {
    /// DynamoDB throttled the request. Transient.
    pub const STORE_THROTTLED: &str = "StoreThrottled";
    /// DynamoDB could not be reached or failed internally. Transient.
    pub const STORE_UNAVAILABLE: &str = "StoreUnavailable";
    /// A concurrent transaction touched the same item. Transient.
    pub const STORE_CONFLICT: &str = "StoreConflict";
    /// The request or the stored data is wrong; a retry would fail the same way. Not transient.
    pub const STORE_FAILED: &str = "StoreFailed";
    /// The names a step should list as transient (retried with backoff).
    pub const TRANSIENT: &[&str] = &[STORE_THROTTLED, STORE_UNAVAILABLE, STORE_CONFLICT];
    /// Every name an [`InfraError`](super::InfraError) can have.
    pub const ALL: &[&str] = &[
        STORE_THROTTLED,
        STORE_UNAVAILABLE,
        STORE_CONFLICT,
        STORE_FAILED,
    ];
}

/// What kind of store failure happened: decides the error name and whether it is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InfraErrorKind {
    /// `StoreThrottled`.
    Throttled,
    /// `StoreUnavailable`.
    Unavailable,
    /// `StoreConflict`.
    Conflict,
    /// `StoreFailed`.
    Failed,
}

impl InfraErrorKind {
    /// The saga error name Step Functions matches.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Throttled => names::STORE_THROTTLED,
            Self::Unavailable => names::STORE_UNAVAILABLE,
            Self::Conflict => names::STORE_CONFLICT,
            Self::Failed => names::STORE_FAILED,
        }
    }

    /// Whether the same request may succeed when retried later.
    pub const fn is_transient(self) -> bool {
        !matches!(self, Self::Failed)
    }
}

/// A store operation failed for a reason that is not a business outcome.
#[derive(Debug)]
pub struct InfraError {
    kind: InfraErrorKind,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl InfraError {
    /// An error of `kind` described by `message`.
    pub fn new(kind: InfraErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// `StoreThrottled`.
    pub fn throttled(message: impl Into<String>) -> Self {
        Self::new(InfraErrorKind::Throttled, message)
    }

    /// `StoreUnavailable`.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(InfraErrorKind::Unavailable, message)
    }

    /// `StoreConflict`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(InfraErrorKind::Conflict, message)
    }

    /// `StoreFailed`.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(InfraErrorKind::Failed, message)
    }

    /// Attaches the underlying error, kept for `Error::source` chains in logs.
    #[must_use]
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Classifies an SDK error of `operation` (e.g. `"PutItem"`) by DynamoDB's error code.
    ///
    /// A `TransactionCanceledException` lands in `StoreFailed` here: its per-item reasons are
    /// only meaningful to the code that built the transaction, which is
    /// [`StepTransaction`](crate::dynamo::StepTransaction).
    ///
    /// A server error (HTTP 5xx) whose code DynamoDB does not document (a proxy's, a load
    /// balancer's, a compatible server's, or none at all) is `StoreUnavailable`, as DynamoDB's
    /// own `InternalServerError` is: the service was unwell, not the request wrong.
    pub fn from_sdk<E>(operation: &str, error: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let kind = match &error {
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => InfraErrorKind::Unavailable,
            SdkError::ServiceError(service) => match kind_of_code(service.err().code()) {
                InfraErrorKind::Failed if service.raw().status().is_server_error() => {
                    InfraErrorKind::Unavailable
                }
                kind => kind,
            },
            // Construction failures are ours (a missing required field): retrying cannot help.
            _ => InfraErrorKind::Failed,
        };
        let message = format!("DynamoDB {operation}: {}", DisplayErrorContext(&error));
        Self::new(kind, message).with_source(error)
    }

    /// The kind of failure.
    pub fn kind(&self) -> InfraErrorKind {
        self.kind
    }

    /// The saga error name: one of [`names::ALL`].
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// Whether the same request may succeed when retried later.
    pub fn is_transient(&self) -> bool {
        self.kind.is_transient()
    }

    /// What went wrong, without the name.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The kind of a DynamoDB error code (the `__type` of the error response).
pub(crate) fn kind_of_code(code: Option<&str>) -> InfraErrorKind {
    match code {
        Some(
            "ProvisionedThroughputExceededException"
            | "ProvisionedThroughputExceeded"
            | "RequestLimitExceeded"
            | "ThrottlingException"
            | "ThrottlingError",
        ) => InfraErrorKind::Throttled,
        Some("InternalServerError" | "InternalFailure" | "ServiceUnavailable") => {
            InfraErrorKind::Unavailable
        }
        Some(
            "TransactionConflictException"
            | "TransactionConflict"
            | "TransactionInProgressException",
        ) => InfraErrorKind::Conflict,
        _ => InfraErrorKind::Failed,
    }
}

impl fmt::Display for InfraError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

impl StdError for InfraError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

impl saga_model::StepError for InfraError {
    const NAMES: &'static [&'static str] = names::ALL;

    fn name(&self) -> &'static str {
        self.kind.name()
    }
}

/// Writes `impl From<InfraError> for $ty`, mapping each [`InfraErrorKind`] to the variant of
/// the same name (`StoreThrottled(InfraError)`, `StoreUnavailable(..)`, `StoreConflict(..)`,
/// `StoreFailed(..)`). A missing variant is a compile error, so a service cannot forget one.
#[macro_export]
macro_rules! impl_from_infra_error {
    ($ty:ty) => {
        impl ::core::convert::From<$crate::InfraError> for $ty {
            fn from(error: $crate::InfraError) -> Self {
                match error.kind() {
                    $crate::InfraErrorKind::Throttled => Self::StoreThrottled(error),
                    $crate::InfraErrorKind::Unavailable => Self::StoreUnavailable(error),
                    $crate::InfraErrorKind::Conflict => Self::StoreConflict(error),
                    $crate::InfraErrorKind::Failed => Self::StoreFailed(error),
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_transience_follow_the_kind() {
        let transient: Vec<_> = [
            InfraErrorKind::Throttled,
            InfraErrorKind::Unavailable,
            InfraErrorKind::Conflict,
            InfraErrorKind::Failed,
        ]
        .into_iter()
        .filter(|k| k.is_transient())
        .map(InfraErrorKind::name)
        .collect();
        assert_eq!(transient, names::TRANSIENT);
        assert!(!InfraError::failed("x").is_transient());
        assert_eq!(
            InfraError::conflict("busy").to_string(),
            "StoreConflict: busy"
        );
    }

    /// What a server answered: `status`, and `code` as the error's `__type` (or none).
    fn answered(status: u16, code: Option<&str>) -> InfraError {
        use aws_sdk_dynamodb::error::ErrorMetadata;
        use aws_sdk_dynamodb::operation::put_item::PutItemError;
        let mut metadata = ErrorMetadata::builder().message("from the server");
        if let Some(code) = code {
            metadata = metadata.code(code);
        }
        let raw = HttpResponse::new(
            status.try_into().unwrap(),
            aws_smithy_types::body::SdkBody::empty(),
        );
        InfraError::from_sdk(
            "PutItem",
            SdkError::service_error(PutItemError::generic(metadata.build()), raw),
        )
    }

    #[test]
    fn a_server_error_without_a_known_code_is_retried_a_client_error_is_not() {
        assert_eq!(answered(500, None).kind(), InfraErrorKind::Unavailable);
        assert_eq!(
            answered(502, Some("BadGateway")).kind(),
            InfraErrorKind::Unavailable
        );
        assert_eq!(
            answered(500, Some("InternalServerError")).kind(),
            InfraErrorKind::Unavailable
        );
        assert_eq!(answered(400, None).kind(), InfraErrorKind::Failed);
        assert_eq!(
            answered(400, Some("ValidationException")).kind(),
            InfraErrorKind::Failed
        );
        assert_eq!(
            answered(400, Some("ThrottlingException")).kind(),
            InfraErrorKind::Throttled
        );
    }

    #[test]
    fn dynamodb_codes_map_to_kinds() {
        assert_eq!(
            kind_of_code(Some("ProvisionedThroughputExceededException")),
            InfraErrorKind::Throttled
        );
        assert_eq!(
            kind_of_code(Some("ThrottlingError")),
            InfraErrorKind::Throttled
        );
        assert_eq!(
            kind_of_code(Some("InternalServerError")),
            InfraErrorKind::Unavailable
        );
        assert_eq!(
            kind_of_code(Some("TransactionConflict")),
            InfraErrorKind::Conflict
        );
        assert_eq!(
            kind_of_code(Some("ValidationException")),
            InfraErrorKind::Failed
        );
        assert_eq!(
            kind_of_code(Some("ResourceNotFoundException")),
            InfraErrorKind::Failed
        );
        assert_eq!(kind_of_code(None), InfraErrorKind::Failed);
    }

    #[test]
    fn infra_error_is_a_step_error_with_the_four_names() {
        use saga_model::StepError;
        assert_eq!(<InfraError as StepError>::NAMES, names::ALL);
        assert_eq!(
            StepError::name(&InfraError::unavailable("down")),
            "StoreUnavailable"
        );
    }

    #[test]
    fn a_source_is_kept_for_logs() {
        let error = InfraError::failed("bad item").with_source(std::fmt::Error);
        assert!(StdError::source(&error).is_some());
    }
}
