//! Keyset pagination: a page is "the next `limit` rows after this key", so page 5,000 costs what
//! page 1 costs. The HTTP layer turns the key into an opaque cursor.

/// A request for one page: at most `limit` rows strictly after `after` in key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<String>,
}

/// One page of rows and, when more follow, the key of the last row returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_after: Option<String>,
}

impl PageRequest {
    /// Rows to fetch: one more than the page, to learn whether another page exists.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// Cuts the over-fetched rows to the page and derives the next key from the last row kept.
    pub fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> String) -> Page<T> {
        let limit = self.limit as usize;
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        let next_after = if has_more { rows.last().map(key) } else { None };
        Page {
            items: rows,
            next_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_key_only_when_rows_remain() {
        let request = PageRequest {
            limit: 2,
            after: None,
        };
        let full = request.finish(vec![1, 2, 3], |n| n.to_string());
        assert_eq!(full.items, vec![1, 2]);
        assert_eq!(full.next_after.as_deref(), Some("2"));
        let last = request.finish(vec![1, 2], |n| n.to_string());
        assert_eq!(last.next_after, None);
    }
}
