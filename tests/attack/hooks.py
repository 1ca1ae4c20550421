"""Schemathesis hooks for `make attack`: sign in as the role under test.

The token comes from a real sign-in and is fetched again whenever the server answers 401: the
fuzzer itself calls /auth/logout and /auth/password, which end sessions, and a role change of the
signed-in user revokes them too. A new token comes from the refresh token when the session still
lives, else from a new sign-in. The fuzzer also tries wrong passwords on the very accounts it
finds (stateful phase), which locks them for a while (429 + Retry-After): then the hook waits, as
a real client would. Without ICAT_ATTACK_EMAIL (the anonymous run) no auth is set.
"""

import json
import os
import time
import urllib.error
import urllib.request

import schemathesis

BASE = os.environ["ICAT_ATTACK_BASE"]
EMAIL = os.environ.get("ICAT_ATTACK_EMAIL")
PASSWORD = os.environ.get("ICAT_ATTACK_PASSWORD")
OWN_ID = os.environ.get("ICAT_ATTACK_USER_ID")
NOBODY = "00000000-0000-0000-0000-000000000000"


def _post(path, body):
    request = urllib.request.Request(
        f"{BASE}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    for _ in range(6):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as e:
            if e.code != 429:
                raise
            time.sleep(min(int(e.headers.get("Retry-After", "5")), 120))
    raise RuntimeError(f"{path}: still throttled")


if EMAIL:

    @schemathesis.hook
    def before_call(ctx, case, **kwargs):
        """The fuzzer may change any account but the one it signs in with: an admin that demotes or
        deactivates itself (another admin it created makes that legal) would end the run, not test
        anything more. Such a request goes to an id that names nobody (404) instead."""
        if (
            OWN_ID
            and case.method.upper() == "PATCH"
            and case.operation.path == "/api/v1/users/{id}"
            and (case.path_parameters or {}).get("id") == OWN_ID
        ):
            case.path_parameters["id"] = NOBODY

    @schemathesis.auth(refresh_interval=600, retry_on=[401])
    class IcatSignIn:
        refresh_token = None

        def get(self, case, ctx):
            try:
                return self._fetch()
            except Exception as e:  # shown in the run's output: why no token could be had
                print(f"\n[hooks] sign-in as {EMAIL} failed: {e!r}", flush=True)
                raise

        def _fetch(self):
            tokens = None
            if self.refresh_token:
                try:
                    tokens = _post("/api/v1/auth/refresh", {"refresh_token": self.refresh_token})
                except urllib.error.HTTPError:
                    tokens = None
            if tokens is None:
                tokens = _post("/api/v1/auth/login", {"email": EMAIL, "password": PASSWORD})
            self.refresh_token = tokens["refresh_token"]
            return tokens["access_token"]

        def set(self, case, data, ctx):
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {data}"
