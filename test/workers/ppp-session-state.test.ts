import { describe, expect, it } from 'vitest';
import { pppServiceRecord, restorePppService } from '../../src/workers/ppp-session-state.js';

describe('the PPP service part of a session record', () => {
  it('survives a structured clone and JSON: same accounting session (Class octets too), deadlines kept', () => {
    const acct = { acctSessionId: '0abc', user: 'carol', startedAt: 1_700_000_000_000, sessionId: 7, tunnelId: 3, class: [Buffer.from([0, 1, 0xfe])], authentic: 'RADIUS' as const };
    const record = pppServiceRecord({ acct, interimMs: 300_000, timeoutAt: 1_700_000_004_000, timeoutSeconds: 4, idleTimeout: 600 });
    const back = restorePppService(JSON.parse(JSON.stringify(structuredClone(record))));
    expect(back).toEqual({ acct, interimMs: 300_000, sessionTimeout: { at: 1_700_000_004_000, seconds: 4 }, idleTimeout: 600 });
    expect(Buffer.isBuffer(back!.acct.class![0])).toBe(true);
  });

  it('is not one without an accounting session', () => {
    expect(restorePppService(undefined)).toBeUndefined();
    expect(restorePppService({ acct: { user: 'x' } })).toBeUndefined();
  });
});
