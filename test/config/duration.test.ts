import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/config/index.js';
import { issueAt, load, yaml } from './helpers.js';

describe('durations', () => {
  it.each([
    [0, 0], [60, 60_000], [0.5, 500], [0.001, 1], ['500ms', 500], ['30s', 30_000], ['2m', 120_000],
    ['1h', 3_600_000], ['1m30s', 90_000], ['1.5s', 1_500], [' 8s ', 8_000], ['0s', 0], ['1h2m3s4ms', 3_723_004],
  ] as const)('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['abc'], ['30'], [''], ['-1s'], [-1], ['1 s'], ['1d'], ['s'], ['1.s'], [0.0001], [Infinity], [NaN], [true], [null], [['1s']], ['1ms2'],
  ] as const)('%j is refused', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('formatDuration gives text that parses back to the same value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
    expect([8_000, 90_000, 1_500, 3_600_000, 0].map(formatDuration)).toEqual(['8s', '1m30s', '1500ms', '1h', '0s']);
  });

  it('numbers are seconds in every duration field', () => {
    const c = load(yaml(
      'tunnel_profiles:',
      '  a: { hello_interval: 90, ack_delay: 0.25, retransmit: { initial: "250ms", cap: 1m } }',
      'ppp_profiles:',
      '  a: { lcp_echo_interval: 0 }',
    ));
    expect(c.tunnelProfile('a')).toMatchObject({ helloIntervalMs: 90_000, ackDelayMs: 250, retransmitInitialMs: 250, retransmitCapMs: 60_000 });
    expect(c.pppProfile('a').lcpEchoIntervalMs).toBe(0);
  });

  it('the 8 s retransmit cap floor holds whatever the unit (RFC 2661 §5.8)', () => {
    expect(load(yaml('tunnel_profiles: { a: { retransmit: { cap: 8000ms } } }')).tunnelProfile('a').retransmitCapMs).toBe(8_000);
    expect(issueAt(yaml('tunnel_profiles: { a: { retransmit: { cap: 7.999 } } }'), 'tunnel_profiles.a.retransmit.cap').message).toMatch(/between 8s and 1h/);
  });
});
