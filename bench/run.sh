#!/usr/bin/env bash
# `make bench`: the duplicate engine in-process (criterion, and the from-scratch pair search at
# 10,000 and 100,000 activities), then the server on a seeded SQLite database: `icat dedup
# rebuild`, the duplicate report, and recording activities under load (wrk, 16 connections).
# ICAT_BENCH_ACTIVITIES sets the size of the seeded database (default 10000).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${ICAT_BENCH_ACTIVITIES:-10000}"
out=target/bench
mkdir -p "$out"

if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
    else
        echo "wrk is needed: apt-get install wrk"; exit 1
    fi
fi

echo "== duplicate engine, in-process"
cargo bench -q -p icat_dedup --bench engine 2>/dev/null | grep -E "^[a-z].*|time:" | grep -v "^Warning"
cargo run -q --release -p icat_dedup --example scale

echo "== server on SQLite with $n activities"
cargo build -q --release --bin icat
db="$out/bench.db"
rm -f "$db" "$db-wal" "$db-shm"
# One load client on loopback: the per-client rate limit would measure itself, not the server.
export ICAT_RATE_LIMIT=0 DATABASE_URL="$db" ICAT_LOG=warn ICAT_ADMIN_EMAIL=admin@icat.test ICAT_ADMIN_PASSWORD="a long secretariat passphrase"
./target/release/icat seed --activities "$n" --users 300
/usr/bin/time -f "dedup rebuild: %e s, peak RSS %M KB" ./target/release/icat dedup rebuild

port=18181
ICAT_BIND="127.0.0.1:$port" ./target/release/icat serve >"$out/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
token=$(curl -sf "http://127.0.0.1:$port/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"seed.user001@icat.test","password":"seeded account passphrase"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
for _ in 1 2 3; do
    curl -s -o /dev/null -w "duplicate report: %{time_total} s\n" -H "authorization: Bearer $token" \
        "http://127.0.0.1:$port/api/v1/reports/duplicates"
done
ICAT_TOKEN="$token" wrk -t2 -c16 -d15s -s bench/record.lua "http://127.0.0.1:$port" | grep BENCH \
    | sed 's/^BENCH/record activity (16 connections):/'
grep VmHWM "/proc/$server/status" | sed 's/VmHWM:/server peak RSS:/'
