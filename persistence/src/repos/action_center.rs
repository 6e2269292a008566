//! Action Center items, per-person archives, notification preferences, and the mail each
//! raised item sends to the people it concerns.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::action_center::{
    Audience, Category, Class, EmailCategory, Kind, NewItem, Priority, email_allowed,
};
use domain::ids::{ItemId, UserId};
use domain::role::Role;
use domain::webhooks::EventType;
use domain::workspace::Workspace;

use crate::connection::{DbConnection, recoverable};
use crate::error::{DbError, DbResult};
use crate::page::{Page, PageRequest};
use crate::repos::{from_db_time, outbox, to_db_time, users, webhooks};
use crate::schema::{action_center_archives, action_center_items, notification_preferences};
use crate::tenant::{AccountScope, parse_id};

/// An item as one person sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: ItemId,
    pub class: Class,
    pub event: String,
    pub workspace: Workspace,
    pub personal: bool,
    pub title: String,
    pub message: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Where an item stands for the person looking at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Archived,
    Completed,
}

impl Item {
    pub fn status(&self) -> Status {
        if self.completed_at.is_some() {
            Status::Completed
        } else if self.archived_at.is_some() {
            Status::Archived
        } else {
            Status::Active
        }
    }
}

/// What an item is about (the user added, the account verified, ...).
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub kind: &'a str,
    pub id: &'a str,
}

fn class_columns(class: Class) -> (&'static str, Option<&'static str>, Option<&'static str>) {
    match class {
        Class::Action(priority) => (
            "action",
            Some(match priority {
                Priority::Mandatory => "mandatory",
                Priority::Recommended => "recommended",
            }),
            None,
        ),
        Class::Notification(category) => (
            "notification",
            None,
            Some(match category {
                Category::Transactional => "transactional",
                Category::Promotional => "promotional",
            }),
        ),
    }
}

fn class_from(kind: &str, priority: Option<&str>, category: Option<&str>) -> Option<Class> {
    Some(match (kind, priority, category) {
        ("action", Some("mandatory"), _) => Class::Action(Priority::Mandatory),
        ("action", Some("recommended"), _) => Class::Action(Priority::Recommended),
        ("notification", _, Some("transactional")) => Class::Notification(Category::Transactional),
        ("notification", _, Some("promotional")) => Class::Notification(Category::Promotional),
        _ => return None,
    })
}

/// Raises an item and queues its email to each person it concerns whose verified contact
/// email and opt-outs allow it. Returns the item's id.
pub fn raise(
    conn: &mut DbConnection,
    scope: &AccountScope,
    item: &NewItem<UserId>,
    target: Option<Target<'_>>,
    now: DateTime<Utc>,
) -> DbResult<ItemId> {
    let id = ItemId::generate();
    let (kind, priority, category) = class_columns(item.class);
    let personal = match &item.audience {
        Audience::User(user) => Some(user.to_string()),
        Audience::Workspace => None,
    };
    diesel::insert_into(action_center_items::table)
        .values((
            action_center_items::account_id.eq(scope.key()),
            action_center_items::id.eq(id.to_string()),
            action_center_items::kind.eq(kind),
            action_center_items::priority.eq(priority),
            action_center_items::category.eq(category),
            action_center_items::event.eq(item.event),
            action_center_items::workspace.eq(item.workspace.id()),
            action_center_items::user_id.eq(&personal),
            action_center_items::title.eq(&item.title),
            action_center_items::message.eq(&item.message),
            action_center_items::target_type.eq(target.map(|t| t.kind)),
            action_center_items::target_id.eq(target.map(|t| t.id)),
            action_center_items::due_at.eq(item.due_at.map(to_db_time)),
            action_center_items::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    webhooks::publish(
        conn,
        scope,
        EventType::ActionCenterItemCreated,
        serde_json::json!({
            "object": "action_center_item",
            "id": id.to_string(),
            "details": {
                "kind": kind,
                "priority": priority,
                "category": category,
                "event": item.event,
                "workspace": item.workspace.id(),
                "user_id": personal,
                "title": item.title,
                "due_at": item.due_at,
                "target_type": target.map(|t| t.kind),
                "target_id": target.map(|t| t.id),
            },
        }),
        None,
        now,
    )?;

    let recipients: Vec<UserId> = match &item.audience {
        Audience::User(user) => vec![*user],
        Audience::Workspace => users::holding_any(conn, scope, &item.workspace.granted_by())?
            .into_iter()
            .map(|user| user.id)
            .collect(),
    };
    let category = item.class.email_category();
    let body = match item.due_at {
        Some(due) => format!("{}\n\nDue: {}\n", item.message, due.to_rfc3339()),
        None => format!("{}\n", item.message),
    };
    for user in recipients {
        let preferences = get_preferences(conn, scope, user)?;
        let (Some(email), true) = (&preferences.contact_email, preferences.verified()) else {
            continue;
        };
        if email_allowed(category, &preferences.opted_out()) {
            outbox::enqueue(conn, scope, email, &item.title, &body, None, now)?;
        }
    }
    Ok(id)
}

/// Marks the open items raised by `event` completed (the action they asked for was done).
pub fn complete(
    conn: &mut DbConnection,
    scope: &AccountScope,
    event: &str,
    now: DateTime<Utc>,
) -> DbResult<usize> {
    Ok(diesel::update(
        action_center_items::table
            .filter(action_center_items::account_id.eq(scope.key()))
            .filter(action_center_items::event.eq(event))
            .filter(action_center_items::completed_at.is_null()),
    )
    .set(action_center_items::completed_at.eq(Some(to_db_time(now))))
    .execute(conn)?)
}

/// Who is looking: their id and the workspaces their roles reach.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user_id: UserId,
    pub workspaces: Vec<Workspace>,
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub kind: Option<Kind>,
    pub priority: Option<Priority>,
    pub status: Option<Status>,
}

type ItemRow = (
    (
        String,
        String,
        Option<String>,
        Option<String>,
        String,
        String,
        Option<String>,
        String,
        String,
    ),
    (
        Option<String>,
        Option<String>,
        Option<chrono::NaiveDateTime>,
        Option<chrono::NaiveDateTime>,
        chrono::NaiveDateTime,
    ),
    Option<chrono::NaiveDateTime>,
);

macro_rules! visible_items {
    ($scope:expr, $viewer:expr) => {{
        let workspaces: Vec<&'static str> = $viewer.workspaces.iter().map(|w| w.id()).collect();
        let me = $viewer.user_id.to_string();
        action_center_items::table
            .left_join(
                action_center_archives::table.on(action_center_archives::account_id
                    .eq(action_center_items::account_id)
                    .and(action_center_archives::item_id.eq(action_center_items::id))
                    .and(action_center_archives::user_id.eq(me.clone()))),
            )
            .filter(action_center_items::account_id.eq($scope.key()))
            .filter(
                action_center_items::user_id
                    .eq(me)
                    .or(action_center_items::user_id
                        .is_null()
                        .and(action_center_items::workspace.eq_any(workspaces))),
            )
            .select((
                (
                    action_center_items::id,
                    action_center_items::kind,
                    action_center_items::priority,
                    action_center_items::category,
                    action_center_items::event,
                    action_center_items::workspace,
                    action_center_items::user_id,
                    action_center_items::title,
                    action_center_items::message,
                ),
                (
                    action_center_items::target_type,
                    action_center_items::target_id,
                    action_center_items::due_at,
                    action_center_items::completed_at,
                    action_center_items::created_at,
                ),
                action_center_archives::archived_at.nullable(),
            ))
            .into_boxed()
    }};
}

fn item_from(row: ItemRow) -> DbResult<Item> {
    let ((id, kind, priority, category, event, workspace, user, title, message), rest, archived) =
        row;
    let (target_type, target_id, due_at, completed_at, created_at) = rest;
    Ok(Item {
        id: parse_id("action_center_items", &id)?,
        class: class_from(&kind, priority.as_deref(), category.as_deref())
            .ok_or_else(|| DbError::corrupt("action_center_items", format!("class of {id}")))?,
        workspace: Workspace::parse(&workspace).ok_or_else(|| {
            DbError::corrupt("action_center_items", format!("workspace {workspace:?}"))
        })?,
        personal: user.is_some(),
        event,
        title,
        message,
        target_type,
        target_id,
        due_at: due_at.map(from_db_time),
        completed_at: completed_at.map(from_db_time),
        archived_at: archived.map(from_db_time),
        created_at: from_db_time(created_at),
    })
}

/// The items `viewer` sees, newest first.
pub fn list(
    conn: &mut DbConnection,
    scope: &AccountScope,
    viewer: &Viewer,
    filter: &Filter,
    page: &PageRequest,
) -> DbResult<Page<Item>> {
    let mut query = visible_items!(scope, viewer)
        .order(action_center_items::id.desc())
        .limit(page.fetch_limit());
    if let Some(kind) = filter.kind {
        query = query.filter(action_center_items::kind.eq(match kind {
            Kind::Action => "action",
            Kind::Notification => "notification",
        }));
    }
    if let Some(priority) = filter.priority {
        let (_, priority, _) = class_columns(Class::Action(priority));
        query = query.filter(action_center_items::priority.eq(priority));
    }
    match filter.status {
        Some(Status::Completed) => {
            query = query.filter(action_center_items::completed_at.is_not_null());
        }
        Some(Status::Archived) => {
            query = query
                .filter(action_center_items::completed_at.is_null())
                .filter(action_center_archives::archived_at.nullable().is_not_null());
        }
        Some(Status::Active) => {
            query = query
                .filter(action_center_items::completed_at.is_null())
                .filter(action_center_archives::archived_at.nullable().is_null());
        }
        None => {}
    }
    if let Some(after) = &page.after {
        query = query.filter(action_center_items::id.lt(after.clone()));
    }
    let rows = query
        .load::<ItemRow>(conn)?
        .into_iter()
        .map(item_from)
        .collect::<DbResult<Vec<_>>>()?;
    Ok(page.finish(rows, |item| item.id.to_string()))
}

/// One item, if `viewer` sees it.
pub fn get(
    conn: &mut DbConnection,
    scope: &AccountScope,
    viewer: &Viewer,
    id: ItemId,
) -> DbResult<Option<Item>> {
    visible_items!(scope, viewer)
        .filter(action_center_items::id.eq(id.to_string()))
        .first::<ItemRow>(conn)
        .optional()?
        .map(item_from)
        .transpose()
}

/// Archives an item for one person; archiving twice keeps the first time. Returns whether
/// this call archived it.
pub fn archive(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: ItemId,
    user: UserId,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    // Recoverable, so a concurrent archive of the same item (its row already there) is no
    // error and does not abort the enclosing transaction on PostgreSQL.
    let inserted = recoverable(conn, |conn| {
        diesel::insert_into(action_center_archives::table)
            .values((
                action_center_archives::account_id.eq(scope.key()),
                action_center_archives::item_id.eq(id.to_string()),
                action_center_archives::user_id.eq(user.to_string()),
                action_center_archives::archived_at.eq(to_db_time(now)),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// A person's notification preferences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub contact_email: Option<String>,
    pub contact_email_verified_at: Option<DateTime<Utc>>,
    pub language: String,
    pub promotional_opt_out: bool,
    pub transactional_opt_out: bool,
    pub code_hash: Option<String>,
    pub code_expires_at: Option<DateTime<Utc>>,
    pub code_attempts: i32,
    /// 0 until first saved.
    pub version: i64,
}

pub const DEFAULT_LANGUAGE: &str = "en";

impl Preferences {
    fn defaults() -> Self {
        Preferences {
            contact_email: None,
            contact_email_verified_at: None,
            language: DEFAULT_LANGUAGE.to_owned(),
            promotional_opt_out: false,
            transactional_opt_out: false,
            code_hash: None,
            code_expires_at: None,
            code_attempts: 0,
            version: 0,
        }
    }

    pub fn verified(&self) -> bool {
        self.contact_email.is_some() && self.contact_email_verified_at.is_some()
    }

    /// A contact email is set and its code not yet confirmed.
    pub fn awaiting_verification(&self) -> bool {
        self.contact_email.is_some() && self.contact_email_verified_at.is_none()
    }

    pub fn opted_out(&self) -> Vec<EmailCategory> {
        let mut out = Vec::new();
        if self.transactional_opt_out {
            out.push(EmailCategory::Transactional);
        }
        if self.promotional_opt_out {
            out.push(EmailCategory::Promotional);
        }
        out
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = notification_preferences)]
struct PreferencesRow {
    contact_email: Option<String>,
    contact_email_verified_at: Option<chrono::NaiveDateTime>,
    language: String,
    promotional_opt_out: i32,
    transactional_opt_out: i32,
    code_hash: Option<String>,
    code_expires_at: Option<chrono::NaiveDateTime>,
    code_attempts: i32,
    version: i64,
}

/// A person's preferences; the defaults until they save some.
pub fn get_preferences(
    conn: &mut DbConnection,
    scope: &AccountScope,
    user: UserId,
) -> DbResult<Preferences> {
    let row = notification_preferences::table
        .filter(notification_preferences::account_id.eq(scope.key()))
        .filter(notification_preferences::user_id.eq(user.to_string()))
        .select(PreferencesRow::as_select())
        .first::<PreferencesRow>(conn)
        .optional()?;
    Ok(match row {
        None => Preferences::defaults(),
        Some(row) => Preferences {
            contact_email: row.contact_email,
            contact_email_verified_at: row.contact_email_verified_at.map(from_db_time),
            language: row.language,
            promotional_opt_out: row.promotional_opt_out != 0,
            transactional_opt_out: row.transactional_opt_out != 0,
            code_hash: row.code_hash,
            code_expires_at: row.code_expires_at.map(from_db_time),
            code_attempts: row.code_attempts,
            version: row.version,
        },
    })
}

/// Stores `preferences` if the stored version is still `preferences.version`; returns the
/// saved preferences (with the next version), or `None` when another change won the race.
pub fn save_preferences(
    conn: &mut DbConnection,
    scope: &AccountScope,
    user: UserId,
    preferences: &Preferences,
    now: DateTime<Utc>,
) -> DbResult<Option<Preferences>> {
    let expected = preferences.version;
    let values = (
        notification_preferences::contact_email.eq(&preferences.contact_email),
        notification_preferences::contact_email_verified_at
            .eq(preferences.contact_email_verified_at.map(to_db_time)),
        notification_preferences::language.eq(&preferences.language),
        notification_preferences::promotional_opt_out
            .eq(i32::from(preferences.promotional_opt_out)),
        notification_preferences::transactional_opt_out
            .eq(i32::from(preferences.transactional_opt_out)),
        notification_preferences::code_hash.eq(&preferences.code_hash),
        notification_preferences::code_expires_at.eq(preferences.code_expires_at.map(to_db_time)),
        notification_preferences::code_attempts.eq(preferences.code_attempts),
        notification_preferences::version.eq(expected + 1),
        notification_preferences::updated_at.eq(to_db_time(now)),
    );
    let written = if expected == 0 {
        let inserted = recoverable(conn, |conn| {
            diesel::insert_into(notification_preferences::table)
                .values((
                    notification_preferences::account_id.eq(scope.key()),
                    notification_preferences::user_id.eq(user.to_string()),
                    values,
                ))
                .execute(conn)
        });
        match inserted {
            Ok(count) => count,
            // Someone saved the first version first.
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => 0,
            Err(error) => return Err(error.into()),
        }
    } else {
        diesel::update(
            notification_preferences::table
                .filter(notification_preferences::account_id.eq(scope.key()))
                .filter(notification_preferences::user_id.eq(user.to_string()))
                .filter(notification_preferences::version.eq(expected)),
        )
        .set(values)
        .execute(conn)?
    };
    if written == 0 {
        return Ok(None);
    }
    get_preferences(conn, scope, user).map(Some)
}

/// Roles are needed to tell which workspace items reach a person.
pub fn viewer(user_id: UserId, roles: &[Role]) -> Viewer {
    Viewer {
        user_id,
        workspaces: domain::workspace::reached_by(roles),
    }
}
