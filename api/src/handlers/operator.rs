use actix_web::{HttpRequest, HttpResponse, get, web};
use domain::ids::AccountId;
use persistence::repos::accounts::{self, AccountFilter};
use uuid::Uuid;

use crate::access;
use crate::auth::Authenticated;
use crate::db;
use crate::dto::account::{Account, AccountList, AccountListQuery};
use crate::error::{ApiError, ErrorCode};
use crate::extract::pagination::{page_request, page_response};
use crate::state::AppState;

/// List partner accounts.
///
/// Oldest first, one page at a time; filter by verification status to find the accounts
/// waiting for a decision.
#[utoipa::path(
    tag = "Operator",
    operation_id = "operator_list_accounts",
    params(AccountListQuery),
    responses(
        (status = 200, description = "One page of accounts.", body = AccountList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
        (status = 403, description = "The caller is not an operator (`operator_only`)."),
    ),
)]
#[get("/v1/operator/accounts")]
pub async fn list_accounts(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<AccountListQuery>,
) -> Result<HttpResponse, ApiError> {
    let access = access::operator(&caller.0)?;
    let query = query.into_inner();
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let filter = AccountFilter {
        verification_status: query.verification_status.map(Into::into),
    };
    let page = db::read(&state, move |conn| {
        Ok(accounts::list_for_operator(conn, &access, &filter, &page)?)
    })
    .await?;
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| AccountList {
            items: page.items.iter().map(Account::from).collect(),
            next_cursor,
        },
    ))
}

/// Read any partner account.
#[utoipa::path(
    tag = "Operator",
    operation_id = "operator_get_account",
    params(("account_id" = Uuid, Path, description = "The account's id.")),
    responses(
        (status = 200, description = "The account.", body = Account),
        (status = 403, description = "The caller is not an operator (`operator_only`)."),
        (status = 404, description = "No account has this id (`not_found`)."),
    ),
)]
#[get("/v1/operator/accounts/{account_id}")]
pub async fn get_account(
    state: web::Data<AppState>,
    caller: Authenticated,
    account_id: web::Path<Uuid>,
) -> Result<web::Json<Account>, ApiError> {
    let access = access::operator(&caller.0)?;
    let id = AccountId::from_uuid(account_id.into_inner());
    let account = db::lookup(&state, move |conn| {
        Ok(accounts::get_for_operator(conn, &access, id)?)
    })
    .await?
    .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "No partner account has this id."))?;
    Ok(web::Json(Account::from(&account)))
}
