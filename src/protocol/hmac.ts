/**
 * HMAC (RFC 2104) built from node:crypto hashes. Measured here (Node 24, OpenSSL 3): createHmac
 * costs ~22 µs per call (an EVP_MAC fetch each time) against ~1.7 µs for createHash, and every
 * authenticated L2TPv3 control message needs one — so H((K ^ opad) | H((K ^ ipad) | m)) is done
 * by hand with two hashes. Tested equal to createHmac on random keys and messages.
 */
import { createHash } from 'node:crypto';

const BLOCK = 64; // MD5 and SHA-1 block size

export function hmac(algorithm: 'md5' | 'sha1', key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  let k = Buffer.from(key);
  if (k.length > BLOCK) k = createHash(algorithm).update(k).digest();
  const ipad = Buffer.alloc(BLOCK, 0x36);
  const opad = Buffer.alloc(BLOCK, 0x5c);
  for (let i = 0; i < k.length; i++) {
    ipad[i]! ^= k[i]!;
    opad[i]! ^= k[i]!;
  }
  const inner = createHash(algorithm).update(ipad);
  for (const p of parts) inner.update(p);
  return createHash(algorithm).update(opad).update(inner.digest()).digest();
}
