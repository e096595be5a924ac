/*
 * /dev/ppp (ppp_generic): a PPPoL2TP socket is a PPP channel; a channel is attached to a /dev/ppp fd and
 * connected to a PPP unit (the pppN interface) — the same sequence pppd's plugins follow. Each function is one
 * ioctl; the two that open /dev/ppp close it again when their ioctl fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
/* linux/ppp-ioctl.h needs the NPmode enum and PPP_* protocol numbers from linux/ppp_defs.h. */
#include <linux/ppp_defs.h>
#include <linux/ppp-ioctl.h>

#include "l2tp_native.h"

static const char PPP_DEV[] = "/dev/ppp";

static int open_ppp(napi_env env, const char *op) {
  int fd = open(PPP_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    const char *hint = err == ENOENT || err == ENXIO || err == ENODEV ? "is the ppp_generic module loaded?" : NULL;
    throw_errno_hint(env, err, "open", hint, "%s: open(%s)", op, PPP_DEV);
  }
  return fd;
}

/* ioctl(fd, req, arg); on failure throws and returns -1. */
static int ppp_ioctl(napi_env env, int fd, unsigned long req, void *arg, const char *op) {
  if (ioctl(fd, req, arg) == 0) return 0;
  throw_errno(env, errno, "ioctl", "%s: ioctl(fd %d)", op, fd);
  return -1;
}

napi_value PppChannelIndex(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd, index = -1;
  if (get_args(env, info, 1, argv) != 0 || get_fd_arg(env, argv[0], "fd", &fd) != 0) return NULL;
  if (ppp_ioctl(env, fd, PPPIOCGCHAN, &index, "pppChannelIndex: PPPIOCGCHAN") != 0) return NULL;
  return make_int(env, index);
}

napi_value PppOpenChannel(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t index;
  if (get_args(env, info, 1, argv) != 0 || get_int_arg(env, argv[0], "channelIndex", 0, INT32_MAX, &index) != 0)
    return NULL;
  int fd = open_ppp(env, "pppOpenChannel");
  if (fd < 0) return NULL;
  int chan = (int)index;
  if (ppp_ioctl(env, fd, PPPIOCATTCHAN, &chan, "pppOpenChannel: PPPIOCATTCHAN") != 0) {
    close(fd);
    return NULL;
  }
  fd_own(state_of(env), fd);
  return make_int(env, fd);
}

napi_value PppNewUnit(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  int64_t wanted;
  if (get_args(env, info, 1, argv) != 0 || get_int_arg(env, argv[0], "unit", -1, INT32_MAX, &wanted) != 0)
    return NULL;
  int fd = open_ppp(env, "pppNewUnit");
  if (fd < 0) return NULL;
  int unit = (int)wanted; /* -1: the kernel picks the lowest free unit number and writes it back */
  if (ppp_ioctl(env, fd, PPPIOCNEWUNIT, &unit, "pppNewUnit: PPPIOCNEWUNIT") != 0) {
    close(fd);
    return NULL;
  }
  if (napi_create_object(env, &result) != napi_ok ||
      napi_set_named_property(env, result, "fd", make_int(env, fd)) != napi_ok ||
      napi_set_named_property(env, result, "unit", make_int(env, unit)) != napi_ok) {
    close(fd);
    throw_napi_failure(env, "pppNewUnit: building the result");
    return NULL;
  }
  fd_own(state_of(env), fd);
  return result;
}

/* The setters: (fd, int value) -> one ioctl with a pointer to that int. */
static napi_value int_setter(napi_env env, napi_callback_info info, const char *name, int64_t min, int64_t max,
                             unsigned long req, const char *op) {
  napi_value argv[2];
  int fd;
  int64_t value;
  if (get_args(env, info, 2, argv) != 0 || get_fd_arg(env, argv[0], "fd", &fd) != 0 ||
      get_int_arg(env, argv[1], name, min, max, &value) != 0)
    return NULL;
  int v = (int)(uint32_t)value; /* flags are a bit mask: 0xffffffff is -1 to the kernel, as in pppd */
  if (ppp_ioctl(env, fd, req, &v, op) != 0) return NULL;
  return make_undefined(env);
}

napi_value PppConnectChannel(napi_env env, napi_callback_info info) {
  return int_setter(env, info, "unit", 0, INT32_MAX, PPPIOCCONNECT, "pppConnectChannel: PPPIOCCONNECT");
}

napi_value PppSetMru(napi_env env, napi_callback_info info) {
  return int_setter(env, info, "mru", 0, INT32_MAX, PPPIOCSMRU, "pppSetMru: PPPIOCSMRU");
}

napi_value PppSetFlags(napi_env env, napi_callback_info info) {
  return int_setter(env, info, "flags", 0, UINT32_MAX, PPPIOCSFLAGS, "pppSetFlags: PPPIOCSFLAGS");
}

napi_value PppDisconnectChannel(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (get_args(env, info, 1, argv) != 0 || get_fd_arg(env, argv[0], "channelFd", &fd) != 0) return NULL;
  if (ioctl(fd, PPPIOCDISCONN) != 0) {
    throw_errno(env, errno, "ioctl", "pppDisconnectChannel: PPPIOCDISCONN: ioctl(fd %d)", fd);
    return NULL;
  }
  return make_undefined(env);
}

napi_value PppGetFlags(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd, flags = 0;
  if (get_args(env, info, 1, argv) != 0 || get_fd_arg(env, argv[0], "fd", &fd) != 0) return NULL;
  if (ppp_ioctl(env, fd, PPPIOCGFLAGS, &flags, "pppGetFlags: PPPIOCGFLAGS") != 0) return NULL;
  return make_int(env, (uint32_t)flags);
}

napi_value PppSetNpMode(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  int64_t protocol, mode;
  if (get_args(env, info, 3, argv) != 0 || get_fd_arg(env, argv[0], "unitFd", &fd) != 0 ||
      get_int_arg(env, argv[1], "protocol", 0, 0xffff, &protocol) != 0 ||
      get_int_arg(env, argv[2], "mode", NPMODE_PASS, NPMODE_QUEUE, &mode) != 0)
    return NULL;
  struct npioctl npi = {.protocol = (int)protocol, .mode = (enum NPmode)mode};
  if (ppp_ioctl(env, fd, PPPIOCSNPMODE, &npi, "pppSetNpMode: PPPIOCSNPMODE") != 0) return NULL;
  return make_undefined(env);
}

/* Seconds since the unit last sent and received a network-protocol (data) packet: what pppd's `idle` uses.
 * Control frames (LCP echo...) do not count, so keepalives never hide an idle subscriber. */
napi_value PppGetIdle(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (get_args(env, info, 1, argv) != 0 || get_fd_arg(env, argv[0], "unitFd", &fd) != 0) return NULL;
  struct ppp_idle idle = {0};
  if (ppp_ioctl(env, fd, PPPIOCGIDLE, &idle, "pppGetIdle: PPPIOCGIDLE") != 0) return NULL;
  napi_value obj, x, r;
  if (napi_create_object(env, &obj) != napi_ok || napi_create_double(env, (double)idle.xmit_idle, &x) != napi_ok ||
      napi_create_double(env, (double)idle.recv_idle, &r) != napi_ok || napi_set_named_property(env, obj, "xmitIdle", x) != napi_ok ||
      napi_set_named_property(env, obj, "recvIdle", r) != napi_ok)
    return NULL;
  return obj;
}
