#!/usr/bin/env python3
"""`make attack`: outside tools against a real server, on SQLite and (with ICAT_TEST_PG_URL) PostgreSQL
at once, each backend with its own server and tools.

- schemathesis runs every check (`--checks all`) over every phase, stateful included, against the
  served OpenAPI document: once anonymous, then signed in as an admin, an editor and a viewer;
- sqlmap probes the query parameters of the list and search routes and must find nothing.

Each run is bounded in examples; any failure fails the target. Reports go to target/attack/. A
schemathesis run that fails is run once more on the same server and seed: a failure that comes back
fails the target; one that does not is printed as flaky at the end (with the first run's failures),
so timing on a busy CI machine is told apart from a finding, and neither goes unseen. A known error
of the tools themselves (TOOL_BUGS) in both runs is printed the same way and fails nothing.
"""

import concurrent.futures
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import xml.etree.ElementTree as ElementTree

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "target", "attack")
BIN = os.environ.get("ICAT_BIN", os.path.join(ROOT, "target", "debug", "icat"))
ADMIN = ("secretariat@icat.attack", "an attack run secretariat passphrase")
PASSWORD = "an attack run user passphrase"
FIRST_PASSWORD = "a first password handed over"
EXAMPLES = os.environ.get("ICAT_ATTACK_EXAMPLES", "30")
SEED = os.environ.get("ICAT_ATTACK_SEED", "20261129")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class Server:
    """A real `icat serve` on a free loopback port over a database of its own."""

    def __init__(self, backend, **env):
        self.backend = backend
        self.dir = tempfile.mkdtemp(prefix="icat-attack-")
        self.database = os.path.join(self.dir, "icat.db")
        self.pg_name = None
        if backend == "postgres":
            self.pg_name = f"icat_attack_{uuid.uuid4().hex[:12]}"
            subprocess.run(["psql", os.environ["ICAT_TEST_PG_URL"], "-qc", f"CREATE DATABASE {self.pg_name}"], check=True)
            base_url = os.environ["ICAT_TEST_PG_URL"].rsplit("/", 1)[0]
            self.database = f"{base_url}/{self.pg_name}"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # The per-client rate limit has tests of its own; here it would only turn fuzz cases into 429s.
        self.env = dict(os.environ, DATABASE_URL=self.database, ICAT_BIND=f"127.0.0.1:{self.port}",
                        ICAT_ADMIN_EMAIL=ADMIN[0], ICAT_ADMIN_PASSWORD=ADMIN[1], ICAT_LOG="error",
                        ICAT_RATE_LIMIT="0", **env)
        self.log = open(os.path.join(self.dir, "server.log"), "a")
        self.start()

    def start(self):
        """Starts the process (again, after a kill, on the same database) and waits until ready."""
        self.process = subprocess.Popen([BIN, "serve"], env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:
            try:
                if call(self.base, "GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.time() > deadline:
                raise SystemExit(f"icat did not start on {self.backend}")
            time.sleep(0.2)

    def stop(self):
        if self.process.poll() is not None:
            print(f"the server had exited with {self.process.returncode}")
        self.process.terminate()
        self.process.wait(timeout=40)
        self.log.close()
        # A crash or panic in the log is a finding even when every response looked fine.
        with open(os.path.join(self.dir, "server.log")) as f:
            log = f.read()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.pg_name:
            subprocess.run(["psql", os.environ["ICAT_TEST_PG_URL"], "-qc",
                            f"DROP DATABASE IF EXISTS {self.pg_name} WITH (FORCE)"], check=False)
        return log


def new_user(base, body, admin):
    """Creates an account as the admin; as its owner, replaces the first password with PASSWORD (the
    API refuses everything else until then)."""
    status, created = call(base, "POST", "/api/v1/users", dict(body, password=FIRST_PASSWORD), admin)
    assert status == 201, created
    status, tokens = call(base, "POST", "/api/v1/auth/login", {"email": body["email"], "password": FIRST_PASSWORD})
    assert status == 200, tokens
    status, answer = call(base, "POST", "/api/v1/auth/password",
                          {"current_password": FIRST_PASSWORD, "new_password": PASSWORD}, tokens["access_token"])
    assert status == 204, answer
    return created


def prepare(base):
    """Users of each role and some records, so that reads meet real data."""
    status, tokens = call(base, "POST", "/api/v1/auth/login", {"email": ADMIN[0], "password": ADMIN[1]})
    assert status == 200, tokens
    admin = tokens["access_token"]
    ids = {a["acronym"]: a["id"] for a in call(base, "GET", "/api/v1/agencies?per_page=100", token=admin)[1]["items"]}
    users = {}
    for role, acronym in (("editor", "UNODC"), ("viewer", "ILO")):
        email = f"{role}@attack.example"
        new_user(base, {"email": email, "name": role.title(), "role": role, "agency_id": ids[acronym]}, admin)
        users[role] = (email, PASSWORD)
    for acronym, title in (("UNODC", "Training of judges on trafficking cases in Nigeria"),
                           ("ILO", "Training judges and prosecutors on trafficking cases (Nigeria)")):
        status, body = call(base, "POST", "/api/v1/activities", {
            "agency_id": ids[acronym], "title": title, "description": "Workshops for judges and prosecutors.",
            "countries": ["NG"], "themes": ["prosecution"], "sdg_targets": ["16.2"], "target_groups": ["judges"],
            "partners": [], "start_date": "2027-01-01", "end_date": "2027-12-31"}, admin)
        assert status == 201, body
        status, body = call(base, "POST", f"/api/v1/agencies/{ids[acronym]}/focal-points", {
            "role": "primary", "name": f"Focal Point {acronym}", "email": f"fp@{acronym.lower()}.example"}, admin)
        assert status == 201, body
    users["admin"] = ADMIN
    return admin, users


def schemathesis(server, principal, credentials):
    env = dict(os.environ, ICAT_ATTACK_BASE=server.base, SCHEMATHESIS_HOOKS="hooks")
    env["PYTHONPATH"] = os.path.dirname(__file__) + os.pathsep + env.get("PYTHONPATH", "")
    if credentials:
        env["ICAT_ATTACK_EMAIL"], env["ICAT_ATTACK_PASSWORD"] = credentials
        status, tokens = call(server.base, "POST", "/api/v1/auth/login", {"email": credentials[0], "password": credentials[1]})
        if status == 200:
            env["ICAT_ATTACK_USER_ID"] = tokens["user"]["id"]
    report = os.path.join(OUT, f"schemathesis-{server.backend}-{principal}.xml")
    command = [
        "schemathesis", "run", f"{server.base}/api/openapi.json",
        "--checks", "all",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", EXAMPLES,
        "--seed", SEED,
        "--generation-database", "none",
        "--workers", "2",
        "--request-timeout", "30",
        # Hypothesis's "data generation is too slow" check judges the test client on a busy
        # 2-core machine, not the server: it failed the login operation once for a viewer on
        # PostgreSQL while every request had passed.
        "--suppress-health-check", "too_slow",
        "--no-color",
        "--report", "junit", "--report-junit-path", report,
    ]
    print(f"\n=== schemathesis on {server.backend}, {principal} ===", flush=True)
    result = subprocess.run(command, env=env, cwd=os.path.dirname(__file__))
    return result.returncode == 0, failures(report)


# Errors of the tools themselves, not findings about the server: CPython 3.11.7's `ast` fails now
# and then inside Hypothesis's description of a lambda while schemathesis builds coverage cases
# (seen on GET /activities/export.csv, once in each of two runs of eight, each passing on rerun).
TOOL_BUGS = ("AST constructor recursion depth mismatch",)


def tool_bugs_only(why):
    """Whether every problem of a run is a known tool error."""
    return bool(why) and all(any(bug in w for bug in TOOL_BUGS) for w in why)


def failures(report):
    """The failed and erred operations of a schemathesis JUnit report, with the first lines of why."""
    try:
        root = ElementTree.parse(report).getroot()
    except (OSError, ElementTree.ParseError) as e:
        return [f"no report ({e})"]
    found = []
    for case in root.iter("testcase"):
        for problem in list(case.findall("failure")) + list(case.findall("error")):
            text = (problem.get("message") or "") + "\n" + (problem.text or "")
            # Lines cut at 300 characters: a tool's traceback can quote a whole source file in one.
            lines = [line[:300] for line in text.strip().splitlines() if line.strip()][:12]
            found.append(f"{case.get('name')}:\n    " + "\n    ".join(lines))
    return found


def sqlmap(server, token):
    """sqlmap on every query parameter of the list and search routes; it must find no injection."""
    targets = [
        "/api/v1/activities?q=judges&agency=UNODC&country=NG&theme=prosecution&sdg=16.2&status=planned&from=2027-01-01&to=2027-12-31",
        "/api/v1/focal-points?q=focal&agency=UNODC&role=primary&country=NG&theme=prevention",
        "/api/v1/reports/duplicates?country=NG&theme=prosecution&agency=UNODC&status=all&level=possible",
        "/api/v1/audit?actor=secretariat&entity=user&action=login",
        "/api/v1/agencies?working_group=true&active=true",
    ]
    clean = True
    for target in targets:
        output = os.path.join(OUT, "sqlmap", server.backend)
        command = [
            "sqlmap", "-u", server.base + target, "--batch", "--level", "2", "--risk", "1",
            "--headers", f"Authorization: Bearer {token}", "--dbms",
            "PostgreSQL" if server.backend == "postgres" else "SQLite",
            "--technique", "BEUT", "--time-sec", "2", "--threads", "2",
            "--output-dir", output, "--flush-session", "--disable-coloring",
        ]
        print(f"\n=== sqlmap on {server.backend}: {target} ===", flush=True)
        result = subprocess.run(command, capture_output=True, text=True)
        text = result.stdout + result.stderr
        found = "is vulnerable" in text or "sqlmap identified the following injection point" in text
        summary = [line for line in text.splitlines() if "all tested parameters" in line or "injection" in line.lower()]
        print("\n".join(summary[-3:]) or text[-800:])
        if found or result.returncode not in (0,):
            print(text[-4000:])
            clean = False
    return clean


def attack(backend, failed, flaky):
    """Every schemathesis principal, then sqlmap, against one backend's server."""
    server = Server(backend)
    try:
        admin_token, users = prepare(server.base)
        # The admin last: its run may change the other accounts (roles, agencies, active).
        for principal, credentials in (("anonymous", None), ("viewer", users["viewer"]),
                                       ("editor", users["editor"]), ("admin", users["admin"])):
            passed, first = schemathesis(server, principal, credentials)
            if not passed:
                print(f"\n--- schemathesis {backend} {principal} failed; once more ---", flush=True)
                passed, again = schemathesis(server, principal, credentials)
                if passed:
                    flaky.append((f"schemathesis {backend} {principal}", first))
                elif tool_bugs_only(first) and tool_bugs_only(again):
                    flaky.append((f"schemathesis {backend} {principal} (a tool error twice)", again))
                else:
                    failed.append((f"schemathesis {backend} {principal}", again))
        # The fuzzer may have ended the admin's sessions, or locked the account with wrong
        # passwords (429 + Retry-After): sign in again for sqlmap, waiting if need be.
        for _ in range(6):
            status, tokens = call(server.base, "POST", "/api/v1/auth/login", {"email": ADMIN[0], "password": ADMIN[1]})
            if status != 429:
                break
            time.sleep(60)
        if not sqlmap(server, tokens.get("access_token", admin_token)):
            failed.append((f"sqlmap {backend}", []))
    except Exception:
        print(server.stop()[-6000:])
        raise
    log = server.stop()
    if server.process.returncode not in (0, -15):
        failed.append((f"server exited with {server.process.returncode} on {backend}", []))
    if "panicked" in log:
        failed.append((f"server panicked on {backend}", []))
        print(log[-4000:])


def main():
    os.makedirs(OUT, exist_ok=True)
    backends = ["sqlite"] + (["postgres"] if os.environ.get("ICAT_TEST_PG_URL") else [])
    failed, flaky = [], []
    # The backends are attacked at once, each by its own tools against its own server: the tools'
    # clients, not the servers, keep the cores busy, and one after the other took most of CI's time.
    # Their output interleaves; every failure is printed again at the end.
    with concurrent.futures.ThreadPoolExecutor(len(backends)) as pool:
        for done in [pool.submit(attack, backend, failed, flaky) for backend in backends]:
            done.result()
    # Printed last, where a CI log's tail shows it.
    for title, why in flaky:
        print(f"\nFLAKY (failed, then passed on the same seed): {title}\n  " + "\n  ".join(why or ["(no detail)"]))
    if failed:
        for title, why in failed:
            print(f"\nFAILED: {title}\n  " + "\n  ".join(why or ["(see above)"]))
        print("\nattack FAILED: " + "; ".join(title for title, _ in failed))
        sys.exit(1)
    print(f"\nattack passed on {', '.join(backends)}: schemathesis x4 principals, sqlmap x5 routes")


if __name__ == "__main__":
    main()
