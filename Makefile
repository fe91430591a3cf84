# Two commands for a fresh machine: `make demo` and `make test`.
#
# Everything is installed from the committed uv.lock, so a fresh machine gets exactly the
# versions the tests passed with. uv itself is bootstrapped into .tools/ with pip, pinned.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
LATEST := .venv-latest
NODE_TOOLS := $(TOOLS)/node

LOCALE := templates/locale
POT := $(LOCALE)/coopmail.pot
PYBABEL := $(BIN)/pybabel

# uv uses this Python (never one it downloads) and keeps the project's venv in .venv.
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo demo-serve test test-latest lock upgrade messages pot catalogs docs bench clean

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "coopmail needs Python 3.11 or newer: run make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# The package and what it needs to run (kept when the dev tools are there too).
$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --no-dev --inexact --quiet
	@touch $@

# The package, its dependencies and the dev and docs tools, exactly as locked.
$(VENV)/.installed-dev: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --all-groups --quiet
	@touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/coopmail demo

# The demo's public pages on http://localhost:8000/subscribe; every mail it sends is kept
# as an .eml file in coopmail-demo/outbox (the demo's COOPMAIL_SMTP_URL is capture:///...).
demo-serve: demo
	$(BIN)/coopmail --config coopmail-demo/coopmail.toml serve

# The mail lint's checker (caniemail's data through @jsx-email/doiuse-email), exactly as
# locked in tests/email_lint/package-lock.json, into .tools/node; without npm the lint
# test skips and says why.
$(NODE_TOOLS)/.installed: tests/email_lint/package.json tests/email_lint/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		mkdir -p $(NODE_TOOLS) && cp $^ $(NODE_TOOLS)/ && \
		(cd $(NODE_TOOLS) && npm ci --silent --no-audit --no-fund) && touch $@; \
	else \
		echo "npm is not installed: the mail lint test (tests/templates/test_client_support.py) will skip"; \
	fi

test: $(VENV)/.installed-dev $(NODE_TOOLS)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The newest versions pyproject.toml's ranges allow, in a venv of their own, through the
# whole suite: dependency drift shows up here before users meet it. The lock is untouched;
# when this passes and you want the new versions, run `make lock` and commit uv.lock.
test-latest: | $(UV)
	rm -rf $(LATEST)
	$(UV) venv --quiet $(LATEST)
	$(UV) pip install --quiet --python $(LATEST)/bin/python --upgrade --resolution highest \
		--group dev -e .
	$(UV) pip list --python $(LATEST)/bin/python --format freeze > $(LATEST)/versions.txt
	@echo "Resolved the newest allowed versions; list in $(LATEST)/versions.txt"
	$(LATEST)/bin/ruff check .
	$(LATEST)/bin/mypy
	$(LATEST)/bin/python -m pytest $(PYTEST_ARGS)

# Re-resolve uv.lock after changing dependencies in pyproject.toml; `make upgrade` takes the
# newest allowed versions (after `make test-latest` passed with them).
lock: | $(UV)
	$(UV) lock

upgrade: | $(UV)
	$(UV) lock --upgrade

# The documentation site, built into site/ with the locked docs group; any warning (a broken
# link, a missing page) fails it.
docs: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The catalogs' words (templates/locale): `make messages` extracts them from the code and the
# templates into the .pot and merges it into each language's .po, where new words arrive
# empty for a translator; `make catalogs` compiles each .po as the application does when it
# starts and says how much of it is translated. tests/templates/test_catalogs.py checks the
# .pot is up to date and every catalog complete.
messages: $(VENV)/.installed-dev
	@$(MAKE) --no-print-directory pot
	$(PYBABEL) update --no-wrap --ignore-obsolete --no-fuzzy-matching -D coopmail -i $(POT) -d $(LOCALE)

pot:
	$(PYBABEL) -q extract -F babel.cfg --project=coopmail --copyright-holder="coopmail developers" \
		--add-location=file --sort-by-file \
		--no-wrap --add-comments=TRANSLATORS: -o $(POT) .

catalogs: $(VENV)/.installed-dev
	@for po in $(LOCALE)/*/LC_MESSAGES/coopmail.po; do \
		$(PYBABEL) compile --statistics -D coopmail -i $$po -o /dev/null || exit 1; \
	done

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/import_subscribers.py

clean:
	rm -rf $(VENV) $(LATEST) $(TOOLS) coopmail-demo site .mypy_cache .ruff_cache .pytest_cache \
		test-artifacts bench/out build dist
