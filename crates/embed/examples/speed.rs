//! How long a vector takes: `cargo run --release -p icat_embed --example speed [model folder]`.
//! Encodes the evaluation sets' activities (title and description), one at a time.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/model/usem3".into());
    let started = Instant::now();
    let encoder = icat_embed::Encoder::load(std::path::Path::new(&folder))?;
    println!("loaded in {:.2} s", started.elapsed().as_secs_f64());
    let mut texts = Vec::new();
    for file in [
        "tests/data/eval-activities.json",
        "tests/data/heldout-activities.json",
    ] {
        let activities: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(file)?)?;
        for a in activities {
            texts.push(format!(
                "{}\n{}",
                a["title"].as_str().unwrap_or(""),
                a["description"].as_str().unwrap_or("")
            ));
        }
    }
    let tokens: usize = texts.iter().map(|t| encoder.tokens(t).len()).sum();
    // The first pass computes each token id's own terms; the second finds them kept.
    let mut took = [0.0; 2];
    for pass in &mut took {
        let started = Instant::now();
        for text in &texts {
            std::hint::black_box(encoder.encode(text));
        }
        *pass = started.elapsed().as_secs_f64();
    }
    let started = std::time::Instant::now();
    let batched = encoder.encode_all(&texts);
    let batch_took = started.elapsed().as_secs_f64();
    let worst = texts
        .iter()
        .zip(&batched)
        .map(|(t, v)| icat_embed::cosine(&encoder.encode(t), v))
        .fold(1.0_f32, f32::min);
    println!(
        "in batches on every core: {:.2} ms a text (lowest cosine to one by one {worst})",
        batch_took * 1e3 / texts.len() as f64
    );
    println!(
        "{} texts, {:.1} tokens each, one by one: {:.2} ms a text the first time, {:.2} ms the second",
        texts.len(),
        tokens as f64 / texts.len() as f64,
        took[0] * 1e3 / texts.len() as f64,
        took[1] * 1e3 / texts.len() as f64
    );
    Ok(())
}
