use actix_web::http::StatusCode;
use actix_web::http::header::{ETAG, LOCATION};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use domain::ids::PartnerId;
use domain::principal::Principal;
use persistence::DbConnection;
use persistence::repos::accounts::{
    self, Account as StoredAccount, DirectoryHasAccount, NewAccount,
};
use persistence::tenant::Membership;

use crate::access;
use crate::audit;
use crate::auth::Authenticated;
use crate::db;
use crate::dto::account::{Account, CreateAccountInput, LegalProfileInput};
use crate::error::{ApiError, ErrorCode};
use crate::extract::etag::conditional_rendered;
use crate::extract::idempotency::{self, IdempotencyKey, Reply};
use crate::extract::json::{JsonBody, validate};
use crate::handlers::verification::account_etag;
use crate::state::AppState;
use crate::views::Rendered;
use domain::access::Permission;
use serde_json::json;
use std::sync::Arc;

/// Enroll a partner account.
///
/// Enrolls the caller's company.
///
/// The caller's directory must not have an account yet. The account gets a PartnerID, joins
/// the base program (`ai_cloud_partner_program`), starts verification in `pending`, and the
/// caller becomes its owner and `global_admin`. With `"sandbox": true` the account runs on
/// its own clock, frozen at creation.
/// Safe to retry with an `Idempotency-Key`.
#[utoipa::path(
    tag = "Accounts",
    operation_id = "create_account",
    params(
        ("Idempotency-Key" = Option<String>, Header, max_length = 255, description = "Makes the request safe to retry: the same key with the same body within 24 hours returns the first response (with `Idempotent-Replayed: true`); with another body, 422 `idempotency_key_reused`; while the first is still running, 409 `idempotency_key_in_use`. Scoped to the caller's directory and identity."),
    ),
    request_body(content = CreateAccountInput, content_type = "application/json"),
    responses(
        (status = 201, description = "The account was created.", body = Account, headers(
            ("Location" = String, description = "`/v1/account`, where the caller reads it."),
            ("ETag" = String, description = "The account's current entity tag."),
        )),
        (status = 403, description = "Only a user (not an app or operator) can enroll (`principal_not_allowed`)."),
        (status = 409, description = "The directory already has a partner account (`account_exists`), or a request with this `Idempotency-Key` is still running (`idempotency_key_in_use`)."),
        (status = 422, description = "The `Idempotency-Key` was used with a different body (`idempotency_key_reused`)."),
    ),
)]
#[post("/v1/accounts")]
pub async fn create_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    key: IdempotencyKey,
    body: JsonBody<CreateAccountInput>,
) -> Result<HttpResponse, ApiError> {
    let Principal::User { email, directory } = &caller.0 else {
        return Err(ApiError::new(
            ErrorCode::PrincipalNotAllowed,
            "Only a person signed in to the company's directory (a user token) can enroll it.",
        ));
    };
    let (email, directory) = (email.clone(), *directory);
    let principal = caller.0.clone();
    let fingerprint = body.fingerprint(&req);
    let (request, sandbox) = body.value.into_parts();
    idempotency::execute(&state, &caller.0, key, fingerprint, move |conn, now| {
        let profile = validate(&request, LegalProfileInput::parse)?;
        // The enrolling person's name is known when they are also the primary contact.
        let contact = &profile.primary_contact;
        let is_contact = contact.email.as_email().same_mailbox(&email);
        let new = NewAccount {
            directory,
            owner_first_name: is_contact.then(|| contact.first_name.clone()),
            owner_last_name: is_contact.then(|| contact.last_name.clone()),
            owner_email: email,
            profile,
            sandbox,
        };
        let draw_partner_id = || PartnerId::from_number(rand::random::<u32>());
        match open_account(conn, &principal, &new, now, draw_partner_id)? {
            Err(DirectoryHasAccount) => Err(ApiError::new(
                ErrorCode::AccountExists,
                "This directory already has a partner account; read it with GET /v1/account.",
            )),
            Ok((account, _)) => Ok(Reply::json(StatusCode::CREATED, &Account::from(&account))?
                .with_header(LOCATION, "/v1/account")
                .with_header(ETAG, account_etag(&account))),
        }
    })
    .await
}

/// Creates the account with its owner and records `account.created`: what enrolling a
/// directory writes, for this handler and for `partner-center seed` alike.
pub(crate) fn open_account(
    conn: &mut DbConnection,
    principal: &Principal,
    new: &NewAccount,
    now: DateTime<Utc>,
    draw_partner_id: impl FnMut() -> PartnerId,
) -> Result<Result<(StoredAccount, Membership), DirectoryHasAccount>, ApiError> {
    let created = accounts::create(conn, new, now, draw_partner_id)?;
    if let Ok((account, owner)) = &created {
        audit::record(
            conn,
            &owner.scope,
            principal,
            "account.created",
            ("account", account.id.to_string()),
            json!({"partner_id": account.partner_id, "legal_name": account.legal_name}),
            now,
        )?;
    }
    Ok(created)
}

/// Read the caller's partner account.
///
/// Supports conditional requests: with `If-None-Match` naming the current ETag the answer is
/// 304 without a body.
#[utoipa::path(
    tag = "Accounts",
    operation_id = "get_account",
    params(
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier read; 304 when the account has not changed since."),
    ),
    responses(
        (status = 200, description = "The caller's account.", body = Account, headers(
            ("ETag" = String, description = "The account's current entity tag."),
        )),
        (status = 304, description = "The account has not changed since the ETag in `If-None-Match`.", headers(
            ("ETag" = String, description = "The account's current entity tag."),
        )),
        (status = 403, description = "The caller is not a user of the directory's account (`not_a_member`), or is an operator (`principal_not_allowed`)."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/account")]
pub async fn get_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    // Taken before the read, so a write it does not see retires what it keeps.
    let read_at = state.pool.generation();
    if let Some(view) = state.views.account.get(&principal, read_at) {
        return Ok(conditional_rendered(&req, &view));
    }
    let reader = principal.clone();
    let account = db::lookup(&state, move |conn| {
        let membership = access::authorize(conn, &reader, Permission::AccountRead)?;
        Ok(accounts::get(conn, &membership.scope)?)
    })
    .await?;
    let view = Rendered::json(account_etag(&account), &Account::from(&account))
        .map(Arc::new)
        .map_err(|error| ApiError::internal(format!("rendering the account: {error}")))?;
    state
        .views
        .account
        .keep(principal, read_at, Arc::clone(&view));
    Ok(conditional_rendered(&req, &view))
}
