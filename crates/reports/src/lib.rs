//! The secretariat's read model: the duplicate report and its overlap view (paragraph 7),
//! participation (paragraph 8), focal-point coverage (paragraph 9), the activity summaries
//! (paragraphs 5 and 13) and where the work is (the map and each country's timeline). It reads the tables through `icat_store` and writes nothing; the activity
//! log and the directory keep their own jobs (recording, scoring, reviews; designations).
//!
//! May depend on `icat_common`, `icat_store`, `icat_auth`, `icat_dedup`, and on the public API of
//! `icat_activities` (the reasons of a pair, reviews) and `icat_directory` (focal points). No domain
//! crate depends on it.

pub mod countries;
pub mod coverage;
pub mod duplicates;
mod routes;
pub mod summary;

pub use routes::configure;
