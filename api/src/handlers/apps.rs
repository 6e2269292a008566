//! Integration apps and the OAuth 2.0 token endpoint (RFC 6749 client credentials). Secrets
//! are shown once and stored only as Argon2id hashes.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, CACHE_CONTROL, CONTENT_TYPE, LOCATION, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use domain::access::Permission;
use domain::action_center::app_registered_item;
use domain::ids::AppId;
use domain::principal::Principal;
use persistence::DbConnection;
use persistence::connection::write_transaction;
use persistence::repos::action_center;
use persistence::repos::apps::{self, App as AppRecord, NewApp};
use persistence::tenant::Membership;
use serde_json::json;
use uuid::Uuid;

use crate::access;
use crate::audit;
use crate::auth::Authenticated;
use crate::clock;
use crate::db;
use crate::dto::app::{
    App, AppList, AppWithSecret, CreateAppRequest, OAuthError, TokenRequest, TokenResponse,
};
use crate::dto::me::ListQuery;
use crate::dto::role::domain_roles;
use crate::error::{ApiError, ErrorCode};
use crate::extract::idempotency::{self, IdempotencyKey, Reply};
use crate::extract::json::{JsonBody, validate};
use crate::extract::pagination::{page_request, page_response};
use crate::state::AppState;

/// Lifetime of tokens issued to apps and by directory switching.
pub const TOKEN_TTL_SECONDS: i64 = 3600;

/// A new secret: 32 random bytes from the OS generator, URL-safe.
fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("pcs_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The last four characters of a secret (secrets are ASCII).
fn hint(secret: &str) -> String {
    secret[secret.len().saturating_sub(4)..].to_owned()
}

fn hash_secret(secret: &str) -> Result<String, ApiError> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(ApiError::internal)?;
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(ApiError::internal)
}

/// A new secret and its hash, computed off the actix workers and outside any transaction
/// (hashing is deliberately slow).
async fn new_hashed_secret() -> Result<(String, String), ApiError> {
    web::block(|| {
        let secret = new_secret();
        hash_secret(&secret).map(|hash| (secret, hash))
    })
    .await
    .map_err(|_| ApiError::internal("a hashing task panicked"))?
}

fn verify_secret(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash of no real secret, verified against when the client id is unknown, so an unknown
/// client costs as much time as a wrong secret.
static DECOY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_secret(&new_secret()).unwrap_or_default());

/// List apps.
#[utoipa::path(
    tag = "Apps",
    operation_id = "list_apps",
    params(ListQuery),
    responses(
        (status = 200, description = "One page of apps, oldest first.", body = AppList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/apps")]
pub async fn list_apps(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let page = db::read(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::AppsManage)?;
        Ok(apps::list(conn, &membership.scope, &page)?)
    })
    .await?;
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| AppList {
            items: page.items.iter().map(App::from).collect(),
            next_cursor,
        },
    ))
}

/// Register an app.
///
/// Returns the app's `client_id` and `client_secret`; the secret is shown only here. The
/// caller must be allowed to grant every role. Accepts `Idempotency-Key`; a replay returns
/// the same app with `client_secret: null` (the secret is not kept): if the first response
/// was lost, rotate the secret.
#[utoipa::path(
    tag = "Apps",
    operation_id = "create_app",
    params(
        ("Idempotency-Key" = Option<String>, Header, max_length = 255, description = "Makes the request safe to retry (see `create_account`)."),
    ),
    request_body(content = CreateAppRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The app, with its secret.", body = AppWithSecret, headers(
            ("Location" = String, description = "`/v1/apps`."),
        )),
        (status = 403, description = "`insufficient_role`, `role_not_grantable`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
        (status = 409, description = "The `Idempotency-Key` is in use (`idempotency_key_in_use`)."),
        (status = 422, description = "The `Idempotency-Key` was used with a different body (`idempotency_key_reused`)."),
    ),
)]
#[post("/v1/apps")]
pub async fn create_app(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    key: IdempotencyKey,
    body: JsonBody<CreateAppRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0.clone();
    let fingerprint = body.fingerprint(&req);
    let request = body.value;
    let (secret, secret_hash) = new_hashed_secret().await?;
    idempotency::execute(&state, &caller.0, key, fingerprint, move |conn, wall| {
        let membership = access::authorize(conn, &principal, Permission::AppsManage)?;
        let now = membership.now(wall);
        let (name, roles) = validate(&request, |request| {
            Ok((request.name.trim().to_owned(), domain_roles(&request.roles)))
        })?;
        access::require_grantable(&membership, &roles)?;
        let scope = &membership.scope;
        let app = apps::create(
            conn,
            scope,
            &NewApp {
                name,
                roles,
                client_id: Uuid::now_v7().to_string(),
                secret_hash,
                secret_hint: hint(&secret),
                created_by: principal.subject().to_owned(),
            },
            now,
        )?;
        let target = app.id.to_string();
        action_center::raise(
            conn,
            scope,
            &app_registered_item(&app.name),
            Some(action_center::Target {
                kind: "app",
                id: &target,
            }),
            now,
        )?;
        audit::record(
            conn,
            scope,
            &principal,
            "app.created",
            ("app", target),
            json!({"name": app.name, "client_id": app.client_id, "roles": app.roles}),
            now,
        )?;
        let shown = AppWithSecret {
            app: App::from(&app),
            client_secret: Some(secret),
        };
        // The stored response for replays leaves the secret out: only its hash is kept.
        let replayed = AppWithSecret {
            app: App::from(&app),
            client_secret: None,
        };
        Ok(Reply::json(StatusCode::CREATED, &shown)?
            .replayed_as(&replayed)?
            .with_header(LOCATION, "/v1/apps")
            .with_header(CACHE_CONTROL, "no-store"))
    })
    .await
}

fn app_not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "No app of your account has this id.")
}

/// An app about to be rotated or deleted, by a caller who may grant all its roles.
fn app_to_change(
    conn: &mut DbConnection,
    principal: &Principal,
    id: AppId,
) -> Result<(Membership, AppRecord), ApiError> {
    let membership = access::authorize(conn, principal, Permission::AppsManage)?;
    let app = apps::get(conn, &membership.scope, id)?.ok_or_else(app_not_found)?;
    access::require_grantable(&membership, &app.roles)?;
    Ok((membership, app))
}

/// Rotate an app's secret.
///
/// Issues a new secret (shown once) and retires the old one at once: it no longer obtains
/// tokens. Tokens already issued stay valid until they expire (at most an hour). The caller
/// must be allowed to grant every role of the app.
#[utoipa::path(
    tag = "Apps",
    operation_id = "rotate_app_secret",
    params(("app_id" = Uuid, Path, description = "The app's id.")),
    responses(
        (status = 200, description = "The app with its new secret.", body = AppWithSecret),
        (status = 403, description = "`insufficient_role`, `role_not_grantable` (the app holds a role the caller may not grant), `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No app of the caller's account has this id (`not_found`)."),
    ),
)]
#[post("/v1/apps/{app_id}/secret")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    caller: Authenticated,
    app_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let id = AppId::from_uuid(app_id.into_inner());
    let wall = clock::now();
    let (secret, secret_hash) = new_hashed_secret().await?;
    let (app, secret) = db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let (membership, _) = app_to_change(conn, &principal, id)?;
            let now = membership.now(wall);
            let scope = &membership.scope;
            let app = apps::rotate_secret(conn, scope, id, &secret_hash, &hint(&secret), now)?
                .ok_or_else(app_not_found)?;
            audit::record(
                conn,
                scope,
                &principal,
                "app.secret_rotated",
                ("app", id.to_string()),
                json!({"client_id": app.client_id, "secret_hint": app.secret_hint}),
                now,
            )?;
            Ok((app, secret))
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(AppWithSecret {
            app: App::from(&app),
            client_secret: Some(secret),
        }))
}

/// Delete an app.
///
/// The app's secret stops working and so do the tokens already issued to it. The caller
/// must be allowed to grant every role of the app.
#[utoipa::path(
    tag = "Apps",
    operation_id = "delete_app",
    params(("app_id" = Uuid, Path, description = "The app's id.")),
    responses(
        (status = 204, description = "The app was deleted."),
        (status = 403, description = "`insufficient_role`, `role_not_grantable` (the app holds a role the caller may not grant), `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No app of the caller's account has this id (`not_found`)."),
    ),
)]
#[delete("/v1/apps/{app_id}")]
pub async fn delete_app(
    state: web::Data<AppState>,
    caller: Authenticated,
    app_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let id = AppId::from_uuid(app_id.into_inner());
    let wall = clock::now();
    db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let (membership, app) = app_to_change(conn, &principal, id)?;
            let now = membership.now(wall);
            let scope = &membership.scope;
            apps::delete(conn, scope, id)?;
            audit::record(
                conn,
                scope,
                &principal,
                "app.deleted",
                ("app", id.to_string()),
                json!({"name": app.name, "client_id": app.client_id}),
                now,
            )
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"));
    if status == StatusCode::UNAUTHORIZED {
        response.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="partner-center""#));
    }
    response.json(OAuthError {
        error: error.to_owned(),
        error_description: description.to_owned(),
    })
}

fn invalid_request(description: &str) -> HttpResponse {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

/// Client credentials from HTTP Basic authentication (RFC 6749 §2.3.1), if sent.
fn basic_credentials(req: &HttpRequest) -> Option<Result<(String, String), ()>> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    Some(
        decoded
            .as_deref()
            .and_then(|text| text.split_once(':'))
            .map(|(id, secret)| {
                let decode = |part: &str| {
                    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={part}"))
                        .ok()
                        .and_then(|pairs| pairs.into_iter().next())
                        .map(|(_, value)| value)
                        .unwrap_or_else(|| part.to_owned())
                };
                (decode(id), decode(secret))
            })
            .ok_or(()),
    )
}

/// Get an access token (client credentials).
///
/// RFC 6749 §4.4: form-encoded `grant_type=client_credentials` with the app's `client_id`
/// and `client_secret` (in the body, or as HTTP Basic authentication). Errors use the RFC
/// 6749 §5.2 shape, not problem documents.
#[utoipa::path(
    tag = "Apps",
    operation_id = "issue_token",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A bearer token for the app.", body = TokenResponse),
        (status = 400, description = "`invalid_request` (missing, repeated or malformed parameters) or `unsupported_grant_type`.", body = OAuthError),
        (status = 401, description = "`invalid_client`: unknown client or wrong secret.", body = OAuthError),
    ),
)]
#[post("/v1/oauth2/token")]
pub async fn issue_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let form_encoded = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_encoded {
        return invalid_request("the body must be application/x-www-form-urlencoded");
    }
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return invalid_request("the body is not valid form encoding");
    };
    let mut names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|pair| pair[0] == pair[1]) {
        return invalid_request("a parameter is repeated");
    }
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    match param("grant_type").as_deref() {
        None => return invalid_request("grant_type is required"),
        Some("client_credentials") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only client_credentials is supported",
            );
        }
    }
    let (client_id, secret) = match (
        basic_credentials(&req),
        param("client_id"),
        param("client_secret"),
    ) {
        (Some(Err(())), _, _) => return invalid_request("the Basic credentials are malformed"),
        (Some(Ok(_)), Some(_), _) | (Some(Ok(_)), _, Some(_)) => {
            return invalid_request(
                "send the client credentials once: in the body or as Basic authentication",
            );
        }
        (Some(Ok(credentials)), None, None) => credentials,
        (None, Some(id), Some(secret)) => (id, secret),
        (None, _, _) => return invalid_request("client_id and client_secret are required"),
    };
    let now = clock::now();
    let lookup = client_id.clone();
    let found = db::run(&state, move |conn| Ok(apps::credentials(conn, &lookup)?)).await;
    // The hash is checked after the connection went back to the pool: a flood of token
    // requests costs CPU, not connections.
    let verified = match found {
        Err(error) => Err(error),
        Ok(found) => web::block(move || match found {
            Some(credentials) if verify_secret(&secret, &credentials.secret_hash) => {
                Some(credentials.directory_id)
            }
            Some(_) => None,
            None => {
                verify_secret(&secret, &DECOY_HASH);
                None
            }
        })
        .await
        .map_err(|_| ApiError::internal("a hashing task panicked")),
    };
    let directory = match verified {
        Ok(Some(directory)) => directory,
        Ok(None) => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "unknown client or wrong secret",
            );
        }
        Err(error) => return actix_web::ResponseError::error_response(&error),
    };
    let principal = Principal::App {
        client_id,
        directory,
    };
    match state.tokens.issue(
        &principal,
        now,
        chrono::Duration::seconds(TOKEN_TTL_SECONDS),
    ) {
        Ok(token) => HttpResponse::Ok()
            .insert_header((CACHE_CONTROL, "no-store"))
            .insert_header((PRAGMA, "no-cache"))
            .json(TokenResponse {
                access_token: token,
                token_type: "Bearer".to_owned(),
                expires_in: TOKEN_TTL_SECONDS,
            }),
        Err(error) => actix_web::ResponseError::error_response(&ApiError::internal(error)),
    }
}
