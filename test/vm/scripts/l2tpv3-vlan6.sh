#!/bin/sh
# Inside the kernel VM (test/vm/kernel-l2tpv3-vlan6.test.ts): two l2tpd with the kernel data plane, an L2TPv3
# tunnel over UDP over IPv6 (addresses from 2001:2::/48, RFC 5180's benchmarking block), carrying an
# Ethernet-VLAN pseudowire (RFC 4719) from a configured session with a session profile of its own. Proves: the
# managed tunnel's socket is IPv6 in both kernels; the kernel has no ETH_VLAN pseudowire, so each side has an
# l2tpeth interface with a VLAN interface (id 100) on it, pe-b's in the bridge; the configured session takes its
# cookie length and Ethernet interface from its own profile, not the tunnel's; ping and TCP cross the tagged
# pseudowire; `l2tpctl tunnel delete` leaves no tunnel, session, l2tpeth or VLAN interface on either side.
. "$PROJECT/test/vm/lib.sh"
W=$OUT/vlan6
mkdir -p "$W" /run/l2tpd
SOCK_A=/run/l2tpd/pe-a.sock
SOCK_B=/run/l2tpd/pe-b.sock
CTL_A="$PROJECT/bin/l2tpctl --mgmt-socket $SOCK_A"
CTL_B="$PROJECT/bin/l2tpctl --mgmt-socket $SOCK_B"
A6=2001:2::1
B6=2001:2::2
VLAN_A=198.18.4.1
VLAN_B=198.18.4.2

netns_pair
section "IPv6 between the namespaces"
ip -n lac addr add "$A6/64" dev veth-lac nodad || fail "address $A6"
ip -n lns addr add "$B6/64" dev veth-lns nodad || fail "address $B6"
wait_for 10 "lac reaches $B6" ip netns exec lac busybox ping -6 -c 1 -W 1 "$B6"

section "a bridge in lns for pe-b's VLAN interface"
ip -n lns link add br-pw type bridge || fail "bridge br-pw"
ip -n lns addr add "$VLAN_B/24" dev br-pw && ip -n lns link set br-pw up || fail "br-pw up"

# pe-a's tunnel's default session profile is a plain Ethernet one with 8-octet cookies: its configured session
# names its own profile (Ethernet-VLAN, 4-octet cookies, interface pwv-a). pe-b answers with its default profile,
# which must be Ethernet-VLAN too (the pseudowire type is checked).
# config_head NAME ADDRESS SOCKET: what both configurations share.
config_head() {
  cat <<EOF
system:
  hostname: $1
  listen: ["[$2]:1701"]
  dataplane: kernel
  mgmt_socket: $3
  workers: 1
  log_level: debug
tunnel_profiles:
  default:
    version: 3
    auth_mode: challenge
    secret: pw-secret
    hello_interval: 5s
EOF
}
config_head pe-a "$A6" "$SOCK_A" > "$W/pe-a.yaml"
cat >> "$W/pe-a.yaml" <<EOF
session_profiles:
  default:
    pseudowire: ethernet
    ethernet_profile: plain
    cookie_length: 8
  vlanpw:
    pseudowire: ethernet_vlan
    ethernet_profile: vlan100
    cookie_length: 4
    l2_specific_sublayer: default
ethernet_profiles:
  plain:
    interface_name: wrong%d
  vlan100:
    interface_name: pwv-a
    vlan_id: 100
tunnels:
  - name: to-pe-b
    peer: "[$B6]:1701"
    local: $A6
    sessions:
      - name: vlan-pw
        type: lac_incoming
        session_profile: vlanpw
        remote_end_id: vlan100
EOF
config_head pe-b "$B6" "$SOCK_B" > "$W/pe-b.yaml"
cat >> "$W/pe-b.yaml" <<EOF
session_profiles:
  default:
    pseudowire: ethernet_vlan
    ethernet_profile: vlan100
    cookie_length: 4
    l2_specific_sublayer: default
ethernet_profiles:
  vlan100:
    interface_name: pwv-b
    vlan_id: 100
    bridge: br-pw
EOF

started() { # PID SOCKET LOG
  wait_for 90 "l2tpd $1 listening on $2 (or exiting)" sh -c "test -S $2 || ! kill -0 $1"
  kill -0 "$1" 2>/dev/null || { tail -n 20 "$3"; fail "l2tpd exited at start (see $3)"; }
}
ip netns exec lns "$PROJECT/bin/l2tpd" --config "$W/pe-b.yaml" > "$W/pe-b.log" 2>&1 &
L2TPD_B=$!
started "$L2TPD_B" "$SOCK_B" "$W/pe-b.log"
ip netns exec lac "$PROJECT/bin/l2tpd" --config "$W/pe-a.yaml" > "$W/pe-a.log" 2>&1 &
L2TPD_A=$!
started "$L2TPD_A" "$SOCK_A" "$W/pe-a.log"

section "the pseudowire and its VLAN interfaces"
link_up() { ip -n "$1" -o link show dev "$2" 2>/dev/null | grep -q '[<,]UP[,>]'; }
wait_for 60 "pwv-a.100 up in lac" link_up lac pwv-a.100
wait_for 20 "pwv-b.100 up in lns" link_up lns pwv-b.100
for ns in lac lns; do ip -n $ns l2tp show tunnel; ip -n $ns l2tp show session; ip -n $ns -d link show; done
check "pe-a's tunnel runs over IPv6" sh -c "ip -n lac l2tp show tunnel | grep -q 'From $A6 to $B6'"
check "pe-b's tunnel runs over IPv6" sh -c "ip -n lns l2tp show tunnel | grep -q 'From $B6 to $A6'"
check "pwv-a.100 is an 802.1Q VLAN 100 on pwv-a" sh -c "ip -n lac -d link show dev pwv-a.100 | grep -q 'vlan protocol 802.1Q id 100'"
check "pwv-a.100 sits on pwv-a" sh -c "ip -n lac -o link show dev pwv-a.100 | grep -q 'pwv-a.100@pwv-a'"
check "pwv-b.100 is in br-pw, pwv-b is not" sh -c "ip -n lns -o link show dev pwv-b.100 | grep -q 'master br-pw' && ! ip -n lns -o link show dev pwv-b | grep -q master"
check "no interface from the tunnel's default profile" sh -c "! ip -n lac -o link show | grep -q wrong"
B_CHECKS=$(ip -n lns l2tp show session | sed -n 's/.* peer cookie \([0-9a-f]*\).*/\1/p' | head -n 1)
A_SENDS=$(ip -n lac l2tp show session | sed -n 's/^ *cookie \([0-9a-f]*\).*/\1/p' | head -n 1)
A_CHECKS=$(ip -n lac l2tp show session | sed -n 's/.* peer cookie \([0-9a-f]*\).*/\1/p' | head -n 1)
echo "pe-a checks '$A_CHECKS' sends '$A_SENDS'; pe-b checks '$B_CHECKS'"
check "pe-a's session has its own profile's 4-octet cookie (not the tunnel's 8)" test "${#A_CHECKS}" -eq 8
check "pe-a sends the cookie pe-b checks" test "$A_SENDS" = "$B_CHECKS"

section "ping and TCP across the tagged pseudowire"
ip -n lac addr add "$VLAN_A/24" dev pwv-a.100 || fail "address on pwv-a.100"
wait_for 20 "ping across the VLAN pseudowire" ip netns exec lac busybox ping -c 1 -W 1 "$VLAN_B"
check "ping through VLAN 100" ip netns exec lac busybox ping -c 3 -W 2 "$VLAN_B"
tcp_transfer lns lac "$VLAN_B" 4194304 "$W/tcp.json"

section "l2tpctl tunnel delete: nothing left on either side (the VLAN interfaces go with their l2tpeth)"
TID=$($CTL_A --json show tunnels | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[0].tunnelId))')
$CTL_A tunnel delete "$TID" || fail "tunnel delete"
gone() { [ -z "$(ip -n "$1" l2tp show tunnel)" ] && [ -z "$(ip -n "$1" l2tp show session)" ] && ! ip -n "$1" -o link show | grep -q "$2"; }
wait_for 20 "nothing left in lac" gone lac pwv-a
wait_for 20 "nothing left in lns" gone lns pwv-b
kill "$L2TPD_A" "$L2TPD_B"
wait "$L2TPD_A" 2>/dev/null
wait "$L2TPD_B" 2>/dev/null
echo "L2TPV3-VLAN6 OK"
