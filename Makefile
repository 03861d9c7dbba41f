# Self-documenting: `make help` lists the targets.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
ENGAGE := $(BIN)/engage
DATA ?= data/campaigns.parquet
ROWS ?= 20000
# make tracking-server: where PostgreSQL's data, the password and the artifacts live, and the ports
TRACKING_DIR ?= mlruns/team
PG_PORT ?= 5433
MLFLOW_PORT ?= 5000
MLFLOW_HOST ?= 127.0.0.1
# make run / make serve: where the service listens (unset: engage serve's default 127.0.0.1:8000,
# or ENGAGE_SERVE_HOST / ENGAGE_SERVE_PORT)
HOST ?=
PORT ?=
SERVE_ADDRESS = $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'

$(BIN)/activate: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/activate

install: $(BIN)/activate ## Create .venv and install the package with dev tools

run: install ## Main job on embedded defaults: simulate a demo log (if none), validate, train, register, serve on HOST:PORT (default 127.0.0.1:8000)
	@mkdir -p $(dir $(DATA))
	@if [ ! -f $(DATA) ]; then $(ENGAGE) simulate --rows $(ROWS) --seed 1 --difficulty hard --out $(DATA); fi
	$(ENGAGE) validate --data $(DATA) $(if $(SPEC),--spec $(SPEC))
	$(ENGAGE) train --data $(DATA) $(if $(SPEC),--spec $(SPEC))
	$(ENGAGE) serve $(if $(SPEC),--spec $(SPEC)) $(SERVE_ADDRESS)

train: install ## Validate and train only (DATA=..., SPEC=...)
	$(ENGAGE) train --data $(DATA) $(if $(SPEC),--spec $(SPEC))

serve: install ## Serve the champion of SPEC's model (default: the simulated world's) on HOST:PORT (default 127.0.0.1:8000)
	$(ENGAGE) serve $(if $(SPEC),--spec $(SPEC)) $(SERVE_ADDRESS)

tracking-server: install ## A team's tracking: PostgreSQL (PG_PORT) + mlflow server on MLFLOW_HOST:MLFLOW_PORT (default 127.0.0.1:5000), files in TRACKING_DIR
	@set -e; \
	initdb=$$(command -v initdb || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true); \
	if [ -z "$$initdb" ]; then \
		echo "PostgreSQL is not installed. Install the server package, then run make tracking-server again:"; \
		echo "  Debian/Ubuntu: sudo apt-get install postgresql    macOS: brew install postgresql"; \
		exit 1; \
	fi; \
	bin=$$(dirname "$$(realpath "$$initdb")"); root=$$(realpath -m "$(TRACKING_DIR)"); as=""; \
	mkdir -p "$$root/artifacts"; \
	if [ "$$(id -u)" = 0 ]; then as="runuser -u postgres --"; chown postgres "$$root"; fi; \
	if [ ! -f "$$root/pg/PG_VERSION" ]; then \
		(umask 077; $(BIN)/python -c "import secrets; print(secrets.token_hex(16))" > "$$root/password"); \
		[ -z "$$as" ] || chown postgres "$$root/password"; \
		$$as "$$bin/initdb" -D "$$root/pg" -U engage --pwfile "$$root/password" -A scram-sha-256 -E UTF8 >/dev/null; \
	fi; \
	if ! $$as "$$bin/pg_ctl" -D "$$root/pg" status >/dev/null 2>&1; then \
		$$as "$$bin/pg_ctl" -D "$$root/pg" -l "$$root/postgres.log" -w \
			-o "-c listen_addresses=127.0.0.1 -p $(PG_PORT) -k $$root" start >/dev/null; \
	fi; \
	(umask 077; printf '127.0.0.1:%s:*:engage:%s\n' "$(PG_PORT)" "$$(cat "$$root/password")" > "$$root/pgpass"); \
	export PGPASSFILE="$$root/pgpass"; \
	"$$bin/createdb" -h 127.0.0.1 -p $(PG_PORT) -U engage mlflow 2>/dev/null || true; \
	echo "PostgreSQL on 127.0.0.1:$(PG_PORT) (data $$root/pg, password in $$root/password);"; \
	echo "stop it with: $$as $$bin/pg_ctl -D $$root/pg stop"; \
	echo "MLflow server on http://$(MLFLOW_HOST):$(MLFLOW_PORT), artifacts in $$root/artifacts (Ctrl-C stops it)"; \
	echo "point engage at it: export MLFLOW_TRACKING_URI=http://$(MLFLOW_HOST):$(MLFLOW_PORT)"; \
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false exec $(BIN)/mlflow server \
		--backend-store-uri "postgresql+psycopg://engage@127.0.0.1:$(PG_PORT)/mlflow" \
		--artifacts-destination "$$root/artifacts" --host $(MLFLOW_HOST) --port $(MLFLOW_PORT) --workers 1

ui: install ## Open the MLflow UI on the embedded store at MLFLOW_HOST:MLFLOW_PORT (default 127.0.0.1:5000)
	@echo "open http://$(MLFLOW_HOST):$(MLFLOW_PORT)/#/experiments?workflowType=machine_learning (the runs view; MLflow 3.18 opens its GenAI view without the parameter)"
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db --default-artifact-root ./mlruns/artifacts \
		--host $(MLFLOW_HOST) --port $(MLFLOW_PORT)

test: install ## Run the whole test suite
	$(BIN)/pytest -q

test-fast: install ## Unit tests only (pytest -m "not slow"), under a minute
	$(BIN)/pytest -q -m "not slow"

docs: install ## Build the documentation site into site/ (mkdocs build --strict: a warning fails it)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

lint: install ## Ruff lint and format check, the import-linter contracts and mypy --strict on the core
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy

.PHONY: help install run train serve ui test test-fast lint docs tracking-server
