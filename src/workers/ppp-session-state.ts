/**
 * What the PPP service keeps of a terminated session in the session's failover record, beside the PPP
 * engine's state, so that a restarted worker goes on with the same AAA session instead of a new one:
 * the accounting session (Acct-Session-Id and start time: the Stop reports the whole session, RFC 2866
 * §5.7), the Interim interval, and the Session-Timeout deadline (what is left of it, not a new one).
 *
 * Plain data: records cross threads by structured clone and will go to Redis as JSON, so the Class
 * attributes (octets, RFC 2865 §5.25) are kept as hex.
 */
import type { AccountingSession } from '../aaa/index.js';

export interface PppServiceRecord {
  acct: Omit<AccountingSession, 'class'> & { class?: string[] };
  interimMs?: number;
  /** Session-Timeout: when it fires (Clock time, wall-clock ms) and the limit as granted (for the message). */
  sessionTimeout?: { at: number; seconds: number };
  /** Idle-Timeout in seconds (as authorized, or as a CoA changed it). */
  idleTimeout?: number;
}

export interface RestoredPppService {
  acct: AccountingSession;
  interimMs?: number;
  sessionTimeout?: { at: number; seconds: number };
  idleTimeout?: number;
}

export function pppServiceRecord(l: {
  acct: AccountingSession;
  interimMs?: number | undefined;
  timeoutAt?: number | undefined;
  timeoutSeconds?: number | undefined;
  idleTimeout?: number | undefined;
}): PppServiceRecord {
  const { class: cls, ...acct } = l.acct;
  return {
    acct: { ...acct, ...(cls ? { class: cls.map((c) => Buffer.from(c).toString('hex')) } : {}) },
    ...(l.interimMs !== undefined ? { interimMs: l.interimMs } : {}),
    ...(l.timeoutAt !== undefined && l.timeoutSeconds !== undefined ? { sessionTimeout: { at: l.timeoutAt, seconds: l.timeoutSeconds } } : {}),
    ...(l.idleTimeout !== undefined ? { idleTimeout: l.idleTimeout } : {}),
  };
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The record back; undefined when it is not one (nothing saved, or another version's shape). */
export function restorePppService(x: unknown): RestoredPppService | undefined {
  const r = x as Partial<PppServiceRecord> | null | undefined;
  const a = r?.acct;
  if (!a || typeof a.acctSessionId !== 'string' || typeof a.startedAt !== 'number') return undefined;
  const { class: cls, ...acct } = a;
  const out: RestoredPppService = { acct: { ...acct, ...(Array.isArray(cls) ? { class: cls.map((c) => Buffer.from(String(c), 'hex')) } : {}) } };
  const interim = num(r.interimMs);
  if (interim !== undefined) out.interimMs = interim;
  const at = num(r.sessionTimeout?.at);
  const seconds = num(r.sessionTimeout?.seconds);
  if (at !== undefined && seconds !== undefined) out.sessionTimeout = { at, seconds };
  const idle = num(r.idleTimeout);
  if (idle !== undefined) out.idleTimeout = idle;
  return out;
}
