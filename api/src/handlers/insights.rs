//! The Insights workspace's membership view (JSON) and its CSV export.

use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use domain::FieldError;
use domain::access::Permission;
use domain::catalog::Rules;
use domain::insights::{self, BenefitFacts};
use domain::principal::Principal;
use persistence::DbConnection;
use persistence::repos::{benefits, memberships, programs, skilling};

use crate::access;
use crate::auth::Authenticated;
use crate::clock;
use crate::csv;
use crate::db;
use crate::dto::insights::{
    AreaScoreHistory, BenefitUsage, CSV_COLUMNS, ExportQuery, MembershipInsights, MembershipRenewal,
};
use crate::enrollment::area_evidence;
use crate::error::ApiError;
use crate::handlers::benefits::with_status;
use crate::state::AppState;

/// Month-ends in a score history (the current month is the `now` point).
const HISTORY_MONTHS: u32 = 12;

/// Everything the view shows, at the account's now (read once).
fn gather(
    conn: &mut DbConnection,
    principal: &Principal,
    rules: &Rules,
    wall: DateTime<Utc>,
) -> Result<MembershipInsights, ApiError> {
    let membership = access::authorize(conn, principal, Permission::MembershipRead)?;
    let scope = &membership.scope;
    let now = membership.now(wall);
    let catalog = programs::all(conn)?;
    let mut capability_scores = Vec::new();
    for stored in &catalog {
        let Some(scoring) = &stored.program.scoring else {
            continue;
        };
        let evidence = area_evidence(conn, scope, scoring)?;
        let history = insights::score_history(scoring, &evidence, now, HISTORY_MONTHS);
        capability_scores.push(AreaScoreHistory::new(&stored.program, scoring, &history));
    }
    let skilling = skilling::credit_summary(conn, scope, now)?.into();
    let window = rules.renewal_window_days;
    let memberships = memberships::all(conn, scope)?
        .iter()
        .map(|record| {
            // Every membership's program is in the catalog; its id would stand in otherwise.
            let name = catalog
                .iter()
                .find(|stored| stored.program.id == record.program_id)
                .map_or(record.program_id.as_str(), |stored| {
                    stored.program.name.as_str()
                });
            MembershipRenewal::new(record, name, window, now)
        })
        .collect();
    let granted = benefits::all(conn, scope)?;
    let facts: Vec<BenefitFacts> = with_status(conn, scope, granted, window, now)?
        .iter()
        .map(|(benefit, status)| BenefitFacts {
            kind: benefit.kind,
            status: *status,
            key_revealed: benefit.key_revealed_at.is_some(),
            reassignments: benefit.reassignments,
        })
        .collect();
    let benefit_usage = insights::benefit_usage(&facts, rules.max_credit_reassignments)
        .iter()
        .map(BenefitUsage::from)
        .collect();
    Ok(MembershipInsights {
        as_of: now,
        capability_scores,
        skilling,
        memberships,
        benefit_usage,
    })
}

async fn load(state: &AppState, caller: Authenticated) -> Result<MembershipInsights, ApiError> {
    let principal = caller.0;
    let rules = state.rules.clone();
    let wall = clock::now();
    db::run(state, move |conn| gather(conn, &principal, &rules, wall)).await
}

/// Membership insights.
///
/// The account's membership at a glance, at its now (a sandbox's clock): the Solutions
/// Partner capability score of every area at each of the last 12 month-ends (the last
/// microsecond of the month, UTC) and now, recomputed by the scoring rules from the evidence
/// known now (records of customers linked now, credits of linked profiles); skilling
/// completions counted and pending, with when the next one counts; every membership with its
/// anniversary, renewal window and status; and per benefit kind, how many were granted, are
/// available, activated or ended, how many product keys were revealed and how many times Azure
/// credits changed hands out of the most allowed.
#[utoipa::path(
    tag = "Insights",
    operation_id = "get_membership_insights",
    responses(
        (status = 200, description = "The insights.", body = MembershipInsights),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/insights/membership")]
pub async fn get_membership_insights(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<web::Json<MembershipInsights>, ApiError> {
    Ok(web::Json(load(&state, caller).await?))
}

/// Export membership insights.
///
/// The data of `GET /v1/insights/membership` as a CSV file (RFC 4180: a header row, CRLF line
/// ends, fields with a comma, quote or line break quoted, quotes doubled; UTF-8). One fact per
/// row, in the columns `section,subject,subject_name,period,as_of,metric,value`:
///
/// - `capability_score`: `subject` the program id, `subject_name` its name, `period` `YYYY-MM`
///   (that month's end) or `now`, `as_of` the instant, `metric` one of `performance`,
///   `skilling`, `customer_success`, `total`, `qualified` (`true`/`false`).
/// - `skilling`: `metric` `counted`, `pending` or `next_counts_from` (an instant, empty when
///   nothing is pending).
/// - `membership`: `subject` the membership id, `subject_name` the program's name, `metric`
///   `program_id`, `status`, `activated_at`, `anniversary_at`, `renewal_window_starts_at`,
///   `renewal_window_ends_at`, `expires_at` (instants, empty when absent) or `renewable`.
/// - `benefit_usage`: `subject` the benefit kind, `metric` `granted`, `available`,
///   `activated`, `ended`, `keys_revealed`, `reassignments_used` or `reassignments_max` (empty
///   for kinds that cannot change hands).
///
/// Rows other than `capability_score` have `period` `now` and `as_of` the account's now.
/// Instants are RFC 3339 UTC. A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
/// return is prefixed with `'` so spreadsheets do not run it as a formula.
#[utoipa::path(
    tag = "Insights",
    operation_id = "export_insights",
    params(ExportQuery),
    responses(
        (status = 200, description = "The CSV file.", content((String = "text/csv")), headers(
            ("Content-Disposition" = String, description = "`attachment; filename=\"membership-insights-<YYYY-MM-DD>.csv\"` (the account's date)."),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "The caller's directory has no partner account (`account_not_found`)."),
    ),
)]
#[get("/v1/insights/export")]
pub async fn export_insights(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    if let Some(format) = query.into_inner().format.filter(|f| f != "csv") {
        return Err(ApiError::validation([FieldError::new(
            "format",
            "unsupported_format",
            format!("{format:?} is not an export format; the only one is csv"),
        )]));
    }
    let insights = load(&state, caller).await?;
    let body = csv::document(CSV_COLUMNS, &insights.csv_rows());
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"membership-insights-{}.csv\"",
                insights.as_of.format("%Y-%m-%d")
            ),
        ))
        .body(body))
}
