//! Performance linkage: the account's PAL/DPOR links to customer tenants, and the usage,
//! revenue and deployment records the platform reports for them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::ids::{PartnerLinkId, PerformanceRecordId};
use domain::scoring::LinkKind;

use crate::connection::{DbConnection, load_native, recoverable};
use crate::error::{DbError, DbResult, is_unique_violation_on};
use crate::page::{Page, PageRequest};
use crate::repos::{from_db_time, row_limit, to_db_time};
use crate::schema::{partner_links, performance_records};
use crate::tenant::{AccountScope, parse_id};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerLink {
    pub id: PartnerLinkId,
    pub kind: LinkKind,
    pub customer_tenant_id: String,
    pub created_at: DateTime<Utc>,
}

type LinkRow = (String, String, String, chrono::NaiveDateTime);

fn link_from(row: LinkRow) -> DbResult<PartnerLink> {
    let (id, kind, customer_tenant_id, created_at) = row;
    Ok(PartnerLink {
        id: parse_id("partner_links", &id)?,
        kind: LinkKind::parse(&kind)
            .ok_or_else(|| DbError::corrupt("partner_links", format!("kind {kind:?}")))?,
        customer_tenant_id,
        created_at: from_db_time(created_at),
    })
}

const LINK_COLUMNS: (
    partner_links::id,
    partner_links::kind,
    partner_links::customer_tenant_id,
    partner_links::created_at,
) = (
    partner_links::id,
    partner_links::kind,
    partner_links::customer_tenant_id,
    partner_links::created_at,
);

/// The same kind of link to the same customer exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlreadyLinked(pub PartnerLink);

pub fn create_link(
    conn: &mut DbConnection,
    scope: &AccountScope,
    kind: LinkKind,
    customer_tenant_id: &str,
    now: DateTime<Utc>,
) -> DbResult<Result<PartnerLink, AlreadyLinked>> {
    let link = PartnerLink {
        id: PartnerLinkId::generate(),
        kind,
        customer_tenant_id: customer_tenant_id.to_owned(),
        created_at: now,
    };
    let inserted = recoverable(conn, |conn| {
        diesel::insert_into(partner_links::table)
            .values((
                partner_links::account_id.eq(scope.key()),
                partner_links::id.eq(link.id.to_string()),
                partner_links::kind.eq(kind.id()),
                partner_links::customer_tenant_id.eq(customer_tenant_id),
                partner_links::created_at.eq(to_db_time(now)),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(Ok(link)),
        Err(error) if is_unique_violation_on(&error, "partner_links") => {
            let existing = partner_links::table
                .filter(partner_links::account_id.eq(scope.key()))
                .filter(partner_links::kind.eq(kind.id()))
                .filter(partner_links::customer_tenant_id.eq(customer_tenant_id))
                .select(LINK_COLUMNS)
                .first::<LinkRow>(conn)?;
            Ok(Err(AlreadyLinked(link_from(existing)?)))
        }
        Err(error) => Err(error.into()),
    }
}

pub fn links(
    conn: &mut DbConnection,
    scope: &AccountScope,
    page: &PageRequest,
) -> DbResult<Page<PartnerLink>> {
    let mut query = partner_links::table
        .filter(partner_links::account_id.eq(scope.key()))
        .select(LINK_COLUMNS)
        .order(partner_links::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(partner_links::id.gt(after.clone()));
    }
    let rows = query
        .load::<LinkRow>(conn)?
        .into_iter()
        .map(link_from)
        .collect::<DbResult<Vec<_>>>()?;
    Ok(page.finish(rows, |link| link.id.to_string()))
}

/// Removes a link; `None` when the account has no link with this id.
pub fn delete_link(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: PartnerLinkId,
) -> DbResult<Option<PartnerLink>> {
    let found = partner_links::table
        .find((scope.key(), id.to_string()))
        .select(LINK_COLUMNS)
        .first::<LinkRow>(conn)
        .optional()?;
    let Some(row) = found else {
        return Ok(None);
    };
    diesel::delete(partner_links::table.find((scope.key(), id.to_string()))).execute(conn)?;
    link_from(row).map(Some)
}

/// The customer tenants the account is linked to (by either kind).
pub fn linked_customers(conn: &mut DbConnection, scope: &AccountScope) -> DbResult<Vec<String>> {
    Ok(partner_links::table
        .filter(partner_links::account_id.eq(scope.key()))
        .select(partner_links::customer_tenant_id)
        .distinct()
        .load(conn)?)
}

/// What a performance record reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measure {
    /// Monthly revenue attributed to the partner, in minor units.
    Revenue {
        amount_minor: i64,
        currency: String,
    },
    UsageGrowth {
        percent: u32,
    },
    Deployment {
        workload: String,
    },
}

impl Measure {
    pub fn kind(&self) -> &'static str {
        match self {
            Measure::Revenue { .. } => "revenue",
            Measure::UsageGrowth { .. } => "usage_growth",
            Measure::Deployment { .. } => "deployment",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerformanceRecord {
    pub id: PerformanceRecordId,
    pub area: String,
    pub customer_tenant_id: String,
    pub measure: Measure,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

type RecordRow = (
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<i32>,
    Option<String>,
    chrono::NaiveDateTime,
    chrono::NaiveDateTime,
);

fn record_from(row: RecordRow) -> DbResult<PerformanceRecord> {
    let (id, area, kind, customer, revenue, currency, growth, workload, occurred, received) = row;
    let corrupt = || {
        DbError::corrupt(
            "performance_records",
            format!("record {id} of kind {kind:?}"),
        )
    };
    let measure = match kind.as_str() {
        "revenue" => Measure::Revenue {
            amount_minor: revenue.ok_or_else(corrupt)?,
            currency: currency.ok_or_else(corrupt)?,
        },
        "usage_growth" => Measure::UsageGrowth {
            percent: growth
                .and_then(|p| u32::try_from(p).ok())
                .ok_or_else(corrupt)?,
        },
        "deployment" => Measure::Deployment {
            workload: workload.ok_or_else(corrupt)?,
        },
        _ => return Err(corrupt()),
    };
    Ok(PerformanceRecord {
        id: parse_id("performance_records", &id)?,
        area,
        customer_tenant_id: customer,
        measure,
        occurred_at: from_db_time(occurred),
        received_at: from_db_time(received),
    })
}

pub fn record(
    conn: &mut DbConnection,
    scope: &AccountScope,
    area: &str,
    customer_tenant_id: &str,
    measure: &Measure,
    occurred_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DbResult<PerformanceRecord> {
    let id = PerformanceRecordId::generate();
    let (revenue, currency, growth, workload) = match measure {
        Measure::Revenue {
            amount_minor,
            currency,
        } => (Some(*amount_minor), Some(currency.clone()), None, None),
        Measure::UsageGrowth { percent } => (
            None,
            None,
            Some(i32::try_from(*percent).unwrap_or(i32::MAX)),
            None,
        ),
        Measure::Deployment { workload } => (None, None, None, Some(workload.clone())),
    };
    diesel::insert_into(performance_records::table)
        .values((
            performance_records::account_id.eq(scope.key()),
            performance_records::id.eq(id.to_string()),
            performance_records::area.eq(area),
            performance_records::kind.eq(measure.kind()),
            performance_records::customer_tenant_id.eq(customer_tenant_id),
            performance_records::revenue_minor.eq(revenue),
            performance_records::currency.eq(currency),
            performance_records::growth_percent.eq(growth),
            performance_records::workload.eq(workload),
            performance_records::occurred_at.eq(to_db_time(occurred_at)),
            performance_records::received_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(PerformanceRecord {
        id,
        area: area.to_owned(),
        customer_tenant_id: customer_tenant_id.to_owned(),
        measure: measure.clone(),
        occurred_at,
        received_at: now,
    })
}

/// The area's records of customers the account is linked to: every one, or with `at_most`, no
/// more than `at_most + 1` (one more than that says there are more).
pub fn linked_records(
    conn: &mut DbConnection,
    scope: &AccountScope,
    area: &str,
    at_most: Option<usize>,
) -> DbResult<Vec<PerformanceRecord>> {
    // The linked customers as a subquery, not a list of binds: a statement with a list of
    // binds is prepared anew on every execution on SQLite (its length varies), and this one runs
    // on every eligibility check.
    let linked = partner_links::table
        .filter(partner_links::account_id.eq(scope.key()))
        .select(partner_links::customer_tenant_id);
    let query = performance_records::table
        .filter(performance_records::account_id.eq(scope.key()))
        .filter(performance_records::area.eq(area))
        .filter(performance_records::customer_tenant_id.eq_any(linked))
        .select((
            performance_records::id,
            performance_records::area,
            performance_records::kind,
            performance_records::customer_tenant_id,
            performance_records::revenue_minor,
            performance_records::currency,
            performance_records::growth_percent,
            performance_records::workload,
            performance_records::occurred_at,
            performance_records::received_at,
        ))
        .limit(row_limit(at_most));
    load_native::<_, RecordRow>(conn, query)?
        .into_iter()
        .map(record_from)
        .collect()
}
