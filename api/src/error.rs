//! One error type for every route and one RFC 9457 problem document for every error.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use domain::FieldError;
use persistence::DbError;
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

use crate::dto::membership::EligibilityCheck;
use crate::request_context;

/// Stable, documented error codes. Clients branch on these, never on `title` or `detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not well-formed JSON.
    MalformedJson,
    /// One or more fields are missing, unknown or invalid; see `errors`.
    ValidationFailed,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The body exceeds the size limit.
    PayloadTooLarge,
    /// A path parameter is malformed (for example, not a UUID).
    InvalidPathParameter,
    /// A query parameter is unknown or malformed.
    InvalidQueryParameter,
    /// The pagination cursor was not produced by this API or is corrupt.
    InvalidCursor,
    /// A request header is malformed.
    InvalidHeader,
    /// The `Idempotency-Key` header is empty, too long or not printable ASCII.
    InvalidIdempotencyKey,
    /// No bearer token was sent.
    MissingToken,
    /// The bearer token is malformed, expired, not yet valid, or not signed by a trusted key.
    InvalidToken,
    /// The caller is signed in to the directory but is not a user of its partner account.
    NotAMember,
    /// The route is for platform operators only.
    OperatorOnly,
    /// This kind of principal (user, app, operator) cannot call the route.
    PrincipalNotAllowed,
    /// The caller's role lacks the permission.
    InsufficientRole,
    /// No route has this path.
    RouteNotFound,
    /// The route exists but not with this HTTP method; see the `Allow` header.
    MethodNotAllowed,
    /// The caller's directory has no partner account yet.
    AccountNotFound,
    /// The resource does not exist or belongs to another account.
    NotFound,
    /// The caller's directory already has a partner account.
    AccountExists,
    /// The `Idempotency-Key` was used before with a different request body.
    IdempotencyKeyReused,
    /// A request with this `Idempotency-Key` is still being processed; retry later.
    IdempotencyKeyInUse,
    /// The `If-Match` ETag does not match the resource's current ETag.
    PreconditionFailed,
    /// The route requires an `If-Match` header.
    PreconditionRequired,
    /// The caller may not grant or take away one of the roles involved; see `detail`.
    RoleNotGrantable,
    /// The account already has a user with this email.
    UserExists,
    /// The change would leave the account without a global admin.
    LastGlobalAdmin,
    /// Only a pending verification can be decided.
    VerificationNotPending,
    /// Evidence is accepted only while verification is `action_required`.
    VerificationNotAwaitingEvidence,
    /// The account's verification was rejected; its legal details can no longer change.
    VerificationRejected,
    /// Mandatory actions cannot be archived; they complete when done.
    MandatoryAction,
    /// The uploaded file is not a PDF, PNG or JPEG document (judged by its content).
    UnsupportedDocument,
    /// No contact email is waiting for verification (none set, or already verified).
    NoPendingVerification,
    /// The account may not join the program now; `checks` lists every check and which failed.
    NotEligible,
    /// The program is paid: it is joined by purchase (an order), not with `POST /v1/memberships`.
    PurchaseRequired,
    /// The program is joined by an application the operator approves (`POST /v1/program-applications`).
    ApplicationRequired,
    /// The program is not joined this way (the base program is joined with the account; a self-service program needs no application).
    EnrollmentNotApplicable,
    /// The account already has a submitted application for this program.
    ApplicationPending,
    /// The application was already approved or rejected.
    ApplicationDecided,
    /// The route is for sandbox accounts; this account runs on the real clock.
    NotASandbox,
    /// Fewer than 30 days have passed since the person's previous Learn-profile association.
    AssociationCoolingOff,
    /// The person already made 3 Learn-profile associations in the last 365 days.
    AssociationLimitReached,
    /// The account already has this kind of link to this customer.
    PartnerLinkExists,
    /// This request moves money: it needs an `Idempotency-Key` header.
    IdempotencyKeyRequired,
    /// The card was declined; the order is `failed` (see `order_id`) and nothing was activated.
    PaymentDeclined,
    /// The payment gateway failed or was unreachable; nothing was charged or stored. Retry (with the same `Idempotency-Key`) after `Retry-After`.
    PaymentGatewayUnavailable,
    /// The order is not awaiting payment (already paid, failed, cancelled or refunded).
    OrderNotPayable,
    /// The unpaid wire order passed its 30-day deadline; place a new order.
    OrderExpired,
    /// Only an unpaid wire-transfer order can be cancelled; a paid one is cancelled through a `membership_cancellation` support request.
    OrderNotCancellable,
    /// The amount received is not the order's total.
    WireAmountMismatch,
    /// The transfer's reference is not the order's (order number and PartnerID).
    WireReferenceMismatch,
    /// The benefit ended with its membership or term, or was revoked.
    BenefitEnded,
    /// The benefit is activated for another user and only a monthly Azure credit can change hands.
    BenefitNotReassignable,
    /// The Azure credit was already reassigned 5 times.
    ReassignmentLimitReached,
    /// Only software benefits have a product key.
    NoProductKey,
    /// The support request is closed; open a new one.
    SupportRequestClosed,
    /// The account has the most webhook endpoints it may have (16).
    WebhookLimitReached,
    /// The webhook endpoint is disabled; enable it before redelivering.
    WebhookDisabled,
    /// An unexpected server error; the request id identifies it in the server log.
    InternalError,
    /// The service is temporarily unable to serve (database saturated or unreachable).
    ServiceUnavailable,
    /// Too many requests for the caller's principal, account or client address; retry after `Retry-After` seconds (see the `RateLimit` header).
    RateLimited,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            MalformedJson
            | ValidationFailed
            | InvalidPathParameter
            | InvalidQueryParameter
            | InvalidCursor
            | InvalidHeader
            | InvalidIdempotencyKey => StatusCode::BAD_REQUEST,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            MissingToken | InvalidToken => StatusCode::UNAUTHORIZED,
            NotAMember | OperatorOnly | PrincipalNotAllowed | InsufficientRole => {
                StatusCode::FORBIDDEN
            }
            RouteNotFound | AccountNotFound | NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AccountExists | IdempotencyKeyInUse => StatusCode::CONFLICT,
            IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            RoleNotGrantable => StatusCode::FORBIDDEN,
            UserExists => StatusCode::CONFLICT,
            LastGlobalAdmin => StatusCode::CONFLICT,
            VerificationNotPending => StatusCode::CONFLICT,
            VerificationNotAwaitingEvidence => StatusCode::CONFLICT,
            VerificationRejected => StatusCode::CONFLICT,
            MandatoryAction => StatusCode::CONFLICT,
            UnsupportedDocument => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            NoPendingVerification => StatusCode::CONFLICT,
            NotEligible
            | PurchaseRequired
            | ApplicationRequired
            | EnrollmentNotApplicable
            | ApplicationPending
            | ApplicationDecided
            | NotASandbox
            | AssociationCoolingOff
            | AssociationLimitReached
            | PartnerLinkExists => StatusCode::CONFLICT,
            IdempotencyKeyRequired => StatusCode::BAD_REQUEST,
            PaymentDeclined => StatusCode::PAYMENT_REQUIRED,
            PaymentGatewayUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            OrderNotPayable => StatusCode::CONFLICT,
            OrderExpired => StatusCode::CONFLICT,
            OrderNotCancellable => StatusCode::CONFLICT,
            WireAmountMismatch => StatusCode::CONFLICT,
            WireReferenceMismatch => StatusCode::CONFLICT,
            BenefitEnded => StatusCode::CONFLICT,
            BenefitNotReassignable => StatusCode::CONFLICT,
            ReassignmentLimitReached => StatusCode::CONFLICT,
            NoProductKey => StatusCode::CONFLICT,
            SupportRequestClosed => StatusCode::CONFLICT,
            WebhookLimitReached => StatusCode::CONFLICT,
            WebhookDisabled => StatusCode::CONFLICT,
            InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            RateLimited => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            MalformedJson => "malformed_json",
            ValidationFailed => "validation_failed",
            UnsupportedMediaType => "unsupported_media_type",
            PayloadTooLarge => "payload_too_large",
            InvalidPathParameter => "invalid_path_parameter",
            InvalidQueryParameter => "invalid_query_parameter",
            InvalidCursor => "invalid_cursor",
            InvalidHeader => "invalid_header",
            InvalidIdempotencyKey => "invalid_idempotency_key",
            MissingToken => "missing_token",
            InvalidToken => "invalid_token",
            NotAMember => "not_a_member",
            OperatorOnly => "operator_only",
            PrincipalNotAllowed => "principal_not_allowed",
            InsufficientRole => "insufficient_role",
            RouteNotFound => "route_not_found",
            MethodNotAllowed => "method_not_allowed",
            AccountNotFound => "account_not_found",
            NotFound => "not_found",
            AccountExists => "account_exists",
            IdempotencyKeyReused => "idempotency_key_reused",
            IdempotencyKeyInUse => "idempotency_key_in_use",
            PreconditionFailed => "precondition_failed",
            PreconditionRequired => "precondition_required",
            RoleNotGrantable => "role_not_grantable",
            UserExists => "user_exists",
            LastGlobalAdmin => "last_global_admin",
            VerificationNotPending => "verification_not_pending",
            VerificationNotAwaitingEvidence => "verification_not_awaiting_evidence",
            VerificationRejected => "verification_rejected",
            MandatoryAction => "mandatory_action",
            UnsupportedDocument => "unsupported_document",
            NoPendingVerification => "no_pending_verification",
            NotEligible => "not_eligible",
            PurchaseRequired => "purchase_required",
            ApplicationRequired => "application_required",
            EnrollmentNotApplicable => "enrollment_not_applicable",
            ApplicationPending => "application_pending",
            ApplicationDecided => "application_decided",
            NotASandbox => "not_a_sandbox",
            AssociationCoolingOff => "association_cooling_off",
            AssociationLimitReached => "association_limit_reached",
            PartnerLinkExists => "partner_link_exists",
            IdempotencyKeyRequired => "idempotency_key_required",
            PaymentDeclined => "payment_declined",
            PaymentGatewayUnavailable => "payment_gateway_unavailable",
            OrderNotPayable => "order_not_payable",
            OrderExpired => "order_expired",
            OrderNotCancellable => "order_not_cancellable",
            WireAmountMismatch => "wire_amount_mismatch",
            WireReferenceMismatch => "wire_reference_mismatch",
            BenefitEnded => "benefit_ended",
            BenefitNotReassignable => "benefit_not_reassignable",
            ReassignmentLimitReached => "reassignment_limit_reached",
            NoProductKey => "no_product_key",
            SupportRequestClosed => "support_request_closed",
            WebhookLimitReached => "webhook_limit_reached",
            WebhookDisabled => "webhook_disabled",
            InternalError => "internal_error",
            ServiceUnavailable => "service_unavailable",
            RateLimited => "rate_limited",
        }
    }

    /// A short summary that does not change between occurrences (RFC 9457 `title`).
    pub fn title(self) -> &'static str {
        use ErrorCode::*;
        match self {
            MalformedJson => "Malformed JSON",
            ValidationFailed => "Validation failed",
            UnsupportedMediaType => "Unsupported media type",
            PayloadTooLarge => "Payload too large",
            InvalidPathParameter => "Invalid path parameter",
            InvalidQueryParameter => "Invalid query parameter",
            InvalidCursor => "Invalid cursor",
            InvalidHeader => "Invalid header",
            InvalidIdempotencyKey => "Invalid idempotency key",
            MissingToken => "Authentication required",
            InvalidToken => "Invalid token",
            NotAMember => "Not a member of this account",
            OperatorOnly => "Operators only",
            PrincipalNotAllowed => "Principal not allowed",
            InsufficientRole => "Insufficient role",
            RouteNotFound => "Route not found",
            MethodNotAllowed => "Method not allowed",
            AccountNotFound => "Account not found",
            NotFound => "Not found",
            AccountExists => "Account already exists",
            IdempotencyKeyReused => "Idempotency key reused",
            IdempotencyKeyInUse => "Idempotency key in use",
            PreconditionFailed => "Precondition failed",
            PreconditionRequired => "Precondition required",
            RoleNotGrantable => "Role not grantable",
            UserExists => "User already exists",
            LastGlobalAdmin => "Last global admin",
            VerificationNotPending => "Verification not pending",
            VerificationNotAwaitingEvidence => "Verification not awaiting evidence",
            VerificationRejected => "Verification rejected",
            MandatoryAction => "Mandatory action",
            UnsupportedDocument => "Unsupported document",
            NoPendingVerification => "No pending verification",
            NotEligible => "Not eligible",
            PurchaseRequired => "Purchase required",
            ApplicationRequired => "Application required",
            EnrollmentNotApplicable => "Enrollment not applicable",
            ApplicationPending => "Application pending",
            ApplicationDecided => "Application decided",
            NotASandbox => "Not a sandbox account",
            AssociationCoolingOff => "Association cooling off",
            AssociationLimitReached => "Association limit reached",
            PartnerLinkExists => "Partner link exists",
            IdempotencyKeyRequired => "Idempotency key required",
            PaymentDeclined => "Payment declined",
            PaymentGatewayUnavailable => "Payment gateway unavailable",
            OrderNotPayable => "Order not payable",
            OrderExpired => "Order expired",
            OrderNotCancellable => "Order not cancellable",
            WireAmountMismatch => "Wire amount mismatch",
            WireReferenceMismatch => "Wire reference mismatch",
            BenefitEnded => "Benefit ended",
            BenefitNotReassignable => "Benefit not reassignable",
            ReassignmentLimitReached => "Reassignment limit reached",
            NoProductKey => "No product key",
            SupportRequestClosed => "Support request closed",
            WebhookLimitReached => "Webhook limit reached",
            WebhookDisabled => "Webhook disabled",
            InternalError => "Internal server error",
            ServiceUnavailable => "Service unavailable",
            RateLimited => "Rate limited",
        }
    }

    /// The code for an error status raised without one (by a framework component rather than
    /// by this API's code); `None` where no code fits.
    pub fn for_status(status: StatusCode) -> Option<ErrorCode> {
        Some(match status.as_u16() {
            404 => ErrorCode::NotFound,
            405 => ErrorCode::MethodNotAllowed,
            413 => ErrorCode::PayloadTooLarge,
            415 => ErrorCode::UnsupportedMediaType,
            500 => ErrorCode::InternalError,
            503 => ErrorCode::ServiceUnavailable,
            _ => return None,
        })
    }

    /// The problem `type` URI: a URN, stable and never dereferenced.
    pub fn type_uri(self) -> String {
        format!("urn:partner-center:problem:{}", self.as_str())
    }
}

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemFieldError {
    /// Dotted path of the field in the request (`primary_contact.email`), or the parameter name.
    #[schema(example = "primary_contact.email")]
    pub field: String,
    /// Stable snake_case reason, such as `required`, `too_long`, `free_mail_domain`.
    #[schema(example = "free_mail_domain")]
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

/// An RFC 9457 problem document. Every error response of this API has this shape, with
/// media type `application/problem+json`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// URI identifying the problem type: `urn:partner-center:problem:<code>`.
    #[serde(rename = "type")]
    #[schema(example = "urn:partner-center:problem:validation_failed")]
    pub problem_type: String,
    #[schema(example = "Validation failed")]
    pub title: String,
    #[schema(example = 400)]
    pub status: u16,
    /// What went wrong with this request, in prose.
    pub detail: String,
    pub code: ErrorCode,
    /// The request's id (the `X-Request-Id` response header), for support and log search.
    pub request_id: String,
    /// Field-level errors, present for `validation_failed` and some 400s.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemFieldError>,
    /// For `not_eligible`: every eligibility check, satisfied or not, as
    /// `GET /v1/programs/{program_id}/eligibility` reports them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<EligibilityCheck>,
    /// For `payment_declined`: the order, stored as `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<uuid::Uuid>,
}

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error on its way to becoming a problem response.
#[derive(Debug, Clone)]
pub struct ApiError {
    code: ErrorCode,
    detail: String,
    errors: Vec<ProblemFieldError>,
    checks: Vec<EligibilityCheck>,
    order_id: Option<uuid::Uuid>,
    headers: Vec<(HeaderName, String)>,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            checks: Vec::new(),
            order_id: None,
            headers: Vec::new(),
        }
    }

    /// A 500 whose cause is logged (with the request id) and never shown to the client.
    pub fn internal(cause: impl fmt::Display) -> Self {
        log::error!(
            "request {} failed: {cause}",
            request_context::current_request_id().unwrap_or_else(|| "-".into())
        );
        Self::new(
            ErrorCode::InternalError,
            "The server could not complete the request. Quote the request id when reporting it.",
        )
    }

    pub fn validation(errors: impl IntoIterator<Item = FieldError>) -> Self {
        let errors: Vec<ProblemFieldError> = errors
            .into_iter()
            .map(|e| ProblemFieldError {
                field: e.field,
                code: e.code.to_owned(),
                message: e.message,
            })
            .collect();
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid; see errors", many.len()),
        };
        Self::new(ErrorCode::ValidationFailed, detail).with_field_errors(errors)
    }

    pub fn with_field_errors(mut self, errors: Vec<ProblemFieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn with_checks(mut self, checks: Vec<EligibilityCheck>) -> Self {
        self.checks = checks;
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn with_order(mut self, order: domain::ids::OrderId) -> Self {
        self.order_id = Some(order.as_uuid());
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }

    pub fn field_errors(&self) -> &[ProblemFieldError] {
        &self.errors
    }

    pub fn headers(&self) -> &[(HeaderName, String)] {
        &self.headers
    }

    /// A decision the service made about the request (a business rule refused it), as opposed
    /// to a failure to process it. Decisions are stored for idempotent replay.
    pub fn is_decision(&self) -> bool {
        self.code.status() == StatusCode::CONFLICT && self.code != ErrorCode::IdempotencyKeyInUse
    }

    pub fn problem(&self, request_id: String) -> Problem {
        Problem {
            problem_type: self.code.type_uri(),
            title: self.code.title().to_owned(),
            status: self.code.status().as_u16(),
            detail: self.detail.clone(),
            code: self.code,
            request_id,
            errors: self.errors.clone(),
            checks: self.checks.clone(),
            order_id: self.order_id,
        }
    }

    /// The problem body as JSON text, for responses and for the idempotency store.
    pub fn problem_json(&self, request_id: String) -> String {
        serde_json::to_string(&self.problem(request_id)).unwrap_or_else(|_| {
            // Serializing plain strings and integers cannot fail; keep a valid body regardless.
            format!(
                r#"{{"type":"{}","title":"{}","status":{},"detail":"","code":"{}","request_id":""}}"#,
                self.code.type_uri(),
                self.code.title(),
                self.code.status().as_u16(),
                self.code.as_str()
            )
        })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let request_id = request_context::current_request_id().unwrap_or_default();
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(PROBLEM_JSON);
        for (name, value) in &self.headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                response.insert_header((name.clone(), value));
            }
        }
        response.body(self.problem_json(request_id))
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        if error.is_transient() {
            log::warn!(
                "request {}: database unavailable: {error}",
                request_context::current_request_id().unwrap_or_else(|| "-".into())
            );
            return ApiError::new(
                ErrorCode::ServiceUnavailable,
                "The database is momentarily saturated; retry shortly.",
            )
            .with_header(actix_web::http::header::RETRY_AFTER, "1");
        }
        ApiError::internal(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_documented_strings() {
        use ErrorCode::*;
        for code in [
            MalformedJson,
            ValidationFailed,
            UnsupportedMediaType,
            PayloadTooLarge,
            InvalidPathParameter,
            InvalidQueryParameter,
            InvalidCursor,
            InvalidHeader,
            InvalidIdempotencyKey,
            MissingToken,
            InvalidToken,
            NotAMember,
            OperatorOnly,
            PrincipalNotAllowed,
            InsufficientRole,
            RouteNotFound,
            MethodNotAllowed,
            AccountNotFound,
            NotFound,
            AccountExists,
            IdempotencyKeyReused,
            IdempotencyKeyInUse,
            PreconditionFailed,
            PreconditionRequired,
            RoleNotGrantable,
            UserExists,
            LastGlobalAdmin,
            VerificationNotPending,
            VerificationNotAwaitingEvidence,
            VerificationRejected,
            MandatoryAction,
            UnsupportedDocument,
            NoPendingVerification,
            NotEligible,
            PurchaseRequired,
            ApplicationRequired,
            EnrollmentNotApplicable,
            ApplicationPending,
            ApplicationDecided,
            NotASandbox,
            AssociationCoolingOff,
            AssociationLimitReached,
            PartnerLinkExists,
            IdempotencyKeyRequired,
            PaymentDeclined,
            PaymentGatewayUnavailable,
            OrderNotPayable,
            OrderExpired,
            OrderNotCancellable,
            WireAmountMismatch,
            WireReferenceMismatch,
            BenefitEnded,
            BenefitNotReassignable,
            ReassignmentLimitReached,
            NoProductKey,
            SupportRequestClosed,
            WebhookLimitReached,
            WebhookDisabled,
            InternalError,
            ServiceUnavailable,
            RateLimited,
        ] {
            let json = serde_json::to_string(&code).expect("serializes");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
    }

    #[test]
    fn only_business_conflicts_are_decisions() {
        assert!(ApiError::new(ErrorCode::AccountExists, "").is_decision());
        assert!(!ApiError::new(ErrorCode::IdempotencyKeyInUse, "").is_decision());
        assert!(!ApiError::new(ErrorCode::ValidationFailed, "").is_decision());
    }
}
