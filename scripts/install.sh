#!/usr/bin/env bash
# The program's virtualenv from uv.lock, and the folder of Pulumi.yaml's local state backend:
# what `pulumi preview` and `pulumi up` need from this repository. plan.sh and test.sh run it
# too; CI's preview and deploy jobs run only this. Extra arguments go to `uv sync`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$PROJECT_ROOT"

sync_program_env "$@"
ensure_local_state_folder
