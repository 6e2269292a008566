//! Bounded, trimmed text fields. The portal asks for Western European characters in legal
//! names and addresses (documents are checked against them by people and by tax systems), so
//! those fields accept Latin letters, digits and common punctuation only.

use crate::field::FieldError;

/// Trims `raw` and checks it is non-empty and at most `max` characters.
pub fn required(raw: &str, max: usize) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new("", "required", "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(FieldError::new(
            "",
            "too_long",
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            "",
            "invalid_characters",
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// Like [`required`], but an absent or blank value is `None` rather than an error.
pub fn optional(raw: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => required(value, max).map(Some),
    }
}

/// [`required`] restricted to Western European (Latin) characters.
pub fn latin(raw: &str, max: usize) -> Result<String, FieldError> {
    let value = required(raw, max)?;
    check_latin(&value)?;
    Ok(value)
}

/// [`optional`] restricted to Western European (Latin) characters.
pub fn optional_latin(raw: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    let value = optional(raw, max)?;
    if let Some(value) = &value {
        check_latin(value)?;
    }
    Ok(value)
}

fn check_latin(value: &str) -> Result<(), FieldError> {
    match value.chars().find(|c| !is_western_european(*c)) {
        None => Ok(()),
        Some(c) => Err(FieldError::new(
            "",
            "unsupported_characters",
            format!("use Western European (Latin) characters only; {c:?} is not one"),
        )),
    }
}

fn is_western_european(c: char) -> bool {
    matches!(c,
        ' '..='~'                 // printable ASCII
        | '\u{00A0}'..='\u{00FF}' // Latin-1 Supplement
        | '\u{0100}'..='\u{017F}' // Latin Extended-A
        | '\u{2013}' | '\u{2014}' // en and em dash
        | '\u{2018}' | '\u{2019}' // typographic single quotes
        | '\u{201C}' | '\u{201D}' // typographic double quotes
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_trims_and_bounds() {
        assert_eq!(required("  Contoso  ", 10).as_deref(), Ok("Contoso"));
        assert_eq!(required("   ", 10).map_err(|e| e.code), Err("required"));
        assert!(required("abcdefghij", 10).is_ok());
        assert_eq!(
            required("abcdefghijk", 10).map_err(|e| e.code),
            Err("too_long")
        );
        assert_eq!(
            required("a\u{0}b", 10).map_err(|e| e.code),
            Err("invalid_characters")
        );
    }

    #[test]
    fn latin_accepts_western_european_and_refuses_other_scripts() {
        assert!(latin("Müller & Søn Ltd.", 100).is_ok());
        assert!(latin("Łódź Œuvre – “Quoted”", 100).is_ok());
        assert_eq!(
            latin("株式会社", 100).map_err(|e| e.code),
            Err("unsupported_characters")
        );
        assert_eq!(
            latin("Ωmega", 100).map_err(|e| e.code),
            Err("unsupported_characters")
        );
    }

    #[test]
    fn optional_treats_blank_as_absent() {
        assert_eq!(optional(None, 5), Ok(None));
        assert_eq!(optional(Some("  "), 5), Ok(None));
        assert_eq!(optional(Some(" x "), 5), Ok(Some("x".to_owned())));
    }
}
