//! Verification evidence: documents a partner uploads when verification needs action. Kept in
//! the database, so they are as durable as the account and shared by every replica.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::ids::EvidenceId;

use crate::connection::DbConnection;
use crate::error::DbResult;
use crate::repos::{from_db_time, to_db_time};
use crate::schema::verification_evidence;
use crate::tenant::{AccountScope, parse_id};

#[derive(Debug, Clone)]
pub struct NewEvidence<'a> {
    pub file_name: Option<&'a str>,
    pub media_type: &'a str,
    pub content: &'a [u8],
    pub sha256: &'a str,
    pub comment: Option<&'a str>,
    pub uploaded_by: &'a str,
}

/// A stored document, without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub id: EvidenceId,
    pub file_name: Option<String>,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub comment: Option<String>,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = verification_evidence)]
struct Row {
    id: String,
    file_name: Option<String>,
    media_type: String,
    size_bytes: i64,
    sha256: String,
    comment: Option<String>,
    uploaded_by: String,
    uploaded_at: chrono::NaiveDateTime,
}

impl TryFrom<Row> for Evidence {
    type Error = crate::DbError;

    fn try_from(row: Row) -> DbResult<Self> {
        Ok(Evidence {
            id: parse_id("verification_evidence", &row.id)?,
            file_name: row.file_name,
            media_type: row.media_type,
            size_bytes: row.size_bytes,
            sha256: row.sha256,
            comment: row.comment,
            uploaded_by: row.uploaded_by,
            uploaded_at: from_db_time(row.uploaded_at),
        })
    }
}

pub fn insert(
    conn: &mut DbConnection,
    scope: &AccountScope,
    new: &NewEvidence<'_>,
    now: DateTime<Utc>,
) -> DbResult<Evidence> {
    let id = EvidenceId::generate();
    let size = i64::try_from(new.content.len()).unwrap_or(i64::MAX);
    diesel::insert_into(verification_evidence::table)
        .values((
            verification_evidence::account_id.eq(scope.key()),
            verification_evidence::id.eq(id.to_string()),
            verification_evidence::file_name.eq(new.file_name),
            verification_evidence::media_type.eq(new.media_type),
            verification_evidence::size_bytes.eq(size),
            verification_evidence::sha256.eq(new.sha256),
            verification_evidence::content.eq(new.content),
            verification_evidence::comment.eq(new.comment),
            verification_evidence::uploaded_by.eq(new.uploaded_by),
            verification_evidence::uploaded_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(Evidence {
        id,
        file_name: new.file_name.map(str::to_owned),
        media_type: new.media_type.to_owned(),
        size_bytes: size,
        sha256: new.sha256.to_owned(),
        comment: new.comment.map(str::to_owned),
        uploaded_by: new.uploaded_by.to_owned(),
        uploaded_at: now,
    })
}

/// Every document of the account, oldest first, without content.
pub fn list(conn: &mut DbConnection, scope: &AccountScope) -> DbResult<Vec<Evidence>> {
    verification_evidence::table
        .filter(verification_evidence::account_id.eq(scope.key()))
        .select(Row::as_select())
        .order(verification_evidence::id.asc())
        .load::<Row>(conn)?
        .into_iter()
        .map(Evidence::try_from)
        .collect()
}

/// The media type and stored bytes of one document.
pub fn content(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: EvidenceId,
) -> DbResult<Option<(String, Vec<u8>)>> {
    Ok(verification_evidence::table
        .filter(verification_evidence::account_id.eq(scope.key()))
        .filter(verification_evidence::id.eq(id.to_string()))
        .select((
            verification_evidence::media_type,
            verification_evidence::content,
        ))
        .first::<(String, Vec<u8>)>(conn)
        .optional()?)
}
