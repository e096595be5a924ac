#!/bin/sh
# Inside the kernel VM. l2tp-load (PPP subscriber mode, namespace lac) sets up $SESSIONS PPP sessions in one
# tunnel to l2tpd (namespace lns). Every phase prints one `BENCH {json}` line.
#   MODE=test  (test/vm/kernel-scale.test.ts): kernel data plane only; every session has its kernel session and
#              ppp unit while up, and after l2tp-load's StopCCN none is left.
#   MODE=bench (bench/kernel-vm.ts, `npm run bench`): the same with the null data plane and with the kernel one
#              (setup rate ratio, target >= 0.5), then TCP throughput through a session made by l2tpd versus one
#              made by xl2tpd + pppd, both dialled by xl2tpd + pppd (target ratio >= 0.95).
. "$PROJECT/test/vm/lib.sh"
MODE=${MODE:-test}
SESSIONS=${SESSIONS:-1000}
W=$OUT/scale
mkdir -p "$W" /run/l2tpd /run/xl2tpd
SOCK=/run/l2tpd/l2tpd.sock
CTL="$PROJECT/bin/l2tpctl --mgmt-socket $SOCK"
LNS_PPP=198.18.99.1

netns_pair
neutralise_ppp_options

i=0
: > "$W/users"
while [ $i -lt "$SESSIONS" ]; do echo "user$i pw$i" >> "$W/users"; i=$((i + 1)); done
echo "tcpuser s3cret" >> "$W/users"
chmod 600 "$W/users"

write_config() { # $1 = kernel|null
  cat > "$W/l2tpd-$1.yaml" <<EOF
system:
  listen: ["$LNS_ADDR:1701"]
  dataplane: $1
  mgmt_socket: $SOCK
  workers: 1
aaa:
  local_users: $W/users
tunnel_profiles:
  default:
    receive_window_size: 64
ppp_profiles:
  default:
    auth: [pap, chap]
    aaa: local
    pool: subscribers
    local_address: $LNS_PPP
    lcp_echo_interval: 30s
pools:
  subscribers:
    ipv4: ["198.18.100.0/22"]
EOF
}

start_l2tpd() { # $1 = kernel|null
  write_config "$1"
  rm -f "$SOCK"
  ip netns exec lns "$PROJECT/bin/l2tpd" --config "$W/l2tpd-$1.yaml" > "$W/l2tpd-$1.log" 2>&1 &
  L2TPD=$!
  wait_for 60 "l2tpd ($1) management socket" test -S "$SOCK"
}

stop_l2tpd() {
  kill "$L2TPD"
  wait "$L2TPD" 2>/dev/null
}

count_ppp() { ip -n lns -o link show | grep -c ': ppp' ; }
count_sessions() { ip -n lns l2tp show session | grep -c '^Session' ; }

# setup_phase PLANE: l2tp-load brings SESSIONS subscribers up; prints BENCH; leaves l2tp-load running in $LOAD.
# In test mode every subscriber also pings the LNS's address through its session (ICMP inside PPP, answered by
# the LNS's kernel on its ppp interface): l2tp-load's data mode against a real data plane.
if [ "$MODE" = test ]; then PING="--ping-rate 0.2 --ping-timeout 10"; else PING=""; fi
setup_phase() {
  # shellcheck disable=SC2086 # $PING is a list of options
  ip netns exec lac "$PROJECT/bin/l2tp-load" --target "$LNS_ADDR" --source "$LAC_ADDR" --tunnels 1 $PING \
    --sessions-per-tunnel "$SESSIONS" --rate 2000 --ppp --auth pap --user 'user{n}' --password 'pw{n}' \
    --receive-window 64 --max-outstanding 50 --setup-timeout 120 --duration 900 --target-pid "$L2TPD" --no-progress --json "$W/load-$1.json" > "$W/load-$1.log" 2>&1 &
  LOAD=$!
  # Every subscriber's PPP is up at the LNS (l2tpd logs "ppp up" at IPCP Opened); polled every 2 s, bounded.
  n=0
  until [ "$(grep -c '"msg":"ppp up"' "$W/l2tpd-$1.log")" -ge "$SESSIONS" ]; do
    n=$((n + 1))
    [ $n -lt 150 ] || fail "$SESSIONS sessions not up within 300 s ($1): $(grep -c '"msg":"ppp up"' "$W/l2tpd-$1.log") up; $(tail -c 600 "$W/load-$1.log")"
    sleep 2
  done
  echo "$SESSIONS subscribers up ($1)"
}

end_phase() { # $1 = plane: SIGINT makes l2tp-load send StopCCN and write its report
  kill -INT "$LOAD"
  wait "$LOAD"
  node -e '
const r = require(process.argv[1]);
const b = { phase: "setup", plane: process.argv[2], sessions: r.calls.established, failed: r.calls.failed,
  setupPerSecond: r.setupRate.sustained, peakPerSecond: r.setupRate.peak,
  l2tpdCallsPerCpuSecond: r.cpu.target && r.cpu.target.callsPerCpuSecond, l2tpdRssBytes: r.cpu.target && r.cpu.target.rssMaxBytes,
  p99CallMs: r.latencyMs.call && r.latencyMs.call.p99 };
console.log("BENCH " + JSON.stringify(b));' "$W/load-$1.json" "$1"
}

section "$SESSIONS PPP sessions in one tunnel, kernel data plane"
start_l2tpd kernel
check "l2tpd runs the kernel data plane" grep -q '"dataplane":"kernel"' "$W/l2tpd-kernel.log"
setup_phase kernel
wait_for 120 "$SESSIONS ppp interfaces" sh -c "[ \$(ip -n lns -o link show | grep -c ': ppp') -ge $SESSIONS ]"
N_PPP=$(count_ppp)
N_SES=$(count_sessions)
echo "kernel sessions: $N_SES, ppp interfaces: $N_PPP"
check "$SESSIONS kernel L2TP sessions" test "$N_SES" -eq "$SESSIONS"
check "$SESSIONS ppp interfaces" test "$N_PPP" -eq "$SESSIONS"
ip -n lns -o -4 addr show | grep -c "inet $LNS_PPP peer 198.18.10" > "$W/peers.txt"
check "every ppp interface has our address and a pool peer" test "$(cat "$W/peers.txt")" -eq "$SESSIONS"
end_phase kernel
if [ "$MODE" = test ]; then
  check "echo replies came back through the kernel sessions (loss <= 25%: the first echoes may precede the interface)" node -e '
const d = require(process.argv[1]).data;
console.log(JSON.stringify({ ...d, histogram: undefined }));
process.exit(d && d.repliesReceived > 0 && d.lossPercent <= 25 ? 0 : 1);' "$W/load-kernel.json"
fi
wait_for 90 "no kernel session left after StopCCN" sh -c "[ \$(ip -n lns l2tp show session | grep -c '^Session') -eq 0 ]"
wait_for 90 "no ppp interface left" sh -c "[ \$(ip -n lns -o link show | grep -c ': ppp') -eq 0 ]"
check "no kernel tunnel left" sh -c "[ -z \"\$(ip -n lns l2tp show tunnel)\" ]"
stop_l2tpd

if [ "$MODE" = bench ]; then
  section "the same with the null data plane"
  start_l2tpd null
  setup_phase null
  end_phase null
  stop_l2tpd

  section "TCP throughput: a session made by l2tpd vs one made by xl2tpd + pppd, both up at once"
  # One xl2tpd + pppd LAC dials both LNSs: l2tpd (kernel plane) on $LNS_ADDR and xl2tpd + pppd on a second
  # address. Transfers alternate between the two sessions, so both see the same machine at the same time
  # (the emulated CPU is noisy: sequential phases measured other work as much as the data path).
  XLNS_ADDR=198.18.1.3
  XLNS_PPP=198.18.98.1
  ip -n lns addr add "$XLNS_ADDR/24" dev veth-lns || fail "second LNS address"
  printf 'tcpuser * s3cret *\n' > /etc/ppp/pap-secrets
  printf 'tcpuser * s3cret *\n' > /etc/ppp/chap-secrets
  chmod 600 /etc/ppp/pap-secrets /etc/ppp/chap-secrets
  pppd_client_options "$W/options.lac" tcpuser s3cret
  xl2tpd_lac_conf "$W/lac.conf" "$LAC_ADDR" "$W/options.lac" tcpuser "l2tpd=$LNS_ADDR" "xl2tpd=$XLNS_ADDR"
  pppd_lns_options "$W/options.lns"
  xl2tpd_lns_conf "$W/lns.conf" "$XLNS_ADDR" 198.18.104.10-198.18.104.20 "$XLNS_PPP" "$W/options.lns"

  start_l2tpd kernel
  ip netns exec lns xl2tpd -D -c "$W/lns.conf" -p /run/xl2tpd/lns.pid -C /run/xl2tpd/lns.ctl > "$W/xl2tpd-lns.log" 2>&1 &
  XLNS=$!
  wait_for 10 "xl2tpd LNS listening" sh -c "ip netns exec lns ss -lun | grep -q '$XLNS_ADDR:1701'"
  ip netns exec lac xl2tpd -D -c "$W/lac.conf" -p /run/xl2tpd/lac.pid -C /run/xl2tpd/lac.ctl > "$W/xl2tpd-lac.log" 2>&1 &
  XLAC=$!
  wait_for_addr 60 lac "198.18.100." > /dev/null
  wait_for_addr 60 lac "198.18.104." > /dev/null
  check "a session through l2tpd" ip netns exec lac busybox ping -c 1 -W 2 "$LNS_PPP"
  check "a session through xl2tpd" ip netns exec lac busybox ping -c 1 -W 2 "$XLNS_PPP"
  # 64 MiB per transfer, three rounds of l2tpd then xl2tpd; each side's best (the least disturbed) counts.
  for k in 1 2 3; do
    tcp_transfer lns lac "$LNS_PPP" 67108864 "$W/tcp-l2tpd-$k.json"
    tcp_transfer lns lac "$XLNS_PPP" 67108864 "$W/tcp-xl2tpd-$k.json"
  done
  for lns in l2tpd xl2tpd; do
    node -e '
const runs = process.argv.slice(2).map((f) => require(f).mbitPerS);
console.log("BENCH " + JSON.stringify({ phase: "tcp", lns: process.argv[1], mbitPerS: Math.max(...runs), runs }));' "$lns" "$W"/tcp-"$lns"-[123].json
  done
  kill "$XLAC"
  wait "$XLAC" 2>/dev/null
  wait_for 20 "pppd gone" sh -c "! ip -n lac -o link show | grep -q ': ppp'"
  kill "$XLNS"
  wait "$XLNS" 2>/dev/null
  stop_l2tpd
fi
echo "KERNEL-SCALE OK ($MODE, $SESSIONS sessions)"
