# Town311 developer commands. Everything runs in .venv, built from scratch on first use.
#   make run      the whole app locally: AWS emulator, demo town, chalice local, event pump
#   make test     ruff, import-linter, mypy + every test (with `make package` and cfn-lint)
#   make package  CloudFormation/SAM template + a zip per function in build/package
#   make bench    the quick bench (~5 min): cold starts, memory, calls, throughput, figures, exports, cost
#   make bench-scale  the 100,000-item scenarios (python -m bench --scale)
#   make lint     ruff
#   make clean    remove build output and caches (keeps .venv; `make distclean` removes it)
#   make token ROLE=town_admin   a fresh 12-hour staff token for the running `make run`
#   make sms FROM=+13125550147 TEXT=HELP   text the town's number, print its reply (no TEXT: a pothole reported by text, then STATUS)
#   make clock ADVANCE=2h   move the running app's clock forward (RESET=1 puts it back)
#   make mail FILE=local/pothole.eml   a resident e-mails the running town; prints the reply

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Chalice takes the Lambda runtime from the Python that packages: it must be 3.12.
BOOTSTRAP_PYTHON ?= $(firstword $(wildcard /root/.pyenv/versions/3.12.1/bin/python) \
                      $(shell command -v python3.12 2>/dev/null) \
                      $(shell command -v python3 2>/dev/null))
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STAGE ?= prod

export AWS_DEFAULT_REGION ?= us-east-1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv run token sms mail clock test package bench bench-scale lint clean distclean

help:
	@sed -n '2,13p' Makefile | sed 's/^# *//'

$(PY):
	@test -n "$(BOOTSTRAP_PYTHON)" || { echo "no python3.12 found" >&2; exit 1; }
	$(BOOTSTRAP_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet 'pip<26.3'

# Reinstalled only when a requirements file is newer than the stamp.
$(STAMP): requirements.txt requirements-photo.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

venv: $(STAMP)

# The pages' front-end libraries (USWDS, Leaflet) from the npm registry, as the lockfile pins
# them; served as they are, no build step (chalicelib/web/assets.py).
NODE_STAMP := node_modules/.package-lock.json
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm \
	  >/dev/null; } || { echo "npm is needed for the pages' libraries: apt-get install npm" >&2; exit 1; }
	npm ci --no-audit --no-fund --silent
	@touch $@

# The browser tests (tests/e2e) drive Debian's Chromium: Playwright's own browser download
# is blocked on these machines and in CI. apt-get runs only when it is missing (so as root,
# without a prompt); fonts-liberation gives pages the common web fonts' metrics. Elsewhere,
# CHROMIUM=/path/to/chromium points the make target and the tests at another build.
CHROMIUM_BIN := $(or $(CHROMIUM),/usr/bin/chromium)

$(CHROMIUM_BIN):
	@if [ "$@" != /usr/bin/chromium ] || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; \
	then echo "make test needs Chromium at $@ for the browser tests (tests/e2e): install it" \
	  "as root with 'apt-get install chromium', or set CHROMIUM=/path/to/chromium" >&2; exit 1; fi
	@echo "installing Chromium for the browser tests (apt-get)"
	@DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
	@DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	  chromium fonts-liberation >/dev/null

run: $(STAMP) $(NODE_STAMP)
	$(PY) -m local.run

ROLE ?= town_admin
token: $(STAMP)
	@$(PY) -m local.tokens --role $(ROLE)

clock: $(STAMP)
	@$(PY) -m local.clock --advance "$(ADVANCE)" $(if $(RESET),--reset)

sms: $(STAMP)
	@$(PY) -m local.sms "$(FROM)" "$(TEXT)"

FILE ?= local/pothole.eml
mail: $(STAMP)
	@$(PY) -m local.mail "$(FILE)"

# Tests run on every core (pytest-xdist), a test file per worker at a time (the package
# build is shared by its file's tests); each worker has its own in-process moto, and a
# worker that runs browser tests its own `make run` stack on free ports (tests/e2e).
test: $(STAMP) $(NODE_STAMP) $(CHROMIUM_BIN)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-logo
	$(VENV)/bin/mypy
	$(PY) -m pytest -q -n auto --dist loadfile

package: $(STAMP) $(NODE_STAMP)
	$(PY) infra/build_package.py --stage $(STAGE) --out build/package

# Each writes its own marked section of docs/performance.md.
bench: $(STAMP) $(NODE_STAMP)
	$(PY) -m bench

bench-scale: $(STAMP) $(NODE_STAMP)
	$(PY) -m bench --scale

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf build vendor .run .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules
