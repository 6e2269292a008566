//! Partner accounts and the users who enrolled them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::account::CompanyProfile;
use domain::email::EmailAddress;
use domain::ids::{AccountId, DirectoryId, PartnerId, UserId};
use domain::role::Role;
use domain::verification::VerificationStatus;

use crate::connection::{DbConnection, first_native, recoverable, row_columns};
use crate::error::{DbError, DbResult, is_unique_violation_on};
use crate::page::{Page, PageRequest};
use crate::repos::{from_db_time, memberships, programs, search, to_db_time};
use crate::schema::{accounts, user_roles, users};
use crate::tenant::{AccountScope, Actor, Membership, OperatorAccess, parse_id};
use domain::catalog::BASE_PROGRAM;
use domain::membership::Source;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
// None binds NULL: the insert's statement stays cached (see the module's documentation).
#[diesel(treat_none_as_default_value = false)]
struct AccountRow {
    id: String,
    directory_id: String,
    partner_id: String,
    legal_name: String,
    address_line1: String,
    address_line2: Option<String>,
    city: String,
    state_or_province: Option<String>,
    postal_code: Option<String>,
    country: String,
    website: String,
    contact_first_name: String,
    contact_last_name: String,
    contact_email: String,
    contact_phone: String,
    verification_status: String,
    verification_reason: Option<String>,
    under_review: String,
    owner_user_id: String,
    version: i64,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
    sandbox_clock: Option<chrono::NaiveDateTime>,
}

/// An account as stored. Text fields are kept as written: they were valid when accepted, and a
/// rule tightened later must not make old rows unreadable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub directory_id: DirectoryId,
    pub partner_id: String,
    pub legal_name: String,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub city: String,
    pub state_or_province: Option<String>,
    pub postal_code: Option<String>,
    pub country: String,
    pub website: String,
    pub contact_first_name: String,
    pub contact_last_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub verification_status: VerificationStatus,
    /// The operator's reason for the last decision that needs one.
    pub verification_reason: Option<String>,
    /// Legal-profile fields whose review is open (`legal_name`, `address.city`, ...).
    pub under_review: Vec<String>,
    pub owner_user_id: UserId,
    /// Bumped by every change; the HTTP layer serves it as the ETag.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A sandbox account's clock (frozen at creation, moved forward by its users); `None`
    /// for a live account.
    pub sandbox_clock: Option<DateTime<Utc>>,
}

impl Account {
    pub fn is_sandbox(&self) -> bool {
        self.sandbox_clock.is_some()
    }

    /// The account's now: its sandbox clock, or the wall clock's `wall`.
    pub fn now(&self, wall: DateTime<Utc>) -> DateTime<Utc> {
        self.sandbox_clock.unwrap_or(wall)
    }
}

impl TryFrom<AccountRow> for Account {
    type Error = DbError;

    fn try_from(row: AccountRow) -> DbResult<Self> {
        Ok(Account {
            id: parse_id("accounts", &row.id)?,
            directory_id: parse_id("accounts", &row.directory_id)?,
            verification_status: VerificationStatus::parse(&row.verification_status).ok_or_else(
                || {
                    DbError::corrupt(
                        "accounts",
                        format!("verification status {:?}", row.verification_status),
                    )
                },
            )?,
            owner_user_id: parse_id("accounts", &row.owner_user_id)?,
            under_review: serde_json::from_str(&row.under_review).map_err(|_| {
                DbError::corrupt("accounts", format!("under_review {:?}", row.under_review))
            })?,
            verification_reason: row.verification_reason,
            partner_id: row.partner_id,
            legal_name: row.legal_name,
            address_line1: row.address_line1,
            address_line2: row.address_line2,
            city: row.city,
            state_or_province: row.state_or_province,
            postal_code: row.postal_code,
            country: row.country,
            website: row.website,
            contact_first_name: row.contact_first_name,
            contact_last_name: row.contact_last_name,
            contact_email: row.contact_email,
            contact_phone: row.contact_phone,
            version: row.version,
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
            sandbox_clock: row.sandbox_clock.map(from_db_time),
        })
    }
}

/// An enrollment: the company, its directory, and the person enrolling it.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub directory: DirectoryId,
    pub profile: CompanyProfile,
    pub owner_email: EmailAddress,
    pub owner_first_name: Option<String>,
    pub owner_last_name: Option<String>,
    /// A sandbox account runs on its own clock, frozen at its creation.
    pub sandbox: bool,
}

/// The directory already has a partner account (one directory, one account).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectoryHasAccount;

/// PartnerIDs are drawn at random; a collision is retried with a fresh draw.
const PARTNER_ID_ATTEMPTS: usize = 16;

/// Creates the account, its owner as a `global_admin` user, and returns both. Run inside
/// `write_transaction`: the existence check and the inserts must be one unit.
pub fn create(
    conn: &mut DbConnection,
    new: &NewAccount,
    now: DateTime<Utc>,
    mut draw_partner_id: impl FnMut() -> PartnerId,
) -> DbResult<Result<(Account, Membership), DirectoryHasAccount>> {
    let directory_key = new.directory.to_string();
    let existing: i64 = accounts::table
        .filter(accounts::directory_id.eq(&directory_key))
        .count()
        .get_result(conn)?;
    if existing > 0 {
        return Ok(Err(DirectoryHasAccount));
    }

    let account_id = AccountId::generate();
    let owner_id = UserId::generate();
    let profile = &new.profile;
    let mut row = AccountRow {
        id: account_id.to_string(),
        directory_id: directory_key,
        partner_id: String::new(),
        legal_name: profile.legal_name.clone(),
        address_line1: profile.address.line1.clone(),
        address_line2: profile.address.line2.clone(),
        city: profile.address.city.clone(),
        state_or_province: profile.address.state_or_province.clone(),
        postal_code: profile.address.postal_code.clone(),
        country: profile.country.code().to_owned(),
        website: profile.website.as_str().to_owned(),
        contact_first_name: profile.primary_contact.first_name.clone(),
        contact_last_name: profile.primary_contact.last_name.clone(),
        contact_email: profile.primary_contact.email.as_str().to_owned(),
        contact_phone: profile.primary_contact.phone.as_str().to_owned(),
        verification_status: VerificationStatus::INITIAL.id().to_owned(),
        verification_reason: None,
        // A new account's whole profile is reviewed.
        under_review: serde_json::to_string(&LEGAL_FIELDS).map_err(|e| {
            DbError::corrupt("accounts", format!("cannot encode under_review: {e}"))
        })?,
        owner_user_id: owner_id.to_string(),
        version: 1,
        created_at: to_db_time(now),
        updated_at: to_db_time(now),
        sandbox_clock: new.sandbox.then(|| to_db_time(now)),
    };

    let mut inserted = false;
    for _ in 0..PARTNER_ID_ATTEMPTS {
        row.partner_id = draw_partner_id().as_str().to_owned();
        // Recoverable, so a collision does not abort the enclosing transaction on PostgreSQL.
        let attempt = recoverable(conn, |conn| {
            diesel::insert_into(accounts::table)
                .values(&row)
                .execute(conn)
        });
        match attempt {
            Ok(_) => {
                inserted = true;
                break;
            }
            Err(error) if is_unique_violation_on(&error, "partner_id") => continue,
            // Another enrollment of the same directory committed between our check and insert.
            Err(error) if is_unique_violation_on(&error, "directory_id") => {
                return Ok(Err(DirectoryHasAccount));
            }
            Err(error) => return Err(error.into()),
        }
    }
    if !inserted {
        return Err(DbError::corrupt(
            "accounts",
            format!("no free PartnerID after {PARTNER_ID_ATTEMPTS} draws"),
        ));
    }

    diesel::insert_into(users::table)
        .values((
            users::account_id.eq(&row.id),
            users::id.eq(&row.owner_user_id),
            users::email.eq(new.owner_email.as_str()),
            users::email_key.eq(new.owner_email.as_str().to_lowercase()),
            users::first_name.eq(&new.owner_first_name),
            users::last_name.eq(&new.owner_last_name),
            users::created_at.eq(to_db_time(now)),
            users::updated_at.eq(to_db_time(now)),
            users::version.eq(1),
        ))
        .execute(conn)?;
    diesel::insert_into(user_roles::table)
        .values((
            user_roles::account_id.eq(&row.id),
            user_roles::user_id.eq(&row.owner_user_id),
            user_roles::role.eq(Role::GlobalAdmin.id()),
        ))
        .execute(conn)?;

    let scope = AccountScope::new(account_id);
    search::reindex(conn, &scope, search::Target::User(owner_id))?;
    // Every account joins the base program with its enrollment (DESIGN §4).
    let base = programs::get(conn, BASE_PROGRAM)?
        .ok_or_else(|| DbError::corrupt("programs", format!("the catalog lacks {BASE_PROGRAM}")))?;
    memberships::activate(conn, &scope, &base.program, Source::Automatic, None, now)?;

    let membership = Membership {
        clock: new.sandbox.then_some(now),
        scope,
        actor: Actor::User {
            user_id: owner_id,
            email: new.owner_email.as_str().to_owned(),
            is_owner: true,
        },
        roles: vec![Role::GlobalAdmin],
    };
    Ok(Ok((Account::try_from(row)?, membership)))
}

/// Serializes changes that check an account-wide rule (such as "one global admin remains")
/// against each other: on PostgreSQL the no-op update holds the account row's lock until the
/// transaction ends, so a concurrent one waits and then sees the committed state. On SQLite the
/// write transaction already holds the database's write lock (`BEGIN IMMEDIATE`), and the
/// update would only write the account's page to the WAL again, so nothing is run.
pub fn lock(conn: &mut DbConnection, scope: &AccountScope) -> DbResult<()> {
    if let DbConnection::Pg(_) = conn {
        diesel::update(accounts::table.find(scope.key()))
            .set(accounts::version.eq(accounts::version))
            .execute(conn)?;
    }
    Ok(())
}

/// The caller's own account.
pub fn get(conn: &mut DbConnection, scope: &AccountScope) -> DbResult<Account> {
    let query = accounts::table
        .find(scope.key())
        .select(row_columns::<AccountRow>());
    first_native::<_, AccountRow>(conn, query)?.try_into()
}

/// Filters of the operator's account list.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub verification_status: Option<VerificationStatus>,
}

/// Every account, oldest first (ids are time-ordered UUIDs), one keyset page at a time.
pub fn list_for_operator(
    conn: &mut DbConnection,
    _access: &OperatorAccess,
    filter: &AccountFilter,
    page: &PageRequest,
) -> DbResult<Page<Account>> {
    let mut query = accounts::table
        .select(AccountRow::as_select())
        .order(accounts::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(status) = filter.verification_status {
        query = query.filter(accounts::verification_status.eq(status.id()));
    }
    if let Some(after) = &page.after {
        query = query.filter(accounts::id.gt(after.clone()));
    }
    let rows = query
        .load::<AccountRow>(conn)?
        .into_iter()
        .map(Account::try_from)
        .collect::<DbResult<Vec<_>>>()?;
    Ok(page.finish(rows, |account| account.id.to_string()))
}

/// One account by id, for an operator.
pub fn get_for_operator(
    conn: &mut DbConnection,
    access: &OperatorAccess,
    id: AccountId,
) -> DbResult<Option<Account>> {
    let scope = access.scope(id);
    accounts::table
        .find(scope.key())
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?
        .map(Account::try_from)
        .transpose()
}

/// The legal-profile fields, by the dotted names used in requests and in `under_review`.
pub const LEGAL_FIELDS: [&str; 12] = [
    "legal_name",
    "address.line1",
    "address.line2",
    "address.city",
    "address.state_or_province",
    "address.postal_code",
    "country",
    "website",
    "primary_contact.first_name",
    "primary_contact.last_name",
    "primary_contact.email",
    "primary_contact.phone",
];

impl Account {
    fn field_values(&self) -> [(&'static str, Option<&str>); 12] {
        [
            ("legal_name", Some(self.legal_name.as_str())),
            ("address.line1", Some(self.address_line1.as_str())),
            ("address.line2", self.address_line2.as_deref()),
            ("address.city", Some(self.city.as_str())),
            (
                "address.state_or_province",
                self.state_or_province.as_deref(),
            ),
            ("address.postal_code", self.postal_code.as_deref()),
            ("country", Some(self.country.as_str())),
            ("website", Some(self.website.as_str())),
            (
                "primary_contact.first_name",
                Some(self.contact_first_name.as_str()),
            ),
            (
                "primary_contact.last_name",
                Some(self.contact_last_name.as_str()),
            ),
            ("primary_contact.email", Some(self.contact_email.as_str())),
            ("primary_contact.phone", Some(self.contact_phone.as_str())),
        ]
    }

    /// The account with its legal details replaced by `profile` (status untouched).
    pub fn with_profile(&self, profile: &CompanyProfile) -> Account {
        Account {
            legal_name: profile.legal_name.clone(),
            address_line1: profile.address.line1.clone(),
            address_line2: profile.address.line2.clone(),
            city: profile.address.city.clone(),
            state_or_province: profile.address.state_or_province.clone(),
            postal_code: profile.address.postal_code.clone(),
            country: profile.country.code().to_owned(),
            website: profile.website.as_str().to_owned(),
            contact_first_name: profile.primary_contact.first_name.clone(),
            contact_last_name: profile.primary_contact.last_name.clone(),
            contact_email: profile.primary_contact.email.as_str().to_owned(),
            contact_phone: profile.primary_contact.phone.as_str().to_owned(),
            ..self.clone()
        }
    }

    /// The legal-profile fields whose values differ from `other`'s.
    pub fn changed_fields(&self, other: &Account) -> Vec<String> {
        self.field_values()
            .into_iter()
            .zip(other.field_values())
            .filter(|((_, a), (_, b))| a != b)
            .map(|((name, _), _)| name.to_owned())
            .collect()
    }
}

/// Writes `account`'s profile and verification if the stored version is still
/// `expected_version`; bumps the version. `Ok(None)` when another change won the race.
pub fn save(
    conn: &mut DbConnection,
    scope: &AccountScope,
    account: &Account,
    expected_version: i64,
    now: DateTime<Utc>,
) -> DbResult<Option<Account>> {
    let under_review = serde_json::to_string(&account.under_review)
        .map_err(|e| DbError::corrupt("accounts", format!("cannot encode under_review: {e}")))?;
    let updated = diesel::update(
        accounts::table
            .filter(accounts::id.eq(scope.key()))
            .filter(accounts::version.eq(expected_version)),
    )
    .set((
        accounts::legal_name.eq(&account.legal_name),
        accounts::address_line1.eq(&account.address_line1),
        accounts::address_line2.eq(&account.address_line2),
        accounts::city.eq(&account.city),
        accounts::state_or_province.eq(&account.state_or_province),
        accounts::postal_code.eq(&account.postal_code),
        accounts::country.eq(&account.country),
        accounts::website.eq(&account.website),
        accounts::contact_first_name.eq(&account.contact_first_name),
        accounts::contact_last_name.eq(&account.contact_last_name),
        accounts::contact_email.eq(&account.contact_email),
        accounts::contact_phone.eq(&account.contact_phone),
        accounts::verification_status.eq(account.verification_status.id()),
        accounts::verification_reason.eq(&account.verification_reason),
        accounts::under_review.eq(under_review),
        accounts::version.eq(expected_version + 1),
        accounts::updated_at.eq(to_db_time(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    get(conn, scope).map(Some)
}

/// Moves a sandbox account's clock to `to` (never backwards: the caller checked). `Ok(false)`
/// when the account is not a sandbox.
pub fn set_sandbox_clock(
    conn: &mut DbConnection,
    scope: &AccountScope,
    to: DateTime<Utc>,
) -> DbResult<bool> {
    let updated = diesel::update(
        accounts::table
            .find(scope.key())
            .filter(accounts::sandbox_clock.is_not_null()),
    )
    .set(accounts::sandbox_clock.eq(Some(to_db_time(to))))
    .execute(conn)?;
    Ok(updated == 1)
}

/// The account with this PartnerID, for an operator's feed.
pub fn find_by_partner_id(
    conn: &mut DbConnection,
    _access: &OperatorAccess,
    partner_id: &str,
) -> DbResult<Option<Account>> {
    accounts::table
        .filter(accounts::partner_id.eq(partner_id))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?
        .map(Account::try_from)
        .transpose()
}

/// How many accounts the database holds (every tenant; for the `seed` command's emptiness
/// check, not for requests).
pub fn count(conn: &mut DbConnection) -> DbResult<i64> {
    Ok(accounts::table.count().get_result(conn)?)
}
