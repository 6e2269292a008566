use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::role::Role;

/// The kind of caller a token identifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    App,
    Operator,
}

impl From<domain::principal::PrincipalKind> for PrincipalKind {
    fn from(kind: domain::principal::PrincipalKind) -> Self {
        use domain::principal::PrincipalKind as K;
        match kind {
            K::User => PrincipalKind::User,
            K::App => PrincipalKind::App,
            K::Operator => PrincipalKind::Operator,
        }
    }
}

/// The account a caller belongs to, in brief.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountSummary {
    pub id: Uuid,
    #[schema(example = "4567890")]
    pub partner_id: String,
    #[schema(example = "Contoso Ltd.")]
    pub legal_name: String,
}

/// The caller, as the service sees them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub kind: PrincipalKind,
    /// The token subject: an email for users and operators, the client id for apps.
    #[schema(example = "jane.doe@contoso.com")]
    pub subject: String,
    /// The directory (tenant) the token is for; null for operators.
    pub directory_id: Option<Uuid>,
    /// The directory's partner account when the caller is one of its users or apps; null
    /// otherwise (no account yet, not a member, or an operator).
    pub account: Option<AccountSummary>,
    /// The caller's user id in that account (null for apps).
    pub user_id: Option<Uuid>,
    /// The caller's (user's or app's) roles in that account, sorted.
    pub roles: Vec<Role>,
    /// Whether the caller enrolled the account (the owner).
    pub is_owner: bool,
}

/// Paging of a list without filters.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// An admin to ask for access to a workspace.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminContact {
    pub user_id: Uuid,
    /// First and last name, when known; otherwise the email.
    #[schema(example = "Jane Doe")]
    pub name: String,
    pub email: String,
    /// Their roles that grant the workspace.
    pub roles: Vec<Role>,
}

/// One workspace of the account, as the caller reaches it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceAccess {
    pub workspace: super::role::Workspace,
    #[schema(example = "Membership")]
    pub name: String,
    pub has_access: bool,
    /// Where `has_access` is false: the users whose roles grant it. Empty otherwise.
    pub admins: Vec<AdminContact>,
}

/// "My access": every workspace the account has (it has a workspace when it is enrolled in
/// the program that opens it), whether the caller reaches it, and whom to ask. At most 13
/// items, so one page.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyAccess {
    pub items: Vec<WorkspaceAccess>,
}

/// The caller's roles and what they grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyRoles {
    pub roles: Vec<Role>,
    pub permissions: Vec<super::role::Permission>,
    /// Every workspace the roles reach, whether or not the account has it.
    pub workspaces: Vec<super::role::Workspace>,
    /// The roles the caller may grant and take away.
    pub grants: Vec<Role>,
}

/// An account the caller (by email) belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryEntry {
    pub directory_id: Uuid,
    pub account_id: Uuid,
    #[schema(example = "4567890")]
    pub partner_id: String,
    pub legal_name: String,
    pub user_id: Uuid,
    pub roles: Vec<Role>,
    /// Whether the caller's token is for this directory.
    pub current: bool,
}

/// The accounts the caller belongs to, one page (a person belongs to few).
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryList {
    pub items: Vec<DirectoryEntry>,
}

/// A token for another directory.
#[derive(Debug, Serialize, ToSchema)]
pub struct SwitchedToken {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    #[schema(example = 3600)]
    pub expires_in: i64,
    pub directory_id: Uuid,
}
