#!/bin/sh
# Inside the kernel VM (test/vm/kernel-lac.test.ts): l2tpd as LAC (namespace lac, kernel data plane) with its
# own PPP client dials xl2tpd + pppd as LNS (namespace lns, Debian's, kernel L2TP through the pppol2tp plugin).
# CHAP authenticates, IPCP gives our ppp interface the LNS's address, ping and 16 MiB TCP cross the kernel on
# both ends, and l2tpd's SIGTERM (StopCCN) leaves nothing of ours in the kernel.
. "$PROJECT/test/vm/lib.sh"
W=$OUT/lac
mkdir -p "$W" /run/xl2tpd /run/l2tpd
SOCK=/run/l2tpd/l2tpd.sock
CTL="$PROJECT/bin/l2tpctl --mgmt-socket $SOCK"
LNS_PPP=198.18.50.1
POOL_PREFIX=198.18.50.

netns_pair
neutralise_ppp_options

section "xl2tpd + pppd (LNS) in namespace lns"
xl2tpd_lns_conf "$W/lns.conf" "$LNS_ADDR" "${POOL_PREFIX}10-${POOL_PREFIX}20" "$LNS_PPP" "$W/options.lns" 'ppp debug = yes'
pppd_lns_options "$W/options.lns" 'lcp-echo-interval 1' 'lcp-echo-failure 3' debug "logfile $W/pppd-lns.log"
printf 'user1 lns s3cret *\n' > /etc/ppp/chap-secrets
chmod 600 /etc/ppp/chap-secrets
ip netns exec lns xl2tpd -D -c "$W/lns.conf" -p /run/xl2tpd/lns.pid -C /run/xl2tpd/lns.ctl > "$W/xl2tpd.log" 2>&1 &
XL2TPD=$!
wait_for 10 "xl2tpd listening" sh -c "ip netns exec lns ss -lun | grep -q '$LNS_ADDR:1701'"

section "l2tpd (LAC, kernel data plane, own PPP client) in namespace lac"
cat > "$W/l2tpd.yaml" <<EOF
system:
  listen: []
  dataplane: kernel
  mgmt_socket: $SOCK
  workers: 1
  log_level: debug
ppp_profiles:
  dialer:
    auth: [chap]
    user: user1
    password: s3cret
    mru: 1400
    lcp_echo_interval: 2s
    lcp_echo_failures: 3
session_profiles:
  dialer:
    pseudowire: ppp
    ppp_profile: dialer
tunnels:
  - name: to-lns
    peer: $LNS_ADDR:1701
    local: $LAC_ADDR
    persistent: true
    sessions:
      - name: s1
        type: lac_incoming
        session_profile: dialer
EOF
ip netns exec lac "$PROJECT/bin/l2tpd" --config "$W/l2tpd.yaml" > "$W/l2tpd.log" 2>&1 &
L2TPD=$!
DEV=$(wait_for_addr 60 lac "$POOL_PREFIX")
[ -n "$DEV" ] || fail "no PPP interface in lac"
ip -n lac -4 addr show dev "$DEV"
check "our interface has the LNS as its peer" sh -c "ip -n lac -4 addr show dev $DEV | grep -q 'peer $LNS_PPP'"
ip -n lac l2tp show tunnel
ip -n lac l2tp show session
check "a kernel L2TP session in lac (ours)" sh -c "ip -n lac l2tp show session | grep -q Session"
check "pppd at the LNS authenticated us with CHAP" grep -q "sent \[CHAP Success" "$W/pppd-lns.log"

section "data across both kernels"
check "ping the LNS" ip netns exec lac busybox ping -c 3 -W 2 "$LNS_PPP"
tcp_transfer lns lac "$LNS_PPP" 16777216 "$W/tcp.json"
$CTL show sessions

section "LCP echo both ways keeps it up"
sleep 6
check "still up" ip netns exec lac busybox ping -c 1 -W 2 "$LNS_PPP"

section "l2tpd stops (SIGTERM): StopCCN, and nothing of ours left in the kernel"
kill "$L2TPD"
wait "$L2TPD"
check "l2tpd exited cleanly" test $? -eq 0
check "no kernel tunnel in lac" sh -c "[ -z \"\$(ip -n lac l2tp show tunnel)\" ]"
check "no ppp interface in lac" sh -c "! ip -n lac link show | grep -q ppp"
# xl2tpd removes its kernel tunnel when our StopCCN arrives.
wait_for 20 "xl2tpd's kernel tunnel gone (it got our StopCCN)" sh -c "[ -z \"\$(ip -n lns l2tp show tunnel)\" ]"
kill "$XL2TPD"
wait "$XL2TPD" 2>/dev/null
echo "LAC-PPPD OK"
