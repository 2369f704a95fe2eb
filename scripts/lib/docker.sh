# shellcheck shell=bash
# What the docker deployment checks (scripts/test-docker, scripts/test-docker-payments,
# scripts/test-docker-postgres) and their provisioning (scripts/docker-provision) share. Source it
# after common.sh; it defines:
#   docker            Debian's client (another may come first in PATH)
#   docker_state_dir  where the checks keep state and logs: $CREBITO_DOCKER_STATE_DIR, else
#                     /var/tmp/crebito-docker
#   docker_answers    true when a dockerd answers
#   docker_check_open a check's opening (below)
#   docker_ports_free fails unless every port given is free on 127.0.0.1 (below)
#   compose_teardown, compose_down_volumes   a check's exit and its last step (below)
#   container_probe   a shell command printing a container's own limits (below)

docker=/usr/bin/docker # Debian's client, matching Debian's dockerd
# Build through the Docker SDK (classic builder), whatever docker CLI is on PATH.
export COMPOSE_DOCKER_CLI_BUILD=0 DOCKER_BUILDKIT=0

docker_state_dir=${CREBITO_DOCKER_STATE_DIR:-/var/tmp/crebito-docker}

docker_answers() { "$docker" info >/dev/null 2>&1; }

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

# docker_check_exit: the trap docker_check_open sets.
docker_check_exit() {
  local status=$?
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
