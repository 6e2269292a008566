//! `partner-center seed`: a realistic, internally consistent dataset for benchmarks and
//! demos, written through the same repositories and services the handlers use (enrollment,
//! users, verification decisions, Learn-profile links, orders paid through `billing::pay`),
//! with the one bulk exception of skilling completions, which go in multi-row INSERTs.
//!
//! What it builds (see docs/decisions.md, "Issue 7: seed and benchmark"):
//! - `--accounts N` live accounts, each with an owner (global admin) and two to four more
//!   users in assorted roles. About 85% are verified; the rest are pending, action_required
//!   or rejected, with the operator's reason. Account 0 is the "large" account.
//! - `--orders K` orders spread over the verified accounts: each such account bought Action
//!   Pack by card and renewed it once a year since (every renewal paid in its window), and
//!   about one order in eight is a declined card attempt. Paid orders carry their
//!   membership, benefits, invoice, Action Center notification and audit records.
//! - `--completions M` skilling completions for the large account: M credits in its
//!   `GET /v1/skilling` list, from 250 linked Learn profiles. Every other account links one
//!   or two profiles with three completions each, on top of M.
//!
//! Content (names, states, dates, counts) is a function of `--seed`; ids are fresh UUID v7s,
//! as the repositories draw them.

use chrono::{DateTime, Duration, Utc};
use domain::account::{AddressDraft, CompanyProfile, CompanyProfileDraft, PrimaryContactDraft};
use domain::commerce::{OrderKind, OrderStanding, PaymentMethod};
use domain::email::EmailAddress;
use domain::ids::{DirectoryId, OrderId, PartnerId};
use domain::principal::Principal;
use domain::role::Role;
use domain::skilling::CompletionKind;
use persistence::DbConnection;
use persistence::connection::Backend;
use persistence::connection::write_transaction;
use persistence::repos::accounts::{self, NewAccount};
use persistence::repos::orders::{self, Failure, NewOrder};
use persistence::repos::programs;
use persistence::repos::skilling::{self, NewCompletion};
use persistence::repos::users::{self, NewUser};
use persistence::tenant::AccountScope;
use persistence::{DatabaseUrl, DbPool, migrate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use uuid::Uuid;

use crate::audit;
use crate::billing;
use crate::dto::account::{VerificationDecision, VerificationOutcome};
use crate::error::ApiError;
use crate::handlers::verification::apply_decision;

/// What to build.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub accounts: u32,
    pub completions: u64,
    pub orders: u64,
    pub seed: u64,
}

/// An account a benchmark or a test signs in to.
#[derive(Debug, Clone, Serialize)]
pub struct SeededAccount {
    pub account_id: String,
    pub directory_id: String,
    pub partner_id: String,
    pub owner_email: String,
    pub skilling_credits: u64,
    pub orders: u64,
}

/// What the seed wrote, and where a benchmark finds it.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub database: String,
    pub seed: u64,
    pub accounts: u64,
    pub users: u64,
    pub verified_accounts: u64,
    pub skilling_completions: u64,
    pub orders: u64,
    pub paid_orders: u64,
    pub invoices: u64,
    /// Account 0: holds `--completions` skilling credits (the long list).
    pub large_account: SeededAccount,
    /// Account 1 (or 0 when there is one): an ordinary verified account with orders.
    pub typical_account: SeededAccount,
    /// A program whose eligibility evaluates every check, capability score included.
    pub eligibility_program: String,
    pub seconds: f64,
}

/// Learn profiles linked to the large account; its completions are spread over them.
const LARGE_ACCOUNT_PROFILES: u32 = 250;
/// Accounts per transaction while enrolling (and paying their orders).
const ACCOUNTS_PER_TRANSACTION: u32 = 200;
/// Profiles of the large account per transaction (each carries thousands of completions).
const PROFILES_PER_TRANSACTION: usize = 25;
/// The eligibility the benchmark reads: a designation, so the capability score is computed.
pub const ELIGIBILITY_PROGRAM: &str = "solutions_partner_security";
const ACTION_PACK: &str = "action_pack";
/// Connections writing accounts at once on PostgreSQL.
const POSTGRES_WORKERS: usize = 4;

const FIRST_NAMES: &[&str] = &[
    "Ana", "Ben", "Chloé", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kim",
    "Lars", "Maya", "Nils", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera",
    "Wei", "Yara", "Zoë",
];
const LAST_NAMES: &[&str] = &[
    "Andersen",
    "Brown",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Hansen",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Müller",
    "Nowak",
    "Olsen",
    "Petrov",
    "Quintero",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Urban",
    "Varga",
    "Weber",
    "Young",
    "Zimmermann",
];
const NAME_WORDS: &[&str] = &[
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Litware",
    "Adatum",
    "Tailspin",
    "Wingtip",
    "Proseware",
    "Lucerne",
    "Margie",
    "Alpine",
    "Coho",
    "Fourth",
    "Humongous",
    "Trey",
    "Woodgrove",
    "Blue Yonder",
    "Relecloud",
    "Datum",
    "Graphic",
];
const NAME_KINDS: &[&str] = &[
    "Consulting",
    "Systems",
    "Cloud Services",
    "Solutions",
    "Software",
    "Data",
    "Security",
    "Digital",
];
const SUFFIXES: &[&str] = &["Ltd.", "Inc.", "GmbH", "S.A.", "B.V.", "AB", "LLC", "SAS"];
/// (country, city, state or province, postal code)
const PLACES: &[(&str, &str, Option<&str>, &str)] = &[
    ("US", "Redmond", Some("WA"), "98052"),
    ("US", "Austin", Some("TX"), "73301"),
    ("GB", "London", None, "EC1A 1BB"),
    ("DE", "München", Some("Bayern"), "80331"),
    ("FR", "Lyon", None, "69002"),
    ("NL", "Utrecht", None, "3511 AB"),
    ("SE", "Göteborg", None, "411 01"),
    ("ES", "Sevilla", None, "41001"),
    ("CA", "Toronto", Some("ON"), "M5H 2N2"),
    ("AU", "Sydney", Some("NSW"), "2000"),
];
const STREETS: &[&str] = &[
    "Main Street",
    "Harbour Road",
    "Station Square",
    "Park Avenue",
    "Mill Lane",
    "King Street",
];
const OTHER_ROLES: &[Role] = &[
    Role::AccountAdmin,
    Role::BillingAdmin,
    Role::MpnPartnerAdmin,
    Role::ReportViewer,
    Role::IncentivesUser,
    Role::ReferralsUser,
    Role::BusinessProfileAdmin,
    Role::UserManagementAdmin,
];
/// (credential, title, kind): the Security and Azure credentials the scoring rules count,
/// and trainings and assessments that count for nothing but the list.
const COMPLETIONS: &[(&str, &str, CompletionKind)] = &[
    (
        "security_operations_analyst_associate",
        "Microsoft Certified: Security Operations Analyst Associate",
        CompletionKind::Certification,
    ),
    (
        "identity_and_access_administrator_associate",
        "Microsoft Certified: Identity and Access Administrator Associate",
        CompletionKind::Certification,
    ),
    (
        "azure_administrator_associate",
        "Microsoft Certified: Azure Administrator Associate",
        CompletionKind::Certification,
    ),
    (
        "azure_developer_associate",
        "Microsoft Certified: Azure Developer Associate",
        CompletionKind::Certification,
    ),
    (
        "az_900_fundamentals_training",
        "AZ-900: Microsoft Azure Fundamentals learning path",
        CompletionKind::Training,
    ),
    (
        "security_skills_assessment",
        "Security, compliance and identity skills assessment",
        CompletionKind::Assessment,
    ),
];

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Lower-case ASCII for mailboxes and hosts (the names may carry accents).
fn ascii_slug(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            'é' | 'è' | 'ë' => Some('e'),
            'ö' | 'ó' => Some('o'),
            'ü' | 'ú' => Some('u'),
            'í' => Some('i'),
            'á' | 'ä' => Some('a'),
            _ => None,
        })
        .collect()
}

fn wrap<T>(result: Result<T, ApiError>, what: &str) -> Result<T, String> {
    result.map_err(|e| format!("seed: {what}: {e}"))
}

/// One account's plan, drawn before it is written.
struct AccountPlan {
    index: u32,
    verification: VerificationOutcomeOrPending,
    paid_orders: u64,
    declined_orders: u64,
    created_at: DateTime<Utc>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum VerificationOutcomeOrPending {
    Decided(VerificationOutcome),
    Pending,
}

fn plan_accounts(plan: &Plan, rng: &mut StdRng, now: DateTime<Utc>) -> Vec<AccountPlan> {
    let mut accounts: Vec<AccountPlan> = (0..plan.accounts)
        .map(|index| {
            // The large and the typical account are verified; the rest as partners are.
            let verification = if index < 2 {
                VerificationOutcomeOrPending::Decided(VerificationOutcome::Verified)
            } else {
                match rng.random_range(0..100) {
                    0..85 => VerificationOutcomeOrPending::Decided(VerificationOutcome::Verified),
                    85..92 => VerificationOutcomeOrPending::Pending,
                    92..97 => {
                        VerificationOutcomeOrPending::Decided(VerificationOutcome::ActionRequired)
                    }
                    _ => VerificationOutcomeOrPending::Decided(VerificationOutcome::Rejected),
                }
            };
            AccountPlan {
                index,
                verification,
                paid_orders: 0,
                declined_orders: 0,
                created_at: now,
            }
        })
        .collect();
    let verified: Vec<usize> = accounts
        .iter()
        .enumerate()
        .filter(|(_, a)| {
            a.verification == VerificationOutcomeOrPending::Decided(VerificationOutcome::Verified)
        })
        .map(|(i, _)| i)
        .collect();
    let buyers = verified.len() as u64;
    for (rank, &i) in verified.iter().enumerate() {
        let orders = plan.orders / buyers + u64::from((rank as u64) < plan.orders % buyers);
        // About one attempt in eight is a declined card, never the only order.
        let declined = if orders >= 2 { orders / 8 } else { 0 };
        accounts[i].paid_orders = orders - declined;
        accounts[i].declined_orders = declined;
    }
    for account in &mut accounts {
        // Old enough for every renewal: bought 10 days after enrolling, renewed yearly, and
        // the last anniversary between 40 and 300 days ago, so the membership is active now.
        let renewals = account.paid_orders.saturating_sub(1);
        let days = 365 * i64::try_from(renewals).unwrap_or(0) + rng.random_range(40..300) + 10;
        account.created_at =
            now - Duration::days(days) - Duration::seconds(rng.random_range(0..86_400));
    }
    accounts
}

/// Inserts `order` under the account's next order number (the caller holds the account lock).
fn insert_numbered(
    conn: &mut DbConnection,
    scope: &AccountScope,
    order: &NewOrder<'_>,
) -> Result<orders::Order, ApiError> {
    let number = orders::next_number(conn, scope)?;
    Ok(orders::insert(
        conn,
        scope,
        OrderId::generate(),
        number,
        order,
        None,
    )?)
}

/// Builds the dataset on `database_url` (migrations applied first). Refuses a database that
/// already has accounts: a seed is a fresh dataset, not an addition.
pub fn run(database_url: &DatabaseUrl, plan: Plan) -> Result<Summary, String> {
    if plan.accounts == 0 {
        return Err("--accounts must be at least 1".into());
    }
    let started = Instant::now();
    migrate::run_pending(database_url)?;
    let pool = DbPool::build(
        database_url,
        u32::try_from(POSTGRES_WORKERS).unwrap_or(4) + 1,
    )?;
    let catalog = crate::startup::load_catalog(&pool)?;
    let rules = catalog.rules;
    let mut conn = pool
        .get()
        .map_err(|e| format!("seed: cannot connect: {e}"))?;
    let existing = wrap(
        write_transaction(&mut conn, |conn| Ok::<_, ApiError>(accounts::count(conn)?)),
        "counting accounts",
    )?;
    if existing > 0 {
        return Err(format!(
            "seed: {database_url} already has {existing} accounts; seed a fresh database"
        ));
    }
    let action_pack = wrap(
        programs::get(&mut conn, ACTION_PACK)
            .map_err(ApiError::from)
            .and_then(|p| p.ok_or_else(|| ApiError::internal("the catalog lacks action_pack"))),
        "reading the catalog",
    )?
    .program;
    let now = crate::clock::now();
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let operator = Principal::Operator {
        email: EmailAddress::parse("seed.operator@partner-center.example")
            .map_err(|e| format!("seed: operator email: {}", e.message))?,
    };
    let account_plans = plan_accounts(&plan, &mut rng, now);

    let mut summary_accounts: Vec<(SeededAccount, u32)> = Vec::new();
    let mut users_total = 0u64;
    let mut verified_total = 0u64;
    let mut paid_total = 0u64;
    let mut orders_total = 0u64;
    let mut completions_total = 0u64;
    let mut large: Option<(AccountScope, Holders)> = None;
    let phase = Instant::now();
    // PostgreSQL takes writers in parallel and the seed is round-trip bound there, so several
    // connections write account batches at once; SQLite has one writer, so one connection.
    // Each account draws from its own generator, so the content does not depend on which
    // worker wrote it.
    let workers = match database_url.backend() {
        Backend::Sqlite => 1,
        Backend::Postgres => POSTGRES_WORKERS,
    };
    let batches: Vec<&[AccountPlan]> = account_plans
        .chunks(ACCOUNTS_PER_TRANSACTION as usize)
        .collect();
    let written_so_far = AtomicU64::new(0);
    let orders_so_far = AtomicU64::new(0);
    let results: Vec<Result<Vec<WrittenAccount>, String>> = std::thread::scope(|threads| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let (pool, batches, operator, action_pack, rules) =
                    (&pool, &batches, &operator, &action_pack, &rules);
                let (written_so_far, orders_so_far) = (&written_so_far, &orders_so_far);
                threads.spawn(move || -> Result<Vec<WrittenAccount>, String> {
                    let mut conn = pool
                        .get()
                        .map_err(|e| format!("seed: cannot connect: {e}"))?;
                    let mut all = Vec::new();
                    for batch in batches.iter().skip(worker).step_by(workers) {
                        let written = wrap(
                            write_transaction(&mut conn, |conn| {
                                let mut written = Vec::new();
                                for account in batch.iter() {
                                    let mut rng = StdRng::seed_from_u64(
                                        plan.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                                            ^ u64::from(account.index),
                                    );
                                    written.push(seed_account(
                                        conn,
                                        &mut rng,
                                        account,
                                        operator,
                                        action_pack,
                                        rules,
                                        now,
                                    )?);
                                }
                                Ok::<_, ApiError>(written)
                            }),
                            "writing accounts",
                        )?;
                        let accounts = written_so_far
                            .fetch_add(written.len() as u64, Ordering::Relaxed)
                            + written.len() as u64;
                        let orders: u64 = written.iter().map(|w| w.orders).sum();
                        let orders = orders_so_far.fetch_add(orders, Ordering::Relaxed) + orders;
                        eprintln!(
                            "seed: {accounts}/{} accounts, {orders} orders ({:.1}s)",
                            plan.accounts,
                            phase.elapsed().as_secs_f64()
                        );
                        all.extend(written);
                    }
                    Ok(all)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err("seed: a writer panicked".to_owned()))
            })
            .collect()
    });
    for result in results {
        for done in result? {
            users_total += done.users;
            verified_total += u64::from(done.verified);
            paid_total += done.paid;
            orders_total += done.orders;
            completions_total += done.completions;
            if done.index < 2 {
                summary_accounts.push((done.seeded.clone(), done.index));
            }
            if done.index == 0 {
                large = Some((done.scope.clone(), done.large_users));
            }
        }
    }
    summary_accounts.sort_by_key(|a| a.1);
    let mut summary_accounts: Vec<SeededAccount> = summary_accounts
        .into_iter()
        .map(|(account, _)| account)
        .collect();

    let (large_scope, large_users) =
        large.ok_or_else(|| "seed: the large account was not written".to_owned())?;
    let phase = Instant::now();
    let large_completions = seed_large_skilling(
        &mut conn,
        &mut rng,
        &large_scope,
        &large_users,
        plan.completions,
        rules.skilling_lag_days,
        now,
        phase,
    )?;
    completions_total += large_completions;
    if let Some(first) = summary_accounts.first_mut() {
        first.skilling_credits += large_completions;
    }
    let large_account = summary_accounts
        .first()
        .cloned()
        .ok_or_else(|| "seed: no account written".to_owned())?;
    let typical_account = summary_accounts
        .get(1)
        .cloned()
        .unwrap_or_else(|| large_account.clone());
    let summary = Summary {
        database: database_url.to_string(),
        seed: plan.seed,
        accounts: u64::from(plan.accounts),
        users: users_total,
        verified_accounts: verified_total,
        skilling_completions: completions_total,
        orders: orders_total,
        paid_orders: paid_total,
        invoices: paid_total,
        large_account,
        typical_account,
        eligibility_program: ELIGIBILITY_PROGRAM.to_owned(),
        seconds: started.elapsed().as_secs_f64(),
    };
    eprintln!(
        "seed: done in {:.1}s: {} accounts, {} users, {} completions, {} orders ({} paid, with invoices)",
        summary.seconds,
        summary.accounts,
        summary.users,
        summary.skilling_completions,
        summary.orders,
        summary.paid_orders
    );
    Ok(summary)
}

/// Users who will link a Learn profile, with when they were added.
type Holders = Vec<(domain::ids::UserId, DateTime<Utc>)>;

struct WrittenAccount {
    index: u32,
    scope: AccountScope,
    seeded: SeededAccount,
    users: u64,
    verified: bool,
    orders: u64,
    paid: u64,
    completions: u64,
    /// The large account's profile holders, with when they linked.
    large_users: Holders,
}

fn seed_account(
    conn: &mut DbConnection,
    rng: &mut StdRng,
    plan: &AccountPlan,
    operator: &Principal,
    action_pack: &domain::catalog::Program,
    rules: &domain::catalog::Rules,
    now: DateTime<Utc>,
) -> Result<WrittenAccount, ApiError> {
    let name = format!(
        "{} {} {}",
        pick(rng, NAME_WORDS),
        pick(rng, NAME_KINDS),
        pick(rng, SUFFIXES)
    );
    // The index keeps hosts and mailboxes unique across accounts.
    let host = format!("{}{}.com", ascii_slug(&name), plan.index);
    let (country, city, state, postal) = *pick(rng, PLACES);
    let (first, last) = (*pick(rng, FIRST_NAMES), *pick(rng, LAST_NAMES));
    let owner_email = format!("{}.{}@{host}", ascii_slug(first), ascii_slug(last));
    let line1 = format!("{} {}", rng.random_range(1..400), pick(rng, STREETS));
    let website = format!("https://www.{host}");
    let phone = format!("+1 425 555 {:04}", rng.random_range(0..10_000));
    let profile = CompanyProfile::parse(CompanyProfileDraft {
        legal_name: &name,
        address: AddressDraft {
            line1: &line1,
            line2: None,
            city,
            state_or_province: state,
            postal_code: Some(postal),
        },
        country,
        website: &website,
        primary_contact: PrimaryContactDraft {
            first_name: first,
            last_name: last,
            email: &owner_email,
            phone: &phone,
        },
    })
    .map_err(|errors| ApiError::internal(format!("seed profile refused: {errors:?}")))?;
    let email = EmailAddress::parse(&owner_email)
        .map_err(|e| ApiError::internal(format!("seed email refused: {}", e.message)))?;
    let directory = DirectoryId::from_uuid(Uuid::from_u128(rng.random::<u128>()));
    let owner = Principal::User {
        email: email.clone(),
        directory,
    };
    let mut partner_number = rng.random::<u32>();
    let created_at = plan.created_at;
    let (_, membership) = crate::handlers::accounts::open_account(
        conn,
        &owner,
        &NewAccount {
            directory,
            profile,
            owner_email: email,
            owner_first_name: Some(first.to_owned()),
            owner_last_name: Some(last.to_owned()),
            sandbox: false,
        },
        created_at,
        || {
            partner_number = partner_number.wrapping_add(1);
            PartnerId::from_number(partner_number)
        },
    )?
    .map_err(|_| ApiError::internal("seed: a directory drawn twice"))?;
    let scope = membership.scope.clone();

    // Colleagues: the large account has one per Learn profile it links.
    let colleagues = if plan.index == 0 {
        LARGE_ACCOUNT_PROFILES
    } else {
        rng.random_range(2..=4)
    };
    let mut user_ids = Vec::new();
    for n in 0..colleagues {
        let (first, last) = (*pick(rng, FIRST_NAMES), *pick(rng, LAST_NAMES));
        let email = format!("{}.{}{n}@{host}", ascii_slug(first), ascii_slug(last));
        let added_at = created_at + Duration::hours(1 + i64::from(n));
        let role = *pick(rng, OTHER_ROLES);
        let user = users::create(
            conn,
            &scope,
            &NewUser {
                email: EmailAddress::parse(&email)
                    .map_err(|e| ApiError::internal(format!("seed email: {}", e.message)))?,
                first_name: Some(first.to_owned()),
                last_name: Some(last.to_owned()),
                roles: vec![role],
            },
            added_at,
        )?
        .map_err(|_| ApiError::internal("seed: a user email drawn twice"))?;
        user_ids.push((user.id, added_at));
    }

    let decided_at = created_at + Duration::days(3);
    let verified = match plan.verification {
        VerificationOutcomeOrPending::Pending => false,
        VerificationOutcomeOrPending::Decided(outcome) => {
            let reason = match outcome {
                VerificationOutcome::Verified => None,
                VerificationOutcome::ActionRequired => Some(
                    "The legal name does not match the business registration; upload a registration extract."
                        .to_owned(),
                ),
                VerificationOutcome::Rejected => {
                    Some("The company could not be found in any business register.".to_owned())
                }
            };
            apply_decision(
                conn,
                &scope,
                operator,
                &VerificationDecision { outcome, reason },
                decided_at,
            )?;
            outcome == VerificationOutcome::Verified
        }
    };

    // Orders: Action Pack bought by card ten days after enrolling, renewed in every window.
    let account = accounts::get(conn, &scope)?;
    let fee = action_pack
        .fee
        .clone()
        .ok_or_else(|| ApiError::internal("action_pack has no fee"))?;
    let pack = if rng.random_range(0..10) == 0 {
        "laps"
    } else {
        "maps"
    };
    let placed_by = owner.subject().to_owned();
    let mut orders_written = 0u64;
    let mut paid_at = created_at + Duration::days(10);
    let mut anniversary = paid_at;
    for year in 0..plan.paid_orders {
        let kind = if year == 0 {
            OrderKind::Purchase
        } else {
            // In the renewal window: one to 25 days after the anniversary.
            paid_at = anniversary + Duration::days(rng.random_range(1..=25));
            OrderKind::Renewal
        };
        let amounts = billing::price(fee.amount_minor, &account.country, rules)?;
        // The declined attempt and the card that went through differ only in these.
        let card_order = |standing, placed_at, failure| NewOrder {
            program_id: ACTION_PACK,
            kind,
            payment_method: PaymentMethod::CreditCard,
            standing,
            benefit_pack: Some(pack),
            currency: &fee.currency,
            amounts,
            covered_by: None,
            placed_by: &placed_by,
            placed_at,
            pay_by: None,
            failure,
        };
        // Declined attempts come first, some minutes before the card that went through.
        if year < plan.declined_orders {
            let placed_at = paid_at - Duration::minutes(rng.random_range(5..90));
            let declined = Failure {
                code: "card_declined".into(),
                message: "The card was declined by the issuer.".into(),
            };
            insert_numbered(
                conn,
                &scope,
                &card_order(OrderStanding::Failed, placed_at, Some(declined)),
            )?;
            orders_written += 1;
        }
        let placed = insert_numbered(
            conn,
            &scope,
            &card_order(OrderStanding::AwaitingPayment, paid_at, None),
        )?;
        audit::record(
            conn,
            &scope,
            &owner,
            "order.placed",
            ("order", placed.id.to_string()),
            json!({
                "program_id": placed.program_id,
                "kind": kind.id(),
                "payment_method": PaymentMethod::CreditCard.id(),
                "total_minor": placed.amounts.total_minor,
                "currency": placed.currency,
                "covered_by_order_id": null,
            }),
            paid_at,
        )?;
        let charge = format!("ch_test_{}", placed.id.as_uuid().simple());
        let (_, held) = billing::pay(
            conn,
            &scope,
            &owner,
            &account,
            action_pack,
            &placed,
            None,
            rules,
            paid_at,
            Some(&charge),
        )?;
        anniversary = held.anniversary_at.unwrap_or(paid_at);
        orders_written += 1;
    }

    // Learn profiles: the large account's holders link in `seed_large_skilling`; everyone
    // else's accounts link one or two profiles with three completions each.
    let mut completions = 0u64;
    let mut large_users = Vec::new();
    if plan.index == 0 {
        large_users = user_ids;
    } else {
        let linking = user_ids.len().min(rng.random_range(1..=2));
        for (user_id, added_at) in user_ids.iter().take(linking) {
            let linked_at = *added_at + Duration::days(rng.random_range(1..30));
            let learn_id = format!("learn-{}", Uuid::from_u128(rng.random::<u128>()).simple());
            let link = skilling::link(
                conn,
                &scope,
                *user_id,
                &learn_id,
                &skilling::live_realm(),
                rules.skilling_lag_days,
                linked_at,
            )?;
            let drawn: Vec<(usize, DateTime<Utc>)> = (0..3)
                .map(|n| {
                    (
                        (n + rng.random_range(0..COMPLETIONS.len())) % COMPLETIONS.len(),
                        linked_at - Duration::days(rng.random_range(-200..400)),
                    )
                })
                .collect();
            let new: Vec<NewCompletion<'_>> = drawn
                .iter()
                .map(|&(c, completed_at)| NewCompletion {
                    learn_id: &learn_id,
                    kind: COMPLETIONS[c].2,
                    credential: COMPLETIONS[c].0,
                    title: COMPLETIONS[c].1,
                    completed_at: completed_at.min(now),
                })
                .collect();
            // Two draws may name the same credential on the same day only by accident.
            let mut unique = new.clone();
            unique.sort_by(|a, b| {
                (a.credential, a.completed_at).cmp(&(b.credential, b.completed_at))
            });
            unique
                .dedup_by(|a, b| a.credential == b.credential && a.completed_at == b.completed_at);
            completions += skilling::record_linked_completions(
                conn,
                &scope,
                &link.link,
                &skilling::live_realm(),
                &unique,
                rules.skilling_lag_days,
                linked_at.max(
                    unique
                        .iter()
                        .map(|c| c.completed_at)
                        .max()
                        .unwrap_or(linked_at),
                ),
            )? as u64;
        }
    }

    Ok(WrittenAccount {
        index: plan.index,
        seeded: SeededAccount {
            account_id: account.id.to_string(),
            directory_id: directory.to_string(),
            partner_id: account.partner_id.clone(),
            owner_email,
            skilling_credits: completions,
            orders: orders_written,
        },
        scope,
        users: 1 + u64::from(colleagues),
        verified,
        orders: orders_written,
        paid: plan.paid_orders,
        completions,
        large_users,
    })
}

#[allow(clippy::too_many_arguments)]
fn seed_large_skilling(
    conn: &mut DbConnection,
    rng: &mut StdRng,
    scope: &AccountScope,
    holders: &[(domain::ids::UserId, DateTime<Utc>)],
    completions: u64,
    lag_days: u32,
    now: DateTime<Utc>,
    started: Instant,
) -> Result<u64, String> {
    if holders.is_empty() || completions == 0 {
        return Ok(0);
    }
    let per_holder = completions / holders.len() as u64;
    let extra = completions % holders.len() as u64;
    let mut written = 0u64;
    for (batch_number, batch) in holders.chunks(PROFILES_PER_TRANSACTION).enumerate() {
        let count = wrap(
            write_transaction(conn, |conn| {
                let mut count = 0u64;
                for (offset, (user_id, added_at)) in batch.iter().enumerate() {
                    let rank = (batch_number * PROFILES_PER_TRANSACTION + offset) as u64;
                    let wanted = per_holder + u64::from(rank < extra);
                    let linked_at = *added_at + Duration::days(1);
                    let learn_id =
                        format!("learn-{}", Uuid::from_u128(rng.random::<u128>()).simple());
                    let link = skilling::link(
                        conn,
                        scope,
                        *user_id,
                        &learn_id,
                        &skilling::live_realm(),
                        lag_days,
                        linked_at,
                    )?;
                    // One completion every few hours, back from now: distinct (credential,
                    // completed_at) pairs, as the learning platform's feed has them.
                    let mut at = now - Duration::minutes(rng.random_range(60..6_000));
                    let new: Vec<NewCompletion<'_>> = (0..wanted)
                        .map(|_| {
                            at -= Duration::minutes(rng.random_range(30..600));
                            let (credential, title, kind) = *pick(rng, COMPLETIONS);
                            NewCompletion {
                                learn_id: &learn_id,
                                kind,
                                credential,
                                title,
                                completed_at: at,
                            }
                        })
                        .collect();
                    count += skilling::record_linked_completions(
                        conn,
                        scope,
                        &link.link,
                        &skilling::live_realm(),
                        &new,
                        lag_days,
                        now,
                    )? as u64;
                }
                Ok::<_, ApiError>(count)
            }),
            "writing the large account's completions",
        )?;
        written += count;
        eprintln!(
            "seed: large account: {written}/{completions} completions ({:.1}s)",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(written)
}
