//! The partner account's company profile, as given at enrollment (DESIGN §4).

use crate::country::Country;
use crate::email::{WorkEmail, is_domain_name};
use crate::field::{FieldError, FieldErrors};
use crate::text;

/// Documented maxima; the HTTP schema publishes the same numbers.
pub mod limits {
    pub const LEGAL_NAME: usize = 200;
    pub const ADDRESS_LINE: usize = 200;
    pub const CITY: usize = 100;
    pub const STATE_OR_PROVINCE: usize = 100;
    pub const POSTAL_CODE: usize = 20;
    pub const WEBSITE: usize = 500;
    pub const PERSON_NAME: usize = 100;
    pub const PHONE: usize = 25;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub state_or_province: Option<String>,
    pub postal_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryContact {
    pub first_name: String,
    pub last_name: String,
    pub email: WorkEmail,
    pub phone: Phone,
}

/// The legal and contact details of a company. Once built, every field is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyProfile {
    pub legal_name: String,
    pub address: Address,
    pub country: Country,
    pub website: Website,
    pub primary_contact: PrimaryContact,
}

/// Unchecked input for a [`CompanyProfile`], borrowed from whatever carried it.
#[derive(Debug, Clone, Copy)]
pub struct CompanyProfileDraft<'a> {
    pub legal_name: &'a str,
    pub address: AddressDraft<'a>,
    pub country: &'a str,
    pub website: &'a str,
    pub primary_contact: PrimaryContactDraft<'a>,
}

#[derive(Debug, Clone, Copy)]
pub struct AddressDraft<'a> {
    pub line1: &'a str,
    pub line2: Option<&'a str>,
    pub city: &'a str,
    pub state_or_province: Option<&'a str>,
    pub postal_code: Option<&'a str>,
}

#[derive(Debug, Clone, Copy)]
pub struct PrimaryContactDraft<'a> {
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: &'a str,
    pub phone: &'a str,
}

impl CompanyProfile {
    /// Checks every field and reports all failures at once, with their paths.
    pub fn parse(draft: CompanyProfileDraft<'_>) -> Result<Self, FieldErrors> {
        use limits::*;
        let mut errors = FieldErrors::new();
        let legal_name = errors.check("legal_name", text::latin(draft.legal_name, LEGAL_NAME));
        let address = errors.check_all("address", Address::parse(draft.address));
        let country = errors.check("country", Country::parse(draft.country));
        let website = errors.check("website", Website::parse(draft.website));
        let primary_contact = errors.check_all(
            "primary_contact",
            PrimaryContact::parse(draft.primary_contact),
        );
        errors.finish(|| {
            Some(CompanyProfile {
                legal_name: legal_name?,
                address: address?,
                country: country?,
                website: website?,
                primary_contact: primary_contact?,
            })
        })
    }
}

impl Address {
    pub fn parse(draft: AddressDraft<'_>) -> Result<Self, FieldErrors> {
        use limits::*;
        let mut errors = FieldErrors::new();
        let line1 = errors.check("line1", text::latin(draft.line1, ADDRESS_LINE));
        let line2 = errors.check("line2", text::optional_latin(draft.line2, ADDRESS_LINE));
        let city = errors.check("city", text::latin(draft.city, CITY));
        let state_or_province = errors.check(
            "state_or_province",
            text::optional_latin(draft.state_or_province, STATE_OR_PROVINCE),
        );
        let postal_code = errors.check("postal_code", postal_code(draft.postal_code));
        errors.finish(|| {
            Some(Address {
                line1: line1?,
                line2: line2?,
                city: city?,
                state_or_province: state_or_province?,
                postal_code: postal_code?,
            })
        })
    }
}

fn postal_code(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    let value = text::optional(raw, limits::POSTAL_CODE)?;
    if let Some(code) = &value
        && !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
    {
        return Err(FieldError::new(
            "",
            "invalid_postal_code",
            "may contain letters, digits, spaces and hyphens only",
        ));
    }
    Ok(value)
}

impl PrimaryContact {
    pub fn parse(draft: PrimaryContactDraft<'_>) -> Result<Self, FieldErrors> {
        use limits::*;
        let mut errors = FieldErrors::new();
        let first_name = errors.check("first_name", text::latin(draft.first_name, PERSON_NAME));
        let last_name = errors.check("last_name", text::latin(draft.last_name, PERSON_NAME));
        let email = errors.check("email", WorkEmail::parse(draft.email));
        let phone = errors.check("phone", Phone::parse(draft.phone));
        errors.finish(|| {
            Some(PrimaryContact {
                first_name: first_name?,
                last_name: last_name?,
                email: email?,
                phone: phone?,
            })
        })
    }
}

/// A company website: an `http` or `https` URL with a public-looking host name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Website(String);

impl Website {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = text::required(raw, limits::WEBSITE)?;
        let invalid = || {
            FieldError::new(
                "",
                "invalid_url",
                "must be an http or https URL such as https://www.contoso.com",
            )
        };
        let lower = value.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .ok_or_else(invalid)?;
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let host = match authority.rsplit_once(':') {
            Some((host, port)) if !port.is_empty() && port.parse::<u16>().is_ok() => host,
            Some(_) => return Err(invalid()),
            None => authority,
        };
        if !is_domain_name(host) || tail.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A telephone number: 7 to 15 digits (E.164), optionally written with `+`, spaces, dots,
/// hyphens and parentheses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = text::required(raw, limits::PHONE)?;
        let digits = value.chars().filter(char::is_ascii_digit).count();
        let shape_ok = value
            .char_indices()
            .all(|(i, c)| c.is_ascii_digit() || " .-()".contains(c) || (c == '+' && i == 0));
        if !shape_ok || !(7..=15).contains(&digits) {
            return Err(FieldError::new(
                "",
                "invalid_phone",
                "must be a phone number of 7 to 15 digits, such as +1 425 555 0100",
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> CompanyProfileDraft<'static> {
        CompanyProfileDraft {
            legal_name: "Contoso Ltd.",
            address: AddressDraft {
                line1: "1 Microsoft Way",
                line2: None,
                city: "Redmond",
                state_or_province: Some("WA"),
                postal_code: Some("98052"),
            },
            country: "us",
            website: "https://www.contoso.com",
            primary_contact: PrimaryContactDraft {
                first_name: "Jane",
                last_name: "Doe",
                email: "jane.doe@contoso.com",
                phone: "+1 425 555 0100",
            },
        }
    }

    #[test]
    fn a_complete_draft_parses() {
        let profile = CompanyProfile::parse(draft()).expect("valid");
        assert_eq!(profile.country.code(), "US");
        assert_eq!(
            profile.primary_contact.email.as_str(),
            "jane.doe@contoso.com"
        );
    }

    #[test]
    fn every_failure_is_reported_with_its_path() {
        let mut bad = draft();
        bad.legal_name = " ";
        bad.address.city = "東京";
        bad.country = "XX";
        bad.website = "contoso";
        bad.primary_contact.email = "info@contoso.com";
        bad.primary_contact.phone = "12";
        let errors = CompanyProfile::parse(bad).expect_err("invalid").into_vec();
        let got: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            got,
            vec![
                ("legal_name", "required"),
                ("address.city", "unsupported_characters"),
                ("country", "unknown_country"),
                ("website", "invalid_url"),
                ("primary_contact.email", "role_mailbox"),
                ("primary_contact.phone", "invalid_phone"),
            ]
        );
    }

    #[test]
    fn websites() {
        for ok in [
            "https://contoso.com",
            "http://www.contoso.co.uk/about?x=1",
            "HTTPS://Contoso.com:8443/",
        ] {
            assert!(Website::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "contoso.com",
            "ftp://contoso.com",
            "https://",
            "https://localhost",
            "https://contoso.com:99999",
            "https://contoso .com",
            "https://contoso.com/a b",
        ] {
            assert!(Website::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_at_their_digit_boundaries() {
        assert!(Phone::parse("555 0100").is_ok());
        assert!(Phone::parse("5550100").is_ok());
        assert!(Phone::parse("555010").is_err());
        assert!(Phone::parse("+123456789012345").is_ok());
        assert!(Phone::parse("+1234567890123456").is_err());
        assert!(Phone::parse("1+2345678").is_err());
        assert!(Phone::parse("(425) 555-0100").is_ok());
    }

    #[test]
    fn postal_codes() {
        assert_eq!(
            postal_code(Some("SW1A 1AA")),
            Ok(Some("SW1A 1AA".to_owned()))
        );
        assert_eq!(postal_code(None), Ok(None));
        assert!(postal_code(Some("98052#")).is_err());
        assert!(postal_code(Some(&"1".repeat(21))).is_err());
    }
}
