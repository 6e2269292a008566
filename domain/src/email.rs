//! Email addresses, and the portal's rule for the primary contact: a company work address,
//! not a free-mail account and not a shared role mailbox.

use crate::field::FieldError;
use serde::Serialize;
use std::fmt;

/// A syntactically valid address, stored with its domain in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

/// RFC 5321 limits.
const MAX_LENGTH: usize = 254;
const MAX_LOCAL_LENGTH: usize = 64;

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        let invalid = |why: &str| {
            FieldError::new(
                "",
                "invalid_email",
                format!("is not a valid email address: {why}"),
            )
        };
        if value.is_empty() {
            return Err(FieldError::new("", "required", "must not be empty"));
        }
        if value.len() > MAX_LENGTH {
            return Err(invalid("longer than 254 characters"));
        }
        let (local, domain) = value.rsplit_once('@').ok_or_else(|| invalid("no '@'"))?;
        if local.is_empty() || local.len() > MAX_LOCAL_LENGTH {
            return Err(invalid("the part before '@' must be 1 to 64 characters"));
        }
        let local_ok = local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b))
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        if !local_ok {
            return Err(invalid("unsupported characters before '@'"));
        }
        if !is_domain_name(domain) {
            return Err(invalid("the domain is not a valid host name"));
        }
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(local, _)| local)
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }

    /// Case-insensitive comparison, as mailboxes are matched in practice.
    pub fn same_mailbox(&self, other: &EmailAddress) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A host name with at least two labels, each 1 to 63 letters, digits or inner hyphens, and a
/// top-level label that is not all digits.
pub fn is_domain_name(domain: &str) -> bool {
    if domain.is_empty() || domain.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

/// The primary contact's address: a work address of the company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct WorkEmail(EmailAddress);

/// Consumer mail providers. A domain is refused when it, or its registrable stem, is listed:
/// `gmail.com`, and `yahoo.co.uk` through the `yahoo.` stem.
const FREE_MAIL_DOMAINS: &[&str] = &[
    "aol.com",
    "gmail.com",
    "googlemail.com",
    "gmx.com",
    "gmx.net",
    "hey.com",
    "icloud.com",
    "inbox.com",
    "mac.com",
    "mail.com",
    "mail.ru",
    "me.com",
    "msn.com",
    "pm.me",
    "proton.me",
    "protonmail.com",
    "qq.com",
    "163.com",
    "126.com",
    "rediffmail.com",
    "tutanota.com",
    "web.de",
    "yandex.com",
    "yandex.ru",
    "ymail.com",
    "zohomail.com",
];
/// Providers with one free-mail domain per country (`hotmail.fr`, `outlook.co.uk`, ...).
const FREE_MAIL_STEMS: &[&str] = &["hotmail", "live", "outlook", "yahoo", "gmx", "windowslive"];
/// Shared mailboxes that the portal refuses for the primary contact.
const ROLE_MAILBOXES: &[&str] = &["info", "admin", "email", "marketing"];

impl WorkEmail {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let email = EmailAddress::parse(raw)?;
        let domain = email.domain();
        let stem = domain.split('.').next().unwrap_or_default();
        if FREE_MAIL_DOMAINS.contains(&domain) || FREE_MAIL_STEMS.contains(&stem) {
            return Err(FieldError::new(
                "",
                "free_mail_domain",
                format!("must be a company work address; {domain} is a free mail provider"),
            ));
        }
        // `info+billing@` is still the info mailbox.
        let mailbox = email.local_part().split('+').next().unwrap_or_default();
        if ROLE_MAILBOXES
            .iter()
            .any(|role| role.eq_ignore_ascii_case(mailbox))
        {
            return Err(FieldError::new(
                "",
                "role_mailbox",
                format!(
                    "must be a person's work address; shared mailboxes such as {}@ are refused",
                    mailbox.to_ascii_lowercase()
                ),
            ));
        }
        Ok(Self(email))
    }

    pub fn as_email(&self) -> &EmailAddress {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(raw: &str) -> Result<(), &'static str> {
        WorkEmail::parse(raw).map(|_| ()).map_err(|e| e.code)
    }

    #[test]
    fn accepts_a_company_address_and_lowercases_the_domain() {
        let email = WorkEmail::parse(" Jane.Doe@Contoso.COM ").expect("valid");
        assert_eq!(email.as_str(), "Jane.Doe@contoso.com");
    }

    #[test]
    fn refuses_free_mail_providers_including_country_variants() {
        for raw in [
            "jane@gmail.com",
            "jane@outlook.com",
            "jane@hotmail.co.uk",
            "jane@live.fr",
            "jane@yahoo.co.jp",
            "jane@GMAIL.com",
        ] {
            assert_eq!(code(raw), Err("free_mail_domain"), "{raw}");
        }
    }

    #[test]
    fn refuses_role_mailboxes_whatever_the_case_or_tag() {
        for raw in [
            "info@contoso.com",
            "Admin@contoso.com",
            "email@contoso.com",
            "marketing+pc@contoso.com",
        ] {
            assert_eq!(code(raw), Err("role_mailbox"), "{raw}");
        }
        assert_eq!(code("information@contoso.com"), Ok(()));
        assert_eq!(code("admins-team@contoso.com"), Ok(()));
    }

    #[test]
    fn refuses_malformed_addresses() {
        for raw in [
            "",
            "jane",
            "jane@",
            "@contoso.com",
            "jane@contoso",
            "ja ne@contoso.com",
            "jane@-x.com",
            "jane..doe@contoso.com",
            "jane@contoso.123",
        ] {
            assert!(code(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn length_limits_follow_rfc_5321() {
        let local = "a".repeat(64);
        assert!(EmailAddress::parse(&format!("{local}@contoso.com")).is_ok());
        assert!(EmailAddress::parse(&format!("{local}a@contoso.com")).is_err());
    }
}
