//! Outgoing mail, queued in the transaction that causes it and sent afterwards by the mail
//! worker, so a rolled-back change sends nothing and a committed one is not forgotten. Claims
//! are row leases taken by a conditional update: safe with several replicas.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use domain::ids::EmailId;

use crate::connection::DbConnection;
use crate::error::DbResult;
use crate::repos::to_db_time;
use crate::schema::{accounts, email_outbox};
use crate::tenant::AccountScope;

pub fn enqueue(
    conn: &mut DbConnection,
    scope: &AccountScope,
    recipient: &str,
    subject: &str,
    body: &str,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DbResult<EmailId> {
    let id = EmailId::generate();
    // The queue runs on the wall clock, but a sandbox account's `now` is its own clock, which
    // may be ahead of or behind the wall. Its mail is due at once, and its codes' expiry is
    // judged on the sandbox clock when they are used, not by the queue.
    let sandbox_clock: Option<Option<chrono::NaiveDateTime>> = accounts::table
        .find(scope.key())
        .select(accounts::sandbox_clock)
        .first(conn)
        .optional()?;
    let (due, expires_at) = match sandbox_clock {
        Some(Some(_)) => (DateTime::<Utc>::UNIX_EPOCH, None),
        _ => (now, expires_at),
    };
    diesel::insert_into(email_outbox::table)
        .values((
            email_outbox::account_id.eq(scope.key()),
            email_outbox::id.eq(id.to_string()),
            email_outbox::recipient.eq(recipient),
            email_outbox::subject.eq(subject),
            email_outbox::body.eq(body),
            email_outbox::attempts.eq(0),
            email_outbox::next_attempt_at.eq(to_db_time(due)),
            email_outbox::expires_at.eq(expires_at.map(to_db_time)),
            email_outbox::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(id)
}

/// A message claimed for sending.
#[derive(Debug, Clone)]
pub struct Outgoing {
    account_id: String,
    id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub attempts: i32,
}

/// Claims up to `limit` due messages for `lease`. Another worker's live claim is skipped.
pub fn claim_due(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> DbResult<Vec<Outgoing>> {
    let candidates: Vec<(String, String, String, String, String, i32)> = email_outbox::table
        .filter(email_outbox::sent_at.is_null())
        .filter(email_outbox::next_attempt_at.le(to_db_time(now)))
        .filter(
            email_outbox::expires_at
                .is_null()
                .or(email_outbox::expires_at.gt(to_db_time(now))),
        )
        .filter(
            email_outbox::locked_until
                .is_null()
                .or(email_outbox::locked_until.le(to_db_time(now))),
        )
        .select((
            email_outbox::account_id,
            email_outbox::id,
            email_outbox::recipient,
            email_outbox::subject,
            email_outbox::body,
            email_outbox::attempts,
        ))
        .order(email_outbox::next_attempt_at.asc())
        .limit(limit)
        .load(conn)?;
    let mut claimed = Vec::new();
    for (account_id, id, recipient, subject, body, attempts) in candidates {
        let won = diesel::update(
            email_outbox::table
                .filter(email_outbox::account_id.eq(&account_id))
                .filter(email_outbox::id.eq(&id))
                .filter(email_outbox::sent_at.is_null())
                .filter(
                    email_outbox::locked_until
                        .is_null()
                        .or(email_outbox::locked_until.le(to_db_time(now))),
                ),
        )
        .set(email_outbox::locked_until.eq(Some(to_db_time(now + lease))))
        .execute(conn)?;
        if won == 1 {
            claimed.push(Outgoing {
                account_id,
                id,
                recipient,
                subject,
                body,
                attempts,
            });
        }
    }
    Ok(claimed)
}

/// Records delivery. The body is cleared: it may hold a verification code, which must not
/// outlive its use in the database.
pub fn mark_sent(conn: &mut DbConnection, message: &Outgoing, now: DateTime<Utc>) -> DbResult<()> {
    diesel::update(
        email_outbox::table
            .filter(email_outbox::account_id.eq(&message.account_id))
            .filter(email_outbox::id.eq(&message.id)),
    )
    .set((
        email_outbox::sent_at.eq(Some(to_db_time(now))),
        email_outbox::body.eq(""),
        email_outbox::attempts.eq(message.attempts + 1),
        email_outbox::locked_until.eq(None::<chrono::NaiveDateTime>),
        email_outbox::last_error.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(())
}

/// Records a failed attempt and when to try again.
pub fn mark_failed(
    conn: &mut DbConnection,
    message: &Outgoing,
    error: &str,
    retry_at: DateTime<Utc>,
) -> DbResult<()> {
    diesel::update(
        email_outbox::table
            .filter(email_outbox::account_id.eq(&message.account_id))
            .filter(email_outbox::id.eq(&message.id)),
    )
    .set((
        email_outbox::attempts.eq(message.attempts + 1),
        email_outbox::next_attempt_at.eq(to_db_time(retry_at)),
        email_outbox::locked_until.eq(None::<chrono::NaiveDateTime>),
        email_outbox::last_error.eq(Some(error)),
    ))
    .execute(conn)?;
    Ok(())
}

/// Deletes delivered messages sent before `before`, and undelivered ones that expired (their
/// body may hold a code that must not outlive its use); returns how many.
pub fn purge(
    conn: &mut DbConnection,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DbResult<usize> {
    let sent = diesel::delete(
        email_outbox::table
            .filter(email_outbox::sent_at.is_not_null())
            .filter(email_outbox::sent_at.lt(to_db_time(before))),
    )
    .execute(conn)?;
    let expired = diesel::delete(
        email_outbox::table
            .filter(email_outbox::sent_at.is_null())
            .filter(email_outbox::expires_at.lt(to_db_time(now))),
    )
    .execute(conn)?;
    Ok(sent + expired)
}
