//! What eligibility, enrollment, applications and scores share: gathering the facts about an
//! account at its now, and turning the domain's answers into responses and refusals.

use chrono::{DateTime, Utc};
use domain::FieldError;
use domain::access::Permission;
use domain::action_center::membership_activated_item;
use domain::catalog::{Program, Rules, Scoring};
use domain::eligibility::{self, Eligibility, Facts, Held, ScoreOutlook};
use domain::ids::OrderId;
use domain::membership::{Source, Term};
use domain::principal::Principal;
use domain::scoring::{
    self, CustomerRevenue, Deployment, Evidence, HeldCredential, Score, UsageGrowth,
};
use persistence::DbConnection;
use persistence::repos::accounts::{self, Account};
use persistence::repos::action_center::{self, Target};
use persistence::repos::memberships::{self, MembershipRecord};
use persistence::repos::offers;
use persistence::repos::performance::{self, Measure};
use persistence::repos::programs::{self, ProgramCache, StoredProgram};
use persistence::repos::skilling;
use persistence::tenant::{AccountScope, Membership};
use serde_json::json;
use std::sync::Arc;

use crate::audit;
use crate::billing;
use crate::db::unbounded;
use crate::dto::membership::EligibilityCheck;
use crate::error::{ApiError, ErrorCode};

/// The facts about an account at its now, read once per request.
pub struct Context {
    pub now: DateTime<Utc>,
    pub account: Account,
    pub memberships: Vec<MembershipRecord>,
    pub programs: Arc<Vec<StoredProgram>>,
    allowed: Vec<String>,
    published_offer: bool,
    /// Set by orders: the question is about renewing, not joining.
    pub renewal: bool,
    /// Set by orders: the deadline of an unpaid order for the program.
    pub open_order_until: Option<DateTime<Utc>>,
}

impl Context {
    /// Reads the account's facts; `now` is the account's now.
    pub fn load(
        conn: &mut DbConnection,
        catalog_cache: &ProgramCache,
        scope: &AccountScope,
        now: DateTime<Utc>,
    ) -> Result<Self, ApiError> {
        Ok(Context {
            now,
            account: accounts::get(conn, scope)?,
            memberships: memberships::all(conn, scope)?,
            programs: programs::all_shared(conn, catalog_cache)?,
            allowed: programs::allowed_programs(conn, scope)?,
            published_offer: offers::has_published_transactable(conn, scope)?,
            renewal: false,
            open_order_until: None,
        })
    }

    pub fn program(&self, id: &str) -> Result<&Program, ApiError> {
        self.programs
            .iter()
            .map(|stored| &stored.program)
            .find(|program| program.id == id)
            .ok_or_else(program_not_found)
    }

    fn held(&self, rules: &Rules, now: DateTime<Utc>) -> Vec<Held> {
        self.memberships
            .iter()
            .map(|membership| {
                let program = self
                    .programs
                    .iter()
                    .find(|stored| stored.program.id == membership.program_id);
                Held {
                    program_id: membership.program_id.clone(),
                    exclusive_group: program.and_then(|p| p.program.exclusive_group.clone()),
                    status: membership.status(rules.renewal_window_days, now),
                    ends_at: membership
                        .term()
                        .and_then(|term| term.expires_at(rules.renewal_window_days)),
                    renewal_opens_at: membership.term().and_then(|term| {
                        term.renewal_window(rules.renewal_window_days)
                            .map(|window| window.starts_at)
                    }),
                }
            })
            .collect()
    }

    /// Every check of `program` for a caller holding `roles`.
    pub fn evaluate(
        &self,
        conn: &mut DbConnection,
        scope: &AccountScope,
        program: &Program,
        roles: &[domain::role::Role],
        benefit_pack: Option<&str>,
        rules: &Rules,
    ) -> Result<Eligibility, ApiError> {
        let evidence = unbounded(evidence_within(conn, scope, program, None)?)?;
        Ok(self.evaluate_at(
            self.now,
            program,
            roles,
            benefit_pack,
            rules,
            evidence.as_ref(),
        ))
    }

    /// Every check of `program` at `now` from these facts and the `evidence` of its score
    /// ([`evidence_within`]); reads nothing, so facts read earlier can be evaluated again at a
    /// later now.
    pub fn evaluate_at(
        &self,
        now: DateTime<Utc>,
        program: &Program,
        roles: &[domain::role::Role],
        benefit_pack: Option<&str>,
        rules: &Rules,
        evidence: Option<&Evidence>,
    ) -> Eligibility {
        let score = program
            .scoring
            .as_ref()
            .zip(evidence)
            .map(|(scoring, evidence)| {
                let score = scoring::score(scoring, evidence, now);
                ScoreOutlook {
                    total: score.total,
                    qualifying_total: scoring.qualifying_total,
                    qualified: score.qualified,
                    qualifies_from: scoring::qualifies_from(scoring, evidence, now),
                }
            });
        let held = self.held(rules, now);
        let facts = Facts {
            now,
            verification: self.account.verification_status,
            caller_may_enroll: Permission::MembershipManage.held_by(roles),
            memberships: &held,
            allow_listed: self.allowed.contains(&program.id),
            published_transactable_offer: self.published_offer,
            score,
            benefit_pack,
            renewal: self.renewal,
            open_order_until: self.open_order_until,
        };
        eligibility::evaluate(program, &facts)
    }
}

/// What an eligibility check reads: the caller's standing, the account's facts and the evidence
/// of the program's score. [`Context::evaluate_at`] answers from them at any now, so they can be
/// kept while the database does not change ([`crate::views`]).
pub struct EligibilityInputs {
    pub membership: Membership,
    pub context: Context,
    pub evidence: Option<Evidence>,
}

impl EligibilityInputs {
    /// The credits and linked records among them, the part that grows with the account.
    pub fn evidence_rows(&self) -> usize {
        self.evidence.as_ref().map_or(0, |evidence| {
            evidence.revenue.len()
                + evidence.usage_growth.len()
                + evidence.deployments.len()
                + evidence.credentials.len()
        })
    }
}

/// What `program`'s score is computed from (`Some(None)` for a program without one), from at
/// most `at_most` credits and records together; `None` when there are more.
pub fn evidence_within(
    conn: &mut DbConnection,
    scope: &AccountScope,
    program: &Program,
    at_most: Option<usize>,
) -> Result<Option<Option<Evidence>>, ApiError> {
    match &program.scoring {
        Some(scoring) => Ok(area_evidence_within(conn, scope, scoring, at_most)?.map(Some)),
        None => Ok(Some(None)),
    }
}

pub fn program_not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "No program of the catalog has this id.",
    )
}

/// The 409 refusing an enrollment, with every check.
pub fn not_eligible(evaluated: &Eligibility) -> ApiError {
    let failed: Vec<&str> = evaluated.failed().map(|check| check.code.id()).collect();
    ApiError::new(
        ErrorCode::NotEligible,
        format!(
            "The account may not join {} now; failed checks: {}.",
            evaluated.program_id,
            failed.join(", ")
        ),
    )
    .with_checks(
        evaluated
            .checks
            .iter()
            .map(EligibilityCheck::from)
            .collect(),
    )
}

/// An area's score at a moment and, when not qualified, when time alone makes it qualify.
pub type ScoreAndOutlook = (Score, Option<DateTime<Utc>>);

/// The area's score at `now` and, when not qualified, when time alone makes it qualify.
pub fn area_score(
    conn: &mut DbConnection,
    scope: &AccountScope,
    scoring: &Scoring,
    now: DateTime<Utc>,
) -> Result<ScoreAndOutlook, ApiError> {
    let evidence = area_evidence(conn, scope, scoring)?;
    Ok((
        scoring::score(scoring, &evidence, now),
        scoring::qualifies_from(scoring, &evidence, now),
    ))
}

/// What counts towards the area's score: the records of customers linked now, and the credits
/// of the area's credentials.
pub fn area_evidence(
    conn: &mut DbConnection,
    scope: &AccountScope,
    scoring: &Scoring,
) -> Result<Evidence, ApiError> {
    unbounded(area_evidence_within(conn, scope, scoring, None)?)
}

/// [`area_evidence`] when there are at most `at_most` records and credits together, else `None`.
fn area_evidence_within(
    conn: &mut DbConnection,
    scope: &AccountScope,
    scoring: &Scoring,
    at_most: Option<usize>,
) -> Result<Option<Evidence>, ApiError> {
    let records = performance::linked_records(conn, scope, &scoring.area, at_most)?;
    let left = match at_most {
        Some(at_most) if records.len() > at_most => return Ok(None),
        Some(at_most) => Some(at_most - records.len()),
        None => None,
    };
    let credits = skilling::credits_for(conn, scope, &scoring.skilling.credentials, left)?;
    if left.is_some_and(|left| credits.len() > left) {
        return Ok(None);
    }
    let mut evidence = Evidence::default();
    for record in records {
        let customer = record.customer_tenant_id;
        let occurred_at = record.occurred_at;
        match record.measure {
            Measure::Revenue { amount_minor, .. } => evidence.revenue.push(CustomerRevenue {
                customer,
                monthly_revenue_minor: amount_minor,
                occurred_at,
            }),
            Measure::UsageGrowth { percent } => evidence.usage_growth.push(UsageGrowth {
                customer,
                percent,
                occurred_at,
            }),
            Measure::Deployment { workload } => evidence.deployments.push(Deployment {
                customer,
                workload,
                occurred_at,
            }),
        }
    }
    evidence.credentials = credits
        .into_iter()
        .map(|credit| HeldCredential {
            holder: credit.learn_id,
            credential: credit.credential,
            counts_from: credit.counts_from,
        })
        .collect();
    Ok(Some(evidence))
}

/// How a membership comes about.
pub struct Activation<'a> {
    pub source: Source,
    pub benefit_pack: Option<&'a str>,
    pub term: Term,
    /// The order whose payment activates it.
    pub order: Option<OrderId>,
    /// Recorded in the audit record with the rest.
    pub details: serde_json::Value,
}

/// Activates a membership for the program's term from `now` and records it.
#[allow(clippy::too_many_arguments)]
pub fn activate(
    conn: &mut DbConnection,
    scope: &AccountScope,
    principal: &Principal,
    program: &Program,
    source: Source,
    benefit_pack: Option<&str>,
    now: DateTime<Utc>,
    details: serde_json::Value,
    rules: &Rules,
) -> Result<MembershipRecord, ApiError> {
    let activation = Activation {
        source,
        benefit_pack,
        term: Term::new(now, program.term_days, program.renewable),
        order: None,
        details,
    };
    activate_with(
        conn,
        scope,
        principal,
        program,
        activation,
        now,
        rules.renewal_window_days,
    )
}

/// Activates a membership with its term, grants its benefits for the term and records it:
/// Action Center notification and audit record.
pub fn activate_with(
    conn: &mut DbConnection,
    scope: &AccountScope,
    principal: &Principal,
    program: &Program,
    activation: Activation<'_>,
    now: DateTime<Utc>,
    window_days: u32,
) -> Result<MembershipRecord, ApiError> {
    let Activation {
        source,
        benefit_pack,
        term,
        order,
        details,
    } = activation;
    let membership =
        memberships::activate_for_term(conn, scope, program, source, benefit_pack, term)?;
    billing::grant_benefits(
        conn,
        scope,
        program,
        &membership,
        order,
        term.expires_at(window_days),
        now,
    )?;
    let target = membership.id.to_string();
    action_center::raise(
        conn,
        scope,
        &membership_activated_item(&program.name, membership.anniversary_at),
        Some(Target {
            kind: "membership",
            id: &target,
        }),
        now,
    )?;
    let mut recorded = json!({
        "program_id": program.id,
        "source": source.id(),
        "benefit_pack": benefit_pack,
        "anniversary_at": membership.anniversary_at,
    });
    if let (Some(into), Some(extra)) = (recorded.as_object_mut(), details.as_object()) {
        into.extend(extra.clone());
    }
    audit::record(
        conn,
        scope,
        principal,
        "membership.activated",
        ("membership", target.clone()),
        recorded,
        now,
    )?;
    Ok(membership)
}

/// A program with benefit packs needs one chosen; one without refuses a pack.
pub fn check_pack(program: &Program, pack: Option<&str>) -> Result<(), ApiError> {
    match (program.benefit_packs.is_empty(), pack) {
        (false, None) => Err(ApiError::validation([FieldError::new(
            "benefit_pack",
            "required",
            format!(
                "{} offers benefit packs ({}): choose one",
                program.id,
                program
                    .benefit_packs
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )])),
        (true, Some(_)) => Err(ApiError::validation([FieldError::new(
            "benefit_pack",
            "not_allowed",
            format!("{} has no benefit packs", program.id),
        )])),
        _ => Ok(()),
    }
}
