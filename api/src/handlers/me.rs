use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, get, post, web};
use domain::access::{Permission, grantable_by};
use domain::email::EmailAddress;
use domain::ids::DirectoryId;
use domain::principal::Principal;
use domain::role::Role as DomainRole;
use domain::workspace::{Workspace, reached_by, reaches};
use persistence::repos::{accounts, memberships, users};
use persistence::tenant::{self, Actor, Standing};
use uuid::Uuid;

use crate::access;
use crate::auth::Authenticated;
use crate::clock;
use crate::db;
use crate::dto::me::{
    AccountSummary, AdminContact, DirectoryEntry, DirectoryList, Me, MyAccess, MyRoles,
    SwitchedToken, WorkspaceAccess,
};
use crate::error::{ApiError, ErrorCode};
use crate::handlers::apps::TOKEN_TTL_SECONDS;
use crate::state::AppState;

/// Read the caller.
///
/// Who the caller is: kind, directory, account and roles.
/// Works for every valid token, including a user whose directory has no account yet (then
/// `account` is null) and operators. An app sees its account and roles; a deleted app's
/// token is refused (401).
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
    if matches!(principal, Principal::Operator { .. }) {
        return Ok(web::Json(me));
    }
    let membership = db::lookup(&state, move |conn| {
        let membership = match &principal {
            Principal::User { email, directory } => {
                match tenant::resolve_user(conn, *directory, email)? {
                    Standing::Member(membership) => Some(membership),
                    Standing::NoAccount | Standing::NotAMember { .. } => None,
                }
            }
            // An app belongs to an account, or its token is refused (a deleted app).
            _ => Some(access::member(conn, &principal)?),
        };
        match membership {
            Some(membership) => {
                let account = accounts::get(conn, &membership.scope)?;
                Ok(Some((membership, account)))
            }
            None => Ok(None),
        }
    })
    .await?;
    if let Some((membership, account)) = membership {
        me.account = Some(AccountSummary {
            id: account.id.as_uuid(),
            partner_id: account.partner_id,
            legal_name: account.legal_name,
        });
        me.user_id = membership.user_id().map(|id| id.as_uuid());
        me.is_owner = matches!(membership.actor, Actor::User { is_owner: true, .. });
        me.roles = membership.roles.into_iter().map(Into::into).collect();
    }
    Ok(web::Json(me))
}

/// My access.
///
/// Every workspace the account has, whether the caller reaches it, and for each one they do
/// not, the admins to contact (users holding a role that grants it). A workspace the account
/// lacks (not enrolled in the program that opens it) is not listed.
#[utoipa::path(
    tag = "Me",
    operation_id = "get_my_access",
    responses(
        (status = 200, description = "The account's workspaces.", body = MyAccess),
        (status = 403, description = "`not_a_member` or `principal_not_allowed` (apps have no access view)."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/me/access")]
pub async fn get_my_access(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<web::Json<MyAccess>, ApiError> {
    let principal = caller.0;
    let window = state.rules.renewal_window_days;
    let wall = clock::now();
    let items = db::read(&state, move |conn| {
        let (membership, _) = access::account_user(conn, &principal)?;
        let mut items = Vec::new();
        for workspace in account_workspaces(conn, &membership, window, wall)? {
            let has_access = reaches(&membership.roles, workspace);
            let admins = if has_access {
                Vec::new()
            } else {
                let granting = workspace.granted_by();
                users::holding_any(conn, &membership.scope, &granting)?
                    .into_iter()
                    .map(|admin| AdminContact {
                        user_id: admin.id.as_uuid(),
                        name: match (&admin.first_name, &admin.last_name) {
                            (Some(first), Some(last)) => format!("{first} {last}"),
                            (Some(one), None) | (None, Some(one)) => one.clone(),
                            (None, None) => admin.email.clone(),
                        },
                        roles: admin
                            .roles
                            .iter()
                            .filter(|role| granting.contains(role))
                            .map(|role| (*role).into())
                            .collect(),
                        email: admin.email,
                    })
                    .collect()
            };
            items.push(WorkspaceAccess {
                workspace: workspace.into(),
                name: workspace.name().to_owned(),
                has_access,
                admins,
            });
        }
        Ok(items)
    })
    .await?;
    Ok(web::Json(MyAccess { items }))
}

/// The workspaces the account has now: those every account has and those opened by the
/// programs it holds in force (as My access lists them).
pub(crate) fn account_workspaces(
    conn: &mut persistence::DbConnection,
    membership: &tenant::Membership,
    renewal_window_days: u32,
    wall: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Workspace>, ApiError> {
    let now = membership.now(wall);
    let held: Vec<String> = memberships::all(conn, &membership.scope)?
        .into_iter()
        .filter(|m| m.status(renewal_window_days, now).is_in_force())
        .map(|m| m.program_id)
        .collect();
    let programs: Vec<&str> = held.iter().map(String::as_str).collect();
    Ok(Workspace::ALL
        .into_iter()
        .filter(|workspace| workspace.is_open_for(&programs))
        .collect())
}

/// My roles.
///
/// The caller's roles, the permissions and workspaces they give, and the roles the caller
/// may grant.
#[utoipa::path(
    tag = "Me",
    operation_id = "get_my_roles",
    responses(
        (status = 200, description = "The caller's roles.", body = MyRoles),
        (status = 403, description = "`not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/me/roles")]
pub async fn get_my_roles(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<web::Json<MyRoles>, ApiError> {
    let principal = caller.0;
    let (membership, _) =
        db::lookup(&state, move |conn| access::account_user(conn, &principal)).await?;
    let roles = &membership.roles;
    let mut grants: Vec<DomainRole> = roles.iter().flat_map(|role| grantable_by(*role)).collect();
    grants.sort();
    grants.dedup();
    Ok(web::Json(MyRoles {
        roles: roles.iter().map(|role| (*role).into()).collect(),
        permissions: Permission::ALL
            .into_iter()
            .filter(|permission| permission.held_by(roles))
            .map(Into::into)
            .collect(),
        workspaces: reached_by(roles).into_iter().map(Into::into).collect(),
        grants: grants.into_iter().map(Into::into).collect(),
    }))
}

fn directory_user(principal: &Principal) -> Result<(EmailAddress, DirectoryId), ApiError> {
    match principal {
        Principal::User { email, directory } => Ok((email.clone(), *directory)),
        _ => Err(ApiError::new(
            ErrorCode::PrincipalNotAllowed,
            "Only a person (a user token) belongs to directories.",
        )),
    }
}

/// My directories.
///
/// Every partner account whose users include the caller's email, across directories, for
/// directory switching.
#[utoipa::path(
    tag = "Me",
    operation_id = "list_my_directories",
    responses(
        (status = 200, description = "The caller's accounts.", body = DirectoryList),
        (status = 403, description = "Not a user token (`principal_not_allowed`)."),
    ),
)]
#[get("/v1/me/directories")]
pub async fn list_my_directories(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<web::Json<DirectoryList>, ApiError> {
    let (email, current) = directory_user(&caller.0)?;
    let memberships =
        db::read(&state, move |conn| Ok(users::memberships_of(conn, &email)?)).await?;
    Ok(web::Json(DirectoryList {
        items: memberships
            .into_iter()
            .map(|membership| DirectoryEntry {
                current: membership.directory_id == current,
                directory_id: membership.directory_id.as_uuid(),
                account_id: membership.account_id.as_uuid(),
                partner_id: membership.partner_id,
                legal_name: membership.legal_name,
                user_id: membership.user_id.as_uuid(),
                roles: membership.roles.into_iter().map(Into::into).collect(),
            })
            .collect(),
    }))
}

/// Switch directory.
///
/// A token for another directory whose account has the caller (by email) as a user; 404
/// when it does not. The token is signed by this service and lasts an hour, but never beyond
/// the presented token's expiry: switching does not extend a session.
#[utoipa::path(
    tag = "Me",
    operation_id = "switch_directory",
    params(("directory_id" = Uuid, Path, description = "The directory to switch to.")),
    responses(
        (status = 200, description = "A token for the directory.", body = SwitchedToken),
        (status = 403, description = "Not a user token (`principal_not_allowed`)."),
        (status = 404, description = "The caller is not a user of that directory's account (`not_found`)."),
    ),
)]
#[post("/v1/me/directories/{directory_id}/switch")]
pub async fn switch_directory(
    state: web::Data<AppState>,
    caller: Authenticated,
    directory_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (email, _) = directory_user(&caller.0)?;
    let target = DirectoryId::from_uuid(directory_id.into_inner());
    let lookup = email.clone();
    let member = db::run(&state, move |conn| {
        Ok(users::memberships_of(conn, &lookup)?
            .into_iter()
            .any(|membership| membership.directory_id == target))
    })
    .await?;
    if !member {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "You are not a user of an account in this directory.",
        ));
    }
    let principal = Principal::User {
        email,
        directory: target,
    };
    let now = clock::now();
    let lifetime = (caller.1 - now).min(chrono::Duration::seconds(TOKEN_TTL_SECONDS));
    if lifetime < chrono::Duration::seconds(1) {
        return Err(ApiError::new(
            ErrorCode::InvalidToken,
            "The bearer token is about to expire; sign in again before switching.",
        ));
    }
    let token = state
        .tokens
        .issue(&principal, now, lifetime)
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(SwitchedToken {
            access_token: token,
            token_type: "Bearer".to_owned(),
            expires_in: lifetime.num_seconds(),
            directory_id: target.as_uuid(),
        }))
}
