//! Who may do what: the caller's standing, resolved inside the request's database work.

use domain::principal::Principal;
use persistence::DbConnection;
use persistence::tenant::{self, Membership, OperatorAccess, Standing};

use crate::error::{ApiError, ErrorCode};

/// The caller as a user of their directory's partner account.
pub fn member(conn: &mut DbConnection, principal: &Principal) -> Result<Membership, ApiError> {
    match principal {
        Principal::User { email, directory } => {
            match tenant::resolve_user(conn, *directory, email)? {
                Standing::Member(membership) => Ok(membership),
                Standing::NoAccount => Err(ApiError::new(
                    ErrorCode::AccountNotFound,
                    "Your directory has no partner account yet; create one with POST /v1/accounts.",
                )),
                Standing::NotAMember { .. } => Err(ApiError::new(
                    ErrorCode::NotAMember,
                    "You are signed in to the directory of a partner account but are not one of its users; ask one of its global admins to add you.",
                )),
            }
        }
        Principal::App { .. } => Err(ApiError::new(
            ErrorCode::PrincipalNotAllowed,
            "App tokens cannot call this route: app registration is not available yet.",
        )),
        Principal::Operator { .. } => Err(ApiError::new(
            ErrorCode::PrincipalNotAllowed,
            "Operators act on partner accounts through the /v1/operator routes.",
        )),
    }
}

/// The caller as a platform operator.
pub fn operator(principal: &Principal) -> Result<OperatorAccess, ApiError> {
    OperatorAccess::for_principal(principal).ok_or_else(|| {
        ApiError::new(
            ErrorCode::OperatorOnly,
            "This route is for platform operators only.",
        )
    })
}
