/**
 * The RADIUS dictionary as data: packet codes and every attribute this NAS sends or honours, with its
 * data type (RFC 2865 §5, RFC 8044 names), its named integer values, and how it is hidden on the wire.
 * Attributes not listed here still decode — as `Attr-N` / `Attr-26.VENDOR.N` octets, FreeRADIUS's
 * names for unknown attributes — and those names encode again, so nothing is lost in transit.
 */

export const RadiusCode = {
  AccessRequest: 1,
  AccessAccept: 2,
  AccessReject: 3,
  AccountingRequest: 4,
  AccountingResponse: 5,
  AccessChallenge: 11,
  StatusServer: 12,
  DisconnectRequest: 40,
  DisconnectAck: 41,
  DisconnectNak: 42,
  CoaRequest: 43,
  CoaAck: 44,
  CoaNak: 45,
} as const;
export type RadiusCodeName = keyof typeof RadiusCode;

/** Codes whose Authenticator is random (RFC 2865 §3); every other request's is an MD5 over the packet (RFC 2866 §3). */
export const RANDOM_AUTHENTICATOR_CODES: ReadonlySet<number> = new Set([RadiusCode.AccessRequest, RadiusCode.StatusServer]);
export const REQUEST_CODES: ReadonlySet<number> = new Set([
  RadiusCode.AccessRequest,
  RadiusCode.AccountingRequest,
  RadiusCode.StatusServer,
  RadiusCode.DisconnectRequest,
  RadiusCode.CoaRequest,
]);
/** Which reply codes answer which request code. */
export const REPLY_CODES: Readonly<Record<number, readonly number[]>> = {
  [RadiusCode.AccessRequest]: [RadiusCode.AccessAccept, RadiusCode.AccessReject, RadiusCode.AccessChallenge],
  [RadiusCode.StatusServer]: [RadiusCode.AccessAccept, RadiusCode.AccountingResponse],
  [RadiusCode.AccountingRequest]: [RadiusCode.AccountingResponse],
  [RadiusCode.DisconnectRequest]: [RadiusCode.DisconnectAck, RadiusCode.DisconnectNak],
  [RadiusCode.CoaRequest]: [RadiusCode.CoaAck, RadiusCode.CoaNak],
};
export const KNOWN_CODES: ReadonlySet<number> = new Set(Object.values(RadiusCode));

/**
 * RFC 8044 data types. Decoded values: text/ipaddr/ipv6addr/ipv6prefix/ifid → string, integer/date →
 * number, integer64 → bigint, octets → Buffer.
 */
export type AttrDataType = 'text' | 'octets' | 'ipaddr' | 'integer' | 'date' | 'ipv6addr' | 'ipv6prefix' | 'ifid' | 'integer64';

export interface AttrSpec {
  readonly name: string;
  /** Attribute type, or the vendor type inside a Vendor-Specific attribute. */
  readonly type: number;
  /** SMI enterprise number for a vendor attribute (RFC 2865 §5.26 format). */
  readonly vendor?: number;
  readonly dataType: AttrDataType;
  /** `user-password`: RFC 2865 §5.2 hiding; `salt`: RFC 2548 §2.4.2 salt encryption (MPPE keys). */
  readonly hidden?: 'user-password' | 'salt';
  readonly values?: Readonly<Record<string, number>>;
}

export const VENDOR_SPECIFIC = 26;
export const MESSAGE_AUTHENTICATOR = 80;
export const VENDOR_MICROSOFT = 311;

const SERVICE_TYPE = {
  'Login-User': 1, 'Framed-User': 2, 'Callback-Login-User': 3, 'Callback-Framed-User': 4, 'Outbound-User': 5,
  'Administrative-User': 6, 'NAS-Prompt-User': 7, 'Authenticate-Only': 8, 'Callback-NAS-Prompt': 9, 'Call-Check': 10,
  'Callback-Administrative': 11, 'Authorize-Only': 17,
};
const TERMINATE_CAUSE = {
  'User-Request': 1, 'Lost-Carrier': 2, 'Lost-Service': 3, 'Idle-Timeout': 4, 'Session-Timeout': 5, 'Admin-Reset': 6,
  'Admin-Reboot': 7, 'Port-Error': 8, 'NAS-Error': 9, 'NAS-Request': 10, 'NAS-Reboot': 11, 'Port-Unneeded': 12,
  'Port-Preempted': 13, 'Port-Suspended': 14, 'Service-Unavailable': 15, Callback: 16, 'User-Error': 17, 'Host-Request': 18,
};
/** RFC 3576 §3.1 and RFC 5176 §3.5. */
export const ERROR_CAUSE = {
  'Residual-Context-Removed': 201, 'Invalid-EAP-Packet': 202, 'Unsupported-Attribute': 401, 'Missing-Attribute': 402,
  'NAS-Identification-Mismatch': 403, 'Invalid-Request': 404, 'Unsupported-Service': 405, 'Unsupported-Extension': 406,
  'Invalid-Attribute-Value': 407, 'Administratively-Prohibited': 501, 'Request-Not-Routable': 502,
  'Session-Context-Not-Found': 503, 'Session-Context-Not-Removable': 504, 'Other-Proxy-Processing-Error': 505,
  'Resources-Unavailable': 506, 'Request-Initiated': 507, 'Multiple-Session-Selection-Unsupported': 508,
} as const;
export type ErrorCauseName = keyof typeof ERROR_CAUSE;

type Row = [type: number, name: string, dataType: AttrDataType, extra?: Partial<Pick<AttrSpec, 'hidden' | 'values'>>];

/** RFC 2865, 2866, 2869, 3162, 3576/5176, 4818, 6911 (standard space). */
const STANDARD: readonly Row[] = [
  [1, 'User-Name', 'text'],
  [2, 'User-Password', 'text', { hidden: 'user-password' }],
  [3, 'CHAP-Password', 'octets'],
  [4, 'NAS-IP-Address', 'ipaddr'],
  [5, 'NAS-Port', 'integer'],
  [6, 'Service-Type', 'integer', { values: SERVICE_TYPE }],
  [7, 'Framed-Protocol', 'integer', { values: { PPP: 1, SLIP: 2, ARAP: 3, 'Gandalf-SLML': 4, 'Xylogics-IPX-SLIP': 5, 'X.75-Synchronous': 6 } }],
  [8, 'Framed-IP-Address', 'ipaddr'],
  [9, 'Framed-IP-Netmask', 'ipaddr'],
  [10, 'Framed-Routing', 'integer', { values: { None: 0, Broadcast: 1, Listen: 2, 'Broadcast-Listen': 3 } }],
  [11, 'Filter-Id', 'text'],
  [12, 'Framed-MTU', 'integer'],
  [13, 'Framed-Compression', 'integer', { values: { None: 0, 'Van-Jacobson-TCP-IP': 1, 'IPX-Header-Compression': 2, 'Stac-LZS': 3 } }],
  [14, 'Login-IP-Host', 'ipaddr'],
  [15, 'Login-Service', 'integer', { values: { Telnet: 0, Rlogin: 1, 'TCP-Clear': 2, PortMaster: 3, LAT: 4, X25_PAD: 5, X25_T3POS: 6, TCP_Clear_Quiet: 8 } }],
  [16, 'Login-TCP-Port', 'integer'],
  [18, 'Reply-Message', 'text'],
  [19, 'Callback-Number', 'text'],
  [20, 'Callback-Id', 'text'],
  [22, 'Framed-Route', 'text'],
  [23, 'Framed-IPX-Network', 'ipaddr'],
  [24, 'State', 'octets'],
  [25, 'Class', 'octets'],
  [27, 'Session-Timeout', 'integer'],
  [28, 'Idle-Timeout', 'integer'],
  [29, 'Termination-Action', 'integer', { values: { Default: 0, 'RADIUS-Request': 1 } }],
  [30, 'Called-Station-Id', 'text'],
  [31, 'Calling-Station-Id', 'text'],
  [32, 'NAS-Identifier', 'text'],
  [33, 'Proxy-State', 'octets'],
  [40, 'Acct-Status-Type', 'integer', { values: { Start: 1, Stop: 2, 'Interim-Update': 3, 'Accounting-On': 7, 'Accounting-Off': 8 } }],
  [41, 'Acct-Delay-Time', 'integer'],
  [42, 'Acct-Input-Octets', 'integer'],
  [43, 'Acct-Output-Octets', 'integer'],
  [44, 'Acct-Session-Id', 'text'],
  [45, 'Acct-Authentic', 'integer', { values: { RADIUS: 1, Local: 2, Remote: 3, Diameter: 4 } }],
  [46, 'Acct-Session-Time', 'integer'],
  [47, 'Acct-Input-Packets', 'integer'],
  [48, 'Acct-Output-Packets', 'integer'],
  [49, 'Acct-Terminate-Cause', 'integer', { values: TERMINATE_CAUSE }],
  [50, 'Acct-Multi-Session-Id', 'text'],
  [51, 'Acct-Link-Count', 'integer'],
  [52, 'Acct-Input-Gigawords', 'integer'],
  [53, 'Acct-Output-Gigawords', 'integer'],
  [55, 'Event-Timestamp', 'date'],
  [60, 'CHAP-Challenge', 'octets'],
  [61, 'NAS-Port-Type', 'integer', { values: { Async: 0, Sync: 1, 'ISDN-Sync': 2, 'ISDN-Async-V120': 3, 'ISDN-Async-V110': 4, Virtual: 5, PIAFS: 6, 'HDLC-Clear-Channel': 7, 'X.25': 8, 'X.75': 9, Ethernet: 15, xDSL: 16 } }],
  [62, 'Port-Limit', 'integer'],
  [77, 'Connect-Info', 'text'],
  [79, 'EAP-Message', 'octets'],
  [MESSAGE_AUTHENTICATOR, 'Message-Authenticator', 'octets'],
  [85, 'Acct-Interim-Interval', 'integer'],
  [87, 'NAS-Port-Id', 'text'],
  [88, 'Framed-Pool', 'text'],
  [89, 'Chargeable-User-Identity', 'octets'],
  [95, 'NAS-IPv6-Address', 'ipv6addr'],
  [96, 'Framed-Interface-Id', 'ifid'],
  [97, 'Framed-IPv6-Prefix', 'ipv6prefix'],
  [98, 'Login-IPv6-Host', 'ipv6addr'],
  [99, 'Framed-IPv6-Route', 'text'],
  [100, 'Framed-IPv6-Pool', 'text'],
  [101, 'Error-Cause', 'integer', { values: ERROR_CAUSE }],
  [123, 'Delegated-IPv6-Prefix', 'ipv6prefix'],
  [168, 'Framed-IPv6-Address', 'ipv6addr'],
  [169, 'DNS-Server-IPv6-Address', 'ipv6addr'],
  [170, 'Route-IPv6-Information', 'ipv6prefix'],
  [171, 'Delegated-IPv6-Prefix-Pool', 'text'],
  [172, 'Stateful-IPv6-Address-Pool', 'text'],
];

/** RFC 2548 Microsoft vendor attributes (Vendor-Id 311). */
const MICROSOFT: readonly Row[] = [
  [1, 'MS-CHAP-Response', 'octets'],
  [2, 'MS-CHAP-Error', 'octets'],
  [3, 'MS-CHAP-CPW-1', 'octets'],
  [4, 'MS-CHAP-CPW-2', 'octets'],
  [5, 'MS-CHAP-LM-Enc-PW', 'octets'],
  [6, 'MS-CHAP-NT-Enc-PW', 'octets'],
  [7, 'MS-MPPE-Encryption-Policy', 'integer', { values: { 'Encryption-Allowed': 1, 'Encryption-Required': 2 } }],
  [8, 'MS-MPPE-Encryption-Types', 'integer'],
  [9, 'MS-RAS-Vendor', 'integer'],
  [10, 'MS-CHAP-Domain', 'octets'],
  [11, 'MS-CHAP-Challenge', 'octets'],
  [12, 'MS-CHAP-MPPE-Keys', 'octets'],
  [13, 'MS-BAP-Usage', 'integer'],
  [14, 'MS-Link-Utilization-Threshold', 'integer'],
  [15, 'MS-Link-Drop-Time-Limit', 'integer'],
  [16, 'MS-MPPE-Send-Key', 'octets', { hidden: 'salt' }],
  [17, 'MS-MPPE-Recv-Key', 'octets', { hidden: 'salt' }],
  [18, 'MS-RAS-Version', 'text'],
  [22, 'MS-Filter', 'octets'],
  [23, 'MS-Acct-Auth-Type', 'integer'],
  [24, 'MS-Acct-EAP-Type', 'integer'],
  [25, 'MS-CHAP2-Response', 'octets'],
  [26, 'MS-CHAP2-Success', 'octets'],
  [27, 'MS-CHAP2-CPW', 'octets'],
  [28, 'MS-Primary-DNS-Server', 'ipaddr'],
  [29, 'MS-Secondary-DNS-Server', 'ipaddr'],
  [30, 'MS-Primary-NBNS-Server', 'ipaddr'],
  [31, 'MS-Secondary-NBNS-Server', 'ipaddr'],
];

function build(rows: readonly Row[], vendor?: number): AttrSpec[] {
  return rows.map(([type, name, dataType, extra]) => ({ name, type, dataType, ...(vendor !== undefined ? { vendor } : {}), ...extra }));
}

export const ATTRIBUTES: readonly AttrSpec[] = [...build(STANDARD), ...build(MICROSOFT, VENDOR_MICROSOFT)];

const BY_NAME = new Map<string, AttrSpec>(ATTRIBUTES.map((a) => [a.name.toLowerCase(), a]));
const BY_KEY = new Map<string, AttrSpec>(ATTRIBUTES.map((a) => [key(a.vendor, a.type), a]));

function key(vendor: number | undefined, type: number): string {
  return vendor === undefined ? String(type) : `26.${vendor}.${type}`;
}

/** The spec of an attribute on the wire; unknown ones get an `Attr-…` octets spec. */
export function specByCode(type: number, vendor?: number): AttrSpec {
  return BY_KEY.get(key(vendor, type)) ?? { name: `Attr-${key(vendor, type)}`, type, dataType: 'octets', ...(vendor !== undefined ? { vendor } : {}) };
}

/**
 * The spec of an attribute by name (case-insensitive), including `Attr-N`, `Attr-26.V.N` and `Attr-26` (a
 * whole Vendor-Specific value that did not follow the §5.26 format); undefined when unknown.
 */
export function specByName(name: string): AttrSpec | undefined {
  const known = BY_NAME.get(name.toLowerCase());
  if (known !== undefined) return known;
  const m = /^Attr-(?:26\.(\d{1,10})\.(\d{1,3})|(\d{1,3}))$/i.exec(name);
  if (m === null) return undefined;
  const type = Number(m[2] ?? m[3]);
  const vendor = m[1] === undefined ? undefined : Number(m[1]);
  if (type > 255 || (vendor !== undefined && vendor > 0xffffff)) return undefined;
  return specByCode(type, vendor);
}

/** The name of an integer attribute's value (`Acct-Status-Type` 1 → `Start`), if the dictionary has one. */
export function valueName(attribute: string, value: number): string | undefined {
  const values = specByName(attribute)?.values;
  if (values === undefined) return undefined;
  for (const [n, v] of Object.entries(values)) if (v === value) return n;
  return undefined;
}
