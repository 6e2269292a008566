//! Memberships, operator grants, and applications for programs the operator approves.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use domain::FieldError;
use domain::access::Permission;
use domain::action_center::application_decided_item;
use domain::catalog::{Enrollment, Program};
use domain::ids::{AccountId, ApplicationId, MembershipId};
use domain::membership::{ApplicationStatus, Source};
use persistence::DbConnection;
use persistence::repos::action_center::{self, Target};
use persistence::repos::{accounts, applications, memberships};
use persistence::tenant::AccountScope;
use serde_json::json;
use uuid::Uuid;

use crate::access;
use crate::audit;
use crate::auth::Authenticated;
use crate::clock;
use crate::db;
use crate::dto::membership::{
    Application, ApplicationDecision, ApplicationList, ApplicationOutcome, ApplicationQuery,
    CreateApplicationRequest, CreateMembershipRequest, GrantMembershipRequest, Membership,
    MembershipList, MembershipQuery,
};
use crate::enrollment::{self, Context, check_pack, not_eligible};
use crate::error::{ApiError, ErrorCode};
use crate::extract::idempotency::{self, IdempotencyKey, Reply};
use crate::extract::json::{JsonBody, validate};
use crate::extract::pagination::{page_of, page_request, page_response};
use crate::state::AppState;

const IDEMPOTENCY_DOC: &str = "Makes the request safe to retry (see `create_account`).";

/// Join a free program.
///
/// Activates a membership of a `self_service` program when every eligibility check holds;
/// otherwise 409 `not_eligible` with the checks (as `GET .../eligibility` reports them). Paid
/// programs are joined by purchase (`purchase_required`), specializations and Azure Expert
/// MSP by application (`application_required`). The membership starts at the account's now;
/// its anniversary is activation + the program's term. Safe to retry with an
/// `Idempotency-Key`.
#[utoipa::path(
    tag = "Membership",
    operation_id = "create_membership",
    params(("Idempotency-Key" = Option<String>, Header, max_length = 255, description = IDEMPOTENCY_DOC)),
    request_body(content = CreateMembershipRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The membership is active.", body = Membership, headers(
            ("Location" = String, description = "`/v1/memberships/{id}`."),
        )),
        (status = 403, description = "`insufficient_role` (joining needs `global_admin` or `mpn_partner_admin`), `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No program has this id (`not_found`)."),
        (status = 409, description = "`not_eligible` (with `checks`), `purchase_required`, `application_required`, `enrollment_not_applicable`, or `idempotency_key_in_use`."),
        (status = 422, description = "The `Idempotency-Key` was used with a different body (`idempotency_key_reused`)."),
    ),
)]
#[post("/v1/memberships")]
pub async fn create_membership(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    key: IdempotencyKey,
    body: JsonBody<CreateMembershipRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0.clone();
    let fingerprint = body.fingerprint(&req);
    let request = body.value;
    let rules = state.rules.clone();
    let catalog_cache = state.programs.clone();
    idempotency::execute(&state, &caller.0, key, fingerprint, move |conn, wall| {
        validate(&request, |_| Ok(()))?;
        let membership = access::authorize(conn, &principal, Permission::MembershipManage)?;
        let scope = &membership.scope;
        // One enrollment at a time per account: the checks and the insert are one unit.
        accounts::lock(conn, scope)?;
        let context = Context::load(conn, &catalog_cache, scope, membership.now(wall))?;
        let program = context.program(&request.program_id)?.clone();
        match program.enrollment {
            Enrollment::SelfService => {}
            Enrollment::Purchase => {
                return Err(ApiError::new(
                    ErrorCode::PurchaseRequired,
                    format!(
                        "{} is paid: it is joined by purchase, with POST /v1/orders.",
                        program.id
                    ),
                ));
            }
            Enrollment::Application => {
                return Err(ApiError::new(
                    ErrorCode::ApplicationRequired,
                    format!(
                        "{} is joined by an application the operator approves: POST /v1/program-applications.",
                        program.id
                    ),
                ));
            }
            Enrollment::Automatic => {
                return Err(ApiError::new(
                    ErrorCode::EnrollmentNotApplicable,
                    format!("{} is joined with the account itself.", program.id),
                ));
            }
        }
        check_pack(&program, request.benefit_pack.as_deref())?;
        let evaluated = context.evaluate(
            conn,
            scope,
            &program,
            &membership.roles,
            request.benefit_pack.as_deref(),
            &rules,
        )?;
        if !evaluated.eligible {
            return Err(not_eligible(&evaluated));
        }
        let created = enrollment::activate(
            conn,
            scope,
            &principal,
            &program,
            Source::Enrollment,
            request.benefit_pack.as_deref(),
            context.now,
            json!({}),
            &rules,
        )?;
        Ok(Reply::json(
            StatusCode::CREATED,
            &Membership::new(&created, rules.renewal_window_days, context.now),
        )?
        .with_header(LOCATION, format!("/v1/memberships/{}", created.id)))
    })
    .await
}

/// List memberships.
///
/// The account's memberships, oldest first, with statuses computed at the account's now:
/// `active`; `renewal_due` from the anniversary to anniversary + 30 days; then `expired`.
#[utoipa::path(
    tag = "Membership",
    operation_id = "list_memberships",
    params(MembershipQuery),
    responses(
        (status = 200, description = "One page of memberships.", body = MembershipList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/memberships")]
pub async fn list_memberships(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<MembershipQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let query = query.into_inner();
    crate::extract::query::at_most("program_id", query.program_id.as_deref(), 64)?;
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let window = state.rules.renewal_window_days;
    let wall = clock::now();
    let items = db::read(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::MembershipRead)?;
        let now = membership.now(wall);
        Ok(memberships::all(conn, &membership.scope)?
            .iter()
            .map(|record| Membership::new(record, window, now))
            .filter(|m| query.status.is_none_or(|status| m.status == status))
            .filter(|m| {
                query
                    .program_id
                    .as_ref()
                    .is_none_or(|program| m.program_id == *program)
            })
            .collect::<Vec<_>>())
    })
    .await?;
    let page = page_of(items, &page, |m| m.id.to_string());
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| MembershipList {
            items: page.items,
            next_cursor,
        },
    ))
}

/// Read a membership.
#[utoipa::path(
    tag = "Membership",
    operation_id = "get_membership",
    params(("membership_id" = Uuid, Path, description = "The membership's id.")),
    responses(
        (status = 200, description = "The membership.", body = Membership),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No membership of the caller's account has this id (`not_found`)."),
    ),
)]
#[get("/v1/memberships/{membership_id}")]
pub async fn get_membership(
    state: web::Data<AppState>,
    caller: Authenticated,
    membership_id: web::Path<Uuid>,
) -> Result<web::Json<Membership>, ApiError> {
    let principal = caller.0;
    let id = MembershipId::from_uuid(membership_id.into_inner());
    let window = state.rules.renewal_window_days;
    let wall = clock::now();
    let found =
        db::lookup(&state, move |conn| {
            let membership = access::authorize(conn, &principal, Permission::MembershipRead)?;
            let now = membership.now(wall);
            Ok(memberships::get(conn, &membership.scope, id)?
                .map(|m| Membership::new(&m, window, now)))
        })
        .await?;
    found.map(web::Json).ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            "No membership of your account has this id.",
        )
    })
}

/// Grant a membership.
///
/// Activates a membership without payment or application (complimentary, or migrated from
/// another system), at the account's now. Eligibility is not checked, except that the account
/// may not already hold the program (`not_eligible` with the duplicate check). Recorded in the
/// account's audit log with the reason.
#[utoipa::path(
    tag = "Operator",
    operation_id = "operator_grant_membership",
    params(
        ("account_id" = Uuid, Path, description = "The account's id."),
        ("Idempotency-Key" = Option<String>, Header, max_length = 255, description = IDEMPOTENCY_DOC),
    ),
    request_body(content = GrantMembershipRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The membership is active.", body = Membership),
        (status = 403, description = "The caller is not an operator (`operator_only`)."),
        (status = 404, description = "No account or program has this id (`not_found`)."),
        (status = 409, description = "The account already holds the program (`not_eligible`), or `idempotency_key_in_use`."),
        (status = 422, description = "The `Idempotency-Key` was used with a different body (`idempotency_key_reused`)."),
    ),
)]
#[post("/v1/operator/accounts/{account_id}/memberships")]
pub async fn grant_membership(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    key: IdempotencyKey,
    account_id: web::Path<Uuid>,
    body: JsonBody<GrantMembershipRequest>,
) -> Result<HttpResponse, ApiError> {
    let operator = access::operator(&caller.0)?;
    let principal = caller.0.clone();
    let id = AccountId::from_uuid(account_id.into_inner());
    let fingerprint = body.fingerprint(&req);
    let request = body.value;
    let rules = state.rules.clone();
    let catalog_cache = state.programs.clone();
    idempotency::execute(&state, &caller.0, key, fingerprint, move |conn, wall| {
        validate(&request, |_| Ok(()))?;
        let account = accounts::get_for_operator(conn, &operator, id)?
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "No partner account has this id."))?;
        let scope = operator.scope(id);
        accounts::lock(conn, &scope)?;
        let context = Context::load(conn, &catalog_cache, &scope, account.now(wall))?;
        let program = context.program(&request.program_id)?.clone();
        check_pack(&program, request.benefit_pack.as_deref())?;
        let evaluated = context.evaluate(
            conn,
            &scope,
            &program,
            &[],
            request.benefit_pack.as_deref(),
            &rules,
        )?;
        let duplicate: Vec<_> = evaluated
            .checks
            .iter()
            .filter(|check| {
                !check.satisfied
                    && matches!(
                        check.code,
                        domain::eligibility::CheckCode::NoDuplicateMembership
                            | domain::eligibility::CheckCode::ExclusiveGroup
                    )
            })
            .collect();
        if !duplicate.is_empty() {
            return Err(not_eligible(&evaluated));
        }
        let created = enrollment::activate(
            conn,
            &scope,
            &principal,
            &program,
            Source::OperatorGrant,
            request.benefit_pack.as_deref(),
            context.now,
            json!({"reason": request.reason}),
            &rules,
        )?;
        Reply::json(
            StatusCode::CREATED,
            &Membership::new(&created, rules.renewal_window_days, context.now),
        )
    })
    .await
}

/// Apply for a program.
///
/// For programs joined by application (specializations, Azure Expert MSP): every eligibility
/// check must hold now (the aligned designation, or all three Azure designations), otherwise
/// 409 `not_eligible` with the checks. The operator approves or rejects; approval activates
/// the membership. One open application per program.
#[utoipa::path(
    tag = "Membership",
    operation_id = "create_program_application",
    params(("Idempotency-Key" = Option<String>, Header, max_length = 255, description = IDEMPOTENCY_DOC)),
    request_body(content = CreateApplicationRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The application is submitted.", body = Application, headers(
            ("Location" = String, description = "`/v1/program-applications/{id}`."),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No program has this id (`not_found`)."),
        (status = 409, description = "`not_eligible` (with `checks`), `application_pending`, `enrollment_not_applicable` (the program is not joined by application), or `idempotency_key_in_use`."),
        (status = 422, description = "The `Idempotency-Key` was used with a different body (`idempotency_key_reused`)."),
    ),
)]
#[post("/v1/program-applications")]
pub async fn create_application(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    key: IdempotencyKey,
    body: JsonBody<CreateApplicationRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0.clone();
    let fingerprint = body.fingerprint(&req);
    let request = body.value;
    let rules = state.rules.clone();
    let catalog_cache = state.programs.clone();
    idempotency::execute(&state, &caller.0, key, fingerprint, move |conn, wall| {
        validate(&request, |_| Ok(()))?;
        let membership = access::authorize(conn, &principal, Permission::MembershipManage)?;
        let scope = &membership.scope;
        accounts::lock(conn, scope)?;
        let context = Context::load(conn, &catalog_cache, scope, membership.now(wall))?;
        let program = context.program(&request.program_id)?.clone();
        if program.enrollment != Enrollment::Application {
            return Err(ApiError::new(
                ErrorCode::EnrollmentNotApplicable,
                format!("{} is not joined by application.", program.id),
            ));
        }
        if applications::open_for(conn, scope, &program.id)?.is_some() {
            return Err(ApiError::new(
                ErrorCode::ApplicationPending,
                format!(
                    "The account already has a submitted application for {}.",
                    program.id
                ),
            ));
        }
        let evaluated = context.evaluate(conn, scope, &program, &membership.roles, None, &rules)?;
        if !evaluated.eligible {
            return Err(not_eligible(&evaluated));
        }
        let application = applications::submit(
            conn,
            scope,
            &program.id,
            request.evidence.trim(),
            principal.subject(),
            context.now,
        )?;
        audit::record(
            conn,
            scope,
            &principal,
            "program_application.submitted",
            ("program_application", application.id.to_string()),
            json!({"program_id": program.id}),
            context.now,
        )?;
        Ok(
            Reply::json(StatusCode::CREATED, &Application::from(&application))?.with_header(
                LOCATION,
                format!("/v1/program-applications/{}", application.id),
            ),
        )
    })
    .await
}

/// List program applications.
#[utoipa::path(
    tag = "Membership",
    operation_id = "list_program_applications",
    params(ApplicationQuery),
    responses(
        (status = 200, description = "One page of the account's applications, oldest first.", body = ApplicationList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/program-applications")]
pub async fn list_applications(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ApplicationQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let query = query.into_inner();
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let status = query.status.map(Into::into);
    let page = db::read(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::MembershipRead)?;
        Ok(applications::list(conn, &membership.scope, status, &page)?)
    })
    .await?;
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| ApplicationList {
            items: page.items.iter().map(Application::from).collect(),
            next_cursor,
        },
    ))
}

/// Read a program application.
#[utoipa::path(
    tag = "Membership",
    operation_id = "get_program_application",
    params(("application_id" = Uuid, Path, description = "The application's id.")),
    responses(
        (status = 200, description = "The application.", body = Application),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No application of the caller's account has this id (`not_found`)."),
    ),
)]
#[get("/v1/program-applications/{application_id}")]
pub async fn get_application(
    state: web::Data<AppState>,
    caller: Authenticated,
    application_id: web::Path<Uuid>,
) -> Result<web::Json<Application>, ApiError> {
    let principal = caller.0;
    let id = ApplicationId::from_uuid(application_id.into_inner());
    let found = db::lookup(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::MembershipRead)?;
        Ok(applications::get(conn, &membership.scope, id)?)
    })
    .await?;
    found
        .map(|a| web::Json(Application::from(&a)))
        .ok_or_else(application_not_found)
}

fn application_not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "No application of this account has this id.",
    )
}

/// List applications of every account.
///
/// The operator's queue: filter with `status=submitted` for those waiting for a decision.
#[utoipa::path(
    tag = "Operator",
    operation_id = "operator_list_program_applications",
    params(ApplicationQuery),
    responses(
        (status = 200, description = "One page of applications, oldest first.", body = ApplicationList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
        (status = 403, description = "The caller is not an operator (`operator_only`)."),
    ),
)]
#[get("/v1/operator/program-applications")]
pub async fn operator_list_applications(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ApplicationQuery>,
) -> Result<HttpResponse, ApiError> {
    let operator = access::operator(&caller.0)?;
    let query = query.into_inner();
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let status = query.status.map(Into::into);
    let page = db::read(&state, move |conn| {
        Ok(applications::list_all(conn, &operator, status, &page)?)
    })
    .await?;
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| ApplicationList {
            items: page.items.iter().map(Application::from).collect(),
            next_cursor,
        },
    ))
}

/// Decide a program application.
///
/// `approved` activates the membership at the account's now, if the account still meets
/// every check (otherwise 409 `not_eligible` with the checks, and the application stays
/// submitted); `rejected` needs a `reason`. The account gets an Action Center notification.
#[utoipa::path(
    tag = "Operator",
    operation_id = "operator_decide_program_application",
    params(
        ("account_id" = Uuid, Path, description = "The account's id."),
        ("application_id" = Uuid, Path, description = "The application's id."),
        ("Idempotency-Key" = Option<String>, Header, max_length = 255, description = IDEMPOTENCY_DOC),
    ),
    request_body(content = ApplicationDecision, content_type = "application/json"),
    responses(
        (status = 200, description = "The decided application.", body = Application),
        (status = 403, description = "The caller is not an operator (`operator_only`)."),
        (status = 404, description = "No application of this account has this id (`not_found`)."),
        (status = 409, description = "`application_decided`, `not_eligible` (approval, with `checks`), or `idempotency_key_in_use`."),
        (status = 422, description = "The `Idempotency-Key` was used with a different body (`idempotency_key_reused`)."),
    ),
)]
#[post("/v1/operator/accounts/{account_id}/program-applications/{application_id}/decision")]
pub async fn decide_application(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    key: IdempotencyKey,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<ApplicationDecision>,
) -> Result<HttpResponse, ApiError> {
    let operator = access::operator(&caller.0)?;
    let principal = caller.0.clone();
    let (account_id, application_id) = path.into_inner();
    let account_id = AccountId::from_uuid(account_id);
    let application_id = ApplicationId::from_uuid(application_id);
    let fingerprint = body.fingerprint(&req);
    let decision = body.value;
    let rules = state.rules.clone();
    let catalog_cache = state.programs.clone();
    idempotency::execute(&state, &caller.0, key, fingerprint, move |conn, wall| {
        let reason = validate(&decision, |decision| {
            let reason = decision
                .reason
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned);
            if decision.outcome == ApplicationOutcome::Rejected && reason.is_none() {
                return Err(FieldError::new("reason", "required", "tell the partner why").into());
            }
            Ok(reason)
        })?;
        let account = accounts::get_for_operator(conn, &operator, account_id)?
            .ok_or_else(application_not_found)?;
        let scope = operator.scope(account_id);
        accounts::lock(conn, &scope)?;
        let application =
            applications::get(conn, &scope, application_id)?.ok_or_else(application_not_found)?;
        if application.status != ApplicationStatus::Submitted {
            return Err(ApiError::new(
                ErrorCode::ApplicationDecided,
                format!("The application was already {}.", application.status.id()),
            ));
        }
        let context = Context::load(conn, &catalog_cache, &scope, account.now(wall))?;
        let program = context.program(&application.program_id)?.clone();
        let decided = match decision.outcome {
            ApplicationOutcome::Approved => {
                let evaluated = context.evaluate(conn, &scope, &program, &[], None, &rules)?;
                let failed: Vec<_> = evaluated
                    .failed()
                    .filter(|c| c.code != domain::eligibility::CheckCode::CallerRole)
                    .collect();
                if !failed.is_empty() {
                    let mut relevant = evaluated.clone();
                    relevant
                        .checks
                        .retain(|c| c.code != domain::eligibility::CheckCode::CallerRole);
                    return Err(not_eligible(&relevant));
                }
                let created = enrollment::activate(
                    conn,
                    &scope,
                    &principal,
                    &program,
                    Source::Application,
                    None,
                    context.now,
                    json!({"application_id": application.id.to_string()}),
                    &rules,
                )?;
                record_decision(conn, &scope, &program, &application, true, None, Some(created.id), context.now)?
            }
            ApplicationOutcome::Rejected => record_decision(
                conn,
                &scope,
                &program,
                &application,
                false,
                reason.as_deref(),
                None,
                context.now,
            )?,
        };
        audit::record(
            conn,
            &scope,
            &principal,
            "program_application.decided",
            ("program_application", decided.id.to_string()),
            json!({"program_id": decided.program_id, "outcome": decided.status, "reason": decided.reason}),
            context.now,
        )?;
        Reply::json(StatusCode::OK, &Application::from(&decided))
    })
    .await
}

#[allow(clippy::too_many_arguments)]
fn record_decision(
    conn: &mut DbConnection,
    scope: &AccountScope,
    program: &Program,
    application: &applications::Application,
    approved: bool,
    reason: Option<&str>,
    membership: Option<MembershipId>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<applications::Application, ApiError> {
    let status = if approved {
        ApplicationStatus::Approved
    } else {
        ApplicationStatus::Rejected
    };
    let decided =
        applications::decide(conn, scope, application.id, status, reason, membership, now)?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::ApplicationDecided,
                    "The application was decided meanwhile.",
                )
            })?;
    let target = decided.id.to_string();
    action_center::raise(
        conn,
        scope,
        &application_decided_item(&program.name, approved, reason),
        Some(Target {
            kind: "program_application",
            id: &target,
        }),
        now,
    )?;
    Ok(decided)
}
