#!/usr/bin/env python3
"""The server half of `make bench`: every endpoint class under load, as ratios to a baseline.

Machines here are shared and noisy, so each class is measured against `GET /healthz` taken in the
same run: baseline and class alternate for three rounds, and the report gives the median, min and
max of class/baseline requests per second. Per class: requests/s, p50, p99, errors and the
server's peak memory during the class (VmHWM, reset before each class). `icat dedup rebuild` is timed at 10,000 and at ICAT_BENCH_ACTIVITIES
(default 100,000) activities. SQLite always; PostgreSQL too when ICAT_BENCH_PG_URL is set.

Output: a table on the terminal and target/bench/report.json.
"""

import csv
import io
import json
import random
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.join(ROOT, "target", "release", "icat")
OUT = os.path.join(ROOT, "target", "bench")
LARGE = int(os.environ.get("ICAT_BENCH_ACTIVITIES", "100000"))
SECONDS = int(os.environ.get("ICAT_BENCH_SECONDS", "5"))
ROUNDS = 3
ADMIN = ("admin@icat.test", "a long secretariat passphrase")
SEEDED = ("seed.user001@icat.test", "seeded account passphrase")
# A seeded editor of another agency than SEEDED's (the seed gives users agencies in turn).
OTHER_AGENCY = ("seed.user002@icat.test", "seeded account passphrase")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(database, **extra):
    return dict(os.environ, DATABASE_URL=database, ICAT_LOG="warn", ICAT_RATE_LIMIT="0",
                ICAT_ADMIN_EMAIL=ADMIN[0], ICAT_ADMIN_PASSWORD=ADMIN[1], **extra)


def peak_rss_mb_of(command, env):
    """Runs a command under /usr/bin/time; answers (seconds, peak RSS in MB)."""
    started = time.monotonic()
    result = subprocess.run(["/usr/bin/time", "-f", "PEAK %M", *command], env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    peak = int(re.search(r"PEAK (\d+)", result.stderr).group(1)) / 1024
    return seconds, peak


class Database:
    def __init__(self, backend, size):
        self.backend, self.size = backend, size
        self.pg_name = None
        if backend == "postgres":
            self.pg_name = f"icat_bench_{uuid.uuid4().hex[:10]}"
            subprocess.run(["psql", os.environ["ICAT_BENCH_PG_URL"], "-qc", f"CREATE DATABASE {self.pg_name}"], check=True)
            # Another database of the same server; the query (`?host=/var/run/postgresql`) kept.
            server, _, query = os.environ["ICAT_BENCH_PG_URL"].partition("?")
            self.url = server.rsplit("/", 1)[0] + "/" + self.pg_name + ("?" + query if query else "")
        else:
            self.dir = tempfile.mkdtemp(prefix="icat-bench-", dir=OUT)
            self.url = os.path.join(self.dir, "bench.db")
        started = time.monotonic()
        subprocess.run([BIN, "seed", "--activities", str(size), "--users", "300"], env=env_for(self.url), check=True,
                       stdout=subprocess.DEVNULL)
        print(f"  seeded {size} activities on {backend} in {time.monotonic() - started:.0f} s", flush=True)

    def drop(self):
        if self.pg_name:
            subprocess.run(["psql", os.environ["ICAT_BENCH_PG_URL"], "-qc", f"DROP DATABASE IF EXISTS {self.pg_name} WITH (FORCE)"])
        else:
            subprocess.run(["rm", "-rf", self.dir])


class Server:
    def __init__(self, database):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # Metrics on: the run ends with a sample of what an operator's scraper would read.
        self.process = subprocess.Popen([BIN, "serve"], env=env_for(database.url, ICAT_BIND=f"127.0.0.1:{self.port}",
                                                                    ICAT_METRICS="true"),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{self.base}/readyz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("icat did not start")

    def reset_peak_rss(self):
        """Starts a new peak (VmHWM) at the current RSS, so that each class reports its own peak and
        not the highest of every class before it (Linux: clear_refs 5)."""
        with open(f"/proc/{self.process.pid}/clear_refs", "w") as f:
            f.write("5")

    def rss_mb(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024

    def anon_mb(self):
        """Private memory (heap and stacks): RSS without the file pages the SQLite connections map
        (each connection's map of the database counts in RSS again, up to the file's size times the
        pool's size, though the kernel holds those pages once)."""
        with open(f"/proc/{self.process.pid}/status") as f:
            return int(re.search(r"RssAnon:\s+(\d+)", f.read()).group(1)) / 1024

    def watch_anon(self):
        """Samples `anon_mb` every 10 ms until the returned stop() is called, which gives the peak."""
        peak, done = [self.anon_mb()], threading.Event()

        def sample():
            while not done.wait(0.01):
                peak[0] = max(peak[0], self.anon_mb())
        thread = threading.Thread(target=sample)
        thread.start()

        def stop():
            done.set()
            thread.join()
            return max(peak[0], self.anon_mb())
        return stop

    def peak_rss_mb(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024

    def login(self, email, password):
        request = urllib.request.Request(f"{self.base}/api/v1/auth/login", method="POST",
                                         data=json.dumps({"email": email, "password": password}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as r:
            return json.load(r)["access_token"]

    def save_metrics(self, backend):
        """Writes GET /metrics as it stands after every class to target/bench/metrics-<backend>.txt
        and prints the families an operator looks at first."""
        with urllib.request.urlopen(f"{self.base}/metrics") as r:
            text = r.read().decode()
        path = os.path.join(OUT, f"metrics-{backend}.txt")
        with open(path, "w") as f:
            f.write(text)
        print(f"  /metrics after the run ({path}), a sample:")
        wanted = ("icat_http_requests_total", "icat_http_request_duration_seconds_sum", "icat_http_request_duration_seconds_count",
                  "icat_db_pool", "icat_group_commit_batch_size_", "icat_duplicate_", "icat_dedup_rebuild", "icat_login_",
                  "icat_mail_", "icat_notices_total")
        for line in text.splitlines():
            if line.startswith(wanted) and "_bucket" not in line:
                print("    " + line)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)


def wrk(base, connections, env, script="bench/load.lua", seconds=SECONDS):
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, base]
    result = subprocess.run(command, cwd=ROOT, env=dict(os.environ, **env), capture_output=True, text=True)
    line = next((l for l in result.stdout.splitlines() if l.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no figures:\n{result.stdout}\n{result.stderr}")
    figures = json.loads(line[6:])
    seconds_run = figures["duration_us"] / 1e6
    return {"rps": figures["requests"] / seconds_run, "p50_ms": figures["p50_us"] / 1000,
            "p99_ms": figures["p99_us"] / 1000, "errors": figures["errors"]}


def measure(server, backend, name, connections, env, script="bench/load.lua", during=None):
    """Alternates baseline and class for ROUNDS rounds; `during` runs alongside the class (a flood)."""
    baseline = {"BENCH_PATH": "/healthz"}
    rounds, ratios = [], []
    server.reset_peak_rss()
    anon = server.watch_anon()
    for _ in range(ROUNDS):
        base = wrk(server.base, connections, baseline)
        stop = threading.Event()
        flood = None
        if during:
            flood = threading.Thread(target=during, args=(stop,))
            flood.start()
            time.sleep(0.5)
        figures = wrk(server.base, connections, env, script)
        if flood:
            stop.set()
            flood.join()
        rounds.append(figures)
        ratios.append(figures["rps"] / base["rps"] if base["rps"] else 0)
    peak_anon = anon()
    median = sorted(rounds, key=lambda f: f["rps"])[len(rounds) // 2]
    row = {"class": name, "backend": backend, "connections": connections,
           "rps": round(median["rps"], 1), "p50_ms": round(median["p50_ms"], 2), "p99_ms": round(median["p99_ms"], 2),
           "errors": sum(f["errors"] for f in rounds),
           "ratio_to_baseline": round(statistics.median(ratios), 3),
           "ratio_min": round(min(ratios), 3), "ratio_max": round(max(ratios), 3),
           "peak_rss_mb": round(server.peak_rss_mb(), 1), "peak_anon_mb": round(peak_anon, 1)}
    print(f"  {name:<34} {connections:>3} conn  {row['rps']:>8.1f} rps  p50 {row['p50_ms']:>7.2f} ms  "
          f"p99 {row['p99_ms']:>7.2f} ms  err {row['errors']:>4}  ratio {row['ratio_to_baseline']:.3f} "
          f"[{row['ratio_min']:.3f}-{row['ratio_max']:.3f}]  anon {peak_anon:.0f} MB (rss {row['peak_rss_mb']:.0f})", flush=True)
    return row


def get(server, path, token):
    request = urllib.request.Request(server.base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=600) as r:
        return r.read()


def single(server, backend, name, path, token, times=3):
    """One client, one request at a time (what a person waits for): the best of `times` in
    seconds, the answer's size and the server's peak memory growth over its RSS before."""
    best, size, growth, mapped = None, 0, 0.0, 0.0
    for _ in range(times):
        server.reset_peak_rss()
        before, before_anon = server.rss_mb(), server.anon_mb()
        anon = server.watch_anon()
        started = time.perf_counter()
        size = len(get(server, path, token))
        seconds = time.perf_counter() - started
        growth = max(growth, anon() - before_anon)
        mapped = max(mapped, server.peak_rss_mb() - before)
        best = seconds if best is None else min(best, seconds)
    row = {"class": name, "backend": backend, "connections": 1, "seconds": round(best, 4),
           "bytes": size, "peak_growth_mb": round(growth, 1), "peak_rss_growth_mb": round(mapped, 1)}
    print(f"  {name:<34}   1 conn  {best * 1000:>9.1f} ms  {size / 1e6:>7.2f} MB  "
          f"peak growth {growth:.0f} MB (rss {mapped:.0f})", flush=True)
    return row


def http_classes(server, backend):
    editor = server.login(*SEEDED)
    admin = server.login(*ADMIN)
    token = {"ICAT_TOKEN": editor}
    rows = []
    baseline = measure(server, backend, "healthz (baseline)", 32, {"BENCH_PATH": "/healthz"})
    rows.append(baseline)
    # Reads a person waits on, one at a time.
    for name, path, who in (
        ("activity export.csv (all)", "/api/v1/activities/export.csv", editor),
        ("summary report", "/api/v1/reports/summary", admin),
        ("participation report", "/api/v1/reports/participation", admin),
        ("focal-point coverage report", "/api/v1/reports/focal-point-coverage", admin),
        ("activity list, one client", "/api/v1/activities?per_page=50", editor),
        ("duplicate report, first page", "/api/v1/reports/duplicates", admin),
        ("overlap view, first page", "/api/v1/reports/duplicates?level=overlap", admin),
        ("duplicate report csv (all)", "/api/v1/reports/duplicates?format=csv", admin),
        ("overlap view csv (all)", "/api/v1/reports/duplicates?level=overlap&format=csv", admin),
        ("countries map (today)", "/api/v1/reports/countries", editor),
        ("countries map, a year", "/api/v1/reports/countries?from=2026-01-01&to=2026-12-31", editor),
        ("country timeline, two years", "/api/v1/countries/NG/timeline?from=2026-01-01&to=2027-12-31", editor),
    ):
        rows.append(single(server, backend, name, path, who))
    deep = json.loads(get(server, "/api/v1/activities?per_page=50&page=1000", editor))["next"]
    for name, path, conns in (
        ("activity list page of 50, no filter", "/api/v1/activities?per_page=50", 16),
        ("activity list page 1000, by number", "/api/v1/activities?per_page=50&page=1000", 16),
        ("activity list page 1000, by cursor", f"/api/v1/activities?per_page=50&after={deep}", 16),
        ("directory by agency", "/api/v1/focal-points?agency=UNODC", 32),
        ("directory by country", "/api/v1/focal-points?country=NG", 32),
        ("directory by text", "/api/v1/focal-points?q=focal", 32),
        ("activity list page of 50, filtered", "/api/v1/activities?country=NG&theme=prevention&per_page=50", 16),
        ("activity list page of 50, by theme", "/api/v1/activities?theme=prevention&per_page=50", 16),
        ("activity list page of 50, by agency", "/api/v1/activities?agency=UNODC&per_page=50", 16),
        ("activity list page of 50, by agency, theme and SDG target",
         "/api/v1/activities?agency=UNODC&theme=prevention&sdg=8.7&per_page=50", 16),
        ("activity list page of 50, search", "/api/v1/activities?q=training%20judges&per_page=50", 16),
        ("activity list page of 50, search for one common word", "/api/v1/activities?q=training&per_page=50", 16),
        ("duplicate report, first page", "/api/v1/reports/duplicates", 2),
    ):
        rows.append(measure(server, backend, name, conns, {"BENCH_PATH": path, **token}))
    rows.append(measure(server, backend, "record activity (duplicate check)", 16, token, script="bench/record.lua"))
    rows.append(import_row(server, backend, 5000))
    if backend == "postgres":
        rows.append(import_row(server, backend, 10000))
    login = {"BENCH_METHOD": "POST", "BENCH_PATH": "/api/v1/auth/login",
             "BENCH_BODY": json.dumps({"email": SEEDED[0], "password": SEEDED[1]})}
    for conns in (1, 2, 8):
        rows.append(measure(server, backend, f"login ({conns} clients)", conns, login))
    alone = next(r for r in rows if r["class"] == "directory by agency")

    def flood(stop):
        while not stop.is_set():
            wrk(server.base, 8, {"BENCH_METHOD": "POST", "BENCH_PATH": "/api/v1/auth/login",
                                 "BENCH_BODY": json.dumps({"email": SEEDED[0], "password": "a wrong password, wrong"})},
                seconds=2)

    during = measure(server, backend, "directory during a login flood", 32,
                     {"BENCH_PATH": "/api/v1/focal-points?agency=UNODC", **token}, during=flood)
    during["ratio_to_alone"] = round(during["rps"] / alone["rps"], 3) if alone["rps"] else 0
    rows.append(during)
    return rows


IMPORT_WORDS = ("training judges border shelter hotline awareness labour inspectors recruitment fishing children women "
                "migrants online investigation financial referral screening reintegration research legislation "
                "coordination data survivors prosecutors police caseworkers schools villages factories garment farms").split()
IMPORT_COUNTRIES = "NG GH TH KH VN PH IN BD NP MX CO UA MD ET KE".split()
IMPORT_THEMES = "prevention protection prosecution partnerships".split()


def import_file(rows, tag):
    """A CSV of `rows` varied activities (7-word titles, 30-word descriptions, one country and theme)."""
    rnd = random.Random(tag)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["title", "description", "countries", "themes", "start_date", "end_date"])
    for i in range(rows):
        year = rnd.randint(2019, 2029)
        w.writerow([" ".join(rnd.choice(IMPORT_WORDS) for _ in range(7)) + f" {tag}-{i}",
                    " ".join(rnd.choice(IMPORT_WORDS) for _ in range(30)),
                    rnd.choice(IMPORT_COUNTRIES), rnd.choice(IMPORT_THEMES),
                    f"{year}-{rnd.randint(1, 6):02d}-01", f"{year}-12-31"])
    return out.getvalue().encode()


def import_row(server, backend, rows):
    """One editor imports `rows` rows while an editor of another agency records an activity every
    200 ms: the import's time, and the longest any of those records waited while it ran."""
    importer = server.login(*SEEDED)
    other = server.login(*OTHER_AGENCY)
    body = import_file(rows, f"import{rows}-{time.time_ns()}")
    waits, stop = [], threading.Event()

    def recorder():
        n = 0
        while not stop.is_set():
            n += 1
            activity = {"title": f"Recorded during an import {time.time_ns()} {n}", "description": "A single record",
                        "countries": ["NG"], "themes": ["prevention"], "start_date": "2027-01-01", "end_date": "2027-06-30"}
            request = urllib.request.Request(server.base + "/api/v1/activities", method="POST",
                                             data=json.dumps(activity).encode(),
                                             headers={"Authorization": f"Bearer {other}", "Content-Type": "application/json"})
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=900) as r:
                r.read()
            waits.append((started, time.perf_counter() - started))
            time.sleep(0.2)

    thread = threading.Thread(target=recorder)
    thread.start()
    time.sleep(0.5)
    server.reset_peak_rss()
    request = urllib.request.Request(server.base + "/api/v1/activities/import", method="POST", data=body,
                                     headers={"Authorization": f"Bearer {importer}", "Content-Type": "text/csv"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=1800) as r:
        created = json.load(r)["created"]
    seconds = time.perf_counter() - started
    stop.set()
    thread.join()
    during = [w for s, w in waits if s <= started + seconds and s + w >= started]
    longest = max(during, default=0)
    row = {"class": f"import {rows} rows", "backend": backend, "connections": 1, "seconds": round(seconds, 2),
           "created": created, "records_during": len(during), "longest_record_wait_ms": round(longest * 1000, 1),
           "peak_rss_mb": round(server.peak_rss_mb(), 1)}
    print(f"  {row['class']:<34}   1 conn  {seconds:>8.2f} s  ({rows / seconds:.0f} rows/s); "
          f"{len(during)} records meanwhile, longest {longest * 1000:.0f} ms", flush=True)
    return row


def rebuild_row(database, backend):
    seconds, peak = peak_rss_mb_of([BIN, "dedup", "rebuild"], env_for(database.url))
    row = {"class": "dedup_rebuild", "backend": backend, "activities": database.size,
           "seconds": round(seconds, 2), "peak_rss_mb": round(peak, 1)}
    print(f"  dedup rebuild at {database.size:>7} activities: {seconds:6.2f} s, peak {peak:.0f} MB", flush=True)
    return row


def main():
    os.makedirs(OUT, exist_ok=True)
    backends = ["sqlite"] + (["postgres"] if os.environ.get("ICAT_BENCH_PG_URL") else [])
    report = []
    for backend in backends:
        print(f"\n== {backend}", flush=True)
        small = Database(backend, 10_000)
        report.append(rebuild_row(small, backend))
        small.drop()
        large = Database(backend, LARGE)
        report.append(rebuild_row(large, backend))
        server = Server(large)
        try:
            report.extend(http_classes(server, backend))
            server.save_metrics(backend)
        finally:
            server.stop()
            large.drop()
        rebuilds = [r for r in report if r["class"] == "dedup_rebuild" and r["backend"] == backend]
        if len(rebuilds) == 2 and rebuilds[0]["seconds"]:
            growth = rebuilds[1]["seconds"] / rebuilds[0]["seconds"]
            print(f"  rebuild growth 10,000 -> {LARGE}: {growth:.1f}x")
    with open(os.path.join(OUT, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(f"\nwrote {os.path.join(OUT, 'report.json')}")


if __name__ == "__main__":
    sys.exit(main())
