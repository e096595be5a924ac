/**
 * tshark as an independent decoder: run `tshark -T pdml` on a capture and hand back, per packet, the protocols,
 * every field (flat and as a tree), the expert infos and whether Wireshark called it malformed.
 *
 * Why PDML and not `-T json` / `-T ek` (measured with tshark 4.0.17):
 * - `-T json` keys objects by field name or, for AVPs, by their label ("Vendor Name AVP"), so two AVPs of the same
 *   kind, or two expert infos in one protocol, become duplicate keys and JSON.parse keeps only the last one.
 *   `--no-duplicate-keys` merges them into arrays per key, which loses the order across keys and which value
 *   belonged to which AVP.
 * - `-T ek` flattens each protocol into one object: same loss of grouping.
 * - PDML is XML in document order: every field appears once per occurrence, nested exactly like the `-V` tree, with
 *   `show` (display value), `value` (raw bytes in hex), `pos` and `size`. Expert infos are `_ws.expert` fields
 *   (children `_ws.expert.message`, `.severity`, `.group`, some marked hide="yes" — keep those), and a dissector
 *   exception shows up as a `<proto name="_ws.malformed">` (not in `frame.protocols`).
 *
 * L2TP in tshark 4.0:
 * - UDP port 1701 is L2TP (`udp.port 1701 l2tp` in `tshark -G decodes`); v2 vs v3 comes from the version nibble of
 *   the first 16 bits, so L2TPv3 over UDP needs nothing. For another port: `decodeAs: ['udp.port==1702,l2tp']`.
 * - IP protocol 115 is L2TPv3 over IP automatically (`ip.proto 115 l2tp`; the PDML proto is still named `l2tp`,
 *   showname "Layer 2 Tunneling Protocol version 3"); a Session ID of 0 means a control message.
 * - L2TPv3 data packets: the cookie length and L2-Specific Sublayer are learnt from the control messages in the same
 *   capture ("Detect"). For a capture without them set the preferences, by the labels tshark lists (an unknown
 *   label is silently ignored, exit code 0!):
 *     prefs: { 'l2tp.cookie_size': '4 Byte Cookie' | '8 Byte Cookie' | 'None' | 'Detect',
 *              'l2tp.l2_specific': 'Default L2-Specific' | 'None' | 'ATM-Specific' | ... }
 *   The payload dissector follows the session's Pseudowire Type (decode-as table `l2tp.pw_type`, e.g. 5 → eth);
 *   without ICRQ/ICRP in the capture the payload is shown as Data.
 * - `'l2tp.shared_secret': 'secret'` makes tshark verify the L2TPv3 Message Digest AVP (expert `l2tp.incorrect_digest`).
 * - Hidden AVPs are not decrypted (only "Hidden: True" is shown).
 *
 * Checksums: tshark does not verify IP/UDP checksums unless asked (`checksums: true` sets ip/udp/tcp
 * `check_checksum:TRUE`). Leave it off for captures from `lo`: the kernel leaves UDP checksums to "offload", so
 * captured checksums are legitimately wrong there.
 */
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

export type ExpertSeverity = 'error' | 'warn' | 'note' | 'chat' | 'comment';

export interface TsharkField {
  /** Field abbreviation, e.g. `l2tp.avp.type`; '' for text-only tree items (such as the "Host Name AVP" label). */
  name: string;
  /** Display value (`show`), or the showname when there is no show. Entities decoded; may contain raw newlines. */
  show: string;
  /** Raw bytes in hex (for bitmask fields: the masked value in hex). */
  value?: string;
  showname?: string;
  /** Byte offset in the frame and length. */
  pos?: number;
  size?: number;
  /** The enclosing protocol (`l2tp`, `udp`, `_ws.malformed`...). */
  protocol: string;
}

export interface TsharkNode {
  kind: 'proto' | 'field';
  name: string;
  attrs: Record<string, string>;
  children: TsharkNode[];
}

export interface TsharkExpert {
  severity: ExpertSeverity;
  /** e.g. 'Malformed', 'Checksum', 'Undecoded', 'Protocol', 'Sequence'. */
  group: string;
  message: string;
  /** The protocol that raised it. */
  protocol: string;
}

export interface TsharkPacket {
  /** Frame number, 1-based. */
  number: number;
  /** From `frame.protocols`, e.g. ['eth', 'ethertype', 'ip', 'udp', 'l2tp']. */
  protocols: string[];
  fields: TsharkField[];
  tree: TsharkNode[];
  experts: TsharkExpert[];
  /** A dissector threw (Wireshark's "[Malformed Packet]"). */
  malformed: boolean;
}

export interface TsharkOptions {
  /** `-d` arguments, e.g. `udp.port==1702,l2tp`. */
  decodeAs?: string[];
  /** `-o name:value` preferences, e.g. `{ 'l2tp.cookie_size': '4 Byte Cookie' }`. */
  prefs?: Record<string, string>;
  /** Verify IPv4 header, UDP and TCP checksums (off by default, as in tshark). */
  checksums?: boolean;
  /** `-Y` display filter. */
  displayFilter?: string;
  /** Kill tshark after this long (default 60 s). */
  timeoutMs?: number;
  tsharkPath?: string;
}

/** expert severity values from epan/proto.h (PI_COMMENT ... PI_ERROR). */
const SEVERITIES: Record<number, ExpertSeverity> = {
  0x00100000: 'comment',
  0x00200000: 'chat',
  0x00400000: 'note',
  0x00600000: 'warn',
  0x00800000: 'error',
};
const SEVERITY_WORDS: Record<string, ExpertSeverity> = {
  comment: 'comment',
  chat: 'chat',
  note: 'note',
  warning: 'warn',
  warn: 'warn',
  error: 'error',
};

export function tsharkArgs(pcapPath: string, opts: TsharkOptions = {}): string[] {
  // -n: no name resolution, so addresses and ports stay numeric and nothing is looked up.
  const args = ['-n', '-r', pcapPath, '-T', 'pdml'];
  if (opts.checksums) {
    for (const p of ['ip.check_checksum', 'udp.check_checksum', 'tcp.check_checksum']) args.push('-o', `${p}:TRUE`);
  }
  for (const [k, v] of Object.entries(opts.prefs ?? {})) args.push('-o', `${k}:${v}`);
  for (const d of opts.decodeAs ?? []) args.push('-d', d);
  if (opts.displayFilter) args.push('-Y', opts.displayFilter);
  return args;
}

/** Decodes every packet of a capture file with tshark. Rejects when tshark fails or times out. */
export function tsharkDecode(pcapPath: string, opts: TsharkOptions = {}): Promise<TsharkPacket[]> {
  const args = tsharkArgs(pcapPath, opts);
  return new Promise((resolve, reject) => {
    const child = spawn(opts.tsharkPath ?? 'tshark', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      // A personal Wireshark profile (~/.config/wireshark) must not change what the tests see.
      env: { ...process.env, WIRESHARK_CONFIG_DIR: '/nonexistent/l2tpd-tests-wireshark-config' },
    });
    const packets: TsharkPacket[] = [];
    const decoder = new StringDecoder('utf8');
    let pending = '';
    let stderr = '';
    let failure: Error | undefined;
    const timer = setTimeout(() => {
      failure = new Error(`tshark timed out after ${opts.timeoutMs ?? 60_000} ms: tshark ${args.join(' ')}`);
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    const drain = (): void => {
      // Parse each complete <packet> as soon as it arrives, so large captures never sit in memory as text.
      for (;;) {
        const end = pending.indexOf('</packet>');
        if (end < 0) return;
        const start = pending.indexOf('<packet>');
        const chunk = pending.slice(start < 0 || start > end ? 0 : start, end + '</packet>'.length);
        pending = pending.slice(end + '</packet>'.length);
        try {
          packets.push(packetFromTree(parsePdmlPacket(chunk)));
        } catch (e) {
          failure ??= e as Error;
        }
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      pending += decoder.write(d);
      drain();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run tshark (${e.message}); is it installed? (test/support/global-setup.ts installs it)`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      pending += decoder.end();
      drain();
      if (failure) return reject(failure);
      if (code !== 0) {
        return reject(new Error(`tshark ${args.join(' ')} exited with ${code ?? signal}:\n${stderr.trim()}`));
      }
      resolve(packets);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// PDML: a tiny parser for exactly what tshark writes (elements with quoted attributes, no text content).

const TAG = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[^\s=/>]+\s*=\s*"[^"]*")*)\s*(\/?)>/g;
const ATTR = /([^\s=/>]+)\s*=\s*"([^"]*)"/g;

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|quot|amp|lt|gt|apos);/g, (_m, e: string) => {
    switch (e) {
      case 'quot':
        return '"';
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'apos':
        return "'";
      default: {
        const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
      }
    }
  });
}

/** Parses one `<packet>...</packet>` into its top-level nodes (the `<proto>` elements). */
export function parsePdmlPacket(xml: string): TsharkNode[] {
  const root: TsharkNode = { kind: 'proto', name: 'packet', attrs: {}, children: [] };
  const stack: TsharkNode[] = [];
  for (const m of xml.matchAll(TAG)) {
    const [, closing, tag, attrText, selfClosing] = m;
    if (tag === 'packet') continue;
    if (tag !== 'proto' && tag !== 'field') throw new Error(`unexpected PDML element <${tag}>`);
    if (closing) {
      const open = stack.pop();
      if (!open || open.kind !== tag) throw new Error(`PDML: </${tag}> does not close <${open?.kind ?? 'nothing'}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of (attrText ?? '').matchAll(ATTR)) attrs[a[1]!] = decodeEntities(a[2]!);
    const node: TsharkNode = { kind: tag as TsharkNode['kind'], name: attrs['name'] ?? '', attrs, children: [] };
    (stack[stack.length - 1] ?? root).children.push(node);
    if (!selfClosing) stack.push(node);
  }
  if (stack.length) throw new Error(`PDML: <${stack[stack.length - 1]!.kind}> left open`);
  return root.children;
}

function packetFromTree(tree: TsharkNode[]): TsharkPacket {
  const fields: TsharkField[] = [];
  const experts: TsharkExpert[] = [];
  let malformed = false;
  const walk = (nodes: TsharkNode[], protocol: string): void => {
    for (const n of nodes) {
      if (n.name.startsWith('_ws.malformed')) malformed = true;
      if (n.kind === 'proto') {
        walk(n.children, n.name);
        continue;
      }
      fields.push(toField(n, protocol));
      if (n.name === '_ws.expert') experts.push(expertOf(n, protocol));
      walk(n.children, protocol);
    }
  };
  walk(tree, '');
  const protoField = fields.find((f) => f.name === 'frame.protocols');
  const protocols = protoField
    ? protoField.show.split(':')
    : tree.filter((n) => n.kind === 'proto' && !['geninfo', 'frame', 'fake-field-wrapper'].includes(n.name)).map((n) => n.name);
  const number = Number(fields.find((f) => f.name === 'frame.number')?.show ?? NaN);
  return { number, protocols, fields, tree, experts, malformed };
}

function toField(n: TsharkNode, protocol: string): TsharkField {
  const a = n.attrs;
  const field: TsharkField = { name: n.name, show: a['show'] ?? a['showname'] ?? '', protocol };
  if (a['value'] !== undefined) field.value = a['value'];
  if (a['showname'] !== undefined) field.showname = a['showname'];
  if (a['pos'] !== undefined) field.pos = Number(a['pos']);
  if (a['size'] !== undefined) field.size = Number(a['size']);
  return field;
}

function expertOf(n: TsharkNode, protocol: string): TsharkExpert {
  const child = (name: string): TsharkNode | undefined => n.children.find((c) => c.name === name);
  // showname: "Expert Info (Error/Malformed): Malformed Packet (Exception occurred)"
  const head = /^Expert Info \(([^/]+)\/([^)]+)\):\s*(.*)$/s.exec(n.attrs['showname'] ?? '');
  const sevNumber = Number(child('_ws.expert.severity')?.attrs['show']);
  const severity = SEVERITIES[sevNumber] ?? SEVERITY_WORDS[(head?.[1] ?? '').toLowerCase()] ?? 'error';
  const groupName = child('_ws.expert.group')?.attrs['showname']?.replace(/^Group:\s*/, '') ?? head?.[2] ?? '';
  const message = child('_ws.expert.message')?.attrs['show'] ?? head?.[3] ?? '';
  return { severity, group: groupName, message, protocol };
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers for assertions

/** All `l2tp.*` fields of the packet, in order. */
export function l2tpFields(pkt: TsharkPacket): TsharkField[] {
  return pkt.fields.filter((f) => f.name.startsWith('l2tp.'));
}

/** Expert infos of severity error (malformed packets, bad checksums, bad lengths...). */
export function expertErrors(pkt: TsharkPacket): TsharkExpert[] {
  return pkt.experts.filter((e) => e.severity === 'error');
}

/** The `show` values of every occurrence of a field, in order. */
export function fieldValues(pkt: TsharkPacket, name: string): string[] {
  return pkt.fields.filter((f) => f.name === name).map((f) => f.show);
}

export interface TsharkAvp {
  /** Tree label, e.g. "Host Name AVP". */
  label: string;
  vendorId: number;
  attributeType: number;
  mandatory: boolean;
  hidden: boolean;
  length: number;
  /** The AVP's own fields (l2tp.avp.mandatory ... value fields), in order, nested ones flattened. */
  fields: TsharkField[];
}

const AVP_TYPE_FIELDS = new Set(['l2tp.avp.type', 'l2tp.avp.ciscotype', 'l2tp.avp.ericssontype', 'l2tp.avp.broadbandtype', 'l2tp.avp.cablelabstype']);

/** The AVPs tshark found in each L2TP layer of the packet, in wire order. */
export function l2tpAvps(pkt: TsharkPacket): TsharkAvp[] {
  const avps: TsharkAvp[] = [];
  for (const proto of pkt.tree.filter((n) => n.kind === 'proto' && n.name === 'l2tp')) {
    for (const item of proto.children) {
      // Every AVP item carries the H flag; hidden ones have no vendor/type fields (tshark does not unhide).
      if (item.kind !== 'field' || !item.children.some((c) => c.name === 'l2tp.avp.hidden')) continue;
      const fields: TsharkField[] = [];
      const flat = (nodes: TsharkNode[]): void => {
        for (const c of nodes) {
          fields.push(toField(c, 'l2tp'));
          flat(c.children);
        }
      };
      flat(item.children);
      const num = (name: string): number => Number(fields.find((f) => f.name === name)?.show ?? NaN);
      avps.push({
        label: item.attrs['show'] ?? '',
        vendorId: num('l2tp.avp.vendor_id'),
        attributeType: Number(fields.find((f) => AVP_TYPE_FIELDS.has(f.name))?.show ?? NaN),
        mandatory: num('l2tp.avp.mandatory') === 1,
        hidden: num('l2tp.avp.hidden') === 1,
        length: num('l2tp.avp.length'),
        fields,
      });
    }
  }
  return avps;
}
