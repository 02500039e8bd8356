# The two commands the README promises:
#   make demo   set up (a local .venv) and replay the teaching scenario with and without sharing
#   make test   set up, lint, type-check and run every test, the real-Kafka ones included
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup browser demo test lint bench kafka-start kafka-stop clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

# Debian's headless Chromium for the browser tests (installed with apt-get when missing).
browser:
	scripts/chromium >/dev/null

demo: setup
	$(BIN)/tearline run connect-the-dots --policy siloed --seed 1
	$(BIN)/tearline run connect-the-dots --policy fusion-centre --seed 1 --out runs/connect-the-dots

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint browser
	$(BIN)/tearline check --junit build/check-junit.xml
	$(BIN)/pytest --junitxml=build/pytest-junit.xml

bench: setup
	$(BIN)/python -m bench.engine
	$(BIN)/python -m bench.agencies
	$(BIN)/python -m bench.policies
	$(BIN)/python -m bench.relay
	$(BIN)/python -m bench.research

kafka-start:
	scripts/kafka start

kafka-stop:
	scripts/kafka stop

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache .hypothesis
