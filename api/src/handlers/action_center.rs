//! Action Center (DESIGN §8): the caller's items, archiving, and notification preferences with
//! a contact email verified by a code sent through the mailer.

use actix_web::http::StatusCode;
use actix_web::http::header::ETAG;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use domain::FieldError;
use domain::FieldErrors;
use domain::action_center::{EmailCategory as DomainCategory, code};
use domain::email::EmailAddress;
use domain::ids::{ItemId, UserId};
use persistence::DbConnection;
use persistence::connection::write_transaction;
use persistence::repos::action_center::{self, Filter, Preferences as PreferencesRecord, viewer};
use persistence::repos::outbox;
use persistence::tenant::AccountScope;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::access;
use crate::audit;
use crate::auth::Authenticated;
use crate::clock;
use crate::db;
use crate::dto::action_center::{
    Item, ItemKind, ItemList, ItemListQuery, ItemPriority, Preferences, PreferencesInput,
    VerifyContactEmail,
};
use crate::error::{ApiError, ErrorCode};
use crate::extract::etag::{IfMatch, changed_meanwhile, etag};
use crate::extract::json::{JsonBody, validate};
use crate::extract::pagination::{page_request, page_response};
use crate::state::AppState;

/// List my Action Center items.
///
/// Items addressed to the caller and items of the workspaces the caller's roles reach,
/// newest first. Filter by `kind`, `priority` and `status`.
#[utoipa::path(
    tag = "Action Center",
    operation_id = "list_action_center_items",
    params(ItemListQuery),
    responses(
        (status = 200, description = "One page of items.", body = ItemList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
        (status = 403, description = "`not_a_member` or `principal_not_allowed` (apps have no Action Center)."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/action-center/items")]
pub async fn list_items(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ItemListQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let query = query.into_inner();
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let filter = Filter {
        kind: query.kind.map(|kind| match kind {
            ItemKind::Action => domain::action_center::Kind::Action,
            ItemKind::Notification => domain::action_center::Kind::Notification,
        }),
        priority: query.priority.map(|priority| match priority {
            ItemPriority::Mandatory => domain::action_center::Priority::Mandatory,
            ItemPriority::Recommended => domain::action_center::Priority::Recommended,
        }),
        status: query.status.map(Into::into),
    };
    let page = db::read(&state, move |conn| {
        let (membership, user) = access::account_user(conn, &principal)?;
        let viewer = viewer(user, &membership.roles);
        Ok(action_center::list(
            conn,
            &membership.scope,
            &viewer,
            &filter,
            &page,
        )?)
    })
    .await?;
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| ItemList {
            items: page.items.iter().map(Item::from).collect(),
            next_cursor,
        },
    ))
}

/// Archive an item.
///
/// Archives the item for the caller (others still see it). Mandatory actions cannot be
/// archived: they complete when done. Archiving twice is harmless.
#[utoipa::path(
    tag = "Action Center",
    operation_id = "archive_action_center_item",
    params(("item_id" = Uuid, Path, description = "The item's id.")),
    responses(
        (status = 200, description = "The item, archived for the caller.", body = Item),
        (status = 403, description = "`not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller sees no item with this id (`not_found`)."),
        (status = 409, description = "The item is a mandatory action (`mandatory_action`)."),
    ),
)]
#[post("/v1/action-center/items/{item_id}/archive")]
pub async fn archive_item(
    state: web::Data<AppState>,
    caller: Authenticated,
    item_id: web::Path<Uuid>,
) -> Result<web::Json<Item>, ApiError> {
    let principal = caller.0;
    let id = ItemId::from_uuid(item_id.into_inner());
    let wall = clock::now();
    let item = db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let (membership, user) = access::account_user(conn, &principal)?;
            let now = membership.now(wall);
            let scope = &membership.scope;
            let viewer = viewer(user, &membership.roles);
            let not_found =
                || ApiError::new(ErrorCode::NotFound, "You have no Action Center item with this id.");
            let item = action_center::get(conn, scope, &viewer, id)?.ok_or_else(not_found)?;
            if !item.class.can_archive() {
                return Err(ApiError::new(
                    ErrorCode::MandatoryAction,
                    "Mandatory actions cannot be archived; the item completes when the action is done.",
                ));
            }
            if item.archived_at.is_some() {
                return Ok(item);
            }
            if !action_center::archive(conn, scope, id, user, now)? {
                // A concurrent request archived it first and recorded it.
                return action_center::get(conn, scope, &viewer, id)?.ok_or_else(not_found);
            }
            audit::record(
                conn,
                scope,
                &principal,
                "action_center.item_archived",
                ("action_center_item", id.to_string()),
                json!({"event": item.event}),
                now,
            )?;
            action_center::get(conn, scope, &viewer, id)?.ok_or_else(not_found)
        })
    })
    .await?;
    Ok(web::Json(Item::from(&item)))
}

fn preferences_etag(user: UserId, preferences: &PreferencesRecord) -> String {
    etag(&format!("preferences:{user}"), preferences.version)
}

fn preferences_response(
    status: StatusCode,
    user: UserId,
    preferences: &PreferencesRecord,
) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((ETAG, preferences_etag(user, preferences)))
        .json(Preferences::from(preferences))
}

/// Read my preferences.
#[utoipa::path(
    tag = "Action Center",
    operation_id = "get_action_center_preferences",
    responses(
        (status = 200, description = "The caller's preferences (defaults until first saved).", body = Preferences, headers(
            ("ETag" = String, description = "Send as `If-Match` to change them."),
        )),
        (status = 403, description = "`not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/action-center/preferences")]
pub async fn get_preferences(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let (user, preferences) = db::read(&state, move |conn| {
        let (membership, user) = access::account_user(conn, &principal)?;
        Ok((
            user,
            action_center::get_preferences(conn, &membership.scope, user)?,
        ))
    })
    .await?;
    Ok(preferences_response(StatusCode::OK, user, &preferences))
}

fn code_hash(user: UserId, code: &str) -> String {
    Sha256::digest(format!("{user}:{code}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Draws a new code, queues it to the contact email and records its hash on `preferences`.
fn send_code(
    conn: &mut DbConnection,
    scope: &AccountScope,
    user: UserId,
    preferences: &mut PreferencesRecord,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let Some(address) = preferences.contact_email.clone() else {
        return Ok(());
    };
    let code = code::from_number(rand::random::<u32>());
    preferences.code_hash = Some(code_hash(user, &code));
    preferences.code_expires_at = Some(code::expires_at(now));
    preferences.code_attempts = 0;
    outbox::enqueue(
        conn,
        scope,
        &address,
        "Verify your Partner Center contact email",
        &format!(
            "Your verification code is {code}.\n\nIt expires in {} minutes. If you did not ask for it, ignore this message.\n",
            code::VALID_MINUTES
        ),
        preferences.code_expires_at,
        now,
    )?;
    Ok(())
}

/// Change my preferences.
///
/// Requires `If-Match`. A new contact email is sent a six-digit code (valid 30 minutes) and
/// receives Action Center email once verified. Only `transactional` and `promotional`
/// email can be opted out of.
#[utoipa::path(
    tag = "Action Center",
    operation_id = "update_action_center_preferences",
    params(("If-Match" = String, Header, description = "The preferences' current ETag.")),
    request_body(content = PreferencesInput, content_type = "application/json"),
    responses(
        (status = 200, description = "The preferences after the change.", body = Preferences, headers(
            ("ETag" = String, description = "The preferences' new entity tag."),
        )),
        (status = 403, description = "`not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
        (status = 412, description = "The preferences changed since the ETag in `If-Match` (`precondition_failed`)."),
        (status = 428, description = "`If-Match` is missing (`precondition_required`)."),
    ),
)]
#[put("/v1/action-center/preferences")]
pub async fn update_preferences(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    body: JsonBody<PreferencesInput>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let principal = caller.0;
    let request = body.value;
    let wall = clock::now();
    let (user, saved) = db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let (membership, user) = access::account_user(conn, &principal)?;
            let now = membership.now(wall);
            let scope = &membership.scope;
            let current = action_center::get_preferences(conn, scope, user)?;
            if_match.check(&preferences_etag(user, &current))?;
            let (email, language, opt_outs) = validate(&request, |request| {
                let mut errors = FieldErrors::new();
                let email = match &request.contact_email {
                    None => Some(None),
                    Some(raw) => errors
                        .check("contact_email", EmailAddress::parse(raw))
                        .map(Some),
                };
                let language_ok = request.language.split('-').all(|part| {
                    !part.is_empty()
                        && part.len() <= 8
                        && part.bytes().all(|b| b.is_ascii_alphanumeric())
                });
                if !language_ok {
                    errors.push(FieldError::new(
                        "language",
                        "invalid_language_tag",
                        "must be a BCP 47 language tag such as en or fr-CA",
                    ));
                }
                let mut opt_outs = Vec::new();
                for (index, category) in request.email_opt_outs.iter().enumerate() {
                    let category: DomainCategory = (*category).into();
                    if category.can_opt_out() {
                        opt_outs.push(category);
                    } else {
                        errors.push(FieldError::new(
                            format!("email_opt_outs[{index}]"),
                            "not_optional",
                            "mandatory and recommended action email cannot be opted out of",
                        ));
                    }
                }
                errors.finish(|| Some((email?, request.language.clone(), opt_outs)))
            })?;
            let mut next = current.clone();
            next.language = language;
            next.transactional_opt_out = opt_outs.contains(&DomainCategory::Transactional);
            next.promotional_opt_out = opt_outs.contains(&DomainCategory::Promotional);
            let new_email = email.map(|email| email.as_str().to_owned());
            let email_changed = match (&current.contact_email, &new_email) {
                (Some(old), Some(new)) => !old.eq_ignore_ascii_case(new),
                (None, None) => false,
                _ => true,
            };
            if email_changed {
                next.contact_email = new_email;
                next.contact_email_verified_at = None;
                next.code_hash = None;
                next.code_expires_at = None;
                next.code_attempts = 0;
                send_code(conn, scope, user, &mut next, now)?;
            }
            if next == current && current.version > 0 {
                return Ok((user, current));
            }
            let saved = action_center::save_preferences(conn, scope, user, &next, now)?
                .ok_or_else(|| changed_meanwhile("preferences"))?;
            audit::record(
                conn,
                scope,
                &principal,
                "preferences.updated",
                ("user", user.to_string()),
                json!({
                    "contact_email_changed": email_changed,
                    "language": saved.language,
                    "email_opt_outs": Preferences::from(&saved).email_opt_outs,
                }),
                now,
            )?;
            Ok((user, saved))
        })
    })
    .await?;
    Ok(preferences_response(StatusCode::OK, user, &saved))
}

fn no_pending() -> ApiError {
    ApiError::new(
        ErrorCode::NoPendingVerification,
        "No contact email is waiting for verification: set one with PUT /v1/action-center/preferences.",
    )
}

/// Verify my contact email.
///
/// Checks the code sent to the contact email. A wrong code counts against five attempts;
/// after that, or after 30 minutes, ask for a new code.
#[utoipa::path(
    tag = "Action Center",
    operation_id = "verify_contact_email",
    request_body(content = VerifyContactEmail, content_type = "application/json"),
    responses(
        (status = 200, description = "The contact email is verified.", body = Preferences, headers(
            ("ETag" = String, description = "The preferences' new entity tag."),
        )),
        (status = 400, description = "The code was not accepted (`validation_failed`, field `code`: `wrong`, `expired` or `attempts_exhausted`)."),
        (status = 403, description = "`not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
        (status = 409, description = "No contact email is waiting for verification (`no_pending_verification`)."),
    ),
)]
#[post("/v1/action-center/preferences/contact-email/verify")]
pub async fn verify_contact_email(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: JsonBody<VerifyContactEmail>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let request = body.value;
    let wall = clock::now();
    let (user, outcome) = db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let (membership, user) = access::account_user(conn, &principal)?;
            let now = membership.now(wall);
            let scope = &membership.scope;
            let given = validate(&request, |request| Ok(request.code.trim().to_owned()))?;
            let current = action_center::get_preferences(conn, scope, user)?;
            if !current.awaiting_verification() {
                return Err(no_pending());
            }
            let matches = current
                .code_hash
                .as_deref()
                .is_some_and(|hash| hash == code_hash(user, &given));
            let mut next = current.clone();
            let outcome = code::check(current.code_expires_at, current.code_attempts, matches, now);
            match outcome {
                Ok(()) => {
                    next.contact_email_verified_at = Some(now);
                    next.code_hash = None;
                    next.code_expires_at = None;
                    next.code_attempts = 0;
                }
                Err(code::Refused::Wrong) => next.code_attempts += 1,
                Err(code::Refused::NoneSent) => return Err(no_pending()),
                Err(refused) => return Ok((user, Err(refused))),
            }
            let saved = action_center::save_preferences(conn, scope, user, &next, now)?
                .ok_or_else(|| changed_meanwhile("preferences"))?;
            let (action, details) = match outcome {
                Ok(()) => (
                    "preferences.contact_email_verified",
                    json!({"contact_email": saved.contact_email}),
                ),
                Err(_) => (
                    "preferences.verification_failed",
                    json!({"contact_email": saved.contact_email, "attempts": saved.code_attempts}),
                ),
            };
            audit::record(
                conn,
                scope,
                &principal,
                action,
                ("user", user.to_string()),
                details,
                now,
            )?;
            // A wrong guess is committed (it counts), then refused.
            Ok((user, outcome.map(|()| saved)))
        })
    })
    .await?;
    match outcome {
        Ok(saved) => Ok(preferences_response(StatusCode::OK, user, &saved)),
        Err(refused) => {
            let (code, message) = match refused {
                code::Refused::Expired => ("expired", "the code expired; ask for a new one"),
                code::Refused::Exhausted => (
                    "attempts_exhausted",
                    "too many wrong codes; ask for a new one",
                ),
                _ => ("wrong", "the code is not the one sent"),
            };
            Err(ApiError::validation([FieldError::new(
                "code", code, message,
            )]))
        }
    }
}

/// Send a new code.
///
/// Sends a fresh code to the unverified contact email; earlier codes stop working.
#[utoipa::path(
    tag = "Action Center",
    operation_id = "resend_contact_email_code",
    responses(
        (status = 202, description = "A new code is on its way.", body = Preferences, headers(
            ("ETag" = String, description = "The preferences' new entity tag."),
        )),
        (status = 403, description = "`not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
        (status = 409, description = "No contact email is waiting for verification (`no_pending_verification`)."),
    ),
)]
#[post("/v1/action-center/preferences/contact-email/resend")]
pub async fn resend_code(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let wall = clock::now();
    let (user, saved) = db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let (membership, user) = access::account_user(conn, &principal)?;
            let now = membership.now(wall);
            let scope = &membership.scope;
            let current = action_center::get_preferences(conn, scope, user)?;
            if !current.awaiting_verification() {
                return Err(no_pending());
            }
            let mut next = current.clone();
            send_code(conn, scope, user, &mut next, now)?;
            let saved = action_center::save_preferences(conn, scope, user, &next, now)?
                .ok_or_else(|| changed_meanwhile("preferences"))?;
            audit::record(
                conn,
                scope,
                &principal,
                "preferences.verification_code_sent",
                ("user", user.to_string()),
                json!({"contact_email": saved.contact_email}),
                now,
            )?;
            Ok((user, saved))
        })
    })
    .await?;
    Ok(preferences_response(StatusCode::ACCEPTED, user, &saved))
}
