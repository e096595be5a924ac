#!/bin/sh
# Inside the kernel VM (test/vm/kernel-lns.test.ts): xl2tpd + pppd (a real LAC and PPP client, namespace lac)
# dial l2tpd (LNS, namespace lns, kernel data plane). PPP authenticates with $AUTH (pap|chap) against the local
# users file, IPCP hands the client an address from our pool, ping and a 16 MiB TCP transfer cross
# ppp <-> kernel L2TP (with sequence numbers), LCP echo keeps the link up, l2tpctl shows the kernel's counters, and teardown from the
# LAC and kill -9 of l2tpd leave no tunnel, session or ppp interface behind.
. "$PROJECT/test/vm/lib.sh"
AUTH=${AUTH:-chap}
W=$OUT/lns-$AUTH
mkdir -p "$W" /run/xl2tpd
LNS_PPP=198.18.100.1
POOL_PREFIX=198.18.100.
# Unix sockets cannot live on the 9p share: the management socket goes to the VM's tmpfs.
SOCK=/run/l2tpd/l2tpd.sock
mkdir -p /run/l2tpd
CTL="$PROJECT/bin/l2tpctl --mgmt-socket $SOCK"

netns_pair
neutralise_ppp_options

section "l2tpd (LNS, kernel data plane) in namespace lns"
printf 'user1 s3cret route=198.18.200.0/24\nidler s3cret idle-timeout=4\n' > "$W/users"
chmod 600 "$W/users"
cat > "$W/l2tpd.yaml" <<EOF
system:
  listen: ["$LNS_ADDR:1701"]
  dataplane: kernel
  mgmt_socket: $SOCK
  workers: 1
  log_level: debug
aaa:
  local_users: $W/users
ppp_profiles:
  default:
    auth: [$AUTH]
    aaa: local
    pool: subscribers
    local_address: $LNS_PPP
    mru: 1400
    lcp_echo_interval: 2s
    lcp_echo_failures: 3
session_profiles:
  default:
    sequencing: required
pools:
  subscribers:
    ipv4: ["${POOL_PREFIX}10-${POOL_PREFIX}20"]
EOF

start_l2tpd() {
  rm -f "$SOCK" # a killed l2tpd leaves its socket file
  ip netns exec lns "$PROJECT/bin/l2tpd" --config "$W/l2tpd.yaml" >> "$W/l2tpd.log" 2>&1 &
  L2TPD=$!
  wait_for 30 "l2tpd's management socket" test -S "$SOCK"
}
start_l2tpd
check "l2tpd runs the kernel data plane" grep -q '"dataplane":"kernel"' "$W/l2tpd.log"
$CTL status

section "xl2tpd + pppd (LAC, $AUTH) in namespace lac"
if [ "$AUTH" = chap ]; then XAUTH="refuse pap = yes"; else XAUTH="refuse chap = yes"; fi
xl2tpd_lac_conf "$W/lac.conf" "$LAC_ADDR" "$W/options.lac" user1 "lns1=$LNS_ADDR" -- "$XAUTH" 'ppp debug = yes'
pppd_client_options "$W/options.lac" user1 s3cret 'lcp-echo-interval 2' 'lcp-echo-failure 15' debug "logfile $W/pppd-lac.log"
[ "$AUTH" = pap ] && echo "refuse-chap" >> "$W/options.lac"
[ "$AUTH" = chap ] && echo "refuse-pap" >> "$W/options.lac"
printf 'user1 * s3cret *\n' > /etc/ppp/chap-secrets
printf 'user1 * s3cret *\n' > /etc/ppp/pap-secrets
chmod 600 /etc/ppp/chap-secrets /etc/ppp/pap-secrets

# The pppd of an xl2tpd we stopped may still be exiting; a new one must not race it (the reference recipe waits too).
no_pppd() {
  wait_for 20 "the previous pppd gone" sh -c "! busybox pidof pppd"
}
start_lac() {
  no_pppd
  ip netns exec lac xl2tpd -D -c "$W/lac.conf" -p /run/xl2tpd/lac.pid -C /run/xl2tpd/lac.ctl >> "$W/xl2tpd.log" 2>&1 &
  XL2TPD=$!
}
start_lac
DEV=$(wait_for_addr 40 lac "$POOL_PREFIX")
[ -n "$DEV" ] || fail "no PPP interface in lac"
ip -n lac -4 addr show dev "$DEV"
CLIENT=$(ip -n lac -o -4 addr show dev "$DEV" | sed -n 's/.*inet \([0-9.]*\).*/\1/p')
check "the client's address is from our pool" sh -c "echo $CLIENT | grep -q '^$POOL_PREFIX'"
check "the client sees our local address as its peer" sh -c "ip -n lac -4 addr show dev $DEV | grep -q 'peer $LNS_PPP'"

section "the kernel holds it"
ip -n lns l2tp show tunnel
ip -n lns l2tp show session
check "a kernel L2TP tunnel in lns" sh -c "ip -n lns l2tp show tunnel | grep -q 'Tunnel'"
check "a kernel L2TP session in lns" sh -c "ip -n lns l2tp show session | grep -q 'Session'"
# sequencing: required, set by SESSION_MODIFY on the session the PPPoL2TP connect made; the LAC's kernel follows.
wait_for 10 "our kernel session sends and requires sequence numbers" sh -c "ip -n lns l2tp show session | grep -q 'sequence numbering: send recv'"
ip -n lac l2tp show session
LNSDEV=$(ip -n lns -o -4 addr show | awk -v p="inet $LNS_PPP" 'index($0, p) { print $2; exit }')
[ -n "$LNSDEV" ] || fail "no ppp interface with $LNS_PPP in lns"
check "the LNS interface $LNSDEV has peer $CLIENT" sh -c "ip -n lns -4 addr show dev $LNSDEV | grep -q 'peer $CLIENT'"
ip -n lns route show 198.18.200.0/24
check "the user's Framed-Route (route=) points at its interface" sh -c "ip -n lns route show 198.18.200.0/24 | grep -q 'dev $LNSDEV'"

section "data across ppp <-> kernel L2TP"
check "ping the LNS through PPP" ip netns exec lac busybox ping -c 3 -W 2 "$LNS_PPP"
check "1300-byte ping" ip netns exec lac busybox ping -c 2 -W 2 -s 1300 "$LNS_PPP"
tcp_transfer lns lac "$LNS_PPP" 16777216 "$W/tcp.json"

section "l2tpctl shows the kernel's counters"
$CTL --json show sessions > "$W/sessions.json"
TID=$(node -e 'const s=require(process.argv[1]);console.log(s[0].tunnelId)' "$W/sessions.json")
SID=$(node -e 'const s=require(process.argv[1]);console.log(s[0].sessionId)' "$W/sessions.json")
$CTL show session "$TID" "$SID"
$CTL --json show session "$TID" "$SID" > "$W/session.json"
check "rx bytes cover the 16 MiB transfer" node -e '
const s = require(process.argv[1]);
const c = s.counters;
if (!c) { console.error("no counters"); process.exit(1); }
console.log(JSON.stringify(c));
process.exit(c.rxBytes >= 16777216 && c.rxPackets > 10000 && c.txPackets > 100 ? 0 : 1);' "$W/session.json"

section "a crashed shard worker comes back with the session, its kernel tunnel, session and ppp interface"
# pppd tolerates 30 s without echo replies (lcp-echo-failure 15): a worker restart under emulation takes ~12 s.
$CTL shard restart 0 --crash
wait_for 60 "the ppp interface made again in lns" sh -c "ip -n lns -o -4 addr show | grep -q 'inet $LNS_PPP peer $CLIENT'"
# The session made again cannot resume its sequence numbers (the LAC's kernel would discard them): it runs without.
check "ping through the restored session" ip netns exec lac busybox ping -c 3 -W 2 "$LNS_PPP"
check "the restored session sends no sequence numbers, and says so" grep -q "restored session runs without sequence numbers" "$W/l2tpd.log"
check "one kernel session, as before" test "$(ip -n lns l2tp show session | grep -c '^Session')" -eq 1

section "LCP echo keeps the link up (pppd asks every 2 s, we answer; we ask every 2 s)"
sleep 8
check "still up after 8 s of echoes" ip netns exec lac busybox ping -c 1 -W 2 "$LNS_PPP"
check "pppd saw our echo replies" grep -q "rcvd \[LCP EchoRep" "$W/pppd-lac.log"

section "teardown from the LAC leaves nothing in the kernel"
kill "$XL2TPD"
wait "$XL2TPD" 2>/dev/null
wait_for 20 "no kernel tunnel in lns" sh -c "[ -z \"\$(ip -n lns l2tp show tunnel)\" ]"
wait_for 10 "no ppp interface in lns" sh -c "! ip -n lns link show | grep -q ppp"
check "no kernel session in lns" sh -c "[ -z \"\$(ip -n lns l2tp show session)\" ]"

section "kill -9 of l2tpd leaves nothing either"
start_lac
wait_for_addr 40 lac "$POOL_PREFIX" > /dev/null
# Ready as in the first section: pppd's address alone is not enough. Our ppp interface comes up after IPCP (0.8 s
# after "ppp up" once in this TCG VM) and sequencing is switched on after that; a frame sent meanwhile is dropped.
wait_for 20 "the ppp interface made again in lns" sh -c "ip -n lns -o -4 addr show | grep -q 'inet $LNS_PPP peer'"
wait_for 10 "our kernel session sends and requires sequence numbers" sh -c "ip -n lns l2tp show session | grep -q 'sequence numbering: send recv'"
check "up again: ping" ip netns exec lac busybox ping -c 3 -W 2 "$LNS_PPP"
check "a tunnel in the kernel before the kill" sh -c "ip -n lns l2tp show tunnel | grep -q Tunnel"
kill -9 "$L2TPD"
wait "$L2TPD" 2>/dev/null
wait_for 10 "no kernel tunnel after kill -9" sh -c "[ -z \"\$(ip -n lns l2tp show tunnel)\" ]"
wait_for 10 "no ppp interface after kill -9" sh -c "! ip -n lns link show | grep -q ppp"
kill "$XL2TPD" 2>/dev/null
wait "$XL2TPD" 2>/dev/null

section "Idle-Timeout: pppd's LCP echoes every 2 s do not count as data (PPPIOCGIDLE)"
# A fresh l2tpd (the one before was killed with -9).
start_l2tpd
sed -e 's/^name user1$/name idler/' -e 's/^user user1$/user idler/' "$W/options.lac" > "$W/options.idler"
sed -e "s#pppoptfile = .*#pppoptfile = $W/options.idler#" -e 's/^name = user1$/name = idler/' "$W/lac.conf" > "$W/lac-idler.conf"
printf 'user1 * s3cret *\nidler * s3cret *\n' > /etc/ppp/chap-secrets
printf 'user1 * s3cret *\nidler * s3cret *\n' > /etc/ppp/pap-secrets
no_pppd
ip netns exec lac xl2tpd -D -c "$W/lac-idler.conf" -p /run/xl2tpd/lac.pid -C /run/xl2tpd/lac.ctl >> "$W/xl2tpd.log" 2>&1 &
XL2TPD=$!
wait_for_addr 40 lac "$POOL_PREFIX" > /dev/null
wait_for 20 "the idle subscriber disconnected by Idle-Timeout" grep -q "Idle-Timeout of 4 s reached" "$W/l2tpd.log"
wait_for 10 "its ppp interface gone" sh -c "! ip -n lns link show | grep -q ppp"
kill "$XL2TPD"
wait "$XL2TPD" 2>/dev/null

none_in() { [ "$($CTL --json show "$1" | json_length)" -eq 0 ]; }
section "an operator's ip l2tp del: l2tpd notices (l2tp multicast group) and tears down with CDN / StopCCN"
start_lac
wait_for_addr 40 lac "$POOL_PREFIX" > /dev/null
$CTL --json show sessions > "$W/sessions-del.json"
TID=$(node -e 'const s=require(process.argv[1]);console.log(s[0].tunnelId)' "$W/sessions-del.json")
SID=$(node -e 'const s=require(process.argv[1]);console.log(s[0].sessionId)' "$W/sessions-del.json")
check "delete the kernel session $TID/$SID behind l2tpd's back" ip -n lns l2tp del session tunnel_id "$TID" session_id "$SID"
wait_for 20 "l2tpd noticed the lost session" grep -q "kernel session deleted outside l2tpd: disconnecting it" "$W/l2tpd.log"
wait_for 20 "the session gone from l2tpd" none_in sessions
wait_for 20 "xl2tpd got the CDN: its pppd gone" sh -c "! busybox pidof pppd"
wait_for 10 "no ppp interface in lns" sh -c "! ip -n lns link show | grep -q ppp"
echo "c lns1" > /run/xl2tpd/lac.ctl
wait_for_addr 40 lac "$POOL_PREFIX" > /dev/null
TID=$(ip -n lns l2tp show tunnel | sed -n 's/^Tunnel \([0-9]*\),.*/\1/p' | head -n 1)
[ -n "$TID" ] || fail "no kernel tunnel to delete"
check "delete the kernel tunnel $TID behind l2tpd's back" ip -n lns l2tp del tunnel tunnel_id "$TID"
wait_for 20 "l2tpd noticed the lost tunnel" grep -q "kernel tunnel deleted outside l2tpd: closing it" "$W/l2tpd.log"
wait_for 20 "the tunnel gone from l2tpd" none_in tunnels
wait_for 20 "xl2tpd got the StopCCN: its pppd gone" sh -c "! busybox pidof pppd"
wait_for 10 "no ppp interface in lns" sh -c "! ip -n lns link show | grep -q ppp"
check "no kernel tunnel in lns" sh -c "[ -z \"\$(ip -n lns l2tp show tunnel)\" ]"
kill "$XL2TPD"
wait "$XL2TPD" 2>/dev/null
kill "$L2TPD"
wait "$L2TPD" 2>/dev/null

echo "LNS-PPPD OK ($AUTH)"
