/**
 * The management protocol between l2tpd and l2tpctl (DESIGN.md "Operations"): newline-delimited JSON over a
 * local UNIX socket. A request is `{"id": 7, "method": "tunnels.get", "params": {"tunnelId": 5}}`; its answer
 * carries the same id and either `result` or `error: {code, message}`. Requests may be pipelined on one
 * connection and are answered as they complete, so a client matches answers by id, not by order.
 *
 * This file is the one place that says which methods exist, what their params and results are (MgmtMethods),
 * and how params are checked at run time (PARAM_VALIDATORS): the server and the client both import it.
 * Field names are stable: scripts read them through `l2tpctl --json`.
 */
import { isIP } from 'node:net';
import type { SessionInfo, TunnelInfo } from '../workers/views.js';
import type { DataPlaneCounters } from '../dataplane/types.js';

export type { SessionInfo, TunnelInfo };

/** The error codes an answer may carry. `bad-request` and `unknown-method` mean the request itself is wrong. */
export const ERROR_CODES = ['bad-request', 'not-found', 'refused', 'limit', 'internal', 'unknown-method'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && (ERROR_CODES as readonly string[]).includes(v);
}

/** An error answer, on either side: handlers may throw it, validators throw it, the client rejects with it. */
export class MgmtError extends Error {
  override readonly name = 'MgmtError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The offending param, for bad-request. */
    readonly param?: string,
  ) {
    super(message);
  }
}

export const TRACE_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type TraceLevel = (typeof TRACE_LEVELS)[number];

export const SESSION_TYPES = ['lac-incoming', 'lns-outgoing'] as const;
export type SessionType = (typeof SESSION_TYPES)[number];

/** RFC 2661 section 8.1 / RFC 3931 section 4.1.2.2: the L2TP UDP port, used when a peer names none. */
export const L2TP_PORT = 1701;

export interface SystemStatus {
  version: string;
  pid: number;
  uptimeSeconds: number;
  /** Which data plane runs (`kernel` | `null`) and why that one. */
  dataPlane: { kind: string; reason: string };
  shards: number;
  tunnels: number;
  sessions: number;
  configFile: string | null;
  /** Listening endpoints, as "ADDR:PORT" ("[::]:1701" for IPv6). */
  listen: string[];
}

export interface StatsResult {
  shards: Array<Record<string, number>>;
  totals: Record<string, number>;
}

export interface Ok {
  ok: true;
}

type NoParams = Record<string, never>;

/** Every method: its params and its result. */
export interface MgmtMethods {
  'system.status': { params: NoParams; result: SystemStatus };
  'tunnels.list': { params: NoParams; result: TunnelInfo[] };
  /** `counters`: the data plane's statistics of the tunnel (null when it has none). */
  'tunnels.get': { params: { tunnelId: number }; result: TunnelInfo & { counters: DataPlaneCounters | null; sessions: SessionInfo[] } };
  'tunnels.create': {
    params: {
      /** "ADDR[:PORT]", IPv6 in brackets when a port is given ("[::1]:1701"); see parseEndpoint. */
      peer: string;
      profile?: string;
      persistent?: boolean;
      version?: 2 | 3;
      name?: string;
      /** Local address to bind, no port. */
      local?: string;
    };
    result: TunnelInfo;
  };
  'tunnels.delete': { params: { tunnelId: number }; result: Ok };
  'sessions.list': { params: { tunnelId?: number }; result: SessionInfo[] };
  'sessions.get': { params: { tunnelId: number; sessionId: number }; result: SessionInfo & { counters: DataPlaneCounters | null } };
  'sessions.create': {
    params: { tunnelId: number; type: SessionType; callingNumber?: string; calledNumber?: string };
    result: SessionInfo;
  };
  'sessions.delete': { params: { tunnelId: number; sessionId: number }; result: Ok };
  /** System-wide without ids; per tunnel with tunnelId; per session with both. */
  'trace.set': { params: { level: TraceLevel; tunnelId?: number; sessionId?: number }; result: Ok };
  stats: { params: NoParams; result: StatsResult };
  /** Names of what changed (profiles, listeners...); empty when the file is unchanged. */
  'config.reload': { params: NoParams; result: { changed: string[] } };
  /** Restart one shard worker; `crash: true` kills it without letting it flush (fault injection). */
  'shard.restart': { params: { shard: number; crash?: boolean }; result: { ok: true; restored: number } };
}

export type MethodName = keyof MgmtMethods;
export type ParamsOf<M extends MethodName> = MgmtMethods[M]['params'];
export type ResultOf<M extends MethodName> = MgmtMethods[M]['result'];

/** What the daemon implements: one async function per method, given validated params. */
export type MgmtHandlers = { [M in MethodName]: (params: ParamsOf<M>) => Promise<ResultOf<M>> };

export interface MgmtRequest {
  id: number;
  method: string;
  params?: unknown;
}

/** `id` is null only when the request had no usable id (bad JSON, over-long line). */
export type MgmtResponse =
  | { id: number; result: unknown }
  | { id: number | null; error: { code: ErrorCode; message: string; param?: string } };

// ---- endpoints ---------------------------------------------------------------------------------

export interface Endpoint {
  address: string;
  port: number;
}

/**
 * "192.0.2.1", "192.0.2.1:1701", "::1", "[::1]", "[::1]:1701" → {address, port}. Host names are refused: the
 * daemon does not resolve names (a tunnel's peer is an address). Returns undefined when `text` is none of these.
 */
export function parseEndpoint(text: string, defaultPort = L2TP_PORT): Endpoint | undefined {
  const port = (p: string | undefined): number | undefined => {
    if (p === undefined) return defaultPort;
    return /^\d{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535 ? Number(p) : undefined;
  };
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    const p = port(bracketed[2]);
    return isIP(bracketed[1]!) === 6 && p !== undefined ? { address: bracketed[1]!, port: p } : undefined;
  }
  if (isIP(text) === 6) return { address: text, port: defaultPort };
  const [addr, portText, ...rest] = text.split(':');
  const p = port(portText);
  return rest.length === 0 && isIP(addr!) === 4 && p !== undefined ? { address: addr!, port: p } : undefined;
}

/** The inverse of parseEndpoint: "192.0.2.1:1701", "[::1]:1701". */
export function formatEndpoint(e: Endpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

// ---- param validation --------------------------------------------------------------------------

/** Checks one param; `undefined` only reaches it for optional params. Throws MgmtError('bad-request'). */
type Check<T> = (value: unknown, name: string) => T;

const bad = (name: string, why: string): MgmtError => new MgmtError('bad-request', `param ${name}: ${why}`, name);

const integer =
  (min: number, max: number): Check<number> =>
  (v, name) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(name, `expected an integer ${min}..${max}, got ${JSON.stringify(v)}`);
    return v;
  };

const text =
  (maxLength: number): Check<string> =>
  (v, name) => {
    if (typeof v !== 'string' || v.length === 0 || v.length > maxLength) throw bad(name, `expected a string of 1..${maxLength} characters`);
    return v;
  };

const boolean: Check<boolean> = (v, name) => {
  if (typeof v !== 'boolean') throw bad(name, `expected true or false, got ${JSON.stringify(v)}`);
  return v;
};

const oneOf =
  <T extends string | number>(values: readonly T[]): Check<T> =>
  (v, name) => {
    if (!(values as readonly unknown[]).includes(v)) throw bad(name, `expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${JSON.stringify(v)}`);
    return v as T;
  };

const endpoint: Check<string> = (v, name) => {
  if (typeof v !== 'string' || !parseEndpoint(v)) throw bad(name, `expected "ADDR[:PORT]" with an IP address ("[ADDR]:PORT" for IPv6), got ${JSON.stringify(v)}`);
  return v;
};

const address: Check<string> = (v, name) => {
  if (typeof v !== 'string' || isIP(v) === 0) throw bad(name, `expected an IP address, got ${JSON.stringify(v)}`);
  return v;
};

/** null counts as absent: JSON writers often spell "not given" that way. */
const optional =
  <T>(check: Check<T>): Check<T | undefined> =>
  (v, name) =>
    v === undefined || v === null ? undefined : check(v, name);

/** Tunnel IDs are 16-bit in v2 and 32-bit in v3; session IDs likewise. 0 is never assigned. */
const id = integer(1, 0xffffffff);

/**
 * An object validator from one check per declared param; the mapped type makes the compiler insist that every
 * param of MgmtMethods has a check. Unknown params are refused: a typo must not silently mean "system-wide".
 */
function params<T extends object>(checks: { [K in keyof T]-?: Check<T[K]> }, extra?: (p: T) => void): (raw: unknown) => T {
  return (raw) => {
    if (raw === undefined || raw === null) raw = {};
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new MgmtError('bad-request', 'params must be an object');
    const input = raw as Record<string, unknown>;
    for (const key of Object.keys(input)) if (!Object.hasOwn(checks, key)) throw bad(key, 'unknown param');
    const out: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(checks) as Array<[string, Check<unknown>]>) {
      const value = check(input[key], key);
      if (value !== undefined) out[key] = value;
    }
    extra?.(out as T);
    return out as T;
  };
}

export type ParamValidators = { [M in MethodName]: (raw: unknown) => ParamsOf<M> };

export const PARAM_VALIDATORS: ParamValidators = {
  'system.status': params<NoParams>({}),
  'tunnels.list': params<NoParams>({}),
  'tunnels.get': params({ tunnelId: id }),
  'tunnels.create': params<ParamsOf<'tunnels.create'>>({
    peer: endpoint,
    profile: optional(text(256)),
    persistent: optional(boolean),
    version: optional(oneOf([2, 3] as const)),
    name: optional(text(256)),
    local: optional(address),
  }),
  'tunnels.delete': params({ tunnelId: id }),
  'sessions.list': params<ParamsOf<'sessions.list'>>({ tunnelId: optional(id) }),
  'sessions.get': params({ tunnelId: id, sessionId: id }),
  'sessions.create': params<ParamsOf<'sessions.create'>>({
    tunnelId: id,
    type: oneOf(SESSION_TYPES),
    callingNumber: optional(text(256)),
    calledNumber: optional(text(256)),
  }),
  'sessions.delete': params({ tunnelId: id, sessionId: id }),
  'trace.set': params<ParamsOf<'trace.set'>>({ level: oneOf(TRACE_LEVELS), tunnelId: optional(id), sessionId: optional(id) }, (p) => {
    if (p.sessionId !== undefined && p.tunnelId === undefined) throw bad('sessionId', 'needs tunnelId as well');
  }),
  stats: params<NoParams>({}),
  'config.reload': params<NoParams>({}),
  'shard.restart': params<ParamsOf<'shard.restart'>>({ shard: integer(0, 255), crash: optional(boolean) }),
};

export function isMethodName(v: unknown): v is MethodName {
  return typeof v === 'string' && Object.hasOwn(PARAM_VALIDATORS, v);
}

/** Validates `raw` as the params of `method`; throws MgmtError('bad-request') naming the param. */
export function validateParams<M extends MethodName>(method: M, raw: unknown): ParamsOf<M> {
  return (PARAM_VALIDATORS[method] as (raw: unknown) => ParamsOf<M>)(raw);
}
