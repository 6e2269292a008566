use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A Partner Center role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    GlobalAdmin,
    AccountAdmin,
    UserManagementAdmin,
    BillingAdmin,
    MpnPartnerAdmin,
    BusinessProfileAdmin,
    ReferralsAdmin,
    ReferralsUser,
    IncentivesAdmin,
    IncentivesUser,
    ReportViewer,
    ExecutiveReportViewer,
    AdminAgent,
    SalesAgent,
    HelpdeskAgent,
    MarketplaceDeveloper,
}

impl From<domain::role::Role> for Role {
    fn from(role: domain::role::Role) -> Self {
        use domain::role::Role as R;
        match role {
            R::GlobalAdmin => Role::GlobalAdmin,
            R::AccountAdmin => Role::AccountAdmin,
            R::UserManagementAdmin => Role::UserManagementAdmin,
            R::BillingAdmin => Role::BillingAdmin,
            R::MpnPartnerAdmin => Role::MpnPartnerAdmin,
            R::BusinessProfileAdmin => Role::BusinessProfileAdmin,
            R::ReferralsAdmin => Role::ReferralsAdmin,
            R::ReferralsUser => Role::ReferralsUser,
            R::IncentivesAdmin => Role::IncentivesAdmin,
            R::IncentivesUser => Role::IncentivesUser,
            R::ReportViewer => Role::ReportViewer,
            R::ExecutiveReportViewer => Role::ExecutiveReportViewer,
            R::AdminAgent => Role::AdminAgent,
            R::SalesAgent => Role::SalesAgent,
            R::HelpdeskAgent => Role::HelpdeskAgent,
            R::MarketplaceDeveloper => Role::MarketplaceDeveloper,
        }
    }
}

impl From<Role> for domain::role::Role {
    fn from(role: Role) -> Self {
        use domain::role::Role as R;
        match role {
            Role::GlobalAdmin => R::GlobalAdmin,
            Role::AccountAdmin => R::AccountAdmin,
            Role::UserManagementAdmin => R::UserManagementAdmin,
            Role::BillingAdmin => R::BillingAdmin,
            Role::MpnPartnerAdmin => R::MpnPartnerAdmin,
            Role::BusinessProfileAdmin => R::BusinessProfileAdmin,
            Role::ReferralsAdmin => R::ReferralsAdmin,
            Role::ReferralsUser => R::ReferralsUser,
            Role::IncentivesAdmin => R::IncentivesAdmin,
            Role::IncentivesUser => R::IncentivesUser,
            Role::ReportViewer => R::ReportViewer,
            Role::ExecutiveReportViewer => R::ExecutiveReportViewer,
            Role::AdminAgent => R::AdminAgent,
            Role::SalesAgent => R::SalesAgent,
            Role::HelpdeskAgent => R::HelpdeskAgent,
            Role::MarketplaceDeveloper => R::MarketplaceDeveloper,
        }
    }
}

/// Roles as sent by a client: sorted and deduplicated, in domain terms.
pub fn domain_roles(roles: &[Role]) -> Vec<domain::role::Role> {
    let mut roles: Vec<domain::role::Role> = roles.iter().map(|role| (*role).into()).collect();
    roles.sort();
    roles.dedup();
    roles
}

/// A Partner Center workspace (a tile of the portal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Workspace {
    AccountSettings,
    ActionCenter,
    Benefits,
    Billing,
    Customers,
    Incentives,
    Insights,
    Membership,
    MarketplaceOffers,
    Referrals,
    Payouts,
    Pricing,
    HelpSupport,
}

impl From<domain::workspace::Workspace> for Workspace {
    fn from(workspace: domain::workspace::Workspace) -> Self {
        use domain::workspace::Workspace as W;
        match workspace {
            W::AccountSettings => Workspace::AccountSettings,
            W::ActionCenter => Workspace::ActionCenter,
            W::Benefits => Workspace::Benefits,
            W::Billing => Workspace::Billing,
            W::Customers => Workspace::Customers,
            W::Incentives => Workspace::Incentives,
            W::Insights => Workspace::Insights,
            W::Membership => Workspace::Membership,
            W::MarketplaceOffers => Workspace::MarketplaceOffers,
            W::Referrals => Workspace::Referrals,
            W::Payouts => Workspace::Payouts,
            W::Pricing => Workspace::Pricing,
            W::HelpSupport => Workspace::HelpSupport,
        }
    }
}

/// A permission a route may require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum Permission {
    #[serde(rename = "account.read")]
    AccountRead,
    #[serde(rename = "account.write")]
    AccountWrite,
    #[serde(rename = "users.read")]
    UsersRead,
    #[serde(rename = "users.manage")]
    UsersManage,
    #[serde(rename = "apps.manage")]
    AppsManage,
    #[serde(rename = "audit.read")]
    AuditRead,
    #[serde(rename = "membership.read")]
    MembershipRead,
    #[serde(rename = "membership.manage")]
    MembershipManage,
    #[serde(rename = "marketplace.manage")]
    MarketplaceManage,
    #[serde(rename = "billing.read")]
    BillingRead,
    #[serde(rename = "webhooks.manage")]
    WebhooksManage,
}

impl From<domain::access::Permission> for Permission {
    fn from(permission: domain::access::Permission) -> Self {
        use domain::access::Permission as P;
        match permission {
            P::AccountRead => Permission::AccountRead,
            P::AccountWrite => Permission::AccountWrite,
            P::UsersRead => Permission::UsersRead,
            P::UsersManage => Permission::UsersManage,
            P::AppsManage => Permission::AppsManage,
            P::AuditRead => Permission::AuditRead,
            P::MembershipRead => Permission::MembershipRead,
            P::MembershipManage => Permission::MembershipManage,
            P::MarketplaceManage => Permission::MarketplaceManage,
            P::BillingRead => Permission::BillingRead,
            P::WebhooksManage => Permission::WebhooksManage,
        }
    }
}

/// A role and what it grants.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleDetails {
    pub id: Role,
    /// The workspaces the role reaches (where the account has them).
    pub workspaces: Vec<Workspace>,
    /// The API permissions the role holds.
    pub permissions: Vec<Permission>,
    /// The roles a holder of this role may grant and take away.
    pub grants: Vec<Role>,
}

impl RoleDetails {
    pub fn of(role: domain::role::Role) -> Self {
        RoleDetails {
            id: role.into(),
            workspaces: domain::workspace::workspaces_of(role)
                .into_iter()
                .map(Into::into)
                .collect(),
            permissions: domain::access::permissions_of(role)
                .into_iter()
                .map(Into::into)
                .collect(),
            grants: domain::access::grantable_by(role)
                .into_iter()
                .map(Into::into)
                .collect(),
        }
    }
}

/// Every role.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleList {
    pub items: Vec<RoleDetails>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_spells_every_role_as_the_domain_does() {
        for role in domain::role::Role::ALL {
            let json = serde_json::to_value(Role::from(role)).expect("serializes");
            assert_eq!(json, role.id());
            assert_eq!(domain::role::Role::from(Role::from(role)), role);
        }
        for workspace in domain::workspace::Workspace::ALL {
            let json = serde_json::to_value(Workspace::from(workspace)).expect("serializes");
            assert_eq!(json, workspace.id());
        }
        for permission in domain::access::Permission::ALL {
            let json = serde_json::to_value(Permission::from(permission)).expect("serializes");
            assert_eq!(json, permission.id());
        }
    }
}
