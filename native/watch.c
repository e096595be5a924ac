/*
 * The reader: a uv_poll per watched descriptor on the env's own loop. Each wakeup reads frames until EAGAIN and
 * calls the JS callback once per frame inside one callback scope (so promise jobs run once per wakeup, not per
 * frame). The watch never owns the fd; closeFd() stops the env's watches on an fd before closing it, because
 * libuv must drop its epoll registration while the fd number still means the same file.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "l2tp_native.h"

/*
 * Frames per wakeup before yielding to the rest of the loop. uv_poll is level-triggered, so what is left is read
 * on the next iteration; without the cap one flooded fd could starve timers and other sockets.
 */
#define FRAMES_PER_WAKEUP 1024

static void on_poll(uv_poll_t *h, int status, int events);

static void release_js(watch *w) {
  if (w->js_released) return;
  w->js_released = 1;
  napi_env env = w->st->env;
  if (w->on_frame) napi_delete_reference(env, w->on_frame);
  if (w->on_error) napi_delete_reference(env, w->on_error);
  if (w->resource) napi_delete_reference(env, w->resource);
  if (w->async_context) napi_async_destroy(env, w->async_context);
  w->on_frame = w->on_error = w->resource = NULL;
  w->async_context = NULL;
}

void state_release_if_done(addon_state *st) {
  if (st->pending_closes != 0) return;
  if (st->teardown != NULL) {
    napi_async_cleanup_hook_handle h = st->teardown;
    st->teardown = NULL;
    napi_remove_async_cleanup_hook(h); /* lets the env finish exiting */
  }
  if (st->finalized) {
    echo_free(st);
    free(st->arena);
    free(st);
  }
}

static void on_closed(uv_handle_t *h) {
  watch *w = (watch *)h;
  addon_state *st = w->st;
  free(w);
  st->pending_closes--;
  state_release_if_done(st);
}

/* Stop reading at once and let libuv forget the fd; safe to call twice and from inside the watch's callback. */
void watch_close(watch *w) {
  if (w->closing) return;
  addon_state *st = w->st;
  w->closing = 1;
  if (w->prev) w->prev->next = w->next;
  else st->watches = w->next;
  if (w->next) w->next->prev = w->prev;
  w->prev = w->next = NULL;
  uv_poll_stop(&w->poll);
  release_js(w); /* the env is still alive here: teardown closes every watch before it lets the env go */
  st->pending_closes++;
  uv_close((uv_handle_t *)&w->poll, on_closed);
}

/* A JS call failed: a thrown exception becomes an uncaught exception, as for any Node event callback. */
static void after_failed_call(watch *w) {
  napi_env env = w->st->env;
  napi_value exc;
  napi_valuetype t = napi_undefined;
  if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_typeof(env, exc, &t);
  if (t == napi_undefined) {
    /* Nothing was thrown: JS cannot run (the env is stopping). Stop polling; teardown will close the watch.
     * (libuv asserts that a closing handle is not stopped again.) */
    if (!w->closing) uv_poll_stop(&w->poll);
    return;
  }
  napi_fatal_exception(env, exc);
}

/* The sender of a datagram as text (IPv4 or IPv6), or undefined for any other family (AF_UNIX, unnamed). */
static napi_value source_value(napi_env env, const struct sockaddr_storage *from, socklen_t len) {
  char text[INET6_ADDRSTRLEN];
  const void *addr = NULL;
  napi_value v;
  if (len >= sizeof(struct sockaddr_in) && from->ss_family == AF_INET)
    addr = &((const struct sockaddr_in *)from)->sin_addr;
  else if (len >= sizeof(struct sockaddr_in6) && from->ss_family == AF_INET6)
    addr = &((const struct sockaddr_in6 *)from)->sin6_addr;
  if (addr == NULL || inet_ntop(from->ss_family, addr, text, sizeof text) == NULL ||
      napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v) != napi_ok)
    napi_get_undefined(env, &v);
  return v;
}

/* Returns 0 when the loop should stop reading this wakeup. `from` is NULL unless the watch asked for sources. */
static int deliver_frame(watch *w, const void *data, size_t len, const struct sockaddr_storage *from,
                         socklen_t from_len) {
  napi_env env = w->st->env;
  napi_handle_scope scope;
  napi_value args[2], fn, recv;
  int ok = 0;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return 0;
  if (napi_create_buffer_copy(env, len, data, NULL, &args[0]) == napi_ok &&
      napi_get_reference_value(env, w->on_frame, &fn) == napi_ok && napi_get_undefined(env, &recv) == napi_ok) {
    size_t argc = 1;
    if (from != NULL) args[argc++] = source_value(env, from, from_len);
    if (napi_call_function(env, recv, fn, argc, args, NULL) == napi_ok) ok = 1;
    else after_failed_call(w);
  }
  napi_close_handle_scope(env, scope);
  return ok;
}

/*
 * A datagram socket's pending error (sk_err, set from an ICMP message): read() or SO_ERROR reports it once and
 * clears it, and the socket goes on working. Reported, not fatal: one ICMP unreachable must not deafen a tunnel.
 */
static int transient(const watch *w, int err) {
  if (!w->dgram) return 0;
  switch (err) {
  case ECONNREFUSED: case EHOSTUNREACH: case ENETUNREACH: case EHOSTDOWN: case ENETDOWN: case ENONET:
  case EPROTO: case EMSGSIZE: case ENOPROTOOPT: case EACCES: case ETIMEDOUT: case ECONNRESET: case ENOBUFS:
  case ENOMEM:
    return 1;
  default:
    return 0;
  }
}

/*
 * onError hears about err (0: end of file). The watch ends first, so the callback sees it inactive, unless the
 * error is transient and may_go_on. Returns 1 when the watch goes on.
 */
static int deliver_error(watch *w, int err, const char *syscall, int may_go_on) {
  napi_env env = w->st->env;
  napi_value fn = NULL, recv, e;
  char message[256], errbuf[128];
  int goes_on = may_go_on && transient(w, err);
  if (w->on_error) napi_get_reference_value(env, w->on_error, &fn);
  if (err == 0) {
    snprintf(message, sizeof message,
             "watch(fd %d): end of file (the peer closed the socket or the PPP channel or unit was torn down)", w->fd);
    e = make_error(env, "EOF", syscall, 0, message);
  } else {
    snprintf(message, sizeof message, "watch(fd %d): %s: %s (%s)%s", w->fd, syscall,
             strerror_r(err, errbuf, sizeof errbuf), errno_name(err), goes_on ? "; the watch goes on" : "");
    e = make_error(env, errno_name(err), syscall, err, message);
  }
  if (!goes_on) watch_close(w);
  if (fn != NULL && e != NULL && napi_get_undefined(env, &recv) == napi_ok &&
      napi_call_function(env, recv, fn, 1, &e, NULL) != napi_ok)
    after_failed_call(w);
  return goes_on && !w->closing;
}

static void read_frames(watch *w) {
  unsigned char *frame = w->st->frame;
  struct sockaddr_storage from;
  socklen_t from_len = 0;
  for (int n = 0; n < FRAMES_PER_WAKEUP && !w->closing; n++) {
    ssize_t r;
    if (w->with_source) {
      from_len = sizeof from;
      r = recvfrom(w->fd, frame, L2TPN_FRAME_MAX, 0, (struct sockaddr *)&from, &from_len);
    } else {
      r = read(w->fd, frame, L2TPN_FRAME_MAX);
    }
    if (r < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK || !deliver_error(w, err, "read", 1)) return;
      continue;
    }
    if (r == 0 && !w->dgram) {
      deliver_error(w, 0, "read", 0);
      return;
    }
    if (!deliver_frame(w, frame, (size_t)r, w->with_source ? &from : NULL, from_len)) return;
  }
}

/*
 * A datagram's sender in SOURCE_WORDS words: family (4, 6, or 0 for anything else), the address (IPv4 in word 1 as
 * a host-order number; IPv6 in words 1-4, each host order of 4 network-order octets), and the port.
 */
#define SOURCE_WORDS 6

static void fill_source(uint32_t *out, const struct sockaddr_storage *from, socklen_t len) {
  memset(out, 0, SOURCE_WORDS * sizeof *out);
  if (len >= sizeof(struct sockaddr_in) && from->ss_family == AF_INET) {
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)from;
    out[0] = 4;
    out[1] = ntohl(v4->sin_addr.s_addr);
    out[5] = ntohs(v4->sin_port);
  } else if (len >= sizeof(struct sockaddr_in6) && from->ss_family == AF_INET6) {
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)from;
    uint32_t words[4];
    memcpy(words, &v6->sin6_addr, sizeof words);
    out[0] = 6;
    for (int i = 0; i < 4; i++) out[1 + i] = ntohl(words[i]);
    out[5] = ntohs(v6->sin6_port);
  }
}

/*
 * One JavaScript call for a batch: onBatch(data, ends[, sources]), data holding the datagrams back to back, ends[i]
 * the offset where datagram i ends, and for a watch with sources each sender as SOURCE_WORDS words. Returns 0 when
 * the loop should stop reading this wakeup.
 */
static int deliver_batch(watch *w, const struct mmsghdr *msgs, const struct sockaddr_storage *from, int n,
                         const uint8_t *skip) {
  napi_env env = w->st->env;
  napi_handle_scope scope;
  napi_value args[3], fn, recv, ends_buffer, sources_buffer;
  void *data = NULL, *ends_data = NULL, *sources_data = NULL;
  size_t argc = 2;
  size_t total = 0;
  int ok = 0;
  int kept = 0;
  for (int i = 0; i < n; i++)
    if (!skip[i]) {
      total += msgs[i].msg_len;
      kept++;
    }
  if (kept == 0) return 1; /* all taken by the echo table: nothing for JavaScript */
  if (napi_open_handle_scope(env, &scope) != napi_ok) return 0;
  if (napi_create_buffer(env, total, &data, &args[0]) == napi_ok &&
      napi_create_arraybuffer(env, (size_t)kept * sizeof(uint32_t), &ends_data, &ends_buffer) == napi_ok &&
      napi_create_typedarray(env, napi_uint32_array, (size_t)kept, ends_buffer, 0, &args[1]) == napi_ok &&
      (!w->with_source || (napi_create_arraybuffer(env, (size_t)kept * SOURCE_WORDS * sizeof(uint32_t), &sources_data,
                                                   &sources_buffer) == napi_ok &&
                           napi_create_typedarray(env, napi_uint32_array, (size_t)kept * SOURCE_WORDS, sources_buffer, 0,
                                                  &args[argc++]) == napi_ok)) &&
      napi_get_reference_value(env, w->on_frame, &fn) == napi_ok && napi_get_undefined(env, &recv) == napi_ok) {
    uint32_t *ends = ends_data;
    size_t at = 0;
    for (int i = 0, k = 0; i < n; i++) {
      if (skip[i]) continue;
      if (msgs[i].msg_len > 0) memcpy((unsigned char *)data + at, msgs[i].msg_hdr.msg_iov->iov_base, msgs[i].msg_len);
      at += msgs[i].msg_len;
      ends[k] = (uint32_t)at;
      if (sources_data != NULL)
        fill_source((uint32_t *)sources_data + (size_t)k * SOURCE_WORDS, &from[i], msgs[i].msg_hdr.msg_namelen);
      k++;
    }
    if (napi_call_function(env, recv, fn, argc, args, NULL) == napi_ok) ok = 1;
    else after_failed_call(w);
  }
  napi_close_handle_scope(env, scope);
  return ok;
}

/*
 * recvmmsg() into the env's arena, L2TPN_BATCH_MAX datagrams at a time. A short batch means the queue was empty
 * when the kernel looked: stop there rather than pay for the EAGAIN call (the poll is level-triggered, so what
 * arrived since is read on the next loop turn).
 */
static void read_batch(watch *w) {
  addon_state *st = w->st;
  struct mmsghdr msgs[L2TPN_BATCH_MAX];
  struct iovec iov[L2TPN_BATCH_MAX];
  struct sockaddr_storage from[L2TPN_BATCH_MAX];
  if (st->arena == NULL && (st->arena = malloc((size_t)L2TPN_BATCH_MAX * L2TPN_FRAME_MAX)) == NULL) {
    deliver_error(w, ENOMEM, "malloc", 0);
    return;
  }
  for (int total = 0; total < FRAMES_PER_WAKEUP && !w->closing;) {
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < L2TPN_BATCH_MAX; i++) {
      iov[i].iov_base = st->arena + (size_t)i * L2TPN_FRAME_MAX;
      iov[i].iov_len = L2TPN_FRAME_MAX;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      if (w->with_source) {
        msgs[i].msg_hdr.msg_name = &from[i];
        msgs[i].msg_hdr.msg_namelen = sizeof from[i];
      }
    }
    int n = recvmmsg(w->fd, msgs, L2TPN_BATCH_MAX, MSG_DONTWAIT, NULL);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK || !deliver_error(w, err, "recvmmsg", 1)) return;
      continue;
    }
    if (n == 0) return;
    uint8_t skip[L2TPN_BATCH_MAX];
    for (int i = 0; i < n; i++)
      skip[i] = (uint8_t)(!w->with_source && echo_consume(st, w->fd, msgs[i].msg_hdr.msg_iov->iov_base, msgs[i].msg_len));
    if (!deliver_batch(w, msgs, from, n, skip)) return;
    total += n;
    if (n < L2TPN_BATCH_MAX) return;
  }
}

static void read_ready(watch *w) {
  if (w->batch) read_batch(w);
  else read_frames(w);
}

/* libuv saw POLLERR, stopped the handle and says EBADF whatever the cause; a socket's SO_ERROR says which. */
static void poll_error(watch *w, int status) {
  int err = -status, so_error = 0;
  socklen_t len = sizeof so_error;
  if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 && so_error != 0) err = so_error;
  if (!deliver_error(w, err, "poll", 1)) return;
  int rc = uv_poll_start(&w->poll, UV_READABLE, on_poll);
  if (rc != 0) deliver_error(w, -rc, "uv_poll_start", 0);
  else read_ready(w);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)events;
  watch *w = (watch *)h;
  addon_state *st = w->st;
  if (w->closing || st->tearing_down) return;
  napi_env env = st->env;
  napi_handle_scope scope;
  napi_callback_scope cb_scope;
  napi_value resource;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (napi_get_reference_value(env, w->resource, &resource) != napi_ok ||
      napi_open_callback_scope(env, resource, w->async_context, &cb_scope) != napi_ok) {
    uv_poll_stop(&w->poll); /* cannot call JS: stop rather than spin on a readable fd */
    napi_close_handle_scope(env, scope);
    return;
  }
  if (status < 0) poll_error(w, status);
  else read_ready(w);
  napi_close_callback_scope(env, cb_scope);
  napi_close_handle_scope(env, scope);
}

static int is_function(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && t == napi_function;
}

/* watchStart(fd, onFrame, onError?, withSource?) -> watch id; withSource: onFrame(frame, sourceAddress) via recvfrom
 * watchBatchStart(fd, onBatch, onError?, withSource?) -> watch id: a datagram socket read with recvmmsg,
 * onBatch(data, ends) or with sources onBatch(data, ends, sources) */
static napi_value start_watch(napi_env env, napi_callback_info info, int batch) {
  napi_value argv[4], resource, name;
  int fd;
  bool with_source = false;
  addon_state *st = state_of(env);
  if (get_args(env, info, 4, argv) != 0 || get_fd_arg(env, argv[0], "fd", &fd) != 0) return NULL;
  if (!is_function(env, argv[1])) {
    throw_type(env, batch ? "onBatch must be a function" : "onFrame must be a function");
    return NULL;
  }
  napi_valuetype t;
  if (napi_typeof(env, argv[2], &t) != napi_ok || (t != napi_undefined && t != napi_function)) {
    throw_type(env, "onError must be a function or undefined");
    return NULL;
  }
  napi_valuetype ts;
  if (napi_typeof(env, argv[3], &ts) != napi_ok || (ts != napi_undefined && ts != napi_boolean) ||
      (ts == napi_boolean && napi_get_value_bool(env, argv[3], &with_source) != napi_ok)) {
    throw_type(env, "withSource must be a boolean or undefined");
    return NULL;
  }
  if (st == NULL || st->tearing_down) {
    napi_throw_error(env, "ERR_NAPI", "watch: the addon's environment is shutting down");
    return NULL;
  }
  watch *w = calloc(1, sizeof *w);
  if (w == NULL) {
    throw_errno(env, ENOMEM, "malloc", "watch(fd %d)", fd);
    return NULL;
  }
  w->st = st;
  w->fd = fd;
  int type = 0;
  socklen_t type_len = sizeof type;
  int is_socket = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) == 0;
  if (with_source && !is_socket) {
    free(w);
    throw_errno(env, ENOTSOCK, "getsockopt", "watch(fd %d): a source address needs a socket", fd);
    return NULL;
  }
  w->dgram = is_socket && type == SOCK_DGRAM;
  if (batch && !w->dgram) {
    free(w);
    throw_errno(env, is_socket ? EPROTOTYPE : ENOTSOCK, "getsockopt", "watchBatch(fd %d): needs a datagram socket", fd);
    return NULL;
  }
  w->with_source = with_source;
  w->batch = batch;
  /* uv_poll_init checks the fd can be polled (EBADF, EPERM for regular files, EEXIST if already watched). */
  int rc = uv_poll_init(st->loop, &w->poll, fd);
  if (rc != 0) {
    free(w);
    throw_errno(env, -rc, "uv_poll_init", "watch(fd %d)", fd);
    return NULL;
  }
  w->poll.data = w;
  if (napi_create_object(env, &resource) != napi_ok ||
      napi_create_string_utf8(env, "l2tp_native.watch", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, resource, name, &w->async_context) != napi_ok ||
      napi_create_reference(env, resource, 1, &w->resource) != napi_ok ||
      napi_create_reference(env, argv[1], 1, &w->on_frame) != napi_ok ||
      (t == napi_function && napi_create_reference(env, argv[2], 1, &w->on_error) != napi_ok) ||
      (rc = uv_poll_start(&w->poll, UV_READABLE, on_poll)) != 0) {
    w->closing = 1; /* not linked yet; close the handle and release what was made */
    release_js(w);
    st->pending_closes++;
    uv_close((uv_handle_t *)&w->poll, on_closed);
    if (rc != 0) throw_errno(env, -rc, "uv_poll_start", "watch(fd %d)", fd);
    else throw_napi_failure(env, "watch: creating references");
    return NULL;
  }
  w->id = ++st->next_watch_id;
  w->next = st->watches;
  if (w->next) w->next->prev = w;
  st->watches = w;
  return make_int(env, w->id);
}

napi_value WatchStart(napi_env env, napi_callback_info info) { return start_watch(env, info, 0); }

napi_value WatchBatchStart(napi_env env, napi_callback_info info) { return start_watch(env, info, 1); }

static watch *find_watch(addon_state *st, uint32_t id) {
  for (watch *w = st ? st->watches : NULL; w != NULL; w = w->next)
    if (w->id == id) return w;
  return NULL;
}

static int get_watch_id(napi_env env, napi_callback_info info, uint32_t *id) {
  napi_value argv[1];
  int64_t n;
  if (get_args(env, info, 1, argv) != 0 || get_int_arg(env, argv[0], "watchId", 0, UINT32_MAX, &n) != 0) return -1;
  *id = (uint32_t)n;
  return 0;
}

/* watchStop(id): idempotent; an id that already ended (EOF, error, closeFd) is not an error. */
napi_value WatchStop(napi_env env, napi_callback_info info) {
  uint32_t id;
  if (get_watch_id(env, info, &id) != 0) return NULL;
  watch *w = find_watch(state_of(env), id);
  if (w != NULL) watch_close(w);
  return make_undefined(env);
}

napi_value WatchActive(napi_env env, napi_callback_info info) {
  uint32_t id;
  napi_value b;
  if (get_watch_id(env, info, &id) != 0) return NULL;
  if (napi_get_boolean(env, find_watch(state_of(env), id) != NULL, &b) != napi_ok) return NULL;
  return b;
}

napi_value WriteFrame(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  void *data = NULL;
  size_t len = 0;
  bool is_buffer = false, is_typed = false;
  if (get_args(env, info, 2, argv) != 0 || get_fd_arg(env, argv[0], "fd", &fd) != 0) return NULL;
  if (napi_is_buffer(env, argv[1], &is_buffer) == napi_ok && is_buffer) {
    NAPI_OK_OR_THROW(env, napi_get_buffer_info(env, argv[1], &data, &len));
  } else if (napi_is_typedarray(env, argv[1], &is_typed) == napi_ok && is_typed) {
    napi_typedarray_type type;
    size_t count, offset;
    napi_value ab;
    NAPI_OK_OR_THROW(env, napi_get_typedarray_info(env, argv[1], &type, &count, &data, &ab, &offset));
    if (type != napi_uint8_array) {
      throw_type(env, "frame must be a Buffer or Uint8Array");
      return NULL;
    }
    len = count;
  } else {
    throw_type(env, "frame must be a Buffer or Uint8Array");
    return NULL;
  }
  ssize_t n;
  do n = write(fd, data, len);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    throw_errno(env, errno, "write", "writeFrame(fd %d, %zu bytes)", fd, len);
    return NULL;
  }
  if ((size_t)n != len) {
    /* Datagram, seqpacket and /dev/ppp writes are all-or-nothing; a short write means a byte stream. */
    throw_errno(env, EMSGSIZE, "write", "writeFrame(fd %d): wrote %zd of %zu bytes; not a frame-oriented fd", fd,
                n, len);
    return NULL;
  }
  return make_undefined(env);
}

napi_value CloseFd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  addon_state *st = state_of(env);
  if (get_args(env, info, 1, argv) != 0 || get_fd_arg(env, argv[0], "fd", &fd) != 0) return NULL;
  for (watch *w = st ? st->watches : NULL, *next; w != NULL; w = next) {
    next = w->next;
    if (w->fd == fd) watch_close(w);
  }
  fd_disown(st, fd);
  /* No retry on EINTR: Linux has released the fd by then, and a retry could close someone else's. */
  if (close(fd) != 0) {
    throw_errno(env, errno, "close", "closeFd(%d)", fd);
    return NULL;
  }
  return make_undefined(env);
}
