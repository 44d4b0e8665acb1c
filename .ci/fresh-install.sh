#!/usr/bin/env bash
# CI: what a new user does, on a machine without Cairo/Pango headers (issue 12).
#  (a) a fresh clone, installed with pkg-config blind (so nothing native can build against system
#      libraries), runs the README's first command; the HTML reports and PNG figures must be there,
#      and the install log must hold no npm warning.
#  (b) the packed tarball, installed into an empty folder, runs --help, demo (into ./reports/demo of
#      that folder) and a scan.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
unset MASSIVIT_MODELS_DIR # the demo must fall back to the synthetic pair it ships

fail() { echo "fresh-install: FAIL: $*" >&2; exit 1; }
nonempty() { [ -s "$1" ] || fail "$1 is missing or empty"; }
png() { nonempty "$1"; [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$1 is not a PNG"; }

# The demo's outputs under $1 (a reports/demo folder): both synthetic scans and their comparison.
check_demo() {
  local m f
  for m in synthetic-dinov2 synthetic-dinov2-reg; do
    nonempty "$1/$m/report.html"
    nonempty "$1/$m/scan.json"
    for f in layer-curves norm-histogram norm-grid feature-token-heatmap feature-token-bars sink-layers sink-heads cls-map; do
      png "$1/$m/figures/$f.png"
    done
  done
  nonempty "$1/compare/compare.html"
  for f in compare-emergence compare-layer-curves compare-roles compare-norms compare-sinks; do
    png "$1/compare/figures/$f.png"
  done
  echo "fresh-install: $(find "$1" -name '*.png' | wc -l) PNGs and $(find "$1" -name '*.html' -maxdepth 2 | wc -l) HTML reports in $1"
}

# (a) Fresh clone, the README's first command as written, Cairo/Pango hidden from pkg-config.
if command -v pkg-config >/dev/null && PKG_CONFIG_LIBDIR=/nonexistent pkg-config --exists cairo; then fail "pkg-config still finds cairo"; fi
git clone -q "$REPO" "$WORK/clone"
(
  cd "$WORK/clone"
  grep -qF 'npm install && npm run demo' README.md || fail "README no longer starts with 'npm install && npm run demo'"
  PKG_CONFIG_LIBDIR=/nonexistent npm install 2>&1 | tee "$WORK/install.log"
  ! grep -i 'npm warn' "$WORK/install.log" || fail "npm install printed warnings (above)"
  PKG_CONFIG_LIBDIR=/nonexistent npm run demo
)
check_demo "$WORK/clone/reports/demo"

# (b) The packed tarball in an empty folder. onnxruntime-node's postinstall would download the CUDA
# libraries on linux/x64 (offline here); the user's project has no allowScripts, so skip it by env.
(cd "$REPO" && npm pack --silent --pack-destination "$WORK" >/dev/null)
TARBALL="$(ls "$WORK"/massivit-*.tgz)"
tar tzf "$TARBALL" > "$WORK/contents.txt"
grep -qx 'package/dist/cli/index.js' "$WORK/contents.txt" || fail "tarball has no dist/cli/index.js"
! grep -q '^package/test/' "$WORK/contents.txt" || fail "tarball ships test/"
echo "fresh-install: tarball $(du -k "$TARBALL" | cut -f1) kB"
mkdir "$WORK/user"
(
  cd "$WORK/user"
  ONNXRUNTIME_NODE_INSTALL=skip PKG_CONFIG_LIBDIR=/nonexistent npm install --no-audit --no-fund "$TARBALL"
  [ ! -e node_modules/typescript ] || fail "typescript got installed with the package"
  help="$(npx massivit --help)"
  [[ "$help" == *'Usage: massivit'* ]] || fail "npx massivit --help printed no usage"
  npx massivit demo
  check_demo "$WORK/user/reports/demo"
  [ ! -e node_modules/massivit/reports ] || fail "the demo wrote into the package folder"
  npx massivit scan --model node_modules/massivit/fixtures/models/synthetic-dinov2-reg \
    --images node_modules/massivit/images --out scan-out --limit 4
  nonempty scan-out/scan.json
  nonempty scan-out/report.html
)
echo "fresh-install: OK"
