/**
 * Dynamic authorization server (RFC 3576, updated by RFC 5176): Disconnect-Request and CoA-Request
 * from the configured RADIUS servers, answered with ACK/NAK.
 *
 * Order of checks, each from the RFC: unknown source, wrong code, bad Request Authenticator or
 * Message-Authenticator, stale Event-Timestamp → silently discarded (RFC 5176 §3.1, §3.5, §5.4).
 * A retransmission (same source, Identifier and authenticator) gets the cached answer again instead
 * of a second teardown (§2.3). Then NAKs: Service-Type other than Framed-User (405 Unsupported-Service;
 * Authorize-Only is not supported), NAS identity mismatch (403), no session identification (402),
 * unsupported attribute in a Disconnect-Request (401), session not found (503). A CoA names the
 * changes it wants; the handler says which it applied, and anything left over makes a CoA-NAK
 * (the "apply what it can and NAK the rest"). Proxy-State is echoed in every answer (RFC 2865 §5.33).
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { ERROR_CAUSE, RadiusCode, type ErrorCauseName } from './dictionary.js';
import { RadiusCodecError } from './errors.js';
import { decodePacket, encodePacket, verifyRequest } from './packet.js';
import type { NasIdentity } from './session-attrs.js';
import { getAll, getNumber, getText, type Attribute } from './values.js';

export interface DynAuthPeer {
  /** Source address of the Dynamic Authorization Client (the RADIUS server), an IP literal. */
  address: string;
  secret: string;
}

/** The session identification attributes a request carried (RFC 5176 §3). */
export interface SessionSelector {
  acctSessionId?: string;
  acctMultiSessionId?: string;
  user?: string;
  framedIpAddress?: string;
  framedIpv6Prefix?: string;
  framedInterfaceId?: string;
  nasPort?: number;
  nasPortId?: string;
  callingStationId?: string;
  calledStationId?: string;
  chargeableUserIdentity?: Buffer;
}

export type CoaOutcome =
  | { found: false }
  | {
      found: true;
      /** Names of the change attributes the session took. */
      applied: readonly string[];
      /** Why the rest was refused (default Unsupported-Attribute). */
      errorCause?: ErrorCauseName | number;
    };

export interface DynAuthHandler {
  /** Tear the matching session(s) down (CDN); false when none matched. */
  disconnect(selector: SessionSelector, request: readonly Attribute[]): boolean | Promise<boolean>;
  /** Apply what can be applied of `changes` to the matching session(s). */
  coa(selector: SessionSelector, changes: readonly Attribute[], request: readonly Attribute[]): CoaOutcome | Promise<CoaOutcome>;
}

export interface DynAuthServerOptions {
  clients: readonly DynAuthPeer[];
  /** This NAS: requests naming another NAS-Identifier/NAS-IP-Address are refused (403). */
  nas: NasIdentity;
  /** Default 3799 (RFC 5176 §2.3); 0 picks a free port (see `port` after listen). */
  port?: number;
  /** Default 0.0.0.0; an IPv6 literal listens on IPv6. */
  bindAddress?: string;
  requireMessageAuthenticator?: boolean;
  /** Discard requests without Event-Timestamp (RFC 5176 §3.5 replay protection; default false). */
  requireEventTimestamp?: boolean;
  /** Allowed |now − Event-Timestamp| in seconds (default 300). */
  eventTimestampWindowSec?: number;
  log?: Logger;
}

const NAS_IDENTIFICATION = new Set(['nas-ip-address', 'nas-identifier', 'nas-ipv6-address']);
const SESSION_IDENTIFICATION = new Set([
  'user-name', 'nas-port', 'nas-port-id', 'nas-port-type', 'framed-ip-address', 'framed-ipv6-prefix', 'framed-interface-id',
  'called-station-id', 'calling-station-id', 'acct-session-id', 'acct-multi-session-id', 'chargeable-user-identity',
]);
/** Neither identification nor a change. */
const HOUSEKEEPING = new Set(['message-authenticator', 'event-timestamp', 'proxy-state', 'state', 'service-type', 'reply-message', 'class']);
const DISCONNECT_EXTRA = new Set(['acct-terminate-cause']);

export interface DynAuthStats {
  requests: number;
  acks: number;
  naks: number;
  discarded: number;
  duplicates: number;
}

const DUPLICATE_TTL_MS = 30_000;

export class DynAuthServer {
  private socket: dgram.Socket | undefined;
  private readonly peers = new Map<string, DynAuthPeer>();
  /** Answers by source+Identifier+authenticator; undefined while the handler still works on it. */
  private readonly recent = new Map<string, { at: number; answer?: Buffer }>();
  readonly stats: DynAuthStats = { requests: 0, acks: 0, naks: 0, discarded: 0, duplicates: 0 };

  constructor(
    private readonly opts: DynAuthServerOptions,
    private readonly handler: DynAuthHandler,
  ) {
    for (const c of opts.clients) {
      if (isIP(c.address) === 0) throw new Error(`dynamic authorization client "${c.address}" is not an IP address literal`);
      this.peers.set(c.address, c);
    }
  }

  async listen(): Promise<{ address: string; port: number }> {
    const address = this.opts.bindAddress ?? '0.0.0.0';
    const socket = dgram.createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
    socket.on('message', (msg, rinfo) => {
      this.receive(msg, rinfo).catch((e: unknown) => this.opts.log?.error({ err: (e as Error).message }, 'dynamic authorization request failed'));
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.opts.port ?? 3799, address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (err) => this.opts.log?.warn({ err: err.message }, 'dynamic authorization socket error'));
    this.socket = socket;
    const a = socket.address();
    return { address: a.address, port: a.port };
  }

  get port(): number | undefined {
    return this.socket?.address().port;
  }

  private discard(why: string, rinfo: dgram.RemoteInfo): void {
    this.stats.discarded++;
    this.opts.log?.warn({ from: `${rinfo.address}:${rinfo.port}`, why }, 'dynamic authorization request discarded');
  }

  private async receive(msg: Buffer, rinfo: dgram.RemoteInfo): Promise<void> {
    const peer = this.peers.get(rinfo.address.startsWith('::ffff:') ? rinfo.address.slice(7) : rinfo.address);
    if (peer === undefined) return this.discard('unknown client', rinfo);
    let attrs: Attribute[];
    try {
      if (msg[0] !== RadiusCode.DisconnectRequest && msg[0] !== RadiusCode.CoaRequest) return this.discard(`code ${msg[0]}`, rinfo);
      verifyRequest(msg, peer.secret, { requireMessageAuthenticator: this.opts.requireMessageAuthenticator ?? false });
      attrs = decodePacket(msg, { secret: peer.secret }).attributes;
    } catch (e) {
      if (e instanceof RadiusCodecError) return this.discard(e.message, rinfo);
      throw e;
    }
    const ts = getNumber(attrs, 'Event-Timestamp');
    const window = this.opts.eventTimestampWindowSec ?? 300;
    if (ts === undefined ? this.opts.requireEventTimestamp : Math.abs(Date.now() / 1000 - ts) > window) {
      return this.discard(ts === undefined ? 'no Event-Timestamp' : `Event-Timestamp ${ts} outside ±${window}s`, rinfo);
    }
    const key = `${rinfo.address}|${rinfo.port}|${msg[1]}|${msg.subarray(4, 20).toString('hex')}`;
    this.expire();
    const seen = this.recent.get(key);
    if (seen !== undefined) {
      this.stats.duplicates++;
      if (seen.answer !== undefined) this.socket?.send(seen.answer, rinfo.port, rinfo.address);
      return;
    }
    this.recent.set(key, { at: Date.now() });
    this.stats.requests++;
    const code = msg[0] as number;
    const { ack, errorCause } = await this.decide(code, attrs);
    const answerCode = code === RadiusCode.DisconnectRequest ? (ack ? RadiusCode.DisconnectAck : RadiusCode.DisconnectNak) : ack ? RadiusCode.CoaAck : RadiusCode.CoaNak;
    const reply: Attribute[] = [];
    if (errorCause !== undefined) reply.push(['Error-Cause', errorCause]);
    for (const ps of getAll(attrs, 'Proxy-State')) reply.push(['Proxy-State', ps]);
    const { buffer } = encodePacket({ code: answerCode, identifier: msg[1] as number, attributes: reply }, { secret: peer.secret, authenticator: msg.subarray(4, 20) });
    this.recent.set(key, { at: Date.now(), answer: buffer });
    if (ack) this.stats.acks++;
    else this.stats.naks++;
    this.socket?.send(buffer, rinfo.port, rinfo.address);
  }

  /** ACK or NAK, and the Error-Cause to send. */
  private async decide(code: number, attrs: Attribute[]): Promise<{ ack: boolean; errorCause?: number }> {
    const nak = (cause: ErrorCauseName): { ack: false; errorCause: number } => ({ ack: false, errorCause: ERROR_CAUSE[cause] });
    const serviceType = getNumber(attrs, 'Service-Type');
    if (serviceType !== undefined && serviceType !== 2) return nak('Unsupported-Service');
    if (!this.nasMatches(attrs)) return nak('NAS-Identification-Mismatch');
    const selector = selectorOf(attrs);
    if (Object.keys(selector).length === 0) return nak('Missing-Attribute');
    const isDisconnect = code === RadiusCode.DisconnectRequest;
    const changes = attrs.filter(([name]) => {
      const n = name.toLowerCase();
      return !NAS_IDENTIFICATION.has(n) && !SESSION_IDENTIFICATION.has(n) && !HOUSEKEEPING.has(n) && !(isDisconnect && DISCONNECT_EXTRA.has(n));
    });
    try {
      if (isDisconnect) {
        if (changes.length > 0) return nak('Unsupported-Attribute');
        return (await this.handler.disconnect(selector, attrs)) ? { ack: true } : nak('Session-Context-Not-Found');
      }
      const outcome = await this.handler.coa(selector, changes, attrs);
      if (!outcome.found) return nak('Session-Context-Not-Found');
      const applied = new Set(outcome.applied.map((n) => n.toLowerCase()));
      if (changes.every(([name]) => applied.has(name.toLowerCase()))) return { ack: true };
      const cause = outcome.errorCause ?? 'Unsupported-Attribute';
      return { ack: false, errorCause: typeof cause === 'number' ? cause : ERROR_CAUSE[cause] };
    } catch (e) {
      this.opts.log?.error({ err: (e as Error).message }, 'dynamic authorization handler failed');
      return nak('Resources-Unavailable');
    }
  }

  private nasMatches(attrs: Attribute[]): boolean {
    const { nas } = this.opts;
    const id = getText(attrs, 'NAS-Identifier');
    const ip = getText(attrs, 'NAS-IP-Address');
    const ip6 = getText(attrs, 'NAS-IPv6-Address');
    return (id === undefined || id === nas.identifier) && (ip === undefined || ip === nas.ipAddress) && (ip6 === undefined || ip6 === nas.ipv6Address);
  }

  private expire(): void {
    const limit = Date.now() - DUPLICATE_TTL_MS;
    for (const [k, v] of this.recent) {
      if (v.at >= limit) break; // insertion order is age order (entries are re-set only when answered, soon after)
      if (v.answer !== undefined) this.recent.delete(k);
    }
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

export function selectorOf(attrs: readonly Attribute[]): SessionSelector {
  const s: SessionSelector = {};
  const text = (k: keyof SessionSelector, name: string): void => {
    const v = getText(attrs, name);
    if (v !== undefined) (s as Record<string, unknown>)[k] = v;
  };
  text('acctSessionId', 'Acct-Session-Id');
  text('acctMultiSessionId', 'Acct-Multi-Session-Id');
  text('user', 'User-Name');
  text('framedIpAddress', 'Framed-IP-Address');
  text('framedIpv6Prefix', 'Framed-IPv6-Prefix');
  text('framedInterfaceId', 'Framed-Interface-Id');
  text('nasPortId', 'NAS-Port-Id');
  text('callingStationId', 'Calling-Station-Id');
  text('calledStationId', 'Called-Station-Id');
  const port = getNumber(attrs, 'NAS-Port');
  if (port !== undefined) s.nasPort = port;
  const cui = attrs.find(([n]) => n === 'Chargeable-User-Identity')?.[1];
  if (Buffer.isBuffer(cui)) s.chargeableUserIdentity = cui;
  return s;
}
