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
 * udpSocket({localAddress, localPort, peerAddress?, peerPort?, reuseAddr?, bufferBytes?})
 *   -> {fd, address, port, receiveBuffer}
 * Without peerAddress the socket is left unconnected (sendFrame names the destination; read it with sources).
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
  int connected;
  if (get_string_prop(env, argv[0], "localAddress", local, sizeof local) != 0 ||
      get_int_prop(env, argv[0], "localPort", 0, 65535, &local_port) != 0 ||
      has_prop(env, argv[0], "peerAddress", &connected) != 0 ||
      (connected && (get_string_prop(env, argv[0], "peerAddress", peer, sizeof peer) != 0 ||
                     get_int_prop(env, argv[0], "peerPort", 1, 65535, &peer_port) != 0)) ||
      get_bool_prop(env, argv[0], "reuseAddr", 0, &reuse) != 0 ||
      has_prop(env, argv[0], "bufferBytes", &has_buffer) != 0 ||
      (has_buffer && get_int_prop(env, argv[0], "bufferBytes", 1, INT32_MAX, &buffer_bytes) != 0))
    return NULL;
  if (!connected) strcpy(peer, local); /* unconnected: only the family check below looks at it */
  socklen_t local_len = parse_inet(local, (int)local_port, &local_sa);
  socklen_t peer_len = parse_inet(peer, connected ? (int)peer_port : 0, &peer_sa);
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
    throw_errno(env, errno, "socket", "udpSocket: socket(AF_INET%s, SOCK_DGRAM)",
                local_sa.sa.sa_family == AF_INET6 ? "6" : "");
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
  if (connected && connect(fd, &peer_sa.sa, peer_len) < 0) {
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

/* udpConnect(fd, address, port): connect() a UDP socket made unconnected (its peer learned later). */
napi_value UdpConnect(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  int64_t port;
  char address[INET6_ADDRSTRLEN + 1];
  size_t len;
  union inet_sockaddr sa;
  if (get_args(env, info, 3, argv) != 0 || get_fd_arg(env, argv[0], "fd", &fd) != 0) return NULL;
  if (napi_get_value_string_utf8(env, argv[1], address, sizeof address, &len) != napi_ok || len + 1 >= sizeof address) {
    throw_type(env, "address must be an IP address string");
    return NULL;
  }
  if (get_int_arg(env, argv[2], "port", 1, 65535, &port) != 0) return NULL;
  socklen_t sa_len = parse_inet(address, (int)port, &sa);
  if (sa_len == 0) {
    throw_type(env, "udpConnect: '%s' is not an IPv4 or IPv6 address", address);
    return NULL;
  }
  if (connect(fd, &sa.sa, sa_len) < 0) {
    throw_errno(env, errno, "connect", "udpConnect(fd %d, %s port %d)", fd, address, (int)port);
    return NULL;
  }
  return make_undefined(env);
}

#define SEND_PARTS_MAX 8

static int buffer_data(napi_env env, napi_value v, void **data, size_t *len) {
  bool is_buffer = false, is_typed = false;
  if (napi_is_buffer(env, v, &is_buffer) == napi_ok && is_buffer)
    return napi_get_buffer_info(env, v, data, len) == napi_ok ? 0 : -1;
  if (napi_is_typedarray(env, v, &is_typed) == napi_ok && is_typed) {
    napi_typedarray_type type;
    napi_value ab;
    size_t offset;
    if (napi_get_typedarray_info(env, v, &type, len, data, &ab, &offset) == napi_ok && type == napi_uint8_array)
      return 0;
  }
  return -1;
}

/*
 * sendFrame(fd, frame | frame[], address?, port?): one datagram with one sendmsg(), gathered from up to 8 parts
 * (a header and a payload need no copy into one buffer). With address and port it goes there (an unconnected
 * socket); without, to the connected peer. Errors throw NativeError (EAGAIN: the buffer is full, nothing sent).
 */
napi_value SendFrame(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int fd;
  struct iovec iov[SEND_PARTS_MAX];
  size_t parts = 0, total = 0;
  bool is_array = false;
  union inet_sockaddr sa;
  socklen_t sa_len = 0;
  if (get_args(env, info, 4, argv) != 0 || get_fd_arg(env, argv[0], "fd", &fd) != 0) return NULL;
  if (napi_is_array(env, argv[1], &is_array) == napi_ok && is_array) {
    uint32_t n;
    if (napi_get_array_length(env, argv[1], &n) != napi_ok || n > SEND_PARTS_MAX) {
      throw_range(env, "sendFrame: at most %d parts", SEND_PARTS_MAX);
      return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
      napi_value part;
      if (napi_get_element(env, argv[1], i, &part) != napi_ok ||
          buffer_data(env, part, &iov[i].iov_base, &iov[i].iov_len) != 0) {
        throw_type(env, "sendFrame: part %u must be a Buffer or Uint8Array", i);
        return NULL;
      }
      total += iov[i].iov_len;
    }
    parts = n;
  } else if (buffer_data(env, argv[1], &iov[0].iov_base, &iov[0].iov_len) == 0) {
    parts = 1;
    total = iov[0].iov_len;
  } else {
    throw_type(env, "frame must be a Buffer, a Uint8Array or an array of them");
    return NULL;
  }
  napi_valuetype t;
  if (napi_typeof(env, argv[2], &t) != napi_ok) return NULL;
  if (t != napi_undefined) {
    char address[INET6_ADDRSTRLEN + 1];
    size_t len;
    int64_t port;
    if (t != napi_string || napi_get_value_string_utf8(env, argv[2], address, sizeof address, &len) != napi_ok ||
        len + 1 >= sizeof address) {
      throw_type(env, "address must be an IP address string");
      return NULL;
    }
    if (get_int_arg(env, argv[3], "port", 1, 65535, &port) != 0) return NULL;
    if ((sa_len = parse_inet(address, (int)port, &sa)) == 0) {
      throw_type(env, "sendFrame: '%s' is not an IPv4 or IPv6 address", address);
      return NULL;
    }
  }
  struct msghdr msg = {.msg_name = sa_len ? &sa : NULL, .msg_namelen = sa_len, .msg_iov = iov, .msg_iovlen = parts};
  ssize_t n;
  do n = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    throw_errno(env, errno, "sendmsg", "sendFrame(fd %d, %zu bytes)", fd, total);
    return NULL;
  }
  return make_undefined(env);
}
