use actix_web::{HttpRequest, HttpResponse, get, web};
use domain::access::Permission;
use persistence::repos::audit::{self, Filter};

use crate::access;
use crate::auth::Authenticated;
use crate::db;
use crate::dto::audit::{AuditQuery, AuditRecord, AuditRecordList};
use crate::error::ApiError;
use crate::extract::pagination::{page_request, page_response};
use crate::state::AppState;

/// List audit records.
///
/// Every change to the account, newest first: who, what, to which target, in which request.
/// Filter by `actor`, `action`, `target` and the `from`/`to` interval.
#[utoipa::path(
    tag = "Audit",
    operation_id = "list_audit_records",
    params(AuditQuery),
    responses(
        (status = 200, description = "One page of records.", body = AuditRecordList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/audit-records")]
pub async fn list_audit_records(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let query = query.into_inner();
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let filter = Filter {
        actor: query.actor,
        action: query.action,
        target: query.target,
        from: query.from,
        to: query.to,
    };
    let page = db::read(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::AuditRead)?;
        Ok(audit::list(conn, &membership.scope, &filter, &page)?)
    })
    .await?;
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| AuditRecordList {
            items: page.items.iter().map(AuditRecord::from).collect(),
            next_cursor,
        },
    ))
}
