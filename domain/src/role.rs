//! Partner Center roles (DESIGN §3). Stored and served by their snake_case ids.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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

impl Role {
    pub const ALL: [Role; 16] = [
        Role::GlobalAdmin,
        Role::AccountAdmin,
        Role::UserManagementAdmin,
        Role::BillingAdmin,
        Role::MpnPartnerAdmin,
        Role::BusinessProfileAdmin,
        Role::ReferralsAdmin,
        Role::ReferralsUser,
        Role::IncentivesAdmin,
        Role::IncentivesUser,
        Role::ReportViewer,
        Role::ExecutiveReportViewer,
        Role::AdminAgent,
        Role::SalesAgent,
        Role::HelpdeskAgent,
        Role::MarketplaceDeveloper,
    ];

    pub const fn id(self) -> &'static str {
        match self {
            Role::GlobalAdmin => "global_admin",
            Role::AccountAdmin => "account_admin",
            Role::UserManagementAdmin => "user_management_admin",
            Role::BillingAdmin => "billing_admin",
            Role::MpnPartnerAdmin => "mpn_partner_admin",
            Role::BusinessProfileAdmin => "business_profile_admin",
            Role::ReferralsAdmin => "referrals_admin",
            Role::ReferralsUser => "referrals_user",
            Role::IncentivesAdmin => "incentives_admin",
            Role::IncentivesUser => "incentives_user",
            Role::ReportViewer => "report_viewer",
            Role::ExecutiveReportViewer => "executive_report_viewer",
            Role::AdminAgent => "admin_agent",
            Role::SalesAgent => "sales_agent",
            Role::HelpdeskAgent => "helpdesk_agent",
            Role::MarketplaceDeveloper => "marketplace_developer",
        }
    }

    pub fn parse(id: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.id() == id)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_match_serde() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.id()), Some(role));
            let json = serde_json_like(role);
            assert_eq!(json, role.id());
        }
        assert_eq!(Role::parse("owner"), None);
    }

    // serde_json is not a domain dependency; the derive's snake_case must agree with `id`.
    fn serde_json_like(role: Role) -> String {
        format!("{role:?}")
            .chars()
            .enumerate()
            .flat_map(|(i, c)| {
                let lower = c.to_ascii_lowercase();
                if c.is_ascii_uppercase() && i > 0 {
                    vec!['_', lower]
                } else {
                    vec![lower]
                }
            })
            .collect()
    }
}
