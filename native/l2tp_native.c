/*
 * Module registration and per-env state. NAPI_MODULE_INIT runs once per env (the main thread and each worker
 * thread that loads the addon); everything mutable hangs off that env's addon_state, never off a static.
 *
 * Env teardown (a worker exiting or terminated): an async cleanup hook closes every open uv_poll and holds the
 * env's exit until the last uv_close callback has run, so no callback ever fires into a dead env and no handle
 * is left on a loop that is about to be closed.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
/* After <netinet/in.h>: linux/libc-compat.h then skips the kernel's duplicate in/in6 definitions. */
#include <linux/if_pppox.h>
#include <linux/ppp_defs.h>
#include <linux/ppp-ioctl.h>

#include "l2tp_native.h"

static void on_env_teardown(napi_async_cleanup_hook_handle handle, void *arg) {
  addon_state *st = arg;
  st->tearing_down = 1;
  st->teardown = handle;
  while (st->watches != NULL) watch_close(st->watches);
  echo_teardown(st);
  /* uv_close above removed the fds from epoll synchronously: closing them now deletes the kernel objects
   * (PPP units, PPPoL2TP sessions, L2TP/IP tunnels) a dead worker would otherwise leave behind. */
  for (size_t i = 0; i < st->nowned; i++) close(st->owned[i]);
  st->nowned = 0;
  free(st->owned);
  st->owned = NULL;
  st->capowned = 0;
  if (st->error_class != NULL) {
    napi_delete_reference(st->env, st->error_class);
    st->error_class = NULL;
  }
  state_release_if_done(st); /* removes the hook now, or from the last close callback */
}

void fd_own(addon_state *st, int fd) {
  if (st == NULL || fd < 0) return;
  if (st->nowned == st->capowned) {
    size_t cap = st->capowned ? st->capowned * 2 : 64;
    int *grown = realloc(st->owned, cap * sizeof *grown);
    if (grown == NULL) return; /* not tracked: only the teardown close is lost */
    st->owned = grown;
    st->capowned = cap;
  }
  st->owned[st->nowned++] = fd;
}

void fd_disown(addon_state *st, int fd) {
  if (st == NULL) return;
  for (size_t i = 0; i < st->nowned; i++) {
    if (st->owned[i] == fd) {
      st->owned[i] = st->owned[--st->nowned];
      return;
    }
  }
}

static void on_instance_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  addon_state *st = data;
  st->finalized = 1;
  state_release_if_done(st);
}

/* setErrorClass(ctor): the TypeScript loader's NativeError, built as new ctor(message, code, syscall, errno). */
static napi_value SetErrorClass(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  napi_valuetype t;
  addon_state *st = state_of(env);
  if (get_args(env, info, 1, argv) != 0) return NULL;
  if (napi_typeof(env, argv[0], &t) != napi_ok || t != napi_function) {
    throw_type(env, "setErrorClass needs a constructor");
    return NULL;
  }
  if (st->error_class != NULL) napi_delete_reference(env, st->error_class);
  st->error_class = NULL;
  NAPI_OK_OR_THROW(env, napi_create_reference(env, argv[0], 1, &st->error_class));
  return make_undefined(env);
}

/* The kernel's numbers as this build saw them, so the TypeScript tables can be checked against the headers. */
static napi_value make_constants(napi_env env) {
  static const struct {
    const char *name;
    int64_t value;
  } table[] = {
      {"AF_PPPOX", AF_PPPOX},
      {"PX_PROTO_OL2TP", PX_PROTO_OL2TP},
      {"IPPROTO_L2TP", IPPROTO_L2TP},
      {"SC_COMP_PROT", SC_COMP_PROT},
      {"SC_COMP_AC", SC_COMP_AC},
      {"SC_COMP_TCP", SC_COMP_TCP},
      {"SC_NO_TCP_CCID", SC_NO_TCP_CCID},
      {"SC_REJ_COMP_AC", SC_REJ_COMP_AC},
      {"SC_REJ_COMP_TCP", SC_REJ_COMP_TCP},
      {"SC_CCP_OPEN", SC_CCP_OPEN},
      {"SC_CCP_UP", SC_CCP_UP},
      {"SC_ENABLE_IP", SC_ENABLE_IP},
      {"SC_LOOP_TRAFFIC", SC_LOOP_TRAFFIC},
      {"SC_MULTILINK", SC_MULTILINK},
      {"SC_MP_SHORTSEQ", SC_MP_SHORTSEQ},
      {"SC_MP_XSHORTSEQ", SC_MP_XSHORTSEQ},
      {"SC_DEBUG", SC_DEBUG},
      {"SC_SYNC", SC_SYNC},
      {"SC_MUST_COMP", SC_MUST_COMP},
      {"NPMODE_PASS", NPMODE_PASS},
      {"NPMODE_DROP", NPMODE_DROP},
      {"NPMODE_ERROR", NPMODE_ERROR},
      {"NPMODE_QUEUE", NPMODE_QUEUE},
      {"PPP_IP", PPP_IP},
      {"PPP_IPV6", PPP_IPV6},
      {"PPP_MRU", PPP_MRU},
  };
  napi_value obj;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (napi_set_named_property(env, obj, table[i].name, make_int(env, table[i].value)) != napi_ok) return NULL;
  return obj;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  addon_state *st = calloc(1, sizeof *st);
  if (st == NULL) {
    napi_throw_error(env, "ENOMEM", "l2tp_native: out of memory for the addon state");
    return NULL;
  }
  st->env = env;
  if (napi_get_uv_event_loop(env, &st->loop) != napi_ok ||
      napi_set_instance_data(env, st, on_instance_finalize, NULL) != napi_ok) {
    free(st);
    throw_napi_failure(env, "l2tp_native: init");
    return NULL;
  }
  /* From here st belongs to the env: the instance-data finalizer frees it. */
  NAPI_OK_OR_THROW(env, napi_add_async_cleanup_hook(env, on_env_teardown, st, NULL));

  static const struct {
    const char *name;
    napi_callback fn;
  } functions[] = {
      {"pppol2tpConnect", Pppol2tpConnect},
      {"l2tpIpSocket", L2tpIpSocket},
      {"socketPair", SocketPair},
      {"pppChannelIndex", PppChannelIndex},
      {"pppOpenChannel", PppOpenChannel},
      {"pppNewUnit", PppNewUnit},
      {"pppConnectChannel", PppConnectChannel},
      {"pppDisconnectChannel", PppDisconnectChannel},
      {"pppSetMru", PppSetMru},
      {"pppSetFlags", PppSetFlags},
      {"pppGetFlags", PppGetFlags},
      {"pppGetIdle", PppGetIdle},
      {"pppSetNpMode", PppSetNpMode},
      {"watchStart", WatchStart},
      {"watchBatchStart", WatchBatchStart},
      {"udpSocket", UdpSocket},
      {"echoInit", EchoInit},
      {"echoAdd", EchoAdd},
      {"echoRemove", EchoRemove},
      {"echoStats", EchoStats},
      {"udpConnect", UdpConnect},
      {"sendFrame", SendFrame},
      {"watchStop", WatchStop},
      {"watchActive", WatchActive},
      {"writeFrame", WriteFrame},
      {"closeFd", CloseFd},
      {"setErrorClass", SetErrorClass},
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    napi_value fn;
    NAPI_OK_OR_THROW(env, napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].fn, NULL, &fn));
    NAPI_OK_OR_THROW(env, napi_set_named_property(env, exports, functions[i].name, fn));
  }
  napi_value constants = make_constants(env);
  if (constants == NULL) {
    throw_napi_failure(env, "l2tp_native: constants");
    return NULL;
  }
  NAPI_OK_OR_THROW(env, napi_set_named_property(env, exports, "constants", constants));
  return exports;
}
