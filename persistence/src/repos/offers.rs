//! Commercial marketplace offers: what Marketplace Rewards requires.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::ids::OfferId;
use domain::marketplace::OfferStatus;

use crate::connection::{DbConnection, first_native};
use crate::error::{DbError, DbResult};
use crate::page::{Page, PageRequest};
use crate::repos::{from_db_time, to_db_time};
use crate::schema::marketplace_offers;
use crate::tenant::{AccountScope, parse_id};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub id: OfferId,
    pub name: String,
    pub transactable: bool,
    pub status: OfferStatus,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

type Row = (
    String,
    String,
    i32,
    String,
    chrono::NaiveDateTime,
    Option<chrono::NaiveDateTime>,
);

const COLUMNS: (
    marketplace_offers::id,
    marketplace_offers::name,
    marketplace_offers::transactable,
    marketplace_offers::status,
    marketplace_offers::created_at,
    marketplace_offers::published_at,
) = (
    marketplace_offers::id,
    marketplace_offers::name,
    marketplace_offers::transactable,
    marketplace_offers::status,
    marketplace_offers::created_at,
    marketplace_offers::published_at,
);

fn from_row(row: Row) -> DbResult<Offer> {
    let (id, name, transactable, status, created_at, published_at) = row;
    Ok(Offer {
        id: parse_id("marketplace_offers", &id)?,
        name,
        transactable: transactable != 0,
        status: OfferStatus::parse(&status)
            .ok_or_else(|| DbError::corrupt("marketplace_offers", format!("status {status:?}")))?,
        created_at: from_db_time(created_at),
        published_at: published_at.map(from_db_time),
    })
}

pub fn create(
    conn: &mut DbConnection,
    scope: &AccountScope,
    name: &str,
    transactable: bool,
    now: DateTime<Utc>,
) -> DbResult<Offer> {
    let offer = Offer {
        id: OfferId::generate(),
        name: name.to_owned(),
        transactable,
        status: OfferStatus::Draft,
        created_at: now,
        published_at: None,
    };
    diesel::insert_into(marketplace_offers::table)
        .values((
            marketplace_offers::account_id.eq(scope.key()),
            marketplace_offers::id.eq(offer.id.to_string()),
            marketplace_offers::name.eq(name),
            marketplace_offers::transactable.eq(i32::from(transactable)),
            marketplace_offers::status.eq(OfferStatus::Draft.id()),
            marketplace_offers::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(offer)
}

pub fn get(conn: &mut DbConnection, scope: &AccountScope, id: OfferId) -> DbResult<Option<Offer>> {
    marketplace_offers::table
        .find((scope.key(), id.to_string()))
        .select(COLUMNS)
        .first::<Row>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

pub fn list(
    conn: &mut DbConnection,
    scope: &AccountScope,
    page: &PageRequest,
) -> DbResult<Page<Offer>> {
    let mut query = marketplace_offers::table
        .filter(marketplace_offers::account_id.eq(scope.key()))
        .select(COLUMNS)
        .order(marketplace_offers::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(marketplace_offers::id.gt(after.clone()));
    }
    let rows = query
        .load::<Row>(conn)?
        .into_iter()
        .map(from_row)
        .collect::<DbResult<Vec<_>>>()?;
    Ok(page.finish(rows, |offer| offer.id.to_string()))
}

/// Publishes a draft; returns the offer as it is afterwards (unchanged if already published).
pub fn publish(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: OfferId,
    now: DateTime<Utc>,
) -> DbResult<Option<Offer>> {
    diesel::update(
        marketplace_offers::table
            .find((scope.key(), id.to_string()))
            .filter(marketplace_offers::status.eq(OfferStatus::Draft.id())),
    )
    .set((
        marketplace_offers::status.eq(OfferStatus::Published.id()),
        marketplace_offers::published_at.eq(Some(to_db_time(now))),
    ))
    .execute(conn)?;
    get(conn, scope, id)
}

/// Whether the account has a published transactable offer.
pub fn has_published_transactable(conn: &mut DbConnection, scope: &AccountScope) -> DbResult<bool> {
    let query = marketplace_offers::table
        .filter(marketplace_offers::account_id.eq(scope.key()))
        .filter(marketplace_offers::status.eq(OfferStatus::Published.id()))
        .filter(marketplace_offers::transactable.eq(1))
        .count();
    let count: i64 = first_native(conn, query)?;
    Ok(count > 0)
}
