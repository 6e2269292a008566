//! Users and roles (DESIGN §3). Only the user managers change users; nobody grants or takes
//! away a role they may not grant; the last global admin stays.

use actix_web::http::StatusCode;
use actix_web::http::header::{ETAG, LOCATION};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use domain::access::{Permission, removes_last_global_admin, role_changes};
use domain::action_center::{roles_changed_item, user_added_item};
use domain::email::EmailAddress;
use domain::ids::UserId;
use domain::principal::Principal;
use domain::role::Role as DomainRole;
use domain::{FieldError, FieldErrors};
use persistence::DbConnection;
use persistence::connection::write_transaction;
use persistence::repos::users::{self, EmailTaken, NewUser, User as UserRecord};
use persistence::repos::{accounts, action_center};
use persistence::tenant::{AccountScope, Membership};
use serde_json::json;
use uuid::Uuid;

use crate::access;
use crate::audit;
use crate::auth::Authenticated;
use crate::clock;
use crate::db;
use crate::dto::role::{RoleDetails, RoleList, domain_roles};
use crate::dto::user::{
    CreateUserRequest, SetRolesRequest, UpdateUserRequest, User, UserList, UserListQuery,
};
use crate::error::{ApiError, ErrorCode};
use crate::extract::etag::{IfMatch, changed_meanwhile, conditional_read, etag};
use crate::extract::idempotency::{self, IdempotencyKey, Reply};
use crate::extract::json::{JsonBody, validate};
use crate::extract::pagination::{page_request, page_response};
use crate::state::AppState;

fn user_etag(user: &UserRecord) -> String {
    etag(&format!("user:{}", user.id), user.version)
}

/// List every role.
///
/// Each role with the workspaces it reaches, the permissions it holds and the roles it may
/// grant (the seeded matrix).
#[utoipa::path(
    tag = "Users and roles",
    operation_id = "list_roles",
    responses(
        (status = 200, description = "Every role.", body = RoleList),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/roles")]
pub async fn list_roles(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<web::Json<RoleList>, ApiError> {
    let principal = caller.0;
    db::read(&state, move |conn| {
        access::authorize(conn, &principal, Permission::UsersRead).map(drop)
    })
    .await?;
    Ok(web::Json(RoleList {
        items: DomainRole::ALL.into_iter().map(RoleDetails::of).collect(),
    }))
}

/// List users.
///
/// The account's users, oldest first. `?role=global_admin` finds the admins of a type.
#[utoipa::path(
    tag = "Users and roles",
    operation_id = "list_users",
    params(UserListQuery),
    responses(
        (status = 200, description = "One page of users.", body = UserList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/users")]
pub async fn list_users(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<UserListQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let query = query.into_inner();
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let role = query.role.map(DomainRole::from);
    let page = db::read(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::UsersRead)?;
        Ok(users::list(conn, &membership.scope, role, &page)?)
    })
    .await?;
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| UserList {
            items: page.items.iter().map(User::from).collect(),
            next_cursor,
        },
    ))
}

fn name(value: Option<&str>, field: &str, errors: &mut FieldErrors) -> Option<String> {
    let value = value?;
    let trimmed = value.trim();
    if trimmed.is_empty() {
        errors.push(FieldError::new(
            field,
            "blank",
            "must not be blank; omit it or send null",
        ));
        return None;
    }
    Some(trimmed.to_owned())
}

/// Add a user.
///
/// Adds a person (by email) with roles. The caller must be allowed to grant every role.
/// The new user gets an Action Center notification. Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "Users and roles",
    operation_id = "create_user",
    params(
        ("Idempotency-Key" = Option<String>, Header, max_length = 255, description = "Makes the request safe to retry (see `create_account`)."),
    ),
    request_body(content = CreateUserRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The user was added.", body = User, headers(
            ("Location" = String, description = "`/v1/users/{id}`."),
            ("ETag" = String, description = "The user's entity tag."),
        )),
        (status = 403, description = "`insufficient_role`, `role_not_grantable`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
        (status = 409, description = "The account already has a user with this email (`user_exists`), or the `Idempotency-Key` is in use (`idempotency_key_in_use`)."),
        (status = 422, description = "The `Idempotency-Key` was used with a different body (`idempotency_key_reused`)."),
    ),
)]
#[post("/v1/users")]
pub async fn create_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    key: IdempotencyKey,
    body: JsonBody<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0.clone();
    let fingerprint = body.fingerprint(&req);
    let request = body.value;
    idempotency::execute(&state, &caller.0, key, fingerprint, move |conn, wall| {
        let membership = access::authorize(conn, &principal, Permission::UsersManage)?;
        let now = membership.now(wall);
        let new = validate(&request, |request| {
            let mut errors = FieldErrors::new();
            let email = errors.check("email", EmailAddress::parse(&request.email));
            let first_name = name(request.first_name.as_deref(), "first_name", &mut errors);
            let last_name = name(request.last_name.as_deref(), "last_name", &mut errors);
            errors.finish(|| {
                Some(NewUser {
                    email: email?,
                    first_name,
                    last_name,
                    roles: domain_roles(&request.roles),
                })
            })
        })?;
        access::require_grantable(&membership, &new.roles)?;
        let scope = &membership.scope;
        let user = users::create(conn, scope, &new, now)?.map_err(|EmailTaken| {
            ApiError::new(
                ErrorCode::UserExists,
                "The account already has a user with this email.",
            )
        })?;
        let account = accounts::get(conn, scope)?;
        let target = user.id.to_string();
        action_center::raise(
            conn,
            scope,
            &user_added_item(user.id, &account.legal_name, &user.roles),
            Some(action_center::Target {
                kind: "user",
                id: &target,
            }),
            now,
        )?;
        audit::record(
            conn,
            scope,
            &principal,
            "user.created",
            ("user", target.clone()),
            json!({"email": user.email, "roles": user.roles}),
            now,
        )?;
        Ok(Reply::json(StatusCode::CREATED, &User::from(&user))?
            .with_header(LOCATION, format!("/v1/users/{target}"))
            .with_header(ETAG, user_etag(&user)))
    })
    .await
}

fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "No user of your account has this id.")
}

fn target(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: UserId,
) -> Result<UserRecord, ApiError> {
    users::get(conn, scope, id)?.ok_or_else(not_found)
}

/// A user about to be changed by a user manager, at the version the client read.
fn target_to_change(
    conn: &mut DbConnection,
    principal: &Principal,
    id: UserId,
    if_match: &IfMatch,
) -> Result<(Membership, UserRecord), ApiError> {
    let membership = access::authorize(conn, principal, Permission::UsersManage)?;
    let current = target(conn, &membership.scope, id)?;
    if_match.check(&user_etag(&current))?;
    Ok((membership, current))
}

/// Read a user.
#[utoipa::path(
    tag = "Users and roles",
    operation_id = "get_user",
    params(
        ("user_id" = Uuid, Path, description = "The user's id."),
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier read; 304 when unchanged since."),
    ),
    responses(
        (status = 200, description = "The user.", body = User, headers(
            ("ETag" = String, description = "The user's entity tag; send it as `If-Match` to change the user."),
        )),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No user of the caller's account has this id (`not_found`)."),
    ),
)]
#[get("/v1/users/{user_id}")]
pub async fn get_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    user_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let id = UserId::from_uuid(user_id.into_inner());
    let user = db::lookup(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::UsersRead)?;
        target(conn, &membership.scope, id)
    })
    .await?;
    Ok(conditional_read(&req, user_etag(&user), &User::from(&user)))
}

/// Change a user's names.
///
/// Requires `If-Match`. An absent field is kept; `null` clears it.
#[utoipa::path(
    tag = "Users and roles",
    operation_id = "update_user",
    params(
        ("user_id" = Uuid, Path, description = "The user's id."),
        ("If-Match" = String, Header, description = "The user's current ETag."),
    ),
    request_body(content = UpdateUserRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The user after the change.", body = User, headers(
            ("ETag" = String, description = "The user's new entity tag."),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No user of the caller's account has this id (`not_found`)."),
        (status = 412, description = "The user changed since the ETag in `If-Match` (`precondition_failed`)."),
        (status = 428, description = "`If-Match` is missing (`precondition_required`)."),
    ),
)]
#[patch("/v1/users/{user_id}")]
pub async fn update_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    user_id: web::Path<Uuid>,
    body: JsonBody<UpdateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let principal = caller.0;
    let id = UserId::from_uuid(user_id.into_inner());
    let request = body.value;
    let wall = clock::now();
    let user = db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let (membership, current) = target_to_change(conn, &principal, id, &if_match)?;
            let now = membership.now(wall);
            let scope = &membership.scope;
            let (first_name, last_name) = validate(&request, |request| {
                let mut errors = FieldErrors::new();
                let first = match &request.first_name {
                    None => current.first_name.clone(),
                    Some(value) => name(value.as_deref(), "first_name", &mut errors),
                };
                let last = match &request.last_name {
                    None => current.last_name.clone(),
                    Some(value) => name(value.as_deref(), "last_name", &mut errors),
                };
                errors.finish(|| Some((first, last)))
            })?;
            if (&first_name, &last_name) == (&current.first_name, &current.last_name) {
                return Ok(current);
            }
            let user = users::update_names(
                conn,
                scope,
                id,
                first_name.as_deref(),
                last_name.as_deref(),
                current.version,
                now,
            )?
            .ok_or_else(|| changed_meanwhile("user"))?;
            audit::record(
                conn,
                scope,
                &principal,
                "user.updated",
                ("user", id.to_string()),
                json!({
                    "first_name": {"from": current.first_name, "to": user.first_name},
                    "last_name": {"from": current.last_name, "to": user.last_name},
                }),
                now,
            )?;
            Ok(user)
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, user_etag(&user)))
        .json(User::from(&user)))
}

/// Refuses (409 `last_global_admin`) a change that takes global admin from the last user
/// holding it. The account row is locked first, so concurrent changes are judged one after
/// the other (see `accounts::lock`).
fn keep_a_global_admin(
    conn: &mut DbConnection,
    scope: &AccountScope,
    had: &[DomainRole],
    keeps: &[DomainRole],
) -> Result<(), ApiError> {
    accounts::lock(conn, scope)?;
    let admins = users::count_holders(conn, scope, DomainRole::GlobalAdmin)?;
    if removes_last_global_admin(admins, had, keeps) {
        return Err(ApiError::new(
            ErrorCode::LastGlobalAdmin,
            "This is the account's last global admin; make another user global admin first.",
        ));
    }
    Ok(())
}

/// Remove a user.
///
/// Requires `If-Match`. The caller must be allowed to take away every role the user holds;
/// the last global admin cannot be removed.
#[utoipa::path(
    tag = "Users and roles",
    operation_id = "delete_user",
    params(
        ("user_id" = Uuid, Path, description = "The user's id."),
        ("If-Match" = String, Header, description = "The user's current ETag."),
    ),
    responses(
        (status = 204, description = "The user was removed."),
        (status = 403, description = "`insufficient_role`, `role_not_grantable`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No user of the caller's account has this id (`not_found`)."),
        (status = 409, description = "The user is the last global admin (`last_global_admin`)."),
        (status = 412, description = "The user changed since the ETag in `If-Match` (`precondition_failed`)."),
        (status = 428, description = "`If-Match` is missing (`precondition_required`)."),
    ),
)]
#[delete("/v1/users/{user_id}")]
pub async fn delete_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    user_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let principal = caller.0;
    let id = UserId::from_uuid(user_id.into_inner());
    let wall = clock::now();
    db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let (membership, current) = target_to_change(conn, &principal, id, &if_match)?;
            let now = membership.now(wall);
            let scope = &membership.scope;
            access::require_grantable(&membership, &current.roles)?;
            keep_a_global_admin(conn, scope, &current.roles, &[])?;
            if !users::delete(conn, scope, id, current.version)? {
                return Err(changed_meanwhile("user"));
            }
            audit::record(
                conn,
                scope,
                &principal,
                "user.deleted",
                ("user", id.to_string()),
                json!({"email": current.email, "roles": current.roles}),
                now,
            )
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Replace a user's roles.
///
/// Requires `If-Match`. The caller must be allowed to grant every role added and take away
/// every role removed; the last global admin cannot be demoted. The user gets an Action
/// Center notification.
#[utoipa::path(
    tag = "Users and roles",
    operation_id = "set_user_roles",
    params(
        ("user_id" = Uuid, Path, description = "The user's id."),
        ("If-Match" = String, Header, description = "The user's current ETag."),
    ),
    request_body(content = SetRolesRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The user with the new roles.", body = User, headers(
            ("ETag" = String, description = "The user's new entity tag."),
        )),
        (status = 403, description = "`insufficient_role`, `role_not_grantable`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No user of the caller's account has this id (`not_found`)."),
        (status = 409, description = "The change would demote the last global admin (`last_global_admin`)."),
        (status = 412, description = "The user changed since the ETag in `If-Match` (`precondition_failed`)."),
        (status = 428, description = "`If-Match` is missing (`precondition_required`)."),
    ),
)]
#[put("/v1/users/{user_id}/roles")]
pub async fn set_user_roles(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    user_id: web::Path<Uuid>,
    body: JsonBody<SetRolesRequest>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let principal = caller.0;
    let id = UserId::from_uuid(user_id.into_inner());
    let request = body.value;
    let wall = clock::now();
    let user = db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let (membership, current) = target_to_change(conn, &principal, id, &if_match)?;
            let now = membership.now(wall);
            let scope = &membership.scope;
            let roles = validate(&request, |request| Ok(domain_roles(&request.roles)))?;
            let changes = role_changes(&current.roles, &roles);
            if changes.is_empty() {
                return Ok(current);
            }
            access::require_grantable(&membership, &changes)?;
            keep_a_global_admin(conn, scope, &current.roles, &roles)?;
            let user = users::set_roles(conn, scope, id, &roles, current.version, now)?
                .ok_or_else(|| changed_meanwhile("user"))?;
            let target_id = id.to_string();
            action_center::raise(
                conn,
                scope,
                &roles_changed_item(id, &user.roles),
                Some(action_center::Target {
                    kind: "user",
                    id: &target_id,
                }),
                now,
            )?;
            audit::record(
                conn,
                scope,
                &principal,
                "user.roles_changed",
                ("user", target_id),
                json!({"from": current.roles, "to": user.roles}),
                now,
            )?;
            Ok(user)
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, user_etag(&user)))
        .json(User::from(&user)))
}
