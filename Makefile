# Self-documenting: `make help` lists the targets.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
ENGAGE := $(BIN)/engage
DATA ?= data/campaigns.parquet
ROWS ?= 20000

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'

$(BIN)/activate: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/activate

install: $(BIN)/activate ## Create .venv and install the package with dev tools

run: install ## Main job on embedded defaults: simulate a demo log (if none), validate, train, register, serve
	@mkdir -p $(dir $(DATA))
	@if [ ! -f $(DATA) ]; then $(ENGAGE) simulate --rows $(ROWS) --seed 1 --difficulty hard --out $(DATA); fi
	$(ENGAGE) validate --data $(DATA) $(if $(SPEC),--spec $(SPEC))
	$(ENGAGE) train --data $(DATA) $(if $(SPEC),--spec $(SPEC))
	$(ENGAGE) serve $(if $(SPEC),--spec $(SPEC))

train: install ## Validate and train only (DATA=..., SPEC=...)
	$(ENGAGE) train --data $(DATA) $(if $(SPEC),--spec $(SPEC))

serve: install ## Serve the champion of SPEC's model (default: the simulated world's) on 127.0.0.1:8000
	$(ENGAGE) serve $(if $(SPEC),--spec $(SPEC))

ui: install ## Open the MLflow UI on the embedded store (http://127.0.0.1:5000)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db --default-artifact-root ./mlruns/artifacts

test: install ## Run the whole test suite
	$(BIN)/pytest -q

test-fast: install ## Unit tests only (pytest -m "not slow"), under a minute
	$(BIN)/pytest -q -m "not slow"

lint: install ## Ruff lint and the import-linter architecture contracts
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports

.PHONY: help install run train serve ui test test-fast lint
