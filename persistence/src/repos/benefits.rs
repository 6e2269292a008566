//! Benefits granted by memberships: who they are assigned to, revealed product keys, and when
//! they end. `ended` is not stored: a benefit ends with its membership or its term, which the
//! caller computes; revocation (a refund) is stored.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::catalog::BenefitKind;
use domain::commerce::BenefitStatus;
use domain::ids::{BenefitId, MembershipId, OrderId, UserId};

use crate::connection::DbConnection;
use crate::error::{DbError, DbResult};
use crate::repos::{from_db_time, to_db_time};
use crate::schema::benefits;
use crate::tenant::{AccountScope, parse_id};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = benefits)]
// None binds NULL: the insert's statement stays cached (see the module's documentation).
#[diesel(treat_none_as_default_value = false)]
struct BenefitRow {
    account_id: String,
    id: String,
    membership_id: String,
    order_id: Option<String>,
    program_id: String,
    catalog_benefit: String,
    kind: String,
    name: String,
    quantity: i32,
    granted_at: chrono::NaiveDateTime,
    valid_until: Option<chrono::NaiveDateTime>,
    assignee_user_id: Option<String>,
    activated_at: Option<chrono::NaiveDateTime>,
    reassignments: i32,
    product_key: Option<String>,
    key_revealed_at: Option<chrono::NaiveDateTime>,
    revoked_at: Option<chrono::NaiveDateTime>,
    version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Benefit {
    pub id: BenefitId,
    pub membership_id: MembershipId,
    pub order_id: Option<OrderId>,
    pub program_id: String,
    pub catalog_benefit: String,
    pub kind: BenefitKind,
    pub name: String,
    pub quantity: u32,
    pub granted_at: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub assignee: Option<UserId>,
    pub activated_at: Option<DateTime<Utc>>,
    pub reassignments: u32,
    pub product_key: Option<String>,
    pub key_revealed_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl Benefit {
    /// Its status at `now`, given whether its membership is in force then.
    pub fn status(&self, membership_in_force: bool, now: DateTime<Utc>) -> BenefitStatus {
        let ended = self.revoked_at.is_some()
            || !membership_in_force
            || self.valid_until.is_some_and(|until| now >= until);
        match (ended, self.activated_at) {
            (true, _) => BenefitStatus::Ended,
            (false, Some(_)) => BenefitStatus::Activated,
            (false, None) => BenefitStatus::Available,
        }
    }
}

fn kind_id(kind: BenefitKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl TryFrom<BenefitRow> for Benefit {
    type Error = DbError;

    fn try_from(row: BenefitRow) -> DbResult<Self> {
        let bad =
            |what: &str, value: &str| DbError::corrupt("benefits", format!("{what} {value:?}"));
        Ok(Benefit {
            id: parse_id("benefits", &row.id)?,
            membership_id: parse_id("benefits", &row.membership_id)?,
            order_id: row
                .order_id
                .as_deref()
                .map(|id| parse_id("benefits", id))
                .transpose()?,
            kind: serde_json::from_value(serde_json::Value::String(row.kind.clone()))
                .map_err(|_| bad("kind", &row.kind))?,
            program_id: row.program_id,
            catalog_benefit: row.catalog_benefit,
            name: row.name,
            quantity: u32::try_from(row.quantity)
                .map_err(|_| bad("quantity", &row.quantity.to_string()))?,
            granted_at: from_db_time(row.granted_at),
            valid_until: row.valid_until.map(from_db_time),
            assignee: row
                .assignee_user_id
                .as_deref()
                .map(|id| parse_id("benefits", id))
                .transpose()?,
            activated_at: row.activated_at.map(from_db_time),
            reassignments: u32::try_from(row.reassignments)
                .map_err(|_| bad("reassignments", &row.reassignments.to_string()))?,
            product_key: row.product_key,
            key_revealed_at: row.key_revealed_at.map(from_db_time),
            revoked_at: row.revoked_at.map(from_db_time),
            version: row.version,
        })
    }
}

/// A benefit to grant.
#[derive(Debug, Clone)]
pub struct Grant<'a> {
    pub membership_id: MembershipId,
    pub order_id: Option<OrderId>,
    pub program_id: &'a str,
    pub catalog: &'a domain::catalog::Benefit,
    pub valid_until: Option<DateTime<Utc>>,
    pub product_key: Option<String>,
    pub granted_at: DateTime<Utc>,
}

pub fn grant(
    conn: &mut DbConnection,
    scope: &AccountScope,
    grant: &Grant<'_>,
) -> DbResult<Benefit> {
    let row = BenefitRow {
        account_id: scope.key(),
        id: BenefitId::generate().to_string(),
        membership_id: grant.membership_id.to_string(),
        order_id: grant.order_id.map(|id| id.to_string()),
        program_id: grant.program_id.to_owned(),
        catalog_benefit: grant.catalog.id.clone(),
        kind: kind_id(grant.catalog.kind),
        name: grant.catalog.name.clone(),
        quantity: i32::try_from(grant.catalog.quantity).unwrap_or(i32::MAX),
        granted_at: to_db_time(grant.granted_at),
        valid_until: grant.valid_until.map(to_db_time),
        assignee_user_id: None,
        activated_at: None,
        reassignments: 0,
        product_key: grant.product_key.clone(),
        key_revealed_at: None,
        revoked_at: None,
        version: 1,
    };
    diesel::insert_into(benefits::table)
        .values(&row)
        .execute(conn)?;
    row.try_into()
}

pub fn get(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: BenefitId,
) -> DbResult<Option<Benefit>> {
    benefits::table
        .find((scope.key(), id.to_string()))
        .select(BenefitRow::as_select())
        .first::<BenefitRow>(conn)
        .optional()?
        .map(Benefit::try_from)
        .transpose()
}

/// Every benefit of the account, oldest first.
pub fn all(conn: &mut DbConnection, scope: &AccountScope) -> DbResult<Vec<Benefit>> {
    benefits::table
        .filter(benefits::account_id.eq(scope.key()))
        .select(BenefitRow::as_select())
        .order(benefits::id.asc())
        .load::<BenefitRow>(conn)?
        .into_iter()
        .map(Benefit::try_from)
        .collect()
}

/// The benefits an order's payment granted.
pub fn of_orders(
    conn: &mut DbConnection,
    scope: &AccountScope,
    orders: &[OrderId],
) -> DbResult<Vec<Benefit>> {
    benefits::table
        .filter(benefits::account_id.eq(scope.key()))
        .filter(benefits::order_id.eq_any(orders.iter().map(|id| id.to_string())))
        .select(BenefitRow::as_select())
        .load::<BenefitRow>(conn)?
        .into_iter()
        .map(Benefit::try_from)
        .collect()
}

/// Assigns the benefit to `assignee`, if it is still at its version; `reassignments` is the
/// count after this change.
pub fn assign(
    conn: &mut DbConnection,
    scope: &AccountScope,
    benefit: &Benefit,
    assignee: UserId,
    reassignments: u32,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let changed = diesel::update(
        benefits::table
            .find((scope.key(), benefit.id.to_string()))
            .filter(benefits::version.eq(benefit.version)),
    )
    .set((
        benefits::assignee_user_id.eq(Some(assignee.to_string())),
        benefits::activated_at.eq(Some(to_db_time(benefit.activated_at.unwrap_or(now)))),
        benefits::reassignments.eq(i32::try_from(reassignments).unwrap_or(i32::MAX)),
        benefits::version.eq(benefit.version + 1),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Records the first reveal of the benefit's product key.
pub fn mark_key_revealed(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: BenefitId,
    now: DateTime<Utc>,
) -> DbResult<()> {
    diesel::update(
        benefits::table
            .find((scope.key(), id.to_string()))
            .filter(benefits::key_revealed_at.is_null()),
    )
    .set(benefits::key_revealed_at.eq(Some(to_db_time(now))))
    .execute(conn)?;
    Ok(())
}

/// Ends every benefit of `memberships` now (a refund cancels them).
pub fn revoke(
    conn: &mut DbConnection,
    scope: &AccountScope,
    memberships: &[MembershipId],
    now: DateTime<Utc>,
) -> DbResult<usize> {
    Ok(diesel::update(
        benefits::table
            .filter(benefits::account_id.eq(scope.key()))
            .filter(benefits::membership_id.eq_any(memberships.iter().map(|id| id.to_string())))
            .filter(benefits::revoked_at.is_null()),
    )
    .set(benefits::revoked_at.eq(Some(to_db_time(now))))
    .execute(conn)?)
}
