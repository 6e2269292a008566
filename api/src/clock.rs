//! The request's notion of now. Read once per request and passed down (DESIGN §1); rules never
//! read the system time themselves.

use chrono::{DateTime, SubsecRound, Utc};

/// Now, at the microsecond precision both databases store, so what is written reads back equal.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
