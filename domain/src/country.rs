//! Countries as ISO 3166-1 alpha-2 codes: the legal country of an account.

use crate::field::FieldError;
use serde::Serialize;
use std::fmt;

/// The 249 officially assigned ISO 3166-1 alpha-2 codes, sorted for binary search.
const ISO_3166_1_ALPHA_2: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// A country, always one of the assigned ISO 3166-1 alpha-2 codes, in upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Country(&'static str);

impl Country {
    /// Accepts exactly two letters in any case (`us`, `US`) and stores the upper-case code.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let code = raw.to_ascii_uppercase();
        ISO_3166_1_ALPHA_2
            .binary_search(&code.as_str())
            .map(|index| Self(ISO_3166_1_ALPHA_2[index]))
            .map_err(|_| {
                FieldError::new(
                    "",
                    "unknown_country",
                    format!("must be an ISO 3166-1 alpha-2 country code; {raw:?} is not one"),
                )
            })
    }

    pub fn code(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_sorted_and_unique() {
        assert!(ISO_3166_1_ALPHA_2.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn accepts_assigned_codes_in_any_case() {
        assert_eq!(Country::parse("us").map(|c| c.code()), Ok("US"));
        assert_eq!(Country::parse("De").map(|c| c.code()), Ok("DE"));
        assert_eq!(Country::parse("AD").map(|c| c.code()), Ok("AD"));
        assert_eq!(Country::parse("ZW").map(|c| c.code()), Ok("ZW"));
    }

    #[test]
    fn refuses_unassigned_or_malformed_codes() {
        for raw in ["", "U", "USA", "UK", "XX", "EU", "1A", " US", "US "] {
            assert_eq!(
                Country::parse(raw).map_err(|e| e.code),
                Err("unknown_country"),
                "{raw}"
            );
        }
    }
}
