//! Bounds the spec declares on query-string values, enforced rather than only documented: a
//! filter longer than any id it could match is a mistake to report, not an empty answer.

use crate::error::{ApiError, ErrorCode, ProblemFieldError};

/// 400 `invalid_query_parameter` when `value` is longer than `max` characters.
pub fn at_most(field: &str, value: Option<&str>, max: usize) -> Result<(), ApiError> {
    match value {
        Some(value) if value.chars().count() > max => Err(ApiError::new(
            ErrorCode::InvalidQueryParameter,
            format!("{field} must be at most {max} characters."),
        )
        .with_field_errors(vec![ProblemFieldError {
            field: field.into(),
            code: "too_long".into(),
            message: format!("at most {max} characters"),
        }])),
        _ => Ok(()),
    }
}
