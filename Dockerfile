# syntax=docker/dockerfile:1
# The recommendation API (`engage serve`) in a slim image.
#
#   docker build -t engage-serve .
#
# The model reaches the container in one of two ways:
#
# 1. From an MLflow tracking server / registry: point MLFLOW_TRACKING_URI at it; the default
#    model is models:/engage-simulated_world@champion and the alias is polled for new versions.
#      docker run -p 8000:8000 -e MLFLOW_TRACKING_URI=http://mlflow:5000 engage-serve
#
# 2. As a self-contained directory written by `engage export-model --out DIR`, mounted
#    read-only and named by ENGAGE_SERVE_MODEL_URI (or `--model-uri DIR`); no store needed.
#      engage export-model --model-uri models:/engage-simulated_world@champion --out ./export/policy
#      docker run -p 8000:8000 -v "$PWD/export/policy:/models/policy:ro" \
#        -e ENGAGE_SERVE_MODEL_URI=/models/policy -e ENGAGE_SERVE_RELOAD_INTERVAL_S=0 engage-serve
#
# Every other setting is an ENGAGE_SERVE_* variable (see .env.example; `--env-file .env`).

# ---- builder: install the project the way the README does (`pip install .`) into a venv
FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:${PATH}"

WORKDIR /src
# pyproject.toml names README.md as the package's readme, so the build needs it.
COPY pyproject.toml README.md ./
COPY src ./src
# The serving extra only: no Optuna, matplotlib or other training-only libraries. The
# project itself is the local source tree, not a registry package to pin.
# postgres: the decision records (issue 14) go to PostgreSQL when ENGAGE_DECISIONS_URL names one
# hadolint ignore=DL3013
RUN pip install --no-cache-dir ".[serve,postgres]"

# ---- runtime: the venv only, run by an unprivileged user
FROM python:3.11-slim

# LightGBM's wheel links against the OpenMP runtime, which the slim image lacks. Debian
# package versions are not pinned: the base image's suite fixes them, and pins go stale.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 engage \
    && useradd --system --uid 10001 --gid engage --create-home --home-dir /home/engage engage

COPY --from=builder /opt/venv /opt/venv

ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    ENGAGE_SERVE_HOST=0.0.0.0 \
    ENGAGE_SERVE_PORT=8000

WORKDIR /home/engage
USER 10001:10001

EXPOSE 8000

# slim has no curl: ask /readyz with the standard library (non-2xx raises, exit code 1).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]

CMD ["engage", "serve", "--host", "0.0.0.0", "--port", "8000"]
