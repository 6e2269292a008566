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
    /// The directory's partner account when the caller is one of its users; null otherwise
    /// (no account yet, not a member, or an operator).
    pub account: Option<AccountSummary>,
    /// The caller's user id in that account.
    pub user_id: Option<Uuid>,
    /// The caller's roles in that account, sorted.
    pub roles: Vec<Role>,
    /// Whether the caller enrolled the account (the owner).
    pub is_owner: bool,
}
