/**
 * The attributes that describe this NAS and one L2TP session (shared by Access-Request and
 * Accounting-Request), and the reading of an Access-Accept into what the session must honour.
 */
import { parsePrefix } from '../../config/ip.js';
import { getAll, getAttr, getNumber, getText, type Attribute } from './values.js';

export interface NasIdentity {
  /** NAS-Identifier (RFC 2865 §5.32). RFC 2865 wants this or an address in every Access-Request. */
  identifier?: string;
  /** NAS-IP-Address. */
  ipAddress?: string;
  /** NAS-IPv6-Address (RFC 3162). */
  ipv6Address?: string;
}

/** What the L2TP layer knows about the session being authenticated or accounted. */
export interface SessionContext {
  /** Local L2TP session ID → NAS-Port (the carriers' request: it identifies the session on this NAS). */
  sessionId?: number;
  /** Local L2TP tunnel ID; with sessionId → NAS-Port-Id `tunnel/session`. */
  tunnelId?: number;
  /** L2TP Calling Number AVP (RFC 2661 §4.4.5) → Calling-Station-Id. */
  callingNumber?: string;
  /** L2TP Called Number AVP → Called-Station-Id. */
  calledNumber?: string;
  /** Acct-Session-Id, when already chosen before authentication (lets the server correlate). */
  acctSessionId?: string;
}

/** RFC 2865 §4.1: an Access-Request MUST carry NAS-IP-Address, NAS-IPv6-Address or NAS-Identifier. */
export function requireNasIdentity(nas: NasIdentity): void {
  if (nas.identifier === undefined && nas.ipAddress === undefined && nas.ipv6Address === undefined) {
    throw new Error('RADIUS needs a NAS identity: set nas.identifier, nas.ipAddress or nas.ipv6Address');
  }
}

export function nasAttributes(nas: NasIdentity): Attribute[] {
  const a: Attribute[] = [];
  if (nas.identifier !== undefined) a.push(['NAS-Identifier', nas.identifier]);
  if (nas.ipAddress !== undefined) a.push(['NAS-IP-Address', nas.ipAddress]);
  if (nas.ipv6Address !== undefined) a.push(['NAS-IPv6-Address', nas.ipv6Address]);
  return a;
}

export function sessionAttributes(ctx: SessionContext): Attribute[] {
  const a: Attribute[] = [['NAS-Port-Type', 'Virtual']];
  if (ctx.sessionId !== undefined) a.push(['NAS-Port', ctx.sessionId]);
  if (ctx.tunnelId !== undefined && ctx.sessionId !== undefined) a.push(['NAS-Port-Id', `${ctx.tunnelId}/${ctx.sessionId}`]);
  if (ctx.callingNumber) a.push(['Calling-Station-Id', ctx.callingNumber]);
  if (ctx.calledNumber) a.push(['Called-Station-Id', ctx.calledNumber]);
  if (ctx.acctSessionId !== undefined) a.push(['Acct-Session-Id', ctx.acctSessionId]);
  return a;
}

export interface FramedRoute {
  /** The attribute as sent, e.g. `198.18.5.0/24 0.0.0.0 1`. */
  text: string;
  /** Destination prefix when it parses (`a.b.c.d/len`, or a bare address meaning a host route). */
  prefix?: string;
  /** Gateway; absent or 0.0.0.0 means the session's own address (RFC 2865 §5.22). */
  gateway?: string;
  metric?: number;
}

/** RFC 2865 §5.22: "destination gateway metrics", space separated; the rest is implementation specific. */
export function parseFramedRoute(text: string): FramedRoute {
  const [dest, gateway, metric] = text.trim().split(/\s+/);
  const route: FramedRoute = { text };
  const p = dest === undefined ? undefined : parsePrefix(dest);
  if (p !== undefined && !('error' in p)) route.prefix = dest!.includes('/') ? dest! : `${dest}/${p.family === 4 ? 32 : 128}`;
  if (gateway !== undefined && gateway !== '0.0.0.0') route.gateway = gateway;
  if (metric !== undefined && /^\d+$/.test(metric)) route.metric = Number(metric);
  return route;
}

/**
 * What an Access-Accept (or a local users entry) tells the session to do. Field names are the RADIUS
 * attribute names in camelCase; the daemon applies them (address, pool, timers, routes) and echoes
 * `class` in accounting (RFC 2865 §5.25).
 */
export type SessionAuthorization = {
  /** A specific address for the peer. Absent when the server leaves it to the NAS pool (0xFFFFFFFE) or sent none. */
  framedIpAddress?: string;
  /** Framed-IP-Address 255.255.255.255: the peer may ask for an address of its choosing (RFC 2865 §5.8). */
  framedIpAddressPeerChoice?: boolean;
  framedIpNetmask?: string;
  framedPool?: string;
  framedRoutes?: FramedRoute[];
  framedMtu?: number;
  framedInterfaceId?: string;
  framedIpv6Prefixes?: string[];
  framedIpv6Pool?: string;
  delegatedIpv6Prefix?: string;
  /** Seconds; 0 or absent = no limit. */
  sessionTimeout?: number;
  idleTimeout?: number;
  acctInterimInterval?: number;
  /** Class attributes, verbatim, to echo in every Accounting-Request. */
  class?: Buffer[];
  /** MS-Primary/Secondary-DNS-Server (RFC 2548), for IPCP (RFC 1877). */
  dnsServers?: string[];
  replyMessage?: string;
};

export function authorizationFrom(attrs: readonly Attribute[]): SessionAuthorization {
  const z: SessionAuthorization = {};
  const ip = getText(attrs, 'Framed-IP-Address');
  if (ip === '255.255.255.255') z.framedIpAddressPeerChoice = true;
  else if (ip !== undefined && ip !== '255.255.255.254') z.framedIpAddress = ip;
  const set = <K extends keyof SessionAuthorization>(k: K, v: SessionAuthorization[K] | undefined): void => {
    if (v !== undefined && !(Array.isArray(v) && v.length === 0)) z[k] = v;
  };
  set('framedIpNetmask', getText(attrs, 'Framed-IP-Netmask'));
  set('framedPool', getText(attrs, 'Framed-Pool'));
  set('framedRoutes', getAll(attrs, 'Framed-Route').map((r) => parseFramedRoute(String(r))));
  set('framedMtu', getNumber(attrs, 'Framed-MTU'));
  set('framedInterfaceId', getText(attrs, 'Framed-Interface-Id'));
  set('framedIpv6Prefixes', getAll(attrs, 'Framed-IPv6-Prefix').map(String));
  set('framedIpv6Pool', getText(attrs, 'Framed-IPv6-Pool'));
  set('delegatedIpv6Prefix', getText(attrs, 'Delegated-IPv6-Prefix'));
  set('sessionTimeout', getNumber(attrs, 'Session-Timeout'));
  set('idleTimeout', getNumber(attrs, 'Idle-Timeout'));
  set('acctInterimInterval', getNumber(attrs, 'Acct-Interim-Interval'));
  set('class', getAll(attrs, 'Class').filter(Buffer.isBuffer));
  const dns = [getAttr(attrs, 'MS-Primary-DNS-Server'), getAttr(attrs, 'MS-Secondary-DNS-Server')].filter((d): d is string => typeof d === 'string');
  set('dnsServers', dns);
  set('replyMessage', getAll(attrs, 'Reply-Message').map(String).join('\n') || undefined);
  return z;
}
