//! Workspaces (DESIGN §3): the seeded role → workspace matrix and the program that opens each
//! workspace for an account. Both are data, read through this module only.

use crate::role::Role;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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

/// The base program every account joins at enrollment (DESIGN §4).
pub use crate::catalog::BASE_PROGRAM;

use Role::*;
use Workspace::*;

/// Workspaces every role reaches.
const EVERYONE: &[Workspace] = &[ActionCenter, HelpSupport];

/// The role → workspace matrix, beyond [`EVERYONE`].
const GRANTS: &[(Role, &[Workspace])] = &[
    (
        GlobalAdmin,
        &[
            AccountSettings,
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
        ],
    ),
    (
        AccountAdmin,
        &[
            AccountSettings,
            Billing,
            Customers,
            Incentives,
            Insights,
            MarketplaceOffers,
            Referrals,
            Payouts,
            Pricing,
        ],
    ),
    (UserManagementAdmin, &[AccountSettings]),
    (BillingAdmin, &[Billing, Pricing]),
    (
        MpnPartnerAdmin,
        &[AccountSettings, Membership, Benefits, Insights],
    ),
    (BusinessProfileAdmin, &[Referrals, MarketplaceOffers]),
    (ReferralsAdmin, &[Referrals]),
    (ReferralsUser, &[Referrals]),
    (IncentivesAdmin, &[Incentives, Payouts]),
    (IncentivesUser, &[Incentives]),
    (ReportViewer, &[Insights]),
    (ExecutiveReportViewer, &[Insights]),
    (AdminAgent, &[Customers, Pricing]),
    (SalesAgent, &[Customers, Pricing]),
    (HelpdeskAgent, &[Customers]),
    (MarketplaceDeveloper, &[MarketplaceOffers]),
];

/// The program whose enrollment opens each workspace; `None`: every account has it.
const OPENED_BY: &[(Workspace, Option<&str>)] = &[
    (AccountSettings, None),
    (ActionCenter, None),
    (HelpSupport, None),
    (Benefits, Some(BASE_PROGRAM)),
    (Billing, Some(BASE_PROGRAM)),
    (Customers, Some(BASE_PROGRAM)),
    (Incentives, Some(BASE_PROGRAM)),
    (Insights, Some(BASE_PROGRAM)),
    (Membership, Some(BASE_PROGRAM)),
    (Referrals, Some(BASE_PROGRAM)),
    (Payouts, Some(BASE_PROGRAM)),
    (Pricing, Some(BASE_PROGRAM)),
    (MarketplaceOffers, Some("isv_success")),
];

impl Workspace {
    pub const ALL: [Workspace; 13] = [
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
    ];

    pub const fn id(self) -> &'static str {
        match self {
            AccountSettings => "account_settings",
            ActionCenter => "action_center",
            Benefits => "benefits",
            Billing => "billing",
            Customers => "customers",
            Incentives => "incentives",
            Insights => "insights",
            Membership => "membership",
            MarketplaceOffers => "marketplace_offers",
            Referrals => "referrals",
            Payouts => "payouts",
            Pricing => "pricing",
            HelpSupport => "help_support",
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            AccountSettings => "Account settings",
            ActionCenter => "Action Center",
            Benefits => "Benefits",
            Billing => "Billing",
            Customers => "Customers",
            Incentives => "Incentives",
            Insights => "Insights",
            Membership => "Membership",
            MarketplaceOffers => "Marketplace offers",
            Referrals => "Referrals",
            Payouts => "Payouts",
            Pricing => "Pricing",
            HelpSupport => "Help + support",
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.id() == id)
    }

    /// What the workspace is for, as the portal's dashboard tiles describe it.
    pub const fn description(self) -> &'static str {
        match self {
            AccountSettings => {
                "View and edit your account settings, including your company profile, legal info, users and permissions."
            }
            ActionCenter => {
                "View all Partner Center actions and notifications, and manage preferences like contact information."
            }
            Benefits => {
                "Access and activate your partner program benefits to help you build and grow your business."
            }
            Billing => "Access and download your invoices and credit notes.",
            Customers => {
                "Connect with customers, purchase subscriptions, manage licenses and submit support requests on their behalf."
            }
            Incentives => {
                "Explore incentives programs, sign up and manage incentives, and view your programs and payouts."
            }
            Insights => {
                "View data on your customers and their purchases, and gain insights on how to grow your business."
            }
            Membership => {
                "Enroll in and manage partner program memberships, designations and programs to help you go to market."
            }
            MarketplaceOffers => {
                "Create, publish and manage solutions in the commercial marketplace."
            }
            Referrals => {
                "Discover and manage leads and co-sell opportunities to set your business apart."
            }
            Payouts => "Set up your payout account, and view and manage payout statements.",
            Pricing => {
                "View and download pricing information for different offers, SKUs and product bundles."
            }
            HelpSupport => {
                "Get service health updates, view support articles, contact support and manage your support requests."
            }
        }
    }

    /// The program that opens this workspace; `None` when every account has it.
    pub fn opened_by(self) -> Option<&'static str> {
        OPENED_BY
            .iter()
            .find(|(workspace, _)| *workspace == self)
            .and_then(|(_, program)| *program)
    }

    /// Whether an account enrolled in `programs` has this workspace.
    pub fn is_open_for(self, programs: &[&str]) -> bool {
        self.opened_by()
            .is_none_or(|program| programs.contains(&program))
    }

    /// The roles that grant this workspace, in role order.
    pub fn granted_by(self) -> Vec<Role> {
        Role::ALL
            .into_iter()
            .filter(|role| workspaces_of(*role).contains(&self))
            .collect()
    }
}

/// The workspaces a role grants, in workspace order.
pub fn workspaces_of(role: Role) -> Vec<Workspace> {
    let granted = GRANTS
        .iter()
        .find(|(r, _)| *r == role)
        .map(|(_, workspaces)| *workspaces)
        .unwrap_or(&[]);
    Workspace::ALL
        .into_iter()
        .filter(|w| EVERYONE.contains(w) || granted.contains(w))
        .collect()
}

/// Every workspace some role of `roles` grants, in workspace order.
pub fn reached_by(roles: &[Role]) -> Vec<Workspace> {
    Workspace::ALL
        .into_iter()
        .filter(|workspace| reaches(roles, *workspace))
        .collect()
}

/// Whether any of `roles` grants `workspace`.
pub fn reaches(roles: &[Role], workspace: Workspace) -> bool {
    roles
        .iter()
        .any(|role| workspaces_of(*role).contains(&workspace))
}

impl fmt::Display for Workspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_and_workspace_has_a_row() {
        for role in Role::ALL {
            assert!(GRANTS.iter().any(|(r, _)| *r == role), "{role} has no row");
        }
        for workspace in Workspace::ALL {
            assert!(
                OPENED_BY.iter().any(|(w, _)| *w == workspace),
                "{workspace} has no program rule"
            );
            assert!(
                !workspace.granted_by().is_empty(),
                "{workspace} is unreachable"
            );
            assert_eq!(Workspace::parse(workspace.id()), Some(workspace));
        }
    }

    #[test]
    fn the_design_examples_hold() {
        assert_eq!(Membership.granted_by(), vec![GlobalAdmin, MpnPartnerAdmin]);
        assert_eq!(Benefits.granted_by(), vec![GlobalAdmin, MpnPartnerAdmin]);
        assert_eq!(
            Billing.granted_by(),
            vec![GlobalAdmin, AccountAdmin, BillingAdmin]
        );
        assert_eq!(ActionCenter.granted_by(), Role::ALL.to_vec());
        assert_eq!(HelpSupport.granted_by(), Role::ALL.to_vec());
        assert_eq!(workspaces_of(GlobalAdmin), Workspace::ALL.to_vec());
    }

    #[test]
    fn a_workspace_needs_its_program() {
        assert!(AccountSettings.is_open_for(&[]));
        assert!(!Membership.is_open_for(&[]));
        assert!(Membership.is_open_for(&[BASE_PROGRAM]));
        assert!(!MarketplaceOffers.is_open_for(&[BASE_PROGRAM]));
        assert!(MarketplaceOffers.is_open_for(&[BASE_PROGRAM, "isv_success"]));
    }
}
