//! Bearer-token authentication (DESIGN §3).
//!
//! Two kinds of signing key are trusted, and the token cannot choose between them by its
//! header's `alg`: a token with a `kid` must name a key of the configured JWKS file and is
//! verified with that key's own algorithm (RS256 or ES256) and the external issuer; a token
//! without a `kid` is verified with the embedded HS256 secret and the embedded issuer. So a token
//! HMAC-signed with a public key, or claiming `alg: none`, never verifies. Operator tokens are
//! accepted from the embedded issuer only.

mod keys;
mod verified;

pub use keys::{load_embedded_secret, load_jwks};

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::{DateTime, Utc};
use domain::email::EmailAddress;
use domain::ids::DirectoryId;
use domain::principal::{Principal, PrincipalKind};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::{Ready, ready};

use self::verified::VerifiedTokens;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Clock skew tolerated on `exp` and `nbf`, in seconds (DESIGN §3: at most 30).
pub const LEEWAY_SECONDS: u64 = 30;

/// A public key from the JWKS file, with the one algorithm it verifies.
pub struct TrustedKey {
    pub key: DecodingKey,
    pub algorithm: Algorithm,
}

/// An external identity provider whose tokens are accepted.
pub struct ExternalIssuer {
    pub issuer: String,
    pub keys: HashMap<String, TrustedKey>,
}

/// Issues and verifies the service's bearer tokens.
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    issuer: String,
    audience: String,
    external: Option<ExternalIssuer>,
    verified: VerifiedTokens,
}

/// Claims of tokens this service issues.
#[derive(Debug, Serialize)]
struct IssuedClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tid: Option<String>,
}

/// Claims read from a verified token. `exp`, `iss` and `aud` are checked by the validation.
#[derive(Debug, Deserialize)]
struct VerifiedClaims {
    sub: String,
    exp: i64,
    kind: Option<String>,
    tid: Option<String>,
}

/// Why a token was refused. The detail is safe to return: it names the failed check only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRejected(pub String);

impl TokenService {
    pub fn new(
        secret: &[u8],
        issuer: String,
        audience: String,
        external: Option<ExternalIssuer>,
    ) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            issuer,
            audience,
            external,
            verified: VerifiedTokens::default(),
        }
    }

    /// Signs an HS256 token for `principal`, valid from `now` for `ttl`.
    pub fn issue(
        &self,
        principal: &Principal,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<String, String> {
        let claims = IssuedClaims {
            iss: &self.issuer,
            aud: &self.audience,
            sub: principal.subject(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: (now + ttl).timestamp(),
            kind: principal.kind().id(),
            tid: principal.directory().map(|d| d.to_string()),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| format!("cannot sign the token: {e}"))
    }

    pub fn verify(&self, token: &str) -> Result<Principal, TokenRejected> {
        self.verify_until(token).map(|(principal, _)| principal)
    }

    /// Verifies a token; returns its principal and when it expires. A token that verified before
    /// is answered from [`VerifiedTokens`] while it has not expired.
    pub fn verify_until(&self, token: &str) -> Result<(Principal, DateTime<Utc>), TokenRejected> {
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(verified) = self.verified.get(token, now) {
            return Ok(verified);
        }
        let (principal, expires_at) = self.verify_signature_and_claims(token)?;
        self.verified
            .insert(token, principal.clone(), expires_at, now);
        Ok((principal, expires_at))
    }

    fn verify_signature_and_claims(
        &self,
        token: &str,
    ) -> Result<(Principal, DateTime<Utc>), TokenRejected> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| TokenRejected("the token is not a well-formed JWT".into()))?;
        let (key, algorithm, issuer) = match header.kid.as_deref() {
            Some(kid) => {
                let external = self
                    .external
                    .as_ref()
                    .ok_or_else(|| TokenRejected(format!("unknown signing key id {kid:?}")))?;
                let trusted = external
                    .keys
                    .get(kid)
                    .ok_or_else(|| TokenRejected(format!("unknown signing key id {kid:?}")))?;
                (&trusted.key, trusted.algorithm, external.issuer.as_str())
            }
            None => (&self.decoding, Algorithm::HS256, self.issuer.as_str()),
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[self.audience.as_str()]);
        let data = jsonwebtoken::decode::<VerifiedClaims>(token, key, &validation)
            .map_err(|e| TokenRejected(describe(e.kind())))?;
        let expires_at = DateTime::<Utc>::from_timestamp(data.claims.exp, 0)
            .ok_or_else(|| TokenRejected("the token's \"exp\" claim is malformed".into()))?;
        let principal = principal_from(data.claims)?;
        // Operators act across every tenant; only this service mints their tokens (with the
        // `token --operator` command, which needs the server's own key). An external identity
        // provider vouches for partner users and apps, never for platform staff.
        if header.kid.is_some() && matches!(principal, Principal::Operator { .. }) {
            return Err(TokenRejected(
                "operator tokens are accepted only from this service's own issuer".into(),
            ));
        }
        Ok((principal, expires_at))
    }
}

fn describe(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        ErrorKind::InvalidIssuer => "the token's issuer is not trusted".into(),
        ErrorKind::InvalidAudience => "the token is not meant for this API (aud)".into(),
        ErrorKind::InvalidSignature => "the token's signature does not verify".into(),
        ErrorKind::InvalidAlgorithm => "the token's algorithm is not the one its key uses".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token lacks the {claim:?} claim"),
        ErrorKind::InvalidClaimFormat(claim) => format!("the token's {claim:?} claim is malformed"),
        _ => "the token is malformed".into(),
    }
}

fn principal_from(claims: VerifiedClaims) -> Result<Principal, TokenRejected> {
    let kind = claims
        .kind
        .as_deref()
        .and_then(PrincipalKind::parse)
        .ok_or_else(|| {
            TokenRejected("the token's kind claim must be user, app or operator".into())
        })?;
    let directory = || -> Result<DirectoryId, TokenRejected> {
        claims
            .tid
            .as_deref()
            .and_then(|tid| tid.parse().ok())
            .ok_or_else(|| TokenRejected("the token's tid claim must be a directory UUID".into()))
    };
    let email = || {
        EmailAddress::parse(&claims.sub)
            .map_err(|_| TokenRejected("the token's sub claim must be an email address".into()))
    };
    Ok(match kind {
        PrincipalKind::User => Principal::User {
            email: email()?,
            directory: directory()?,
        },
        PrincipalKind::Operator => Principal::Operator { email: email()? },
        PrincipalKind::App => {
            let client_id = claims.sub.trim();
            if client_id.is_empty() || client_id.len() > 128 {
                return Err(TokenRejected(
                    "the token's sub claim must be a client id".into(),
                ));
            }
            Principal::App {
                client_id: client_id.to_owned(),
                directory: directory()?,
            }
        }
    })
}

/// The verified caller of a request and when their token expires. Extracting it answers 401
/// when there is no valid token.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal, pub DateTime<Utc>);

const REALM: &str = r#"Bearer realm="partner-center""#;

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // The rate limiter verified the token already when it found it valid.
        let verified = req.extensions().get::<Authenticated>().cloned();
        ready(verified.map_or_else(|| authenticate(req), Ok))
    }
}

/// Verifies the request's bearer token.
pub(crate) fn authenticate(req: &HttpRequest) -> Result<Authenticated, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let header = req.headers().get(AUTHORIZATION).ok_or_else(|| {
        ApiError::new(
            ErrorCode::MissingToken,
            "Send a bearer token: Authorization: Bearer <token>.",
        )
        .with_header(WWW_AUTHENTICATE, REALM)
    })?;
    let token = header
        .to_str()
        .ok()
        .and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|token| !token.is_empty())
        .ok_or_else(|| invalid_token("the Authorization header must be \"Bearer <token>\""))?;
    state
        .tokens
        .verify_until(token)
        .map(|(principal, expires_at)| Authenticated(principal, expires_at))
        .map_err(|TokenRejected(why)| invalid_token(&why))
}

fn invalid_token(why: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidToken,
        format!("The bearer token was refused: {why}."),
    )
    .with_header(
        WWW_AUTHENTICATE,
        format!(
            r#"{REALM}, error="invalid_token", error_description="{}""#,
            why.replace('"', "'")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn service() -> TokenService {
        TokenService::new(&[7u8; 32], "iss".into(), "aud".into(), None)
    }

    #[test]
    fn issued_tokens_verify_to_the_same_principal() {
        let service = service();
        let principal = Principal::User {
            email: EmailAddress::parse("jane@contoso.com").expect("valid"),
            directory: DirectoryId::generate(),
        };
        let token = service
            .issue(&principal, Utc::now(), Duration::minutes(5))
            .expect("signs");
        assert_eq!(service.verify(&token), Ok(principal));
    }

    #[test]
    fn expiry_is_honoured_with_at_most_thirty_seconds_of_leeway() {
        let service = service();
        let principal = Principal::Operator {
            email: EmailAddress::parse("ops@contoso.com").expect("valid"),
        };
        let ttl = Duration::minutes(1);
        // Expired 25 s ago: inside the leeway.
        let inside = service
            .issue(&principal, Utc::now() - ttl - Duration::seconds(25), ttl)
            .expect("signs");
        assert!(service.verify(&inside).is_ok());
        // Expired 35 s ago: outside it.
        let outside = service
            .issue(&principal, Utc::now() - ttl - Duration::seconds(35), ttl)
            .expect("signs");
        assert_eq!(
            service.verify(&outside),
            Err(TokenRejected("the token has expired".into()))
        );
    }

    #[test]
    fn another_secret_does_not_verify() {
        let other = TokenService::new(&[8u8; 32], "iss".into(), "aud".into(), None);
        let principal = Principal::Operator {
            email: EmailAddress::parse("ops@contoso.com").expect("valid"),
        };
        let token = other
            .issue(&principal, Utc::now(), Duration::minutes(5))
            .expect("signs");
        assert!(service().verify(&token).is_err());
    }

    #[test]
    fn a_token_verified_before_verifies_again_and_a_refused_one_stays_refused() {
        let service = service();
        let principal = Principal::Operator {
            email: EmailAddress::parse("ops@contoso.com").expect("valid"),
        };
        let token = service
            .issue(&principal, Utc::now(), Duration::minutes(5))
            .expect("signs");
        assert_eq!(service.verify(&token), Ok(principal.clone()));
        assert_eq!(service.verify(&token), Ok(principal));
        // The same claims under an altered signature: refused both times.
        let forged = format!("{}x", token);
        assert!(service.verify(&forged).is_err());
        assert!(service.verify(&forged).is_err());
    }
}
