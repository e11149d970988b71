#!/usr/bin/env bash
# Fresh machine to every test: installs the Python packages (uv.lock), PostgreSQL, Redis,
# graphviz, librsvg and tesseract when missing, the isolated scanners (checkov, network-config-analyzer) and actionlint,
# then runs ruff (lint and format), mypy and pytest. With CI=true a missing server fails
# the run instead of skipping the tests that need it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$PROJECT_ROOT"

ensure_system_packages dot=graphviz redis-server=redis-server \
  '/usr/lib/postgresql/*/bin/initdb=postgresql'
# architecture.svg is rendered to a raster and read back by OCR (tests/test_architecture.py).
ensure_system_packages rsvg-convert=librsvg2-bin tesseract=tesseract-ocr
"$PROJECT_ROOT/scripts/install.sh" --extra test
# checkov conflicts with the project's pins: its own virtualenv, one pinned version
# (tests/policy/test_checkov.py runs it over build/plan/manifests/).
CHECKOV_VERSION="3.3.30"
ensure_tool_venv .venv-tools/checkov "checkov==${CHECKOV_VERSION}"
source "$(dirname "$0")/ops-tools.sh"
ensure_system_packages shellcheck=shellcheck
ensure_suite_tools "$PINNED_ALERT_SUITE" "${PINNED_ALERT_TOOLS[@]}"
ensure_suite_tools "$PINNED_COMPOSE_SUITE" "${PINNED_COMPOSE_TOOLS[@]}"
ensure_actionlint
# The schema-bootstrap test runs the Job's script under busybox, as the alpine image does.
ensure_system_packages busybox=busybox
# network-config-analyzer pins versions that clash with the project's: its own venv; the
# NetworkPolicy proofs call its `nca` by path.
ensure_tool_venv .venv-tools/nca "network-config-analyzer>=2.1,<3"

log "ruff check"; .venv/bin/ruff check .
log "ruff format --check"; .venv/bin/ruff format --check .
log "mypy"; .venv/bin/mypy
log "pytest"; exec .venv/bin/pytest "$@"
