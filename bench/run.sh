#!/usr/bin/env bash
# `make bench`: the duplicate engine in-process (criterion, and the from-scratch pair search at
# 10,000 and 100,000 activities), then the server on seeded databases (bench/bench.py): every
# endpoint class under wrk as a ratio to GET /healthz, and `icat dedup rebuild` at 10,000 and
# ICAT_BENCH_ACTIVITIES (default 100000) activities; PostgreSQL too when ICAT_BENCH_PG_URL is set.
# Figures: the terminal and target/bench/report.json.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench
mkdir -p "$out"

tools/need wrk wrk

echo "== duplicate engine, in-process"
cargo bench -q -p icat_dedup --bench engine 2>/dev/null | grep -E "^[a-z].*|time:" | grep -v "^Warning"
cargo run -q --release -p icat_dedup --example scale

echo "== server: every endpoint class as a ratio to GET /healthz (see bench/bench.py)"
cargo build -q --release --bin icat
python3 bench/bench.py
