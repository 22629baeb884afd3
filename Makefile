# Two commands do everything: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test test-postgres lint install install-test migrate demo bench clean i18n

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/flask db upgrade

# `make run PORT=8080` serves on another port, and e-mails (those the demo load writes too) link there unless
# PUBLIC_BASE_URL says otherwise.
PORT ?= 5000

demo: migrate
	PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)} $(BIN)/flask demo load

# The server and, beside it, the jobs worker (mail from the outbox, pre-screens, the schedules); Ctrl-C stops both.
run: demo
	@export PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)}; \
	$(BIN)/flask jobs worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# Lint rules (ruff.toml) and the import contracts between packages (.importlinter); `make test` runs them first.
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: install-test lint
	$(BIN)/pytest --cov=marketplace --cov-report=term:skip-covered $(PYTEST_ARGS)

test-postgres: install-test
	TEST_DB=postgresql $(BIN)/pytest $(PYTEST_ARGS)

# Message catalogs (marketplace/translations): extract every string of the code and templates, merge the new ones
# into each locale's catalog, compile. The compiled catalogs are committed; a test fails when any is not current.
I18N := marketplace/translations
i18n: install
	$(BIN)/pybabel --quiet extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --add-location=file --sort-output \
		--project="Open Data Exchange" --copyright-holder="Open Data Exchange contributors" -o $(I18N)/messages.pot .
	sed -i '/^"POT-Creation-Date:/d' $(I18N)/messages.pot  # no date: a catalog changes only when its strings do
	$(BIN)/pybabel --quiet update -i $(I18N)/messages.pot -d $(I18N) --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date
	$(BIN)/pybabel compile --statistics -d $(I18N)

# The catalog benchmark (needs wrk: apt-get install -y wrk): SQLite, then PostgreSQL, at 100,000 products with the
# search engine, and one table against the targets; BENCH_1M=1 adds 1,000,000 products on both. Catalogs are kept in
# instance/bench. BENCH_ARGS goes to every run: "--engine database", "--duration 5", "--db postgresql --products 1000000".
bench: install-test
	$(BIN)/python bench/bench_all.py $(if $(BENCH_1M),--million) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .coverage
