//! Performance linkage (PAL/DPOR), performance records (operator feed and sandbox stand-in),
//! and the Solutions Partner capability scores.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use domain::FieldError;
use domain::access::Permission;
use domain::ids::PartnerLinkId;
use domain::principal::Principal;
use persistence::DbConnection;
use persistence::connection::write_transaction;
use persistence::repos::performance::{self, AlreadyLinked, Measure};
use persistence::repos::{accounts, programs};
use persistence::tenant::AccountScope;
use serde_json::json;
use uuid::Uuid;

use crate::access;
use crate::audit;
use crate::auth::Authenticated;
use crate::clock;
use crate::db;
use crate::dto::performance::{
    AreaScore, CreatePartnerLinkRequest, ListQuery, OperatorPerformanceRecordInput, PartnerLink,
    PartnerLinkList, PerformanceKind, PerformanceRecord, PerformanceRecordInput, ScoreList,
};
use crate::enrollment::area_score;
use crate::error::{ApiError, ErrorCode};
use crate::extract::idempotency::{self, IdempotencyKey, Reply};
use crate::extract::json::{JsonBody, validate};
use crate::extract::pagination::{page_request, page_response};
use crate::handlers::sandbox::sandbox_member;
use crate::state::AppState;

/// Link a customer.
///
/// Links the account's PartnerID to a customer tenant, as a Partner Admin Link (`pal`) or
/// Digital Partner of Record (`dpor`). Only linked customers' performance records count
/// towards the capability scores.
#[utoipa::path(
    tag = "Performance",
    operation_id = "create_partner_link",
    request_body(content = CreatePartnerLinkRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The link.", body = PartnerLink, headers(
            ("Location" = String, description = "`/v1/partner-links/{id}`."),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 409, description = "This kind of link to this customer exists (`partner_link_exists`)."),
    ),
)]
#[post("/v1/partner-links")]
pub async fn create_partner_link(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: JsonBody<CreatePartnerLinkRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let request = body.value;
    let wall = clock::now();
    let link = db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let membership = access::authorize(conn, &principal, Permission::MembershipManage)?;
            let scope = &membership.scope;
            let now = membership.now(wall);
            let customer = request.customer_tenant_id.to_string();
            let link = performance::create_link(conn, scope, request.kind.into(), &customer, now)?
                .map_err(|AlreadyLinked(existing)| {
                    ApiError::new(
                        ErrorCode::PartnerLinkExists,
                        format!(
                            "The account already has a {} link to this customer ({}).",
                            existing.kind.id(),
                            existing.id
                        ),
                    )
                })?;
            audit::record(
                conn,
                scope,
                &principal,
                "partner_link.created",
                ("partner_link", link.id.to_string()),
                json!({"kind": link.kind, "customer_tenant_id": link.customer_tenant_id}),
                now,
            )?;
            Ok(link)
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/v1/partner-links/{}", link.id)))
        .json(PartnerLink::from(&link)))
}

/// List partner links.
#[utoipa::path(
    tag = "Performance",
    operation_id = "list_partner_links",
    params(ListQuery),
    responses(
        (status = 200, description = "One page of links, oldest first.", body = PartnerLinkList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
    ),
)]
#[get("/v1/partner-links")]
pub async fn list_partner_links(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let query = query.into_inner();
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let page = db::read(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::MembershipRead)?;
        Ok(performance::links(conn, &membership.scope, &page)?)
    })
    .await?;
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| PartnerLinkList {
            items: page.items.iter().map(PartnerLink::from).collect(),
            next_cursor,
        },
    ))
}

/// Remove a partner link.
///
/// The customer's records stop counting towards the capability scores.
#[utoipa::path(
    tag = "Performance",
    operation_id = "delete_partner_link",
    params(("link_id" = Uuid, Path, description = "The link's id.")),
    responses(
        (status = 204, description = "The link is removed."),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No link of the caller's account has this id (`not_found`)."),
    ),
)]
#[delete("/v1/partner-links/{link_id}")]
pub async fn delete_partner_link(
    state: web::Data<AppState>,
    caller: Authenticated,
    link_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let id = PartnerLinkId::from_uuid(link_id.into_inner());
    let wall = clock::now();
    db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let membership = access::authorize(conn, &principal, Permission::MembershipManage)?;
            let scope = &membership.scope;
            let removed = performance::delete_link(conn, scope, id)?.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    "No partner link of your account has this id.",
                )
            })?;
            audit::record(
                conn,
                scope,
                &principal,
                "partner_link.deleted",
                ("partner_link", removed.id.to_string()),
                json!({"kind": removed.kind, "customer_tenant_id": removed.customer_tenant_id}),
                membership.now(wall),
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn measure_of(input: &PerformanceRecordInput, now: DateTime<Utc>) -> Result<Measure, ApiError> {
    validate(input, |input| {
        if input.occurred_at > now {
            return Err(FieldError::new(
                "occurred_at",
                "in_future",
                "a record cannot be dated after now",
            )
            .into());
        }
        let required = |field: &str, kind: &str| {
            FieldError::new(field, "required", format!("required for kind {kind}"))
        };
        Ok(match input.kind {
            PerformanceKind::Revenue => {
                let money = input
                    .monthly_revenue
                    .clone()
                    .ok_or_else(|| required("monthly_revenue", "revenue"))?;
                domain::money::Money::new(money.amount_minor, &money.currency)
                    .check_price()
                    .map_err(|e| e.under("monthly_revenue"))?;
                Measure::Revenue {
                    amount_minor: money.amount_minor,
                    currency: money.currency,
                }
            }
            PerformanceKind::UsageGrowth => Measure::UsageGrowth {
                percent: input
                    .growth_percent
                    .ok_or_else(|| required("growth_percent", "usage_growth"))?,
            },
            PerformanceKind::Deployment => Measure::Deployment {
                workload: input
                    .workload
                    .as_deref()
                    .map(str::trim)
                    .filter(|w| !w.is_empty())
                    .ok_or_else(|| required("workload", "deployment"))?
                    .to_owned(),
            },
        })
    })
}

/// Checks the area names a Solutions Partner area of the catalog.
fn check_area(conn: &mut DbConnection, area: &str) -> Result<(), ApiError> {
    let known = programs::all(conn)?
        .into_iter()
        .any(|p| p.program.scoring.is_some_and(|s| s.area == area));
    if known {
        Ok(())
    } else {
        Err(ApiError::validation([FieldError::new(
            "area",
            "unknown_area",
            "no Solutions Partner program of the catalog scores this area",
        )]))
    }
}

fn store_record(
    conn: &mut DbConnection,
    scope: &AccountScope,
    principal: &Principal,
    input: &PerformanceRecordInput,
    now: DateTime<Utc>,
) -> Result<PerformanceRecord, ApiError> {
    let measure = measure_of(input, now)?;
    check_area(conn, input.area.trim())?;
    let customer = input.customer_tenant_id.to_string();
    let stored = performance::record(
        conn,
        scope,
        input.area.trim(),
        &customer,
        &measure,
        input.occurred_at,
        now,
    )?;
    let linked = performance::linked_customers(conn, scope)?.contains(&customer);
    audit::record(
        conn,
        scope,
        principal,
        "performance.recorded",
        ("performance_record", stored.id.to_string()),
        json!({"area": stored.area, "kind": measure.kind(), "customer_tenant_id": customer, "customer_linked": linked}),
        now,
    )?;
    Ok(PerformanceRecord::new(
        &stored,
        scope.account_id().as_uuid(),
        linked,
    ))
}

/// Record performance.
///
/// The platform's feed of a customer's revenue, usage growth or deployments, for the account
/// with this PartnerID. Stored whether or not the customer is linked; only linked customers
/// count in the scores (`customer_linked` tells). Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "Operator",
    operation_id = "operator_record_performance",
    params(("Idempotency-Key" = Option<String>, Header, max_length = 255, description = "Makes the request safe to retry (see `create_account`).")),
    request_body(content = OperatorPerformanceRecordInput, content_type = "application/json"),
    responses(
        (status = 201, description = "The record.", body = PerformanceRecord),
        (status = 403, description = "The caller is not an operator (`operator_only`)."),
        (status = 404, description = "No account has this PartnerID (`not_found`)."),
    ),
)]
#[post("/v1/operator/performance-records")]
pub async fn operator_record_performance(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    key: IdempotencyKey,
    body: JsonBody<OperatorPerformanceRecordInput>,
) -> Result<HttpResponse, ApiError> {
    let operator = access::operator(&caller.0)?;
    let principal = caller.0.clone();
    let fingerprint = body.fingerprint(&req);
    let input = body.value;
    idempotency::execute(&state, &caller.0, key, fingerprint, move |conn, wall| {
        validate(&input, |_| Ok(()))?;
        let account = accounts::find_by_partner_id(conn, &operator, input.partner_id.trim())?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    "No partner account has this PartnerID.",
                )
            })?;
        let scope = operator.scope(account.id);
        let record = store_record(conn, &scope, &principal, &input.record, account.now(wall))?;
        Reply::json(StatusCode::CREATED, &record)
    })
    .await
}

/// Record performance (sandbox).
///
/// The sandbox stand-in for the platform's performance feed, for this account, dated at most
/// the sandbox's now. Accepts `Idempotency-Key`. 409 `not_a_sandbox` on a live account.
#[utoipa::path(
    tag = "Sandbox",
    operation_id = "sandbox_record_performance",
    params(("Idempotency-Key" = Option<String>, Header, max_length = 255, description = "Makes the request safe to retry (see `create_account`).")),
    request_body(content = PerformanceRecordInput, content_type = "application/json"),
    responses(
        (status = 201, description = "The record.", body = PerformanceRecord),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 409, description = "The account is not a sandbox (`not_a_sandbox`), or `idempotency_key_in_use`."),
    ),
)]
#[post("/v1/sandbox/performance-records")]
pub async fn sandbox_record_performance(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    key: IdempotencyKey,
    body: JsonBody<PerformanceRecordInput>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0.clone();
    let fingerprint = body.fingerprint(&req);
    let input = body.value;
    idempotency::execute(&state, &caller.0, key, fingerprint, move |conn, _wall| {
        let (membership, now) = sandbox_member(conn, &principal)?;
        let record = store_record(conn, &membership.scope, &principal, &input, now)?;
        Reply::json(StatusCode::CREATED, &record)
    })
    .await
}

/// Read the capability scores.
///
/// For each Solutions Partner area: performance (max 30), skilling (max 40) and customer
/// success (max 30) points, the total, and `qualified` (total >= 70 and every metric above
/// zero), computed at the account's now from linked customers' records and counted skilling
/// credit. Point rules are the catalog's. `qualifies_from` tells when pending skilling credit
/// alone will make an area qualify.
#[utoipa::path(
    tag = "Performance",
    operation_id = "get_solutions_partner_scores",
    responses(
        (status = 200, description = "Every area's score.", body = ScoreList),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/solutions-partner/scores")]
pub async fn get_scores(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<web::Json<ScoreList>, ApiError> {
    let principal = caller.0;
    let wall = clock::now();
    let items = db::read(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::MembershipRead)?;
        let now = membership.now(wall);
        let mut items = Vec::new();
        for stored in programs::all(conn)? {
            let Some(scoring) = &stored.program.scoring else {
                continue;
            };
            let (score, qualifies_from) = area_score(conn, &membership.scope, scoring, now)?;
            items.push(AreaScore::new(
                &stored.program.id,
                &scoring.area,
                scoring.qualifying_total,
                &score,
                qualifies_from,
            ));
        }
        Ok(items)
    })
    .await?;
    Ok(web::Json(ScoreList { items }))
}
