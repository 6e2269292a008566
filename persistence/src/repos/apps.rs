//! Integration apps: client-credential identities of an account, with roles like users.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::ids::{AppId, DirectoryId};
use domain::role::Role;
use std::collections::HashMap;

use crate::connection::DbConnection;
use crate::error::{DbError, DbResult};
use crate::page::{Page, PageRequest};
use crate::repos::{from_db_time, to_db_time};
use crate::schema::{accounts, app_roles, apps};
use crate::tenant::{AccountScope, parse_id, parse_roles};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: AppId,
    pub client_id: String,
    pub name: String,
    pub roles: Vec<Role>,
    /// The last characters of the current secret, to tell secrets apart.
    pub secret_hint: String,
    pub secret_created_at: DateTime<Utc>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = apps)]
struct Row {
    id: String,
    client_id: String,
    name: String,
    secret_hint: String,
    secret_created_at: chrono::NaiveDateTime,
    created_by: String,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

fn assemble(conn: &mut DbConnection, scope: &AccountScope, rows: Vec<Row>) -> DbResult<Vec<App>> {
    let ids: Vec<&String> = rows.iter().map(|row| &row.id).collect();
    let mut roles: HashMap<String, Vec<String>> = HashMap::new();
    for (app, role) in app_roles::table
        .filter(app_roles::account_id.eq(scope.key()))
        .filter(app_roles::app_id.eq_any(ids))
        .select((app_roles::app_id, app_roles::role))
        .load::<(String, String)>(conn)?
    {
        roles.entry(app).or_default().push(role);
    }
    rows.into_iter()
        .map(|row| {
            Ok(App {
                id: parse_id("apps", &row.id)?,
                roles: parse_roles(
                    "app_roles",
                    roles.get(&row.id).map_or(&[][..], Vec::as_slice),
                )?,
                client_id: row.client_id,
                name: row.name,
                secret_hint: row.secret_hint,
                secret_created_at: from_db_time(row.secret_created_at),
                created_by: row.created_by,
                created_at: from_db_time(row.created_at),
                updated_at: from_db_time(row.updated_at),
            })
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct NewApp {
    pub name: String,
    pub roles: Vec<Role>,
    pub client_id: String,
    pub secret_hash: String,
    pub secret_hint: String,
    pub created_by: String,
}

pub fn create(
    conn: &mut DbConnection,
    scope: &AccountScope,
    new: &NewApp,
    now: DateTime<Utc>,
) -> DbResult<App> {
    let id = AppId::generate();
    diesel::insert_into(apps::table)
        .values((
            apps::account_id.eq(scope.key()),
            apps::id.eq(id.to_string()),
            apps::client_id.eq(&new.client_id),
            apps::name.eq(&new.name),
            apps::secret_hash.eq(&new.secret_hash),
            apps::secret_hint.eq(&new.secret_hint),
            apps::secret_created_at.eq(to_db_time(now)),
            apps::created_by.eq(&new.created_by),
            apps::version.eq(1),
            apps::created_at.eq(to_db_time(now)),
            apps::updated_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    // One row at a time: MultiConnection has no batch insert for SQLite.
    for role in &new.roles {
        diesel::insert_into(app_roles::table)
            .values((
                app_roles::account_id.eq(scope.key()),
                app_roles::app_id.eq(id.to_string()),
                app_roles::role.eq(role.id()),
            ))
            .execute(conn)?;
    }
    get(conn, scope, id)?
        .ok_or_else(|| DbError::corrupt("apps", "an app vanished inside its own transaction"))
}

pub fn list(
    conn: &mut DbConnection,
    scope: &AccountScope,
    page: &PageRequest,
) -> DbResult<Page<App>> {
    let mut query = apps::table
        .filter(apps::account_id.eq(scope.key()))
        .select(Row::as_select())
        .order(apps::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(apps::id.gt(after.clone()));
    }
    let rows = query.load::<Row>(conn)?;
    let apps = assemble(conn, scope, rows)?;
    Ok(page.finish(apps, |app| app.id.to_string()))
}

pub fn get(conn: &mut DbConnection, scope: &AccountScope, id: AppId) -> DbResult<Option<App>> {
    let row = apps::table
        .filter(apps::account_id.eq(scope.key()))
        .filter(apps::id.eq(id.to_string()))
        .select(Row::as_select())
        .first::<Row>(conn)
        .optional()?;
    Ok(match row {
        Some(row) => assemble(conn, scope, vec![row])?.pop(),
        None => None,
    })
}

/// Replaces the secret; the old one stops working at once.
pub fn rotate_secret(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: AppId,
    secret_hash: &str,
    secret_hint: &str,
    now: DateTime<Utc>,
) -> DbResult<Option<App>> {
    let updated = diesel::update(
        apps::table
            .filter(apps::account_id.eq(scope.key()))
            .filter(apps::id.eq(id.to_string())),
    )
    .set((
        apps::secret_hash.eq(secret_hash),
        apps::secret_hint.eq(secret_hint),
        apps::secret_created_at.eq(to_db_time(now)),
        apps::version.eq(apps::version + 1),
        apps::updated_at.eq(to_db_time(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    get(conn, scope, id)
}

pub fn delete(conn: &mut DbConnection, scope: &AccountScope, id: AppId) -> DbResult<bool> {
    let deleted = diesel::delete(
        apps::table
            .filter(apps::account_id.eq(scope.key()))
            .filter(apps::id.eq(id.to_string())),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

/// What the token endpoint needs to authenticate a client: its secret hash and directory.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub client_id: String,
    pub secret_hash: String,
    pub directory_id: DirectoryId,
}

/// Looks an app up by client id, across accounts: the client id is the only thing the token
/// endpoint is told, and the secret proves the rest.
pub fn credentials(conn: &mut DbConnection, client_id: &str) -> DbResult<Option<Credentials>> {
    let found: Option<(String, String)> = apps::table
        .inner_join(accounts::table.on(accounts::id.eq(apps::account_id)))
        .filter(apps::client_id.eq(client_id))
        .select((apps::secret_hash, accounts::directory_id))
        .first(conn)
        .optional()?;
    found
        .map(|(secret_hash, directory)| {
            Ok(Credentials {
                client_id: client_id.to_owned(),
                secret_hash,
                directory_id: parse_id("accounts", &directory)?,
            })
        })
        .transpose()
}
