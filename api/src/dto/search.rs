//! Search results and help topics.

use domain::search::SearchType as DomainType;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::role::Workspace;

/// What a result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchType {
    Workspace,
    Program,
    HelpTopic,
    User,
    Invoice,
    SupportRequest,
    Order,
}

impl From<DomainType> for SearchType {
    fn from(kind: DomainType) -> Self {
        match kind {
            DomainType::Workspace => SearchType::Workspace,
            DomainType::Program => SearchType::Program,
            DomainType::HelpTopic => SearchType::HelpTopic,
            DomainType::User => SearchType::User,
            DomainType::Invoice => SearchType::Invoice,
            DomainType::SupportRequest => SearchType::SupportRequest,
            DomainType::Order => SearchType::Order,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// What to look for: 1 to 200 characters after trimming, at most 10 distinct words of
    /// letters and digits. Every word must match; the last also matches as a prefix; words of 3
    /// to 7 letters tolerate one typo, longer ones two.
    #[param(required = true, min_length = 1, max_length = 200, example = "Jhon")]
    pub q: Option<String>,
    /// A comma-separated list of types to search (default: all): `workspace`, `program`,
    /// `help_topic`, `user`, `invoice`, `support_request`, `order`.
    #[param(
        example = "user,support_request",
        pattern = r"^\s*(workspace|program|help_topic|user|invoice|support_request|order)\s*(,\s*(workspace|program|help_topic|user|invoice|support_request|order)\s*)*$"
    )]
    pub types: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One search result.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResult {
    #[serde(rename = "type")]
    pub kind: SearchType,
    /// The object's id: a UUID for the account's objects, the catalog id for workspaces,
    /// programs and help topics.
    #[schema(example = "0190f5a4-1b2c-7d3e-8f40-123456789abc")]
    pub id: String,
    /// What to show: a user's name, `Invoice INV-000001`, `Order 000003 · Microsoft Action
    /// Pack`, a request's title, a workspace's, program's or topic's name.
    pub title: String,
    /// One line of detail (at most 240 characters).
    pub summary: String,
    /// The API path of the object (`/v1/users/{id}`); for a workspace, `/v1/me/access`, which
    /// lists it with the admins to ask.
    #[schema(example = "/v1/users/0190f5a4-1b2c-7d3e-8f40-123456789abc")]
    pub path: String,
    /// The relevance: higher first. Per query word, its best match scores 3 (exact word), 2
    /// (prefix of a word) or 1 (within the allowed typos), doubled in the title; plus 1 when
    /// the title is exactly the query's words. Comparable within one query only.
    pub score: u32,
    /// The object's indexed words that matched the query (lower-case, accents folded), e.g.
    /// `john` for the query `Jhon`.
    pub matched: Vec<String>,
}

/// One page of results, best first; equal scores in the order workspace, program,
/// help_topic, user, invoice, support_request, order, then by id.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub items: Vec<SearchResult>,
    /// Pass as `cursor` (with the same `q` and `types`) to get the next page; absent on the
    /// last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A Partner Center help topic.
#[derive(Debug, Serialize, ToSchema)]
pub struct HelpTopic {
    #[schema(example = "find-your-admins")]
    pub id: String,
    pub title: String,
    pub body: String,
    pub keywords: Vec<String>,
    /// The workspace the topic is about, if one.
    pub workspace: Option<Workspace>,
}

impl From<&domain::help::HelpTopic> for HelpTopic {
    fn from(topic: &domain::help::HelpTopic) -> Self {
        HelpTopic {
            id: topic.id.clone(),
            title: topic.title.clone(),
            body: topic.body.clone(),
            keywords: topic.keywords.clone(),
            workspace: topic.workspace.map(Into::into),
        }
    }
}
