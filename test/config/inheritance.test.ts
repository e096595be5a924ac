import { describe, expect, it } from 'vitest';
import { issueAt, issuesOf, load, positionOf, yaml } from './helpers.js';

describe('profile inheritance', () => {
  const chain = yaml(
    'tunnel_profiles:',
    '  default:',
    '    hello_interval: 30s',
    '  base:',
    '    receive_window_size: 8',
    '    retransmit: { initial: 2s, max_retries: 7 }',
    '  middle:',
    '    inherit: base',
    '    retransmit: { cap: 16s }',
    '    ack_delay: 50ms',
    '  leaf:',
    '    inherit: middle',
    '    receive_window_size: 32',
    '    retransmit: { max_retries: 9 }',
  );

  it('fills a chain leaf → middle → base → default → built-in, nearest value winning', () => {
    const leaf = load(chain).tunnelProfile('leaf');
    expect(leaf.receiveWindowSize).toBe(32);
    expect(leaf.ackDelayMs).toBe(50);
    expect(leaf.helloIntervalMs).toBe(30_000);
    expect(leaf.digest).toBe('hmac-md5');
    // retransmit merges key by key across three levels.
    expect([leaf.retransmitInitialMs, leaf.retransmitCapMs, leaf.maxRetransmits]).toEqual([2_000, 16_000, 9]);
  });

  it('resolves the parents themselves too', () => {
    const c = load(chain);
    expect(c.tunnelProfile('middle').receiveWindowSize).toBe(8);
    expect(c.tunnelProfile('middle').maxRetransmits).toBe(7);
    expect(c.tunnelProfile('base').ackDelayMs).toBe(100);
    expect(c.tunnelProfile('base').helloIntervalMs).toBe(30_000);
  });

  it('lets a profile without inherit take the file\'s default, not only the built-in one', () => {
    const c = load(yaml('ppp_profiles:', '  default: { mru: 1400 }', '  other: { lcp_echo_failures: 5 }'));
    expect(c.pppProfile('other').mru).toBe(1400);
    expect(c.pppProfile('other').lcpEchoFailures).toBe(5);
  });

  it('replaces lists and honours an explicit null', () => {
    const c = load(yaml(
      'ppp_profiles:',
      '  a: { auth: [pap] }',
      '  b: { inherit: a, auth: [] }',
      'ethernet_profiles:',
      '  bridged: { bridge: br0, vlan_id: 100 }',
      '  plain: { inherit: bridged, bridge: null }',
    ));
    expect(c.pppProfile('a').auth).toEqual(['pap']);
    expect(c.pppProfile('b').auth).toEqual([]);
    expect(c.ethernetProfile('plain')).toMatchObject({ bridge: null, vlanId: 100 });
  });

  it('inherits peer settings but never match', () => {
    const c = load(yaml(
      'peer_profiles:',
      '  bras: { match: { host_name: "bras*" }, lns: true, accept: true }',
      '  bras-east: { inherit: bras, match: { address: 198.18.0.0/16 } }',
    ));
    expect(c.peerProfile('bras-east')).toMatchObject({ lns: true, match: { address: '198.18.0.0/16' } });
    expect(c.peerProfile('bras-east').match).not.toHaveProperty('hostName');
  });

  it('applies cross-field rules to inherited values', () => {
    const c = load(yaml('tunnel_profiles:', '  keyed: { secret: s3cret }', '  auth: { inherit: keyed, auth_mode: challenge }'));
    expect(c.tunnelProfile('auth')).toMatchObject({ authMode: 'challenge', secret: 's3cret' });
    const missing = yaml('tunnel_profiles:', '  keyed: { hello_interval: 10 }', '  auth: { inherit: keyed, auth_mode: challenge }');
    expect(issueAt(missing, 'tunnel_profiles.auth.auth_mode').message).toMatch(/challenge needs a secret/);
  });

  it('reports a problem once, on the profile that sets it, not on every child', () => {
    const text = yaml('tunnel_profiles:', '  p: { auth_mode: challenge }', '  c1: { inherit: p }', '  c2: { inherit: c1, hello_interval: 5 }');
    expect(issuesOf(text).map((i) => i.path)).toEqual(['tunnel_profiles.p.auth_mode']);
  });

  describe('broken chains', () => {
    it('refuses a cycle, pointing at an inherit of the cycle', () => {
      const text = yaml('session_profiles:', '  a: { inherit: c }', '  b: { inherit: a }', '  c: { inherit: b }');
      const issue = issueAt(text, 'session_profiles.a.inherit');
      expect(issue.message).toBe('inheritance cycle: a → c → b → a');
      expect(issue).toMatchObject(positionOf(text, 'c }'));
      expect(issuesOf(text)).toHaveLength(1);
    });

    it('refuses a profile inheriting from itself', () => {
      const text = yaml('ppp_profiles:', '  x:', '    inherit: x');
      expect(issueAt(text, 'ppp_profiles.x.inherit')).toMatchObject({ line: 3, column: 14, message: 'inheritance cycle: x → x' });
    });

    it('refuses a missing parent, at the line that names it', () => {
      const text = yaml('tunnel_profiles:', '  edge:', '    hello_interval: 10', '    inherit: egde-base', '  edge-base: {}');
      expect(issueAt(text, 'tunnel_profiles.edge.inherit')).toMatchObject({
        line: 4, column: 14, message: 'unknown tunnel profile "egde-base" (did you mean "edge-base"?)',
      });
    });

    it('refuses inherit on default', () => {
      const text = yaml('tunnel_profiles:', '  default: { inherit: x }', '  x: {}');
      expect(issueAt(text, 'tunnel_profiles.default.inherit').message).toMatch(/cannot inherit/);
    });

    it('refuses a parent of another type (each type has its own namespace)', () => {
      const text = yaml('ppp_profiles: { shared: {} }', 'session_profiles: { s: { inherit: shared } }');
      expect(issueAt(text, 'session_profiles.s.inherit').message).toMatch(/unknown session profile "shared"/);
    });
  });
});
