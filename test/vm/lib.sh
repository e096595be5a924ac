# Shell helpers for scripts that run inside the kernel VM (test/vm/run.ts). Source it:
#   . "$PROJECT/test/vm/lib.sh"
# POSIX sh (the VM runs the host's /bin/sh, dash on Debian). Every wait is bounded; every failure says what failed.

# These helpers rewrite /etc files and create namespaces: harmless in the VM's tmpfs overlay, not on a host.
if [ ! -e /run/vmtest-guest ]; then
  echo "lib.sh: not inside the test VM (no /run/vmtest-guest); refusing to run" >&2
  exit 98
fi

# fail MESSAGE...: print FAIL and end the script with status 1.
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# check DESCRIPTION COMMAND [ARGS...]: run the command; on success print "ok - DESCRIPTION", else fail with its status.
check() {
  _check_what=$1; shift
  if "$@"; then echo "ok - $_check_what"; else fail "$_check_what (status $?: $*)"; fi
}

# section TITLE: a visible marker in the console log, with the guest's uptime (where did the time go?).
section() {
  echo "=== [$(cut -d' ' -f1 /proc/uptime) s] $*"
}

# wait_for SECONDS DESCRIPTION COMMAND [ARGS...]: poll every 0.2 s until the command succeeds, or fail after SECONDS.
wait_for() {
  _wait_secs=$1; _wait_what=$2; shift 2
  _wait_n=0
  while [ "$_wait_n" -lt $((_wait_secs * 5)) ]; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
    _wait_n=$((_wait_n + 1))
  done
  fail "timed out after ${_wait_secs} s waiting for: $_wait_what"
}

# wait_for_link SECONDS NS IFNAME: until the interface exists in the namespace.
wait_for_link() {
  wait_for "$1" "link $3 in netns $2" ip -n "$2" link show dev "$3"
}

# wait_for_addr SECONDS NS PREFIX: until an IPv4 address starting with PREFIX is configured in the namespace
# (find PPP interfaces by their address: do not assume ppp0). Prints the interface name.
wait_for_addr() {
  wait_for "$1" "an address $3* in netns $2" sh -c "ip -n '$2' -o -4 addr show | grep -q 'inet $3'"
  ip -n "$2" -o -4 addr show | awk -v p="inet $3" 'index($0, p) { print $2; exit }'
}

# Defaults of netns_pair: namespaces lac and lns, joined by veth-lac <-> veth-lns, in 198.18.0.0/15 (RFC 2544).
LAC_NS=lac
LNS_NS=lns
LAC_IF=veth-lac
LNS_IF=veth-lns
LAC_ADDR=198.18.1.1
LNS_ADDR=198.18.1.2

# netns_pair [NS_A NS_B ADDR_A ADDR_B]: two namespaces with loopback up, joined by a veth pair carrying /24 addresses.
# Without arguments: lac (198.18.1.1) and lns (198.18.1.2). The veth ends are named veth-NS_A and veth-NS_B.
netns_pair() {
  _a=${1:-$LAC_NS}; _b=${2:-$LNS_NS}; _aa=${3:-$LAC_ADDR}; _ba=${4:-$LNS_ADDR}
  ip netns add "$_a" || fail "ip netns add $_a"
  ip netns add "$_b" || fail "ip netns add $_b"
  ip link add "veth-$_a" type veth peer name "veth-$_b" || fail "veth pair veth-$_a/veth-$_b"
  ip link set "veth-$_a" netns "$_a" && ip link set "veth-$_b" netns "$_b" || fail "moving the veth ends"
  ip -n "$_a" link set lo up && ip -n "$_b" link set lo up || fail "loopback up"
  ip -n "$_a" addr add "$_aa/24" dev "veth-$_a" && ip -n "$_a" link set "veth-$_a" up || fail "address $_aa in $_a"
  ip -n "$_b" addr add "$_ba/24" dev "veth-$_b" && ip -n "$_b" link set "veth-$_b" up || fail "address $_ba in $_b"
  # veth carries traffic as soon as both ends are up; a first ping proves it before anything is built on top.
  wait_for 10 "$_a reaches $_ba" ip netns exec "$_a" busybox ping -c 1 -W 1 "$_ba"
}

# neutralise_ppp_options: Debian's /etc/ppp/options says `auth lock crtscts modem`, which breaks pppd over L2TP.
# Only the VM's overlay changes; the host file stays as it is.
neutralise_ppp_options() {
  echo "# emptied by test/vm/lib.sh: tests give pppd every option on its command line or in their own file" > /etc/ppp/options
  mkdir -p /run/lock /run/pppd
}

# pppd_client_options FILE USER PASSWORD [LINE...]: pppd options for an xl2tpd LAC's PPP client: MTU/MRU 1400
# (PPP over L2TP over a 1500-byte veth), no compression, no default route, no address of its own; then LINEs.
pppd_client_options() {
  _f=$1 _u=$2 _p=$3; shift 3
  printf '%s\n' "name $_u" "user $_u" "password $_p" noauth noccp nodefaultroute noipdefault 'mtu 1400' 'mru 1400' "$@" > "$_f"
}

# pppd_lns_options FILE [LINE...]: pppd options for an xl2tpd LNS: CHAP required, MTU/MRU 1400; then LINEs.
pppd_lns_options() {
  _f=$1; shift
  printf '%s\n' 'name lns' require-chap refuse-pap noccp nodefaultroute 'mtu 1400' 'mru 1400' "$@" > "$_f"
}

# xl2tpd_lac_conf FILE LISTEN_ADDR OPTFILE USER NAME=LNS_ADDR... [-- LINE...]: an xl2tpd LAC on LISTEN_ADDR:1701
# with one autodialling [lac NAME] section per NAME=LNS_ADDR, each with USER and pppd options OPTFILE; LINEs
# after -- go into every section.
xl2tpd_lac_conf() {
  _f=$1 _l=$2 _o=$3 _u=$4; shift 4
  _secs=""
  while [ $# -gt 0 ] && [ "$1" != -- ]; do _secs="$_secs $1"; shift; done
  [ "${1:-}" = -- ] && shift
  printf '[global]\nlisten-addr = %s\nport = 1701\naccess control = no\n' "$_l" > "$_f"
  for _s in $_secs; do
    printf '[lac %s]\nlns = %s\nname = %s\nrequire authentication = no\npppoptfile = %s\nautodial = yes\nredial = no\nlength bit = yes\n' \
      "${_s%%=*}" "${_s#*=}" "$_u" "$_o" >> "$_f"
    [ $# -gt 0 ] && printf '%s\n' "$@" >> "$_f"
  done
}

# xl2tpd_lns_conf FILE LISTEN_ADDR FIRST-LAST LOCAL_IP OPTFILE [LINE...]: an xl2tpd LNS on LISTEN_ADDR:1701 handing
# out FIRST-LAST, CHAP required, pppd options OPTFILE; then LINEs.
xl2tpd_lns_conf() {
  _f=$1; shift
  printf '[global]\nlisten-addr = %s\nport = 1701\naccess control = no\n[lns default]\nip range = %s\nlocal ip = %s\n' "$1" "$2" "$3" > "$_f"
  printf '%s\n' 'require authentication = yes' 'require chap = yes' 'refuse pap = yes' 'name = lns' "pppoptfile = $4" 'length bit = yes' >> "$_f"
  shift 4
  [ $# -gt 0 ] && printf '%s\n' "$@" >> "$_f"
  return 0
}

# json_length: the length of the JSON array on stdin (l2tpctl --json show sessions | json_length).
json_length() {
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).length))'
}

# tcp_transfer SINK_NS SOURCE_NS ADDR BYTES OUTFILE: BYTES of TCP from SOURCE_NS to ADDR:9000, a sink in SINK_NS
# (tcp-sink.mjs / tcp-source.mjs); the sink's {"bytes","ms","mbitPerS"} goes to OUTFILE and is printed. Fails
# unless every byte arrived.
tcp_transfer() {
  ip netns exec "$1" node "$PROJECT/test/vm/scripts/tcp-sink.mjs" "$3" 9000 "$5" &
  _tcp_sink=$!
  wait_for 10 "the TCP sink in $1" sh -c "ip netns exec '$1' ss -ltn | grep -q ':9000'"
  check "$4 bytes over TCP from $2 to $3" ip netns exec "$2" node "$PROJECT/test/vm/scripts/tcp-source.mjs" "$3" 9000 "$4"
  wait "$_tcp_sink" || fail "the TCP sink in $1 failed"
  cat "$5"
  check "the sink in $1 got all $4 bytes" grep -q "\"bytes\":$4" "$5"
}
