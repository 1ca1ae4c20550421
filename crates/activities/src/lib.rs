//! The deduplicated activity log (paragraph 7 of the resolution): agencies record their
//! activities; each one is scored, while the user waits, against its candidates only (LSH buckets
//! and a capped country-and-period block) and the pairs are kept current in the database, so
//! several servers sharing one PostgreSQL agree. People review pairs; a `not_duplicate` verdict
//! outlives every rebuild. Also: the same-agency exact duplicate (409), idempotent recording, CSV
//! import and export. (The duplicate report that shows the pairs is `icat_reports`'.)
//!
//! May depend on `icat_common`, `icat_store`, `icat_auth`, `icat_audit`, `icat_dedup` and
//! `icat_embed`.

mod csvio;
pub mod feature_cache;
mod idempotency;
mod importing;
mod index;
pub mod log;
pub mod match_model;
pub mod model;
pub mod query;
pub mod rebuild;
pub mod review;
mod routes;
pub mod scoring;

pub use feature_cache::FeatureCache;
pub use index::fill_title_terms;
pub use rebuild::rebuild;
pub use routes::configure;
