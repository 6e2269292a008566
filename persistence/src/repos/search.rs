//! The search index (DESIGN §8): one document per searchable object, written in the object's
//! own transaction by the repository that changes it, and found through SQLite FTS5 or
//! PostgreSQL full-text search. The backend-specific SQL is the one `match` in [`candidates`];
//! every other statement here is portable.
//!
//! A document holds what is shown (title, summary) and its terms ([`domain::search::terms`]),
//! which the service computes, so both backends index and query the same words. Catalog
//! documents (workspaces, programs, help topics) are stored under the account key `''` and
//! searched by every account; all others belong to one account. Misspelt words are resolved
//! against [`vocabulary`], the terms the caller's documents and the catalog have used.

use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text};
use domain::commerce::{Severity, document_number, format_amount};
use domain::help::HelpCatalog;
use domain::ids::{InvoiceId, OrderId, SupportRequestId, UserId};
use domain::search::{self, QueryPlan, SearchType, index_text};
use domain::workspace::Workspace;
use std::collections::BTreeSet;

use crate::connection::{DbConnection, recoverable};
use crate::error::{DbError, DbResult, is_unique_violation_on};
use crate::repos::{orders, programs, support, users};
use crate::schema::{search_documents, search_reindex, search_terms};
use crate::tenant::{AccountScope, parse_id};

/// The help catalog shipped with this build.
pub const SEEDED_HELP_TOPICS: &str = include_str!("../../../catalog/help_topics.json");

/// The shipped help catalog, parsed and checked.
pub fn seeded_help() -> Result<HelpCatalog, String> {
    let catalog: HelpCatalog = serde_json::from_str(SEEDED_HELP_TOPICS)
        .map_err(|e| format!("catalog/help_topics.json does not parse: {e}"))?;
    let problems = catalog.problems();
    if !problems.is_empty() {
        return Err(format!(
            "catalog/help_topics.json is invalid: {}",
            problems.join("; ")
        ));
    }
    Ok(catalog)
}

/// The account key of catalog documents.
const CATALOG: &str = "";

/// Most documents the database hands over for ranking. Past it, the ones the database itself
/// ranks lowest (bm25 on SQLite, ts_rank on PostgreSQL) are left out: a query that matches more
/// than this is too broad to page through anyway.
pub const MAX_CANDIDATES: i64 = 1000;

/// Longest summary stored (characters).
const SUMMARY_CHARS: usize = 240;

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = search_documents)]
// None binds NULL: the insert's statement stays cached (see the module's documentation).
#[diesel(treat_none_as_default_value = false)]
struct DocumentRow {
    account_id: String,
    doc_type: String,
    doc_id: String,
    title: String,
    summary: String,
    title_terms: String,
    body_terms: String,
    owner_id: Option<String>,
}

/// A document about to be indexed.
struct Document {
    kind: SearchType,
    id: String,
    title: String,
    summary: String,
    /// Texts whose terms count as title matches.
    title_texts: Vec<String>,
    /// Texts whose terms count as body matches.
    body_texts: Vec<String>,
    owner: Option<String>,
}

fn shorten(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= SUMMARY_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(SUMMARY_CHARS - 1).collect();
    format!("{}…", cut.trim_end())
}

impl DocumentRow {
    /// The document's primary key (account, type, id).
    fn key(&self) -> (&str, &str, &str) {
        (&self.account_id, &self.doc_type, &self.doc_id)
    }
}

/// Writes (or replaces) a document and adds its terms to the vocabulary of `account`.
fn put(conn: &mut DbConnection, account: &str, document: Document) -> DbResult<()> {
    let title_refs: Vec<&str> = document.title_texts.iter().map(String::as_str).collect();
    let body_refs: Vec<&str> = document.body_texts.iter().map(String::as_str).collect();
    let row = DocumentRow {
        account_id: account.to_owned(),
        doc_type: document.kind.id().to_owned(),
        doc_id: document.id,
        title: document.title,
        summary: shorten(&document.summary),
        title_terms: index_text(&title_refs),
        body_terms: index_text(&body_refs),
        owner_id: document.owner,
    };
    // Insert when absent, update when present; a concurrent insert of the same document (a
    // backfill racing a change) makes ours a unique violation, and the update then applies.
    // Portable: diesel's upsert is not available through the MultiConnection. The probe (a
    // cached select) comes first because most documents are written once, by their object's
    // creation, and diesel never caches an UPDATE: SQLite compiled one on every create.
    let exists = search_documents::table
        .find(row.key())
        .select(search_documents::doc_type)
        .first::<String>(conn)
        .optional()?
        .is_some();
    if !(exists && update_document(conn, &row)?) {
        let inserted = recoverable(conn, |conn| {
            diesel::insert_into(search_documents::table)
                .values(&row)
                .execute(conn)
        });
        match inserted {
            Ok(_) => {}
            Err(error) if is_unique_violation_on(&error, "search_documents") => {
                update_document(conn, &row)?;
            }
            Err(error) => return Err(error.into()),
        }
    }
    let terms: BTreeSet<&str> = row
        .title_terms
        .split(' ')
        .chain(row.body_terms.split(' '))
        .filter(|term| !term.is_empty())
        .collect();
    let known: BTreeSet<String> = search_terms::table
        .filter(search_terms::account_id.eq(account))
        .filter(search_terms::term.eq_any(terms.iter().copied()))
        .select(search_terms::term)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    for term in terms.into_iter().filter(|term| !known.contains(*term)) {
        let inserted = recoverable(conn, |conn| {
            diesel::insert_into(search_terms::table)
                .values((
                    search_terms::account_id.eq(account),
                    search_terms::term.eq(term),
                ))
                .execute(conn)
        });
        match inserted {
            // Another transaction added it first: the vocabulary has it either way.
            Ok(_) => {}
            Err(error) if is_unique_violation_on(&error, "search_terms") => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

/// Rewrites the stored document `row` names; false when there is none.
fn update_document(conn: &mut DbConnection, row: &DocumentRow) -> DbResult<bool> {
    let updated = diesel::update(search_documents::table.find(row.key()))
        .set((
            search_documents::title.eq(&row.title),
            search_documents::summary.eq(&row.summary),
            search_documents::title_terms.eq(&row.title_terms),
            search_documents::body_terms.eq(&row.body_terms),
            search_documents::owner_id.eq(&row.owner_id),
        ))
        .execute(conn)?;
    Ok(updated > 0)
}

fn remove(conn: &mut DbConnection, account: &str, kind: SearchType, id: &str) -> DbResult<()> {
    diesel::delete(
        search_documents::table
            .filter(search_documents::account_id.eq(account))
            .filter(search_documents::doc_type.eq(kind.id()))
            .filter(search_documents::doc_id.eq(id)),
    )
    .execute(conn)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Keeping the index in step

/// An account object whose document must follow a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    User(UserId),
    Order(OrderId),
    /// An invoice or a credit note.
    Invoice(InvoiceId),
    SupportRequest(SupportRequestId),
}

/// Rewrites the document of `target` from its current state, or removes it when the object is
/// gone. Runs in the transaction that changed the object.
pub fn reindex(conn: &mut DbConnection, scope: &AccountScope, target: Target) -> DbResult<()> {
    let account = scope.key();
    let (kind, id, document) = match target {
        Target::User(id) => (
            SearchType::User,
            id.to_string(),
            user_document(conn, scope, id)?,
        ),
        Target::Order(id) => (
            SearchType::Order,
            id.to_string(),
            order_document(conn, scope, id)?,
        ),
        Target::Invoice(id) => (
            SearchType::Invoice,
            id.to_string(),
            invoice_document(conn, scope, id)?,
        ),
        Target::SupportRequest(id) => (
            SearchType::SupportRequest,
            id.to_string(),
            request_document(conn, scope, id)?,
        ),
    };
    match document {
        Some(document) => put(conn, &account, document),
        None => remove(conn, &account, kind, &id),
    }
}

fn user_document(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: UserId,
) -> DbResult<Option<Document>> {
    let Some(user) = users::get(conn, scope, id)? else {
        return Ok(None);
    };
    let names: Vec<String> = [&user.first_name, &user.last_name]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let title = if names.is_empty() {
        user.email.clone()
    } else {
        names.join(" ")
    };
    let roles: Vec<&str> = user.roles.iter().map(|role| role.id()).collect();
    let summary = if roles.is_empty() {
        user.email.clone()
    } else {
        format!("{} · {}", user.email, roles.join(", "))
    };
    Ok(Some(Document {
        kind: SearchType::User,
        id: id.to_string(),
        title_texts: vec![title.clone()],
        body_texts: vec![user.email.clone(), roles.join(" ")],
        title,
        summary,
        owner: None,
    }))
}

/// The program's name, or its id when the catalog no longer has it.
fn program_name(conn: &mut DbConnection, program_id: &str) -> DbResult<String> {
    Ok(programs::get(conn, program_id)?
        .map_or_else(|| program_id.to_owned(), |stored| stored.program.name))
}

fn order_document(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: OrderId,
) -> DbResult<Option<Document>> {
    let Some(order) = orders::get(conn, scope, id)? else {
        return Ok(None);
    };
    let name = program_name(conn, &order.program_id)?;
    let number = format!("{:06}", order.number);
    let total = format_amount(order.amounts.total_minor, &order.currency);
    let words = |id: &str| id.replace('_', " ");
    let summary = format!(
        "{} · {} · {} · {total}",
        words(order.kind.id()),
        words(order.payment_method.id()),
        words(order.standing.id()),
    );
    let mut body = vec![
        order.program_id.clone(),
        words(order.kind.id()),
        words(order.payment_method.id()),
        words(order.standing.id()),
        order.number.to_string(),
    ];
    body.extend(order.wire_reference.clone());
    Ok(Some(Document {
        kind: SearchType::Order,
        id: id.to_string(),
        title: format!("Order {number} · {name}"),
        title_texts: vec![format!("order {number} {name}")],
        body_texts: body,
        summary,
        owner: None,
    }))
}

fn invoice_document(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: InvoiceId,
) -> DbResult<Option<Document>> {
    let Some(invoice) = orders::invoice(conn, scope, id)? else {
        return Ok(None);
    };
    let number = document_number(invoice.kind, invoice.number);
    let label = match invoice.kind {
        domain::commerce::InvoiceKind::Invoice => "Invoice",
        domain::commerce::InvoiceKind::CreditNote => "Credit note",
    };
    let total = format_amount(invoice.amounts.total_minor, &invoice.currency);
    let lines: Vec<String> = invoice
        .lines
        .iter()
        .map(|l| l.description.clone())
        .collect();
    let summary = format!(
        "{total} · issued {} · {}",
        invoice.issued_at.format("%Y-%m-%d"),
        lines.join("; ")
    );
    let mut body = lines;
    body.push(invoice.number.to_string());
    body.extend(invoice.payment_reference.clone());
    Ok(Some(Document {
        kind: SearchType::Invoice,
        id: id.to_string(),
        title: format!("{label} {number}"),
        title_texts: vec![format!("{label} {number}")],
        body_texts: body,
        summary,
        owner: None,
    }))
}

fn request_document(
    conn: &mut DbConnection,
    scope: &AccountScope,
    id: SupportRequestId,
) -> DbResult<Option<Document>> {
    let Some(request) = support::get(conn, scope, id)? else {
        return Ok(None);
    };
    let words = |id: &str| id.replace('_', " ");
    let severity = match request.severity {
        Severity::Critical | Severity::Moderate => format!(" · {}", request.severity.id()),
        Severity::Minimal => String::new(),
    };
    let summary = format!(
        "Request {} · {} · {}{severity}",
        request.number,
        words(request.category.id()),
        words(request.status.id()),
    );
    let mut body = vec![
        request.description.clone(),
        words(request.category.id()),
        words(request.status.id()),
        request.number.to_string(),
    ];
    body.extend(
        support::notes(conn, scope, id)?
            .into_iter()
            .map(|note| note.body),
    );
    Ok(Some(Document {
        kind: SearchType::SupportRequest,
        id: id.to_string(),
        title_texts: vec![request.title.clone()],
        title: request.title,
        body_texts: body,
        summary,
        owner: Some(request.created_by.to_string()),
    }))
}

/// Indexes every object of the account (a backfill, or a rebuild after the document format
/// changed). Safe to repeat: documents are replaced, not added.
pub fn reindex_account(conn: &mut DbConnection, scope: &AccountScope) -> DbResult<usize> {
    use crate::schema::{invoices, orders as orders_table, support_requests, users as users_table};
    let account = scope.key();
    let mut targets: Vec<Target> = Vec::new();
    for id in users_table::table
        .filter(users_table::account_id.eq(&account))
        .select(users_table::id)
        .load::<String>(conn)?
    {
        targets.push(Target::User(parse_id("users", &id)?));
    }
    for id in orders_table::table
        .filter(orders_table::account_id.eq(&account))
        .select(orders_table::id)
        .load::<String>(conn)?
    {
        targets.push(Target::Order(parse_id("orders", &id)?));
    }
    for id in invoices::table
        .filter(invoices::account_id.eq(&account))
        .select(invoices::id)
        .load::<String>(conn)?
    {
        targets.push(Target::Invoice(parse_id("invoices", &id)?));
    }
    for id in support_requests::table
        .filter(support_requests::account_id.eq(&account))
        .select(support_requests::id)
        .load::<String>(conn)?
    {
        targets.push(Target::SupportRequest(parse_id("support_requests", &id)?));
    }
    for target in &targets {
        reindex(conn, scope, *target)?;
    }
    Ok(targets.len())
}

/// Accounts waiting for [`reindex_account`] (queued by the migration that created the index).
pub fn queued_accounts(conn: &mut DbConnection, limit: i64) -> DbResult<Vec<AccountScope>> {
    search_reindex::table
        .select(search_reindex::account_id)
        .order(search_reindex::account_id.asc())
        .limit(limit)
        .load::<String>(conn)?
        .iter()
        .map(|id| parse_id("search_reindex", id).map(AccountScope::new))
        .collect()
}

pub fn dequeue(conn: &mut DbConnection, scope: &AccountScope) -> DbResult<()> {
    diesel::delete(search_reindex::table.filter(search_reindex::account_id.eq(scope.key())))
        .execute(conn)?;
    Ok(())
}

/// Indexes the catalog: every workspace, every program of the catalog table and every help
/// topic, and removes catalog documents that no longer exist (a topic dropped from the file).
pub fn index_catalog(conn: &mut DbConnection, help: &HelpCatalog) -> DbResult<()> {
    let mut kept: Vec<(SearchType, String)> = Vec::new();
    for workspace in Workspace::ALL {
        kept.push((SearchType::Workspace, workspace.id().to_owned()));
        put(
            conn,
            CATALOG,
            Document {
                kind: SearchType::Workspace,
                id: workspace.id().to_owned(),
                title: workspace.name().to_owned(),
                summary: workspace.description().to_owned(),
                title_texts: vec![workspace.name().to_owned()],
                body_texts: vec![workspace.description().to_owned()],
                owner: None,
            },
        )?;
    }
    for stored in programs::all(conn)? {
        kept.push((SearchType::Program, stored.program.id.clone()));
        put(conn, CATALOG, program_document(&stored.program))?;
    }
    for topic in &help.topics {
        kept.push((SearchType::HelpTopic, topic.id.clone()));
        let mut body = vec![topic.body.clone()];
        body.extend(topic.keywords.iter().cloned());
        put(
            conn,
            CATALOG,
            Document {
                kind: SearchType::HelpTopic,
                id: topic.id.clone(),
                title: topic.title.clone(),
                summary: topic.body.clone(),
                title_texts: vec![topic.title.clone()],
                body_texts: body,
                owner: None,
            },
        )?;
    }
    let stored: Vec<(String, String)> = search_documents::table
        .filter(search_documents::account_id.eq(CATALOG))
        .select((search_documents::doc_type, search_documents::doc_id))
        .load(conn)?;
    for (kind, id) in stored {
        let gone = SearchType::parse(&kind)
            .is_none_or(|kind| !kept.iter().any(|(k, i)| *k == kind && *i == id));
        if gone {
            diesel::delete(
                search_documents::table
                    .filter(search_documents::account_id.eq(CATALOG))
                    .filter(search_documents::doc_type.eq(&kind))
                    .filter(search_documents::doc_id.eq(&id)),
            )
            .execute(conn)?;
        }
    }
    Ok(())
}

fn program_document(program: &domain::catalog::Program) -> Document {
    let mut body = vec![program.id.replace('_', " "), program.description.clone()];
    body.extend(program.benefits.iter().map(|benefit| benefit.name.clone()));
    Document {
        kind: SearchType::Program,
        id: program.id.clone(),
        title: program.name.clone(),
        summary: program.description.clone(),
        title_texts: vec![program.name.clone()],
        body_texts: body,
        owner: None,
    }
}

/// Rewrites a program's document after an operator's edit, in the edit's transaction.
pub fn reindex_program(
    conn: &mut DbConnection,
    program: &domain::catalog::Program,
) -> DbResult<()> {
    put(conn, CATALOG, program_document(program))
}

// ---------------------------------------------------------------------------------------------
// Searching

/// What the caller may see, decided by the caller's roles (the API's access rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visibility {
    /// The types to search: asked for and allowed.
    pub types: Vec<SearchType>,
    /// The workspaces the caller reaches (ids), when workspaces are searched.
    pub workspaces: Vec<&'static str>,
    /// Only this person's support requests (a caller who is not a support admin).
    pub requests_of: Option<UserId>,
}

/// A found document, ranked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub kind: SearchType,
    pub id: String,
    pub title: String,
    pub summary: String,
    pub score: u32,
    /// The document's terms that matched the query's words.
    pub matched: Vec<String>,
}

/// The terms of the account's vocabulary (and the catalog's) that misspellings of `words`
/// could mean: those whose length is within reach of a word that allows edits.
pub fn vocabulary(
    conn: &mut DbConnection,
    scope: &AccountScope,
    words: &[String],
) -> DbResult<Vec<String>> {
    let reach = words
        .iter()
        .filter_map(|word| {
            let edits = search::allowed_edits(word);
            let length = word.chars().count();
            (edits > 0).then(|| (length.saturating_sub(edits), length + edits))
        })
        .reduce(|(low, high), (l, h)| (low.min(l), high.max(h)));
    let Some((low, high)) = reach else {
        return Ok(Vec::new());
    };
    let as_int = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    Ok(search_terms::table
        .filter(search_terms::account_id.eq_any([scope.key(), CATALOG.to_owned()]))
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("length(term) BETWEEN ")
                .bind::<Integer, _>(as_int(low))
                .sql(" AND ")
                .bind::<Integer, _>(as_int(high)),
        )
        .select(search_terms::term)
        .distinct()
        .load::<String>(conn)?)
}

#[derive(QueryableByName)]
struct CandidateRow {
    #[diesel(sql_type = Text)]
    doc_type: String,
    #[diesel(sql_type = Text)]
    doc_id: String,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Text)]
    summary: String,
    #[diesel(sql_type = Text)]
    title_terms: String,
    #[diesel(sql_type = Text)]
    body_terms: String,
    #[diesel(sql_type = Nullable<Text>)]
    #[allow(dead_code)]
    owner_id: Option<String>,
}

/// SQL text with its (text) bind values, numbered as the backend wants them.
struct Statement {
    text: String,
    binds: Vec<String>,
    numbered: bool,
}

impl Statement {
    fn new(numbered: bool) -> Self {
        Self {
            text: String::new(),
            binds: Vec::new(),
            numbered,
        }
    }

    fn sql(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    fn bind(&mut self, value: impl Into<String>) -> &mut Self {
        self.binds.push(value.into());
        if self.numbered {
            let placeholder = format!("${}", self.binds.len());
            self.text.push_str(&placeholder);
        } else {
            self.text.push('?');
        }
        self
    }

    /// The visibility filter on `search_documents d`: each allowed type, scoped to the catalog
    /// or to the caller's account, with its own restriction.
    fn visible(&mut self, scope: &AccountScope, visibility: &Visibility) -> &mut Self {
        self.sql("(");
        let mut first = true;
        for kind in &visibility.types {
            if *kind == SearchType::Workspace && visibility.workspaces.is_empty() {
                continue;
            }
            if !first {
                self.sql(" OR ");
            }
            first = false;
            self.sql("(d.doc_type = ")
                .bind(kind.id())
                .sql(" AND d.account_id = ");
            if kind.is_catalog() {
                self.bind(CATALOG);
            } else {
                self.bind(scope.key());
            }
            match kind {
                SearchType::Workspace => {
                    self.sql(" AND d.doc_id IN (");
                    for (index, workspace) in visibility.workspaces.iter().enumerate() {
                        if index > 0 {
                            self.sql(", ");
                        }
                        self.bind(*workspace);
                    }
                    self.sql(")");
                }
                SearchType::SupportRequest => {
                    if let Some(user) = visibility.requests_of {
                        self.sql(" AND d.owner_id = ").bind(user.to_string());
                    }
                }
                _ => {}
            }
            self.sql(")");
        }
        if first {
            // Nothing the caller may see.
            self.sql("1 = 0");
        }
        self.sql(")")
    }
}

/// FTS5 query: the scope column holds the account (or `catalog`), the terms column every term.
fn fts5_query(scope: &AccountScope, plan: &QueryPlan) -> String {
    let words: Vec<String> = plan
        .words
        .iter()
        .map(|word| {
            let mut alternatives = vec![format!("\"{}\"", word.word)];
            if word.prefix {
                alternatives.push(format!("\"{}\"*", word.word));
            }
            alternatives.extend(word.typos.iter().map(|typo| format!("\"{typo}\"")));
            format!("({})", alternatives.join(" OR "))
        })
        .collect();
    format!(
        "scope : (\"catalog\" OR \"{}\") AND terms : ({})",
        scope.key().replace('-', ""),
        words.join(" AND ")
    )
}

/// tsquery: the scope lexeme ('@' + account, '@' for the catalog) and the terms, quoted so no
/// parser or dictionary touches them (terms are letters and digits: nothing to escape).
fn tsquery(scope: &AccountScope, plan: &QueryPlan) -> String {
    let words: Vec<String> = plan
        .words
        .iter()
        .map(|word| {
            let mut alternatives = vec![format!("'{}'", word.word)];
            if word.prefix {
                alternatives.push(format!("'{}':*", word.word));
            }
            alternatives.extend(word.typos.iter().map(|typo| format!("'{typo}'")));
            format!("({})", alternatives.join(" | "))
        })
        .collect();
    format!("('@{}' | '@') & {}", scope.key(), words.join(" & "))
}

/// The documents matching every word of `plan` that the caller may see, best first by the
/// database's own relevance, at most [`MAX_CANDIDATES`].
fn candidates(
    conn: &mut DbConnection,
    scope: &AccountScope,
    plan: &QueryPlan,
    visibility: &Visibility,
) -> DbResult<Vec<CandidateRow>> {
    const COLUMNS: &str = "SELECT d.doc_type, d.doc_id, d.title, d.summary, d.title_terms, \
                           d.body_terms, d.owner_id FROM ";
    match conn {
        DbConnection::Sqlite(inner) => {
            let mut statement = Statement::new(false);
            statement
                .sql(COLUMNS)
                .sql("search_fts JOIN search_documents d ON d.seq = search_fts.rowid ")
                .sql("WHERE search_fts MATCH ")
                .bind(fts5_query(scope, plan))
                .sql(" AND ")
                .visible(scope, visibility)
                .sql(" ORDER BY search_fts.rank, d.doc_type, d.doc_id LIMIT ")
                .sql(&MAX_CANDIDATES.to_string());
            let mut query =
                diesel::sql_query(statement.text).into_boxed::<diesel::sqlite::Sqlite>();
            for value in statement.binds {
                query = query.bind::<Text, _>(value);
            }
            Ok(query.load::<CandidateRow>(inner)?)
        }
        DbConnection::Pg(inner) => {
            let mut statement = Statement::new(true);
            statement
                .sql("WITH q AS (SELECT CAST(")
                .bind(tsquery(scope, plan))
                .sql(" AS tsquery) AS query) ")
                .sql(COLUMNS)
                .sql("search_documents d, q WHERE d.tsv @@ q.query AND ")
                .visible(scope, visibility)
                .sql(" ORDER BY ts_rank(d.tsv, q.query) DESC, d.doc_type, d.doc_id LIMIT ")
                .sql(&MAX_CANDIDATES.to_string());
            let mut query = diesel::sql_query(statement.text).into_boxed::<diesel::pg::Pg>();
            for value in statement.binds {
                query = query.bind::<Text, _>(value);
            }
            Ok(query.load::<CandidateRow>(inner)?)
        }
    }
}

/// Searches what the caller may see for `words` (from [`domain::search::query_words`]):
/// expands misspellings against the vocabulary, finds candidates in the full-text index and
/// ranks them ([`domain::search::rank`]), best first; equal scores by type, then id.
pub fn find(
    conn: &mut DbConnection,
    scope: &AccountScope,
    words: &[String],
    visibility: &Visibility,
) -> DbResult<Vec<Hit>> {
    if visibility.types.is_empty() {
        return Ok(Vec::new());
    }
    let vocabulary = vocabulary(conn, scope, words)?;
    let vocabulary: Vec<&str> = vocabulary.iter().map(String::as_str).collect();
    let plan = search::plan(words, &vocabulary);
    let mut hits = Vec::new();
    for row in candidates(conn, scope, &plan, visibility)? {
        let kind = SearchType::parse(&row.doc_type).ok_or_else(|| {
            DbError::corrupt("search_documents", format!("type {:?}", row.doc_type))
        })?;
        let title: Vec<&str> = row.title_terms.split(' ').collect();
        let body: Vec<&str> = row.body_terms.split(' ').collect();
        // The index matched it; ranking re-checks every word against the stored terms.
        if let Some(ranked) = search::rank(&plan, &title, &body) {
            hits.push(Hit {
                kind,
                id: row.doc_id,
                title: row.title,
                summary: row.summary,
                score: ranked.score,
                matched: ranked.matched,
            });
        }
    }
    hits.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(a.kind.ordinal().cmp(&b.kind.ordinal()))
            .then(a.id.cmp(&b.id))
    });
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_help_catalog_is_valid() {
        let catalog = seeded_help().expect("valid");
        assert!(catalog.topics.len() >= 30);
    }
}
