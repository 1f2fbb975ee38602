import { createHash } from "node:crypto";

/** The 64 characters of IFC's GUID base64 (not RFC 4648: digits first, `_` and `$` last). */
export const IFC_GUID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_$";

/** A 22-character IfcGloballyUniqueId: 2 bits then 21 x 6 bits of a 128-bit GUID. */
export const IFC_GUID_PATTERN = /^[0-3][0-9A-Za-z_$]{21}$/;

/** Compresses 16 GUID bytes (big-endian, as in the canonical 8-4-4-4-12 hex form) to IFC's 22 characters. */
export function compressGuid(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new Error(`a GUID has 16 bytes, got ${bytes.length}`);
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = "";
  for (let i = 21; i >= 0; i--) out += IFC_GUID_ALPHABET[Number((n >> BigInt(6 * i)) & 63n)];
  return out;
}

/** Inverse of {@link compressGuid}: the canonical lower-case hex form (8-4-4-4-12). */
export function expandGuid(ifcGuid: string): string {
  if (!IFC_GUID_PATTERN.test(ifcGuid)) throw new Error(`not an IFC GlobalId: ${ifcGuid}`);
  let n = 0n;
  for (const c of ifcGuid) n = (n << 6n) | BigInt(IFC_GUID_ALPHABET.indexOf(c));
  const hex = n.toString(16).padStart(32, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A deterministic GlobalId generator. Each entity is named by a stable key (e.g. `wall/2F/south`), and its GUID
 * is a name-based UUID (RFC 9562 version 5: SHA-1 of seed + key): the same key gets the same GlobalId on every
 * run and machine, and adding an element elsewhere in the model does not renumber the others. A key used twice
 * throws, so every GlobalId in a file is unique.
 */
export function createGuidGenerator(seed: string): (key: string) => string {
  const used = new Set<string>();
  const guids = new Set<string>();
  return (key: string) => {
    if (used.has(key)) throw new Error(`GlobalId key used twice: ${key}`);
    const digest = createHash("sha1").update(seed).update("\u0000").update(key, "utf8").digest();
    const bytes = Uint8Array.from(digest.subarray(0, 16));
    bytes[6] = (bytes[6] & 0x0f) | 0x50; // version 5
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC variant
    const guid = compressGuid(bytes);
    if (guids.has(guid)) throw new Error(`GlobalId collision at key ${key}`);
    used.add(key);
    guids.add(guid);
    return guid;
  };
}
