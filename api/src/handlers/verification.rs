//! The legal profile and its verification (DESIGN §4): read and change the profile with
//! ETag/If-Match, answer a request for action with evidence, and the operator's decision.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, ETAG};
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use domain::access::Permission;
use domain::action_center::verification_item;
use domain::ids::{AccountId, EvidenceId};
use domain::principal::Principal;
use domain::verification::{Outcome, Refused, VerificationStatus, under_review_after_change};
use domain::{FieldError, FieldErrors};
use futures_util::StreamExt;
use persistence::DbConnection;
use persistence::connection::write_transaction;
use persistence::repos::accounts::{self, Account as AccountRecord};
use persistence::repos::action_center::{self, Target};
use persistence::repos::evidence::{self, NewEvidence};
use persistence::tenant::AccountScope;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::access;
use crate::audit;
use crate::auth::Authenticated;
use crate::clock;
use crate::db;
use crate::dto::account::{
    Account, DocumentBytes, Evidence, EvidenceReceipt, EvidenceUpload, LegalProfile,
    LegalProfileInput, Verification, VerificationDecision, VerificationDetails,
};
use crate::error::{ApiError, ErrorCode};
use crate::extract::etag::{IfMatch, changed_meanwhile, conditional_read, etag};
use crate::extract::idempotency::{self, IdempotencyKey, Reply};
use crate::extract::json::{JsonBody, validate};
use crate::state::AppState;

pub fn account_etag(account: &AccountRecord) -> String {
    etag(&format!("account:{}", account.id), account.version)
}

/// Read the legal profile.
///
/// The company's legal details and where their verification stands. Supports
/// `If-None-Match`.
#[utoipa::path(
    tag = "Account settings",
    operation_id = "get_legal_profile",
    params(
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier read; 304 when unchanged since."),
    ),
    responses(
        (status = 200, description = "The legal profile.", body = LegalProfile, headers(
            ("ETag" = String, description = "The profile's current entity tag; send it as `If-Match` to change it."),
        )),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/account/legal-profile")]
pub async fn get_legal_profile(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let account = db::lookup(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::AccountRead)?;
        Ok(accounts::get(conn, &membership.scope)?)
    })
    .await?;
    Ok(conditional_read(
        &req,
        account_etag(&account),
        &LegalProfile::from(&account),
    ))
}

/// Change the legal profile.
///
/// Replaces the legal details. Requires `If-Match` with the current ETag. Sending the same
/// details again changes nothing. A change to a `verified` account returns it to `pending`
/// with only the changed fields `under_review`; while a review is open, changed fields join
/// it. A `rejected` account's details can no longer change.
#[utoipa::path(
    tag = "Account settings",
    operation_id = "update_legal_profile",
    params(
        ("If-Match" = String, Header, description = "The profile's current ETag (from a GET)."),
    ),
    request_body(content = LegalProfileInput, content_type = "application/json"),
    responses(
        (status = 200, description = "The profile after the change.", body = LegalProfile, headers(
            ("ETag" = String, description = "The profile's new entity tag."),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
        (status = 409, description = "The account's verification was rejected (`verification_rejected`)."),
        (status = 412, description = "The profile changed since the ETag in `If-Match` (`precondition_failed`)."),
        (status = 428, description = "`If-Match` is missing (`precondition_required`)."),
    ),
)]
#[put("/v1/account/legal-profile")]
pub async fn update_legal_profile(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    body: JsonBody<LegalProfileInput>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let principal = caller.0;
    let request = body.value;
    let wall = clock::now();
    let account = db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let membership = access::authorize(conn, &principal, Permission::AccountWrite)?;
            let now = membership.now(wall);
            let scope = &membership.scope;
            let current = accounts::get(conn, scope)?;
            if_match.check(&account_etag(&current))?;
            let profile = validate(&request, LegalProfileInput::parse)?;
            let mut next = current.with_profile(&profile);
            let changed = current.changed_fields(&next);
            if changed.is_empty() {
                return Ok(current);
            }
            let before = current.verification_status;
            next.verification_status = before.after_legal_change().map_err(refusal)?;
            next.under_review = under_review_after_change(before, &current.under_review, &changed);
            if before == VerificationStatus::Verified {
                next.verification_reason = None;
            }
            let saved = accounts::save(conn, scope, &next, current.version, now)?
                .ok_or_else(|| changed_meanwhile("legal profile"))?;
            audit::record(
                conn,
                scope,
                &principal,
                "legal_profile.updated",
                ("account", saved.id.to_string()),
                json!({
                    "changed_fields": changed,
                    "verification_status": {"from": before.id(), "to": saved.verification_status.id()},
                }),
                now,
            )?;
            if saved.verification_status != before {
                raise_verification_item(conn, scope, &saved, now)?;
            }
            Ok(saved)
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, account_etag(&account)))
        .json(LegalProfile::from(&account)))
}

fn refusal(refused: Refused) -> ApiError {
    match refused {
        Refused::NotPending(status) => ApiError::new(
            ErrorCode::VerificationNotPending,
            format!("Verification is {status}; only a pending verification can be decided."),
        ),
        Refused::NotAwaitingEvidence(status) => ApiError::new(
            ErrorCode::VerificationNotAwaitingEvidence,
            format!(
                "Verification is {status}; evidence is accepted only while it is action_required."
            ),
        ),
        Refused::Rejected => ApiError::new(
            ErrorCode::VerificationRejected,
            "The account's verification was rejected; its legal details can no longer change.",
        ),
    }
}

/// Read verification.
///
/// The status, the operator's reason, the fields under review and the evidence sent.
#[utoipa::path(
    tag = "Account settings",
    operation_id = "get_verification",
    responses(
        (status = 200, description = "Verification and its evidence.", body = VerificationDetails),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/account/verification")]
pub async fn get_verification(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<web::Json<VerificationDetails>, ApiError> {
    let principal = caller.0;
    let (account, documents) = db::read(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::AccountRead)?;
        let account = accounts::get(conn, &membership.scope)?;
        let documents = evidence::list(conn, &membership.scope)?;
        Ok((account, documents))
    })
    .await?;
    Ok(web::Json(VerificationDetails {
        verification: Verification::from(&account),
        evidence: documents.iter().map(Evidence::from).collect(),
    }))
}

/// Largest evidence document (DESIGN §2: uploads 10 MiB).
pub const EVIDENCE_LIMIT_BYTES: usize = 10 * 1024 * 1024;
const COMMENT_LIMIT: usize = 1000;

/// The document's type, from its first bytes; the name and declared type are not trusted.
pub fn sniff_document(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

struct Upload {
    file: Vec<u8>,
    file_name: Option<String>,
    comment: Option<String>,
}

async fn read_upload(mut form: Multipart) -> Result<Upload, ApiError> {
    let mut file: Option<(Vec<u8>, Option<String>)> = None;
    let mut comment: Option<String> = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(multipart_error)?;
        let name = field.name().unwrap_or_default().to_owned();
        let limit = match name.as_str() {
            "file" => EVIDENCE_LIMIT_BYTES,
            "comment" => COMMENT_LIMIT * 4,
            other => {
                return Err(ApiError::validation([FieldError::new(
                    other,
                    "unknown_field",
                    "is not a field of this form; send `file` and optionally `comment`",
                )]));
            }
        };
        let file_name = field
            .content_disposition()
            .and_then(|disposition| disposition.get_filename())
            .map(|name| name.chars().take(255).collect::<String>());
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(multipart_error)?;
            if bytes.len() + chunk.len() > limit {
                return Err(ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("The {name} part exceeds {limit} bytes."),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        let repeated = match name.as_str() {
            "file" => file.is_some(),
            _ => comment.is_some(),
        };
        if repeated {
            return Err(ApiError::validation([FieldError::new(
                name.as_str(),
                "duplicate",
                "is sent more than once; send one",
            )]));
        }
        match name.as_str() {
            "file" => file = Some((bytes, file_name)),
            _ => {
                let text = String::from_utf8(bytes).map_err(|_| {
                    ApiError::validation([FieldError::new(
                        "comment",
                        "invalid_text",
                        "must be UTF-8 text",
                    )])
                })?;
                // PostgreSQL text cannot hold U+0000: refused on both backends alike.
                if text.contains('\0') {
                    return Err(ApiError::validation([FieldError::new(
                        "comment",
                        "invalid_characters",
                        "must not contain the NUL character (U+0000)",
                    )]));
                }
                if text.chars().count() > COMMENT_LIMIT {
                    return Err(ApiError::validation([FieldError::new(
                        "comment",
                        "too_long",
                        "must be at most 1000 characters",
                    )]));
                }
                comment = Some(text).filter(|text| !text.trim().is_empty());
            }
        }
    }
    let mut errors = FieldErrors::default();
    match &file {
        None => errors.push(FieldError::new(
            "file",
            "required",
            "send the document as the `file` part",
        )),
        Some((bytes, _)) if bytes.is_empty() => {
            errors.push(FieldError::new("file", "empty", "the document is empty"))
        }
        _ => {}
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors.into_vec()));
    }
    let (file, file_name) = file.unwrap_or_default();
    Ok(Upload {
        file,
        file_name,
        comment,
    })
}

fn multipart_error(error: actix_multipart::MultipartError) -> ApiError {
    match error {
        actix_multipart::MultipartError::ContentTypeMissing
        | actix_multipart::MultipartError::ContentTypeParse
        | actix_multipart::MultipartError::ContentTypeIncompatible => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Send the document as multipart/form-data with a `file` part.",
        ),
        other => ApiError::new(
            ErrorCode::ValidationFailed,
            format!("The multipart body is malformed: {other}."),
        ),
    }
}

/// Send verification evidence.
///
/// Answers `action_required` with a document (multipart/form-data: a `file` part and an
/// optional `comment`). PDF, PNG or JPEG, recognised by content, at most 10 MiB. The
/// document is stored and verification returns to `pending`.
#[utoipa::path(
    tag = "Account settings",
    operation_id = "upload_verification_evidence",
    request_body(content = EvidenceUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The document was stored and verification is pending again.", body = EvidenceReceipt),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
        (status = 409, description = "Verification is not `action_required` (`verification_not_awaiting_evidence`)."),
        (status = 413, description = "The document exceeds 10 MiB (`payload_too_large`)."),
        (status = 415, description = "The body is not multipart/form-data (`unsupported_media_type`), or the document is not a PDF, PNG or JPEG (`unsupported_document`)."),
    ),
)]
#[post("/v1/account/verification/evidence")]
pub async fn upload_evidence(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    // Refuse callers before reading up to 10 MiB from them.
    let check = principal.clone();
    db::run(&state, move |conn| {
        access::authorize(conn, &check, Permission::AccountWrite).map(drop)
    })
    .await?;
    let upload = read_upload(Multipart::new(req.headers(), payload)).await?;
    let media_type = sniff_document(&upload.file).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnsupportedDocument,
            "The document must be a PDF, PNG or JPEG file; its content is none of these.",
        )
    })?;
    let digest: String = Sha256::digest(&upload.file)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let wall = clock::now();
    let (stored, account) = db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let membership = access::authorize(conn, &principal, Permission::AccountWrite)?;
            let now = membership.now(wall);
            let scope = &membership.scope;
            let current = accounts::get(conn, scope)?;
            let status = current
                .verification_status
                .evidence_received()
                .map_err(refusal)?;
            let stored = evidence::insert(
                conn,
                scope,
                &NewEvidence {
                    file_name: upload.file_name.as_deref(),
                    media_type,
                    content: &upload.file,
                    sha256: &digest,
                    comment: upload.comment.as_deref(),
                    uploaded_by: principal.subject(),
                },
                now,
            )?;
            let next = AccountRecord {
                verification_status: status,
                ..current.clone()
            };
            // A concurrent upload (or decision) got there first.
            let saved = accounts::save(conn, scope, &next, current.version, now)?.ok_or_else(|| {
                refusal(Refused::NotAwaitingEvidence(VerificationStatus::Pending))
            })?;
            action_center::complete(conn, scope, "verification.action_required", now)?;
            raise_verification_item(conn, scope, &saved, now)?;
            audit::record(
                conn,
                scope,
                &principal,
                "verification.evidence_uploaded",
                ("evidence", stored.id.to_string()),
                json!({
                    "media_type": media_type,
                    "size_bytes": stored.size_bytes,
                    "sha256": stored.sha256,
                    "verification_status": {"from": current.verification_status.id(), "to": saved.verification_status.id()},
                }),
                now,
            )?;
            Ok((stored, saved))
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((ETAG, account_etag(&account)))
        .json(EvidenceReceipt {
            evidence: Evidence::from(&stored),
            verification: Verification::from(&account),
        }))
}

fn raise_verification_item(
    conn: &mut DbConnection,
    scope: &AccountScope,
    account: &AccountRecord,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    let item = verification_item(
        account.verification_status,
        account.verification_reason.as_deref(),
        now,
    );
    let target = account.id.to_string();
    action_center::raise(
        conn,
        scope,
        &item,
        Some(Target {
            kind: "account",
            id: &target,
        }),
        now,
    )?;
    Ok(())
}

/// Download an evidence document.
///
/// The stored bytes, exactly as uploaded, with the recognised media type.
#[utoipa::path(
    tag = "Account settings",
    operation_id = "get_verification_evidence_content",
    params(("evidence_id" = Uuid, Path, description = "The document's id.")),
    responses(
        (status = 200, description = "The document.", content(
            (DocumentBytes = "application/pdf"),
            (DocumentBytes = "image/png"),
            (DocumentBytes = "image/jpeg"),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No document of the caller's account has this id (`not_found`)."),
    ),
)]
#[get("/v1/account/verification/evidence/{evidence_id}/content")]
pub async fn get_evidence_content(
    state: web::Data<AppState>,
    caller: Authenticated,
    evidence_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let id = EvidenceId::from_uuid(evidence_id.into_inner());
    let found = db::read(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::AccountRead)?;
        Ok(evidence::content(conn, &membership.scope, id)?)
    })
    .await?;
    let (media_type, content) = found.ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            "No document of your account has this id.",
        )
    })?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, media_type))
        .body(content))
}

/// Decide a verification.
///
/// Decides a `pending` verification: `verified`, `rejected` or `action_required` (the
/// partner then answers with evidence). `reason` is required for the last two. Raises an
/// Action Center item for the account. Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "Operator",
    operation_id = "operator_decide_verification",
    params(
        ("account_id" = Uuid, Path, description = "The account's id."),
        ("Idempotency-Key" = Option<String>, Header, max_length = 255, description = "Makes the request safe to retry (see `create_account`)."),
    ),
    request_body(content = VerificationDecision, content_type = "application/json"),
    responses(
        (status = 200, description = "The account after the decision.", body = Account),
        (status = 403, description = "The caller is not an operator (`operator_only`)."),
        (status = 404, description = "No account has this id (`not_found`)."),
        (status = 409, description = "Verification is not `pending` (`verification_not_pending`), or the `Idempotency-Key` is in use (`idempotency_key_in_use`)."),
        (status = 422, description = "The `Idempotency-Key` was used with a different body (`idempotency_key_reused`)."),
    ),
)]
#[post("/v1/operator/accounts/{account_id}/verification")]
pub async fn decide_verification(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    key: IdempotencyKey,
    account_id: web::Path<Uuid>,
    body: JsonBody<VerificationDecision>,
) -> Result<HttpResponse, ApiError> {
    let operator = access::operator(&caller.0)?;
    let principal = caller.0.clone();
    let id = AccountId::from_uuid(account_id.into_inner());
    let fingerprint = body.fingerprint(&req);
    let decision = body.value;
    idempotency::execute(&state, &caller.0, key, fingerprint, move |conn, wall| {
        let current = accounts::get_for_operator(conn, &operator, id)?
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "No partner account has this id."))?;
        let scope = operator.scope(id);
        let saved = apply_decision(conn, &scope, &principal, &decision, current.now(wall))?;
        Reply::json(StatusCode::OK, &Account::from(&saved))
    })
    .await
}

/// Decides the account's pending verification (the operator's decision, or a sandbox's
/// stand-in for it): the new status, the Action Center item and the audit record.
pub fn apply_decision(
    conn: &mut DbConnection,
    scope: &AccountScope,
    principal: &Principal,
    decision: &VerificationDecision,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<AccountRecord, ApiError> {
    let outcome: Outcome = decision.outcome.into();
    let reason = validate(decision, |decision| {
        let reason = decision
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|reason| !reason.is_empty());
        if outcome.needs_reason() && reason.is_none() {
            return Err(FieldError::new(
                "reason",
                "required",
                "tell the partner why (required for rejected and action_required)",
            )
            .into());
        }
        Ok(reason.map(str::to_owned))
    })?;
    let current = accounts::get(conn, scope)?;
    let status = current
        .verification_status
        .decide(outcome)
        .map_err(refusal)?;
    let next = AccountRecord {
        verification_status: status,
        verification_reason: reason,
        under_review: if status == VerificationStatus::ActionRequired {
            current.under_review.clone()
        } else {
            Vec::new()
        },
        ..current.clone()
    };
    let saved = accounts::save(conn, scope, &next, current.version, now)?
        .ok_or_else(|| refusal(Refused::NotPending(current.verification_status)))?;
    raise_verification_item(conn, scope, &saved, now)?;
    audit::record(
        conn,
        scope,
        principal,
        "verification.decided",
        ("account", saved.id.to_string()),
        json!({
            "outcome": status.id(),
            "reason": saved.verification_reason,
            "verification_status": {"from": current.verification_status.id(), "to": status.id()},
        }),
        now,
    )?;
    Ok(saved)
}
