//! Pagination as the contract fixes it: `?page=1&per_page=50`, at most 100 per page.

use crate::ApiError;
use serde::Serialize;

pub const DEFAULT_PER_PAGE: i64 = 50;
pub const MAX_PER_PAGE: i64 = 100;

/// A validated page request. Built from the raw query values so that each list's query struct can
/// keep `deny_unknown_fields` (serde's `flatten` cannot be combined with it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageParams {
    pub page: i64,
    pub per_page: i64,
}

impl PageParams {
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Result<Self, ApiError> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
        if page < 1 {
            return Err(ApiError::bad_request("page must be 1 or more"));
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(ApiError::bad_request(format!(
                "per_page must be between 1 and {MAX_PER_PAGE}"
            )));
        }
        // Past this the offset would overflow; no real list is that long.
        if page > 1_000_000 {
            return Err(ApiError::bad_request("page is too large"));
        }
        Ok(Self { page, per_page })
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    /// The total of a list whose page at these parameters came back with `found` items. A page
    /// not filled ends the list, so the total is its offset plus what it holds, and nothing is
    /// counted (a statement saved on most look-ups: a directory search finds a few designations);
    /// `count` is asked for a full page, or for an empty one past the first.
    pub fn total<E>(&self, found: usize, count: impl FnOnce() -> Result<i64, E>) -> Result<i64, E> {
        let found = i64::try_from(found).unwrap_or(i64::MAX);
        if found < self.per_page && (found > 0 || self.page == 1) {
            return Ok(self.offset() + found);
        }
        count()
    }
}

impl Default for PageParams {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

/// Every item of a paginated list, fetched page by page (largest pages), up to `max` items: what
/// exports use, so one request cannot ask for unbounded work.
pub fn all_pages<T>(
    max: usize,
    mut fetch: impl FnMut(PageParams) -> Result<Page<T>, ApiError>,
) -> Result<Vec<T>, ApiError> {
    let mut all = Vec::new();
    let mut params = PageParams::new(Some(1), Some(MAX_PER_PAGE))?;
    loop {
        let batch = fetch(params)?;
        let done = batch.items.len() < usize::try_from(params.per_page).unwrap_or(0);
        all.extend(batch.items);
        if done || all.len() >= max {
            all.truncate(max);
            return Ok(all);
        }
        params.page += 1;
    }
}

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    /// On lists that take `after=`: the cursor of the next page, while more may follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Present, and true, when `total` is a recent count rather than one taken for this answer
    /// (lists of more than a thousand matches; see the activity list).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub total_estimated: bool,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, total: i64, params: PageParams) -> Self {
        Self {
            items,
            total,
            page: params.page,
            per_page: params.per_page,
            next: None,
            total_estimated: false,
        }
    }

    pub fn with_next(self, next: Option<String>) -> Self {
        Self { next, ..self }
    }

    pub fn estimated(self, total_estimated: bool) -> Self {
        Self {
            total_estimated,
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PageParams;

    /// The total a page gives, and whether it had to count (the count says 1,000).
    fn total(page: i64, found: usize) -> (i64, bool) {
        let mut counted = false;
        let params = PageParams { page, per_page: 50 };
        let total = params
            .total(found, || {
                counted = true;
                Ok::<_, ()>(1_000)
            })
            .unwrap_or_default();
        (total, counted)
    }

    #[test]
    fn a_page_not_filled_gives_the_total_without_counting() {
        assert_eq!(total(1, 3), (3, false));
        assert_eq!(total(1, 0), (0, false), "an empty list");
        assert_eq!(total(3, 7), (107, false), "two full pages before it");
        assert_eq!(
            total(1, 50),
            (1_000, true),
            "a full page may have more after it"
        );
        assert_eq!(total(9, 0), (1_000, true), "past the end: how far is it?");
    }
}
