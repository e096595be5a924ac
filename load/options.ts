/**
 * What a load run is asked to do: command-line flags and an optional config file (YAML or JSON, the
 * same keys in kebab-case or camelCase), checked whole before anything is sent. The file gives the
 * base, flags given on the command line win. Every refusal names the option and says why.
 *
 * Network rule (shared/reference/peers.md): only loopback or 198.18.0.0/15 (RFC 2544 benchmarking)
 * targets and sources, so the tool cannot be pointed at someone else's LNS by mistake.
 */
import { resolveSocketIo } from './udp.js';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { parse as parseYaml } from 'yaml';
import type { AuthProtocolName } from '../src/ppp/auth/types.js';
import { intToIpv4, ipv4ToInt } from './template.js';

export { expandTemplate, intToIpv4, ipv4ToInt } from './template.js';

export class LoadOptionError extends Error {
  override readonly name = 'LoadOptionError';
  constructor(
    readonly option: string,
    why: string,
  ) {
    super(`--${option}: ${why}`);
  }
}

export interface Endpoint {
  address: string;
  port: number;
}

/** Fully resolved; plain data so it crosses to worker threads as is. */
export interface LoadOptions {
  target: Endpoint;
  tunnels: number;
  sessionsPerTunnel: number;
  /** New calls (ICRQ) per second, all workers together. */
  rate: number;
  /** New tunnels (SCCRQ) per second. */
  tunnelRate: number;
  /** Calls (and, separately, tunnels) between request and established, at most. */
  maxOutstanding: number;
  /**
   * Place no call before every tunnel of a worker is up or has given up (retries included): calls then meet an LNS
   * in service rather than one bringing its tunnels up, as with LACs whose tunnels exist before subscribers dial.
   */
  callsAfterTunnels: boolean;
  secret: string | undefined;
  challenge: boolean;
  hideAvps: boolean;
  version: 2 | 3;
  /** Host Name AVP; `{n}` becomes the tunnel's number (0-based). */
  hostname: string;
  /** Source addresses, used round-robin by tunnel; empty: the OS picks. */
  sources: string[];
  /** 'auto': an ephemeral port (own socket) per tunnel; a number: one socket per source address for all its tunnels. */
  sourcePort: number | 'auto';
  /** The sockets' implementation, resolved: `--socket-io auto` is native where the addon loads, else node. */
  socketIo: 'native' | 'node';
  /** How long each call stays up before we clear it (CDN); null: until the end of the run. */
  holdMs: number | null;
  /** CDNs per second at most. */
  teardownRate: number;
  /** The run stops after this long at the latest; null: when all the work is done. */
  durationMs: number | null;
  json: string | undefined;
  html: string | undefined;
  workers: number;
  progress: boolean;
  targetPid: number | undefined;
  /** Control channel retransmissions before a tunnel is declared dead (RFC 2661 §5.8). */
  maxRetransmits: number;
  /** New attempts for a tunnel whose set-up failed (with back-off 1 s, 2 s, 4 s...). */
  tunnelRetries: number;
  /** A tunnel (StopCCN) or call (CDN result 10) not established after this long is abandoned. */
  setupTimeoutMs: number;
  /** The run is aborted when this many tunnel attempts failed and none ever came up. */
  abortAfter: number;
  /** Our Receive Window Size AVP. */
  receiveWindowSize: number;
  /** PPP subscriber mode; null: control plane only (the LNS's PPP is not answered). */
  ppp: PppLoadOptions | null;
  /** PPP mode data: ICMP echo through every session once it is up; null: no data. */
  ping: PingLoadOptions | null;
}

/** ICMP echo requests inside each subscriber's PPP (IPv4), answered by the LNS or what it routes to. */
export interface PingLoadOptions {
  /** Echo requests per second per session (jittered intervals). */
  rate: number;
  /** ICMP echo data octets (the IP packet is 28 more). */
  size: number;
  /** IPv4 destination; null: the LNS's own address on the link (the IP-Address it gave in IPCP). */
  target: string | null;
  /** A reply later than this counts as lost. */
  timeoutMs: number;
}

/** Each call carries a subscriber: the client side of our PPP engine, up when its NCPs are Opened. */
export interface PppLoadOptions {
  /** The one protocol the subscriber agrees to (it Naks the LNS toward it). */
  auth: AuthProtocolName;
  /** `{n}` becomes the subscriber's global index: tunnel number × sessions per tunnel + call number (0-based). */
  user: string;
  password: string;
  /** Also negotiate IPv6CP; the session is up only when both NCPs are Opened. */
  ipv6cp: boolean;
  /** The LAC negotiates LCP with the subscriber itself and hands it over in the ICCN (RFC 2661 §4.4.5). */
  proxyLcp: boolean;
  /** With proxy LCP, the subscriber's PAP request or CHAP response goes in the ICCN too. */
  proxyAuth: boolean;
}

const DEFAULTS = {
  tunnels: 1,
  sessionsPerTunnel: 1,
  rate: 100,
  challenge: false,
  hideAvps: false,
  version: 2,
  hostname: 'l2tp-load',
  sourcePort: 'auto',
  progress: true,
  maxRetransmits: 5,
  tunnelRetries: 2,
  setupTimeoutMs: 30_000,
  abortAfter: 10,
  receiveWindowSize: 256,
  auth: 'pap',
  user: 'user{n}',
  password: 'pw{n}',
  pingSize: 56,
  pingTimeoutMs: 2000,
} as const;

const AUTH_PROTOCOLS: readonly AuthProtocolName[] = ['pap', 'chap', 'mschapv2'];
/** Options that mean something only with --ppp. */
const PPP_KEYS = ['auth', 'user', 'password', 'ipv6cp', 'proxyLcp', 'proxyAuth'] as const;

/** Every key a config file may hold, camelCase, with how to read its value. */
const KEYS: Record<string, 'string' | 'number' | 'boolean' | 'seconds' | 'strings'> = {
  target: 'string', tunnels: 'number', sessionsPerTunnel: 'number', rate: 'number', tunnelRate: 'number',
  maxOutstanding: 'number', callsAfterTunnels: 'boolean', secret: 'string', challenge: 'boolean', hideAvps: 'boolean', version: 'number',
  hostname: 'string', source: 'strings', sourcePort: 'string', socketIo: 'string', hold: 'seconds', teardownRate: 'number',
  duration: 'seconds', json: 'string', html: 'string', workers: 'number', progress: 'boolean', targetPid: 'number',
  maxRetransmits: 'number', tunnelRetries: 'number', setupTimeout: 'seconds', abortAfter: 'number', receiveWindow: 'number',
  ppp: 'boolean', auth: 'string', user: 'string', password: 'string', ipv6cp: 'boolean', proxyLcp: 'boolean', proxyAuth: 'boolean',
  pingRate: 'number', pingSize: 'number', pingTarget: 'string', pingTimeout: 'seconds',
};

export const camel = (k: string): string => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const kebab = (k: string): string => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Raw values by camelCase key, as strings/numbers/booleans, from a file or the command line. */
export type RawOptions = Record<string, unknown>;

export function readConfigFile(file: string): RawOptions {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new LoadOptionError('config', `cannot read ${file}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true }); // JSON is YAML
  } catch (e) {
    throw new LoadOptionError('config', `${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new LoadOptionError('config', `${file}: must be a mapping of option names to values`);
  const out: RawOptions = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    const key = camel(k);
    if (!(key in KEYS)) {
      const near = Object.keys(KEYS)
        .map((c) => [c, editDistance(c.toLowerCase(), key.toLowerCase())] as const)
        .sort((a, b) => a[1] - b[1])
        .find(([, d]) => d <= 3)?.[0];
      throw new LoadOptionError('config', `${file}: unknown key "${k}"${near ? ` (did you mean "${kebab(near)}"?)` : ''}`);
    }
    out[key] = v;
  }
  return out;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

function num(o: RawOptions, key: string, min: number, max: number, integer = true): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new LoadOptionError(kebab(key), `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function bool(o: RawOptions, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'yes') return true;
  if (v === 'false' || v === 'no') return false;
  throw new LoadOptionError(kebab(key), `must be true or false, got ${JSON.stringify(v)}`);
}

function str(o: RawOptions, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' && typeof v !== 'number') throw new LoadOptionError(kebab(key), `must be text, got ${JSON.stringify(v)}`);
  return String(v);
}

/** 127.0.0.0/8, ::1 (and IPv4-mapped loopback) or 198.18.0.0/15. */
export function allowedAddress(address: string): boolean {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (net.isIPv4(a)) {
    const [x, y] = a.split('.').map(Number) as [number, number];
    return x === 127 || (x === 198 && (y === 18 || y === 19));
  }
  return a === '::1';
}

const RULE = 'only loopback (127.0.0.0/8, ::1) or 198.18.0.0/15 is allowed: this tool must not load anyone else\'s LNS';

/** HOST[:PORT], HOST an IP literal (IPv6 in brackets to carry a port). */
export function parseTarget(text: string): Endpoint {
  let host = text.trim();
  let port = 1701;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (v6) {
    host = v6[1]!;
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else if (/^[^:]+:\d+$/.test(host)) {
    const i = host.lastIndexOf(':');
    port = Number(host.slice(i + 1));
    host = host.slice(0, i);
  }
  if (net.isIP(host) === 0) throw new LoadOptionError('target', `"${text}" is not an IP address[:port] (names are not resolved)`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new LoadOptionError('target', `port must be 1..65535 in "${text}"`);
  if (!allowedAddress(host)) throw new LoadOptionError('target', `${host}: ${RULE}`);
  return { address: host, port };
}


/** `A`, `A-B` (IPv4 range, inclusive) or comma-separated lists of those; at most 65536 addresses. */
export function parseSources(specs: string[]): string[] {
  const out: string[] = [];
  for (const part of specs.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)) {
    const range = /^([\d.]+)-([\d.]+)$/.exec(part);
    if (range && net.isIPv4(range[1]!) && net.isIPv4(range[2]!)) {
      const [a, b] = [ipv4ToInt(range[1]!), ipv4ToInt(range[2]!)];
      if (b < a) throw new LoadOptionError('source', `range ${part} ends before it starts`);
      if (b - a >= 65536) throw new LoadOptionError('source', `range ${part} holds more than 65536 addresses`);
      for (let n = a; n <= b; n++) out.push(intToIpv4(n));
    } else if (net.isIP(part) !== 0) {
      out.push(part);
    } else {
      throw new LoadOptionError('source', `"${part}" is neither an IP address nor an IPv4 range A-B`);
    }
  }
  for (const a of out) if (!allowedAddress(a)) throw new LoadOptionError('source', `${a}: ${RULE}`);
  return out;
}

/**
 * Merge the file (base) and the command line (wins), apply defaults, check everything.
 * `cli` and `file` are keyed by camelCase option name.
 */
export function resolveOptions(cli: RawOptions, file: RawOptions = {}, cores = 2): LoadOptions {
  const o: RawOptions = { ...file };
  for (const [k, v] of Object.entries(cli)) if (v !== undefined) o[k] = v;
  const targetText = str(o, 'target');
  if (!targetText) throw new LoadOptionError('target', 'required: the LNS to load, HOST[:PORT]');
  const target = parseTarget(targetText);

  const tunnels = num(o, 'tunnels', 1, 1_000_000) ?? DEFAULTS.tunnels;
  const sessionsPerTunnel = num(o, 'sessionsPerTunnel', 0, 65535) ?? DEFAULTS.sessionsPerTunnel;
  const rate = num(o, 'rate', 0.001, 10_000_000, false) ?? DEFAULTS.rate;
  const version = (num(o, 'version', 2, 3) ?? DEFAULTS.version) as 2 | 3;
  const challenge = bool(o, 'challenge') ?? DEFAULTS.challenge;
  const hideAvps = bool(o, 'hideAvps') ?? DEFAULTS.hideAvps;
  const secret = str(o, 'secret');
  if ((challenge || hideAvps) && !secret) throw new LoadOptionError(challenge ? 'challenge' : 'hide-avps', 'needs --secret');

  const src = o['source'];
  const sources = src === undefined || src === null ? [] : parseSources(Array.isArray(src) ? src.map(String) : [String(src)]);
  const family = net.isIPv6(target.address) ? 6 : 4;
  for (const a of sources) {
    if ((net.isIPv6(a) ? 6 : 4) !== family) throw new LoadOptionError('source', `${a} is not of the target's address family`);
  }
  const sp = str(o, 'sourcePort') ?? DEFAULTS.sourcePort;
  const sourcePort = sp === 'auto' ? 'auto' : num({ sourcePort: sp }, 'sourcePort', 1, 65535)!;
  if (sourcePort !== 'auto' && sources.length === 0) throw new LoadOptionError('source-port', 'a fixed source port needs --source (one socket per address)');

  const io = str(o, 'socketIo') ?? 'auto';
  if (io !== 'auto' && io !== 'native' && io !== 'node') throw new LoadOptionError('socket-io', `must be auto, native or node, not ${io}`);
  let socketIo: 'native' | 'node';
  try {
    socketIo = resolveSocketIo(io);
  } catch (e) {
    throw new LoadOptionError('socket-io', (e as Error).message);
  }

  const workers = num(o, 'workers', 1, 64) ?? Math.max(1, Math.floor(cores / 2));
  const hold = num(o, 'hold', 0, 31 * 86400, false);
  const duration = num(o, 'duration', 0.001, 31 * 86400, false);
  const maxOutstanding = num(o, 'maxOutstanding', 1, 10_000_000) ?? Math.min(1000, Math.max(1, tunnels * sessionsPerTunnel));
  if (version === 2 && tunnels > 60000 * (sources.length || 1) && sourcePort !== 'auto') {
    throw new LoadOptionError('tunnels', 'more than 60000 tunnels per source socket do not fit 16-bit Tunnel IDs');
  }
  const hostname = str(o, 'hostname') ?? DEFAULTS.hostname;
  if (hostname.length === 0 || hostname.length > 200) throw new LoadOptionError('hostname', 'must be 1..200 characters');
  return {
    target,
    tunnels,
    sessionsPerTunnel,
    rate,
    tunnelRate: num(o, 'tunnelRate', 0.001, 10_000_000, false) ?? rate,
    maxOutstanding,
    callsAfterTunnels: bool(o, 'callsAfterTunnels') ?? false,
    secret,
    challenge,
    hideAvps,
    version,
    hostname,
    sources,
    sourcePort,
    socketIo,
    holdMs: hold === undefined ? null : Math.round(hold * 1000),
    teardownRate: num(o, 'teardownRate', 0.001, 10_000_000, false) ?? rate,
    durationMs: duration === undefined ? null : Math.round(duration * 1000),
    json: str(o, 'json'),
    html: str(o, 'html'),
    workers,
    progress: bool(o, 'progress') ?? DEFAULTS.progress,
    targetPid: num(o, 'targetPid', 1, 2 ** 22),
    maxRetransmits: num(o, 'maxRetransmits', 0, 100) ?? DEFAULTS.maxRetransmits,
    tunnelRetries: num(o, 'tunnelRetries', 0, 100) ?? DEFAULTS.tunnelRetries,
    setupTimeoutMs: Math.round((num(o, 'setupTimeout', 0.1, 3600, false) ?? DEFAULTS.setupTimeoutMs / 1000) * 1000),
    abortAfter: num(o, 'abortAfter', 1, 1_000_000) ?? DEFAULTS.abortAfter,
    receiveWindowSize: num(o, 'receiveWindow', 1, 32767) ?? DEFAULTS.receiveWindowSize,
    ppp: pppOptions(o, version),
    ping: pingOptions(o),
  };
}

/** Where echo requests may go through the LNS: addresses that stay in a lab (RFC 1918, RFC 6598, RFC 2544). */
export function allowedPingTarget(a: string): boolean {
  if (!net.isIPv4(a)) return false;
  const [x, y] = a.split('.').map(Number) as [number, number];
  return x === 10 || (x === 172 && y >= 16 && y <= 31) || (x === 192 && y === 168) || (x === 100 && y >= 64 && y <= 127) || (x === 198 && (y === 18 || y === 19));
}

function pingOptions(o: RawOptions): PingLoadOptions | null {
  const rate = num(o, 'pingRate', 0, 100, false) ?? 0;
  if (rate === 0) {
    const stray = (['pingSize', 'pingTarget', 'pingTimeout'] as const).find((k) => o[k] !== undefined && o[k] !== null);
    if (stray) throw new LoadOptionError(kebab(stray), 'needs --ping-rate (ICMP echo through the sessions)');
    return null;
  }
  if (!(bool(o, 'ppp') ?? false)) throw new LoadOptionError('ping-rate', 'needs --ppp (the echo requests travel inside the subscribers\' PPP)');
  const target = str(o, 'pingTarget') ?? null;
  if (target !== null && !allowedPingTarget(target)) {
    throw new LoadOptionError('ping-target', `${target}: an IPv4 address in 10/8, 172.16/12, 192.168/16, 100.64/10 or 198.18/15 (echo requests must stay in the lab)`);
  }
  // 1500-octet PPP MRU: 20 (IP) + 8 (ICMP) + 1472 data.
  const size = num(o, 'pingSize', 0, 1472) ?? DEFAULTS.pingSize;
  const timeoutMs = Math.round((num(o, 'pingTimeout', 0.01, 60, false) ?? DEFAULTS.pingTimeoutMs / 1000) * 1000);
  return { rate, size, target, timeoutMs };
}

function pppOptions(o: RawOptions, version: 2 | 3): PppLoadOptions | null {
  if (!(bool(o, 'ppp') ?? false)) {
    const stray = PPP_KEYS.find((k) => o[k] !== undefined && o[k] !== null && o[k] !== false);
    if (stray) throw new LoadOptionError(kebab(stray), 'needs --ppp (PPP subscriber mode)');
    return null;
  }
  // l2tpd, like most LNSes, terminates PPP over L2TPv2; PPP over L2TPv3 data is not emulated.
  if (version !== 2) throw new LoadOptionError('ppp', 'PPP subscriber mode runs over L2TPv2 (--version 2)');
  const auth = (str(o, 'auth') ?? DEFAULTS.auth) as AuthProtocolName;
  if (!AUTH_PROTOCOLS.includes(auth)) throw new LoadOptionError('auth', `must be one of ${AUTH_PROTOCOLS.join(', ')}, got ${JSON.stringify(auth)}`);
  const template = (key: 'user' | 'password', fallback: string): string => {
    const t = str(o, key) ?? fallback;
    // PAP's Peer-ID and Passwd fields are one length octet long (RFC 1334 §2.2.1); {n} adds at most 7 digits.
    if (t.length === 0 || Buffer.byteLength(t) > 240) throw new LoadOptionError(key, 'must be 1..240 octets');
    return t;
  };
  const proxyLcp = bool(o, 'proxyLcp') ?? false;
  const proxyAuth = bool(o, 'proxyAuth') ?? false;
  if (proxyAuth && !proxyLcp) throw new LoadOptionError('proxy-auth', 'needs --proxy-lcp (proxy authentication follows proxy LCP, RFC 2661 §4.4.5)');
  if (proxyAuth && auth === 'mschapv2') throw new LoadOptionError('proxy-auth', 'MS-CHAPv2 has no Proxy Authen Type (RFC 2661 §4.4.5): use --auth pap or chap');
  return { auth, user: template('user', DEFAULTS.user), password: template('password', DEFAULTS.password), ipv6cp: bool(o, 'ipv6cp') ?? false, proxyLcp, proxyAuth };
}
