//! The OpenAPI document: generated from the registered routes, then completed with what every
//! operation shares (bearer security, the request-id header, problem responses), so no handler
//! can forget them.

use actix_web::App;
use utoipa::OpenApi;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Object, OpenApi as Document, Ref, RefOr, Required, Type};
use utoipa_actix_web::AppExt;

use domain::role::Role;
use utoipa::openapi::extensions::ExtensionsBuilder;

use crate::access::{self, Access};
use crate::error::{ErrorCode, PROBLEM_JSON, Problem, ProblemFieldError};
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Partner Center API",
        description = "A headless REST/JSON API for what the Partner Center portal does for a partner organisation: accounts and verification, users and roles, program membership, purchases, benefits, Action Center and support.\n\nConventions: JSON in `snake_case`, RFC 3339 UTC timestamps, UUID ids; every error is an RFC 9457 `application/problem+json` document with a stable `code`; lists are cursor-paginated; creating POSTs accept `Idempotency-Key`; every response carries `X-Request-Id`; no string, path or query value may contain U+0000 (NUL), which is refused with 400.",
        license(name = "MIT", identifier = "MIT"),
    ),
    tags(
        (name = "Accounts", description = "The caller's partner account."),
        (name = "Account settings", description = "The legal profile and its verification."),
        (name = "Users and roles", description = "The account's people and what their roles grant."),
        (name = "Apps", description = "Integration apps and the OAuth 2.0 token endpoint."),
        (name = "Me", description = "The caller: My access, roles, directories."),
        (name = "Action Center", description = "Actions and notifications, and how they reach the caller."),
        (name = "Audit", description = "The account's append-only audit log."),
        (name = "Programs", description = "The program catalog and its prices: data, edited by operators."),
        (name = "Membership", description = "Eligibility, memberships and program applications."),
        (name = "Skilling", description = "Learn-profile links and skilling credit with its 10-day lag."),
        (name = "Performance", description = "PAL/DPOR customer links and the Solutions Partner capability scores."),
        (name = "Marketplace", description = "Commercial marketplace offers."),
        (name = "Billing", description = "Orders by card or wire transfer, invoices and credit notes as JSON and PDF, refund eligibility."),
        (name = "Benefits", description = "Benefits of the memberships: activation, Azure credit reassignment, product keys."),
        (name = "Support", description = "Support requests, and membership cancellations decided at once."),
        (name = "Webhooks", description = "Signed event delivery (Standard Webhooks) from a transactional outbox: endpoints, secret rotation, the delivery log and redelivery."),
        (name = "Sandbox", description = "Sandbox accounts: their own clock and stand-ins for operator actions."),
        (name = "Operator", description = "Platform-operator routes (`kind=operator` tokens only)."),
        (name = "Operations", description = "Liveness and readiness probes."),
        (name = "Search", description = "Search over workspaces, programs, help topics and the account's own objects the caller may see."),
        (name = "Insights", description = "Membership insights: capability score history, skilling, renewals and benefit usage, as JSON and CSV."),
    ),
    components(schemas(Problem, ProblemFieldError, ErrorCode)),
)]
struct BaseDoc;

const BEARER: &str = "bearer";
const REQUEST_ID: &str = "X-Request-Id";
const REPLAYED: &str = "Idempotent-Replayed";
const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
const RETRY_AFTER: &str = "Retry-After";
const RATELIMIT_POLICY: &str = "RateLimit-Policy";
const RATELIMIT: &str = "RateLimit";

/// The complete document, as served at `/openapi.json` and checked in as `openapi.yaml`.
pub fn spec() -> Document {
    let (_, mut document) = App::new()
        .into_utoipa_app()
        .openapi(BaseDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    complete(&mut document);
    document
}

/// The document as YAML (the checked-in form).
pub fn spec_yaml() -> Result<String, String> {
    spec()
        .to_yaml()
        .map_err(|e| format!("cannot render the OpenAPI document: {e}"))
}

fn complete(document: &mut Document) {
    let components = document.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        BEARER.to_owned(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "A JWT signed by the service (HS256; see `partner-center token`) or by the configured external issuer (RS256/ES256, `kid` from the JWKS file). Required claims: `exp`, `iss`, `aud`, `sub`, `kind` (`user`, `app` or `operator`) and, except for operators, `tid` (the directory id).",
                ))
                .build(),
        )),
    );
    components
        .headers
        .insert(REQUEST_ID.to_owned(), header(Type::String, "The request's id: the client's `X-Request-Id` when it sent a printable one of at most 128 characters, a generated UUID otherwise. Also in problem bodies and server logs."));
    components
        .headers
        .insert(REPLAYED.to_owned(), header(Type::String, "`true` when this response is the stored response of an earlier request with the same `Idempotency-Key`."));
    components.headers.insert(
        RETRY_AFTER.to_owned(),
        header(Type::Integer, "Seconds to wait before retrying."),
    );
    components.parameters.insert(
        REQUEST_ID.to_owned(),
        RefOr::T(
            ParameterBuilder::new()
                .name(REQUEST_ID)
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                // Never refused: an id a proxy or client made up in another shape is replaced,
                // not an error, so the schema admits every string (contract fuzzing holds the
                // service to the schema: a `maxLength` here promised a 400 nobody gets).
                .description(Some(
                    "An id for this request, echoed back when it is 1 to 128 printable ASCII characters without spaces; any other value is replaced by a generated UUID (the request is not refused).",
                ))
                .schema(Some(
                    utoipa::openapi::ObjectBuilder::new().schema_type(Type::String),
                ))
                .build(),
        ),
    );

    for (path, item) in document.paths.paths.iter_mut() {
        let touches_database = path != "/healthz";
        for (method, operation) in [
            ("GET", &mut item.get),
            ("PUT", &mut item.put),
            ("POST", &mut item.post),
            ("DELETE", &mut item.delete),
            ("PATCH", &mut item.patch),
        ] {
            let Some(operation) = operation else {
                continue;
            };
            // A route without a rule is refused by the route-table tests; documented as such.
            let rule = access::access_of(method, path);
            let secured = !matches!(rule, Some(Access::Public));
            describe_access(operation, rule);
            complete_operation(operation, secured, touches_database);
        }
    }
    document_rate_limits(document);
    merge_closed_compositions(document);
}

/// A response type that `#[serde(flatten)]`s a closed input type (`deny_unknown_fields`, so
/// `additionalProperties: false`) comes out as `allOf` of the closed schema and its own
/// fields, which no object satisfies: the closed member refuses the fields the other adds.
/// Such a composition is written as the one closed object it is.
fn merge_closed_compositions(document: &mut Document) {
    use utoipa::openapi::schema::{AdditionalProperties, Schema};
    let Some(components) = document.components.as_mut() else {
        return;
    };
    let is_closed = |object: &Object| {
        matches!(
            object.additional_properties.as_deref(),
            Some(AdditionalProperties::FreeForm(false))
        )
    };
    let closed: std::collections::BTreeMap<String, Object> = components
        .schemas
        .iter()
        .filter_map(|(name, schema)| match schema {
            RefOr::T(Schema::Object(object)) if is_closed(object) => {
                Some((name.clone(), object.clone()))
            }
            _ => None,
        })
        .collect();
    let closed_member = |reference: &Ref| {
        reference
            .ref_location
            .strip_prefix("#/components/schemas/")
            .and_then(|name| closed.get(name))
    };
    for schema in components.schemas.values_mut() {
        let RefOr::T(Schema::AllOf(all_of)) = schema else {
            continue;
        };
        let members: Option<Vec<&Object>> = all_of
            .items
            .iter()
            .map(|item| match item {
                RefOr::Ref(reference) => closed_member(reference),
                RefOr::T(Schema::Object(object)) => Some(object),
                RefOr::T(_) => None,
            })
            .collect();
        let Some(members) = members else {
            continue;
        };
        if !members.iter().any(|member| is_closed(member)) {
            continue;
        }
        let mut merged = Object::with_type(Type::Object);
        for member in members {
            for (name, property) in &member.properties {
                merged.properties.insert(name.clone(), property.clone());
            }
            for name in &member.required {
                if !merged.required.contains(name) {
                    merged.required.push(name.clone());
                }
            }
        }
        merged.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        merged.description = all_of.description.clone();
        *schema = RefOr::T(Schema::Object(merged));
    }
}

/// Every operation but the probes is rate limited: its responses carry `RateLimit-Policy` and
/// `RateLimit`, and it may answer 429 `rate_limited` with `Retry-After`.
fn document_rate_limits(document: &mut Document) {
    let components = document.components.get_or_insert_with(Default::default);
    components.headers.insert(
        RATELIMIT_POLICY.to_owned(),
        header(Type::String, "The rate-limit policies counting this request (IETF draft-ietf-httpapi-ratelimit-headers, a structured-field list): `\"principal\";q=600;w=60, \"account\";q=3000;w=60` for a request with a valid token (each principal, and all principals of an account together), `\"address\";q=120;w=60` for one without (by client address). `q` requests per `w` seconds, refilled continuously; a full budget allows a burst of `q`. Limits are kept per server process."),
    );
    components.headers.insert(
        RATELIMIT.to_owned(),
        header(Type::String, "The policy closest to its limit (fewest requests left, the principal's on a tie) after this request: `\"principal\";r=12;t=7`, `r` requests left now and `t` seconds until the whole quota is available again."),
    );
    let reference = |name: &str| RefOr::Ref(Ref::new(format!("#/components/headers/{name}")));
    for (path, item) in document.paths.paths.iter_mut() {
        if crate::rate_limit::is_exempt(path) {
            continue;
        }
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let responses = &mut operation.responses.responses;
            for response in responses.values_mut() {
                if let RefOr::T(response) = response {
                    for name in [RATELIMIT_POLICY, RATELIMIT] {
                        response.headers.insert(name.to_owned(), reference(name));
                    }
                }
            }
            let mut limited = ResponseBuilder::new()
                .description("Too many requests for the caller's principal, account or (without a valid token) client address (`rate_limited`); nothing was done. Retry after `Retry-After` seconds.")
                .content(
                    PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build();
            for name in [REQUEST_ID, RETRY_AFTER, RATELIMIT_POLICY, RATELIMIT] {
                limited.headers.insert(name.to_owned(), reference(name));
            }
            responses.insert("429".to_owned(), RefOr::T(limited));
        }
    }
}

/// Writes the route's access rule into its description and as `x-access`, so clients and
/// generated SDKs see who may call it.
fn describe_access(operation: &mut Operation, rule: Option<Access>) {
    let Some(rule) = rule else {
        return;
    };
    let (kind, permission, roles) = match rule {
        Access::Public => ("public", None, None),
        Access::AnyPrincipal => ("any_principal", None, None),
        Access::DirectoryUser => ("directory_user", None, None),
        Access::AccountUser => ("account_user", None, Some(Role::ALL.to_vec())),
        Access::Permission(permission) => (
            "permission",
            Some(permission.id()),
            Some(permission.holders().to_vec()),
        ),
        Access::Operator => ("operator", None, None),
    };
    let mut value = serde_json::json!({ "kind": kind });
    if let Some(permission) = permission {
        value["permission"] = permission.into();
    }
    if let Some(roles) = roles {
        value["roles"] = roles
            .iter()
            .map(|role| role.id())
            .collect::<Vec<_>>()
            .into();
    }
    operation
        .extensions
        .get_or_insert_with(Default::default)
        .merge(ExtensionsBuilder::new().add("x-access", value).build());
    let text = format!("**Access:** {}", access::describe(rule));
    operation.description = Some(match operation.description.take() {
        Some(description) if !description.is_empty() => format!("{description}\n\n{text}"),
        _ => text,
    });
}

fn header(schema_type: Type, description: &str) -> RefOr<utoipa::openapi::header::Header> {
    RefOr::T(
        HeaderBuilder::new()
            .schema(Some(Object::with_type(schema_type)))
            .description(Some(description))
            .build(),
    )
}

fn complete_operation(operation: &mut Operation, secured: bool, touches_database: bool) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    for parameter in parameters.iter_mut() {
        let RefOr::T(parameter) = parameter else {
            continue;
        };
        // An optional header is absent, never `null`: `Option<String>` must not read as nullable.
        if parameter.parameter_in == ParameterIn::Header && parameter.required == Required::False {
            parameter.schema = Some(Object::with_type(Type::String).into());
        }
        // Required (purchases, redemptions) or not, a key has one shape.
        if parameter.parameter_in == ParameterIn::Header && parameter.name == IDEMPOTENCY_KEY {
            parameter.schema = Some(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(crate::extract::idempotency::MAX_KEY_LENGTH))
                    // Printable ASCII; HTTP strips spaces around a header value, so a key
                    // starts and ends with a visible character.
                    .pattern(Some("^[!-~]([ -~]*[!-~])?$"))
                    .into(),
            );
        }
    }
    let has_parameters = !parameters.is_empty();
    let idempotent = parameters
        .iter()
        .any(|p| matches!(p, RefOr::T(p) if p.name == IDEMPOTENCY_KEY));
    parameters.push(RefOr::Ref(Ref::new(format!(
        "#/components/parameters/{REQUEST_ID}"
    ))));
    let has_body = operation.request_body.is_some();
    let json_body = operation.request_body.as_ref().is_some_and(
        |body| matches!(body, RefOr::T(body) if body.content.contains_key("application/json")),
    );

    if secured {
        operation.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
    }
    let mut shared: Vec<(&str, &str)> = vec![(
        "500",
        "An unexpected error (`internal_error`); the request id identifies it in the server log.",
    )];
    if touches_database {
        shared.push(("503", "The database is momentarily unavailable (`service_unavailable`); retry after `Retry-After` seconds."));
    }
    if secured {
        shared.push((
            "401",
            "No valid bearer token (`missing_token`, `invalid_token`).",
        ));
    }
    if has_parameters || has_body {
        shared.push(("400", "The request is malformed or invalid (`malformed_json`, `validation_failed`, `invalid_path_parameter`, `invalid_query_parameter`, `invalid_cursor`, `invalid_idempotency_key`); field errors are listed in `errors`."));
    }
    if idempotent {
        // A key once used for another request (another body, path or method) is refused.
        shared.push((
            "422",
            "The `Idempotency-Key` was used with a different request (`idempotency_key_reused`).",
        ));
    }
    if json_body {
        shared.push(("413", "The body exceeds 64 KiB (`payload_too_large`)."));
        shared.push((
            "415",
            "The body is not `application/json` (`unsupported_media_type`).",
        ));
    }
    let responses = &mut operation.responses.responses;
    for (status, description) in shared {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(ResponseBuilder::new().description(description).build()));
    }

    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        response.headers.insert(
            REQUEST_ID.to_owned(),
            RefOr::Ref(Ref::new(format!("#/components/headers/{REQUEST_ID}"))),
        );
        let is_error = status.starts_with('4') || status.starts_with('5');
        if is_error && response.content.is_empty() {
            response.content.insert(
                PROBLEM_JSON.to_owned(),
                RefOr::T(
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                ),
            );
        }
        let replayable = status.starts_with('2') || status == "409";
        if idempotent && replayable {
            response.headers.insert(
                REPLAYED.to_owned(),
                RefOr::Ref(Ref::new(format!("#/components/headers/{REPLAYED}"))),
            );
        }
        // 503, and `idempotency_key_in_use`, tell the client when to come back.
        if status == "503" || (idempotent && status == "409") {
            response.headers.insert(
                RETRY_AFTER.to_owned(),
                RefOr::Ref(Ref::new(format!("#/components/headers/{RETRY_AFTER}"))),
            );
        }
    }
}
