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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_spells_every_role_as_the_domain_does() {
        for role in domain::role::Role::ALL {
            let json = serde_json::to_value(Role::from(role)).expect("serializes");
            assert_eq!(json, role.id());
        }
    }
}
