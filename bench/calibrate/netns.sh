#!/bin/bash
# bench/calibrate/netns.sh up|down: the calibration's network namespaces (all named ascal-*).
#   ascal-a --veth ascal-a0/ascal-b0-- ascal-b            10.91.0.1 <-> 10.91.0.2     (UDP, TCP, ping)
#   ascal-a --ascal-a1/ascal-r0-- ascal-r --ascal-r1/ascal-b1-- ascal-b   10.91.1.0/24, 10.91.2.0/24 (ip_forward)
# GRO is on on every veth (veth then receives through NAPI, veth_poll → napi_gro_receive, as a NIC driver does).
set -e
case "$1" in
up)
  for n in a b r; do ip netns add ascal-$n; ip -n ascal-$n link set lo up; done
  ip link add ascal-a0 netns ascal-a type veth peer name ascal-b0 netns ascal-b
  ip link add ascal-a1 netns ascal-a type veth peer name ascal-r0 netns ascal-r
  ip link add ascal-r1 netns ascal-r type veth peer name ascal-b1 netns ascal-b
  ip -n ascal-a addr add 10.91.0.1/24 dev ascal-a0; ip -n ascal-b addr add 10.91.0.2/24 dev ascal-b0
  ip -n ascal-a addr add 10.91.1.1/24 dev ascal-a1; ip -n ascal-r addr add 10.91.1.2/24 dev ascal-r0
  ip -n ascal-r addr add 10.91.2.1/24 dev ascal-r1; ip -n ascal-b addr add 10.91.2.2/24 dev ascal-b1
  for d in a:ascal-a0 b:ascal-b0 a:ascal-a1 r:ascal-r0 r:ascal-r1 b:ascal-b1; do
    ip -n ascal-${d%%:*} link set ${d#*:} up
    # off then on: veth enables NAPI only when GRO is asked for (veth_set_features), not for the default "on"
    ip netns exec ascal-${d%%:*} ethtool -K ${d#*:} gro off
    ip netns exec ascal-${d%%:*} ethtool -K ${d#*:} gro on
  done
  ip -n ascal-a route add 10.91.2.0/24 via 10.91.1.2
  ip -n ascal-b route add 10.91.1.0/24 via 10.91.2.1
  ip netns exec ascal-r sysctl -qw net.ipv4.ip_forward=1
  ;;
down)
  for n in a b r; do ip netns del ascal-$n 2>/dev/null || true; done
  ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
