//! The users of an account and their roles, and a person's memberships across accounts.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::email::EmailAddress;
use domain::ids::{AccountId, DirectoryId, UserId};
use domain::role::Role;
use std::collections::HashMap;

use crate::connection::{DbConnection, recoverable};
use crate::error::{DbResult, is_unique_violation_on};
use crate::page::{Page, PageRequest};
use crate::repos::search::{self, Target};
use crate::repos::{from_db_time, to_db_time};
use crate::schema::{accounts, user_roles, users};
use crate::tenant::{AccountScope, parse_id, parse_roles};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub roles: Vec<Role>,
    pub is_owner: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct Row {
    id: String,
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    version: i64,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

fn owner_key(conn: &mut DbConnection, scope: &AccountScope) -> DbResult<String> {
    Ok(accounts::table
        .find(scope.key())
        .select(accounts::owner_user_id)
        .first(conn)?)
}

/// Attaches roles to rows, with one query for the whole page.
fn assemble(conn: &mut DbConnection, scope: &AccountScope, rows: Vec<Row>) -> DbResult<Vec<User>> {
    let owner = owner_key(conn, scope)?;
    let ids: Vec<&String> = rows.iter().map(|row| &row.id).collect();
    let mut roles: HashMap<String, Vec<String>> = HashMap::new();
    for (user, role) in user_roles::table
        .filter(user_roles::account_id.eq(scope.key()))
        .filter(user_roles::user_id.eq_any(ids))
        .select((user_roles::user_id, user_roles::role))
        .load::<(String, String)>(conn)?
    {
        roles.entry(user).or_default().push(role);
    }
    rows.into_iter()
        .map(|row| {
            Ok(User {
                id: parse_id("users", &row.id)?,
                roles: parse_roles(
                    "user_roles",
                    roles.get(&row.id).map_or(&[][..], Vec::as_slice),
                )?,
                is_owner: row.id == owner,
                email: row.email,
                first_name: row.first_name,
                last_name: row.last_name,
                version: row.version,
                created_at: from_db_time(row.created_at),
                updated_at: from_db_time(row.updated_at),
            })
        })
        .collect()
}

/// The account's users, oldest first; with `role`, only its holders.
pub fn list(
    conn: &mut DbConnection,
    scope: &AccountScope,
    role: Option<Role>,
    page: &PageRequest,
) -> DbResult<Page<User>> {
    let mut query = users::table
        .filter(users::account_id.eq(scope.key()))
        .select(Row::as_select())
        .order(users::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(role) = role {
        let holders = user_roles::table
            .filter(user_roles::account_id.eq(scope.key()))
            .filter(user_roles::role.eq(role.id()))
            .select(user_roles::user_id);
        query = query.filter(users::id.eq_any(holders));
    }
    if let Some(after) = &page.after {
        query = query.filter(users::id.gt(after.clone()));
    }
    let rows = query.load::<Row>(conn)?;
    let users = assemble(conn, scope, rows)?;
    Ok(page.finish(users, |user| user.id.to_string()))
}

/// Every user holding any of `roles` (for "admins to contact"), oldest first.
pub fn holding_any(
    conn: &mut DbConnection,
    scope: &AccountScope,
    roles: &[Role],
) -> DbResult<Vec<User>> {
    let role_ids: Vec<&str> = roles.iter().map(|role| role.id()).collect();
    let holders = user_roles::table
        .filter(user_roles::account_id.eq(scope.key()))
        .filter(user_roles::role.eq_any(role_ids))
        .select(user_roles::user_id);
    let rows = users::table
        .filter(users::account_id.eq(scope.key()))
        .filter(users::id.eq_any(holders))
        .select(Row::as_select())
        .order(users::id.asc())
        .load::<Row>(conn)?;
    assemble(conn, scope, rows)
}

pub fn get(conn: &mut DbConnection, scope: &AccountScope, id: UserId) -> DbResult<Option<User>> {
    let row = users::table
        .filter(users::account_id.eq(scope.key()))
        .filter(users::id.eq(id.to_string()))
        .select(Row::as_select())
        .first::<Row>(conn)
        .optional()?;
    Ok(match row {
        Some(row) => assemble(conn, scope, vec![row])?.pop(),
        None => None,
    })
}

pub fn count_holders(conn: &mut DbConnection, scope: &AccountScope, role: Role) -> DbResult<usize> {
    let count: i64 = user_roles::table
        .filter(user_roles::account_id.eq(scope.key()))
        .filter(user_roles::role.eq(role.id()))
        .count()
        .get_result(conn)?;
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: EmailAddress,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub roles: Vec<Role>,
}

/// The account already has a user with this email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmailTaken;

pub fn create(
    conn: &mut DbConnection,
    scope: &AccountScope,
    new: &NewUser,
    now: DateTime<Utc>,
) -> DbResult<Result<User, EmailTaken>> {
    let id = UserId::generate();
    // Recoverable, so a duplicate does not abort the enclosing transaction on PostgreSQL.
    let inserted = recoverable(conn, |conn| {
        diesel::insert_into(users::table)
            .values((
                users::account_id.eq(scope.key()),
                users::id.eq(id.to_string()),
                users::email.eq(new.email.as_str()),
                users::email_key.eq(new.email.as_str().to_lowercase()),
                users::first_name.eq(&new.first_name),
                users::last_name.eq(&new.last_name),
                users::created_at.eq(to_db_time(now)),
                users::updated_at.eq(to_db_time(now)),
                users::version.eq(1),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => {}
        Err(error) if is_unique_violation_on(&error, "email") => return Ok(Err(EmailTaken)),
        Err(error) => return Err(error.into()),
    }
    insert_roles(conn, scope, id, &new.roles)?;
    search::reindex(conn, scope, Target::User(id))?;
    Ok(Ok(get(conn, scope, id)?.ok_or_else(|| {
        crate::DbError::corrupt("users", "a user vanished inside its own transaction")
    })?))
}

fn insert_roles(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: UserId,
    roles: &[Role],
) -> DbResult<()> {
    // One row at a time: MultiConnection has no batch insert for SQLite.
    for role in roles {
        diesel::insert_into(user_roles::table)
            .values((
                user_roles::account_id.eq(scope.key()),
                user_roles::user_id.eq(id.to_string()),
                user_roles::role.eq(role.id()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Bumps the version if it is still `expected`; false when another change won the race.
fn bump(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: UserId,
    expected: i64,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let updated = diesel::update(
        users::table
            .filter(users::account_id.eq(scope.key()))
            .filter(users::id.eq(id.to_string()))
            .filter(users::version.eq(expected)),
    )
    .set((
        users::version.eq(expected + 1),
        users::updated_at.eq(to_db_time(now)),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Sets the names of version `expected` of a user; `None` when it changed meanwhile.
pub fn update_names(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: UserId,
    first_name: Option<&str>,
    last_name: Option<&str>,
    expected: i64,
    now: DateTime<Utc>,
) -> DbResult<Option<User>> {
    if !bump(conn, scope, id, expected, now)? {
        return Ok(None);
    }
    diesel::update(
        users::table
            .filter(users::account_id.eq(scope.key()))
            .filter(users::id.eq(id.to_string())),
    )
    .set((
        users::first_name.eq(first_name),
        users::last_name.eq(last_name),
    ))
    .execute(conn)?;
    search::reindex(conn, scope, Target::User(id))?;
    get(conn, scope, id)
}

/// Replaces the roles of version `expected` of a user; `None` when it changed meanwhile.
pub fn set_roles(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: UserId,
    roles: &[Role],
    expected: i64,
    now: DateTime<Utc>,
) -> DbResult<Option<User>> {
    if !bump(conn, scope, id, expected, now)? {
        return Ok(None);
    }
    diesel::delete(
        user_roles::table
            .filter(user_roles::account_id.eq(scope.key()))
            .filter(user_roles::user_id.eq(id.to_string())),
    )
    .execute(conn)?;
    insert_roles(conn, scope, id, roles)?;
    search::reindex(conn, scope, Target::User(id))?;
    get(conn, scope, id)
}

/// Deletes version `expected` of a user (their roles and preferences go with them); false
/// when it changed meanwhile.
pub fn delete(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: UserId,
    expected: i64,
) -> DbResult<bool> {
    let deleted = diesel::delete(
        users::table
            .filter(users::account_id.eq(scope.key()))
            .filter(users::id.eq(id.to_string()))
            .filter(users::version.eq(expected)),
    )
    .execute(conn)?;
    if deleted == 1 {
        search::reindex(conn, scope, Target::User(id))?;
    }
    Ok(deleted == 1)
}

/// One account a person belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryMembership {
    pub directory_id: DirectoryId,
    pub account_id: AccountId,
    pub partner_id: String,
    pub legal_name: String,
    pub user_id: UserId,
    pub roles: Vec<Role>,
}

/// Every account whose users include `email`, across directories (directory switching).
/// Reads other tenants by the caller's own verified email only.
pub fn memberships_of(
    conn: &mut DbConnection,
    email: &EmailAddress,
) -> DbResult<Vec<DirectoryMembership>> {
    let rows: Vec<(String, String, String, String, String)> = users::table
        .inner_join(accounts::table.on(accounts::id.eq(users::account_id)))
        .filter(users::email_key.eq(email.as_str().to_lowercase()))
        .select((
            accounts::directory_id,
            accounts::id,
            accounts::partner_id,
            accounts::legal_name,
            users::id,
        ))
        .order(accounts::id.asc())
        .load(conn)?;
    rows.into_iter()
        .map(|(directory, account, partner_id, legal_name, user)| {
            let roles = user_roles::table
                .filter(user_roles::account_id.eq(&account))
                .filter(user_roles::user_id.eq(&user))
                .select(user_roles::role)
                .load::<String>(conn)?;
            Ok(DirectoryMembership {
                directory_id: parse_id("accounts", &directory)?,
                account_id: parse_id("accounts", &account)?,
                user_id: parse_id("users", &user)?,
                roles: parse_roles("user_roles", &roles)?,
                partner_id,
                legal_name,
            })
        })
        .collect()
}
