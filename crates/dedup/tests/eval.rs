//! The engine on the labelled evaluation set in `tests/data/` (built by `tests/data/make_eval.py`):
//! `make eval` prints precision, recall and F1 per level and per difficulty and the pairs it gets
//! wrong (`EVAL_DEBUG=1` adds every labelled pair's reasons); the test fails when the quality
//! targets are missed: F1 of duplicate+possible at least 0.95, at least 0.8 of the overlaps found,
//! no hard negative at `duplicate`.

use chrono::NaiveDate;
use icat_dedup::{Features, Input, Level, all_pairs, features};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Deserialize)]
struct Record {
    id: String,
    agency: String,
    title: String,
    description: String,
    countries: Vec<String>,
    themes: Vec<String>,
    sdg_targets: Vec<String>,
    target_groups: Vec<String>,
    partners: Vec<String>,
    start_date: NaiveDate,
    end_date: NaiveDate,
}

#[derive(Deserialize)]
struct Label {
    a: String,
    b: String,
    label: String,
    difficulty: String,
}

fn key(a: &str, b: &str) -> (String, String) {
    if a < b {
        (a.to_owned(), b.to_owned())
    } else {
        (b.to_owned(), a.to_owned())
    }
}

fn prf(tp: usize, predicted: usize, actual: usize) -> (f64, f64, f64) {
    let p = if predicted == 0 {
        0.0
    } else {
        tp as f64 / predicted as f64
    };
    let r = if actual == 0 {
        0.0
    } else {
        tp as f64 / actual as f64
    };
    let f = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    (p, r, f)
}

#[test]
fn evaluation_meets_the_quality_targets() -> Result<(), Box<dyn std::error::Error>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data");
    let records: Vec<Record> = serde_json::from_str(&std::fs::read_to_string(format!(
        "{dir}/eval-activities.json"
    ))?)?;
    let labels: Vec<Label> =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/eval-labels.json"))?)?;
    let started = std::time::Instant::now();
    let feats: Vec<Features> = records
        .iter()
        .map(|r| {
            features(&Input {
                agency: &r.agency,
                title: &r.title,
                description: &r.description,
                countries: &r.countries,
                themes: &r.themes,
                sdg_targets: &r.sdg_targets,
                target_groups: &r.target_groups,
                partners: &r.partners,
                start: r.start_date,
                end: r.end_date,
            })
        })
        .collect();
    let pairs = all_pairs(&feats);
    let elapsed = started.elapsed();
    let predicted: HashMap<(String, String), (Level, f64)> = pairs
        .iter()
        .map(|p| (key(&records[p.a].id, &records[p.b].id), (p.level, p.score)))
        .collect();
    let title = |id: &str| {
        records
            .iter()
            .find(|r| r.id == id)
            .map(|r| format!("{} ({})", r.title, r.agency))
            .unwrap_or_default()
    };

    let dups: Vec<&Label> = labels.iter().filter(|l| l.label == "duplicate").collect();
    let dup_keys: HashSet<(String, String)> = dups.iter().map(|l| key(&l.a, &l.b)).collect();
    let strong: Vec<&(String, String)> = predicted
        .iter()
        .filter(|(_, (l, _))| *l >= Level::Possible)
        .map(|(k, _)| k)
        .collect();
    let only_dup: Vec<&(String, String)> = predicted
        .iter()
        .filter(|(_, (l, _))| *l == Level::Duplicate)
        .map(|(k, _)| k)
        .collect();

    println!(
        "Evaluation set: {} activities, {} labelled pairs; engine ran in {:.1} ms, {} pairs kept\n",
        records.len(),
        labels.len(),
        elapsed.as_secs_f64() * 1e3,
        pairs.len()
    );
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>6} {:>6}",
        "level", "precision", "recall", "F1", "found", "of"
    );
    let tp = strong.iter().filter(|k| dup_keys.contains(**k)).count();
    let (p, r, f) = prf(tp, strong.len(), dups.len());
    let strong_f1 = f;
    println!(
        "{:<34} {:>9.3} {:>9.3} {:>9.3} {:>6} {:>6}",
        "duplicate+possible vs duplicates",
        p,
        r,
        f,
        tp,
        dups.len()
    );
    let tp_d = only_dup.iter().filter(|k| dup_keys.contains(**k)).count();
    let (p, r, f) = prf(tp_d, only_dup.len(), dups.len());
    println!(
        "{:<34} {:>9.3} {:>9.3} {:>9.3} {:>6} {:>6}",
        "duplicate vs duplicates",
        p,
        r,
        f,
        tp_d,
        dups.len()
    );
    let overlaps: Vec<&Label> = labels.iter().filter(|l| l.label == "overlap").collect();
    let found_overlaps = overlaps
        .iter()
        .filter(|l| predicted.contains_key(&key(&l.a, &l.b)))
        .count();
    println!(
        "{:<34} {:>9} {:>9.3} {:>9} {:>6} {:>6}",
        "overlap or stronger vs overlaps",
        "-",
        found_overlaps as f64 / overlaps.len().max(1) as f64,
        "-",
        found_overlaps,
        overlaps.len()
    );
    let negatives: Vec<&Label> = labels
        .iter()
        .filter(|l| l.label == "not_duplicate")
        .collect();
    let neg_at = |level: Level| {
        negatives
            .iter()
            .filter(|l| {
                predicted
                    .get(&key(&l.a, &l.b))
                    .is_some_and(|(x, _)| *x == level)
            })
            .count()
    };
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>6} {:>6}",
        "hard negatives at duplicate",
        "-",
        "-",
        "-",
        neg_at(Level::Duplicate),
        negatives.len()
    );
    let overlap_recall = found_overlaps as f64 / overlaps.len().max(1) as f64;
    let negatives_at_duplicate = neg_at(Level::Duplicate);
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>6} {:>6}",
        "hard negatives at possible",
        "-",
        "-",
        "-",
        neg_at(Level::Possible),
        negatives.len()
    );

    println!("\nRecall of duplicates by difficulty (duplicate+possible):");
    let mut by: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for l in &dups {
        let e = by.entry(l.difficulty.as_str()).or_default();
        e.1 += 1;
        if predicted
            .get(&key(&l.a, &l.b))
            .is_some_and(|(x, _)| *x >= Level::Possible)
        {
            e.0 += 1;
        }
    }
    for (d, (found, all)) in &by {
        println!(
            "  {d:<16} {found:>3} of {all:<3} {:.3}",
            *found as f64 / (*all).max(1) as f64
        );
    }
    if std::env::var("EVAL_DEBUG").is_ok() {
        let idx: HashMap<&str, usize> = records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        for l in &labels {
            let s = icat_dedup::compare(&feats[idx[l.a.as_str()]], &feats[idx[l.b.as_str()]]);
            let sims: Vec<String> = s
                .reasons
                .iter()
                .map(|r| format!("{}={:.2}/{:+}", &r.feature[..3], r.similarity, r.weight))
                .collect();
            println!(
                "DBG {:<13} {:<15} {:.3} {}",
                l.label,
                l.difficulty,
                s.score,
                sims.join(" ")
            );
        }
        for k in &strong {
            if !dup_keys.contains(*k) {
                let s = icat_dedup::compare(&feats[idx[k.0.as_str()]], &feats[idx[k.1.as_str()]]);
                let sims: Vec<String> = s
                    .reasons
                    .iter()
                    .map(|r| format!("{}={:.2}/{:+}", &r.feature[..3], r.similarity, r.weight))
                    .collect();
                println!(
                    "DBG {:<13} {:<15} {:.3} {}",
                    "false_alarm",
                    "",
                    s.score,
                    sims.join(" ")
                );
            }
        }
    }
    println!("\nMissed duplicates:");
    for l in &dups {
        let got = predicted.get(&key(&l.a, &l.b));
        if got.is_none_or(|(x, _)| *x < Level::Possible) {
            println!(
                "  [{}] {:?}  {}  <>  {}",
                l.difficulty,
                got.map(|(x, s)| format!("{} {s:.3}", x.as_str())),
                title(&l.a),
                title(&l.b)
            );
        }
    }
    println!("\nFalse alarms (duplicate or possible, not labelled duplicate):");
    for k in &strong {
        if !dup_keys.contains(*k) {
            let (level, score) = predicted[*k];
            println!(
                "  {} {score:.3}  {}  <>  {}",
                level.as_str(),
                title(&k.0),
                title(&k.1)
            );
        }
    }
    let missed_overlaps: Vec<&&Label> = overlaps
        .iter()
        .filter(|l| !predicted.contains_key(&key(&l.a, &l.b)))
        .collect();
    if !missed_overlaps.is_empty() {
        println!("\nMissed overlaps:");
        for l in missed_overlaps {
            println!("  {}  <>  {}", title(&l.a), title(&l.b));
        }
    }
    assert!(
        strong_f1 >= 0.95,
        "F1 of duplicate+possible is {strong_f1:.3}, below 0.95"
    );
    assert!(
        overlap_recall >= 0.8,
        "only {overlap_recall:.3} of the overlaps found"
    );
    assert_eq!(
        negatives_at_duplicate, 0,
        "a hard negative scored as duplicate"
    );
    Ok(())
}
