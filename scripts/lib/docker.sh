# shellcheck shell=bash
# What the docker deployment checks (scripts/test-docker, scripts/test-docker-payments,
# scripts/test-docker-postgres, scripts/test-docker-ha) and their provisioning
# (scripts/docker-provision) share. Source it after common.sh; it defines:
#   docker            Debian's client (another may come first in PATH)
#   docker_state_dir  where the checks keep state and logs: $CREBITO_DOCKER_STATE_DIR, else
#                     /var/tmp/crebito-docker
#   docker_answers    true when a dockerd answers
#   dockerd_wait_started  waits for a dockerd just started to answer, or dies saying why (below)
#   docker_check_open a check's opening (below)
#   docker_ports_free fails unless every port given is free on 127.0.0.1 (below)
#   compose_teardown, compose_down_volumes   a check's exit and its last step (below)
#   docker_integration_tests  the path of the integration tests, built when missing (below)
#   seconds_since     seconds since a `date +%s%N`, two decimals
#   container_probe   a shell command printing a container's own limits (below)

docker=/usr/bin/docker # Debian's client, matching Debian's dockerd
# Build through the Docker SDK (classic builder), whatever docker CLI is on PATH.
export COMPOSE_DOCKER_CLI_BUILD=0 DOCKER_BUILDKIT=0

docker_state_dir=${CREBITO_DOCKER_STATE_DIR:-/var/tmp/crebito-docker}

docker_answers() { "$docker" info >/dev/null 2>&1; }

# dockerd_wait_started NAME PID LOG TIMEOUT_S NOT_RUN CLIENT...: waits until `CLIENT... info`
# answers for the dockerd NAME just started as PID (its output in LOG). Dies with LOG's last lines
# and NOT_RUN (what the failure leaves untested) when PID exits first, or after TIMEOUT_S.
dockerd_wait_started() {
  local name=$1 pid=$2 log=$3 timeout_s=$4 not_run=$5
  shift 5
  local deadline=$((SECONDS + timeout_s))
  until "$@" info >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 15 "$log" >&2 || true
      die "$name exited at start: this machine cannot run it (log above, $log). $not_run"
    fi
    if [ $SECONDS -ge $deadline ]; then
      tail -n 15 "$log" >&2 || true
      die "$name did not answer within ${timeout_s}s (log above, $log). $not_run"
    fi
    sleep 0.5
  done
}

# docker_integration_tests: prints the path of build/tests/integration_tests when scripts/test has
# built it on this machine, else builds it aside in build-docker-test (build/ left alone) and
# prints that one's. The checks run its "[official]" cases against their deployment's port.
docker_integration_tests() {
  local tests="$CREBITO_ROOT/build/tests/integration_tests"
  local test_build="$CREBITO_ROOT/build-docker-test"
  if [ ! -x "$tests" ]; then
    say "building the integration tests in $test_build"
    cmake -S "$CREBITO_ROOT" -B "$test_build" -DCMAKE_BUILD_TYPE=Release >/dev/null || return 1
    cmake --build "$test_build" -j "$(nproc)" --target integration_tests >/dev/null || return 1
    tests="$test_build/tests/integration_tests"
  fi
  echo "$tests"
}

seconds_since() { awk -v ns=$(($(date +%s%N) - $1)) 'BEGIN { printf "%.2f", ns / 1e9 }'; }

# docker_check_open LOG PORT...: a deployment check's opening, the same for every one: makes
# $state_dir, sets stack_up=0 and failed=1, sets the exit trap (compose_teardown with LOG, then the
# caller's function docker_check_cleanup when it defines one, and the check's status), provisions
# docker (scripts/docker-provision start), fails when a PORT on 127.0.0.1 is taken, and takes down a
# stack left by an interrupted run with its volumes (the checks start from empty ones). Uses the
# caller's state_dir and compose=(docker-compose -p ... -f ...).
# shellcheck disable=SC2034 # stack_up and failed are the caller's
docker_check_open() {
  local port
  docker_check_log=$1
  shift
  mkdir -p "$state_dir"
  stack_up=0
  failed=1
  trap docker_check_exit EXIT
  "$CREBITO_ROOT/scripts/docker-provision" start "$state_dir"
  docker_ports_free "$@"
  "${compose[@]}" down -v >>"$docker_check_log" 2>&1 || true
}

# docker_ports_free PORT...: dies unless nothing listens on each PORT on 127.0.0.1. A check calls it
# at its opening and again right before `up`: the images take minutes to build, and a stack another
# process started meanwhile would answer the checks in the deployment's place.
docker_ports_free() {
  local port
  for port in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "port $port is already taken (a native stack or processor-sim? scripts/down stops a" \
        "stack); the deployment needs it"
    fi
  done
}

# docker_check_exit: the trap docker_check_open sets. Every part of the teardown runs even when an
# earlier one fails; the check's own status is kept.
docker_check_exit() {
  local status=$?
  set +e
  compose_teardown "$state_dir" "$docker_check_log"
  if declare -F docker_check_cleanup >/dev/null; then docker_check_cleanup; fi
  exit "$status"
}

# compose_teardown STATE_DIR LOG: a check's exit: when the stack is up (stack_up=1), prints each
# service's last log lines if the check failed (failed=1) and runs `down -v`; then stops the dockerd
# scripts/docker-provision started. Uses the caller's compose=(docker-compose -p ... -f ...).
# shellcheck disable=SC2154 # compose, stack_up and failed are the caller's
compose_teardown() {
  local state_dir=$1 log=$2
  if [ "$stack_up" -eq 1 ]; then
    if [ "$failed" -eq 1 ]; then
      say "the last lines of each service's log:"
      "${compose[@]}" logs --no-color --tail 30 >&2 || true
    fi
    say "docker-compose down -v"
    "${compose[@]}" down -v >>"$log" 2>&1 || true
  fi
  "$CREBITO_ROOT/scripts/docker-provision" stop "$state_dir"
}

# compose_down_volumes PROJECT LOG: `down -v` (then stack_up=0); no volume of PROJECT may be left.
compose_down_volumes() {
  local project=$1 log=$2 leftover
  say "docker-compose down -v: the volumes must go"
  "${compose[@]}" down -v >>"$log" 2>&1
  stack_up=0
  leftover=$("$docker" volume ls -q --filter "name=^${project}_")
  [ -z "$leftover" ] || die "docker-compose down -v left volumes behind: $leftover"
}

# container_probe: a shell command that prints "QUOTA_US PERIOD_US MEMORY_BYTES PEAK_BYTES UID CPUS"
# as a container sees its own cgroup (CPUS: the CPUs it may run on).
# shellcheck disable=SC2016,SC2034 # expanded inside the container; used by the checks
container_probe='
if [ -f /sys/fs/cgroup/cpu.max ]; then
  read quota period < /sys/fs/cgroup/cpu.max
  echo "$quota $period $(cat /sys/fs/cgroup/memory.max) $(cat /sys/fs/cgroup/memory.peak 2>/dev/null || echo 0) $(id -u)" \
       "$(cat /sys/fs/cgroup/cpuset.cpus.effective)"
else
  echo "$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)" \
       "$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes) $(cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes) $(id -u)" \
       "$(cat /sys/fs/cgroup/cpuset/cpuset.cpus)"
fi'
