# shellcheck shell=bash
# Shared by crebito's scripts: usage, messages, building, recognising processes. Source it; it
# defines functions and the variable CREBITO_ROOT. Installing packages is scripts/setup's business.
#
# Every executable script answers -h and --help with its usage and does nothing else: a shell script
# calls `answer_help "$@"` right after sourcing this file, before it reads, installs or starts
# anything (tests/scripts/help_test.py checks every executable file in the tree).

CREBITO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# script_usage: the running script's usage, which is its header: the comment lines under the first
# line, up to the first line that is not a comment, without their leading "# ".
script_usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }

# answer_help ARG...: when an argument before any `--` is -h or --help, prints script_usage on
# stdout and exits 0.
answer_help() {
  local arg
  for arg in "$@"; do
    case "$arg" in
      --) return 0 ;;
      -h | --help) script_usage; exit 0 ;;
    esac
  done
  return 0
}

# build_crebito [TARGET...]: configures build/ (Release) once and builds the targets (all if none).
# With CI=true every warning is an error (CREBITO_WERROR=ON): CI fails on a new one.
build_crebito() {
  local build_dir="$CREBITO_ROOT/build" werror_args=()
  if [ "${CI:-}" = true ] &&
    ! grep -qx 'CREBITO_WERROR:BOOL=ON' "$build_dir/CMakeCache.txt" 2>/dev/null; then
    werror_args=(-DCREBITO_WERROR=ON)
  fi
  # A failed configure leaves a cache but no Makefile.
  if [ ! -f "$build_dir/Makefile" ] || [ ${#werror_args[@]} -gt 0 ]; then
    say "configuring $build_dir (Release${werror_args:+, every warning an error})"
    cmake -S "$CREBITO_ROOT" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "${werror_args[@]}" >/dev/null
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

# stop_process NAME PID EXE TIMEOUT_S: TERM to PID while it runs EXE (pid_is), KILL after TIMEOUT_S.
stop_process() {
  local name=$1 pid=$2 exe=$3 timeout_s=$4
  pid_is "$pid" "$exe" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  local deadline=$((SECONDS + timeout_s))
  while pid_is "$pid" "$exe"; do
    if [ $SECONDS -ge $deadline ]; then
      say "$name (pid $pid) did not stop within ${timeout_s}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.05
  done
}
