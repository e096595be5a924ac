/**
 * An in-process link between one AuthClient and one AuthServer: each side's packets wait in a queue until the
 * test delivers, drops, duplicates or reorders them, so every loss the restart timer exists for can be staged.
 */
import { createHash } from 'node:crypto';
import {
  AUTH_PPP_PROTOCOL,
  ChapCode,
  createAuthClient,
  createAuthServer,
  decodeChap,
  decodePap,
  LocalVerifier,
  PapCode,
  PppAuthError,
  type AuthClient,
  type AuthProtocolName,
  type AuthResult,
  type AuthServer,
  type AuthVerdict,
  type ChapPacket,
  type CredentialVerifier,
} from '../../../src/ppp/auth/index.js';

/** Deterministic "random" octets: SHA-256 in counter mode over a seed, so failures replay. */
export function seededRandom(seed: number): (octets: number) => Buffer {
  let counter = 0;
  return (octets) => {
    const out: Buffer[] = [];
    let have = 0;
    while (have < octets) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      out.push(block);
      have += block.length;
    }
    return Buffer.concat(out).subarray(0, octets);
  };
}

/** Let pending verifier promises settle. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface Side<T> {
  readonly auth: T;
  /** Packets this side sent and nobody has taken off the wire yet. */
  readonly outbox: Buffer[];
  /** Every packet this side ever sent, in order. */
  readonly sent: Buffer[];
  readonly results: AuthResult[];
  readonly discards: PppAuthError[];
}

export interface Link {
  readonly name: AuthProtocolName;
  readonly client: Side<AuthClient>;
  readonly server: Side<AuthServer>;
  /** Deliver everything in flight, both ways, letting the verifier answer, until nothing moves. */
  run(): Promise<void>;
  /** Deliver the first queued packet of `from` to the other side. */
  deliverOne(from: 'client' | 'server'): void;
  /** Drop everything in flight. */
  dropAll(): void;
}

export const USERS = { alice: 'correct horse', 'bob@example.net': 'Tr0ub4dor&3', 'ünïcødé': 'pässwörd✓' };

export interface LinkOptions {
  user?: string;
  password?: string;
  verifier?: CredentialVerifier;
  seed?: number;
  maxTransmissions?: number;
  onVerifierError?: (error: unknown) => void;
}

export function link(name: AuthProtocolName, o: LinkOptions = {}): Link {
  const protocol = AUTH_PPP_PROTOCOL[name];
  const mkSide = <T>(): { outbox: Buffer[]; sent: Buffer[]; results: AuthResult[]; discards: PppAuthError[]; auth?: T } => ({
    outbox: [],
    sent: [],
    results: [],
    discards: [],
  });
  const c = mkSide<AuthClient>();
  const s = mkSide<AuthServer>();
  const sender = (side: { outbox: Buffer[]; sent: Buffer[] }) => (proto: number, packet: Buffer) => {
    if (proto !== protocol) throw new Error(`sent on protocol ${proto.toString(16)}, expected ${protocol.toString(16)}`);
    side.outbox.push(packet);
    side.sent.push(packet);
  };
  const onDiscard = (side: { discards: PppAuthError[] }) => (e: PppAuthError) => {
    if (!(e instanceof PppAuthError)) throw new Error(`discard reason is not a PppAuthError: ${String(e)}`);
    side.discards.push(e);
  };
  const seed = o.seed ?? 1;
  c.auth = createAuthClient(name, sender(c), { user: o.user ?? 'alice', password: o.password ?? USERS.alice }, (r) => c.results.push(r), {
    random: seededRandom(seed),
    onDiscard: onDiscard(c),
    ...(o.maxTransmissions === undefined ? {} : { maxTransmissions: o.maxTransmissions }),
  });
  s.auth = createAuthServer(name, sender(s), o.verifier ?? new LocalVerifier(USERS), (r) => s.results.push(r), {
    random: seededRandom(seed + 1_000_000),
    onDiscard: onDiscard(s),
    name: 'lns.test',
    ...(o.onVerifierError === undefined ? {} : { onVerifierError: o.onVerifierError }),
    ...(o.maxTransmissions === undefined ? {} : { maxTransmissions: o.maxTransmissions }),
  });
  const client = c as Side<AuthClient>;
  const server = s as Side<AuthServer>;
  const deliverOne = (from: 'client' | 'server'): void => {
    const packet = (from === 'client' ? client : server).outbox.shift();
    if (packet !== undefined) (from === 'client' ? server : client).auth.receive(packet);
  };
  return {
    name,
    client,
    server,
    deliverOne,
    dropAll: () => {
      client.outbox.length = 0;
      server.outbox.length = 0;
    },
    async run() {
      for (let rounds = 0; rounds < 1000; rounds++) {
        while (client.outbox.length + server.outbox.length > 0) {
          if (server.outbox.length > 0) deliverOne('server');
          if (client.outbox.length > 0) deliverOne('client');
        }
        await settle();
        if (client.outbox.length + server.outbox.length === 0) return;
      }
      throw new Error('the exchange never went quiet');
    },
  };
}

/** The Message (PAP Ack/Nak, CHAP Success/Failure) of a reply packet. */
export function replyOf(name: AuthProtocolName, packet: Buffer): { ok: boolean; id: number; message: string } {
  if (name === 'pap') {
    const p = decodePap(packet);
    if (p.code === PapCode.AuthenticateRequest) throw new Error('not a reply');
    return { ok: p.code === PapCode.AuthenticateAck, id: p.id, message: p.message.toString('utf8') };
  }
  const p = decodeChap(packet);
  if (p.code !== ChapCode.Success && p.code !== ChapCode.Failure) throw new Error('not a reply');
  return { ok: p.code === ChapCode.Success, id: p.id, message: p.message.toString('utf8') };
}

export function challengeOf(packet: Buffer): Extract<ChapPacket, { value: Buffer }> {
  const p = decodeChap(packet);
  if (p.code !== ChapCode.Challenge) throw new Error(`code ${p.code} is not a Challenge`);
  return p;
}

/** A verifier whose answers the test releases by hand. */
export function heldVerifier(): CredentialVerifier & { calls: number; release(v: AuthVerdict): void } {
  const waiting: ((v: AuthVerdict) => void)[] = [];
  return {
    calls: 0,
    verify() {
      this.calls++;
      return new Promise<AuthVerdict>((resolve) => waiting.push(resolve));
    },
    release(v) {
      for (const resolve of waiting.splice(0)) resolve(v);
    },
  };
}

/** Both sides started, as the engine does when LCP opens: the order does not matter (PAP's client speaks first,
 * CHAP's server). */
export function begin(l: Link): void {
  l.server.auth.start();
  l.client.auth.start();
}
