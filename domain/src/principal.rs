//! Who is calling. A principal is established from a verified token; the domain only knows the
//! three kinds of DESIGN §3 and what scopes their requests.

use crate::email::EmailAddress;
use crate::ids::DirectoryId;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    User,
    App,
    Operator,
}

impl PrincipalKind {
    pub const fn id(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::App => "app",
            PrincipalKind::Operator => "operator",
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        [
            PrincipalKind::User,
            PrincipalKind::App,
            PrincipalKind::Operator,
        ]
        .into_iter()
        .find(|kind| kind.id() == id)
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Principal {
    /// A person signed in to a directory.
    User {
        email: EmailAddress,
        directory: DirectoryId,
    },
    /// An integration app registered in a directory, acting on its own behalf.
    App {
        client_id: String,
        directory: DirectoryId,
    },
    /// Platform staff. Operators belong to no directory and reach only operator routes.
    Operator { email: EmailAddress },
}

impl Principal {
    pub fn kind(&self) -> PrincipalKind {
        match self {
            Principal::User { .. } => PrincipalKind::User,
            Principal::App { .. } => PrincipalKind::App,
            Principal::Operator { .. } => PrincipalKind::Operator,
        }
    }

    /// The token subject: an email for people, the client id for apps.
    pub fn subject(&self) -> &str {
        match self {
            Principal::User { email, .. } | Principal::Operator { email } => email.as_str(),
            Principal::App { client_id, .. } => client_id,
        }
    }

    pub fn directory(&self) -> Option<DirectoryId> {
        match self {
            Principal::User { directory, .. } | Principal::App { directory, .. } => {
                Some(*directory)
            }
            Principal::Operator { .. } => None,
        }
    }

    /// The tenant a request is made in: the directory (which maps to at most one account, for
    /// good) or the operator realm. Idempotency keys and rate limits are scoped by it.
    pub fn tenant_scope(&self) -> String {
        match self.directory() {
            Some(directory) => format!("directory:{directory}"),
            None => "operator".to_owned(),
        }
    }

    /// The principal within its tenant, stable across tokens. Emails compare case-insensitively.
    pub fn principal_key(&self) -> String {
        format!("{}:{}", self.kind(), self.subject().to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_and_key_identify_the_caller_not_the_token() {
        let directory = DirectoryId::generate();
        let a = Principal::User {
            email: EmailAddress::parse("Jane@Contoso.com").expect("valid"),
            directory,
        };
        let b = Principal::User {
            email: EmailAddress::parse("jane@contoso.com").expect("valid"),
            directory,
        };
        assert_eq!(a.tenant_scope(), b.tenant_scope());
        assert_eq!(a.principal_key(), b.principal_key());
        let operator = Principal::Operator {
            email: EmailAddress::parse("ops@partner-center.example").expect("valid"),
        };
        assert_eq!(operator.tenant_scope(), "operator");
        assert_ne!(operator.principal_key(), a.principal_key());
    }
}
