//! The program catalog, pricing, operator edits and allow-lists, and eligibility.

use actix_web::http::StatusCode;
use actix_web::http::header::ETAG;
use actix_web::{HttpRequest, HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use domain::access::Permission;
use domain::ids::AccountId;
use domain::principal::Principal;
use persistence::DbConnection;
use persistence::connection::write_transaction;
use persistence::repos::programs::{self, ProgramCache, Saved, StoredProgram};
use persistence::tenant::Membership;

use crate::access;
use crate::auth::Authenticated;
use crate::clock;
use crate::db;
use crate::dto::membership::{Eligibility, EligibilityList, EligibilityQuery};
use crate::dto::program::{
    AllowList, AllowListEntry, AllowListInput, Price, PriceList, Program, ProgramDefinition,
    ProgramList, ProgramQuery, Track,
};
use crate::enrollment::{Context, EligibilityInputs, evidence_within, program_not_found};
use crate::error::{ApiError, ErrorCode};
use crate::extract::etag::{IfMatch, changed_meanwhile, conditional_read, etag};
use crate::extract::json::JsonBody;
use crate::extract::pagination::{page_of, page_request_keyed, page_response};
use crate::state::AppState;
use domain::FieldError;
use std::sync::Arc;

fn program_etag(stored: &StoredProgram) -> String {
    etag(&format!("program:{}", stored.program.id), stored.version)
}

fn is_program_id(key: &str) -> bool {
    !key.is_empty() && key.len() <= 64
}

/// The catalog's programs, by id, of `track` when given.
async fn catalog(state: &AppState, track: Option<Track>) -> Result<Vec<Program>, ApiError> {
    let stored = db::run(state, |conn| Ok(programs::all(conn)?)).await?;
    let mut items = Vec::new();
    for stored in &stored {
        let program = Program::try_from(stored)?;
        if track.is_none_or(|track| program.definition.track == track) {
            items.push(program);
        }
    }
    Ok(items)
}

/// List the program catalog.
///
/// Every program with its fee, term, availability, sales window, prerequisites, benefits and
/// scoring rules, by id. Filter by `track`.
#[utoipa::path(
    tag = "Programs",
    operation_id = "list_programs",
    params(ProgramQuery),
    responses(
        (status = 200, description = "One page of programs.", body = ProgramList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
    ),
)]
#[get("/v1/programs")]
pub async fn list_programs(
    req: HttpRequest,
    state: web::Data<AppState>,
    _caller: Authenticated,
    query: web::Query<ProgramQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let page = page_request_keyed(query.limit, query.cursor.as_deref(), is_program_id)?;
    let items = catalog(&state, query.track).await?;
    let page = page_of(items, &page, |program| program.id.clone());
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| ProgramList {
            items: page.items,
            next_cursor,
        },
    ))
}

/// Read a program.
#[utoipa::path(
    tag = "Programs",
    operation_id = "get_program",
    params(("program_id" = String, Path, max_length = 64, description = "The program's id.")),
    responses(
        (status = 200, description = "The program.", body = Program, headers(
            ("ETag" = String, description = "The program's current entity tag (for `If-Match` on the operator's edit)."),
        )),
        (status = 304, description = "The program has not changed since the ETag in `If-None-Match`."),
        (status = 404, description = "No program has this id (`not_found`)."),
    ),
)]
#[get("/v1/programs/{program_id}")]
pub async fn get_program(
    req: HttpRequest,
    state: web::Data<AppState>,
    _caller: Authenticated,
    program_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = program_id.into_inner();
    let stored = db::lookup(&state, move |conn| Ok(programs::get(conn, &id)?))
        .await?
        .ok_or_else(program_not_found)?;
    Ok(conditional_read(
        &req,
        program_etag(&stored),
        &Program::try_from(&stored)?,
    ))
}

/// List prices.
///
/// The fee, term and sales window of every program (the Pricing workspace), by program id.
#[utoipa::path(
    tag = "Programs",
    operation_id = "list_pricing",
    params(ProgramQuery),
    responses(
        (status = 200, description = "One page of prices.", body = PriceList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
    ),
)]
#[get("/v1/pricing")]
pub async fn list_pricing(
    req: HttpRequest,
    state: web::Data<AppState>,
    _caller: Authenticated,
    query: web::Query<ProgramQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let page = page_request_keyed(query.limit, query.cursor.as_deref(), is_program_id)?;
    let items: Vec<Price> = catalog(&state, query.track)
        .await?
        .into_iter()
        .map(|program| {
            let definition = program.definition;
            Price {
                program_id: program.id,
                name: definition.name,
                fee: definition.fee,
                term_days: definition.term_days,
                renewable: definition.renewable,
                enrollment: definition.enrollment,
                availability: definition.availability,
                sales_start: definition.sales_start,
                sales_end: definition.sales_end,
            }
        })
        .collect();
    let page = page_of(items, &page, |price| price.program_id.clone());
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| PriceList {
            items: page.items,
            next_cursor,
        },
    ))
}

/// Create or replace a program.
///
/// Writes the program's whole definition. Replacing an existing program requires `If-Match`
/// with its ETag; creating a new one does not. Prerequisites and benefit packs must name
/// programs of the catalog. Memberships already held keep their dates; the new definition
/// applies to eligibility and to memberships activated from now on. An edited program is
/// no longer refreshed from a newer catalog file.
#[utoipa::path(
    tag = "Operator",
    operation_id = "operator_put_program",
    params(
        ("program_id" = String, Path, max_length = 64, description = "The program's id: lower-case letters, digits and underscores."),
        ("If-Match" = Option<String>, Header, description = "The program's current ETag; required when the program exists."),
    ),
    request_body(content = ProgramDefinition, content_type = "application/json"),
    responses(
        (status = 200, description = "The program was replaced.", body = Program, headers(
            ("ETag" = String, description = "The program's new entity tag."),
        )),
        (status = 201, description = "The program was created.", body = Program, headers(
            ("ETag" = String, description = "The program's entity tag."),
        )),
        (status = 403, description = "The caller is not an operator (`operator_only`)."),
        (status = 412, description = "The program changed since the ETag was read (`precondition_failed`)."),
        (status = 428, description = "The program exists and `If-Match` is missing (`precondition_required`)."),
    ),
)]
#[put("/v1/operator/programs/{program_id}")]
pub async fn put_program(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    program_id: web::Path<String>,
    body: JsonBody<ProgramDefinition>,
) -> Result<HttpResponse, ApiError> {
    let operator = access::operator(&caller.0)?;
    let editor = caller.0.subject().to_owned();
    let id = program_id.into_inner();
    let program = body.value.into_program(&id)?;
    // Needed only to replace an existing program; checked once the program is read.
    let if_match = IfMatch::required(&req).ok();
    let now = clock::now();
    let saved = db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let all = programs::all(conn)?;
            let known: Vec<&str> = all.iter().map(|p| p.program.id.as_str()).collect();
            program
                .validate(&known)
                .map_err(|errors| ApiError::validation(errors.into_vec()))?;
            let current = all.iter().find(|p| p.program.id == id);
            let expected = match (current, &if_match) {
                (None, _) => None,
                (Some(_), None) => {
                    return Err(ApiError::new(
                        ErrorCode::PreconditionRequired,
                        "The program exists: send If-Match with its current ETag to replace it.",
                    ));
                }
                (Some(current), Some(if_match)) => {
                    if_match.check(&program_etag(current))?;
                    Some(current.version)
                }
            };
            match programs::save(conn, &operator, &program, expected, &editor, now)? {
                Saved::Stale => Err(changed_meanwhile("program")),
                saved => Ok(saved),
            }
        })
    })
    .await?;
    let (status, stored) = match saved {
        Saved::Created(stored) => (StatusCode::CREATED, stored),
        Saved::Updated(stored) => (StatusCode::OK, stored),
        Saved::Stale => return Err(changed_meanwhile("program")),
    };
    Ok(HttpResponse::build(status)
        .insert_header((ETAG, program_etag(&stored)))
        .json(Program::try_from(&stored)?))
}

fn allow_list_body(
    program_id: &str,
    entries: Vec<(AccountId, chrono::DateTime<chrono::Utc>)>,
) -> AllowList {
    AllowList {
        program_id: program_id.to_owned(),
        items: entries
            .into_iter()
            .map(|(account_id, added_at)| AllowListEntry {
                account_id: account_id.as_uuid(),
                added_at,
            })
            .collect(),
    }
}

/// Read a program's allow-list.
#[utoipa::path(
    tag = "Operator",
    operation_id = "operator_get_allow_list",
    params(("program_id" = String, Path, max_length = 64, description = "The program's id.")),
    responses(
        (status = 200, description = "The accounts allowed into the program.", body = AllowList),
        (status = 403, description = "The caller is not an operator (`operator_only`)."),
        (status = 404, description = "No program has this id (`not_found`)."),
    ),
)]
#[get("/v1/operator/programs/{program_id}/allow-list")]
pub async fn get_allow_list(
    state: web::Data<AppState>,
    caller: Authenticated,
    program_id: web::Path<String>,
) -> Result<web::Json<AllowList>, ApiError> {
    let operator = access::operator(&caller.0)?;
    let id = program_id.into_inner();
    let entries = db::read(&state, {
        let id = id.clone();
        move |conn| {
            programs::get(conn, &id)?.ok_or_else(program_not_found)?;
            Ok(programs::allow_list(conn, &operator, &id)?)
        }
    })
    .await?;
    Ok(web::Json(allow_list_body(&id, entries)))
}

/// Replace a program's allow-list.
///
/// The accounts allowed into a `preview` program (the `preview_allow_list` check). Every id
/// must name an account; accounts already listed keep their `added_at`.
#[utoipa::path(
    tag = "Operator",
    operation_id = "operator_put_allow_list",
    params(("program_id" = String, Path, max_length = 64, description = "The program's id.")),
    request_body(content = AllowListInput, content_type = "application/json"),
    responses(
        (status = 200, description = "The allow-list as it now is.", body = AllowList),
        (status = 403, description = "The caller is not an operator (`operator_only`)."),
        (status = 404, description = "No program has this id (`not_found`)."),
    ),
)]
#[put("/v1/operator/programs/{program_id}/allow-list")]
pub async fn put_allow_list(
    state: web::Data<AppState>,
    caller: Authenticated,
    program_id: web::Path<String>,
    body: JsonBody<AllowListInput>,
) -> Result<web::Json<AllowList>, ApiError> {
    let operator = access::operator(&caller.0)?;
    let id = program_id.into_inner();
    let mut accounts: Vec<AccountId> = body
        .value
        .account_ids
        .iter()
        .map(|uuid| AccountId::from_uuid(*uuid))
        .collect();
    if accounts.len() > 1000 {
        return Err(ApiError::validation([FieldError::new(
            "account_ids",
            "too_long",
            "at most 1000 accounts",
        )]));
    }
    accounts.sort();
    accounts.dedup();
    let now = clock::now();
    let entries = db::run(&state, {
        let id = id.clone();
        move |conn| {
            write_transaction(conn, |conn| {
                programs::get(conn, &id)?.ok_or_else(program_not_found)?;
                programs::set_allow_list(conn, &operator, &id, &accounts, now)?.map_err(|unknown| {
                    ApiError::validation(unknown.iter().map(|account| {
                        FieldError::new(
                            "account_ids",
                            "unknown_account",
                            format!("no account has the id {account}"),
                        )
                    }))
                })
            })
        }
    })
    .await?;
    Ok(web::Json(allow_list_body(&id, entries)))
}

/// The caller's membership (with the right to read eligibility) and the account's facts at the
/// account's now, which both eligibility answers are evaluated on.
fn eligibility_context(
    conn: &mut DbConnection,
    principal: &Principal,
    catalog_cache: &ProgramCache,
    wall: DateTime<Utc>,
) -> Result<(Membership, Context), ApiError> {
    let membership = access::authorize(conn, principal, Permission::MembershipRead)?;
    let context = Context::load(conn, catalog_cache, &membership.scope, membership.now(wall))?;
    Ok((membership, context))
}

/// Check eligibility for a program.
///
/// Whether the account may join the program now, with every check: `code`, `satisfied`,
/// `detail`, and `satisfied_from` where time alone will satisfy it (skilling credit landing,
/// a sales window opening). `POST /v1/memberships` and `POST /v1/program-applications` refuse
/// with the same checks. Evaluated at the account's now (its sandbox clock, for a sandbox).
#[utoipa::path(
    tag = "Membership",
    operation_id = "get_program_eligibility",
    params(
        ("program_id" = String, Path, max_length = 64, description = "The program's id."),
        EligibilityQuery,
    ),
    responses(
        (status = 200, description = "The answer and its checks.", body = Eligibility),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No program has this id (`not_found`), or the caller's directory has no account (`account_not_found`)."),
    ),
)]
#[get("/v1/programs/{program_id}/eligibility")]
pub async fn get_program_eligibility(
    state: web::Data<AppState>,
    caller: Authenticated,
    program_id: web::Path<String>,
    query: web::Query<EligibilityQuery>,
) -> Result<web::Json<Eligibility>, ApiError> {
    let key = (caller.0, program_id.into_inner());
    let pack = query.into_inner().benefit_pack;
    crate::extract::query::at_most("benefit_pack", pack.as_deref(), 64)?;
    // Taken before the read, so a write it does not see retires what it keeps.
    let read_at = state.pool.generation();
    let inputs = match state.views.eligibility.get(&key, read_at) {
        Some(inputs) => inputs,
        None => {
            let inputs = Arc::new(eligibility_inputs(&state, key.clone()).await?);
            if inputs.evidence_rows() <= state.inline_evidence {
                state
                    .views
                    .eligibility
                    .keep(key.clone(), read_at, Arc::clone(&inputs));
            }
            inputs
        }
    };
    let EligibilityInputs {
        membership,
        context,
        evidence,
    } = &*inputs;
    let now = membership.now(clock::now());
    let evaluated = context.evaluate_at(
        now,
        context.program(&key.1)?,
        &membership.roles,
        pack.as_deref(),
        &state.rules,
        evidence.as_ref(),
    );
    Ok(web::Json(Eligibility::new(&evaluated, now)))
}

/// Reads what checking the caller's eligibility for a program takes, on the actix worker while
/// the account's evidence is small ([`db::lookup_bounded`]).
async fn eligibility_inputs(
    state: &AppState,
    (principal, id): (Principal, String),
) -> Result<EligibilityInputs, ApiError> {
    let catalog_cache = state.programs.clone();
    let wall = clock::now();
    db::lookup_bounded(state, state.inline_evidence, move |conn, at_most| {
        let (membership, context) = eligibility_context(conn, &principal, &catalog_cache, wall)?;
        let program = context.program(&id)?;
        let Some(evidence) = evidence_within(conn, &membership.scope, program, at_most)? else {
            return Ok(None);
        };
        Ok(Some(EligibilityInputs {
            membership,
            context,
            evidence,
        }))
    })
    .await
}

/// Check eligibility for every program.
///
/// The answer of `GET /v1/programs/{program_id}/eligibility` for each program of the catalog,
/// by program id.
#[utoipa::path(
    tag = "Membership",
    operation_id = "list_eligibility",
    responses(
        (status = 200, description = "Every program's answer.", body = EligibilityList),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/eligibility")]
pub async fn list_eligibility(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<web::Json<EligibilityList>, ApiError> {
    let principal = caller.0;
    let rules = state.rules.clone();
    let catalog_cache = state.programs.clone();
    let wall = clock::now();
    let items = db::read(&state, move |conn| {
        let (membership, context) = eligibility_context(conn, &principal, &catalog_cache, wall)?;
        let mut items = Vec::new();
        for stored in context.programs.iter() {
            let evaluated = context.evaluate(
                conn,
                &membership.scope,
                &stored.program,
                &membership.roles,
                None,
                &rules,
            )?;
            items.push(Eligibility::new(&evaluated, context.now));
        }
        Ok(items)
    })
    .await?;
    Ok(web::Json(EligibilityList { items }))
}
