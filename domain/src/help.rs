//! The help catalog: Partner Center help topics, shipped as data (`catalog/help_topics.json`)
//! and found through search.

use crate::workspace::Workspace;
use serde::{Deserialize, Serialize};

/// Limits a topic must keep, so a catalog edit cannot bloat the index or the answers.
pub const MAX_TITLE_CHARS: usize = 120;
pub const MAX_BODY_CHARS: usize = 2000;
pub const MAX_KEYWORDS: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpTopic {
    /// Lower-case letters, digits and hyphens, at most 64.
    pub id: String,
    pub title: String,
    /// A short answer, plain text.
    pub body: String,
    /// Words people search for that the title and body may not use.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The workspace the topic is about, if one.
    #[serde(default)]
    pub workspace: Option<Workspace>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpCatalog {
    pub catalog_version: u32,
    pub topics: Vec<HelpTopic>,
}

impl HelpCatalog {
    /// Every problem of the catalog, or none.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut ids: Vec<&str> = Vec::new();
        for topic in &self.topics {
            let id = topic.id.as_str();
            let id_ok = !id.is_empty()
                && id.len() <= 64
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !id_ok {
                problems.push(format!(
                    "topic id {id:?} is not lower-case letters, digits and hyphens (1 to 64)"
                ));
            }
            if ids.contains(&id) {
                problems.push(format!("topic id {id:?} is repeated"));
            }
            ids.push(id);
            if topic.title.trim().is_empty() || topic.title.chars().count() > MAX_TITLE_CHARS {
                problems.push(format!(
                    "{id}: title must be 1 to {MAX_TITLE_CHARS} characters"
                ));
            }
            if topic.body.trim().is_empty() || topic.body.chars().count() > MAX_BODY_CHARS {
                problems.push(format!(
                    "{id}: body must be 1 to {MAX_BODY_CHARS} characters"
                ));
            }
            if topic.keywords.len() > MAX_KEYWORDS {
                problems.push(format!("{id}: at most {MAX_KEYWORDS} keywords"));
            }
        }
        problems
    }

    pub fn get(&self, id: &str) -> Option<&HelpTopic> {
        self.topics.iter().find(|topic| topic.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(id: &str) -> HelpTopic {
        HelpTopic {
            id: id.to_owned(),
            title: "Title".to_owned(),
            body: "Body.".to_owned(),
            keywords: Vec::new(),
            workspace: None,
        }
    }

    #[test]
    fn ids_must_be_slugs_and_unique() {
        let catalog = HelpCatalog {
            catalog_version: 1,
            topics: vec![topic("find-admins"), topic("find-admins"), topic("Bad Id")],
        };
        let problems = catalog.problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            HelpCatalog {
                catalog_version: 1,
                topics: vec![topic("a-1")]
            }
            .problems()
            .is_empty()
        );
    }
}
