//! Learn-profile associations, completions from the learning platform, and the credits they
//! give the account a profile is linked to.
//!
//! Profiles live in a realm: `live` for live accounts, the account's own id for a sandbox, so
//! a sandbox's links and completions never reach a live account or another sandbox.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::ids::{CompletionId, CreditId, LearningLinkId, UserId};
use domain::skilling::{CompletionKind, counts_from};

use crate::connection::{DbConnection, load_native, recoverable};
use crate::error::{DbError, DbResult, is_unique_violation_on};
use crate::page::{Page, PageRequest};
use crate::repos::{from_db_time, row_limit, to_db_time};
use crate::schema::{learning_links, skilling_completions, skilling_credits};
use crate::tenant::{AccountScope, parse_id};

const LIVE: &str = "live";

/// The realm of an account's profiles.
pub fn realm(scope: &AccountScope, sandbox: bool) -> String {
    if sandbox {
        scope.key()
    } else {
        LIVE.to_owned()
    }
}

/// The realm of the learning platform's feed.
pub fn live_realm() -> String {
    LIVE.to_owned()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecord {
    pub id: LearningLinkId,
    pub user_id: UserId,
    pub learn_id: String,
    pub linked_at: DateTime<Utc>,
    pub unlinked_at: Option<DateTime<Utc>>,
    pub unlinked_reason: Option<String>,
}

type LinkRow = (
    String,
    String,
    String,
    chrono::NaiveDateTime,
    Option<chrono::NaiveDateTime>,
    Option<String>,
);

const LINK_COLUMNS: (
    learning_links::id,
    learning_links::user_id,
    learning_links::learn_id,
    learning_links::linked_at,
    learning_links::unlinked_at,
    learning_links::unlinked_reason,
) = (
    learning_links::id,
    learning_links::user_id,
    learning_links::learn_id,
    learning_links::linked_at,
    learning_links::unlinked_at,
    learning_links::unlinked_reason,
);

fn link_from(row: LinkRow) -> DbResult<LinkRecord> {
    let (id, user_id, learn_id, linked_at, unlinked_at, unlinked_reason) = row;
    Ok(LinkRecord {
        id: parse_id("learning_links", &id)?,
        user_id: parse_id("learning_links", &user_id)?,
        learn_id,
        linked_at: from_db_time(linked_at),
        unlinked_at: unlinked_at.map(from_db_time),
        unlinked_reason,
    })
}

/// Every association the person made in this account, oldest first.
pub fn history(
    conn: &mut DbConnection,
    scope: &AccountScope,
    user_id: UserId,
) -> DbResult<Vec<LinkRecord>> {
    learning_links::table
        .filter(learning_links::account_id.eq(scope.key()))
        .filter(learning_links::user_id.eq(user_id.to_string()))
        .select(LINK_COLUMNS)
        .order((learning_links::linked_at.asc(), learning_links::id.asc()))
        .load::<LinkRow>(conn)?
        .into_iter()
        .map(link_from)
        .collect()
}

/// What linking changed.
#[derive(Debug, Clone)]
pub struct Linked {
    pub link: LinkRecord,
    /// The person's previous profile, unlinked from this account.
    pub replaced: Option<LinkRecord>,
    /// Accounts the profile was linked to before, and lost it, with the person who had
    /// linked it there.
    pub moved_from: Vec<(AccountScope, UserId)>,
    /// Completions credited to the account by this link.
    pub credited: usize,
}

/// Ends a link and withdraws its credits.
fn unlink(
    conn: &mut DbConnection,
    account_key: &str,
    link_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> DbResult<()> {
    diesel::update(learning_links::table.find((account_key, link_id)))
        .set((
            learning_links::unlinked_at.eq(Some(to_db_time(now))),
            learning_links::unlinked_reason.eq(Some(reason)),
        ))
        .execute(conn)?;
    diesel::delete(
        skilling_credits::table
            .filter(skilling_credits::account_id.eq(account_key))
            .filter(skilling_credits::link_id.eq(link_id)),
    )
    .execute(conn)?;
    Ok(())
}

/// Links `learn_id` to the person in this account at `now`: their previous profile here is
/// unlinked, the profile leaves any other account of the realm, and every completion of the
/// profile is credited with the skilling lag. The caller has checked the association rules.
pub fn link(
    conn: &mut DbConnection,
    scope: &AccountScope,
    user_id: UserId,
    learn_id: &str,
    realm: &str,
    lag_days: u32,
    now: DateTime<Utc>,
) -> DbResult<Linked> {
    let account_key = scope.key();
    let replaced = current(conn, scope, user_id)?;
    if let Some(previous) = &replaced {
        unlink(
            conn,
            &account_key,
            &previous.id.to_string(),
            "relinked",
            now,
        )?;
    }
    let elsewhere: Vec<(String, String, String)> = learning_links::table
        .filter(learning_links::realm.eq(realm))
        .filter(learning_links::learn_id.eq(learn_id))
        .filter(learning_links::unlinked_at.is_null())
        .select((
            learning_links::account_id,
            learning_links::id,
            learning_links::user_id,
        ))
        .load(conn)?;
    let mut moved_from = Vec::new();
    for (account, link_id, user) in &elsewhere {
        unlink(conn, account, link_id, "moved", now)?;
        // The scope comes from the link row itself: the profile was linked there.
        moved_from.push((
            AccountScope::new(parse_id("learning_links", account)?),
            parse_id("learning_links", user)?,
        ));
    }
    let link = LinkRecord {
        id: LearningLinkId::generate(),
        user_id,
        learn_id: learn_id.to_owned(),
        linked_at: now,
        unlinked_at: None,
        unlinked_reason: None,
    };
    diesel::insert_into(learning_links::table)
        .values((
            learning_links::account_id.eq(&account_key),
            learning_links::id.eq(link.id.to_string()),
            learning_links::user_id.eq(user_id.to_string()),
            learning_links::learn_id.eq(learn_id),
            learning_links::realm.eq(realm),
            learning_links::linked_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    let completions = completions_of(conn, realm, learn_id)?;
    for completion in &completions {
        credit(conn, &account_key, &link, completion, lag_days)?;
    }
    Ok(Linked {
        link,
        replaced,
        moved_from,
        credited: completions.len(),
    })
}

/// The person's profile linked to this account now, if any.
pub fn current(
    conn: &mut DbConnection,
    scope: &AccountScope,
    user_id: UserId,
) -> DbResult<Option<LinkRecord>> {
    learning_links::table
        .filter(learning_links::account_id.eq(scope.key()))
        .filter(learning_links::user_id.eq(user_id.to_string()))
        .filter(learning_links::unlinked_at.is_null())
        .select(LINK_COLUMNS)
        .first::<LinkRow>(conn)
        .optional()?
        .map(link_from)
        .transpose()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub id: CompletionId,
    pub learn_id: String,
    pub kind: CompletionKind,
    pub credential: String,
    pub title: String,
    pub completed_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

type CompletionRow = (
    String,
    String,
    String,
    String,
    String,
    chrono::NaiveDateTime,
    chrono::NaiveDateTime,
);

fn completion_from(row: CompletionRow) -> DbResult<Completion> {
    let (id, learn_id, kind, credential, title, completed_at, received_at) = row;
    Ok(Completion {
        id: parse_id("skilling_completions", &id)?,
        kind: CompletionKind::parse(&kind)
            .ok_or_else(|| DbError::corrupt("skilling_completions", format!("kind {kind:?}")))?,
        learn_id,
        credential,
        title,
        completed_at: from_db_time(completed_at),
        received_at: from_db_time(received_at),
    })
}

const COMPLETION_COLUMNS: (
    skilling_completions::id,
    skilling_completions::learn_id,
    skilling_completions::kind,
    skilling_completions::credential,
    skilling_completions::title,
    skilling_completions::completed_at,
    skilling_completions::received_at,
) = (
    skilling_completions::id,
    skilling_completions::learn_id,
    skilling_completions::kind,
    skilling_completions::credential,
    skilling_completions::title,
    skilling_completions::completed_at,
    skilling_completions::received_at,
);

fn completions_of(
    conn: &mut DbConnection,
    realm: &str,
    learn_id: &str,
) -> DbResult<Vec<Completion>> {
    skilling_completions::table
        .filter(skilling_completions::realm.eq(realm))
        .filter(skilling_completions::learn_id.eq(learn_id))
        .select(COMPLETION_COLUMNS)
        .order(skilling_completions::id.asc())
        .load::<CompletionRow>(conn)?
        .into_iter()
        .map(completion_from)
        .collect()
}

fn credit(
    conn: &mut DbConnection,
    account_key: &str,
    link: &LinkRecord,
    completion: &Completion,
    lag_days: u32,
) -> DbResult<DateTime<Utc>> {
    let from = counts_from(link.linked_at, completion.completed_at, lag_days);
    diesel::insert_into(skilling_credits::table)
        .values((
            skilling_credits::account_id.eq(account_key),
            skilling_credits::id.eq(CreditId::generate().to_string()),
            skilling_credits::link_id.eq(link.id.to_string()),
            skilling_credits::completion_id.eq(completion.id.to_string()),
            skilling_credits::user_id.eq(link.user_id.to_string()),
            skilling_credits::learn_id.eq(&link.learn_id),
            skilling_credits::kind.eq(completion.kind.id()),
            skilling_credits::credential.eq(&completion.credential),
            skilling_credits::title.eq(&completion.title),
            skilling_credits::completed_at.eq(to_db_time(completion.completed_at)),
            skilling_credits::counts_from.eq(to_db_time(from)),
        ))
        .execute(conn)?;
    Ok(from)
}

/// A completion to record.
#[derive(Debug, Clone)]
pub struct NewCompletion<'a> {
    pub learn_id: &'a str,
    pub kind: CompletionKind,
    pub credential: &'a str,
    pub title: &'a str,
    pub completed_at: DateTime<Utc>,
}

/// What recording a completion did.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub completion: Completion,
    /// False when the same completion (profile, credential, date) was already recorded.
    pub created: bool,
    /// The account credited and when the credit counts, if the profile is linked.
    pub credited: Option<(AccountScope, DateTime<Utc>)>,
}

/// Records a completion once, and credits the account the profile is linked to.
pub fn record_completion(
    conn: &mut DbConnection,
    realm: &str,
    new: &NewCompletion,
    lag_days: u32,
    now: DateTime<Utc>,
) -> DbResult<Recorded> {
    let id = CompletionId::generate();
    let inserted = recoverable(conn, |conn| {
        diesel::insert_into(skilling_completions::table)
            .values((
                skilling_completions::realm.eq(realm),
                skilling_completions::learn_id.eq(new.learn_id),
                skilling_completions::id.eq(id.to_string()),
                skilling_completions::kind.eq(new.kind.id()),
                skilling_completions::credential.eq(new.credential),
                skilling_completions::title.eq(new.title),
                skilling_completions::completed_at.eq(to_db_time(new.completed_at)),
                skilling_completions::received_at.eq(to_db_time(now)),
            ))
            .execute(conn)
    });
    let created = match inserted {
        Ok(_) => true,
        Err(error) if is_unique_violation_on(&error, "skilling_completions") => false,
        Err(error) => return Err(error.into()),
    };
    let completion = skilling_completions::table
        .filter(skilling_completions::realm.eq(realm))
        .filter(skilling_completions::learn_id.eq(new.learn_id))
        .filter(skilling_completions::credential.eq(new.credential))
        .filter(skilling_completions::completed_at.eq(to_db_time(new.completed_at)))
        .select(COMPLETION_COLUMNS)
        .first::<CompletionRow>(conn)
        .map_err(DbError::from)
        .and_then(completion_from)?;
    let mut credited = None;
    if created {
        let linked: Option<(String, LinkRow)> = learning_links::table
            .filter(learning_links::realm.eq(realm))
            .filter(learning_links::learn_id.eq(new.learn_id))
            .filter(learning_links::unlinked_at.is_null())
            .select((learning_links::account_id, LINK_COLUMNS))
            .first(conn)
            .optional()?;
        if let Some((account_key, row)) = linked {
            let link = link_from(row)?;
            let from = credit(conn, &account_key, &link, &completion, lag_days)?;
            credited = Some((
                AccountScope::new(parse_id("learning_links", &account_key)?),
                from,
            ));
        }
    }
    Ok(Recorded {
        completion,
        created,
        credited,
    })
}

/// A completion credited to the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    pub id: CreditId,
    pub user_id: UserId,
    pub learn_id: String,
    pub kind: CompletionKind,
    pub credential: String,
    pub title: String,
    pub completed_at: DateTime<Utc>,
    pub counts_from: DateTime<Utc>,
}

type CreditRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    chrono::NaiveDateTime,
    chrono::NaiveDateTime,
);

const CREDIT_COLUMNS: (
    skilling_credits::id,
    skilling_credits::user_id,
    skilling_credits::learn_id,
    skilling_credits::kind,
    skilling_credits::credential,
    skilling_credits::title,
    skilling_credits::completed_at,
    skilling_credits::counts_from,
) = (
    skilling_credits::id,
    skilling_credits::user_id,
    skilling_credits::learn_id,
    skilling_credits::kind,
    skilling_credits::credential,
    skilling_credits::title,
    skilling_credits::completed_at,
    skilling_credits::counts_from,
);

fn credit_from(row: CreditRow) -> DbResult<Credit> {
    let (id, user_id, learn_id, kind, credential, title, completed_at, counts_from) = row;
    Ok(Credit {
        id: parse_id("skilling_credits", &id)?,
        user_id: parse_id("skilling_credits", &user_id)?,
        kind: CompletionKind::parse(&kind)
            .ok_or_else(|| DbError::corrupt("skilling_credits", format!("kind {kind:?}")))?,
        learn_id,
        credential,
        title,
        completed_at: from_db_time(completed_at),
        counts_from: from_db_time(counts_from),
    })
}

/// Which credits to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditFilter {
    All,
    /// Counting at `now`.
    Counted,
    /// Still within the skilling lag at `now`.
    Pending,
}

/// The account's credits, one keyset page at a time.
pub fn credits(
    conn: &mut DbConnection,
    scope: &AccountScope,
    filter: CreditFilter,
    now: DateTime<Utc>,
    page: &PageRequest,
) -> DbResult<Page<Credit>> {
    let mut query = skilling_credits::table
        .filter(skilling_credits::account_id.eq(scope.key()))
        .select(CREDIT_COLUMNS)
        .order(skilling_credits::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    match filter {
        CreditFilter::All => {}
        CreditFilter::Counted => {
            query = query.filter(skilling_credits::counts_from.le(to_db_time(now)));
        }
        CreditFilter::Pending => {
            query = query.filter(skilling_credits::counts_from.gt(to_db_time(now)));
        }
    }
    if let Some(after) = &page.after {
        query = query.filter(skilling_credits::id.gt(after.clone()));
    }
    let rows = query
        .load::<CreditRow>(conn)?
        .into_iter()
        .map(credit_from)
        .collect::<DbResult<Vec<_>>>()?;
    Ok(page.finish(rows, |credit| credit.id.to_string()))
}

/// The credits of the account holding one of `credentials`, for scoring: every one, or with
/// `at_most`, no more than `at_most + 1` (one more than that says there are more).
pub fn credits_for(
    conn: &mut DbConnection,
    scope: &AccountScope,
    credentials: &[String],
    at_most: Option<usize>,
) -> DbResult<Vec<Credit>> {
    let limit = row_limit(at_most);
    let rows = match conn {
        // One cached statement per credential (a program names a few), each a range of the
        // `skilling_credits_credential` index: a list of binds (`IN (?, ?, ?)`) is prepared anew
        // on every execution on SQLite, as its length varies, and this runs on every
        // eligibility check.
        DbConnection::Sqlite(_) => {
            let mut distinct: Vec<&String> = credentials.iter().collect();
            distinct.sort();
            distinct.dedup();
            let mut rows: Vec<CreditRow> = Vec::new();
            for credential in distinct {
                let remaining = limit.saturating_sub(rows.len() as i64);
                if remaining == 0 {
                    break;
                }
                let query = skilling_credits::table
                    .filter(skilling_credits::account_id.eq(scope.key()))
                    .filter(skilling_credits::credential.eq(credential))
                    .select(CREDIT_COLUMNS)
                    .limit(remaining);
                rows.extend(load_native::<_, CreditRow>(conn, query)?);
            }
            rows
        }
        // PostgreSQL binds the list as one array (`= ANY($1)`): one cached statement.
        DbConnection::Pg(_) => skilling_credits::table
            .filter(skilling_credits::account_id.eq(scope.key()))
            .filter(skilling_credits::credential.eq_any(credentials))
            .select(CREDIT_COLUMNS)
            .limit(limit)
            .load::<CreditRow>(conn)?,
    };
    rows.into_iter().map(credit_from).collect()
}

/// How the account's credits stand at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditSummary {
    /// Credits counting (their `counts_from` reached).
    pub counted: u64,
    /// Credits still within the skilling lag.
    pub pending: u64,
    /// When the next pending credit counts.
    pub next_counts_from: Option<DateTime<Utc>>,
}

/// The account's credits counted and pending at `now`.
pub fn credit_summary(
    conn: &mut DbConnection,
    scope: &AccountScope,
    now: DateTime<Utc>,
) -> DbResult<CreditSummary> {
    let now = to_db_time(now);
    let counted: i64 = skilling_credits::table
        .filter(skilling_credits::account_id.eq(scope.key()))
        .filter(skilling_credits::counts_from.le(now))
        .count()
        .get_result(conn)?;
    let (pending, next): (i64, Option<chrono::NaiveDateTime>) = skilling_credits::table
        .filter(skilling_credits::account_id.eq(scope.key()))
        .filter(skilling_credits::counts_from.gt(now))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(skilling_credits::counts_from),
        ))
        .get_result(conn)?;
    Ok(CreditSummary {
        counted: u64::try_from(counted).unwrap_or(0),
        pending: u64::try_from(pending).unwrap_or(0),
        next_counts_from: next.map(from_db_time),
    })
}

#[derive(Insertable)]
#[diesel(table_name = skilling_completions)]
// None binds NULL: the insert's statement stays cached (see the module's documentation).
#[diesel(treat_none_as_default_value = false)]
struct CompletionInsert<'a> {
    realm: &'a str,
    learn_id: &'a str,
    id: String,
    kind: &'static str,
    credential: &'a str,
    title: &'a str,
    completed_at: chrono::NaiveDateTime,
    received_at: chrono::NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = skilling_credits)]
// None binds NULL: the insert's statement stays cached (see the module's documentation).
#[diesel(treat_none_as_default_value = false)]
struct CreditInsert<'a> {
    account_id: &'a str,
    id: String,
    link_id: &'a str,
    completion_id: String,
    user_id: &'a str,
    learn_id: &'a str,
    kind: &'static str,
    credential: &'a str,
    title: &'a str,
    completed_at: chrono::NaiveDateTime,
    counts_from: chrono::NaiveDateTime,
}

/// Rows per multi-row INSERT: 11 columns x 1,000 stays under SQLite's 32,766 and
/// PostgreSQL's 65,535 bind parameters.
const BULK_ROWS: usize = 1_000;

/// Records many completions of one linked profile at once and credits them to the account it
/// is linked to, as [`record_completion`] would one by one (same rows, same skilling lag), in
/// multi-row INSERTs. For bulk loads (the `seed` command): the completions must be new to the
/// profile, and `link` must be its current link in `scope`.
pub fn record_linked_completions(
    conn: &mut DbConnection,
    scope: &AccountScope,
    link: &LinkRecord,
    realm: &str,
    completions: &[NewCompletion<'_>],
    lag_days: u32,
    received_at: DateTime<Utc>,
) -> DbResult<usize> {
    let account_key = scope.key();
    let user_id = link.user_id.to_string();
    let link_id = link.id.to_string();
    for chunk in completions.chunks(BULK_ROWS) {
        let ids: Vec<String> = chunk
            .iter()
            .map(|_| CompletionId::generate().to_string())
            .collect();
        let rows: Vec<CompletionInsert<'_>> = chunk
            .iter()
            .zip(&ids)
            .map(|(new, id)| CompletionInsert {
                realm,
                learn_id: &link.learn_id,
                id: id.clone(),
                kind: new.kind.id(),
                credential: new.credential,
                title: new.title,
                completed_at: to_db_time(new.completed_at),
                received_at: to_db_time(received_at),
            })
            .collect();
        // Multi-row INSERTs are written per backend: diesel's MultiConnection cannot express
        // them (its backend has no single DEFAULT-keyword dialect).
        match conn {
            DbConnection::Sqlite(conn) => diesel::insert_into(skilling_completions::table)
                .values(&rows)
                .execute(conn)?,
            DbConnection::Pg(conn) => diesel::insert_into(skilling_completions::table)
                .values(&rows)
                .execute(conn)?,
        };
        let credits: Vec<CreditInsert<'_>> = chunk
            .iter()
            .zip(ids)
            .map(|(new, completion_id)| CreditInsert {
                account_id: &account_key,
                id: CreditId::generate().to_string(),
                link_id: &link_id,
                completion_id,
                user_id: &user_id,
                learn_id: &link.learn_id,
                kind: new.kind.id(),
                credential: new.credential,
                title: new.title,
                completed_at: to_db_time(new.completed_at),
                counts_from: to_db_time(counts_from(link.linked_at, new.completed_at, lag_days)),
            })
            .collect();
        match conn {
            DbConnection::Sqlite(conn) => diesel::insert_into(skilling_credits::table)
                .values(&credits)
                .execute(conn)?,
            DbConnection::Pg(conn) => diesel::insert_into(skilling_credits::table)
                .values(&credits)
                .execute(conn)?,
        };
    }
    Ok(completions.len())
}
