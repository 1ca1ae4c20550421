//! The features of activities that scorings read lately, kept in memory: scoring a new activity
//! reads its candidates' ids from the database and most of their features from here.
//!
//! Why: a scoring compares against some 150 candidates, and reading their rows (1.3 KB of JSON
//! features each, two b-tree descents a row) was most of its time; on SQLite every commit empties
//! the other connections' page caches, so under a stream of records those rows came from the
//! kernel each time.
//!
//! Staying true to the database: an activity's features change only when it is edited or when
//! `icat dedup rebuild` rewrites them, and each of those writes a new *generation* (a random token
//! in `settings`) in the same transaction. A scoring reads the generation before it looks here;
//! entries belong to one generation, and a scoring that sees another one empties the cache and
//! fills it under its own. Several servers sharing one PostgreSQL each see the others' edits this
//! way. New activities need no new generation: their ids are new.
//!
//! The match model that scores pairs ([`icat_dedup::Model`]) is kept here too: `icat dedup
//! rebuild` stores the model it estimated in `settings` and writes a new generation with it, so a
//! scoring reads the model of the generation it read, from memory unless the generation moved.

use diesel::prelude::*;
use icat_dedup::{Features, Model};
use icat_store::DbConn;
use icat_store::schema::activities;
use quick_cache::{Weighter, sync::Cache};
use std::sync::{Arc, RwLock};

/// The `settings` key of the generation.
const GENERATION: &str = "dedup_features_generation";
/// The `settings` key of the match model (JSON; absent until the first rebuild estimates one).
const MODEL: &str = "dedup_model";

/// An activity's id and features.
pub type Found = (String, Arc<Features>);

/// Features by activity id, bounded in bytes.
pub struct FeatureCache {
    /// The generation the entries belong to. Fills take it shared, a change of generation
    /// exclusively, so that no fill of an old generation lands after the cache moved on.
    generation: RwLock<String>,
    entries: Cache<String, Arc<Features>, ByBytes>,
    /// The match model and the generation it was read under.
    model: RwLock<Option<(String, Arc<Model>)>>,
    /// The sentence encoder that gives new and changed activities their vectors (`None`: none
    /// are computed, and the meaning comparison weighs nothing).
    sentences: Option<Arc<icat_embed::Encoder>>,
    /// The vectors of the texts encoded lately, by text: the record form's live check encodes
    /// the draft as it is typed, and saving that draft finds its vector here.
    recent_meanings: Cache<String, Arc<[f32]>>,
}

/// Texts whose vectors [`FeatureCache::meaning`] keeps (2 KB each, 1 MB in all).
const RECENT_MEANINGS: usize = 512;

/// An entry's weight: about the bytes it holds.
#[derive(Clone)]
struct ByBytes;

impl Weighter<String, Arc<Features>> for ByBytes {
    fn weight(&self, id: &String, f: &Arc<Features>) -> u64 {
        let hashes = f.title.len() + f.text.len() + f.target_groups.len() + f.partners.len();
        let bytes = f.meaning.len() + f.language.len();
        let words: usize = [&f.markers, &f.countries, &f.themes, &f.sdg_targets]
            .iter()
            .flat_map(|list| list.iter())
            .map(|s| s.len() + size_of::<String>())
            .sum();
        // Key, value, the Arc's counts and the cache's own slot.
        (id.len() + size_of::<Features>() + 8 * hashes + bytes + words + f.agency.len() + 64) as u64
    }
}

impl FeatureCache {
    /// A cache holding about `bytes` of features.
    pub fn new(bytes: u64) -> Self {
        // About 2 KB an activity (a third of it the sentence vector).
        let items = usize::try_from(bytes / 2_000).unwrap_or(1).max(1);
        FeatureCache {
            generation: RwLock::new(String::new()),
            entries: Cache::with_weighter(items, bytes.max(1), ByBytes),
            model: RwLock::new(None),
            sentences: None,
            recent_meanings: Cache::new(RECENT_MEANINGS),
        }
    }

    /// The same, giving activities sentence vectors from `encoder`.
    pub fn with_sentences(mut self, encoder: Arc<icat_embed::Encoder>) -> Self {
        self.sentences = Some(encoder);
        self
    }

    /// The sentence encoder, where there is one.
    pub fn sentences(&self) -> Option<&Arc<icat_embed::Encoder>> {
        self.sentences.as_ref()
    }

    /// The sentence vector of an activity's title and description (empty without an encoder).
    /// One or two milliseconds of one core (none when the live check just encoded the same text):
    /// compute it before any write turn.
    pub fn meaning(&self, data: &crate::model::Data) -> Vec<f32> {
        let Some(encoder) = &self.sentences else {
            return Vec::new();
        };
        let text = icat_dedup::sentence(&data.title, &data.description);
        if let Some(vector) = self.recent_meanings.get(&text) {
            return vector.to_vec();
        }
        let vector = encoder.encode(&text);
        self.recent_meanings.insert(text, vector.as_slice().into());
        vector
    }

    /// The match model of `generation`, from memory unless the generation moved.
    fn model(&self, conn: &mut DbConn, generation: &str) -> QueryResult<Arc<Model>> {
        if let Some((held, model)) = &*self.model.read().unwrap_or_else(|e| e.into_inner())
            && held == generation
        {
            return Ok(model.clone());
        }
        let model = Arc::new(stored_model(conn)?);
        *self.model.write().unwrap_or_else(|e| e.into_inner()) =
            Some((generation.to_owned(), model.clone()));
        Ok(model)
    }

    /// The match model, and the features of those of `ids` that are live, from memory where
    /// held, else from the database (and then kept).
    pub fn features(
        &self,
        conn: &mut DbConn,
        ids: Vec<String>,
    ) -> QueryResult<(Arc<Model>, Vec<Found>)> {
        let generation = generation(conn)?;
        let model = self.model(conn, &generation)?;
        let held = self.get(&generation, &ids);
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for (id, held) in ids.into_iter().zip(held) {
            match held {
                Some(features) => found.push((id, features)),
                None => missing.push(id),
            }
        }
        for (id, features) in load(conn, &missing)? {
            self.put(&generation, id.clone(), features.clone());
            found.push((id, features));
        }
        Ok((model, found))
    }

    /// The features of `ids` held for this generation, by position (`None`: read them, then
    /// [`put`](Self::put) them).
    fn get(&self, generation: &str, ids: &[String]) -> Vec<Option<Arc<Features>>> {
        {
            let current = self.generation.read().unwrap_or_else(|e| e.into_inner());
            if *current == generation {
                return ids.iter().map(|id| self.entries.get(id)).collect();
            }
        }
        // Entries of another generation may be stale. (A scoring that read the generation just
        // before an edit takes the cache back to it; the next one moves it on again. Rare, and
        // each entry still matches the generation it is kept under.)
        let mut current = self.generation.write().unwrap_or_else(|e| e.into_inner());
        if *current != generation {
            self.entries.clear();
            generation.clone_into(&mut current);
        }
        vec![None; ids.len()]
    }

    /// Keeps features read from the database under the generation read before them.
    fn put(&self, generation: &str, id: String, features: Arc<Features>) {
        let current = self.generation.read().unwrap_or_else(|e| e.into_inner());
        if *current == generation {
            self.entries.insert(id, features);
        }
    }
}

/// The stored features of those of `ids` that are live, read from the database.
pub fn load(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<Found>> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String)> = activities::table
            .filter(activities::id.eq_any(chunk))
            .filter(activities::archived_at.is_null())
            .select((activities::id, activities::features))
            .load(conn)?;
        found.extend(rows.into_iter().filter_map(|(id, json)| {
            serde_json::from_str(&json)
                .ok()
                .map(|features| (id, Arc::new(features)))
        }));
    }
    Ok(found)
}

/// The generation of the stored features (empty before the first edit).
fn generation(conn: &mut DbConn) -> QueryResult<String> {
    Ok(icat_store::setting(conn, GENERATION)?.unwrap_or_default())
}

/// The stored match model, or the shipped one where none was estimated yet. A stored model that
/// does not parse (written by another version) is reported and the shipped one used, so that
/// recording goes on until the next rebuild writes a current one.
pub fn stored_model(conn: &mut DbConn) -> QueryResult<Model> {
    let Some(json) = icat_store::setting(conn, MODEL)? else {
        return Ok(Model::shipped());
    };
    Ok(serde_json::from_str(&json).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the stored match model does not parse: scoring with the shipped model until `icat dedup rebuild`");
        Model::shipped()
    }))
}

/// Stores the match model, inside the transaction of the rebuild that estimated it, and moves
/// the generation so that every server's next scoring reads it.
pub fn store_model(conn: &mut DbConn, model: &Model) -> Result<(), icat_common::ApiError> {
    let json = serde_json::to_string(model).map_err(|e| {
        icat_common::ApiError::internal(format!("the match model does not serialise: {e}"))
    })?;
    icat_store::put_setting(conn, MODEL, &json)?;
    features_changed(conn)?;
    Ok(())
}

/// Says, inside the transaction that changes stored features, that cached ones may be stale.
pub fn features_changed(conn: &mut DbConn) -> QueryResult<()> {
    icat_store::put_setting(conn, GENERATION, &uuid::Uuid::new_v4().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(agency: &str) -> Arc<Features> {
        let countries = vec!["NG".to_owned()];
        let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
        Arc::new(icat_dedup::features(&icat_dedup::Input {
            agency,
            title: "Training of judges",
            description: "Workshops for judges and prosecutors",
            countries: &countries,
            themes: &[],
            sdg_targets: &[],
            target_groups: &[],
            partners: &[],
            start: day,
            end: day,
            meaning: &[],
        }))
    }

    fn held(cache: &FeatureCache, generation: &str, id: &str) -> Option<String> {
        cache.get(generation, &[id.to_owned()])[0]
            .as_ref()
            .map(|f| f.agency.clone())
    }

    #[test]
    fn entries_are_kept_for_their_generation_only() {
        let cache = FeatureCache::new(1 << 20);
        assert_eq!(held(&cache, "", "a"), None);
        cache.put("", "a".into(), features("UNODC"));
        assert_eq!(held(&cache, "", "a").as_deref(), Some("UNODC"));
        // An edit elsewhere: the next scoring reads a new generation and finds nothing held.
        assert_eq!(held(&cache, "g1", "a"), None);
        // A scoring that read the old generation before the edit cannot fill the new one.
        cache.get("g1", &[]);
        cache.put("", "a".into(), features("stale"));
        assert_eq!(held(&cache, "g1", "a"), None);
        cache.put("g1", "a".into(), features("IOM"));
        assert_eq!(held(&cache, "g1", "a").as_deref(), Some("IOM"));
    }

    #[test]
    fn the_cache_holds_about_its_size() {
        let one = ByBytes.weight(&"a".repeat(36), &features("UNODC"));
        let cache = FeatureCache::new(one * 100);
        for i in 0..1_000 {
            cache.put("", format!("{i:036}"), features("UNODC"));
        }
        let ids: Vec<String> = (0..1_000).map(|i| format!("{i:036}")).collect();
        let kept = cache.get("", &ids).iter().flatten().count();
        assert!((50..=100).contains(&kept), "{kept} of 1000 kept");
        let none = FeatureCache::new(0);
        none.put("", ids[0].clone(), features("UNODC"));
        assert_eq!(none.get("", &ids).iter().flatten().count(), 0);
    }
}
