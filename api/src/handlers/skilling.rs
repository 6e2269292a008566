//! Learn-profile links, completions (operator feed and sandbox stand-in), skilling credit.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use domain::FieldError;
use domain::access::Permission;
use domain::action_center::learning_profile_moved_item;
use domain::catalog::Rules;
use domain::principal::Principal;
use domain::skilling::{AssociationRefused, may_associate};
use persistence::DbConnection;
use persistence::connection::write_transaction;
use persistence::repos::skilling::{self, CreditFilter, LinkRecord, NewCompletion};
use persistence::repos::webhooks::Sweep;
use persistence::repos::{accounts, action_center};
use serde_json::json;

use crate::access;
use crate::audit;
use crate::auth::Authenticated;
use crate::clock;
use crate::db;
use crate::dto::skilling::{
    CompletionInput, CompletionReceipt, CreditStatus, LearningLink, LearningProfile,
    LinkLearningProfileRequest, SkillingCredit, SkillingCreditList, SkillingQuery,
};
use crate::error::{ApiError, ErrorCode};
use crate::extract::idempotency::{self, IdempotencyKey, Reply};
use crate::extract::json::{JsonBody, validate};
use crate::extract::pagination::{page_request, page_response};
use crate::handlers::sandbox::sandbox_member;
use crate::state::AppState;

/// Whether the person whose associations in this account are `history` may associate now.
fn may_associate_again(
    history: &[LinkRecord],
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<(), AssociationRefused> {
    let times: Vec<DateTime<Utc>> = history.iter().map(|link| link.linked_at).collect();
    may_associate(&times, rules, now)
}

fn profile_body(
    history: &[LinkRecord],
    rules: &Rules,
    now: DateTime<Utc>,
    credited: Option<usize>,
) -> LearningProfile {
    LearningProfile {
        current: history
            .iter()
            .find(|link| link.unlinked_at.is_none())
            .map(LearningLink::from),
        next_association_allowed_from: may_associate_again(history, rules, now)
            .err()
            .map(AssociationRefused::allowed_from),
        history: history.iter().map(LearningLink::from).collect(),
        credited_completions: credited,
    }
}

/// Read my Learn profile link.
///
/// The caller's current Learn profile in this account, every association they made here, and
/// when the next association is allowed.
#[utoipa::path(
    tag = "Skilling",
    operation_id = "get_my_learning_profile",
    responses(
        (status = 200, description = "The caller's link and history.", body = LearningProfile),
        (status = 403, description = "`not_a_member` or `principal_not_allowed` (only people have Learn profiles)."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/me/learning-profile")]
pub async fn get_learning_profile(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<web::Json<LearningProfile>, ApiError> {
    let principal = caller.0;
    let rules = state.rules.clone();
    let wall = clock::now();
    let body = db::read(&state, move |conn| {
        let (membership, user_id) = access::account_user(conn, &principal)?;
        let now = membership.now(wall);
        let history = skilling::history(conn, &membership.scope, user_id)?;
        Ok(profile_body(&history, &rules, now, None))
    })
    .await?;
    Ok(web::Json(body))
}

/// Link my Learn profile.
///
/// Associates the caller's Microsoft Learn profile with the account: its completions count
/// towards the account from `max(linked_at, completed_at) + 10 days`. At most 3 associations
/// per person in any 365 days, and 30 days between two (409 `association_limit_reached`,
/// `association_cooling_off`; `GET` tells when the next is allowed). Linking another profile
/// replaces the caller's previous one; a profile linked here leaves any other account it was
/// linked to. Linking the profile already linked changes nothing (200).
#[utoipa::path(
    tag = "Skilling",
    operation_id = "link_my_learning_profile",
    request_body(content = LinkLearningProfileRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The profile was already linked; nothing changed.", body = LearningProfile),
        (status = 201, description = "The profile is linked.", body = LearningProfile),
        (status = 403, description = "`not_a_member` or `principal_not_allowed` (only people have Learn profiles)."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
        (status = 409, description = "`association_cooling_off` or `association_limit_reached`."),
    ),
)]
#[post("/v1/me/learning-profile")]
pub async fn link_learning_profile(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: JsonBody<LinkLearningProfileRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let request = body.value;
    let rules = state.rules.clone();
    let wall = clock::now();
    let (status, body) = db::run(&state, move |conn| {
        let learn_id = validate(&request, |r| Ok(r.learn_id.trim().to_owned()))?;
        write_transaction(conn, |conn| {
            let (membership, user_id) = access::account_user(conn, &principal)?;
            let scope = &membership.scope;
            // One association at a time per account: the rules and the insert are one unit.
            accounts::lock(conn, scope)?;
            let now = membership.now(wall);
            let history = skilling::history(conn, scope, user_id)?;
            if history
                .iter()
                .any(|link| link.unlinked_at.is_none() && link.learn_id == learn_id)
            {
                return Ok((StatusCode::OK, profile_body(&history, &rules, now, None)));
            }
            if let Err(refused) = may_associate_again(&history, &rules, now) {
                return Err(association_refused(refused, &rules));
            }
            let realm = skilling::realm(scope, membership.is_sandbox());
            let linked = skilling::link(
                conn,
                scope,
                user_id,
                &learn_id,
                &realm,
                rules.skilling_lag_days,
                now,
            )?;
            for (account, person) in &linked.moved_from {
                if account != scope {
                    action_center::raise(
                        conn,
                        account,
                        &learning_profile_moved_item(*person, &learn_id),
                        None,
                        now,
                    )?;
                }
            }
            audit::record(
                conn,
                scope,
                &principal,
                "skilling.profile_linked",
                ("learning_link", linked.link.id.to_string()),
                json!({
                    "learn_id": learn_id,
                    "replaced": linked.replaced.as_ref().map(|l| l.learn_id.clone()),
                    "moved_from_another_account": !linked.moved_from.is_empty(),
                    "credited_completions": linked.credited,
                }),
                now,
            )?;
            let history = skilling::history(conn, scope, user_id)?;
            let body = profile_body(&history, &rules, now, Some(linked.credited));
            Ok((StatusCode::CREATED, body))
        })
    })
    .await?;
    Ok(HttpResponse::build(status).json(body))
}

fn association_refused(refused: AssociationRefused, rules: &Rules) -> ApiError {
    match refused {
        AssociationRefused::CoolingOff { allowed_from } => ApiError::new(
            ErrorCode::AssociationCoolingOff,
            format!(
                "{} days must pass between two associations; the next is allowed from {}.",
                rules.association_cooling_off_days,
                allowed_from.to_rfc3339()
            ),
        ),
        AssociationRefused::TooMany { allowed_from } => ApiError::new(
            ErrorCode::AssociationLimitReached,
            format!(
                "At most {} associations in any {} days; the next is allowed from {}.",
                rules.max_associations,
                rules.association_period_days,
                allowed_from.to_rfc3339()
            ),
        ),
    }
}

fn check_completion(input: &CompletionInput, now: DateTime<Utc>) -> Result<(), ApiError> {
    validate(input, |input| {
        if input.completed_at > now {
            return Err(FieldError::new(
                "completed_at",
                "in_future",
                "a completion cannot be dated after now",
            )
            .into());
        }
        Ok(())
    })
}

/// Records the completion and, when it credits an account, writes that account's audit record.
fn record(
    conn: &mut DbConnection,
    principal: &Principal,
    realm: &str,
    input: &CompletionInput,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<CompletionReceipt, ApiError> {
    let recorded = skilling::record_completion(
        conn,
        realm,
        &NewCompletion {
            learn_id: input.learn_id.trim(),
            kind: input.kind.into(),
            credential: input.credential.trim(),
            title: input.title.trim(),
            completed_at: input.completed_at,
        },
        rules.skilling_lag_days,
        now,
    )?;
    if let Some((account, counts_from)) = &recorded.credited {
        audit::record(
            conn,
            account,
            principal,
            "skilling.completion_credited",
            ("skilling_completion", recorded.completion.id.to_string()),
            json!({
                "learn_id": recorded.completion.learn_id,
                "credential": recorded.completion.credential,
                "counts_from": counts_from,
            }),
            now,
        )?;
        // A completion reported late may count already: no later sweep interval holds its
        // instant, so it is announced now (once, like any sweep would).
        if *counts_from <= now {
            crate::events::announce_time(
                conn,
                Sweep::Account(account),
                rules.renewal_window_days,
                *counts_from - chrono::Duration::microseconds(1),
                *counts_from,
            )?;
        }
    }
    Ok(CompletionReceipt::new(
        &recorded.completion,
        recorded.created,
        recorded
            .credited
            .map(|(account, from)| (account.account_id().as_uuid(), from)),
    ))
}

/// Record a completion.
///
/// The learning platform's feed: a certification, training or assessment a Learn profile
/// completed. Recorded once per profile, credential and date (a repeat answers 200 with
/// `created: false`). If the profile is linked to a live account, the account is credited;
/// the credit counts from `max(linked_at, completed_at) + 10 days`.
#[utoipa::path(
    tag = "Operator",
    operation_id = "operator_record_completion",
    request_body(content = CompletionInput, content_type = "application/json"),
    responses(
        (status = 200, description = "The completion was already recorded.", body = CompletionReceipt),
        (status = 201, description = "The completion was recorded.", body = CompletionReceipt),
        (status = 403, description = "The caller is not an operator (`operator_only`)."),
    ),
)]
#[post("/v1/operator/skilling/completions")]
pub async fn record_completion(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: JsonBody<CompletionInput>,
) -> Result<HttpResponse, ApiError> {
    access::operator(&caller.0)?;
    let principal = caller.0;
    let input = body.value;
    let rules = state.rules.clone();
    let now = clock::now();
    check_completion(&input, now)?;
    let receipt = db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            record(
                conn,
                &principal,
                &skilling::live_realm(),
                &input,
                &rules,
                now,
            )
        })
    })
    .await?;
    let status = if receipt.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(receipt))
}

/// Record a completion (sandbox).
///
/// The sandbox stand-in for the learning platform: records a completion of a Learn profile in
/// this sandbox, dated at most the sandbox's now, and credits this account if the profile is
/// linked here. Accepts `Idempotency-Key`. 409 `not_a_sandbox` on a live account.
#[utoipa::path(
    tag = "Sandbox",
    operation_id = "sandbox_record_completion",
    params(("Idempotency-Key" = Option<String>, Header, max_length = 255, description = "Makes the request safe to retry (see `create_account`).")),
    request_body(content = CompletionInput, content_type = "application/json"),
    responses(
        (status = 200, description = "The completion was already recorded.", body = CompletionReceipt),
        (status = 201, description = "The completion was recorded.", body = CompletionReceipt),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 409, description = "The account is not a sandbox (`not_a_sandbox`), or `idempotency_key_in_use`."),
    ),
)]
#[post("/v1/sandbox/skilling/completions")]
pub async fn sandbox_record_completion(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    key: IdempotencyKey,
    body: JsonBody<CompletionInput>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0.clone();
    let fingerprint = body.fingerprint(&req);
    let input = body.value;
    let rules = state.rules.clone();
    idempotency::execute(&state, &caller.0, key, fingerprint, move |conn, _wall| {
        let (membership, now) = sandbox_member(conn, &principal)?;
        check_completion(&input, now)?;
        let realm = skilling::realm(&membership.scope, true);
        let receipt = record(conn, &principal, &realm, &input, &rules, now)?;
        let status = if receipt.created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Reply::json(status, &receipt)
    })
    .await
}

/// List skilling credit.
///
/// Completions credited to the account by linked Learn profiles: `pending` until
/// `counts_from` (`max(linked_at, completed_at) + 10 days`), then `counted`. Statuses are
/// computed at the account's now.
#[utoipa::path(
    tag = "Skilling",
    operation_id = "list_skilling",
    params(SkillingQuery),
    responses(
        (status = 200, description = "One page of credits.", body = SkillingCreditList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/skilling")]
pub async fn list_skilling(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<SkillingQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let query = query.into_inner();
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let filter = match query.status {
        None => CreditFilter::All,
        Some(CreditStatus::Pending) => CreditFilter::Pending,
        Some(CreditStatus::Counted) => CreditFilter::Counted,
    };
    let wall = clock::now();
    let (page, now) = db::read(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::MembershipRead)?;
        let now = membership.now(wall);
        Ok((
            skilling::credits(conn, &membership.scope, filter, now, &page)?,
            now,
        ))
    })
    .await?;
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| SkillingCreditList {
            items: page
                .items
                .iter()
                .map(|credit| SkillingCredit::new(credit, now))
                .collect(),
            as_of: now,
            next_cursor,
        },
    ))
}
