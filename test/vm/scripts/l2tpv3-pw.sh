#!/bin/sh
# Inside the kernel VM (test/vm/kernel-l2tpv3.test.ts): two l2tpd with the kernel data plane build an L2TPv3
# Ethernet pseudowire, over UDP or IP ($ENCAP: udp|ip). pe-a (namespace lac) has a configured persistent tunnel and
# a lac_incoming session toward pe-b (namespace lns). Proves: the l2tpeth interfaces get their configured names, are
# up with the configured MTU, pe-b's joins the configured bridge; the kernel sessions hold the cookies (8 octets
# from pe-a, 4 from pe-b), the default L2-specific sublayer and sequencing; ping and 16 MiB of TCP cross; SIGTERM of
# one side, `l2tpctl tunnel delete` and kill -9 leave no tunnel, session or l2tpeth behind; the persistent tunnel
# comes back by itself when its peer returns.
. "$PROJECT/test/vm/lib.sh"
ENCAP=${ENCAP:-udp}
W=$OUT/l2tpv3-$ENCAP
mkdir -p "$W" /run/l2tpd
# Unix sockets cannot live on the 9p share: the management sockets go to the VM's tmpfs.
SOCK_A=/run/l2tpd/pe-a.sock
SOCK_B=/run/l2tpd/pe-b.sock
CTL_A="$PROJECT/bin/l2tpctl --mgmt-socket $SOCK_A"
CTL_B="$PROJECT/bin/l2tpctl --mgmt-socket $SOCK_B"
PW_A=198.18.3.1
PW_B=198.18.3.2

netns_pair

section "a bridge in lns for pe-b's pseudowire"
ip -n lns link add br-pw type bridge || fail "bridge br-pw"
ip -n lns addr add "$PW_B/24" dev br-pw && ip -n lns link set br-pw up || fail "br-pw up"

# write_config NAME LISTEN_ADDR IFNAME MTU BRIDGE COOKIE_LENGTH
write_config() {
  if [ "$ENCAP" = ip ]; then listen_ip="listen_ip: [\"$2\"]"; else listen_ip=""; fi
  cat > "$W/$1.yaml" <<EOF
system:
  hostname: $1
  listen: ["$2:1701"]
  $listen_ip
  dataplane: kernel
  mgmt_socket: /run/l2tpd/$1.sock
  workers: 1
  log_level: debug
tunnel_profiles:
  default:
    version: 3
    encapsulation: $ENCAP
    auth_mode: challenge
    secret: pw-secret
    digest: hmac-sha1
    hello_interval: 5s
session_profiles:
  default:
    pseudowire: ethernet
    ethernet_profile: pw
    cookie_length: $6
    l2_specific_sublayer: default
    sequencing: required
ethernet_profiles:
  pw:
    interface_name: $3
    mtu: $4
    bridge: $5
EOF
}
write_config pe-a "$LAC_ADDR" pw-a 1400 null 8
cat >> "$W/pe-a.yaml" <<EOF
tunnels:
  - name: to-pe-b
    peer: $LNS_ADDR:1701
    local: $LAC_ADDR
    persistent: true
    sessions:
      - name: pw1
        type: lac_incoming
        remote_end_id: pw1
EOF
write_config pe-b "$LNS_ADDR" pw-b 1500 br-pw 4

# started PID SOCKET LOG: until l2tpd listens on its management socket; fails at once, with its log, if it exits.
started() {
  wait_for 90 "l2tpd $1 listening on $2 (or exiting)" sh -c "test -S $2 || ! kill -0 $1"
  kill -0 "$1" 2>/dev/null || { tail -n 20 "$3"; fail "l2tpd exited at start (see $3)"; }
}
start_b() {
  ip netns exec lns "$PROJECT/bin/l2tpd" --config "$W/pe-b.yaml" >> "$W/pe-b.log" 2>&1 &
  L2TPD_B=$!
  started "$L2TPD_B" "$SOCK_B" "$W/pe-b.log"
}
start_a() {
  ip netns exec lac "$PROJECT/bin/l2tpd" --config "$W/pe-a.yaml" >> "$W/pe-a.log" 2>&1 &
  L2TPD_A=$!
  started "$L2TPD_A" "$SOCK_A" "$W/pe-a.log"
}
link_up() { ip -n "$1" -o link show dev "$2" 2>/dev/null | grep -q '[<,]UP[,>]'; }
no_l2tp() { [ -z "$(ip -n "$1" l2tp show tunnel)" ] && [ -z "$(ip -n "$1" l2tp show session)" ] && ! ip -n "$1" link show dev "$2" >/dev/null 2>&1; }
pw_ready() {
  wait_for "$1" "pw-a up in lac" link_up lac pw-a
  wait_for 20 "pw-b up in lns" link_up lns pw-b
  ip -n lac addr replace "$PW_A/24" dev pw-a || fail "address on pw-a"
  wait_for 20 "ping across the pseudowire" ip netns exec lac busybox ping -c 1 -W 1 "$PW_B"
}

section "pe-b (responder) and pe-a (configured persistent tunnel, $ENCAP encapsulation)"
start_b
start_a
check "pe-a runs the kernel data plane" grep -q '"dataplane":"kernel"' "$W/pe-a.log"
pw_ready 60

section "the kernel holds the pseudowire"
for ns in lac lns; do ip -n $ns l2tp show tunnel; ip -n $ns l2tp show session; ip -n $ns -d link show; done
check "tunnel in lac uses $ENCAP encapsulation" sh -c "ip -n lac l2tp show tunnel | grep -q 'encap $(echo $ENCAP | tr a-z A-Z)'"
check "pw-a has the configured MTU 1400" sh -c "ip -n lac -o link show dev pw-a | grep -q 'mtu 1400 '"
check "pw-b is enslaved to br-pw" sh -c "ip -n lns -o link show dev pw-b | grep -q 'master br-pw'"
check "pw-a is in no bridge" sh -c "! ip -n lac -o link show dev pw-a | grep -q master"
# pe-a assigned an 8-octet cookie (what it expects to receive), pe-b a 4-octet one: each kernel session sends the
# peer's cookie and checks its own.
cookie_of() { ip -n "$1" l2tp show session | sed -n "s/.* $2 \([0-9a-f]*\).*/\1/p" | head -n 1; }
A_SENDS=$(ip -n lac l2tp show session | sed -n 's/^ *cookie \([0-9a-f]*\).*/\1/p' | head -n 1)
A_CHECKS=$(cookie_of lac 'peer cookie')
B_SENDS=$(ip -n lns l2tp show session | sed -n 's/^ *cookie \([0-9a-f]*\).*/\1/p' | head -n 1)
B_CHECKS=$(cookie_of lns 'peer cookie')
echo "pe-a sends '$A_SENDS' checks '$A_CHECKS'; pe-b sends '$B_SENDS' checks '$B_CHECKS'"
check "pe-a checks an 8-octet cookie" test "${#A_CHECKS}" -eq 16
check "pe-b checks a 4-octet cookie" test "${#B_CHECKS}" -eq 8
check "pe-a sends the cookie pe-b checks" test "$A_SENDS" = "$B_CHECKS"
check "pe-b sends the cookie pe-a checks" test "$B_SENDS" = "$A_CHECKS"
# In L2TPv3 the sequence number rides in the default L2-specific sublayer: a side that requires sequencing drops
# data without it, so the pings below also prove both kernels use that sublayer.
check "pe-a sends and requires sequence numbers" sh -c "ip -n lac l2tp show session | grep -q 'sequence numbering: send recv'"
check "pe-b sends and requires sequence numbers" sh -c "ip -n lns l2tp show session | grep -q 'sequence numbering: send recv'"

section "ping and TCP across the pseudowire"
check "ping through the pseudowire" ip netns exec lac busybox ping -c 3 -W 2 "$PW_B"
check "1350-byte ping (no fragmentation inside the PW)" ip netns exec lac busybox ping -c 2 -W 2 -s 1350 "$PW_B"
tcp_transfer lns lac "$PW_B" 16777216 "$W/tcp.json"
$CTL_A --json show sessions > "$W/sessions-a.json"
TID=$(node -e 'const s=require(process.argv[1]);console.log(s[0].tunnelId)' "$W/sessions-a.json")
SID=$(node -e 'const s=require(process.argv[1]);console.log(s[0].sessionId)' "$W/sessions-a.json")
$CTL_A --json show session "$TID" "$SID" > "$W/session-a.json"
check "pe-a's counters cover the transfer" node -e '
const c = require(process.argv[1]).counters;
console.log(JSON.stringify(c));
process.exit(c && c.txBytes >= 16777216 && c.rxPackets > 100 ? 0 : 1);' "$W/session-a.json"

section "SIGTERM of pe-b: both sides let go, pe-a's persistent tunnel waits"
kill "$L2TPD_B"
wait "$L2TPD_B" 2>/dev/null
check "nothing of pe-b in the kernel" no_l2tp lns pw-b
wait_for 20 "pe-a let go after pe-b's StopCCN" no_l2tp lac pw-a

section "pe-b back: pe-a's persistent tunnel and its session return"
start_b
pw_ready 90
check "ping again" ip netns exec lac busybox ping -c 2 -W 2 "$PW_B"

section "l2tpctl tunnel delete on pe-a: final, nothing left on either side"
TID=$($CTL_A --json show tunnels | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[0].tunnelId))')
$CTL_A tunnel delete "$TID" || fail "tunnel delete"
wait_for 20 "nothing left in lac" no_l2tp lac pw-a
wait_for 20 "nothing left in lns" no_l2tp lns pw-b
sleep 3
check "the deleted persistent tunnel stays deleted" no_l2tp lac pw-a

section "a tunnel and session from l2tpctl, then kill -9 of each side"
TID=$($CTL_A --json tunnel create --peer "$LNS_ADDR" --local "$LAC_ADDR" --version 3 | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).tunnelId))')
[ -n "$TID" ] || fail "tunnel create printed no tunnel ID"
# Polling the kernel, not l2tpctl: one l2tpctl run takes seconds under emulation.
wait_for 30 "tunnel $TID in the kernel (established)" sh -c "ip -n lac l2tp show tunnel | grep -q 'Tunnel $TID,'"
$CTL_A session create "$TID" || fail "session create"
pw_ready 30
kill -9 "$L2TPD_A"
wait "$L2TPD_A" 2>/dev/null
wait_for 10 "nothing in lac after kill -9 of pe-a" no_l2tp lac pw-a
check "pe-b still holds its side" sh -c "ip -n lns l2tp show tunnel | grep -q Tunnel"
kill -9 "$L2TPD_B"
wait "$L2TPD_B" 2>/dev/null
wait_for 10 "nothing in lns after kill -9 of pe-b" no_l2tp lns pw-b

echo "L2TPV3-PW OK ($ENCAP)"
