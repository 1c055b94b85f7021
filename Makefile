# Two commands: `make run` starts the whole system on the embedded default; `make test` runs the suite.
# With DATABASE_URL and REDIS_URL set, both run on PostgreSQL and Redis.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The locks are generated from requirements*.txt (the lists people edit) and are what gets installed.
PIP_COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--no-emit-find-links

.PHONY: run test install lint lock lock-check migrate seed clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found; set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Everything, pip included, at the versions and hashes of the lock: a new machine installs what was tested.
$(STAMP): requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	touch $(STAMP)

install: $(STAMP)

# After editing requirements*.txt. Pins already in a lock are kept unless the inputs need others;
# `make lock PIP_COMPILE_ARGS=--upgrade` takes the newest versions the inputs allow.
lock: install
	$(PIP_COMPILE) $(PIP_COMPILE_ARGS) --output-file requirements.lock requirements.txt
	$(PIP_COMPILE) $(PIP_COMPILE_ARGS) --constraint requirements.lock --output-file requirements-dev.lock \
		requirements-dev.txt

# CI: the committed locks are what `make lock` makes of the committed inputs.
lock-check: lock
	@git diff --quiet -- requirements.lock requirements-dev.lock || { git diff --stat -- requirements*.lock; \
		echo "requirements*.lock do not match requirements*.txt: run make lock and commit the locks"; exit 1; }

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	$(BIN)/python manage.py rundesk $(RUNDESK_ARGS)

test: install
	SUPPORTDESK_VAR_DIR=$(CURDIR)/var/test $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf var/test var/screenshots
