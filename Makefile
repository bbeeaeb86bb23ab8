# Casefold: the two commands of the README, and a few more for daily work.
# Everything installs what it needs, idempotently: uv (pinned) into ~/.cache/casefold/tools, the Python
# workspace into .venv, the Kafka jars into ~/.cache/casefold on first start.

SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
TOOLS_DIR ?= $(HOME)/.cache/casefold/tools-uv-$(UV_VERSION)
UV := $(shell command -v uv >/dev/null 2>&1 && uv --version 2>/dev/null | grep -q "uv $(UV_VERSION)" && command -v uv || echo $(TOOLS_DIR)/bin/uv)
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3.11
RUN := $(UV) run --frozen --no-sync
# Debian packages the tests and benches drive (chromium, wrk), installed only when missing.
APT_INSTALL = { if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $(1); else sudo apt-get update -qq && sudo apt-get install -y -qq $(1); fi; }

.PHONY: help install chromium wrk portal run up stop status test lint typecheck unit bench chaos clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(TOOLS_DIR)/bin/uv:
	@python3 -m venv $(TOOLS_DIR)
	@$(TOOLS_DIR)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

UV_BIN := $(if $(findstring $(TOOLS_DIR),$(UV)),$(TOOLS_DIR)/bin/uv)

# `uv sync` installs the default groups (dev) only, and removes what they do not list: the bench group's baseline
# (eventsourcing) is installed by `make bench` alone, and the next `make install` takes it away again.
install: $(UV_BIN) ## install the workspace (idempotent)
	@$(UV) sync --all-packages --locked --quiet

chromium: ## Debian's Chromium for the browser tests (Playwright cannot download its own browser here)
	@command -v chromium >/dev/null 2>&1 || $(call APT_INSTALL,chromium)

wrk: ## Debian's wrk, the compiled load generator the HTTP and read benches drive the services with
	@command -v wrk >/dev/null 2>&1 || $(call APT_INSTALL,wrk)

run: install ## bring up the whole system in the foreground; Ctrl-C stops it
	@$(RUN) casefold-local run

up: install ## start PostgreSQL and Kafka in the background
	@$(RUN) casefold-local up

stop: install ## stop everything `make run` / `make up` started
	@$(RUN) casefold-local down

status: install ## what runs where
	@$(RUN) casefold-local status

lint: install ## ruff lint and format check, and the layer rules (import-linter)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) lint-imports

# Each test tree is checked on its own, with itself on the path: the trees share module names (conftest, their
# builders) that one mypy run cannot hold. tests/ (the gateway, deploy, e2e and browser checks) is not yet typed.
TYPED_TEST_TREES := libs/events/tests libs/platform/tests libs/schemas/tests deploy/local/tests \
	services/identity/tests services/cases/tests services/attachments/tests services/notifications/tests

typecheck: install ## mypy over every package, then over each package's tests
	$(RUN) mypy
	@for tree in $(TYPED_TEST_TREES); do echo "mypy $$tree"; MYPYPATH=$$tree $(RUN) mypy $$tree || exit 1; done

unit: install ## the fast tests only (no servers)
	$(RUN) pytest -m "not integration and not e2e" $(PYTEST_ARGS)

portal: install ## the portal's npm ci (when needed), lint, format and type checks, unit tests, API client drift
	@sh portal/scripts/ci.sh

test: install chromium lint typecheck portal ## install everything, run lint, format check, type checks and every test
	$(RUN) pytest $(PYTEST_ARGS)

bench: $(UV_BIN) wrk ## benchmarks with their same-run baselines; results in bench/results/
	@$(UV) sync --all-packages --locked --quiet --group bench
	$(RUN) python -m bench $(BENCH_ARGS)

chaos: install ## the whole system under kill -9s and restarts, then nothing lost or duplicated (6-9 min; not in test)
	$(RUN) python -m bench.chaos $(CHAOS_ARGS)

clean: stop ## stop everything and remove local state (.casefold)
	rm -rf .casefold
