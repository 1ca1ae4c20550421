//! How the from-scratch pair search grows with the size of the log: synthetic logs of 10,000 and
//! 100,000 activities (5% planted near-duplicates), time, pairs found, planted copies found, and
//! peak memory. Part of `make bench`.

use icat_dedup::{Level, all_pairs, synthetic};
use std::time::Instant;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let mut previous: Option<f64> = None;
    println!(
        "{:>10} {:>10} {:>10} {:>10} {:>14} {:>12} {:>8}",
        "activities", "features s", "pairs s", "pairs", "planted found", "peak RSS MB", "growth"
    );
    for n in [10_000usize, 100_000] {
        let log = synthetic::activities(n, 31, 0.05, 7);
        let started = Instant::now();
        let features: Vec<_> = log.iter().map(synthetic::Synthetic::features).collect();
        let featured = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let pairs = all_pairs(icat_dedup::Model::shipped_ref(), &features);
        let paired = started.elapsed().as_secs_f64();
        if std::env::var("SCALE_DEBUG").is_ok() {
            eprintln!("candidates: {}", icat_dedup::candidates(&features).len());
        }
        let planted = log.iter().filter(|s| s.copy_of.is_some()).count();
        let found = pairs
            .iter()
            .filter(|p| p.level >= Level::Possible)
            .filter(|p| log[p.b].copy_of == Some(p.a) || log[p.a].copy_of == Some(p.b))
            .count();
        let total = featured + paired;
        let growth = previous.map_or("-".to_owned(), |p| format!("{:.1}x", total / p));
        println!(
            "{n:>10} {featured:>10.2} {paired:>10.2} {:>10} {:>8} of {planted:<4} {:>12.0} {growth:>8}",
            pairs.len(),
            found,
            peak_rss_mb()
        );
        previous = Some(total);
    }
}
