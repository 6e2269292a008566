//! The tenant-scoped access path. Account-owned rows are only reachable through an
//! [`AccountScope`], and only this module builds one: from the caller's verified directory and
//! identity, or, for operators, from an [`OperatorAccess`] that only an operator principal yields.
//! A handler therefore cannot query another account's rows by forgetting a filter: it has no
//! way to name the account other than the scope it was given.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::email::EmailAddress;
use domain::ids::{AccountId, AppId, DirectoryId, UserId};
use domain::principal::Principal;
use domain::role::Role;

use crate::connection::{DbConnection, load_native};
use crate::error::{DbError, DbResult};
use crate::repos::from_db_time;
use crate::schema::{accounts, app_roles, apps, user_roles, users};

/// Proof that the holder may act within one account. Not constructible outside this crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountScope {
    account_id: AccountId,
}

impl AccountScope {
    pub(crate) fn new(account_id: AccountId) -> Self {
        Self { account_id }
    }

    pub fn account_id(&self) -> AccountId {
        self.account_id
    }

    /// The stored (text) form of the account id, for queries.
    pub(crate) fn key(&self) -> String {
        self.account_id.to_string()
    }
}

/// Who acts within an account: one of its users, or one of its apps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User {
        user_id: UserId,
        email: String,
        is_owner: bool,
    },
    App {
        app_id: AppId,
        client_id: String,
    },
}

/// A caller who acts within the account owning their directory, with their roles.
#[derive(Debug, Clone)]
pub struct Membership {
    pub scope: AccountScope,
    /// The account's sandbox clock, when it is a sandbox.
    pub clock: Option<DateTime<Utc>>,
    pub actor: Actor,
    pub roles: Vec<Role>,
}

impl Membership {
    /// The account's now: its sandbox clock, or the wall clock's `wall`. Every rule of the
    /// account reads time through this (DESIGN §9).
    pub fn now(&self, wall: DateTime<Utc>) -> DateTime<Utc> {
        self.clock.unwrap_or(wall)
    }

    pub fn is_sandbox(&self) -> bool {
        self.clock.is_some()
    }

    pub fn has_any_role(&self, roles: &[Role]) -> bool {
        self.roles.iter().any(|role| roles.contains(role))
    }

    /// The user id, when the caller is a person.
    pub fn user_id(&self) -> Option<UserId> {
        match &self.actor {
            Actor::User { user_id, .. } => Some(*user_id),
            Actor::App { .. } => None,
        }
    }
}

/// Where a directory principal stands.
#[derive(Debug, Clone)]
pub enum Standing {
    /// The directory has no partner account yet.
    NoAccount,
    /// The directory has an account, but the caller is not one of its users.
    NotAMember {
        account_id: AccountId,
    },
    Member(Membership),
}

/// Operators act across accounts. Only an operator principal yields this.
#[derive(Debug, Clone, Copy)]
pub struct OperatorAccess(());

impl OperatorAccess {
    pub fn for_principal(principal: &Principal) -> Option<Self> {
        matches!(principal, Principal::Operator { .. }).then_some(Self(()))
    }

    /// Operators reach any account by id; the scope they get is as narrow as a member's.
    pub fn scope(&self, account_id: AccountId) -> AccountScope {
        AccountScope::new(account_id)
    }
}

/// One row of [`resolve_user`]: the account's id, owner and sandbox clock; the person's id and
/// email (absent when the directory's account has no such person); one of their roles.
type StandingRow = (
    String,
    String,
    Option<NaiveDateTime>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Resolves a person of a directory to their membership of the directory's account.
pub fn resolve_user(
    conn: &mut DbConnection,
    directory: DirectoryId,
    email: &EmailAddress,
) -> DbResult<Standing> {
    // One statement, as every authenticated request runs it: the directory's account, the
    // person in it (if any) and their roles, one row per role (one row without a role or a
    // person).
    let query = accounts::table
        .left_join(
            users::table.on(users::account_id
                .eq(accounts::id)
                .and(users::email_key.eq(email.as_str().to_lowercase()))),
        )
        .left_join(
            user_roles::table.on(user_roles::account_id
                .eq(accounts::id)
                .and(user_roles::user_id.nullable().eq(users::id.nullable()))),
        )
        .filter(accounts::directory_id.eq(directory.to_string()))
        .select((
            accounts::id,
            accounts::owner_user_id,
            accounts::sandbox_clock,
            users::id.nullable(),
            users::email.nullable(),
            user_roles::role.nullable(),
        ));
    let rows: Vec<StandingRow> = load_native(conn, query)?;
    let Some((account_key, owner_user_id, clock, user, user_email, _)) = rows.first() else {
        return Ok(Standing::NoAccount);
    };
    let account_id = parse_id::<AccountId>("accounts", account_key)?;
    let (Some(user_key), Some(user_email)) = (user, user_email) else {
        return Ok(Standing::NotAMember { account_id });
    };
    let roles: Vec<String> = rows.iter().filter_map(|row| row.5.clone()).collect();
    Ok(Standing::Member(Membership {
        scope: AccountScope::new(account_id),
        clock: clock.map(from_db_time),
        actor: Actor::User {
            user_id: parse_id::<UserId>("users", user_key)?,
            email: user_email.clone(),
            is_owner: owner_user_id == user_key,
        },
        roles: parse_roles("user_roles", &roles)?,
    }))
}

/// Resolves an app token to the app, if the app still exists in the directory's account.
/// A deleted app resolves to `None`: its tokens stop working at once.
pub fn resolve_app(
    conn: &mut DbConnection,
    directory: DirectoryId,
    client_id: &str,
) -> DbResult<Option<Membership>> {
    let found: Option<(String, String, Option<NaiveDateTime>)> = apps::table
        .inner_join(accounts::table.on(accounts::id.eq(apps::account_id)))
        .filter(accounts::directory_id.eq(directory.to_string()))
        .filter(apps::client_id.eq(client_id))
        .select((apps::account_id, apps::id, accounts::sandbox_clock))
        .first(conn)
        .optional()?;
    let Some((account_key, app_key, clock)) = found else {
        return Ok(None);
    };
    let roles = app_roles::table
        .filter(app_roles::account_id.eq(&account_key))
        .filter(app_roles::app_id.eq(&app_key))
        .select(app_roles::role)
        .load::<String>(conn)?;
    Ok(Some(Membership {
        scope: AccountScope::new(parse_id("apps", &account_key)?),
        clock: clock.map(from_db_time),
        actor: Actor::App {
            app_id: parse_id("apps", &app_key)?,
            client_id: client_id.to_owned(),
        },
        roles: parse_roles("app_roles", &roles)?,
    }))
}

pub(crate) fn parse_roles(table: &'static str, ids: &[String]) -> DbResult<Vec<Role>> {
    let roles = ids
        .iter()
        .map(|id| {
            Role::parse(id).ok_or_else(|| DbError::corrupt(table, format!("unknown role {id:?}")))
        })
        .collect::<DbResult<Vec<Role>>>()?;
    Ok(sorted(roles))
}

fn sorted(mut roles: Vec<Role>) -> Vec<Role> {
    roles.sort();
    roles
}

pub(crate) fn parse_id<T: std::str::FromStr>(table: &'static str, raw: &str) -> DbResult<T> {
    raw.parse()
        .map_err(|_| DbError::corrupt(table, format!("invalid id {raw:?}")))
}
