use chrono::{DateTime, Utc};
use domain::FieldErrors;
use domain::account::{AddressDraft, CompanyProfile, CompanyProfileDraft, PrimaryContactDraft};
use persistence::repos::accounts::Account as AccountRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

// Length limits below repeat `domain::account::limits` for the schema; a test checks they agree.

/// The company's legal profile: sent to enroll (`POST /v1/accounts`) and to change it
/// (`PUT /v1/account/legal-profile`). Text in the legal name and address must use Western
/// European (Latin) characters.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalProfileInput {
    /// The company's registered legal name.
    #[validate(length(
        max = 200,
        code = "too_long",
        message = "must be at most 200 characters"
    ))]
    #[schema(example = "Contoso Ltd.", min_length = 1, max_length = 200)]
    pub legal_name: String,
    #[validate(nested)]
    pub address: AddressInput,
    /// ISO 3166-1 alpha-2 code of the legal country (any letter case).
    #[schema(example = "US", pattern = "^[A-Za-z]{2}$")]
    pub country: String,
    /// The company's website (http or https).
    #[validate(length(
        max = 500,
        code = "too_long",
        message = "must be at most 500 characters"
    ))]
    #[schema(example = "https://www.contoso.com", max_length = 500)]
    pub website: String,
    #[validate(nested)]
    pub primary_contact: PrimaryContactInput,
}

/// Enrolls a company: its legal profile, and whether the account is a sandbox.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountInput {
    /// The company's registered legal name.
    #[schema(example = "Contoso Ltd.", min_length = 1, max_length = 200)]
    pub legal_name: String,
    pub address: AddressInput,
    /// ISO 3166-1 alpha-2 code of the legal country (any letter case).
    #[schema(example = "US", pattern = "^[A-Za-z]{2}$")]
    pub country: String,
    /// The company's website (http or https).
    #[schema(example = "https://www.contoso.com", max_length = 500)]
    pub website: String,
    pub primary_contact: PrimaryContactInput,
    /// A sandbox account runs on its own clock, frozen at creation and moved forward with
    /// `POST /v1/sandbox/clock`, and has self-service stand-ins for operator actions
    /// (`/v1/sandbox/...`). Its Learn profiles never touch live accounts. Fixed at creation.
    #[serde(default)]
    pub sandbox: bool,
}

impl CreateAccountInput {
    /// The legal profile, validated like `PUT /v1/account/legal-profile`, and the sandbox flag.
    pub fn into_parts(self) -> (LegalProfileInput, bool) {
        (
            LegalProfileInput {
                legal_name: self.legal_name,
                address: self.address,
                country: self.country,
                website: self.website,
                primary_contact: self.primary_contact,
            },
            self.sandbox,
        )
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    #[validate(length(
        max = 200,
        code = "too_long",
        message = "must be at most 200 characters"
    ))]
    #[schema(example = "1 Microsoft Way", min_length = 1, max_length = 200)]
    pub line1: String,
    #[validate(length(
        max = 200,
        code = "too_long",
        message = "must be at most 200 characters"
    ))]
    #[schema(max_length = 200)]
    pub line2: Option<String>,
    #[validate(length(
        max = 100,
        code = "too_long",
        message = "must be at most 100 characters"
    ))]
    #[schema(example = "Redmond", min_length = 1, max_length = 100)]
    pub city: String,
    #[validate(length(
        max = 100,
        code = "too_long",
        message = "must be at most 100 characters"
    ))]
    #[schema(example = "WA", max_length = 100)]
    pub state_or_province: Option<String>,
    /// Letters, digits, spaces and hyphens.
    #[validate(length(max = 20, code = "too_long", message = "must be at most 20 characters"))]
    #[schema(example = "98052", max_length = 20)]
    pub postal_code: Option<String>,
}

/// The person Partner Center contacts about the account. The email must be a work address of
/// the company: free-mail domains and shared mailboxes (`info@`, `admin@`, `email@`,
/// `marketing@`) are refused.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrimaryContactInput {
    #[validate(length(
        max = 100,
        code = "too_long",
        message = "must be at most 100 characters"
    ))]
    #[schema(example = "Jane", min_length = 1, max_length = 100)]
    pub first_name: String,
    #[validate(length(
        max = 100,
        code = "too_long",
        message = "must be at most 100 characters"
    ))]
    #[schema(example = "Doe", min_length = 1, max_length = 100)]
    pub last_name: String,
    #[validate(length(
        max = 254,
        code = "too_long",
        message = "must be at most 254 characters"
    ))]
    #[schema(example = "jane.doe@contoso.com", format = Email, max_length = 254)]
    pub email: String,
    /// 7 to 15 digits, optionally with a leading `+`, spaces, dots, hyphens and parentheses.
    #[validate(length(max = 25, code = "too_long", message = "must be at most 25 characters"))]
    #[schema(example = "+1 425 555 0100", max_length = 25)]
    pub phone: String,
}

impl LegalProfileInput {
    pub fn parse(&self) -> Result<CompanyProfile, FieldErrors> {
        CompanyProfile::parse(CompanyProfileDraft {
            legal_name: &self.legal_name,
            address: AddressDraft {
                line1: &self.address.line1,
                line2: self.address.line2.as_deref(),
                city: &self.address.city,
                state_or_province: self.address.state_or_province.as_deref(),
                postal_code: self.address.postal_code.as_deref(),
            },
            country: &self.country,
            website: &self.website,
            primary_contact: PrimaryContactDraft {
                first_name: &self.primary_contact.first_name,
                last_name: &self.primary_contact.last_name,
                email: &self.primary_contact.email,
                phone: &self.primary_contact.phone,
            },
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Address {
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub state_or_province: Option<String>,
    pub postal_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PrimaryContact {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
}

/// Where the account stands in verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    Pending,
    ActionRequired,
    Verified,
    Rejected,
}

impl From<domain::verification::VerificationStatus> for VerificationStatus {
    fn from(status: domain::verification::VerificationStatus) -> Self {
        use domain::verification::VerificationStatus as S;
        match status {
            S::Pending => VerificationStatus::Pending,
            S::ActionRequired => VerificationStatus::ActionRequired,
            S::Verified => VerificationStatus::Verified,
            S::Rejected => VerificationStatus::Rejected,
        }
    }
}

impl From<VerificationStatus> for domain::verification::VerificationStatus {
    fn from(status: VerificationStatus) -> Self {
        use domain::verification::VerificationStatus as S;
        match status {
            VerificationStatus::Pending => S::Pending,
            VerificationStatus::ActionRequired => S::ActionRequired,
            VerificationStatus::Verified => S::Verified,
            VerificationStatus::Rejected => S::Rejected,
        }
    }
}

/// Where verification stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    pub status: VerificationStatus,
    /// The operator's reason, for `action_required` and `rejected`.
    pub reason: Option<String>,
    /// Legal-profile fields whose review is open, by their request names (`legal_name`,
    /// `address.city`, ...). After a change to a verified account, only the changed fields.
    #[schema(example = json!(["legal_name"]))]
    pub under_review: Vec<String>,
}

impl From<&AccountRecord> for Verification {
    fn from(record: &AccountRecord) -> Self {
        Verification {
            status: record.verification_status.into(),
            reason: record.verification_reason.clone(),
            under_review: record.under_review.clone(),
        }
    }
}

/// A partner account: the company, its PartnerID and its verification.
#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    pub id: Uuid,
    /// The account's public PartnerID (seven digits).
    #[schema(example = "4567890")]
    pub partner_id: String,
    /// The directory (tenant) the account belongs to.
    pub directory_id: Uuid,
    pub legal_name: String,
    pub address: Address,
    /// ISO 3166-1 alpha-2, upper case.
    #[schema(example = "US")]
    pub country: String,
    pub website: String,
    pub primary_contact: PrimaryContact,
    pub verification: Verification,
    /// A sandbox account, running on its own clock (`GET /v1/sandbox/clock`).
    pub sandbox: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&AccountRecord> for Account {
    fn from(record: &AccountRecord) -> Self {
        Account {
            id: record.id.as_uuid(),
            partner_id: record.partner_id.clone(),
            directory_id: record.directory_id.as_uuid(),
            legal_name: record.legal_name.clone(),
            address: Address {
                line1: record.address_line1.clone(),
                line2: record.address_line2.clone(),
                city: record.city.clone(),
                state_or_province: record.state_or_province.clone(),
                postal_code: record.postal_code.clone(),
            },
            country: record.country.clone(),
            website: record.website.clone(),
            primary_contact: PrimaryContact {
                first_name: record.contact_first_name.clone(),
                last_name: record.contact_last_name.clone(),
                email: record.contact_email.clone(),
                phone: record.contact_phone.clone(),
            },
            verification: Verification::from(record),
            sandbox: record.is_sandbox(),
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

/// The company's legal profile and its verification.
#[derive(Debug, Serialize, ToSchema)]
pub struct LegalProfile {
    pub legal_name: String,
    pub address: Address,
    /// ISO 3166-1 alpha-2, upper case.
    #[schema(example = "US")]
    pub country: String,
    pub website: String,
    pub primary_contact: PrimaryContact,
    pub verification: Verification,
    pub updated_at: DateTime<Utc>,
}

impl From<&AccountRecord> for LegalProfile {
    fn from(record: &AccountRecord) -> Self {
        let account = Account::from(record);
        LegalProfile {
            legal_name: account.legal_name,
            address: account.address,
            country: account.country,
            website: account.website,
            primary_contact: account.primary_contact,
            verification: account.verification,
            updated_at: account.updated_at,
        }
    }
}

/// An operator's verification decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerificationOutcome {
    Verified,
    Rejected,
    ActionRequired,
}

impl From<VerificationOutcome> for domain::verification::Outcome {
    fn from(outcome: VerificationOutcome) -> Self {
        use domain::verification::Outcome as O;
        match outcome {
            VerificationOutcome::Verified => O::Verified,
            VerificationOutcome::Rejected => O::Rejected,
            VerificationOutcome::ActionRequired => O::ActionRequired,
        }
    }
}

/// Decides a pending verification.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationDecision {
    pub outcome: VerificationOutcome,
    /// Why; required for `rejected` and `action_required`, shown to the partner.
    #[validate(length(
        max = 1000,
        code = "too_long",
        message = "must be at most 1000 characters"
    ))]
    #[schema(
        example = "The business registration document is illegible.",
        max_length = 1000
    )]
    pub reason: Option<String>,
}

/// A verification evidence document, without its content.
#[derive(Debug, Serialize, ToSchema)]
pub struct Evidence {
    pub id: Uuid,
    /// The name the file was uploaded with, if any (informational: the type is judged by
    /// content).
    pub file_name: Option<String>,
    /// `application/pdf`, `image/png` or `image/jpeg`, recognised from the content.
    #[schema(example = "application/pdf")]
    pub media_type: String,
    pub size_bytes: i64,
    /// Hex SHA-256 of the stored bytes.
    pub sha256: String,
    pub comment: Option<String>,
    /// Email of the person who uploaded it.
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}

impl From<&persistence::repos::evidence::Evidence> for Evidence {
    fn from(record: &persistence::repos::evidence::Evidence) -> Self {
        Evidence {
            id: record.id.as_uuid(),
            file_name: record.file_name.clone(),
            media_type: record.media_type.clone(),
            size_bytes: record.size_bytes,
            sha256: record.sha256.clone(),
            comment: record.comment.clone(),
            uploaded_by: record.uploaded_by.clone(),
            uploaded_at: record.uploaded_at,
        }
    }
}

/// Verification with the evidence the account has sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationDetails {
    #[serde(flatten)]
    pub verification: Verification,
    pub evidence: Vec<Evidence>,
}

/// The multipart form of an evidence upload (documentation only; parsed by hand). The parser
/// refuses parts other than these two, so the schema is closed too.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct EvidenceUpload {
    /// The document: PDF, PNG or JPEG, at most 10 MiB, recognised by its content.
    #[schema(value_type = String, format = Binary, min_length = 1)]
    pub file: Vec<u8>,
    /// A note for the reviewer, at most 1000 characters.
    #[schema(max_length = 1000)]
    pub comment: Option<String>,
}

/// A document's bytes.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct DocumentBytes(#[allow(dead_code)] Vec<u8>);

/// The account's verification after an upload, with the stored document.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceReceipt {
    pub evidence: Evidence,
    pub verification: Verification,
}

/// One page of accounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    pub items: Vec<Account>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Filters and paging of the operator's account list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccountListQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only accounts in this verification status.
    pub verification_status: Option<VerificationStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::account::limits;
    use utoipa::PartialSchema;

    fn max_length(
        schema: &utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        field: &str,
    ) -> Option<usize> {
        let json = serde_json::to_value(schema).expect("serializes");
        json["properties"][field]["maxLength"]
            .as_u64()
            .map(|n| n as usize)
    }

    #[test]
    fn schema_limits_match_the_domain() {
        let request = LegalProfileInput::schema();
        assert_eq!(max_length(&request, "legal_name"), Some(limits::LEGAL_NAME));
        assert_eq!(max_length(&request, "website"), Some(limits::WEBSITE));
        let address = AddressInput::schema();
        assert_eq!(max_length(&address, "line1"), Some(limits::ADDRESS_LINE));
        assert_eq!(max_length(&address, "line2"), Some(limits::ADDRESS_LINE));
        assert_eq!(max_length(&address, "city"), Some(limits::CITY));
        assert_eq!(
            max_length(&address, "state_or_province"),
            Some(limits::STATE_OR_PROVINCE)
        );
        assert_eq!(
            max_length(&address, "postal_code"),
            Some(limits::POSTAL_CODE)
        );
        let contact = PrimaryContactInput::schema();
        assert_eq!(
            max_length(&contact, "first_name"),
            Some(limits::PERSON_NAME)
        );
        assert_eq!(max_length(&contact, "last_name"), Some(limits::PERSON_NAME));
        assert_eq!(max_length(&contact, "phone"), Some(limits::PHONE));
    }
}
