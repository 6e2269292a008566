//! Permissions (what a route needs) and grant rules (who may give which role). DESIGN §3:
//! deny by default; only `global_admin`, `account_admin` and `user_management_admin` manage
//! users, and nobody grants a role they lack the right to grant.

use crate::role::Role;
use serde::{Deserialize, Serialize};
use std::fmt;

use Role::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    /// Read the account, its legal profile and verification.
    AccountRead,
    /// Change the legal profile and answer verification with evidence.
    AccountWrite,
    /// List and read the account's users (everyone may find their admins).
    UsersRead,
    /// Add, change and remove users and their roles.
    UsersManage,
    /// Register, rotate and delete integration apps.
    AppsManage,
    /// Read the audit log.
    AuditRead,
    /// Read memberships, skilling, partner links and capability scores.
    MembershipRead,
    /// Join programs, apply, and manage partner links.
    MembershipManage,
    /// Create, publish and list marketplace offers.
    MarketplaceManage,
    /// Read orders, invoices and credit notes.
    BillingRead,
    /// Register, change and delete webhook endpoints; read and redeliver their deliveries.
    WebhooksManage,
}

const HOLDERS: &[(Permission, &[Role])] = &[
    (Permission::AccountRead, &Role::ALL),
    (Permission::AccountWrite, &[GlobalAdmin, AccountAdmin]),
    (Permission::UsersRead, &Role::ALL),
    (
        Permission::UsersManage,
        &[GlobalAdmin, AccountAdmin, UserManagementAdmin],
    ),
    (Permission::AppsManage, &[GlobalAdmin, AccountAdmin]),
    (Permission::AuditRead, &[GlobalAdmin, AccountAdmin]),
    // The Membership workspace's roles, plus the account admin and the report viewers who
    // follow the account's standing.
    (
        Permission::MembershipRead,
        &[
            GlobalAdmin,
            AccountAdmin,
            MpnPartnerAdmin,
            ReportViewer,
            ExecutiveReportViewer,
        ],
    ),
    // "Membership workspace needs MPN Partner Admin (or Global admin)".
    (
        Permission::MembershipManage,
        &[GlobalAdmin, MpnPartnerAdmin],
    ),
    (
        Permission::MarketplaceManage,
        &[
            GlobalAdmin,
            AccountAdmin,
            BusinessProfileAdmin,
            MarketplaceDeveloper,
        ],
    ),
    // "Bills and payments": the billing admin, and the admins who buy and manage the account.
    (
        Permission::BillingRead,
        &[GlobalAdmin, AccountAdmin, BillingAdmin, MpnPartnerAdmin],
    ),
    // Webhooks see every event of the account, as integration apps act for it: the same admins.
    (Permission::WebhooksManage, &[GlobalAdmin, AccountAdmin]),
];

impl Permission {
    pub const ALL: [Permission; 11] = [
        Permission::AccountRead,
        Permission::AccountWrite,
        Permission::UsersRead,
        Permission::UsersManage,
        Permission::AppsManage,
        Permission::AuditRead,
        Permission::MembershipRead,
        Permission::MembershipManage,
        Permission::MarketplaceManage,
        Permission::BillingRead,
        Permission::WebhooksManage,
    ];

    pub const fn id(self) -> &'static str {
        match self {
            Permission::AccountRead => "account.read",
            Permission::AccountWrite => "account.write",
            Permission::UsersRead => "users.read",
            Permission::UsersManage => "users.manage",
            Permission::AppsManage => "apps.manage",
            Permission::AuditRead => "audit.read",
            Permission::MembershipRead => "membership.read",
            Permission::MembershipManage => "membership.manage",
            Permission::MarketplaceManage => "marketplace.manage",
            Permission::BillingRead => "billing.read",
            Permission::WebhooksManage => "webhooks.manage",
        }
    }

    /// The roles holding this permission, in role order.
    pub fn holders(self) -> &'static [Role] {
        HOLDERS
            .iter()
            .find(|(permission, _)| *permission == self)
            .map(|(_, roles)| *roles)
            .unwrap_or(&[])
    }

    pub fn held_by(self, roles: &[Role]) -> bool {
        roles.iter().any(|role| self.holders().contains(role))
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The permissions a role holds.
pub fn permissions_of(role: Role) -> Vec<Permission> {
    Permission::ALL
        .into_iter()
        .filter(|permission| permission.holders().contains(&role))
        .collect()
}

/// Roles of the directory (Entra ID) rather than of Partner Center: only a global or user
/// management admin may grant them, and only a global admin grants global admin.
const DIRECTORY_ROLES: [Role; 6] = [
    GlobalAdmin,
    UserManagementAdmin,
    BillingAdmin,
    AdminAgent,
    SalesAgent,
    HelpdeskAgent,
];

/// The roles a holder of `role` may grant (and take away).
pub fn grantable_by(role: Role) -> Vec<Role> {
    match role {
        GlobalAdmin => Role::ALL.to_vec(),
        UserManagementAdmin => Role::ALL
            .into_iter()
            .filter(|r| *r != GlobalAdmin)
            .collect(),
        AccountAdmin => Role::ALL
            .into_iter()
            .filter(|r| !DIRECTORY_ROLES.contains(r))
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether someone holding `granter` may grant or revoke `role`.
pub fn may_grant(granter: &[Role], role: Role) -> bool {
    granter.iter().any(|g| grantable_by(*g).contains(&role))
}

/// The roles among `roles` that someone holding `granter` may not grant, in role order.
pub fn not_grantable(granter: &[Role], roles: &[Role]) -> Vec<Role> {
    let mut refused: Vec<Role> = roles
        .iter()
        .copied()
        .filter(|role| !may_grant(granter, *role))
        .collect();
    refused.sort();
    refused.dedup();
    refused
}

/// The roles whose holding changes between `before` and `after` (added or removed).
pub fn role_changes(before: &[Role], after: &[Role]) -> Vec<Role> {
    let mut changed: Vec<Role> = before
        .iter()
        .filter(|role| !after.contains(role))
        .chain(after.iter().filter(|role| !before.contains(role)))
        .copied()
        .collect();
    changed.sort();
    changed
}

/// The last global admin must stay one (DESIGN §3): refused when `global_admins` is the number
/// of global admins now and the change takes the role from one of them.
pub fn removes_last_global_admin(global_admins: usize, had: &[Role], keeps: &[Role]) -> bool {
    global_admins <= 1 && had.contains(&GlobalAdmin) && !keeps.contains(&GlobalAdmin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_three_user_managers_manage_users() {
        assert_eq!(
            Permission::UsersManage.holders(),
            &[GlobalAdmin, AccountAdmin, UserManagementAdmin]
        );
        for role in Role::ALL {
            assert_eq!(
                !grantable_by(role).is_empty(),
                Permission::UsersManage.holders().contains(&role),
                "{role}"
            );
        }
    }

    #[test]
    fn grant_rights_narrow_from_global_admin() {
        assert!(may_grant(&[GlobalAdmin], GlobalAdmin));
        assert!(!may_grant(&[UserManagementAdmin], GlobalAdmin));
        assert!(may_grant(&[UserManagementAdmin], BillingAdmin));
        assert!(!may_grant(&[AccountAdmin], BillingAdmin));
        assert!(!may_grant(&[AccountAdmin], UserManagementAdmin));
        assert!(may_grant(&[AccountAdmin], MpnPartnerAdmin));
        assert!(may_grant(
            &[AccountAdmin, UserManagementAdmin],
            BillingAdmin
        ));
        assert!(!may_grant(&[ReportViewer], ReportViewer));
        assert_eq!(
            not_grantable(&[AccountAdmin], &[ReportViewer, GlobalAdmin, BillingAdmin]),
            vec![GlobalAdmin, BillingAdmin]
        );
    }

    #[test]
    fn the_last_global_admin_stays() {
        assert!(removes_last_global_admin(1, &[GlobalAdmin], &[]));
        assert!(removes_last_global_admin(
            1,
            &[GlobalAdmin],
            &[AccountAdmin]
        ));
        assert!(!removes_last_global_admin(
            1,
            &[GlobalAdmin],
            &[GlobalAdmin]
        ));
        assert!(!removes_last_global_admin(2, &[GlobalAdmin], &[]));
        assert!(!removes_last_global_admin(1, &[AccountAdmin], &[]));
    }

    #[test]
    fn changes_are_the_symmetric_difference() {
        assert_eq!(
            role_changes(&[GlobalAdmin, ReportViewer], &[ReportViewer, BillingAdmin]),
            vec![GlobalAdmin, BillingAdmin]
        );
        assert!(role_changes(&[ReportViewer], &[ReportViewer]).is_empty());
    }
}
