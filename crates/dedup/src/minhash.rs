//! MinHash signatures and LSH banding: records whose stem sets are alike share a band key with high
//! probability, so candidates come from a few index look-ups instead of comparing all pairs.

use crate::text::hash;
use std::sync::LazyLock;

/// Hash functions in a signature.
pub const SIGNATURE_LEN: usize = 60;
/// Bands of `ROWS` rows: two records with stem-set Jaccard `s` share a band with probability
/// `1 - (1 - s^3)^20`: 0.93 at s = 0.5, 0.73 at 0.4, 0.42 at 0.3, and 0.0025 for unrelated
/// records (s = 0.05), so buckets stay small.
pub const BANDS: usize = 20;
pub const ROWS: usize = SIGNATURE_LEN / BANDS;

/// The fixed seeds of the hash functions, from a fixed seed, so signatures are the same in every
/// process and release.
static SEEDS: LazyLock<Vec<u64>> = LazyLock::new(|| {
    let mut state: u64 = 0x1CA7_2026_D0D0_5EED;
    (0..SIGNATURE_LEN)
        .map(|_| {
            state = mix(state);
            state
        })
        .collect()
});

/// A strong 64-bit mixer (the finaliser of splitmix64): hash function `i` is `mix(x ^ seed_i)`,
/// a few multiplications instead of the modular arithmetic of textbook MinHash.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The MinHash signature of a set of hashed stems; `None` for an empty set.
pub fn signature(set: &[u64]) -> Option<[u64; SIGNATURE_LEN]> {
    if set.is_empty() {
        return None;
    }
    let mut sig = [u64::MAX; SIGNATURE_LEN];
    for (slot, seed) in sig.iter_mut().zip(SEEDS.iter()) {
        for x in set {
            *slot = (*slot).min(mix(*x ^ seed));
        }
    }
    Some(sig)
}

/// The band keys of a signature: one 63-bit key per band (non-negative, so it fits a signed
/// 64-bit database column), with the band number mixed in.
pub fn band_keys(sig: &[u64; SIGNATURE_LEN]) -> Vec<i64> {
    sig.chunks(ROWS)
        .enumerate()
        .map(|(band, rows)| {
            let mut bytes = Vec::with_capacity(8 * (ROWS + 1));
            bytes.extend_from_slice(&(band as u64).to_le_bytes());
            for r in rows {
                bytes.extend_from_slice(&r.to_le_bytes());
            }
            i64::try_from(hash(&bytes) >> 1).unwrap_or(0)
        })
        .collect()
}

/// The share of equal slots: an estimate of the Jaccard similarity of the two sets.
pub fn estimate(a: &[u64; SIGNATURE_LEN], b: &[u64; SIGNATURE_LEN]) -> f64 {
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / SIGNATURE_LEN as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(range: std::ops::Range<u64>) -> Vec<u64> {
        range.map(|i| hash(&i.to_le_bytes())).collect()
    }

    #[test]
    fn equal_sets_have_equal_signatures_and_keys() {
        let a = signature(&set(0..50));
        assert!(a.is_some());
        assert_eq!(a, signature(&set(0..50)));
        assert_eq!(signature(&[]), None);
        if let Some(sig) = a {
            assert_eq!(band_keys(&sig).len(), BANDS);
            assert!(band_keys(&sig).iter().all(|k| *k >= 0));
        }
    }

    #[test]
    fn estimates_track_jaccard() {
        // Jaccard of 0..100 and 50..150 is 50/150 = 0.33.
        let (a, b) = (signature(&set(0..100)), signature(&set(50..150)));
        if let (Some(a), Some(b)) = (a, b) {
            let e = estimate(&a, &b);
            assert!((0.15..0.55).contains(&e), "{e}");
        } else {
            panic!("signatures missing");
        }
    }

    #[test]
    fn near_copies_share_a_band() {
        let (a, b) = (signature(&set(0..40)), signature(&set(0..38)));
        if let (Some(a), Some(b)) = (a, b) {
            let ka = band_keys(&a);
            assert!(band_keys(&b).iter().any(|k| ka.contains(k)));
        }
    }
}
