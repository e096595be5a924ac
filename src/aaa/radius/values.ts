/**
 * Attribute values ⇄ octets, one function per RFC 8044 data type. Decoding returns undefined for a
 * value whose length is wrong for its type: RFC 6929 §2.8 says such an "invalid attribute" is then
 * treated as an unknown one (kept as raw octets), not as a reason to drop the whole packet.
 */
import { isIP } from 'node:net';
import { formatIp, parseIp, parsePrefix } from '../../config/ip.js';
import type { AttrSpec } from './dictionary.js';
import { RadiusEncodeError } from './errors.js';

export type AttrValue = string | number | bigint | Buffer;
/** One attribute instance: its dictionary name and value. Packets carry ordered lists (order and repeats matter). */
export type Attribute = readonly [name: string, value: AttrValue];

function fail(spec: AttrSpec, why: string): never {
  throw new RadiusEncodeError(`${spec.name}: ${why}`, spec.name, -1);
}

function u32(spec: AttrSpec, value: AttrValue): Buffer {
  let n: number | undefined;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint') n = Number(value);
  else if (typeof value === 'string') n = spec.values?.[value] ?? (/^\d+$/.test(value) ? Number(value) : undefined);
  if (n === undefined || !Number.isInteger(n) || n < 0 || n > 0xffffffff) fail(spec, `${String(value)} is not a 32-bit unsigned integer or known value name`);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function ipv6Bytes(spec: AttrSpec, text: string): Buffer {
  if (isIP(text) !== 6) fail(spec, `"${text}" is not an IPv6 address`);
  const a = parseIp(text);
  // parseIp folds IPv4-mapped addresses to IPv4; put the ::ffff: back.
  const v = a === undefined ? 0n : a.family === 6 ? a.value : a.value | 0xffff00000000n;
  return bigintBytes(v, 16);
}

function bigintBytes(v: bigint, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = n - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

function bytesBigint(b: Buffer): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

export function encodeValue(spec: AttrSpec, value: AttrValue): Buffer {
  if (Buffer.isBuffer(value)) return value;
  switch (spec.dataType) {
    case 'text':
    case 'octets':
      if (typeof value !== 'string') fail(spec, 'expects a string or a Buffer');
      return Buffer.from(value, 'utf8');
    case 'integer':
    case 'date':
      return u32(spec, value);
    case 'integer64': {
      const v = typeof value === 'bigint' ? value : typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : undefined;
      if (v === undefined || v < 0n || v > 0xffffffffffffffffn) fail(spec, `${String(value)} is not a 64-bit unsigned integer`);
      return bigintBytes(v, 8);
    }
    case 'ipaddr': {
      if (typeof value !== 'string' || isIP(value) !== 4) fail(spec, `"${String(value)}" is not an IPv4 address`);
      return Buffer.from(value.split('.').map(Number));
    }
    case 'ipv6addr':
      if (typeof value !== 'string') fail(spec, 'expects an IPv6 address');
      return ipv6Bytes(spec, value);
    case 'ipv6prefix': {
      const p = typeof value === 'string' ? parsePrefix(value) : undefined;
      if (p === undefined || 'error' in p || p.family !== 6) fail(spec, `"${String(value)}" is not an IPv6 prefix`);
      // RFC 8044 §3.10: the Prefix field need only be as long as the prefix length.
      const bytes = bigintBytes(p.value, 16).subarray(0, Math.ceil(p.length / 8));
      return Buffer.concat([Buffer.from([0, p.length]), bytes]);
    }
    case 'ifid': {
      const m = typeof value === 'string' ? /^([0-9a-f]{1,4}):([0-9a-f]{1,4}):([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(value) : null;
      if (m === null) fail(spec, `"${String(value)}" is not an interface identifier (xxxx:xxxx:xxxx:xxxx)`);
      const b = Buffer.alloc(8);
      for (let i = 0; i < 4; i++) b.writeUInt16BE(parseInt(m[i + 1] as string, 16), i * 2);
      return b;
    }
  }
}

export function decodeValue(spec: AttrSpec, raw: Buffer): AttrValue | undefined {
  switch (spec.dataType) {
    case 'octets':
      return Buffer.from(raw);
    case 'text':
      return raw.toString('utf8');
    case 'integer':
    case 'date':
      return raw.length === 4 ? raw.readUInt32BE(0) : undefined;
    case 'integer64':
      return raw.length === 8 ? raw.readBigUInt64BE(0) : undefined;
    case 'ipaddr':
      return raw.length === 4 ? `${raw[0]}.${raw[1]}.${raw[2]}.${raw[3]}` : undefined;
    case 'ipv6addr':
      return raw.length === 16 ? formatIp({ family: 6, value: bytesBigint(raw) }) : undefined;
    case 'ipv6prefix': {
      const len = raw[1];
      if (raw.length < 2 || raw.length > 18 || len === undefined || len > 128 || raw.length - 2 < Math.ceil(len / 8)) return undefined;
      const full = Buffer.alloc(16);
      raw.copy(full, 0, 2);
      const hostBits = BigInt(128 - len);
      const value = (bytesBigint(full) >> hostBits) << hostBits;
      return `${formatIp({ family: 6, value })}/${len}`;
    }
    case 'ifid':
      return raw.length === 8 ? [0, 2, 4, 6].map((i) => raw.readUInt16BE(i).toString(16)).join(':') : undefined;
  }
}

/** First value of `name` (case-insensitive) in an attribute list. */
export function getAttr(attrs: readonly Attribute[], name: string): AttrValue | undefined {
  const n = name.toLowerCase();
  return attrs.find(([k]) => k.toLowerCase() === n)?.[1];
}

/** Every value of `name`, in order. */
export function getAll(attrs: readonly Attribute[], name: string): AttrValue[] {
  const n = name.toLowerCase();
  return attrs.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
}

export function getText(attrs: readonly Attribute[], name: string): string | undefined {
  const v = getAttr(attrs, name);
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : v === undefined ? undefined : String(v);
}

export function getNumber(attrs: readonly Attribute[], name: string): number | undefined {
  const v = getAttr(attrs, name);
  return typeof v === 'number' ? v : undefined;
}

export function getBuffer(attrs: readonly Attribute[], name: string): Buffer | undefined {
  const v = getAttr(attrs, name);
  return Buffer.isBuffer(v) ? v : undefined;
}
