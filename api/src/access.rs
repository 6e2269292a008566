//! Who may do what. Every route has an entry in [`ROUTE_ACCESS`] (deny by default: a route
//! without one fails the route-table tests), and its handler enforces the entry through the
//! functions below, inside the request's database work.

use domain::access::{Permission, not_grantable};
use domain::ids::UserId;
use domain::principal::Principal;
use domain::role::Role;
use persistence::DbConnection;
use persistence::tenant::{self, Membership, OperatorAccess, Standing};

use crate::error::{ApiError, ErrorCode};

/// What a route requires of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token.
    Public,
    /// Any valid token.
    AnyPrincipal,
    /// A user token; the directory need not have an account.
    DirectoryUser,
    /// A user of the directory's account, whatever their roles.
    AccountUser,
    /// A user or app of the directory's account holding a role with this permission.
    Permission(Permission),
    /// A platform operator.
    Operator,
}

use Access::*;
use Permission::*;

/// The access rule of every route, by method and path template.
pub const ROUTE_ACCESS: &[(&str, &str, Access)] = &[
    ("GET", "/healthz", Public),
    ("GET", "/readyz", Public),
    ("POST", "/v1/oauth2/token", Public),
    ("GET", "/v1/me", AnyPrincipal),
    ("POST", "/v1/accounts", DirectoryUser),
    ("GET", "/v1/me/directories", DirectoryUser),
    (
        "POST",
        "/v1/me/directories/{directory_id}/switch",
        DirectoryUser,
    ),
    ("GET", "/v1/me/access", AccountUser),
    ("GET", "/v1/me/roles", AccountUser),
    ("GET", "/v1/action-center/items", AccountUser),
    (
        "POST",
        "/v1/action-center/items/{item_id}/archive",
        AccountUser,
    ),
    ("GET", "/v1/action-center/preferences", AccountUser),
    ("PUT", "/v1/action-center/preferences", AccountUser),
    (
        "POST",
        "/v1/action-center/preferences/contact-email/verify",
        AccountUser,
    ),
    (
        "POST",
        "/v1/action-center/preferences/contact-email/resend",
        AccountUser,
    ),
    ("GET", "/v1/account", Permission(AccountRead)),
    ("GET", "/v1/account/legal-profile", Permission(AccountRead)),
    ("PUT", "/v1/account/legal-profile", Permission(AccountWrite)),
    ("GET", "/v1/account/verification", Permission(AccountRead)),
    (
        "POST",
        "/v1/account/verification/evidence",
        Permission(AccountWrite),
    ),
    (
        "GET",
        "/v1/account/verification/evidence/{evidence_id}/content",
        Permission(AccountRead),
    ),
    ("GET", "/v1/roles", Permission(UsersRead)),
    ("GET", "/v1/users", Permission(UsersRead)),
    ("POST", "/v1/users", Permission(UsersManage)),
    ("GET", "/v1/users/{user_id}", Permission(UsersRead)),
    ("PATCH", "/v1/users/{user_id}", Permission(UsersManage)),
    ("DELETE", "/v1/users/{user_id}", Permission(UsersManage)),
    ("PUT", "/v1/users/{user_id}/roles", Permission(UsersManage)),
    ("GET", "/v1/apps", Permission(AppsManage)),
    ("POST", "/v1/apps", Permission(AppsManage)),
    ("POST", "/v1/apps/{app_id}/secret", Permission(AppsManage)),
    ("DELETE", "/v1/apps/{app_id}", Permission(AppsManage)),
    ("GET", "/v1/audit-records", Permission(AuditRead)),
    ("GET", "/v1/operator/accounts", Operator),
    ("GET", "/v1/operator/accounts/{account_id}", Operator),
    (
        "POST",
        "/v1/operator/accounts/{account_id}/verification",
        Operator,
    ),
    ("GET", "/v1/programs", AnyPrincipal),
    ("GET", "/v1/programs/{program_id}", AnyPrincipal),
    ("GET", "/v1/pricing", AnyPrincipal),
    (
        "GET",
        "/v1/programs/{program_id}/eligibility",
        Permission(MembershipRead),
    ),
    ("GET", "/v1/eligibility", Permission(MembershipRead)),
    ("PUT", "/v1/operator/programs/{program_id}", Operator),
    (
        "GET",
        "/v1/operator/programs/{program_id}/allow-list",
        Operator,
    ),
    (
        "PUT",
        "/v1/operator/programs/{program_id}/allow-list",
        Operator,
    ),
    ("POST", "/v1/memberships", Permission(MembershipManage)),
    ("GET", "/v1/memberships", Permission(MembershipRead)),
    (
        "GET",
        "/v1/memberships/{membership_id}",
        Permission(MembershipRead),
    ),
    (
        "POST",
        "/v1/operator/accounts/{account_id}/memberships",
        Operator,
    ),
    (
        "POST",
        "/v1/program-applications",
        Permission(MembershipManage),
    ),
    (
        "GET",
        "/v1/program-applications",
        Permission(MembershipRead),
    ),
    (
        "GET",
        "/v1/program-applications/{application_id}",
        Permission(MembershipRead),
    ),
    ("GET", "/v1/operator/program-applications", Operator),
    (
        "POST",
        "/v1/operator/accounts/{account_id}/program-applications/{application_id}/decision",
        Operator,
    ),
    ("GET", "/v1/me/learning-profile", AccountUser),
    ("POST", "/v1/me/learning-profile", AccountUser),
    ("GET", "/v1/skilling", Permission(MembershipRead)),
    ("POST", "/v1/operator/skilling/completions", Operator),
    (
        "POST",
        "/v1/sandbox/skilling/completions",
        Permission(AccountWrite),
    ),
    ("POST", "/v1/partner-links", Permission(MembershipManage)),
    ("GET", "/v1/partner-links", Permission(MembershipRead)),
    (
        "DELETE",
        "/v1/partner-links/{link_id}",
        Permission(MembershipManage),
    ),
    ("POST", "/v1/operator/performance-records", Operator),
    (
        "POST",
        "/v1/sandbox/performance-records",
        Permission(AccountWrite),
    ),
    (
        "GET",
        "/v1/solutions-partner/scores",
        Permission(MembershipRead),
    ),
    (
        "POST",
        "/v1/marketplace/offers",
        Permission(MarketplaceManage),
    ),
    (
        "GET",
        "/v1/marketplace/offers",
        Permission(MarketplaceManage),
    ),
    (
        "POST",
        "/v1/marketplace/offers/{offer_id}/publish",
        Permission(MarketplaceManage),
    ),
    ("GET", "/v1/sandbox/clock", Permission(AccountRead)),
    ("POST", "/v1/sandbox/clock", Permission(AccountWrite)),
    ("POST", "/v1/sandbox/verification", Permission(AccountWrite)),
    ("POST", "/v1/orders", Permission(MembershipManage)),
    ("GET", "/v1/orders", Permission(BillingRead)),
    ("GET", "/v1/orders/{order_id}", Permission(BillingRead)),
    (
        "POST",
        "/v1/orders/{order_id}/cancel",
        Permission(MembershipManage),
    ),
    (
        "GET",
        "/v1/orders/{order_id}/refund-eligibility",
        Permission(BillingRead),
    ),
    (
        "POST",
        "/v1/operator/orders/{order_id}/wire-received",
        Operator,
    ),
    (
        "POST",
        "/v1/sandbox/orders/{order_id}/wire-received",
        Permission(AccountWrite),
    ),
    ("GET", "/v1/invoices", Permission(BillingRead)),
    ("GET", "/v1/invoices/{invoice_id}", Permission(BillingRead)),
    (
        "GET",
        "/v1/invoices/{invoice_id}/pdf",
        Permission(BillingRead),
    ),
    ("GET", "/v1/benefits", Permission(MembershipRead)),
    (
        "GET",
        "/v1/benefits/{benefit_id}",
        Permission(MembershipRead),
    ),
    (
        "POST",
        "/v1/benefits/{benefit_id}/activate",
        Permission(MembershipManage),
    ),
    (
        "POST",
        "/v1/benefits/{benefit_id}/reveal-key",
        Permission(MembershipManage),
    ),
    ("POST", "/v1/support/requests", AccountUser),
    ("GET", "/v1/support/requests", AccountUser),
    ("GET", "/v1/support/requests/{request_id}", AccountUser),
    ("PATCH", "/v1/support/requests/{request_id}", AccountUser),
    (
        "POST",
        "/v1/operator/accounts/{account_id}/support/requests/{request_id}/replies",
        Operator,
    ),
    ("GET", "/v1/webhooks", Permission(WebhooksManage)),
    ("POST", "/v1/webhooks", Permission(WebhooksManage)),
    (
        "GET",
        "/v1/webhooks/{webhook_id}",
        Permission(WebhooksManage),
    ),
    (
        "PATCH",
        "/v1/webhooks/{webhook_id}",
        Permission(WebhooksManage),
    ),
    (
        "DELETE",
        "/v1/webhooks/{webhook_id}",
        Permission(WebhooksManage),
    ),
    (
        "POST",
        "/v1/webhooks/{webhook_id}/secret",
        Permission(WebhooksManage),
    ),
    (
        "GET",
        "/v1/webhooks/{webhook_id}/deliveries",
        Permission(WebhooksManage),
    ),
    (
        "POST",
        "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
        Permission(WebhooksManage),
    ),
    // Everyone of the account may search; what they find is filtered by their permissions.
    ("GET", "/v1/search", AccountUser),
    ("GET", "/v1/help-topics/{topic_id}", AnyPrincipal),
    ("GET", "/v1/insights/membership", Permission(MembershipRead)),
    ("GET", "/v1/insights/export", Permission(MembershipRead)),
];

/// The access rule of a route, if it has one.
pub fn access_of(method: &str, path: &str) -> Option<Access> {
    ROUTE_ACCESS
        .iter()
        .find(|(m, p, _)| m.eq_ignore_ascii_case(method) && *p == path)
        .map(|(_, _, access)| *access)
}

/// The caller as a user or app of their directory's partner account.
pub fn member(conn: &mut DbConnection, principal: &Principal) -> Result<Membership, ApiError> {
    match principal {
        Principal::User { email, directory } => {
            match tenant::resolve_user(conn, *directory, email)? {
                Standing::Member(membership) => Ok(membership),
                Standing::NoAccount => Err(ApiError::new(
                    ErrorCode::AccountNotFound,
                    "Your directory has no partner account yet; create one with POST /v1/accounts.",
                )),
                Standing::NotAMember { .. } => Err(ApiError::new(
                    ErrorCode::NotAMember,
                    "You are signed in to the directory of a partner account but are not one of its users; ask one of its global admins to add you.",
                )),
            }
        }
        Principal::App {
            client_id,
            directory,
        } => tenant::resolve_app(conn, *directory, client_id)?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidToken,
                "The bearer token was refused: the app it was issued to no longer exists.",
            )
        }),
        Principal::Operator { .. } => Err(ApiError::new(
            ErrorCode::PrincipalNotAllowed,
            "Operators act on partner accounts through the /v1/operator routes.",
        )),
    }
}

/// The caller as a member holding `permission`; 403 `insufficient_role` otherwise.
pub fn authorize(
    conn: &mut DbConnection,
    principal: &Principal,
    permission: Permission,
) -> Result<Membership, ApiError> {
    let membership = member(conn, principal)?;
    if permission.held_by(&membership.roles) {
        return Ok(membership);
    }
    let holders = permission
        .holders()
        .iter()
        .map(|role| role.id())
        .collect::<Vec<_>>()
        .join(", ");
    Err(ApiError::new(
        ErrorCode::InsufficientRole,
        format!("This needs the {permission} permission, which these roles hold: {holders}."),
    ))
}

/// Refuses (403 `role_not_grantable`) unless the caller may grant and take away every role in
/// `roles`: the roles a user gains or loses, or the roles of an app they register, rotate or
/// delete (a new secret would otherwise hand them the app's stronger roles).
pub fn require_grantable(membership: &Membership, roles: &[Role]) -> Result<(), ApiError> {
    let refused = not_grantable(&membership.roles, roles);
    if refused.is_empty() {
        return Ok(());
    }
    let names = refused
        .iter()
        .map(|r| r.id())
        .collect::<Vec<_>>()
        .join(", ");
    Err(ApiError::new(
        ErrorCode::RoleNotGrantable,
        format!(
            "Your roles do not let you grant or take away: {names}. See GET /v1/roles for what each role may grant."
        ),
    ))
}

/// The caller as a person of the account (apps have no inbox, preferences or access view).
pub fn account_user(
    conn: &mut DbConnection,
    principal: &Principal,
) -> Result<(Membership, UserId), ApiError> {
    if !matches!(principal, Principal::User { .. }) {
        return Err(user_only());
    }
    let membership = member(conn, principal)?;
    let user = membership.user_id().ok_or_else(user_only)?;
    Ok((membership, user))
}

fn user_only() -> ApiError {
    ApiError::new(
        ErrorCode::PrincipalNotAllowed,
        "Only a person (a user token) can call this route.",
    )
}

/// The caller as a platform operator.
pub fn operator(principal: &Principal) -> Result<OperatorAccess, ApiError> {
    OperatorAccess::for_principal(principal).ok_or_else(|| {
        ApiError::new(
            ErrorCode::OperatorOnly,
            "This route is for platform operators only.",
        )
    })
}

/// Describes a rule for the OpenAPI document.
pub fn describe(access: Access) -> String {
    match access {
        Public => "No token needed.".to_owned(),
        AnyPrincipal => "Any valid token (user, app or operator).".to_owned(),
        DirectoryUser => "A user token; the directory need not have an account yet.".to_owned(),
        AccountUser => "A user of the account, with any role (not apps).".to_owned(),
        Permission(permission) => format!(
            "Permission `{permission}`, held by the roles: {}. Users and apps holding one of them.",
            permission
                .holders()
                .iter()
                .map(|role| format!("`{role}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Operator => "A platform operator token.".to_owned(),
    }
}
