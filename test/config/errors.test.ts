import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/index.js';
import { FILE, issueAt, issuesOf, positionOf, yaml } from './helpers.js';

describe('unknown keys', () => {
  it('are errors located at the key, with a suggestion', () => {
    const text = yaml('tunnel_profiles:', '  edge:', '    hello_intervall: 30s');
    expect(issueAt(text, 'tunnel_profiles.edge.hello_intervall')).toEqual({
      file: FILE, line: 3, column: 5, path: 'tunnel_profiles.edge.hello_intervall',
      message: 'unknown key "hello_intervall" (did you mean "hello_interval"?)',
    });
  });

  it('are found at every level, including list items and nested mappings', () => {
    const text = yaml(
      'sytem: {}',
      'tunnel_profiles:',
      '  a: { retransmit: { initial: 1s, capp: 9s } }',
      'tunnels:',
      '  - name: t',
      '    peer: 192.0.2.1',
      '    sessions:',
      '      - { name: s, colour: red }',
    );
    const issues = issuesOf(text);
    expect(issues.map((i) => [i.path, i.line, i.column])).toEqual([
      ['sytem', 1, 1],
      ['tunnel_profiles.a.retransmit.capp', 3, 35],
      ['tunnels[0].sessions[0].colour', 8, 20],
    ]);
    expect(issues[0]?.message).toBe('unknown key "sytem" (did you mean "system"?)');
    expect(issues[2]?.message).toMatch(/^unknown key "colour" \(allowed here: name, type, session_profile/);
  });
});

describe('wrong values', () => {
  it('name the path, the line, the rule and the value', () => {
    const text = yaml('system:', '  hostname: lns1', 'tunnel_profiles:', '  edge:', '    hello_interval: abc');
    expect(issueAt(text, 'tunnel_profiles.edge.hello_interval')).toEqual({
      file: FILE, line: 5, column: 21, path: 'tunnel_profiles.edge.hello_interval',
      message: 'must be a duration between 0s and 1h (seconds, or a string like "500ms", "30s", "2m"), got "abc"',
    });
  });

  it.each([
    ['system: { workers: many }', 'system.workers', 'must be "auto" or an integer between 1 and 256, got "many"'],
    ['system: { log_level: loud }', 'system.log_level', 'must be fatal, error, warn, info, debug, trace or silent, got "loud"'],
    ['system: { listen: "0.0.0.0:1701" }', 'system.listen', 'must be a list, got "0.0.0.0:1701"'],
    ['system: { listen: ["10.0.0.1:99999"] }', 'system.listen[0]', '"10.0.0.1:99999": port must be 1..65535'],
    ['system: { mgmt_socket: run/x.sock }', 'system.mgmt_socket', 'must be an absolute path, got "run/x.sock"'],
    ['system: { limits: { max_sessions: 1.5 } }', 'system.limits.max_sessions', 'must be an integer between 1 and 16000000, got 1.5'],
    ['system: [a]', 'system', 'must be a mapping of keys to values, got a list'],
    ['tunnel_profiles: { a: { version: 4 } }', 'tunnel_profiles.a.version', 'must be 2 or 3, got 4'],
    ['tunnel_profiles: { a: { hide_avps: "yes" } }', 'tunnel_profiles.a.hide_avps', 'must be true or false, got "yes"'],
    ['tunnel_profiles: { a: { receive_window_size: 0 } }', 'tunnel_profiles.a.receive_window_size', 'must be an integer between 1 and 32767, got 0'],
    ['tunnel_profiles: { a: { retransmit: { cap: 4s } } }', 'tunnel_profiles.a.retransmit.cap', 'must be a duration between 8s and 1h (seconds, or a string like "500ms", "30s", "2m"), got "4s"'],
    ['tunnel_profiles: { a: { ack_delay: 1s } }', 'tunnel_profiles.a.ack_delay', 'must be a duration between 0s and 500ms (seconds, or a string like "500ms", "30s", "2m"), got "1s"'],
    ['tunnel_profiles: { a: { secret: } }', 'tunnel_profiles.a.secret', 'must be a non-empty string of at most 1024 characters, got an empty value'],
    ['session_profiles: { a: { cookie_length: 2 } }', 'session_profiles.a.cookie_length', 'must be 0, 4 or 8, got 2'],
    ['ethernet_profiles: { a: { interface_name: "eth%s" } }', 'ethernet_profiles.a.interface_name', 'must contain at most one "%d" and no other "%", got "eth%s"'],
    ['ethernet_profiles: { a: { vlan_id: 4095 } }', 'ethernet_profiles.a.vlan_id', 'must be an integer between 1 and 4094, or null, got 4095'],
    ['session_profiles: { a: { pseudowire: ethernet_vlan } }', 'session_profiles.a.pseudowire', 'pseudowire ethernet_vlan needs vlan_id in ethernet profile default'],
    ['ppp_profiles: { "a.b": {} }', 'ppp_profiles.a.b', 'must be a name of up to 64 letters, digits, "_" and "-" (not only digits), got "a.b"'],
    ['ppp_profiles: { "42": {} }', 'ppp_profiles.42', 'must be a name of up to 64 letters, digits, "_" and "-" (not only digits), got "42"'],
    ['peer_profiles: { p: { match: { address: 198.18.0.1/15 } } }', 'peer_profiles.p.match.address', '"198.18.0.1/15" has host bits set (did you mean 198.18.0.0/15?)'],
    ['peer_profiles: { p: { match: { address: 2001:db8::/129 } } }', 'peer_profiles.p.match.address', '"2001:db8::/129": prefix length must be 0..128'],
    ['peer_profiles: { p: { match: { host_name: "bras[1]" } } }', 'peer_profiles.p.match.host_name', 'must be a host name pattern like "bras*" (wildcards * and ?), got "bras[1]"'],
    ['tunnels: [{ name: t, peer: 192.0.2.1, sessions: [{ name: s, called_number: 0123 }] }]', 'tunnels[0].sessions[0].called_number', 'must be a string, got the number 123 (put it in quotes)'],
    ['tunnels: [{ name: t, peer: lns.example.net }]', 'tunnels[0].peer', '"lns.example.net" is not an IP address with an optional port (e.g. "192.0.2.1:1701" or "[2001:db8::1]:1701")'],
    ['tunnels: [{ peer: 192.0.2.1 }]', 'tunnels[0].name', 'is required (a name of up to 64 letters, digits, "_" and "-" (not only digits))'],
  ])('%s', (text, path, message) => {
    expect(issueAt(`${text}\n`, path).message).toBe(message);
  });

  it('explains why a session type cannot be configured', () => {
    const text = 'tunnels: [{ name: t, peer: 192.0.2.1, sessions: [{ name: s, type: lac_outgoing }] }]\n';
    expect(issueAt(text, 'tunnels[0].sessions[0].type').message).toMatch(/placed by the LNS peer \(OCRQ\); allow it with lns: true/);
  });
});

describe('cross-field and cross-reference rules', () => {
  it('a missing profile reference points at the referencing line', () => {
    const text = yaml(
      'tunnel_profiles:',
      '  edge: {}',
      'tunnels:',
      '  - name: t1',
      '    peer: 192.0.2.1',
      '    tunnel_profile: edgy',
      '    sessions:',
      '      - name: s1',
      '        session_profile: ghost',
    );
    expect(issueAt(text, 'tunnels[0].tunnel_profile')).toMatchObject({ line: 6, column: 21, message: 'unknown tunnel profile "edgy" (did you mean "edge"?)' });
    expect(issueAt(text, 'tunnels[0].sessions[0].session_profile')).toMatchObject({ line: 9, column: 26, message: 'unknown session profile "ghost" (defined: default)' });
  });

  it('checks references from profiles to profiles', () => {
    const text = yaml('session_profiles: { s: { ppp_profile: p, ethernet_profile: e } }', 'peer_profiles: { x: { match: { host_name: x }, session_profile: nope } }');
    expect(issuesOf(text).map((i) => i.message)).toEqual([
      'unknown ppp profile "p" (defined: default)',
      'unknown ethernet profile "e" (defined: default)',
      'unknown session profile "nope" (defined: default, s)',
    ]);
  });

  it.each([
    ['tunnel_profiles: { a: { auth_mode: challenge } }', 'tunnel_profiles.a.auth_mode', /challenge needs a secret/],
    ['tunnel_profiles: { a: { hide_avps: true } }', 'tunnel_profiles.a.hide_avps', /needs a secret/],
    ['tunnel_profiles: { a: { encapsulation: ip } }', 'tunnel_profiles.a.encapsulation', /only in L2TPv3/],
    ['tunnel_profiles: { a: { retransmit: { initial: 30s } } }', 'tunnel_profiles.a.retransmit', /initial \(30s\) must not exceed retransmit.cap \(8s\)/],
    ['ppp_profiles: { a: { auth: [pap, chap, pap] } }', 'ppp_profiles.a.auth[2]', /"pap" is listed twice/],
    ['system: { listen: ["[::]:1701", "[0::0]:1701"] }', 'system.listen[1]', /listed twice \(first at line 1\)/],
    ['system: { listen_ip: [198.18.0.1, 198.18.0.1] }', 'system.listen_ip[1]', /listed twice \(first at line 1\)/],
    ['system: { dataplane: "null", listen_ip: [198.18.0.1] }', 'system.listen_ip', /L2TPv3 over IP needs the kernel data plane/],
    ['peer_profiles: { default: { match: { host_name: x } } }', 'peer_profiles.default.match', /takes no match/],
    ['peer_profiles: { lonely: { accept: false } }', 'peer_profiles.lonely', /has no match/],
    ['peer_profiles: { p: { match: {} } }', 'peer_profiles.p.match', /needs host_name, address, or both/],
    ['tunnels: [{ name: t, peer: 192.0.2.1 }, { name: t, peer: 192.0.2.2 }]', 'tunnels[1].name', /duplicate tunnel name "t" \(first at line 1\)/],
    ['tunnels: [{ name: t, peer: 192.0.2.1, local: "::1" }]', 'tunnels[0].local', /is IPv6 but peer 192.0.2.1 is IPv4/],
    ['tunnels: [{ name: t, peer: 192.0.2.1, sessions: [{ name: s }, { name: s }] }]', 'tunnels[0].sessions[1].name', /duplicate session name/],
    ['tunnels: [{ name: t, peer: 192.0.2.1, sessions: [{ name: s, pseudowire: ethernet }] }]', 'tunnels[0].sessions[0].pseudowire', /needs an L2TPv3 tunnel/],
    ['tunnel_profiles: { v3: { version: 3 } }\ntunnels: [{ name: t, peer: 192.0.2.1, tunnel_profile: v3, sessions: [{ name: s }] }]', 'tunnels[0].sessions[0]', /needs remote_end_id/],
  ])('%s', (text, path, message) => {
    expect(issueAt(`${text}\n`, path).message).toMatch(message);
  });

  it('a parent-only peer profile (inherited, no match) is fine', () => {
    expect(() => parseConfig(yaml('peer_profiles:', '  base: { lns: true }', '  x: { inherit: base, match: { host_name: x } }'), FILE)).not.toThrow();
  });
});

describe('collecting and reporting', () => {
  const text = yaml(
    'system:',
    '  workers: 0',
    '  colour: blue',
    'tunnel_profiles:',
    '  edge: { hello_interval: -1, inherit: nowhere }',
    '  strict: { auth_mode: challenge }',
    'tunnels:',
    '  - { name: t, peer: 192.0.2.1, tunnel_profile: edge }',
  );

  it('reports every error at once, in file order, across all stages', () => {
    const issues = issuesOf(text);
    expect(issues.map((i) => `${i.line}:${i.path}`)).toEqual([
      '2:system.workers',
      '3:system.colour',
      '5:tunnel_profiles.edge.hello_interval',
      '5:tunnel_profiles.edge.inherit',
      // A cross-field rule in a profile without schema errors still shows in the same pass.
      '6:tunnel_profiles.strict.auth_mode',
    ]);
  });

  it('format() prints file:line:col: path: message lines', () => {
    let error: unknown;
    try {
      parseConfig(text, '/etc/l2tpd/l2tpd.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const out = (error as ConfigError).format();
    expect(out.split('\n')[0]).toBe('5 configuration errors; nothing was applied');
    expect(out).toContain('/etc/l2tpd/l2tpd.yaml:2:12: system.workers: must be "auto" or an integer between 1 and 256, got 0');
    expect(out).toContain(`/etc/l2tpd/l2tpd.yaml:${positionOf(text, 'nowhere').line}:${positionOf(text, 'nowhere').column}: tunnel_profiles.edge.inherit:`);
    expect((error as ConfigError).message).toBe(out);
  });

  it('reports YAML syntax errors with their position', () => {
    const issues = issuesOf(yaml('system:', '  hostname: "unterminated', 'tunnels: []'));
    expect(issues[0]).toMatchObject({ file: FILE, path: '' });
    expect(issues[0]?.line).toBeGreaterThanOrEqual(2);
    expect(issues[0]?.message).toMatch(/^YAML: /);
  });

  it('refuses duplicate keys (the second would silently win otherwise)', () => {
    const issues = issuesOf(yaml('system:', '  hostname: a', '  hostname: b'));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 3, column: 3 });
    expect(issues[0]?.message).toMatch(/unique/);
  });

  it('refuses a file that is not a mapping', () => {
    expect(issuesOf('just text\n')[0]?.message).toBe('must be a mapping of keys to values, got "just text"');
  });
});

describe('YAML features that would hide mistakes', () => {
  it.each([
    ['system: !!binary aGVsbG8=', /Unresolved tag/],
    ['system: { hostname: !custom x }', /Unresolved tag/],
    ['? [a, b]\n: 1', /a key must be a plain value/],
    ['system: {}\n---\nsystem: {}', /multiple documents/],
  ])('%j is refused', (text, message) => {
    const issues = issuesOf(`${text}\n`);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.message).toMatch(message);
  });

  it('merge keys are unknown keys (use inherit), aliases are expanded', () => {
    const text = yaml('tunnel_profiles:', '  a: &x { hello_interval: 5 }', '  b:', '    <<: *x');
    expect(issueAt(text, 'tunnel_profiles.b.<<')).toMatchObject({ line: 4, column: 5 });
    const c = parseConfig(yaml('tunnel_profiles:', '  a: &x { hello_interval: 5 }', '  b: *x'), FILE);
    expect(c.tunnelProfile('b').helloIntervalMs).toBe(5_000);
  });
});
