//! Search (DESIGN §8) and the help topics it finds.

use actix_web::{HttpRequest, HttpResponse, get, web};
use domain::access::Permission;
use domain::search::{QueryRefusal, SearchType, query_words};
use domain::workspace::reaches;
use persistence::repos::search::{self as index, Hit, Visibility};

use crate::access;
use crate::auth::Authenticated;
use crate::clock;
use crate::db;
use crate::dto::search::{HelpTopic, SearchQuery, SearchResult, SearchResults};
use crate::error::{ApiError, ErrorCode, ProblemFieldError};
use crate::extract::pagination::{page_of, page_request_keyed, page_response};
use crate::handlers::{me, support};
use crate::state::AppState;

fn invalid(field: &str, code: &str, message: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidQueryParameter,
        format!("{field}: {message}."),
    )
    .with_field_errors(vec![ProblemFieldError {
        field: field.to_owned(),
        code: code.to_owned(),
        message: message.to_owned(),
    }])
}

/// The query's words, or the 400 that says why there are none to search.
fn words_of(q: Option<&str>) -> Result<Vec<String>, ApiError> {
    let Some(q) = q else {
        return Err(invalid("q", "required", "say what to search for"));
    };
    query_words(q).map_err(|refusal| match refusal {
        QueryRefusal::Length => invalid(
            "q",
            "out_of_range",
            &format!(
                "must be 1 to {} characters after trimming",
                domain::search::MAX_QUERY_CHARS
            ),
        ),
        QueryRefusal::NoTerms => invalid("q", "no_terms", "has no letter or digit to search for"),
        QueryRefusal::TooManyWords => invalid(
            "q",
            "too_many_words",
            &format!("at most {} distinct words", domain::search::MAX_QUERY_WORDS),
        ),
    })
}

/// The types asked for (all when absent), each once.
fn types_of(types: Option<&str>) -> Result<Vec<SearchType>, ApiError> {
    let Some(types) = types else {
        return Ok(SearchType::ALL.to_vec());
    };
    let mut asked = Vec::new();
    for name in types.split(',').map(str::trim) {
        let kind = SearchType::parse(name).ok_or_else(|| {
            let known: Vec<&str> = SearchType::ALL.iter().map(|kind| kind.id()).collect();
            invalid(
                "types",
                "unknown_type",
                &format!("{name:?} is not one of {}", known.join(", ")),
            )
        })?;
        if !asked.contains(&kind) {
            asked.push(kind);
        }
    }
    Ok(asked)
}

/// `{10-digit inverted score}:{type ordinal}:{id}`: sorts as the results do (score
/// descending, then type, then id), so a page is "the next keys after the cursor".
fn result_key(hit: &Hit) -> String {
    format!(
        "{:010}:{}:{}",
        u32::MAX - hit.score,
        hit.kind.ordinal(),
        hit.id
    )
}

fn is_result_key(key: &str) -> bool {
    let mut parts = key.splitn(3, ':');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(score), Some(ordinal), Some(id))
            if score.len() == 10
                && score.bytes().all(|b| b.is_ascii_digit())
                && ordinal.parse::<usize>().is_ok_and(|o| o < SearchType::ALL.len())
                && !id.is_empty()
                && id.len() <= 64
    )
}

fn path_of(kind: SearchType, id: &str) -> String {
    match kind {
        SearchType::Workspace => "/v1/me/access".to_owned(),
        SearchType::Program => format!("/v1/programs/{id}"),
        SearchType::HelpTopic => format!("/v1/help-topics/{id}"),
        SearchType::User => format!("/v1/users/{id}"),
        SearchType::Invoice => format!("/v1/invoices/{id}"),
        SearchType::SupportRequest => format!("/v1/support/requests/{id}"),
        SearchType::Order => format!("/v1/orders/{id}"),
    }
}

/// Search.
///
/// Finds workspaces, programs, help topics and the caller's own account's users, invoices
/// and credit notes, support requests and orders: only what the caller may see. Users need
/// `users.read`; invoices and orders `billing.read`; support requests are the caller's own
/// unless they are a global or account admin (as `GET /v1/support/requests`); workspaces are
/// those the account has and the caller's roles reach (as `GET /v1/me/access` shows with
/// `has_access`); programs are the catalog (as `GET /v1/programs`); help topics are for
/// everyone. Never another account's objects.
///
/// Every word of `q` must match a word of the object. Matching is case- and
/// accent-insensitive; a word of 3 to 7 letters also matches words one edit away
/// (insertion, deletion, substitution or swap of two adjacent letters: `Jhon` finds `John`),
/// a word of 8 or more two edits away (`Katharine` finds `Katherine`); words of 1 or 2
/// letters match exactly. The last word also matches the beginning of a word (`Kath`).
/// Ranking: per word, an exact match beats a prefix, a prefix beats a typo, and a match in
/// the title counts double one in the body; equal scores are ordered by type, then id, so
/// pages are stable. At most the 1,000 best candidates (by the database's full-text rank) are
/// ranked; narrow a broader query.
#[utoipa::path(
    tag = "Search",
    operation_id = "search",
    params(SearchQuery),
    responses(
        (status = 200, description = "One page of results, best first.", body = SearchResults, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
        (status = 400, description = "`invalid_query_parameter`: `q` missing, empty, longer than 200 characters, without letters or digits, or of more than 10 words; an unknown type in `types`; `limit` out of range; or `invalid_cursor`."),
        (status = 403, description = "`principal_not_allowed` (apps and operators) or `not_a_member`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/search")]
pub async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let query = query.into_inner();
    let words = words_of(query.q.as_deref())?;
    let asked = types_of(query.types.as_deref())?;
    let page = page_request_keyed(query.limit, query.cursor.as_deref(), is_result_key)?;
    let window = state.rules.renewal_window_days;
    let wall = clock::now();
    let hits = db::read(&state, move |conn| {
        let (membership, user) = access::account_user(conn, &principal)?;
        let roles = &membership.roles;
        let allowed = |kind: &SearchType| match kind {
            SearchType::Workspace | SearchType::Program | SearchType::HelpTopic => true,
            SearchType::SupportRequest => true,
            SearchType::User => Permission::UsersRead.held_by(roles),
            SearchType::Invoice | SearchType::Order => Permission::BillingRead.held_by(roles),
        };
        let types: Vec<SearchType> = asked.into_iter().filter(allowed).collect();
        let workspaces = if types.contains(&SearchType::Workspace) {
            me::account_workspaces(conn, &membership, window, wall)?
                .into_iter()
                .filter(|workspace| reaches(roles, *workspace))
                .map(|workspace| workspace.id())
                .collect()
        } else {
            Vec::new()
        };
        let visibility = Visibility {
            types,
            workspaces,
            requests_of: support::visible_creator(&membership, user),
        };
        Ok(index::find(conn, &membership.scope, &words, &visibility)?)
    })
    .await?;
    let page = page_of(hits, &page, result_key);
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| SearchResults {
            items: page
                .items
                .into_iter()
                .map(|hit| SearchResult {
                    kind: hit.kind.into(),
                    path: path_of(hit.kind, &hit.id),
                    id: hit.id,
                    title: hit.title,
                    summary: hit.summary,
                    score: hit.score,
                    matched: hit.matched,
                })
                .collect(),
            next_cursor,
        },
    ))
}

/// Read a help topic.
///
/// A Partner Center help topic of the catalog shipped with the service (search finds them).
#[utoipa::path(
    tag = "Search",
    operation_id = "get_help_topic",
    params(("topic_id" = String, Path, max_length = 64, description = "The topic's id.")),
    responses(
        (status = 200, description = "The topic.", body = HelpTopic),
        (status = 404, description = "No topic has this id (`not_found`)."),
    ),
)]
#[get("/v1/help-topics/{topic_id}")]
pub async fn get_help_topic(
    state: web::Data<AppState>,
    _caller: Authenticated,
    topic_id: web::Path<String>,
) -> Result<web::Json<HelpTopic>, ApiError> {
    state
        .help
        .get(&topic_id)
        .map(|topic| web::Json(topic.into()))
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "No help topic has this id."))
}
