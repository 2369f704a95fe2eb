# shellcheck shell=bash
# Simulated hosts on one machine, for scripts/ha: each host is a network namespace of its own
# (ip netns, iproute2), joined to the others through a bridge that lives in one more namespace of
# the same stack (the "switch"). Every address is in NETNS_SUBNET, which exists only inside these
# namespaces: the host namespace gets no address, no route and no interface, so nothing here can
# reach any other network, and nothing outside reaches in. Processes in the host namespace talk to
# the hosts only through unix sockets in the file system (which namespaces do not separate).
#
#   netns_supported                    true when this machine lets us create a namespace (root,
#                                      iproute2, a kernel with network namespaces); else false and
#                                      the reason in NETNS_UNSUPPORTED
#   netns_switch_create PREFIX         the switch: namespace PREFIX-net with bridge br0
#   netns_host_create PREFIX NAME IP   namespace PREFIX-NAME with lo and eth0 (IP/24), its other end
#                                      p-NAME on the switch's bridge
#   netns_cut PREFIX NAME              the host's cable pulled: p-NAME down on the switch (eth0
#                                      loses its carrier; packets to and from it are dropped)
#   netns_heal PREFIX NAME             the cable back: p-NAME up
#   netns_delete NAME...               deletes exactly these namespaces (their interfaces go with
#                                      them); a name not present is skipped
#
# Source it after scripts/lib/common.sh. Namespace names are recorded by the caller, which deletes
# exactly those on stop; nothing is looked up by pattern.

NETNS_SUBNET_PREFIX=10.231.0  # /24, only inside the namespaces of one stack
NETNS_UNSUPPORTED=""

netns_supported() {
  if [ "$(id -u)" -ne 0 ]; then
    NETNS_UNSUPPORTED="network namespaces need root (ip netns add)"
    return 1
  fi
  if ! command -v ip >/dev/null; then
    NETNS_UNSUPPORTED="no ip command (iproute2)"
    return 1
  fi
  local probe="crebito-probe-$$"
  if ! ip netns add "$probe" 2>/dev/null; then
    NETNS_UNSUPPORTED="this machine refuses to create a network namespace (ip netns add $probe failed)"
    return 1
  fi
  if ! ip -n "$probe" link add probe0 type veth peer name probe1 2>/dev/null; then
    ip netns delete "$probe" 2>/dev/null || true
    NETNS_UNSUPPORTED="this machine refuses to create a veth pair inside a namespace"
    return 1
  fi
  ip netns delete "$probe"
}

netns_switch_create() {
  local prefix=$1 ns="$1-net"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" link add br0 type bridge
  ip -n "$ns" link set br0 up
}

netns_host_create() {
  local prefix=$1 name=$2 ip=$3
  local ns="$prefix-$name" switch="$prefix-net"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  # Both ends are born inside our namespaces: the host namespace never holds either.
  ip -n "$switch" link add "p-$name" type veth peer name eth0 netns "$ns"
  ip -n "$switch" link set "p-$name" master br0
  ip -n "$switch" link set "p-$name" up
  ip -n "$ns" addr add "$ip/24" dev eth0
  ip -n "$ns" link set eth0 up
}

netns_cut() { ip -n "$1-net" link set "p-$2" down; }
netns_heal() { ip -n "$1-net" link set "p-$2" up; }

netns_delete() {
  local ns
  for ns in "$@"; do
    if ip netns list | awk '{ print $1 }' | grep -qxF "$ns"; then
      ip netns delete "$ns"
    fi
  done
}
