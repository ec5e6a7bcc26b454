# Taizhang — developer and operator entry points. `make help` lists them.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
VAR ?= var
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

# Python >= 3.12, probed by running it (pyenv shims may exist and still fail). `make PYTHON=/path/to/python3.12`
# overrides the search.
PYTHON ?=
PYTHON_CANDIDATES := python3.13 python3.12 python3 \
	$(sort $(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3 /root/.pyenv/versions/3.1[2-9]*/bin/python3)) \
	$(wildcard /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9])
PYTHON_OK := import sys, venv, ensurepip; assert sys.version_info >= (3, 12)

# The demo runs production settings over plain http on the loopback address; mail goes to the console.
DEMO_ENV := TAIZHANG_SSL_REDIRECT=0 TAIZHANG_SECURE_COOKIES=0 TAIZHANG_HSTS_SECONDS=0 TAIZHANG_EMAIL_BACKEND=console

.PHONY: help venv install system-packages demo migrate serve test test-postgres lint typecheck importlint migrations-check ci clean

help:
	@echo "make demo            install, migrate, load the demo data, serve on http://$(HOST):$(PORT)/"
	@echo "make test            run the test suite on SQLite (PYTEST_ARGS='-x -k name' to narrow it)"
	@echo "make test-postgres   the suite on PostgreSQL (TAIZHANG_DATABASE_URL, default taizhang_dev on 127.0.0.1)"
	@echo "make system-packages Debian packages for official documents (fonts-noto-cjk, poppler-utils)"
	@echo "make lint            ruff and import-linter"
	@echo "make typecheck       mypy --strict"
	@echo "make ci              everything CI runs (.ci/run)"
	@echo "make clean           remove caches (keeps $(VENV) and $(VAR))"

$(BIN)/python:
	@set -e; \
	if [ -n "$(PYTHON)" ]; then candidates="$(PYTHON)"; else candidates="$(PYTHON_CANDIDATES)"; fi; \
	found=""; \
	for c in $$candidates; do \
		if "$$c" -c '$(PYTHON_OK)' >/dev/null 2>&1; then found="$$c"; break; fi; \
	done; \
	if [ -z "$$found" ]; then \
		echo "error: no Python >= 3.12 with venv and ensurepip found (tried: $$candidates)." >&2; \
		echo "       Install one, or point to it: make PYTHON=/path/to/python3.12 ..." >&2; \
		exit 1; \
	fi; \
	echo "Creating $(VENV) with $$found ($$("$$found" -c 'import sys; print(sys.version.split()[0])'))"; \
	"$$found" -m venv $(VENV)

venv: $(BIN)/python

# Reinstalls only when pyproject.toml changes (or the stamp is removed).
$(STAMP): pyproject.toml | $(BIN)/python
	@$(BIN)/python -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null || { \
		echo "error: $(VENV) uses Python < 3.12; remove it (rm -rf $(VENV)) and run make again." >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP)

# Official documents (公文) render with Debian's CJK fonts; their tests read PDFs with poppler-utils. Missing
# packages are installed when running as root with apt-get, otherwise the exact command is printed.
system-packages:
	@missing=""; \
	for tool in pdftotext pdftoppm pdffonts; do command -v $$tool >/dev/null 2>&1 || missing="poppler-utils"; done; \
	command -v fc-list >/dev/null 2>&1 || missing="$$missing fontconfig"; \
	fc-list 2>/dev/null | grep -qi "Noto Serif CJK SC" || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Debian packages for official documents: $$missing"; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else \
			echo "error: official documents need Debian packages that are missing: $$missing" >&2; \
			echo "       install them with: sudo apt-get install -y poppler-utils fonts-noto-cjk fontconfig" >&2; \
			exit 1; \
		fi; \
	fi

migrate: $(STAMP)
	$(BIN)/taizhang migrate --noinput

demo: $(STAMP) system-packages
	@mkdir -p $(VAR)
	$(DEMO_ENV) $(BIN)/taizhang migrate --noinput
	$(DEMO_ENV) $(BIN)/taizhang collectstatic --noinput --verbosity 0
	$(DEMO_ENV) $(BIN)/taizhang load-demo
	@echo
	@echo "  Taizhang demo: http://$(HOST):$(PORT)/"
	@echo "  Log in as any of: supervisor approver inspector unit_leader handler co_leader sibling_handler"
	@echo "                    liaison enterprise viewer admin auditor outsider"
	@echo "  Password for all of them: taizhang-demo   (roles and organisations: README.md)"
	@echo
	$(DEMO_ENV) $(BIN)/taizhang serve --host $(HOST) --port $(PORT)

serve: $(STAMP)
	$(DEMO_ENV) $(BIN)/taizhang collectstatic --noinput --verbosity 0
	$(DEMO_ENV) $(BIN)/taizhang serve --host $(HOST) --port $(PORT)

test: $(STAMP) system-packages
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: $(STAMP) system-packages
	TAIZHANG_DATABASE_URL=$${TAIZHANG_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/taizhang_dev} \
		$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

migrations-check: $(STAMP)
	$(BIN)/taizhang makemigrations --check --dry-run

ci:
	bash .ci/run

clean:
	rm -rf .mypy_cache .ruff_cache .pytest_cache .import_linter_cache build dist *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
