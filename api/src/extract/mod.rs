//! Request pieces shared by every route: the JSON body, the idempotency key, pagination and
//! entity tags. Each answers a problem document when the request is wrong.

pub mod etag;
pub mod idempotency;
pub mod json;
pub mod pagination;
pub mod query;
mod strict;
