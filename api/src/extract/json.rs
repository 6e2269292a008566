//! The JSON request body: checked media type, 64 KiB limit, syntax errors with their position,
//! unknown or mistyped fields reported with their path, then validation.

use actix_web::dev::Payload;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpRequest};
use domain::{FieldError, FieldErrors};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::{self, DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use super::strict::Strict;
use crate::error::{ApiError, ErrorCode, ProblemFieldError};

/// Largest JSON body accepted (DESIGN §2).
pub const JSON_LIMIT_BYTES: usize = 64 * 1024;

/// A deserialized JSON body, with a canonical fingerprint of it for idempotency checks.
#[derive(Debug)]
pub struct JsonBody<T> {
    pub value: T,
    canonical: String,
}

impl<T> JsonBody<T> {
    /// A digest of the request identity: method, path and the body with object keys sorted,
    /// so reformatting the same JSON does not count as a different request.
    pub fn fingerprint(&self, req: &HttpRequest) -> String {
        request_fingerprint(req, &self.canonical)
    }
}

/// The digest identifying a request for idempotency: method, path and canonical body (empty
/// for a request without one).
pub fn request_fingerprint(req: &HttpRequest, canonical_body: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str());
    hasher.update(b"\n");
    hasher.update(req.path());
    hasher.update(b"\n");
    hasher.update(canonical_body.as_bytes());
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let media_type = check_media_type(req);
        let declared_length = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            media_type?;
            if declared_length.is_some_and(|length| length > JSON_LIMIT_BYTES) {
                return Err(too_large());
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|error| {
                    ApiError::new(
                        ErrorCode::MalformedJson,
                        format!("The request body could not be read: {error}."),
                    )
                })?;
                if body.len() + chunk.len() > JSON_LIMIT_BYTES {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            parse(&body)
        })
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!(
            "The JSON body exceeds the {} KiB limit.",
            JSON_LIMIT_BYTES / 1024
        ),
    )
}

fn check_media_type(req: &HttpRequest) -> Result<(), ApiError> {
    let media_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    match media_type.as_deref() {
        Some("application/json") => Ok(()),
        Some(other) if other.starts_with("application/") && other.ends_with("+json") => Ok(()),
        Some(other) => Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("Send the body as application/json, not {other}."),
        )),
        None => Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Send the body as application/json (the Content-Type header is missing).",
        )),
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<JsonBody<T>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            ErrorCode::MalformedJson,
            "The request body is empty; send a JSON object.",
        ));
    }
    // A body that is not an object is refused by `Strict`, like any misplaced non-object.
    let document = parse_unique_keys(body)?;
    let canonical = canonical_json(&document);
    let value = serde_path_to_error::deserialize::<_, T>(Strict(document)).map_err(data_error)?;
    Ok(JsonBody { value, canonical })
}

/// Parses JSON text, refusing objects that repeat a key: parsers disagree on which repeated
/// value wins, so a proxy or audit trail could read a different request than this server.
fn parse_unique_keys(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let document =
        serde_path_to_error::deserialize::<_, UniqueKeys>(&mut deserializer).map_err(|error| {
            match error.inner().classify() {
                serde_json::error::Category::Data => data_error(error),
                _ => malformed(&error.into_inner()),
            }
        })?;
    deserializer.end().map_err(|error| malformed(&error))?;
    Ok(document.0)
}

fn malformed(error: &serde_json::Error) -> ApiError {
    ApiError::new(
        ErrorCode::MalformedJson,
        format!(
            "The body is not valid JSON: {} at line {}, column {}.",
            syntax_reason(error),
            error.line(),
            error.column()
        ),
    )
}

/// Any JSON value, with no object repeating a key.
struct UniqueKeys(serde_json::Value);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(UniqueKeysVisitor)
            .map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> Visitor<'de> for UniqueKeysVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
        // JSON text cannot spell a non-finite number, so `from_f64` always succeeds here.
        Ok(serde_json::Number::from_f64(value).map_or(serde_json::Value::Null, Into::into))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        refuse_nul(value)?;
        Ok(value.into())
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        refuse_nul(&value)?;
        Ok(value.into())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Self::Value, A::Error> {
        let mut array = Vec::new();
        while let Some(UniqueKeys(item)) = items.next_element()? {
            array.push(item);
        }
        Ok(array.into())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = entries.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate field `{key}`")));
            }
            let UniqueKeys(value) = entries.next_value()?;
            object.insert(key, value);
        }
        Ok(object.into())
    }
}

/// serde_json's message without its own position suffix (we add line and column ourselves).
fn syntax_reason(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message,
    }
}

/// Deterministic JSON text: object keys sorted at every level, no insignificant whitespace.
fn canonical_json(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(key, value)| {
                    format!("{}:{}", Value::String(key.clone()), canonical_json(value))
                })
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", inner.join(","))
        }
        scalar => scalar.to_string(),
    }
}

/// A well-formed body whose shape is wrong: name the field and what is wrong with it.
const NUL_REFUSED: &str = "must not contain the NUL character (U+0000)";

/// PostgreSQL text cannot hold U+0000 (SQLite can): refused in every JSON string, so both
/// backends answer the same 400 instead of PostgreSQL failing the write with a 500.
fn refuse_nul<E: de::Error>(value: &str) -> Result<(), E> {
    if value.contains('\0') {
        return Err(E::custom(NUL_REFUSED));
    }
    Ok(())
}

fn data_error(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = error.path().to_string();
    let path = if path == "." { String::new() } else { path };
    let message = error.inner().to_string();
    let quoted = message
        .split('`')
        .nth(1)
        .map(str::to_owned)
        .unwrap_or_default();
    let join = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else if path.ends_with(name) {
            path.clone()
        } else {
            format!("{path}.{name}")
        }
    };
    let (field, code, text) = if message.starts_with("duplicate field") {
        (
            join(&quoted),
            "duplicate_field",
            "appears more than once".to_owned(),
        )
    } else if message.starts_with("unknown field") {
        (
            join(&quoted),
            "unknown_field",
            "is not a field of this request".to_owned(),
        )
    } else if message.starts_with("missing field") {
        (join(&quoted), "required", "is required".to_owned())
    } else if message.starts_with(NUL_REFUSED) {
        (path.clone(), "invalid_characters", NUL_REFUSED.to_owned())
    } else if message.starts_with("invalid type") {
        (path.clone(), "invalid_type", message.clone())
    } else {
        (path.clone(), "invalid_value", message.clone())
    };
    let field = if field.is_empty() {
        "body".to_owned()
    } else {
        field
    };
    ApiError::new(ErrorCode::ValidationFailed, format!("{field}: {text}")).with_field_errors(vec![
        ProblemFieldError {
            field,
            code: code.to_owned(),
            message: text,
        },
    ])
}

/// Validates a DTO: its declared constraints (`validator`) and the domain's rules (`parse`),
/// reporting both at once. Where both flag the same field, the declared constraint is kept.
pub fn validate<T: Validate, D>(
    dto: &T,
    parse: impl FnOnce(&T) -> Result<D, FieldErrors>,
) -> Result<D, ApiError> {
    let mut errors = Vec::new();
    if let Err(declared) = dto.validate() {
        flatten("", &declared, &mut errors);
    }
    let parsed = parse(dto);
    match parsed {
        Ok(value) if errors.is_empty() => Ok(value),
        Ok(_) => Err(ApiError::validation(sorted(errors))),
        Err(domain) => {
            for error in domain.into_vec() {
                if !errors.iter().any(|e: &FieldError| e.field == error.field) {
                    errors.push(error);
                }
            }
            Err(ApiError::validation(sorted(errors)))
        }
    }
}

fn sorted(mut errors: Vec<FieldError>) -> Vec<FieldError> {
    errors.sort_by(|a, b| a.field.cmp(&b.field));
    errors
}

fn flatten(prefix: &str, errors: &ValidationErrors, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => out.extend(list.iter().map(|error| {
                let code = match &error.code {
                    Cow::Borrowed(code) => code,
                    Cow::Owned(_) => "invalid",
                };
                let message = error
                    .message
                    .as_ref()
                    .map_or_else(|| code.replace('_', " "), ToString::to_string);
                FieldError::new(path.clone(), code, message)
            })),
            ValidationErrorsKind::Struct(inner) => flatten(&path, inner, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    flatten(&format!("{path}[{index}]"), inner, out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn field_error(body: &str) -> (String, String) {
        let error = parse::<Outer>(body.as_bytes()).expect_err("invalid");
        assert_eq!(error.code(), ErrorCode::ValidationFailed);
        let first = &error.field_errors()[0];
        (first.field.clone(), first.code.clone())
    }

    #[test]
    fn unknown_missing_and_mistyped_fields_name_their_path() {
        assert_eq!(
            field_error(r#"{"name":"a","inner":{"count":1,"extra":2}}"#),
            ("inner.extra".into(), "unknown_field".into())
        );
        assert_eq!(
            field_error(r#"{"name":"a","inner":{}}"#),
            ("inner.count".into(), "required".into())
        );
        assert_eq!(
            field_error(r#"{"name":"a","inner":{"count":"x"}}"#),
            ("inner.count".into(), "invalid_type".into())
        );
        assert_eq!(
            field_error(r#"{"inner":{"count":1}}"#),
            ("name".into(), "required".into())
        );
        assert_eq!(
            field_error(r#"["a", {"count": 1}]"#),
            ("body".into(), "invalid_type".into())
        );
        assert_eq!(field_error("null"), ("body".into(), "invalid_type".into()));
    }

    #[test]
    fn repeated_keys_are_refused_with_their_path() {
        assert_eq!(
            field_error(r#"{"name":"a","name":"b","inner":{"count":1}}"#),
            ("name".into(), "duplicate_field".into())
        );
        assert_eq!(
            field_error(r#"{"name":"a","inner":{"count":1,"count":2}}"#),
            ("inner.count".into(), "duplicate_field".into())
        );
        // The same key in different objects is no repetition.
        let ok = parse::<Outer>(br#"{"name":"a","inner":{"count":1}}"#);
        assert!(ok.is_ok());
    }

    #[test]
    fn trailing_text_is_malformed_json() {
        let error = parse::<Outer>(br#"{"name":"a","inner":{"count":1}} x"#).expect_err("invalid");
        assert_eq!(error.code(), ErrorCode::MalformedJson);
    }

    #[test]
    fn syntax_errors_are_malformed_json_with_a_position() {
        let error = parse::<Outer>(b"{\"name\": ").expect_err("invalid");
        assert_eq!(error.code(), ErrorCode::MalformedJson);
        assert!(error.detail().contains("line 1"), "{}", error.detail());
        let empty = parse::<Outer>(b"  ").expect_err("invalid");
        assert_eq!(empty.code(), ErrorCode::MalformedJson);
    }

    #[test]
    fn canonical_form_ignores_key_order_and_whitespace() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b":1,"a":{"y":[1,2],"x":null}}"#).expect("json");
        let b: serde_json::Value =
            serde_json::from_str("{ \"a\": {\"x\": null, \"y\": [1, 2]}, \"b\": 1 }")
                .expect("json");
        assert_eq!(canonical_json(&a), canonical_json(&b));
        let c: serde_json::Value =
            serde_json::from_str(r#"{"a":{"x":null,"y":[2,1]},"b":1}"#).expect("json");
        assert_ne!(canonical_json(&a), canonical_json(&c));
    }
}
