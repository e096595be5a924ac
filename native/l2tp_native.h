/*
 * l2tp_native: the kernel calls Node cannot make (AF_PPPOX sockets, /dev/ppp ioctls, L2TP/IP sockets) and a
 * uv_poll reader for the descriptors they return. N-API only (NAPI_VERSION 8), so one build loads in any
 * Node >= 20 and in any number of worker threads: every mutable thing lives in a per-env addon_state.
 */
#ifndef L2TP_NATIVE_H
#define L2TP_NATIVE_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* linux/in.h has it, but glibc's <netinet/in.h> (included first, see sockets.c) does not and hides linux/in.h. */
#ifndef IPPROTO_L2TP
#define IPPROTO_L2TP 115
#endif

/* One datagram or PPP frame; IPv4 cannot carry a larger L2TP/IP or UDP payload. */
#define L2TPN_FRAME_MAX 65535

typedef struct addon_state addon_state;
typedef struct echo_state echo_state;
typedef struct echo_entry echo_entry;

typedef struct watch {
  uv_poll_t poll; /* first member: the uv callbacks cast back to the watch */
  addon_state *st;
  struct watch *prev, *next; /* in st->watches while not closing */
  uint32_t id;
  int fd;
  int dgram;   /* a SOCK_DGRAM socket: a zero-length read is an empty datagram, not end of file */
  int with_source; /* recvfrom(): onFrame also gets the sender's address (an unconnected L2TP/IP listener) */
  int batch;   /* recvmmsg(): onBatch(data, ends) once per batch of datagrams (udp.c's tunnel sockets) */
  int closing; /* uv_close issued; no more reads, no more JS calls */
  int js_released;
  napi_ref on_frame, on_error, resource;
  napi_async_context async_context;
} watch;

struct addon_state {
  napi_env env;
  uv_loop_t *loop;
  watch *watches;
  uint32_t next_watch_id;
  unsigned pending_closes;  /* uv_close issued, close callback not yet run */
  int tearing_down;         /* the env is exiting: JS may no longer be called */
  int finalized;            /* the instance-data finalizer ran; free once pending_closes is 0 */
  napi_async_cleanup_hook_handle teardown; /* set while the env's async cleanup waits for our closes */
  napi_ref error_class;     /* NativeError constructor from the TypeScript loader, if it registered one */
  int *owned;               /* fds this env made (PPPoX, /dev/ppp, L2TP/IP): closed at env teardown */
  size_t nowned, capowned;
  unsigned char frame[L2TPN_FRAME_MAX];
  unsigned char *arena;     /* L2TPN_BATCH_MAX frames for recvmmsg, allocated by the first batch watch */
  echo_state *echo;         /* echo.c: the LCP echo table, made by echoInit() */
};

/* Datagrams per recvmmsg() and per JavaScript call of a batch watch. */
#define L2TPN_BATCH_MAX 32

/* errors.c: every failure becomes a thrown Error carrying code (errno name), syscall and errno. */
const char *errno_name(int err);
napi_value make_error(napi_env env, const char *code, const char *syscall, int err, const char *message);
void throw_errno(napi_env env, int err, const char *syscall, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same with a hint after the errno text ("...: No such file or directory (ENOENT); is ppp_generic loaded?"). */
void throw_errno_hint(napi_env env, int err, const char *syscall, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void throw_napi_failure(napi_env env, const char *what);
void throw_range(napi_env env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void throw_type(napi_env env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Argument readers: 0 on success; otherwise a JS exception is pending. */
int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);
int get_int_arg(napi_env env, napi_value v, const char *name, int64_t min, int64_t max, int64_t *out);
int get_fd_arg(napi_env env, napi_value v, const char *name, int *out);
int get_int_prop(napi_env env, napi_value obj, const char *name, int64_t min, int64_t max, int64_t *out);
int get_bool_prop(napi_env env, napi_value obj, const char *name, int dflt, int *out);
int get_string_prop(napi_env env, napi_value obj, const char *name, char *buf, size_t size);
/* *out = 1 when obj has the property and it is not undefined (optional arguments). */
int has_prop(napi_env env, napi_value obj, const char *name, int *out);
int get_object_arg(napi_env env, napi_value v, const char *name);
napi_value make_int(napi_env env, int64_t n);
napi_value make_undefined(napi_env env);

#define NAPI_OK_OR_THROW(env, call)                                                                                  \
  do {                                                                                                               \
    if ((call) != napi_ok) {                                                                                         \
      throw_napi_failure((env), #call);                                                                              \
      return NULL;                                                                                                   \
    }                                                                                                                \
  } while (0)

/* Exported functions, grouped by file. */
napi_value Pppol2tpConnect(napi_env env, napi_callback_info info);
napi_value L2tpIpSocket(napi_env env, napi_callback_info info);
napi_value SocketPair(napi_env env, napi_callback_info info);

napi_value PppChannelIndex(napi_env env, napi_callback_info info);
napi_value PppOpenChannel(napi_env env, napi_callback_info info);
napi_value PppNewUnit(napi_env env, napi_callback_info info);
napi_value PppConnectChannel(napi_env env, napi_callback_info info);
napi_value PppDisconnectChannel(napi_env env, napi_callback_info info);
napi_value PppSetMru(napi_env env, napi_callback_info info);
napi_value PppSetFlags(napi_env env, napi_callback_info info);
napi_value PppGetFlags(napi_env env, napi_callback_info info);
napi_value PppGetIdle(napi_env env, napi_callback_info info);
napi_value PppSetNpMode(napi_env env, napi_callback_info info);

napi_value WatchStart(napi_env env, napi_callback_info info);
napi_value WatchBatchStart(napi_env env, napi_callback_info info);
napi_value UdpSocket(napi_env env, napi_callback_info info);
napi_value EchoInit(napi_env env, napi_callback_info info);
napi_value EchoAdd(napi_env env, napi_callback_info info);
napi_value EchoRemove(napi_env env, napi_callback_info info);
napi_value EchoStats(napi_env env, napi_callback_info info);
napi_value UdpConnect(napi_env env, napi_callback_info info);
napi_value SendFrame(napi_env env, napi_callback_info info);
napi_value WatchStop(napi_env env, napi_callback_info info);
napi_value WatchActive(napi_env env, napi_callback_info info);
napi_value WriteFrame(napi_env env, napi_callback_info info);
napi_value CloseFd(napi_env env, napi_callback_info info);

/* watch.c, for the env teardown in l2tp_native.c */
void watch_close(watch *w);
addon_state *state_of(napi_env env);
/* A worker that dies must not leave its PPP units and sessions behind: fds made here are this env's until closeFd. */
void fd_own(addon_state *st, int fd);
void fd_disown(addon_state *st, int fd);
void state_release_if_done(addon_state *st);
/* echo.c */
int echo_consume(addon_state *st, int fd, const uint8_t *data, size_t len);
void echo_teardown(addon_state *st);
void echo_free(addon_state *st);

#endif
