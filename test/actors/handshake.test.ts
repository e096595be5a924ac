import { describe, expect, it } from 'vitest';
import { buildSccrq, tieBreak, type TunnelData } from '../../src/actors/handshake.js';
import { DEFAULT_TUNNEL_OPTIONS } from '../../src/actors/options.js';

const hex = (s: string) => Buffer.from(s, 'hex');

describe('tie breaker (RFC 2661 §4.4.3)', () => {
  it('the lower value wins; equal values make both lose; a lone tie breaker wins', () => {
    expect(tieBreak('0000000000000001', hex('0000000000000002'))).toBe('ours');
    expect(tieBreak('0000000000000002', hex('0000000000000001'))).toBe('theirs');
    expect(tieBreak('00000000000000ff', hex('00000000000000ff'))).toBe('both');
    expect(tieBreak(undefined, hex('0000000000000001'))).toBe('theirs');
    expect(tieBreak('0000000000000001', undefined)).toBe('ours');
    expect(tieBreak(undefined, undefined)).toBe('separate');
  });

  it('our SCCRQ carries an 8-octet Tie Breaker, kept across retransmission rebuilds', () => {
    const t: TunnelData = { localTunnelId: 5, peerTunnelId: 0, version: 2, role: 'initiator', local: { address: '127.0.0.1', port: 1701 }, peer: { address: '127.0.0.2', port: 1701 }, createdAt: 0, profile: 'default', persistent: false };
    const first = buildSccrq(t, DEFAULT_TUNNEL_OPTIONS).find((a) => a.type === 5)!;
    const again = buildSccrq(t, DEFAULT_TUNNEL_OPTIONS).find((a) => a.type === 5)!;
    expect((first.value as Buffer).length).toBe(8);
    expect(again.value).toEqual(first.value);
    expect(first.mandatory).toBe(false); // the M bit MUST be 0
  });
});
