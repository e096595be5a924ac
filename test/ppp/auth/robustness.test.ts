/**
 * Malformed and hostile input in every state, and random loss/duplication/timer schedules checked against a
 * model of what the exchange may conclude.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  authPacketRecipient,
  AUTH_PPP_PROTOCOL,
  decodeChap,
  decodePap,
  PppAuthError,
  type AuthProtocolName,
} from '../../../src/ppp/auth/index.js';
import { link, settle, USERS, type Link } from './harness.js';

const PROTOCOLS: readonly AuthProtocolName[] = ['pap', 'chap', 'mschapv2'];

/** Every packet either side sent decodes, and is addressed to the other side. */
function expectWellFormed(l: Link): void {
  const protocol = AUTH_PPP_PROTOCOL[l.name];
  const decode = l.name === 'pap' ? decodePap : decodeChap;
  for (const p of l.client.sent) {
    decode(p);
    expect(authPacketRecipient(protocol, p)).toBe('server');
  }
  for (const p of l.server.sent) {
    decode(p);
    expect(authPacketRecipient(protocol, p)).toBe('client');
  }
}

/** Valid packets of this protocol with one octet changed, cut short, or replaced by noise. */
function hostile(l: Link): fc.Arbitrary<Buffer> {
  const samples = [...l.client.sent, ...l.server.sent];
  const mutated = fc.tuple(fc.constantFrom(...samples), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat()).map(([p, at, xor, cut]) => {
    const t = Buffer.from(p);
    t[at % t.length]! ^= xor;
    return cut % 3 === 0 ? t.subarray(0, cut % (t.length + 1)) : t;
  });
  return fc.oneof(mutated, fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)));
}

/** Stages at which to throw garbage at both sides. */
const STAGES = ['before start', 'started', 'request in flight', 'verifying', 'decided', 'stopped'] as const;

async function reach(l: Link, stage: (typeof STAGES)[number]): Promise<void> {
  if (stage === 'before start') return;
  l.server.auth.start();
  l.client.auth.start();
  if (stage === 'started') return;
  if (l.name !== 'pap') l.deliverOne('server');
  if (stage === 'request in flight') return;
  l.deliverOne('client');
  if (stage === 'verifying') return;
  await l.run();
  if (stage === 'decided') return;
  l.server.auth.stop();
  l.client.auth.stop();
}

describe.each(PROTOCOLS)('%s: hostile packets', (name) => {
  it.each(STAGES)('in state "%s": never throw, every drop is a PppAuthError, at most one result', async (stage) => {
    const template = link(name);
    await reach(template, 'decided'); // packets to mutate
    await fc.assert(
      fc.asyncProperty(fc.array(hostile(template), { minLength: 1, maxLength: 12 }), async (garbage) => {
        const l = link(name);
        await reach(l, stage);
        const before = { client: l.client.results.length, server: l.server.results.length };
        for (const g of garbage) {
          expect(() => l.server.auth.receive(g)).not.toThrow();
          expect(() => l.client.auth.receive(g)).not.toThrow();
          l.server.auth.timeout();
          l.client.auth.timeout();
        }
        await l.run();
        for (const d of [...l.client.discards, ...l.server.discards]) expect(d).toBeInstanceOf(PppAuthError);
        // Garbage may complete or refuse an exchange, but a round never reports twice. The server's rounds are
        // start() calls (one here); a CHAP client starts a round for each new Challenge it answers after a
        // success (a garbled copy of the Challenge is a new one to it): each sent Response that differs from
        // the one before it (repeats are byte-identical, a new round's Response is not).
        expect(l.server.results.length).toBeLessThanOrEqual(Math.max(1, before.server));
        const clientRounds = name === 'pap' ? 1 : l.client.sent.filter((p, i) => i === 0 || !p.equals(l.client.sent[i - 1]!)).length;
        expect(l.client.results.length).toBeLessThanOrEqual(Math.max(1, clientRounds));
        expectWellFormed(l);
      }),
      { numRuns: 60 },
    );
  });

  it('a forged packet never makes the server accept a wrong password', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a)), { maxLength: 8 }), async (garbage) => {
        const l = link(name, { password: 'wrong' });
        l.server.auth.start();
        l.client.auth.start();
        for (const g of garbage) l.server.auth.receive(g);
        await l.run();
        expect(l.server.results.every((r) => !r.ok)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

type Step = 'deliverClient' | 'deliverServer' | 'dropClient' | 'dropServer' | 'duplicateClient' | 'duplicateServer' | 'timeoutClient' | 'timeoutServer' | 'settle';
const STEPS: readonly Step[] = ['deliverClient', 'deliverServer', 'dropClient', 'dropServer', 'duplicateClient', 'duplicateServer', 'timeoutClient', 'timeoutServer', 'settle'];

async function apply(l: Link, step: Step): Promise<void> {
  const side = step.endsWith('Client') ? l.client : l.server;
  switch (step) {
    case 'deliverClient':
    case 'deliverServer':
      return l.deliverOne(step === 'deliverClient' ? 'client' : 'server');
    case 'dropClient':
    case 'dropServer':
      side.outbox.shift();
      return;
    case 'duplicateClient':
    case 'duplicateServer':
      if (side.outbox.length > 0) side.outbox.unshift(side.outbox[0]!);
      return;
    case 'timeoutClient':
    case 'timeoutServer':
      return (step === 'timeoutClient' ? l.client : l.server).auth.timeout();
    case 'settle':
      return settle();
  }
}

const GAVE_UP = /^No /;

describe.each(PROTOCOLS)('%s: lossy links against the model', (name) => {
  it('whatever is lost, duplicated or late: the outcome is the password\'s, decided once, and both sides agree', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(fc.constantFrom(...STEPS), { maxLength: 80 }),
        fc.integer({ min: 1, max: 1000 }),
        async (rightPassword, steps, seed) => {
          const l = link(name, { password: rightPassword ? USERS.alice : 'wrong', seed, maxTransmissions: 6 });
          l.server.auth.start();
          l.client.auth.start();
          for (const s of steps) await apply(l, s);
          // Then the link heals: everything is delivered and both timers keep firing until both sides conclude.
          for (let i = 0; i < 20 && (l.client.results.length === 0 || l.server.results.length === 0); i++) {
            await l.run();
            if (l.client.results.length === 0) l.client.auth.timeout();
            if (l.server.results.length === 0) l.server.auth.timeout();
          }
          await l.run();

          // Model: one result per side; acceptance only with the right password; a side that did not give up
          // learnt the other side's decision.
          expect(l.server.results).toHaveLength(1);
          expect(l.client.results).toHaveLength(1);
          const [server, client] = [l.server.results[0]!, l.client.results[0]!];
          if (!rightPassword) expect([server.ok, client.ok]).toEqual([false, false]);
          if (client.ok) expect(server.ok).toBe(true);
          if (!GAVE_UP.test(server.message ?? '') && !GAVE_UP.test(client.message ?? '')) expect(client.ok).toBe(server.ok);
          expect(l.server.discards.every((d) => d instanceof PppAuthError)).toBe(true);
          expectWellFormed(l);
        },
      ),
      { numRuns: 300 },
    );
  });
});
