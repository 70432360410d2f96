# clinicline — two commands: `make run` and `make test`. Everything else is set up by them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEBIAN_PACKAGES := espeak-ng flite chromium postgresql fonts-dejavu-core
HOST ?= 127.0.0.1
PORT ?= 8000
WEB_WORKERS ?= 2
IMPORT_LINTER_CACHE ?= .import_linter_cache

.PHONY: run test lint typecheck lint-imports check-deploy bench lock debian clean

# Debian packages the project needs, installed only when missing (needs root or sudo).
debian:
	@missing=""; \
	$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || missing="$$missing python3-venv"; \
	for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(STAMP): pyproject.toml constraints.txt | debian
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

run: $(STAMP)
	$(BIN)/clinicline migrate --no-input
	$(BIN)/clinicline demo --if-empty
	$(BIN)/clinicline collectstatic --no-input --verbosity 0
	$(BIN)/clinicline login-help --url http://$(HOST):$(PORT)/
	$(BIN)/clinicline serve --bind $(HOST):$(PORT) --workers $(WEB_WORKERS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --cache-dir $(IMPORT_LINTER_CACHE)
	$(BIN)/mypy clinicline
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

# Not yet part of `make test`: they join it once every app passes.
typecheck: $(STAMP)
	$(BIN)/mypy clinicline

# The layers of STYLE.md's "Dependency direction", as contracts in pyproject.toml.
lint-imports: $(STAMP)
	$(BIN)/lint-imports --cache-dir $(IMPORT_LINTER_CACHE)

check-deploy: $(STAMP)
	$(BIN)/clinicline check --deploy --fail-level WARNING

bench: $(STAMP)
	$(BIN)/python bench/vault.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/triage.py
	$(BIN)/python bench/inbox.py
	$(BIN)/python bench/escalation.py
	$(BIN)/python bench/phi_guard.py
	$(BIN)/python bench/reminders.py

# Re-pin every dependency after changing pyproject.toml.
lock:
	rm -rf /tmp/clinicline-lock && $(PYTHON) -m venv /tmp/clinicline-lock
	/tmp/clinicline-lock/bin/pip install --quiet -e '.[dev]'
	/tmp/clinicline-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
