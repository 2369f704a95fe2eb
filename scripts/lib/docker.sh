# What the docker checks (scripts/test-docker, scripts/test-docker-payments) share: Debian's docker,
# a dockerd without bridge or iptables, and the base image built offline. Source it after
# common.sh; it defines:
#   docker                       Debian's client (another may come first in PATH)
#   docker_answers               true when a dockerd answers
#   docker_prepare STATE_DIR     installs docker.io, docker-compose, debootstrap (as root); starts a
#                                dockerd when none answers (--storage-driver=vfs --bridge=none
#                                --iptables=false: no bridge, no private-range network), and sets
#                                started_dockerd_pid to its pid (empty when one was running); builds
#                                debian:bookworm-slim with debootstrap when it is absent (no image
#                                registry is reachable here). A machine that cannot run dockerd
#                                fails with a message saying so.
#   stop_dockerd PID             stops the dockerd docker_prepare started: TERM, then KILL.
# A dockerd left by an interrupted run (its pid in STATE_DIR/dockerd.pid) is taken over, so the
# caller stops it at the end.

docker=/usr/bin/docker # Debian's client, matching Debian's dockerd
dockerd_start_timeout_s=60
dockerd_stop_timeout_s=30
started_dockerd_pid=
# Build through the Docker SDK (classic builder), whatever docker CLI is on PATH.
export COMPOSE_DOCKER_CLI_BUILD=0 DOCKER_BUILDKIT=0

docker_answers() { "$docker" info >/dev/null 2>&1; }

# stop_dockerd PID: the dockerd docker_prepare started; TERM, then KILL after a timeout.
stop_dockerd() {
  local pid=$1 state_dir=${2:-}
  if pid_is "$pid" "$(command -v dockerd)"; then
    say "stopping dockerd (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + dockerd_stop_timeout_s))
    while pid_is "$pid" "$(command -v dockerd)"; do
      if [ $SECONDS -ge $deadline ]; then
        say "dockerd (pid $pid) did not stop within ${dockerd_stop_timeout_s}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.2
    done
  fi
  [ -z "$state_dir" ] || rm -f "$state_dir/dockerd.pid"
}

docker_prepare() {
  local state_dir=$1
  mkdir -p "$state_dir"
  # ---- packages
  if [ "$(id -u)" -ne 0 ] && ! { [ -x "$docker" ] && docker_answers; }; then
    die "$(basename "$0") needs root (to install docker.io and start dockerd) or a running dockerd it may use"
  fi
  ensure_packages docker.io docker-compose debootstrap curl python3-yaml

  # ---- dockerd
  if [ -f "$state_dir/dockerd.pid" ] && pid_is "$(cat "$state_dir/dockerd.pid")" "$(command -v dockerd)"; then
    started_dockerd_pid=$(cat "$state_dir/dockerd.pid")
  fi
  if docker_answers; then
    say "using the running dockerd$([ -n "$started_dockerd_pid" ] && echo " (pid $started_dockerd_pid, left by an earlier run)")"
  else
    say "starting dockerd (vfs storage, no bridge, no iptables); log $state_dir/dockerd.log"
    dockerd --storage-driver=vfs --bridge=none --iptables=false >"$state_dir/dockerd.log" 2>&1 &
    started_dockerd_pid=$!
    echo "$started_dockerd_pid" >"$state_dir/dockerd.pid"
    local deadline=$((SECONDS + dockerd_start_timeout_s))
    until docker_answers; do
      if ! kill -0 "$started_dockerd_pid" 2>/dev/null; then
        started_dockerd_pid=
        rm -f "$state_dir/dockerd.pid"
        tail -n 15 "$state_dir/dockerd.log" >&2 || true
        die "this machine cannot run dockerd (it exited at start; log above, $state_dir/dockerd.log)." \
          "The docker deployment was NOT tested."
      fi
      if [ $SECONDS -ge $deadline ]; then
        tail -n 15 "$state_dir/dockerd.log" >&2 || true
        die "dockerd did not answer within ${dockerd_start_timeout_s}s (log above). The docker deployment was NOT tested."
      fi
      sleep 0.5
    done
  fi

  # ---- the base image
  "$docker" image inspect debian:bookworm-slim >/dev/null 2>&1 && return 0
  # The mirror apt already uses on this machine: the first URIs of the deb822 file, else the first
  # `deb` line, else Debian's own redirector.
  local mirror rootfs="$state_dir/rootfs"
  mirror=$(awk '$1 == "URIs:" { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
  say "building the base image debian:bookworm-slim with debootstrap from $mirror (about a minute)"
  rm -rf "$rootfs"
  if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$state_dir/debootstrap.log" 2>&1; then
    tail -n 15 "$state_dir/debootstrap.log" >&2
    die "debootstrap failed (log above, $state_dir/debootstrap.log)"
  fi
  # Inside the image apt uses the same sources as this machine (security updates included), and,
  # like the official slim image, installs no documentation and keeps no package caches.
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    rm -f "$rootfs/etc/apt/sources.list"
    cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/"
  fi
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
SLIM
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | "$docker" import - debian:bookworm-slim >/dev/null
  rm -rf "$rootfs"
}

# container_probe: a shell command that prints "QUOTA_US PERIOD_US MEMORY_BYTES PEAK_BYTES UID CPUS"
# as a container sees its own cgroup (CPUS: the CPUs it may run on).
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
