# smart_coop: the README's two commands, and the few others.
# Everything runs from .venv, created here from pyproject.toml and requirements/constraints.txt.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help run test bench lint format typecheck messages check-deploy lock clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements/constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "smart_coop needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP) ## the platform: web, Celery worker and beat, with demo data
	$(BIN)/python -m smart_coop.devenv run

test: $(STAMP) ## the whole test suite (ARGS="-k tenancy" to narrow it)
	$(BIN)/python -m smart_coop.devenv test -- $(ARGS)

bench: $(STAMP) ## every benchmark in benchmarks/, each printing a RESULT line
	$(BIN)/python -m smart_coop.devenv bench

lint: $(STAMP) ## ruff lint and format check, mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: $(STAMP) ## format and fix what ruff can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: $(STAMP) ## extract and compile the translations (en, fr, nl)
	$(BIN)/python manage.py makemessages --no-obsolete -l fr -l nl --ignore=.venv --ignore=.data
	$(BIN)/python manage.py compilemessages --ignore=.venv

check-deploy: $(STAMP) ## Django's deployment checks with production-like settings
	DEBUG=false SECRET_KEY="$$(openssl rand -hex 48)" ALLOWED_HOSTS=coop.example.org \
		DATABASE_URL=postgres://nobody@unreachable.invalid/none \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

lock: ## re-resolve requirements/constraints.txt from pyproject.toml in a scratch venv
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	.lock-venv/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements/constraints.txt
	rm -rf .lock-venv

clean: ## remove the virtualenv and the embedded servers' data
	rm -rf $(VENV) .data
