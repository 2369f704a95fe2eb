#!/usr/bin/env bash
# The resource limits docker-compose.yml declares, applied to native processes through cgroups,
# so that a benchmark of the native stack runs under the same budget as the challenge's containers.
#
# docker-compose.yml is the single source of truth: `deploy.resources.limits.cpus` becomes a CFS
# quota per 100 ms period and `deploy.resources.limits.memory` a hard memory limit, exactly as
# docker applies them (memory units are binary, as in docker: 50MB = 50 MiB), and a service's
# `cpuset` pins it to those CPUs through the cpuset controller, as docker does.
#
# Source it and call:
#   limits_apply SERVICE PID...   put the pids in the group crebito/SERVICE with SERVICE's limits
#   limits_apply --share N GROUP PID...
#                                 put the pids in the group crebito/GROUP with one Nth of what the
#                                 compose file gives its API instances together (the services named
#                                 apiNN: their CPUs and memory summed, and their cpuset when they
#                                 all have the same one), so that N instances, whatever N, have the
#                                 compose file's total between them
#   limits_report                 print each group's limits, peak memory and CPU throttling
#   limits_release                print the report, then remove the groups (after the processes
#                                 have stopped; a process still inside is moved back to the root)
# or run it: `scripts/lib/limits.sh report|release|show SERVICE|show-share N`.
#
# Reading a compose file needs python3 and python3-yaml (scripts/setup limits installs them).
# Applying limits needs root and a writable cgroup hierarchy: v1 (/sys/fs/cgroup/cpu and
# /sys/fs/cgroup/memory, and /sys/fs/cgroup/cpuset for a pinned service) or v2
# (/sys/fs/cgroup/cgroup.controllers); fails with a clear message otherwise.
# Environment: CREBITO_COMPOSE_FILE (default: docker-compose.yml at the repository root),
# CREBITO_CGROUP_NAME (default crebito: the parent group of the per-service groups).

LIMITS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LIMITS_COMPOSE_FILE=${CREBITO_COMPOSE_FILE:-$LIMITS_ROOT/docker-compose.yml}
LIMITS_GROUP=${CREBITO_CGROUP_NAME:-crebito}
LIMITS_CFS_PERIOD_US=100000 # docker's period; a quota of `cpus` CPUs is cpus * period per period
LIMITS_CGROUP_FS=/sys/fs/cgroup

limits_error() { printf 'error: limits: %s\n' "$*" >&2; }
limits_say() { printf '==> %s\n' "$*" >&2; }

# limits_cgroup_version: prints 1 or 2 for the hierarchy that can hold cpu and memory limits,
# nothing (and returns 1) when there is none.
limits_cgroup_version() {
  if [ -f "$LIMITS_CGROUP_FS/cgroup.controllers" ]; then
    echo 2
  elif [ -f "$LIMITS_CGROUP_FS/cpu/cpu.cfs_quota_us" ] &&
    [ -f "$LIMITS_CGROUP_FS/memory/memory.limit_in_bytes" ]; then
    echo 1
  else
    return 1
  fi
}

# limits_read SERVICE: prints "QUOTA_US PERIOD_US MEMORY_BYTES CPUSET" for SERVICE from the compose
# file; CPUSET is the service's `cpuset` (the CPUs it may run on, e.g. "1" or "0-1"), or "-".
# limits_read --share N: the same for one of N instances sharing the API services' total.
limits_read() {
  local service=$1 share=0
  if [ "$service" = --share ]; then
    share=${2:-}
    if ! [[ $share =~ ^[0-9]+$ ]] || [ "$share" -lt 1 ]; then
      limits_error "--share needs a number of instances, not '$share'"
      return 1
    fi
    service=
  fi
  [ -f "$LIMITS_COMPOSE_FILE" ] || { limits_error "no compose file at $LIMITS_COMPOSE_FILE"; return 1; }
  # Reading only: scripts/setup limits installs python3-yaml.
  if ! python3 -c 'import yaml' 2>/dev/null; then
    limits_error "reading $LIMITS_COMPOSE_FILE needs python3-yaml; run: scripts/setup limits"
    return 1
  fi
  python3 - "$LIMITS_COMPOSE_FILE" "$service" "$LIMITS_CFS_PERIOD_US" "$share" <<'PY'
import re, sys, yaml

path, service, period_us, share = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with open(path) as f:
    services = (yaml.safe_load(f) or {}).get("services") or {}

def read(service):
    """(CPUs, memory in bytes, cpuset or "-") of one service."""
    if service not in services:
        sys.exit(f"error: limits: no service '{service}' in {path} (have: {', '.join(services)})")
    try:
        limits = services[service]["deploy"]["resources"]["limits"]
        cpus, memory = str(limits["cpus"]), str(limits["memory"])
    except (KeyError, TypeError):
        sys.exit(f"error: limits: {path}: service '{service}' has no deploy.resources.limits.cpus/memory")
    # The same grammar and binary units as docker's RAMInBytes (github.com/docker/go-units).
    m = re.fullmatch(r"(\d+(?:\.\d+)?) ?([kKmMgGtT])?[iI]?[bB]?", memory.strip())
    if not m:
        sys.exit(f"error: limits: {path}: service '{service}': cannot read memory '{memory}'")
    memory_bytes = int(float(m.group(1)) * 1024 ** " KMGT".index((m.group(2) or " ").upper()))
    cpuset = str(services[service].get("cpuset", "-")).strip()
    if cpuset != "-" and not re.fullmatch(r"\d+(-\d+)?(,\d+(-\d+)?)*", cpuset):
        sys.exit(f"error: limits: {path}: service '{service}': cannot read cpuset '{cpuset}'")
    return float(cpus), memory_bytes, cpuset

if share:
    # One of `share` instances: the API services' CPUs and memory summed, divided evenly.
    apis = sorted(name for name in services if re.fullmatch(r"api\d+", name))
    if not apis:
        sys.exit(f"error: limits: {path}: no API services (named apiNN) to share")
    each = [read(name) for name in apis]
    cpus = sum(c for c, _, _ in each) / share
    memory_bytes = sum(m for _, m, _ in each) // share
    cpuset = each[0][2] if len({s for _, _, s in each}) == 1 else "-"
    what = f"one of {share} instances sharing {'+'.join(apis)}"
else:
    cpus, memory_bytes, cpuset = read(service)
    what = f"service '{service}'"
quota_us = round(cpus * period_us)
if quota_us < 1000 or memory_bytes < 4 * 1024 * 1024:
    sys.exit(f"error: limits: {path}: {what}: limits too small ({cpus:g} CPUs, {memory_bytes} bytes)")
print(quota_us, period_us, memory_bytes, cpuset)
PY
}

# limits_write FILE VALUE: writes a cgroup control file, with the file named in the error.
limits_write() {
  if ! printf '%s\n' "$2" >"$1" 2>/dev/null; then
    limits_error "cannot write '$2' to $1"
    return 1
  fi
}

# limits_mkdir DIR: creates a group directory, or explains why it cannot.
limits_mkdir() {
  if ! mkdir -p "$1" 2>/dev/null; then
    limits_error "cannot create the cgroup $1; applying limits needs root and a writable cgroup" \
      "hierarchy (v1 cpu+memory or v2); run as root, or run the stack without --limits"
    return 1
  fi
}

limits_apply() {
  local read_args=()
  if [ "${1:-}" = --share ]; then
    read_args=(--share "${2:-}")
    shift 2 || true
  fi
  if [ $# -lt 2 ]; then
    limits_error "usage: limits_apply [--share N] SERVICE PID..."
    return 1
  fi
  local service=$1
  shift
  [ ${#read_args[@]} -gt 0 ] || read_args=("$service")
  local version values quota_us period_us memory_bytes cpuset pid
  if ! version=$(limits_cgroup_version); then
    limits_error "no cgroup hierarchy with cpu and memory controllers under $LIMITS_CGROUP_FS" \
      "(neither v1 cpu/ + memory/ nor v2 cgroup.controllers)"
    return 1
  fi
  values=$(limits_read "${read_args[@]}") || return 1
  read -r quota_us period_us memory_bytes cpuset <<<"$values"
  if [ "$cpuset" != - ] && ! limits_cpuset_online "$cpuset"; then
    limits_error "$service: $(basename "$LIMITS_COMPOSE_FILE") pins it to CPUs $cpuset, but this" \
      "machine has CPUs $(cat /sys/devices/system/cpu/online) online"
    return 1
  fi

  if [ "$version" = 1 ]; then
    local cpu_dir=$LIMITS_CGROUP_FS/cpu/$LIMITS_GROUP/$service
    local memory_dir=$LIMITS_CGROUP_FS/memory/$LIMITS_GROUP/$service
    local cpuset_dir=$LIMITS_CGROUP_FS/cpuset/$LIMITS_GROUP/$service
    limits_mkdir "$cpu_dir" || return 1
    limits_mkdir "$memory_dir" || return 1
    limits_write "$cpu_dir/cpu.cfs_period_us" "$period_us" || return 1
    limits_write "$cpu_dir/cpu.cfs_quota_us" "$quota_us" || return 1
    limits_write "$memory_dir/memory.limit_in_bytes" "$memory_bytes" || return 1
    # Charge the pages a process already touched to its new group; a fresh peak per stack start.
    printf '1\n' >"$memory_dir/memory.move_charge_at_immigrate" 2>/dev/null || true
    printf '0\n' >"$memory_dir/memory.max_usage_in_bytes" 2>/dev/null || true
    if [ "$cpuset" != - ]; then
      limits_mkdir "$cpuset_dir" || return 1
      # A v1 cpuset group starts empty and must be given memory nodes as well as CPUs.
      limits_write "$LIMITS_CGROUP_FS/cpuset/$LIMITS_GROUP/cpuset.cpus" \
        "$(cat "$LIMITS_CGROUP_FS/cpuset/cpuset.cpus")" || return 1
      limits_write "$LIMITS_CGROUP_FS/cpuset/$LIMITS_GROUP/cpuset.mems" \
        "$(cat "$LIMITS_CGROUP_FS/cpuset/cpuset.mems")" || return 1
      limits_write "$cpuset_dir/cpuset.cpus" "$cpuset" || return 1
      limits_write "$cpuset_dir/cpuset.mems" "$(cat "$LIMITS_CGROUP_FS/cpuset/cpuset.mems")" || return 1
    fi
    for pid in "$@"; do
      limits_write "$cpu_dir/cgroup.procs" "$pid" || return 1
      limits_write "$memory_dir/cgroup.procs" "$pid" || return 1
      if [ "$cpuset" != - ]; then limits_write "$cpuset_dir/cgroup.procs" "$pid" || return 1; fi
    done
  else
    local parent=$LIMITS_CGROUP_FS/$LIMITS_GROUP
    local dir=$parent/$service
    local controllers="+cpu +memory"
    [ "$cpuset" = - ] || controllers="$controllers +cpuset"
    limits_mkdir "$parent" || return 1
    # v2 only offers a controller to a group whose parent enables it for its children.
    limits_write "$LIMITS_CGROUP_FS/cgroup.subtree_control" "$controllers" || return 1
    limits_write "$parent/cgroup.subtree_control" "$controllers" || return 1
    limits_mkdir "$dir" || return 1
    limits_write "$dir/cpu.max" "$quota_us $period_us" || return 1
    limits_write "$dir/memory.max" "$memory_bytes" || return 1
    if [ "$cpuset" != - ]; then limits_write "$dir/cpuset.cpus" "$cpuset" || return 1; fi
    for pid in "$@"; do
      limits_write "$dir/cgroup.procs" "$pid" || return 1
    done
  fi
  local pinned="" shared=""
  [ "$cpuset" = - ] || pinned=" on CPU $cpuset"
  [ "${read_args[0]}" != --share ] || shared=", 1/${read_args[1]} of the API instances' total"
  limits_say "limits: $service (pid $*): $(limits_cpus "$quota_us" "$period_us") CPU$pinned," \
    "$((memory_bytes / 1048576)) MiB ($(basename "$LIMITS_COMPOSE_FILE")$shared; cgroup v$version," \
    "group $LIMITS_GROUP/$service)"
}

# limits_cpuset_online CPUSET: true when every CPU of CPUSET ("1", "0-1", "0,2") is online here.
limits_cpuset_online() {
  python3 - "$1" "$(cat /sys/devices/system/cpu/online)" <<'PY'
import sys
def cpus(text):
    out = set()
    for part in text.strip().split(","):
        low, _, high = part.partition("-")
        out.update(range(int(low), int(high or low) + 1))
    return out
sys.exit(0 if cpus(sys.argv[1]) <= cpus(sys.argv[2]) else 1)
PY
}

# limits_cpus QUOTA PERIOD: "0.6" from 60000 100000.
limits_cpus() { awk -v q="$1" -v p="$2" 'BEGIN { printf "%g", q / p }'; }

# limits_services: the service groups that exist now, one per line.
limits_services() {
  local version base
  version=$(limits_cgroup_version) || return 0
  if [ "$version" = 1 ]; then base=$LIMITS_CGROUP_FS/memory/$LIMITS_GROUP; else base=$LIMITS_CGROUP_FS/$LIMITS_GROUP; fi
  [ -d "$base" ] || return 0
  find "$base" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort
}

# limits_report: one line per group: limits (and CPUs, when pinned), memory now and at peak, CPU
# throttling.
limits_report() {
  local version service mib='{ printf "%.1f", $1 / 1048576 }'
  version=$(limits_cgroup_version) || { limits_say "limits: no cgroup hierarchy"; return 0; }
  local services
  services=$(limits_services)
  if [ -z "$services" ]; then
    limits_say "limits: no groups under $LIMITS_GROUP/"
    return 0
  fi
  for service in $services; do
    local limit now peak quota period periods throttled throttled_ms cpus=""
    if [ "$version" = 1 ]; then
      local cpuset_dir=$LIMITS_CGROUP_FS/cpuset/$LIMITS_GROUP/$service
      [ -f "$cpuset_dir/cpuset.cpus" ] && cpus=$(cat "$cpuset_dir/cpuset.cpus")
      local cpu_dir=$LIMITS_CGROUP_FS/cpu/$LIMITS_GROUP/$service
      local memory_dir=$LIMITS_CGROUP_FS/memory/$LIMITS_GROUP/$service
      limit=$(cat "$memory_dir/memory.limit_in_bytes")
      now=$(cat "$memory_dir/memory.usage_in_bytes")
      peak=$(cat "$memory_dir/memory.max_usage_in_bytes")
      quota=$(cat "$cpu_dir/cpu.cfs_quota_us")
      period=$(cat "$cpu_dir/cpu.cfs_period_us")
      periods=$(awk '$1 == "nr_periods" { print $2 }' "$cpu_dir/cpu.stat")
      throttled=$(awk '$1 == "nr_throttled" { print $2 }' "$cpu_dir/cpu.stat")
      throttled_ms=$(awk '$1 == "throttled_time" { print int($2 / 1000000) }' "$cpu_dir/cpu.stat")
    else
      local dir=$LIMITS_CGROUP_FS/$LIMITS_GROUP/$service
      [ -f "$dir/cpuset.cpus" ] && cpus=$(cat "$dir/cpuset.cpus")
      limit=$(cat "$dir/memory.max")
      now=$(cat "$dir/memory.current")
      peak=$(cat "$dir/memory.peak" 2>/dev/null || echo 0) # memory.peak needs Linux >= 5.19
      read -r quota period <"$dir/cpu.max"
      periods=$(awk '$1 == "nr_periods" { print $2 }' "$dir/cpu.stat")
      throttled=$(awk '$1 == "nr_throttled" { print $2 }' "$dir/cpu.stat")
      throttled_ms=$(awk '$1 == "throttled_usec" { print int($2 / 1000) }' "$dir/cpu.stat")
    fi
    [ -z "$cpus" ] || cpus=" on CPU $cpus"
    printf '%-8s cpu %s%s (throttled in %s of %s periods, %s ms)  memory peak %s MiB, now %s MiB, limit %s MiB\n' \
      "$service" "$(limits_cpus "$quota" "$period")" "$cpus" "$throttled" "$periods" "$throttled_ms" \
      "$(awk "$mib" <<<"$peak")" "$(awk "$mib" <<<"$now")" "$(awk "$mib" <<<"$limit")"
  done
}

# limits_release: reports, then removes the groups. A process still inside is moved back to the
# root group rather than stopped: stopping processes is the caller's business.
limits_release() {
  local version service services dir pid
  version=$(limits_cgroup_version) || return 0
  services=$(limits_services)
  [ -n "$services" ] || return 0
  limits_report >&2
  local bases
  if [ "$version" = 1 ]; then
    bases="$LIMITS_CGROUP_FS/cpu $LIMITS_CGROUP_FS/memory $LIMITS_CGROUP_FS/cpuset"
  else
    bases=$LIMITS_CGROUP_FS
  fi
  local base
  for base in $bases; do
    [ -d "$base/$LIMITS_GROUP" ] || continue
    for dir in "$base/$LIMITS_GROUP"/*/; do
      [ -d "$dir" ] || continue
      while read -r pid; do
        [ -n "$pid" ] && printf '%s\n' "$pid" >"$base/cgroup.procs" 2>/dev/null || true
      done <"$dir/cgroup.procs"
      rmdir "$dir" 2>/dev/null || limits_error "could not remove the cgroup $dir"
    done
    rmdir "$base/$LIMITS_GROUP" 2>/dev/null || limits_error "could not remove the cgroup $base/$LIMITS_GROUP"
  done
  limits_say "limits: released the groups under $LIMITS_GROUP/"
}

# Run as a script: scripts/lib/limits.sh report | release | show SERVICE | show-share N |
#                  apply [--share N] SERVICE PID...
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  source "$LIMITS_ROOT/scripts/lib/common.sh"
  answer_help "$@"
  case "${1:-}" in
    report) limits_report ;;
    release) limits_release ;;
    show)
      [ $# -eq 2 ] || { limits_error "usage: $0 show SERVICE"; exit 2; }
      values=$(limits_read "$2") || exit 1
      read -r q p m c <<<"$values"
      pinned=""
      [ "$c" = - ] || pinned=", on CPU $c"
      echo "$2: $(limits_cpus "$q" "$p") CPU (quota ${q} us per ${p} us)$pinned, memory $m bytes"
      ;;
    show-share)
      [ $# -eq 2 ] || { limits_error "usage: $0 show-share N"; exit 2; }
      values=$(limits_read --share "$2") || exit 1
      read -r q p m c <<<"$values"
      pinned=""
      [ "$c" = - ] || pinned=", on CPU $c"
      echo "each of $2 instances: $(limits_cpus "$q" "$p") CPU (quota ${q} us per ${p} us)$pinned, memory $m bytes"
      ;;
    apply) shift; limits_apply "$@" ;;
    *)
      echo "usage: $0 report | release | show SERVICE | show-share N | apply [--share N] SERVICE PID..." >&2
      exit 2
      ;;
  esac
fi
