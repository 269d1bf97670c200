# Drawdown: every command the README names. `make help` lists them.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.PHONY: help install run test lint format bench compose-check clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

install: $(if $(findstring .tools,$(UV)),.tools/bin/uv)  ## install Drawdown and its tools from the lock file
	$(UV) sync --frozen

# Only what running needs (no test or lint tools); `make test` or `make install` adds them.
run: $(if $(findstring .tools,$(UV)),.tools/bin/uv)  ## start the daemon on the embedded default (SQLite file + in-process bus)
	$(UV) sync --frozen --no-dev
	$(UV) run --frozen --no-dev drawdown run

test: install  ## run the whole test suite, starting what it needs (PostgreSQL, Kafka-API broker)
	scripts/test-prerequisites
	$(UV) run pytest

lint: install  ## ruff (lint and format check) and mypy
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy

format: install  ## apply ruff's formatting and safe fixes
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

# The benchmarks; the other files in bench/ are their helpers (servers, texts, /proc readers).
BENCHMARKS := pipeline extraction reading fingerprints pollers processors webhooks soak

bench: install  ## run every benchmark in bench/ at its default size (the soak takes an hour)
	set -e; for b in $(BENCHMARKS); do $(UV) run python bench/$$b.py; done

compose-check:  ## validate docker-compose.yml offline
	docker-compose -f docker-compose.yml config --quiet

clean:  ## remove local state
	rm -rf .venv .tools drawdown.db drawdown.db-* .pytest_cache .mypy_cache .ruff_cache
