# shellcheck shell=bash
# k6 as the 2025 challenge ran it (v1.1.0), built from the Go module proxy into
# ~/.cache/crebito/k6-v1.1.0 when missing (or CREBITO_K6=PATH). Source it after common.sh for
# K6_VERSION and k6_bin; `scripts/setup k6` builds it (ensure_k6, here) and prints that path.
# k6 sends no usage report (K6_NO_USAGE_REPORT): every run stays on loopback.

K6_VERSION=v1.1.0
K6_GO_MIN=1.23  # go.k6.io/k6 v1.1.0's go.mod
k6_bin="${CREBITO_K6:-$HOME/.cache/crebito/k6-$K6_VERSION/k6}"
export K6_NO_USAGE_REPORT=true

# go_at_least VERSION: true when the go on PATH is at least VERSION (major.minor).
go_at_least() {
  local have
  have=$(go env GOVERSION 2>/dev/null | sed 's/^go//') || return 1
  python3 - "$have" "$1" <<'PY'
import sys
def v(s): return [int(x) for x in s.split("-")[0].split(".")[:2]]
sys.exit(0 if v(sys.argv[1]) >= v(sys.argv[2]) else 1)
PY
}

ensure_k6() {
  [ -x "$k6_bin" ] && "$k6_bin" version 2>/dev/null | grep -q "k6 $K6_VERSION" && return 0
  command -v go >/dev/null || ensure_packages golang-go # scripts/setup's
  local toolchain=local
  # Debian bookworm's Go is 1.19: let the go command fetch a newer toolchain (a module on the
  # Go module proxy) for this build only.
  go_at_least "$K6_GO_MIN" || toolchain="go1.24.5"
  say "building k6 $K6_VERSION with Go ($toolchain toolchain) into $(dirname "$k6_bin")"
  mkdir -p "$(dirname "$k6_bin")"
  GOTOOLCHAIN=$toolchain GOBIN=$(dirname "$k6_bin") GOFLAGS=-mod=mod \
    go install "go.k6.io/k6@$K6_VERSION" || die "could not build k6 $K6_VERSION"
}
