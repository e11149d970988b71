#!/usr/bin/env bash
# Fresh machine to offline plan: installs the project into .venv (the virtualenv named in
# Pulumi.yaml) from uv.lock and runs `pingvas-infra plan`, which writes build/plan/. No AWS
# account, no Pulumi CLI. Extra arguments go to `pingvas-infra plan`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$PROJECT_ROOT"

# graphviz draws build/plan/architecture.svg and cost-map.svg; without it the plan writes the rest.
ensure_system_packages dot=graphviz || log "graphviz missing: architecture.svg and cost-map.svg will be skipped"
"$PROJECT_ROOT/scripts/install.sh"
exec .venv/bin/pingvas-infra plan "$@"
