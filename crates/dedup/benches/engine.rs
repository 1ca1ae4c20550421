//! The duplicate engine's hot paths: normalising one activity, scoring one new activity against
//! its candidates (what recording waits for), and finding every pair of a log from scratch.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use icat_dedup::{Model, all_pairs, candidates, compare, synthetic};
use std::hint::black_box;

fn engine(c: &mut Criterion) {
    let log = synthetic::activities(10_000, 31, 0.05, 7);
    let features: Vec<_> = log.iter().map(synthetic::Synthetic::features).collect();

    c.bench_function("features of one activity", |b| {
        b.iter(|| black_box(log[123].features()));
    });

    // The incremental path: one new activity against 250 candidates (the cap of the LSH buckets
    // and the country block).
    let new = &features[9_999];
    c.bench_function("score one activity against 250 candidates", |b| {
        b.iter(|| {
            features[..250]
                .iter()
                .filter_map(|f| compare(Model::shipped_ref(), new, f).level)
                .count()
        });
    });

    let mut group = c.benchmark_group("all pairs from scratch");
    group.sample_size(10);
    for n in [1_000usize, 10_000] {
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| black_box(all_pairs(Model::shipped_ref(), &features[..n]).len()));
        });
    }
    group.finish();

    c.bench_function("candidate pairs of 10,000 activities", |b| {
        b.iter(|| black_box(candidates(&features).len()));
    });
}

criterion_group!(benches, engine);
criterion_main!(benches);
