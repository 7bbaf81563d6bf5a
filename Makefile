# Two commands: `make run` starts the whole product with demo data; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
FAKE_PROVIDERS_PORT ?= 8765
# Simulated patient messages per second in `make run` (0 = none).
SIMULATE_RATE ?= 0.1

.PHONY: run test install lint messages bench clean

$(BIN)/python:
	@# Debian and Ubuntu ship Python without ensurepip (python3-venv): fall back to a bare
	@# venv and install pip into it from the package index.
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV) && $(PYTHON) -m venv --without-pip $(VENV) \
		&& $(BIN)/python .ci/get_pip.py; }

$(INSTALLED): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(INSTALLED)

run: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	DEBUG=1 $(BIN)/python manage.py seed_demo_channels
	DEBUG=1 $(BIN)/python manage.py seed_demo_scheduling
	DEBUG=1 $(BIN)/python manage.py seed_demo_quality
	@echo
	@echo "Clinic Inbox: open http://$(HOST):$(PORT)/ and sign in with a login above. Ctrl-C stops everything."
	@echo "Fake Telegram/WhatsApp APIs on :$(FAKE_PROVIDERS_PORT); simulated patients: $(SIMULATE_RATE) messages/s (SIMULATE_RATE=0 for none)."
	@echo
	PYTHONUNBUFFERED=1 DEBUG=1 HOST=$(HOST) WEB_PORT=$(PORT) FAKE_PROVIDERS_PORT=$(FAKE_PROVIDERS_PORT) \
		SIMULATE_RATE=$(SIMULATE_RATE) \
		TELEGRAM_API_BASE=http://127.0.0.1:$(FAKE_PROVIDERS_PORT) \
		WHATSAPP_API_BASE=http://127.0.0.1:$(FAKE_PROVIDERS_PORT) \
		PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .

messages: install
	$(BIN)/python manage.py makemessages -l ru -l en --ignore '.venv/*' --ignore 'var/*'
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

bench: install
	@ls bench/*.py >/dev/null 2>&1 && for b in bench/*.py; do $(BIN)/python $$b; done || echo "no benchmarks yet"

clean:
	rm -rf $(VENV) var
