#!/bin/sh
# Kernel VM smoke test (test/vm/kernel-smoke.test.ts): the kernel features the data plane needs are there and work.
. "$PROJECT/test/vm/lib.sh"

section "l2tp generic netlink family, from node with the netlink package"
check "node resolves the l2tp genl family" node "$PROJECT/test/vm/scripts/l2tp-genl-family.ts"

section "/dev/ppp"
check "/dev/ppp is a character device" test -c /dev/ppp

section "L2TPv3 Ethernet pseudowire (ip l2tp, UDP encapsulation) between two namespaces"
netns_pair
ip -n lac l2tp add tunnel tunnel_id 1 peer_tunnel_id 2 encap udp local "$LAC_ADDR" remote "$LNS_ADDR" udp_sport 1701 udp_dport 1701 || fail "tunnel in lac"
ip -n lac l2tp add session name pw-lac tunnel_id 1 session_id 10 peer_session_id 20 || fail "session in lac"
ip -n lns l2tp add tunnel tunnel_id 2 peer_tunnel_id 1 encap udp local "$LNS_ADDR" remote "$LAC_ADDR" udp_sport 1701 udp_dport 1701 || fail "tunnel in lns"
ip -n lns l2tp add session name pw-lns tunnel_id 2 session_id 20 peer_session_id 10 || fail "session in lns"
ip -n lac addr add 198.18.2.1/24 dev pw-lac && ip -n lac link set pw-lac up || fail "pw-lac up"
ip -n lns addr add 198.18.2.2/24 dev pw-lns && ip -n lns link set pw-lns up || fail "pw-lns up"
ip -n lac l2tp show tunnel; ip -n lac l2tp show session
check "ping through the pseudowire" ip netns exec lac busybox ping -c 3 -W 2 198.18.2.2
check "1400-byte ping through the pseudowire" ip netns exec lac busybox ping -c 2 -W 2 -s 1400 198.18.2.2
ip -n lac -s link show pw-lac > "$OUT/pw-lac-stats.txt"

section "done"
echo "SMOKE OK"
