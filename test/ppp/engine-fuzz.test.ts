/**
 * Random frames thrown at both engines at random moments of a negotiation: receive() never throws
 * (malformed input is counted, not raised), and nothing wedges — after close() both ends reach
 * Dead exactly once, every timer is gone and the address is back in the pool.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeControlFrame, encodeFrame, encodeOptions, PppProtocol } from '../../src/ppp/frame.js';
import { pair, run } from './support/link.js';

const protocols = [PppProtocol.LCP, PppProtocol.IPCP, PppProtocol.IPV6CP, PppProtocol.PAP, PppProtocol.CHAP, PppProtocol.IPv4, 0x8281];
const option = fc.record({ type: fc.integer({ min: 0, max: 255 }), data: fc.uint8Array({ maxLength: 10 }).map((a) => Buffer.from(a)) });
const controlFrame = fc
  .record({
    protocol: fc.constantFrom(...protocols),
    code: fc.integer({ min: 0, max: 13 }),
    identifier: fc.integer({ min: 0, max: 255 }),
    options: fc.array(option, { maxLength: 4 }),
  })
  .map((r) => encodeControlFrame(r.protocol, { code: r.code, identifier: r.identifier, data: encodeOptions(r.options) }));
const rawFrame = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
const truncated = fc.tuple(controlFrame, fc.nat()).map(([f, n]) => f.subarray(0, n % (f.length + 1)));
const dataFrame = fc.uint8Array({ maxLength: 20 }).map((a) => encodeFrame(PppProtocol.IPv4, Buffer.from(a)));
const anyFrame = fc.oneof(controlFrame, rawFrame, truncated, dataFrame);

describe('PppEngine under random input (property)', () => {
  it('never throws, never wedges, reaches Dead exactly once and returns the address', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 3000 }), toServer: fc.boolean(), frame: anyFrame }), { maxLength: 25 }),
        fc.integer({ min: 1, max: 1000 }),
        async (shots, seed) => {
          const t = pair({ seed, server: { echoIntervalMs: 1000 } });
          for (const s of shots) {
            t.clock.setTimeout(() => (s.toServer ? t.server : t.client).engine.receive(s.frame), s.at);
          }
          t.server.engine.start();
          t.client.engine.start();
          await run(t.clock, 4000);
          t.server.engine.close();
          t.client.engine.close();
          await run(t.clock, 30_000, 100);
          expect(t.clock.pending()).toBe(0);
          expect(t.server.downs).toHaveLength(1);
          expect(t.client.downs).toHaveLength(1);
          expect(t.server.engine.phase).toBe('dead');
          expect(t.pool.taken.size).toBe(0);
          expect(t.server.ups.length).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 300 },
    );
  });
});
