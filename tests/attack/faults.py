#!/usr/bin/env python3
"""`make faults`: faults injected into a real server, on SQLite and (with ICAT_TEST_PG_URL) PostgreSQL.

- kill -9 in the middle of a burst of writes, then a restart: every write that was answered 201 is
  there, and SQLite's integrity check says ok;
- 32 concurrent writers for 30 s on SQLite: no 5xx, no "database is locked";
- two PATCHes sent together with one ETag: exactly one succeeds, the other gets 412;
- SIGTERM while requests are in flight: each of them is answered, and the process exits 0;
- PostgreSQL restarted under load: /readyz goes 503, then 200 again without restarting icat;
- the connection pool exhausted: requests get 503 within the pool's wait (5 s) plus, on PostgreSQL, the statement limit (4 s); never hang;
- metrics on an address of their own (`ICAT_METRICS_BIND`): served there, absent from the public port, and
  SIGTERM still stops the process cleanly;
- notices' e-mail (a real SMTP server, tests/mail/sink.py): kill -9 after the activities are acknowledged and
  before the mail server is up, then a restart: every message is delivered exactly once; two servers on one
  PostgreSQL database send each message once.

Prints what it injected and what it verified; any broken promise fails the target.
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from attack import ADMIN, BIN as BIN_PATH, PASSWORD, Server, call, free_port, new_user  # noqa: E402

FAILURES = []
FIGURES = []


def check(ok, what):
    print(("  ok   " if ok else "  FAIL ") + what, flush=True)
    if not ok:
        FAILURES.append(what)


def login(base, email, password):
    status, body = call(base, "POST", "/api/v1/auth/login", {"email": email, "password": password})
    assert status == 200, body
    return body["access_token"]


def editor(server):
    admin = login(server.base, *ADMIN)
    _, unodc = call(server.base, "GET", "/api/v1/agencies/UNODC", token=admin)
    email = f"writer{time.monotonic_ns()}@unodc.example"
    new_user(server.base, {"email": email, "name": "Writer", "role": "editor", "agency_id": unodc["id"]}, admin)
    return login(server.base, email, PASSWORD), admin


def activity(n, tag):
    return {"title": f"Shelter capacity review {tag} number {n}",
            "description": f"Review of shelter places for victims, batch {tag}, item {n}.",
            "countries": ["TH"], "themes": ["protection"], "start_date": "2027-01-01", "end_date": "2027-06-30"}


def raw_post(base, path, body, token, timeout=30):
    """(status, text) for a POST; status 0 when the connection broke."""
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return 0, str(e)


def kill_during_writes(backend):
    print(f"\n== kill -9 during a burst of writes ({backend})", flush=True)
    server = Server(backend)
    try:
        token, admin = editor(server)
        created, lock, stop = [], threading.Lock(), threading.Event()

        def writer(w):
            n = 0
            while not stop.is_set():
                status, text = raw_post(server.base, "/api/v1/activities", activity(n, f"k{w}"), token, timeout=10)
                if status == 201:
                    with lock:
                        created.append(json.loads(text)["activity"]["id"])
                n += 1

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
        for t in threads:
            t.start()
        time.sleep(3)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        stop.set()
        for t in threads:
            t.join()
        acknowledged = list(created)
        server.start()
        token = login(server.base, *ADMIN)
        missing = [i for i in acknowledged if call(server.base, "GET", f"/api/v1/activities/{i}", token=token)[0] != 200]
        check(not missing, f"all {len(acknowledged)} writes answered 201 before the kill are there after the restart")
        FIGURES.append(f"kill -9 on {backend}: {len(acknowledged)} acknowledged writes, {len(missing)} lost")
        if backend == "sqlite":
            server.process.terminate()
            server.process.wait()
            result = sqlite3.connect(server.database).execute("PRAGMA integrity_check").fetchone()[0]
            check(result == "ok", f"PRAGMA integrity_check: {result}")
            server.start()
    finally:
        server.stop()


def concurrent_writers(seconds=30, writers=32):
    print(f"\n== {writers} concurrent writers for {seconds} s (sqlite)", flush=True)
    server = Server("sqlite")
    try:
        token, _ = editor(server)
        statuses, problems, lock = {}, [], threading.Lock()
        deadline = time.time() + seconds

        def writer(w):
            n = 0
            while time.time() < deadline:
                status, text = raw_post(server.base, "/api/v1/activities", activity(n, f"c{w}"), token)
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                    if status >= 500 or status == 0 or "locked" in text:
                        problems.append(f"{status} {text[:200]}")
                n += 1

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        log = open(os.path.join(server.dir, "server.log")).read()
        total = sum(statuses.values())
        check(not problems, f"{total} writes by {writers} writers: statuses {statuses}, no 5xx")
        check("database is locked" not in log, "no 'database is locked' in the server log")
        FIGURES.append(f"{writers} writers x {seconds} s on sqlite: {total} writes, statuses {statuses}")
    finally:
        server.stop()


def one_etag_two_patches(backend):
    print(f"\n== two PATCHes with one ETag ({backend})", flush=True)
    server = Server(backend)
    try:
        token, admin = editor(server)
        status, body = raw_post(server.base, "/api/v1/activities", activity(1, "etag"), token)
        ident = json.loads(body)["activity"]["id"]
        request = urllib.request.Request(f"{server.base}/api/v1/activities/{ident}", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request) as r:
            etag = r.headers["ETag"]
        results, barrier = [], threading.Barrier(2)

        def patch(budget):
            data = json.dumps({"budget_usd": budget}).encode()
            req = urllib.request.Request(f"{server.base}/api/v1/activities/{ident}", data=data, method="PATCH", headers={
                "Content-Type": "application/json", "Authorization": f"Bearer {token}", "If-Match": etag})
            barrier.wait()
            try:
                with urllib.request.urlopen(req) as r:
                    results.append(r.status)
            except urllib.error.HTTPError as e:
                results.append(e.code)

        threads = [threading.Thread(target=patch, args=(b,)) for b in (1000, 2000)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(sorted(results) == [200, 412], f"one 200 and one 412: {sorted(results)}")
    finally:
        server.stop()


def sigterm_in_flight(backend):
    print(f"\n== SIGTERM with requests in flight ({backend})", flush=True)
    server = Server(backend, ICAT_HASH_CONCURRENCY="1")
    try:
        # Sign-ins queue for the one hashing thread (~50 ms each): 16 take most of a second.
        results, threads = [], []

        def sign_in(i):
            results.append(call(server.base, "POST", "/api/v1/auth/login",
                                {"email": f"nobody{i}@icat.test", "password": "not the password at all"})[0])

        for i in range(16):
            t = threading.Thread(target=lambda i=i: _safe(sign_in, i, results))
            t.start()
            threads.append(t)
        time.sleep(0.15)
        server.process.send_signal(signal.SIGTERM)
        for t in threads:
            t.join()
        code = server.process.wait(timeout=40)
        check(results.count(401) == 16, f"all 16 requests in flight were answered: {sorted(results)}")
        check(code == 0, f"icat exited with {code} after SIGTERM")
        server.start()  # so that stop() finds a process to end
    finally:
        server.stop()


def _safe(fn, arg, results):
    try:
        fn(arg)
    except OSError as e:
        results.append(f"broken: {e}")


def postgres_restart():
    print("\n== PostgreSQL restarted under load", flush=True)
    version = sorted(os.listdir("/etc/postgresql"))[-1] if os.path.isdir("/etc/postgresql") else None
    if version is None or subprocess.run(["which", "pg_ctlcluster"], capture_output=True).returncode != 0:
        check(False, "pg_ctlcluster is needed to restart PostgreSQL")
        return
    server = Server("postgres")
    try:
        token = login(server.base, *ADMIN)
        seen, stop = [], threading.Event()

        def poll():
            while not stop.is_set():
                try:
                    seen.append(call(server.base, "GET", "/readyz")[0])
                except OSError:
                    seen.append(0)
                time.sleep(0.1)

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(0.5)
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "stop", "-m", "fast"], check=True)
        # Longer than /readyz's 3 s limit: a shorter outage can heal while the check still waits.
        time.sleep(6)
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=True)
        recovered = False
        for _ in range(60):
            if call(server.base, "GET", "/readyz")[0] == 200:
                recovered = True
                break
            time.sleep(0.5)
        stop.set()
        poller.join()
        check(503 in seen, f"/readyz answered 503 while PostgreSQL was down ({seen.count(503)} times; {sorted(set(seen))})")
        check(recovered, "/readyz is 200 again once PostgreSQL is back, with the same icat process")
        status = 0
        for _ in range(10):  # pooled connections to the old server are replaced as they fail
            status, _ = call(server.base, "GET", "/api/v1/agencies", token=token)
            if status == 200:
                break
            time.sleep(0.5)
        check(status == 200, f"the API serves data again: {status}")
        check(server.process.poll() is None, "icat kept running")
    finally:
        server.stop()


def pool_exhausted():
    print("\n== the connection pool exhausted (postgres)", flush=True)
    server = Server("postgres", ICAT_DB_POOL_SIZE="2")
    try:
        token = login(server.base, *ADMIN)
        # Another client holds a lock every agency read waits for: the pool's two connections stay
        # busy, and further requests can only wait for one.
        locker = subprocess.Popen(["psql", server.database, "-qc",
                                   "BEGIN; LOCK TABLE agencies IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(12); COMMIT;"],
                                  stdout=subprocess.DEVNULL)
        time.sleep(1)
        timings = []

        def read():
            started = time.monotonic()
            try:
                status = call(server.base, "GET", "/api/v1/agencies", token=token)[0]
            except OSError:
                status = 0
            timings.append((status, time.monotonic() - started))

        threads = [threading.Thread(target=read) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        locker.wait()
        busy = [t for s, t in timings if s == 503]
        check(len(busy) >= 3, f"requests beyond the pool got 503: {sorted(s for s, _ in timings)}")
        # A request waits at most the pool's 5 s for a connection, then its statement at most the
        # 4 s statement limit (which also hands the held connections back to the waiting requests).
        check(all(t < 10 for t in busy),
              f"and got it within the pool's 5 s wait plus the 4 s statement limit: {[round(t, 1) for t in busy]}")
        check(call(server.base, "GET", "/api/v1/agencies", token=token)[0] == 200, "the pool recovers once the lock is gone")
        FIGURES.append(f"pool of 2 exhausted: {len(busy)} of 6 requests answered 503 in {max(busy, default=0):.1f} s at most")
    finally:
        server.stop()


def metrics_apart(backend):
    print(f"\n== metrics on their own address ({backend})", flush=True)
    port = free_port()
    server = Server(backend, ICAT_METRICS_BIND=f"127.0.0.1:{port}")
    try:
        try:
            with urllib.request.urlopen(f"{server.base}/metrics", timeout=10) as r:
                public = r.status
        except urllib.error.HTTPError as e:
            public = e.code
        check(public == 404, f"the public port does not serve /metrics ({public})")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            status, text = r.status, r.read().decode()
        check(status == 200 and 'icat_http_requests_total{route="/readyz",method="GET",status="200"}' in text,
              "the metrics address serves the requests counted by route template")
    finally:
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(timeout=40)
        check(code == 0, f"SIGTERM stops the server and its metrics listener cleanly (exit {code})")
        server.stop()


MAIL_DIR = os.path.join(os.path.dirname(__file__), "..", "mail")


class Sink:
    """The SMTP sink of the tests on a port; `start` and `stop` it to take the mail server away."""

    def __init__(self, port):
        self.port, self.dir, self.process = port, tempfile.mkdtemp(prefix="icat-mail-"), None

    def start(self):
        self.process = subprocess.Popen([sys.executable, os.path.join(MAIL_DIR, "sink.py"), "--port", str(self.port),
                                         "--out", self.dir], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "ready", "the SMTP sink did not start"

    def stop(self):
        if self.process:
            self.process.kill()
            self.process.wait()

    def ids(self):
        """The outbox id of every message received (from its Message-ID), repeats included."""
        out = []
        for name in os.listdir(self.dir):
            if name.endswith(".json"):
                with open(os.path.join(self.dir, name)) as f:
                    out.append(json.load(f)["message_id"].strip("<>").split("@")[0])
        return out


def outbox(server):
    """(id, state) of every row of the outbox, read from the database itself."""
    query = "SELECT id, state FROM mail_outbox"
    if server.backend == "sqlite":
        return sqlite3.connect(server.database).execute(query).fetchall()
    rows = subprocess.run(["psql", server.database, "-qtAF,", "-c", query], check=True, capture_output=True,
                          text=True).stdout.split()
    return [tuple(r.split(",")) for r in rows]


def record_pairs(base, n, tag):
    """n UNODC activities and their IOM near copies; returns the IOM ids answered 201."""
    admin = login(base, *ADMIN)
    ids = {a["acronym"]: a["id"] for a in call(base, "GET", "/api/v1/agencies?per_page=100", token=admin)[1]["items"]}
    acked = []
    for i in range(n):
        for acronym, title in (("UNODC", f"Training of judges on trafficking cases in Nigeria, cohort {tag} {i}"),
                               ("IOM", f"Training judges and prosecutors on trafficking cases (Nigeria), cohort {tag} {i}")):
            status, body = call(base, "POST", "/api/v1/activities", {
                "agency_id": ids[acronym], "title": title,
                "description": f"Workshops for judges and prosecutors of the high courts, cohort {tag} {i}.",
                "countries": ["NG"], "themes": ["prosecution"], "start_date": "2027-01-01",
                "end_date": "2027-12-31"}, admin)
            if status == 201 and acronym == "IOM":
                acked.append(body["activity"]["id"])
    return acked


def mail_editors(base):
    """An editor at UNODC and IOM, so that each pair notifies someone by e-mail."""
    admin = login(base, *ADMIN)
    ids = {a["acronym"]: a["id"] for a in call(base, "GET", "/api/v1/agencies?per_page=100", token=admin)[1]["items"]}
    for acronym in ("UNODC", "IOM"):
        status, body = call(base, "POST", "/api/v1/users", {
            "email": f"editor@{acronym.lower()}.example", "name": f"{acronym} Editor", "role": "editor",
            "agency_id": ids[acronym], "password": PASSWORD}, admin)
        assert status == 201, body


def wait_delivered(server, sink, seconds):
    """Waits until nothing waits in the outbox; returns (rows, received ids)."""
    deadline = time.time() + seconds
    while True:
        rows = outbox(server)
        if (rows and all(state != "queued" for _, state in rows)) or time.time() > deadline:
            time.sleep(1.5)  # anything sent twice would arrive now
            return outbox(server), sink.ids()
        time.sleep(0.5)


def exactly_once(rows, received, what):
    sent = {i for i, state in rows if state == "sent"}
    repeats = len(received) - len(set(received))
    check(rows and len(sent) == len(rows), f"{what}: every one of {len(rows)} messages sent ({len(sent)})")
    check(set(received) == sent, f"{what}: the mail server received exactly the messages sent")
    check(repeats == 0, f"{what}: no message delivered twice ({repeats})")
    return len(sent), repeats


def mail_after_kill(backend):
    print(f"\n== kill -9 before notices' e-mail is delivered ({backend})", flush=True)
    sink = Sink(free_port())
    server = Server(backend, ICAT_SMTP_URL=f"smtp://127.0.0.1:{sink.port}")
    try:
        mail_editors(server.base)
        acked = record_pairs(server.base, 5, "k")
        # Acknowledged, the mail server still down: killed before any message could be delivered.
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        queued = outbox(server)
        check(len(queued) >= len(acked), f"{len(acked)} acknowledged pairs left {len(queued)} messages in the outbox")
        sink.start()
        server.start()
        # A message tried before the kill waits its first backoff (30 s).
        rows, received = wait_delivered(server, sink, 90)
        sent, repeats = exactly_once(rows, received, "after kill -9 and restart")
        FIGURES.append(f"mail after kill -9 on {backend}: {len(acked)} pairs acknowledged, {len(rows)} messages, "
                       f"{sent} delivered, {repeats} duplicated, {len(rows) - sent} lost")
    finally:
        server.stop()
        sink.stop()


def mail_two_servers():
    print("\n== two servers on one PostgreSQL database send each message once", flush=True)
    sink = Sink(free_port())
    sink.start()
    server = Server("postgres", ICAT_SMTP_URL=f"smtp://127.0.0.1:{sink.port}")
    port = free_port()
    other = subprocess.Popen([BIN_PATH, "serve"], env=dict(server.env, ICAT_BIND=f"127.0.0.1:{port}"),
                             stdout=server.log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while True:
            try:
                if call(f"http://127.0.0.1:{port}", "GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.time() < deadline and other.poll() is None, "the second server did not start"
            time.sleep(0.2)
        mail_editors(server.base)
        results = {}
        threads = [threading.Thread(target=lambda b, t: results.__setitem__(t, record_pairs(b, 8, t)), args=(b, t))
                   for b, t in ((server.base, "one"), (f"http://127.0.0.1:{port}", "two"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rows, received = wait_delivered(server, sink, 60)
        sent, repeats = exactly_once(rows, received, "two servers")
        FIGURES.append(f"mail from two servers on one PostgreSQL: {sum(map(len, results.values()))} pairs, "
                       f"{len(rows)} messages, {sent} delivered, {repeats} duplicated")
    finally:
        other.terminate()
        other.wait(timeout=40)
        server.stop()
        sink.stop()


def main():
    backends = ["sqlite"] + (["postgres"] if os.environ.get("ICAT_TEST_PG_URL") else [])
    for backend in backends:
        kill_during_writes(backend)
        one_etag_two_patches(backend)
        sigterm_in_flight(backend)
        metrics_apart(backend)
        mail_after_kill(backend)
    concurrent_writers()
    if "postgres" in backends:
        pool_exhausted()
        postgres_restart()
        mail_two_servers()
    print("\n" + "\n".join(FIGURES))
    if FAILURES:
        print("\nfaults FAILED:\n  " + "\n  ".join(FAILURES))
        sys.exit(1)
    print(f"\nfaults passed on {', '.join(backends)}")


if __name__ == "__main__":
    main()
