/*
 * Sockets Node cannot open: the PPPoL2TP session socket (AF_PPPOX/PX_PROTO_OL2TP, the l2tp_ppp module), the
 * L2TP-over-IP tunnel socket (IPPROTO_L2TP = 115, l2tp_ip / l2tp_ip6), and, for tests, an AF_UNIX SOCK_SEQPACKET
 * pair that keeps frame boundaries like the real ones do. Every socket is O_CLOEXEC and nonblocking; on any
 * failure after socket() the descriptor is closed before the error is thrown.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* After <netinet/in.h>: linux/libc-compat.h then skips the kernel's duplicate in/in6 definitions. */
#include <linux/if_pppox.h>
#include <linux/l2tp.h>

#include "l2tp_native.h"

#define SOCK_FLAGS (SOCK_CLOEXEC | SOCK_NONBLOCK)

/* What the kernel answers when the protocol's module is not loaded and cannot be autoloaded. */
static const char *if_missing(int err, const char *hint) {
  return err == EAFNOSUPPORT || err == EPROTONOSUPPORT || err == ESOCKTNOSUPPORT ? hint : NULL;
}

union pppol2tp_sockaddr {
  struct sockaddr_pppol2tp v2;
  struct sockaddr_pppol2tpin6 v2in6;
  struct sockaddr_pppol2tpv3 v3;
  struct sockaddr_pppol2tpv3in6 v3in6;
};

/*
 * The kernel tells L2TPv2 from v3 and IPv4 from IPv6 by the sockaddr's length alone (pppol2tp_sockaddr_get_info).
 * The peer address is left empty: the tunnel socket (tunnelFd) is already connected, and the kernel sends there.
 */
static socklen_t fill_pppol2tp(union pppol2tp_sockaddr *sa, int version, int ipv6, int tunnel_fd, uint32_t s_tunnel,
                               uint32_t s_session, uint32_t d_tunnel, uint32_t d_session) {
  memset(sa, 0, sizeof *sa);
#define FILL(member)                                                                                                 \
  do {                                                                                                               \
    sa->member.sa_family = AF_PPPOX;                                                                                 \
    sa->member.sa_protocol = PX_PROTO_OL2TP;                                                                         \
    sa->member.pppol2tp.pid = 0; /* 0: the fd is ours */                                                             \
    sa->member.pppol2tp.fd = tunnel_fd;                                                                              \
    sa->member.pppol2tp.s_tunnel = s_tunnel;                                                                         \
    sa->member.pppol2tp.s_session = s_session;                                                                       \
    sa->member.pppol2tp.d_tunnel = d_tunnel;                                                                         \
    sa->member.pppol2tp.d_session = d_session;                                                                       \
  } while (0)
  if (version == 2 && !ipv6) {
    FILL(v2);
    sa->v2.pppol2tp.addr.sin_family = AF_INET;
    return sizeof sa->v2;
  }
  if (version == 2) {
    FILL(v2in6);
    sa->v2in6.pppol2tp.addr.sin6_family = AF_INET6;
    return sizeof sa->v2in6;
  }
  if (!ipv6) {
    FILL(v3);
    sa->v3.pppol2tp.addr.sin_family = AF_INET;
    return sizeof sa->v3;
  }
  FILL(v3in6);
  sa->v3in6.pppol2tp.addr.sin6_family = AF_INET6;
  return sizeof sa->v3in6;
#undef FILL
}

napi_value Pppol2tpConnect(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t tunnel_fd, version, lt, ls, pt, ps;
  int ipv6;
  if (get_args(env, info, 1, argv) != 0 || get_object_arg(env, argv[0], "options") != 0) return NULL;
  if (get_int_prop(env, argv[0], "version", 2, 3, &version) != 0) return NULL;
  const int64_t id_max = version == 2 ? UINT16_MAX : UINT32_MAX; /* RFC 2661 ids are 16 bits, RFC 3931 32 */
  if (get_int_prop(env, argv[0], "tunnelFd", 0, INT32_MAX, &tunnel_fd) != 0 ||
      get_int_prop(env, argv[0], "localTunnelId", 0, id_max, &lt) != 0 ||
      get_int_prop(env, argv[0], "localSessionId", 0, id_max, &ls) != 0 ||
      get_int_prop(env, argv[0], "peerTunnelId", 0, id_max, &pt) != 0 ||
      get_int_prop(env, argv[0], "peerSessionId", 0, id_max, &ps) != 0 ||
      get_bool_prop(env, argv[0], "ipv6", 0, &ipv6) != 0)
    return NULL;

  int fd = socket(AF_PPPOX, SOCK_DGRAM | SOCK_FLAGS, PX_PROTO_OL2TP);
  if (fd < 0) {
    int err = errno;
    throw_errno_hint(env, err, "socket", if_missing(err, "is the l2tp_ppp module loaded?"),
                     "pppol2tpConnect: socket(AF_PPPOX, SOCK_DGRAM, PX_PROTO_OL2TP)");
    return NULL;
  }
  union pppol2tp_sockaddr sa;
  socklen_t len = fill_pppol2tp(&sa, (int)version, ipv6, (int)tunnel_fd, (uint32_t)lt, (uint32_t)ls, (uint32_t)pt,
                                (uint32_t)ps);
  if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
    int err = errno;
    close(fd);
    throw_errno(env, err, "connect",
                "pppol2tpConnect: connect(L2TPv%d%s tunnel %u/%u session %u/%u via tunnel fd %d)", (int)version,
                ipv6 ? " IPv6" : "", (unsigned)lt, (unsigned)pt, (unsigned)ls, (unsigned)ps, (int)tunnel_fd);
    return NULL;
  }
  fd_own(state_of(env), fd);
  return make_int(env, fd);
}

union l2tpip_sockaddr {
  struct sockaddr_l2tpip v4;
  struct sockaddr_l2tpip6 v6;
};

static int parse_l2tpip(napi_env env, int family, const char *address, uint32_t conn_id, const char *what,
                        union l2tpip_sockaddr *sa, socklen_t *len) {
  memset(sa, 0, sizeof *sa);
  /* l2tp_conn_id is host order: l2tp_ip compares it with ntohl() of the received Control Connection ID. */
  if (family == 4) {
    sa->v4.l2tp_family = AF_INET;
    sa->v4.l2tp_conn_id = conn_id;
    *len = sizeof sa->v4;
    if (inet_pton(AF_INET, address, &sa->v4.l2tp_addr) == 1) return 0;
  } else {
    sa->v6.l2tp_family = AF_INET6;
    sa->v6.l2tp_conn_id = conn_id;
    *len = sizeof sa->v6;
    if (inet_pton(AF_INET6, address, &sa->v6.l2tp_addr) == 1) return 0;
  }
  throw_type(env, "l2tpIpSocket: %s '%s' is not an IPv%d address", what, address, family);
  return -1;
}

napi_value L2tpIpSocket(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t family, local_id, peer_id = 0;
  int connected, has_peer_id;
  char local[INET6_ADDRSTRLEN + 1], peer[INET6_ADDRSTRLEN + 1] = "";
  union l2tpip_sockaddr local_sa, peer_sa;
  socklen_t local_len, peer_len;
  if (get_args(env, info, 1, argv) != 0 || get_object_arg(env, argv[0], "options") != 0) return NULL;
  if (get_int_prop(env, argv[0], "family", 4, 6, &family) != 0) return NULL;
  if (family != 4 && family != 6) {
    throw_range(env, "family must be 4 or 6, got %d", (int)family);
    return NULL;
  }
  if (get_string_prop(env, argv[0], "localAddress", local, sizeof local) != 0 ||
      get_int_prop(env, argv[0], "localConnId", 0, UINT32_MAX, &local_id) != 0 ||
      has_prop(env, argv[0], "peerAddress", &connected) != 0 || has_prop(env, argv[0], "peerConnId", &has_peer_id) != 0)
    return NULL;
  /* No peer: a listener (connection ID 0 takes every SCCRQ sent to the address), read with watch's source. */
  if (has_peer_id && !connected) {
    throw_type(env, "l2tpIpSocket: peerConnId without peerAddress");
    return NULL;
  }
  if ((connected && get_string_prop(env, argv[0], "peerAddress", peer, sizeof peer) != 0) ||
      (has_peer_id && get_int_prop(env, argv[0], "peerConnId", 0, UINT32_MAX, &peer_id) != 0))
    return NULL;
  if (parse_l2tpip(env, (int)family, local, (uint32_t)local_id, "localAddress", &local_sa, &local_len) != 0 ||
      (connected && parse_l2tpip(env, (int)family, peer, (uint32_t)peer_id, "peerAddress", &peer_sa, &peer_len) != 0))
    return NULL;

  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_FLAGS, IPPROTO_L2TP);
  if (fd < 0) {
    int err = errno;
    const char *hint = family == 4 ? "is the l2tp_ip module loaded?" : "is the l2tp_ip6 module loaded?";
    throw_errno_hint(env, err, "socket", if_missing(err, hint), "l2tpIpSocket: socket(AF_INET%s, SOCK_DGRAM, IPPROTO_L2TP)",
                     family == 4 ? "" : "6");
    return NULL;
  }
  if (bind(fd, (struct sockaddr *)&local_sa, local_len) < 0) {
    int err = errno;
    close(fd);
    throw_errno(env, err, "bind", "l2tpIpSocket: bind(%s, connection id %u)", local, (unsigned)local_id);
    return NULL;
  }
  if (connected && connect(fd, (struct sockaddr *)&peer_sa, peer_len) < 0) {
    int err = errno;
    close(fd);
    throw_errno(env, err, "connect", "l2tpIpSocket: connect(%s, connection id %u)", peer, (unsigned)peer_id);
    return NULL;
  }
  fd_own(state_of(env), fd);
  return make_int(env, fd);
}

napi_value SocketPair(napi_env env, napi_callback_info info) {
  (void)info;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_FLAGS, 0, sv) < 0) {
    throw_errno(env, errno, "socketpair", "socketPair: socketpair(AF_UNIX, SOCK_SEQPACKET)");
    return NULL;
  }
  napi_value arr;
  if (napi_create_array_with_length(env, 2, &arr) != napi_ok ||
      napi_set_element(env, arr, 0, make_int(env, sv[0])) != napi_ok ||
      napi_set_element(env, arr, 1, make_int(env, sv[1])) != napi_ok) {
    close(sv[0]);
    close(sv[1]);
    throw_napi_failure(env, "socketPair: building the result");
    return NULL;
  }
  return arr;
}
