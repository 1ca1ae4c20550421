//! The duplicate-detection engine of paragraph 7: pure functions, no database, no HTTP.
//!
//! 1. [`features`] normalises an activity once (folded, stop-worded, stemmed text in English,
//!    French and Spanish, hashed) into [`Features`], which callers store beside the activity.
//! 2. [`minhash`] signs the text and cuts the signature into band keys: alike records share a key.
//! 3. [`candidates`] unions LSH buckets with a structural block (shared country, overlapping
//!    period), each capped, so no bucket or block grows quadratic: never all pairs.
//! 4. [`compare`] scores a pair with per-feature reasons under a [`Model`] (Fellegi-Sunter,
//!    estimated from the log itself by [`model::estimate`]); [`cluster`] groups strong pairs.
//!
//! Depends on nothing internal.

pub mod cluster;
pub mod minhash;
pub mod model;
pub mod reason;
mod score;
pub mod synthetic;
pub mod text;

pub use cluster::{Edge, cluster};
pub use model::Model;
pub use reason::{Param, Said};
pub use score::{DUPLICATE_AT, Level, POSSIBLE_AT, Reason, Scored, compare, gamma, jaccard, quick};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The version of [`features`]' output. Raise it with every change of normalisation or hashing,
/// so that `icat dedup rebuild` rewrites stored features and band keys; a change of weights alone
/// needs no new version.
pub const NORMALISER_VERSION: u32 = 4;

/// An activity as the engine reads it.
#[derive(Clone, Debug, Default)]
pub struct Input<'a> {
    pub agency: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub countries: &'a [String],
    pub themes: &'a [String],
    pub sdg_targets: &'a [String],
    pub target_groups: &'a [String],
    pub partners: &'a [String],
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The sentence vector of [`sentence`] of title and description (`icat_embed`), or empty
    /// where none was computed: the meaning comparison then weighs nothing.
    pub meaning: &'a [f32],
}

/// The text whose sentence vector an activity carries: its title and description.
pub fn sentence(title: &str, description: &str) -> String {
    format!("{title}\n{description}")
}

/// What the engine compares, computed once per activity and stored beside it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Features {
    pub agency: String,
    /// Hashed stems of the title.
    pub title: Vec<u64>,
    /// Hashed stems of title and description.
    pub text: Vec<u64>,
    /// Phase, edition and year markers of the title.
    pub markers: Vec<String>,
    pub countries: Vec<String>,
    pub themes: Vec<String>,
    pub sdg_targets: Vec<String>,
    pub target_groups: Vec<u64>,
    pub partners: Vec<u64>,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The sentence vector, scaled to signed bytes (a cosine read from them is within about 0.002
    /// of the exact one), stored as base64; empty when none was computed.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "bytes")]
    pub meaning: Vec<i8>,
    /// The language of title and description (`en`, `fr` or `es`; empty in features stored
    /// before it was kept).
    #[serde(default)]
    pub language: String,
}

/// A vector scaled so its largest component is ±127, in signed bytes (an eighth of the floats'
/// size: the stored features of 100,000 activities grow by 68 MB, not 270).
pub fn quantise(vector: &[f32]) -> Vec<i8> {
    let largest = vector.iter().fold(0.0_f32, |m, x| m.max(x.abs()));
    if largest == 0.0 || !largest.is_finite() {
        return Vec::new();
    }
    vector
        .iter()
        .map(|x| (x / largest * 127.0).round() as i8)
        .collect()
}

/// The cosine similarity of two quantised vectors (`None` when either is missing).
pub fn cosine(a: &[i8], b: &[i8]) -> Option<f64> {
    if a.is_empty() || a.len() != b.len() {
        return None;
    }
    let (mut ab, mut aa, mut bb) = (0_i64, 0_i64, 0_i64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (i64::from(x), i64::from(y));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    (aa > 0 && bb > 0).then(|| ab as f64 / ((aa as f64) * (bb as f64)).sqrt())
}

/// Signed bytes as base64 in JSON.
mod bytes {
    use base64::{Engine, engine::general_purpose::STANDARD};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[i8], s: S) -> Result<S::Ok, S::Error> {
        let raw: Vec<u8> = v.iter().map(|x| x.to_ne_bytes()[0]).collect();
        s.serialize_str(&STANDARD.encode(raw))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i8>, D::Error> {
        let text = String::deserialize(d)?;
        let raw = STANDARD.decode(text).map_err(serde::de::Error::custom)?;
        Ok(raw.into_iter().map(|x| i8::from_ne_bytes([x])).collect())
    }
}

fn sorted(list: &[String]) -> Vec<String> {
    let mut v = list.to_vec();
    v.sort();
    v.dedup();
    v
}

/// Normalises an activity for comparison.
pub fn features(input: &Input<'_>) -> Features {
    let text = sentence(input.title, input.description);
    Features {
        agency: input.agency.to_owned(),
        title: text::stem_set(input.title),
        text: text::stem_set(&text),
        markers: text::markers(input.title),
        countries: sorted(input.countries),
        themes: sorted(input.themes),
        sdg_targets: sorted(input.sdg_targets),
        target_groups: text::stem_set(&input.target_groups.join(" ")),
        partners: text::name_set(input.partners),
        start: input.start.min(input.end),
        end: input.end.max(input.start),
        meaning: quantise(input.meaning),
        language: text::language(&text::fold(&text)).code().to_owned(),
    }
}

/// Normalises many activities at once, on every core (rebuilds and bulk loads).
pub fn features_all(inputs: &[Input<'_>]) -> Vec<Features> {
    use rayon::prelude::*;
    inputs.par_iter().map(features).collect()
}

/// The LSH band keys of an activity (empty when it has no words to sign).
pub fn band_keys(f: &Features) -> Vec<i64> {
    minhash::signature(&f.text)
        .map(|sig| minhash::band_keys(&sig))
        .unwrap_or_default()
}

/// At most this many records are taken from one LSH bucket.
pub const BUCKET_CAP: usize = 50;
/// At most this many period-overlapping neighbours (by start date) are taken from one country's
/// block after each record; with the same number before it, each record meets up to twice this.
pub const BLOCK_CAP: usize = 12;
/// Overlaps kept per activity: the strongest few; there can be very many.
pub const OVERLAPS_KEPT: usize = 5;

/// Candidate pairs `(i, j)`, `i < j`, of records of different agencies: records that share an LSH
/// bucket, or a country with overlapping periods. Both sources are capped per bucket and block.
pub fn candidates(records: &[Features]) -> Vec<(usize, usize)> {
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut push = |i: usize, j: usize| {
        if i != j && records[i].agency != records[j].agency {
            pairs.push((i.min(j), i.max(j)));
        }
    };
    // A bucket of more than `BUCKET_CAP` records holds records that merely share common words:
    // it is skipped (the incremental check skips it too).
    use rayon::prelude::*;
    // (band key, record) sorted by key: each bucket is a run, in record order. A sorted vector
    // holds a 100,000-record log's two million entries in a fraction of a hash map's memory.
    let mut keyed: Vec<(i64, u32)> = records
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, f)| {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            band_keys(f).into_iter().map(move |k| (k, i))
        })
        .collect();
    keyed.par_sort_unstable();
    for bucket in keyed
        .chunk_by(|x, y| x.0 == y.0)
        .filter(|b| b.len() <= BUCKET_CAP)
    {
        let members: Vec<usize> = bucket.iter().map(|&(_, i)| i as usize).collect();
        for (n, &i) in members.iter().enumerate() {
            for &j in &members[..n] {
                push(i, j);
            }
        }
    }
    drop(keyed);
    let mut blocks: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, f) in records.iter().enumerate() {
        for c in &f.countries {
            blocks.entry(c.as_str()).or_default().push(i);
        }
    }
    for members in blocks.values_mut() {
        members.sort_by_key(|&i| (records[i].start, i));
        for (pos, &i) in members.iter().enumerate() {
            let later = members[pos + 1..]
                .iter()
                .take_while(|&&j| records[j].start <= records[i].end)
                .take(BLOCK_CAP);
            for &j in later {
                push(i, j);
            }
        }
    }
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
}

/// A pair worth keeping, found by [`all_pairs`]: explain it with [`compare`] when it is stored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Found {
    pub a: usize,
    pub b: usize,
    pub score: f64,
    pub level: Level,
    /// The unrounded log2 odds, which rank pairs.
    pub log_odds: f64,
}

/// Every pair worth keeping among `records`, found without an all-pairs pass: candidates scored
/// (on both cores), all `possible` and `duplicate` pairs kept, and the strongest few `overlap`s of
/// each record. Reasons are not built here: a large log has many pairs, and their texts are only
/// needed as each one is stored.
pub fn all_pairs(model: &Model, records: &[Features]) -> Vec<Found> {
    all_pairs_of(model, records, candidates(records))
}

/// [`all_pairs`] of `candidates` already found (the rebuild estimates the model on them first).
pub fn all_pairs_of(
    model: &Model,
    records: &[Features],
    candidates: Vec<(usize, usize)>,
) -> Vec<Found> {
    use rayon::prelude::*;
    let found: Vec<Found> = candidates
        .into_par_iter()
        .filter_map(|(a, b)| {
            let (score, level, log_odds) = quick(model, &records[a], &records[b])?;
            Some(Found {
                a,
                b,
                score,
                level,
                log_odds,
            })
        })
        .collect();
    keep_strongest_overlaps(found, OVERLAPS_KEPT)
}

/// Keeps all strong pairs and, of the overlaps, those among the `keep` strongest of either record.
pub fn keep_strongest_overlaps(mut pairs: Vec<Found>, keep: usize) -> Vec<Found> {
    pairs.sort_by(|x, y| {
        y.log_odds
            .total_cmp(&x.log_odds)
            .then_with(|| (x.a, x.b).cmp(&(y.a, y.b)))
    });
    let records = pairs.iter().map(|p| p.a.max(p.b) + 1).max().unwrap_or(0);
    let mut kept_per_record = vec![0usize; records];
    pairs.retain(|p| {
        if p.level != Level::Overlap {
            return true;
        }
        if kept_per_record[p.a] < keep || kept_per_record[p.b] < keep {
            kept_per_record[p.a] += 1;
            kept_per_record[p.b] += 1;
            true
        } else {
            false
        }
    });
    pairs
}

#[cfg(test)]
mod tests;
