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
setup_phase() {
  ip netns exec lac "$PROJECT/bin/l2tp-load" --target "$LNS_ADDR" --source "$LAC_ADDR" --tunnels 1 \
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

  section "TCP throughput: xl2tpd + pppd dialling l2tpd (kernel) vs xl2tpd + pppd"
  printf 'tcpuser * s3cret *\n' > /etc/ppp/pap-secrets
  printf 'tcpuser * s3cret *\n' > /etc/ppp/chap-secrets
  chmod 600 /etc/ppp/pap-secrets /etc/ppp/chap-secrets
  cat > "$W/lac.conf" <<EOF
[global]
listen-addr = $LAC_ADDR
port = 1701
access control = no
[lac lns1]
lns = $LNS_ADDR
name = tcpuser
require authentication = no
pppoptfile = $W/options.lac
autodial = yes
redial = no
length bit = yes
EOF
  cat > "$W/options.lac" <<EOF
name tcpuser
user tcpuser
password s3cret
noauth
noccp
nodefaultroute
noipdefault
mtu 1400
mru 1400
EOF
  cat > "$W/lns.conf" <<EOF
[global]
listen-addr = $LNS_ADDR
port = 1701
access control = no
[lns default]
ip range = 198.18.100.10-198.18.100.20
local ip = $LNS_PPP
require authentication = yes
require chap = yes
refuse pap = yes
name = lns
pppoptfile = $W/options.lns
length bit = yes
EOF
  cat > "$W/options.lns" <<EOF
name lns
require-chap
refuse-pap
noccp
nodefaultroute
mtu 1400
mru 1400
EOF
  tcp_run() { # $1 = label: 64 MiB twice through the current session, best of two
    ip netns exec lac busybox ping -c 1 -W 2 "$LNS_PPP" > /dev/null || fail "$1: no PPP path"
    best=0
    for k in 1 2; do
      ip netns exec lns node "$PROJECT/test/vm/scripts/tcp-sink.mjs" "$LNS_PPP" 9000 "$W/tcp-$1-$k.json" &
      S=$!
      wait_for 10 "TCP sink" sh -c "ip netns exec lns ss -ltn | grep -q ':9000'"
      ip netns exec lac node "$PROJECT/test/vm/scripts/tcp-source.mjs" "$LNS_PPP" 9000 67108864 || fail "$1: TCP"
      wait "$S"
      m=$(node -e 'console.log(require(process.argv[1]).mbitPerS)' "$W/tcp-$1-$k.json")
      best=$(node -e 'console.log(Math.max(+process.argv[1], +process.argv[2]))' "$best" "$m")
    done
    echo "BENCH {\"phase\":\"tcp\",\"lns\":\"$1\",\"mbitPerS\":$best}"
  }
  start_lac() {
    ip netns exec lac xl2tpd -D -c "$W/lac.conf" -p /run/xl2tpd/lac.pid -C /run/xl2tpd/lac.ctl > "$W/xl2tpd-lac-$1.log" 2>&1 &
    XLAC=$!
    wait_for_addr 60 lac "198.18.10" > /dev/null
  }
  stop_lac() {
    kill "$XLAC"
    wait "$XLAC" 2>/dev/null
    wait_for 20 "pppd gone" sh -c "! ip -n lac -o link show | grep -q ': ppp'"
  }

  start_l2tpd kernel
  start_lac l2tpd
  tcp_run l2tpd
  stop_lac l2tpd
  stop_l2tpd

  ip netns exec lns xl2tpd -D -c "$W/lns.conf" -p /run/xl2tpd/lns.pid -C /run/xl2tpd/lns.ctl > "$W/xl2tpd-lns.log" 2>&1 &
  XLNS=$!
  wait_for 10 "xl2tpd LNS listening" sh -c "ip netns exec lns ss -lun | grep -q '$LNS_ADDR:1701'"
  start_lac xl2tpd
  tcp_run xl2tpd
  stop_lac xl2tpd
  kill "$XLNS"
  wait "$XLNS" 2>/dev/null
fi
echo "KERNEL-SCALE OK ($MODE, $SESSIONS sessions)"
