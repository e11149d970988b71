# Shared set-up steps for scripts/plan.sh and scripts/test.sh (sourced, not run).
# Everything is idempotent: a second run only checks stamps.

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"

log() { printf '==> %s\n' "$*" >&2; }

# ensure_venv DIR SPEC...: create a virtualenv and pip-install SPEC into it, once per
# change of pyproject.toml (the stamp holds its hash).
ensure_venv() {
  local dir="$1"; shift
  local stamp="$dir/.pingvas-installed"
  local want
  want="$(cat "$PROJECT_ROOT/pyproject.toml" <(printf '%s\n' "$@") | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  log "installing $* into $dir"
  [ -x "$dir/bin/python" ] || "$PYTHON" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --upgrade pip
  "$dir/bin/python" -m pip install --quiet "$@"
  printf '%s' "$want" > "$stamp"
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
