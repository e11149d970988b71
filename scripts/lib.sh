# Shared set-up steps for scripts/install.sh, scripts/plan.sh and scripts/test.sh (sourced,
# not run). Everything is idempotent: a second run only checks what is installed.

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"

# uv installs the program's virtualenv from uv.lock; Pulumi.yaml names it as the toolchain.
# Pinned, and installed with pip into its own virtualenv when missing: nothing else is needed
# on the machine but Python. Pulumi runs `uv` from PATH: put $UV_BIN_DIR there (README).
UV_VERSION="0.13.9"
UV_BIN_DIR="$PROJECT_ROOT/.venv-tools/uv/bin"
UV="$UV_BIN_DIR/uv"
# The interpreter the scripts were given, never one uv would download, and the virtualenv
# Pulumi.yaml names.
export UV_PYTHON="$PYTHON" UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT="$PROJECT_ROOT/.venv"

log() { printf '==> %s\n' "$*" >&2; }

ensure_uv() {
  if [ -x "$UV" ] && [ "$("$UV" --version | cut -d' ' -f2)" = "$UV_VERSION" ]; then
    return 0
  fi
  log "installing uv $UV_VERSION into .venv-tools/uv"
  [ -x "$UV_BIN_DIR/python" ] || "$PYTHON" -m venv "$PROJECT_ROOT/.venv-tools/uv"
  "$UV_BIN_DIR/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
}

# sync_program_env [--extra test]: the project's .venv exactly as uv.lock pins it. --locked
# refuses a uv.lock that no longer matches pyproject.toml (run `uv lock` after editing it);
# --inexact keeps what the other command added (plan.sh leaves the test extra in place).
sync_program_env() {
  ensure_uv
  "$UV" sync --project "$PROJECT_ROOT" --locked --inexact --quiet "$@"
}

# ensure_tool_venv DIR SPEC...: a separate virtualenv for a tool whose pins clash with the
# project's, installed once per change of SPEC (the stamp holds it).
ensure_tool_venv() {
  local dir="$1"; shift
  local stamp="$dir/.pingvas-installed"
  local want="$*"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  ensure_uv
  log "installing $* into $dir"
  [ -x "$dir/bin/python" ] || "$UV" venv --quiet "$dir"
  "$UV" pip install --quiet --python "$dir/bin/python" "$@"
  printf '%s' "$want" > "$stamp"
}

# ensure_local_state_folder: the folder of Pulumi.yaml's file:// backend. `pulumi` opens it
# but never creates it ("unable to open bucket"); an s3:// backend needs nothing here.
ensure_local_state_folder() {
  local folder
  folder="$("$PROJECT_ROOT/.venv/bin/python" -m pingvas_infra.preflight.backend "$PROJECT_ROOT")"
  if [ -n "$folder" ] && [ ! -d "$folder" ]; then
    log "creating the local Pulumi state folder $folder"
    mkdir -p "$folder"
  fi
}

# have_command CMD: on PATH, or an executable path (globs allowed, e.g. Debian's
# /usr/lib/postgresql/*/bin/initdb, which is not on PATH).
have_command() {
  local candidate
  command -v "$1" >/dev/null 2>&1 && return 0
  for candidate in $1; do [ -x "$candidate" ] && return 0; done
  return 1
}

# ensure_system_packages CMD=PACKAGE...: install Debian packages whose command is missing.
ensure_system_packages() {
  local missing=() pair cmd pkg
  for pair in "$@"; do
    cmd="${pair%%=*}"; pkg="${pair#*=}"
    have_command "$cmd" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if command -v apt-get >/dev/null 2>&1; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    log "installing system packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v brew >/dev/null 2>&1; then
    log "installing with Homebrew: ${missing[*]}"
    brew install "${missing[@]}"
  else
    log "cannot install ${missing[*]}: no apt-get or brew; install them by hand"
    return 1
  fi
}
