# Shared by crebito's scripts: installing Debian packages, building, locating things.
# Source it; it defines functions and the variable CREBITO_ROOT.

CREBITO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# What building, running and testing crebito needs on Debian bookworm.
CREBITO_PACKAGES=(
  cmake g++ make pkg-config
  libsqlite3-dev libsqlitecpp-dev libcpp-httplib-dev nlohmann-json3-dev catch2
  haproxy curl sqlite3 procps
)

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ensure_packages PKG...: installs what is missing with apt-get when root; otherwise prints the
# exact command to run and fails.
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages; run: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  fi
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# build_crebito [TARGET...]: configures build/ (Release) once and builds the targets (all if none).
build_crebito() {
  local build_dir="$CREBITO_ROOT/build"
  if [ ! -f "$build_dir/Makefile" ]; then  # a failed configure leaves a cache but no Makefile
    say "configuring $build_dir (Release)"
    cmake -S "$CREBITO_ROOT" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  local targets=()
  local t
  for t in "$@"; do targets+=(--target "$t"); done
  say "building ${*:-everything}"
  cmake --build "$build_dir" -j "$(nproc)" "${targets[@]}" >/dev/null
}

# pid_is PID EXE: true when PID is alive and runs EXE (guards against a recycled pid). A process
# whose binary was rebuilt since it started shows "EXE (deleted)"; it is still ours.
pid_is() {
  local pid=$1 exe=$2 running
  [ -n "$pid" ] && [ -e "/proc/$pid" ] || return 1
  running=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  running=${running% (deleted)}
  [ "$running" = "$(readlink -f "$exe")" ]
}
