/*
 * UDP tunnel sockets read in batches. Node's dgram costs a JavaScript event, an rinfo object and a Buffer per
 * datagram, and a libuv send request per send; a tunnel's socket is connected, so none of that is needed. Here
 * the socket is made with socket()/bind()/connect(), read with recvmmsg() into the env's arena, and each batch
 * goes to JavaScript in one call as one Buffer plus the datagrams' end offsets (watch.c, read_batch).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "l2tp_native.h"

union inet_sockaddr {
  struct sockaddr sa;
  struct sockaddr_in v4;
  struct sockaddr_in6 v6;
};

/* An IPv4 or IPv6 literal and a port; the family comes from the text. Returns the length, 0 if not an address. */
static socklen_t parse_inet(const char *address, int port, union inet_sockaddr *out) {
  memset(out, 0, sizeof *out);
  if (inet_pton(AF_INET, address, &out->v4.sin_addr) == 1) {
    out->v4.sin_family = AF_INET;
    out->v4.sin_port = htons((uint16_t)port);
    return sizeof out->v4;
  }
  if (inet_pton(AF_INET6, address, &out->v6.sin6_addr) == 1) {
    out->v6.sin6_family = AF_INET6;
    out->v6.sin6_port = htons((uint16_t)port);
    return sizeof out->v6;
  }
  return 0;
}

static int set_property(napi_env env, napi_value obj, const char *name, napi_value v) {
  return v != NULL && napi_set_named_property(env, obj, name, v) == napi_ok ? 0 : -1;
}

/*
 * udpSocket({localAddress, localPort, peerAddress, peerPort, reuseAddr?, bufferBytes?})
 *   -> {fd, address, port, receiveBuffer}
 * reuseAddr: SO_REUSEADDR before bind (a tunnel socket sharing the listener's port; Linux prefers the connected
 * socket for its peer). bufferBytes: SO_RCVBUF and SO_SNDBUF (the kernel caps them at rmem_max/wmem_max);
 * receiveBuffer is what it granted for payload (half of what SO_RCVBUF reports). address/port: getsockname().
 */
napi_value UdpSocket(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  char local[INET6_ADDRSTRLEN + 1], peer[INET6_ADDRSTRLEN + 1];
  int64_t local_port, peer_port, buffer_bytes = 0;
  int reuse, has_buffer;
  union inet_sockaddr local_sa, peer_sa, bound;
  if (get_args(env, info, 1, argv) != 0 || get_object_arg(env, argv[0], "options") != 0) return NULL;
  if (get_string_prop(env, argv[0], "localAddress", local, sizeof local) != 0 ||
      get_int_prop(env, argv[0], "localPort", 0, 65535, &local_port) != 0 ||
      get_string_prop(env, argv[0], "peerAddress", peer, sizeof peer) != 0 ||
      get_int_prop(env, argv[0], "peerPort", 1, 65535, &peer_port) != 0 ||
      get_bool_prop(env, argv[0], "reuseAddr", 0, &reuse) != 0 || has_prop(env, argv[0], "bufferBytes", &has_buffer) != 0 ||
      (has_buffer && get_int_prop(env, argv[0], "bufferBytes", 1, INT32_MAX, &buffer_bytes) != 0))
    return NULL;
  socklen_t local_len = parse_inet(local, (int)local_port, &local_sa);
  socklen_t peer_len = parse_inet(peer, (int)peer_port, &peer_sa);
  if (local_len == 0 || peer_len == 0) {
    throw_type(env, "udpSocket: '%s' is not an IPv4 or IPv6 address", local_len == 0 ? local : peer);
    return NULL;
  }
  if (local_sa.sa.sa_family != peer_sa.sa.sa_family) {
    throw_type(env, "udpSocket: local %s and peer %s are of different families", local, peer);
    return NULL;
  }
  int fd = socket(local_sa.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_UDP);
  if (fd < 0) {
    throw_errno(env, errno, "socket", "udpSocket: socket(AF_INET%s, SOCK_DGRAM)", local_sa.sa.sa_family == AF_INET6 ? "6" : "");
    return NULL;
  }
  int one = 1, size = (int)buffer_bytes, granted = 0;
  socklen_t granted_len = sizeof granted, bound_len = sizeof bound;
  if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
    int err = errno;
    close(fd);
    throw_errno(env, err, "setsockopt", "udpSocket: SO_REUSEADDR");
    return NULL;
  }
  if (has_buffer) {
    /* The kernel keeps its limit when it refuses more; what it granted is reported below. */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  }
  if (bind(fd, &local_sa.sa, local_len) < 0) {
    int err = errno;
    close(fd);
    throw_errno(env, err, "bind", "udpSocket: bind(%s port %d)", local, (int)local_port);
    return NULL;
  }
  if (connect(fd, &peer_sa.sa, peer_len) < 0) {
    int err = errno;
    close(fd);
    throw_errno(env, err, "connect", "udpSocket: connect(%s port %d)", peer, (int)peer_port);
    return NULL;
  }
  char text[INET6_ADDRSTRLEN] = "";
  int port = 0;
  if (getsockname(fd, &bound.sa, &bound_len) == 0) {
    if (bound.sa.sa_family == AF_INET) {
      inet_ntop(AF_INET, &bound.v4.sin_addr, text, sizeof text);
      port = ntohs(bound.v4.sin_port);
    } else if (bound.sa.sa_family == AF_INET6) {
      inet_ntop(AF_INET6, &bound.v6.sin6_addr, text, sizeof text);
      port = ntohs(bound.v6.sin6_port);
    }
  }
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &granted_len) < 0) granted = 0;
  napi_value address;
  if (napi_create_object(env, &result) != napi_ok ||
      napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &address) != napi_ok ||
      set_property(env, result, "fd", make_int(env, fd)) != 0 || set_property(env, result, "address", address) != 0 ||
      set_property(env, result, "port", make_int(env, port)) != 0 ||
      set_property(env, result, "receiveBuffer", make_int(env, granted / 2)) != 0) {
    close(fd);
    throw_napi_failure(env, "udpSocket: building the result");
    return NULL;
  }
  fd_own(state_of(env), fd);
  return result;
}
