//! The tenant-scoped access path. Account-owned rows are only reachable through an
//! [`AccountScope`], and only this module builds one: from the caller's verified directory and
//! identity, or, for operators, from an [`OperatorAccess`] that only an operator principal yields.
//! A handler therefore cannot query another account's rows by forgetting a filter: it has no
//! way to name the account other than the scope it was given.

use diesel::prelude::*;
use domain::email::EmailAddress;
use domain::ids::{AccountId, DirectoryId, UserId};
use domain::principal::Principal;
use domain::role::Role;

use crate::connection::DbConnection;
use crate::error::{DbError, DbResult};
use crate::schema::{accounts, user_roles, users};

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

/// A caller who is a member of the account owning their directory.
#[derive(Debug, Clone)]
pub struct Membership {
    pub scope: AccountScope,
    pub user_id: UserId,
    pub email: String,
    pub roles: Vec<Role>,
    pub is_owner: bool,
}

impl Membership {
    pub fn has_any_role(&self, roles: &[Role]) -> bool {
        self.roles.iter().any(|role| roles.contains(role))
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

/// Resolves a person of a directory to their membership of the directory's account.
pub fn resolve_user(
    conn: &mut DbConnection,
    directory: DirectoryId,
    email: &EmailAddress,
) -> DbResult<Standing> {
    let account: Option<(String, String)> = accounts::table
        .filter(accounts::directory_id.eq(directory.to_string()))
        .select((accounts::id, accounts::owner_user_id))
        .first(conn)
        .optional()?;
    let Some((account_key, owner_user_id)) = account else {
        return Ok(Standing::NoAccount);
    };
    let account_id = parse_id::<AccountId>("accounts", &account_key)?;
    let user: Option<(String, String)> = users::table
        .filter(users::account_id.eq(&account_key))
        .filter(users::email_key.eq(email.as_str().to_lowercase()))
        .select((users::id, users::email))
        .first(conn)
        .optional()?;
    let Some((user_key, user_email)) = user else {
        return Ok(Standing::NotAMember { account_id });
    };
    let roles = user_roles::table
        .filter(user_roles::account_id.eq(&account_key))
        .filter(user_roles::user_id.eq(&user_key))
        .select(user_roles::role)
        .load::<String>(conn)?
        .iter()
        .map(|id| {
            Role::parse(id)
                .ok_or_else(|| DbError::corrupt("user_roles", format!("unknown role {id:?}")))
        })
        .collect::<DbResult<Vec<Role>>>()?;
    Ok(Standing::Member(Membership {
        scope: AccountScope::new(account_id),
        user_id: parse_id::<UserId>("users", &user_key)?,
        email: user_email,
        is_owner: owner_user_id == user_key,
        roles: sorted(roles),
    }))
}

fn sorted(mut roles: Vec<Role>) -> Vec<Role> {
    roles.sort();
    roles
}

pub(crate) fn parse_id<T: std::str::FromStr>(table: &'static str, raw: &str) -> DbResult<T> {
    raw.parse()
        .map_err(|_| DbError::corrupt(table, format!("invalid id {raw:?}")))
}
