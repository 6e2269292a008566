use actix_web::{get, web};
use domain::principal::Principal;
use persistence::repos::accounts;
use persistence::tenant::{self, Standing};

use crate::auth::Authenticated;
use crate::db;
use crate::dto::me::{AccountSummary, Me};
use crate::error::ApiError;
use crate::state::AppState;

/// Read the caller.
///
/// Who the caller is: kind, directory, account and roles.
/// Works for every valid token, including a user whose directory has no account yet (then
/// `account` is null) and operators.
#[utoipa::path(
    tag = "Me",
    operation_id = "get_me",
    responses((status = 200, description = "The caller.", body = Me)),
)]
#[get("/v1/me")]
pub async fn get_me(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<web::Json<Me>, ApiError> {
    let principal = caller.0;
    let mut me = Me {
        kind: principal.kind().into(),
        subject: principal.subject().to_owned(),
        directory_id: principal.directory().map(|d| d.as_uuid()),
        account: None,
        user_id: None,
        roles: Vec::new(),
        is_owner: false,
    };
    let Principal::User { email, directory } = principal else {
        return Ok(web::Json(me));
    };
    let membership = db::run(&state, move |conn| {
        Ok(match tenant::resolve_user(conn, directory, &email)? {
            Standing::Member(membership) => {
                let account = accounts::get(conn, &membership.scope)?;
                Some((membership, account))
            }
            Standing::NoAccount | Standing::NotAMember { .. } => None,
        })
    })
    .await?;
    if let Some((membership, account)) = membership {
        me.account = Some(AccountSummary {
            id: account.id.as_uuid(),
            partner_id: account.partner_id,
            legal_name: account.legal_name,
        });
        me.user_id = Some(membership.user_id.as_uuid());
        me.roles = membership.roles.into_iter().map(Into::into).collect();
        me.is_owner = membership.is_owner;
    }
    Ok(web::Json(me))
}
