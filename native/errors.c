/*
 * Errors and argument readers. Every failure is thrown as an Error with `code` (the errno name, as Node's own
 * system errors carry it), `syscall`, `errno` (negative, as in Node) and a message naming the operation, so the
 * TypeScript side can count EAGAIN or explain ENOENT without parsing text.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "l2tp_native.h"

#define E(name) {name, #name},
static const struct {
  int err;
  const char *name;
} errno_table[] = {
    /* Generated from asm-generic/errno-base.h and errno.h; names, not numbers, because numbers vary by arch. */
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD) E(EAGAIN) E(ENOMEM)
    E(EACCES) E(EFAULT) E(ENOTBLK) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE)
    E(EMFILE) E(ENOTTY) E(ETXTBSY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE) E(EDOM) E(ERANGE)
    E(EDEADLK) E(ENAMETOOLONG) E(ENOLCK) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENOMSG) E(EIDRM) E(ECHRNG) E(EL2NSYNC)
    E(EL3HLT) E(EL3RST) E(ELNRNG) E(EUNATCH) E(ENOCSI) E(EL2HLT) E(EBADE) E(EBADR) E(EXFULL) E(ENOANO) E(EBADRQC)
    E(EBADSLT) E(EBFONT) E(ENOSTR) E(ENODATA) E(ETIME) E(ENOSR) E(ENONET) E(ENOPKG) E(EREMOTE) E(ENOLINK) E(EADV)
    E(ESRMNT) E(ECOMM) E(EPROTO) E(EMULTIHOP) E(EDOTDOT) E(EBADMSG) E(EOVERFLOW) E(ENOTUNIQ) E(EBADFD) E(EREMCHG)
    E(ELIBACC) E(ELIBBAD) E(ELIBSCN) E(ELIBMAX) E(ELIBEXEC) E(EILSEQ) E(ERESTART) E(ESTRPIPE) E(EUSERS) E(ENOTSOCK)
    E(EDESTADDRREQ) E(EMSGSIZE) E(EPROTOTYPE) E(ENOPROTOOPT) E(EPROTONOSUPPORT) E(ESOCKTNOSUPPORT) E(EOPNOTSUPP)
    E(EPFNOSUPPORT) E(EAFNOSUPPORT) E(EADDRINUSE) E(EADDRNOTAVAIL) E(ENETDOWN) E(ENETUNREACH) E(ENETRESET)
    E(ECONNABORTED) E(ECONNRESET) E(ENOBUFS) E(EISCONN) E(ENOTCONN) E(ESHUTDOWN) E(ETOOMANYREFS) E(ETIMEDOUT)
    E(ECONNREFUSED) E(EHOSTDOWN) E(EHOSTUNREACH) E(EALREADY) E(EINPROGRESS) E(ESTALE) E(EUCLEAN) E(ENOTNAM) E(ENAVAIL)
    E(EISNAM) E(EREMOTEIO) E(EDQUOT) E(ENOMEDIUM) E(EMEDIUMTYPE) E(ECANCELED) E(ENOKEY) E(EKEYEXPIRED) E(EKEYREVOKED)
    E(EKEYREJECTED) E(EOWNERDEAD) E(ENOTRECOVERABLE) E(ERFKILL) E(EHWPOISON)
};
#undef E

const char *errno_name(int err) {
  for (size_t i = 0; i < sizeof errno_table / sizeof errno_table[0]; i++)
    if (errno_table[i].err == err) return errno_table[i].name;
  return "EUNKNOWN";
}

addon_state *state_of(napi_env env) {
  void *data = NULL;
  if (napi_get_instance_data(env, &data) != napi_ok) return NULL;
  return data;
}

static void set_prop(napi_env env, napi_value obj, const char *name, napi_value v) {
  if (v != NULL) napi_set_named_property(env, obj, name, v);
}

static napi_value str(napi_env env, const char *s) {
  napi_value v = NULL;
  if (s != NULL) napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

napi_value make_error(napi_env env, const char *code, const char *syscall, int err, const char *message) {
  napi_value msg = str(env, message), code_v = str(env, code), syscall_v = str(env, syscall), errno_v = NULL, e = NULL;
  napi_value undef = make_undefined(env);
  if (err != 0) napi_create_int32(env, -err, &errno_v);
  /* Prefer the loader's NativeError class, so TypeScript can `instanceof` it; plain Error when none registered. */
  addon_state *st = state_of(env);
  napi_value ctor = NULL;
  if (st != NULL && st->error_class != NULL && napi_get_reference_value(env, st->error_class, &ctor) == napi_ok &&
      ctor != NULL) {
    napi_value argv[4] = {msg, code_v, syscall_v ? syscall_v : undef, errno_v ? errno_v : undef};
    if (napi_new_instance(env, ctor, 4, argv, &e) == napi_ok) return e;
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored); /* a broken class must not hide the real error */
  }
  if (napi_create_error(env, code_v, msg, &e) != napi_ok) return NULL;
  set_prop(env, e, "syscall", syscall_v);
  set_prop(env, e, "errno", errno_v);
  return e;
}

static void throw_errno_v(napi_env env, int err, const char *syscall, const char *hint, const char *fmt, va_list ap) {
  char op[512], message[768], errbuf[128];
  vsnprintf(op, sizeof op, fmt, ap);
  snprintf(message, sizeof message, "%s: %s (%s)%s%s", op, strerror_r(err, errbuf, sizeof errbuf), errno_name(err),
           hint != NULL ? "; " : "", hint != NULL ? hint : "");
  napi_value e = make_error(env, errno_name(err), syscall, err, message);
  if (e != NULL) napi_throw(env, e);
}

void throw_errno(napi_env env, int err, const char *syscall, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  throw_errno_v(env, err, syscall, NULL, fmt, ap);
  va_end(ap);
}

void throw_errno_hint(napi_env env, int err, const char *syscall, const char *hint, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  throw_errno_v(env, err, syscall, hint, fmt, ap);
  va_end(ap);
}

void throw_napi_failure(napi_env env, const char *what) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  char message[512];
  snprintf(message, sizeof message, "l2tp_native: %s failed: %s", what,
           info != NULL && info->error_message != NULL ? info->error_message : "unknown N-API error");
  napi_throw_error(env, "ERR_NAPI", message);
}

typedef napi_status (*js_thrower)(napi_env env, const char *code, const char *message);

static void throw_js_v(napi_env env, js_thrower thrower, const char *code, const char *fmt, va_list ap) {
  char message[512];
  vsnprintf(message, sizeof message, fmt, ap);
  thrower(env, code, message);
}

void throw_range(napi_env env, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  throw_js_v(env, napi_throw_range_error, "ERR_OUT_OF_RANGE", fmt, ap);
  va_end(ap);
}

void throw_type(napi_env env, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  throw_js_v(env, napi_throw_type_error, "ERR_INVALID_ARG_TYPE", fmt, ap);
  va_end(ap);
}

int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    throw_napi_failure(env, "napi_get_cb_info");
    return -1;
  }
  for (size_t i = argc; i < want; i++) napi_get_undefined(env, &argv[i]);
  return 0;
}

int get_int_arg(napi_env env, napi_value v, const char *name, int64_t min, int64_t max, int64_t *out) {
  napi_valuetype t;
  double d;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_double(env, v, &d) != napi_ok) {
    throw_type(env, "%s must be an integer", name);
    return -1;
  }
  /* Range first: NaN and the infinities fail it, and the cast below is then defined. */
  if (!(d >= (double)min && d <= (double)max) || d != (double)(int64_t)d) {
    throw_range(env, "%s must be an integer in [%lld, %lld], got %g", name, (long long)min, (long long)max, d);
    return -1;
  }
  *out = (int64_t)d;
  return 0;
}

int get_fd_arg(napi_env env, napi_value v, const char *name, int *out) {
  int64_t n;
  /* -1 is let through on purpose: the kernel answers EBADF, and callers see the same error as for a closed fd. */
  if (get_int_arg(env, v, name, -1, INT32_MAX, &n) != 0) return -1;
  *out = (int)n;
  return 0;
}

static int get_prop(napi_env env, napi_value obj, const char *name, napi_value *out) {
  if (napi_get_named_property(env, obj, name, out) != napi_ok) {
    throw_napi_failure(env, "napi_get_named_property");
    return -1;
  }
  return 0;
}

int has_prop(napi_env env, napi_value obj, const char *name, int *out) {
  napi_value v;
  napi_valuetype t;
  if (get_prop(env, obj, name, &v) != 0 || napi_typeof(env, v, &t) != napi_ok) return -1;
  *out = t != napi_undefined;
  return 0;
}

int get_int_prop(napi_env env, napi_value obj, const char *name, int64_t min, int64_t max, int64_t *out) {
  napi_value v;
  if (get_prop(env, obj, name, &v) != 0) return -1;
  return get_int_arg(env, v, name, min, max, out);
}

int get_bool_prop(napi_env env, napi_value obj, const char *name, int dflt, int *out) {
  napi_value v;
  napi_valuetype t;
  if (get_prop(env, obj, name, &v) != 0 || napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_undefined) {
    *out = dflt;
    return 0;
  }
  bool b;
  if (t != napi_boolean || napi_get_value_bool(env, v, &b) != napi_ok) {
    throw_type(env, "%s must be a boolean", name);
    return -1;
  }
  *out = b;
  return 0;
}

int get_string_prop(napi_env env, napi_value obj, const char *name, char *buf, size_t size) {
  napi_value v;
  napi_valuetype t;
  size_t len;
  if (get_prop(env, obj, name, &v) != 0 || napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t != napi_string || napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok) {
    throw_type(env, "%s must be a string", name);
    return -1;
  }
  if (len + 1 >= size) {
    throw_range(env, "%s is too long", name);
    return -1;
  }
  return 0;
}

int get_object_arg(napi_env env, napi_value v, const char *name) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_object) {
    throw_type(env, "%s must be an object", name);
    return -1;
  }
  return 0;
}

napi_value make_int(napi_env env, int64_t n) {
  napi_value v = NULL;
  napi_create_int64(env, n, &v);
  return v;
}

napi_value make_undefined(napi_env env) {
  napi_value v = NULL;
  napi_get_undefined(env, &v);
  return v;
}
