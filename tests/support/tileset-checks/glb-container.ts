/**
 * Just enough of the GLB container format to read the JSON and BIN chunks, to write a GLB, and to re-emit a GLB
 * with an edited JSON chunk (used to hide BOOLEAN metadata columns from loaders.gl, which cannot decode them).
 */

const MAGIC_GLTF = 0x46546c67;
const CHUNK_JSON = 0x4e4f534a;
const CHUNK_BIN = 0x004e4942;

export interface GlbParts {
  json: Record<string, unknown>;
  bin: Uint8Array | undefined;
}

/** Splits a GLB; throws with a readable message when the container is malformed. */
export function readGlb(bytes: Uint8Array): GlbParts {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 20 || view.getUint32(0, true) !== MAGIC_GLTF)
    throw new Error("not a GLB (bad magic)");
  const declared = view.getUint32(8, true);
  if (declared !== bytes.byteLength)
    throw new Error(`GLB header length ${declared} != file size ${bytes.byteLength}`);
  const jsonLength = view.getUint32(12, true);
  if (view.getUint32(16, true) !== CHUNK_JSON || 20 + jsonLength > bytes.byteLength)
    throw new Error("GLB first chunk is not a complete JSON chunk");
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(20, 20 + jsonLength)));
  let bin: Uint8Array | undefined;
  const binStart = 20 + jsonLength;
  if (binStart + 8 <= bytes.byteLength && view.getUint32(binStart + 4, true) === CHUNK_BIN) {
    const binLength = view.getUint32(binStart, true);
    bin = bytes.subarray(binStart + 8, binStart + 8 + binLength);
  }
  return { json, bin };
}

/** Same GLB with the JSON chunk replaced; the BIN chunk is copied byte for byte. */
export function replaceGlbJson(bytes: Uint8Array, json: unknown): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const oldJsonLength = view.getUint32(12, true);
  const encoded = new TextEncoder().encode(JSON.stringify(json));
  const padded = new Uint8Array(Math.ceil(encoded.length / 4) * 4).fill(0x20);
  padded.set(encoded);
  const rest = bytes.subarray(20 + oldJsonLength);
  const out = new Uint8Array(20 + padded.length + rest.length);
  out.set(bytes.subarray(0, 20));
  out.set(padded, 20);
  out.set(rest, 20 + padded.length);
  const outView = new DataView(out.buffer);
  outView.setUint32(8, out.length, true);
  outView.setUint32(12, padded.length, true);
  return out;
}

/** A GLB from JSON and BIN parts (BIN padded with zeros to 4 bytes). */
export function writeGlb(parts: GlbParts): Uint8Array {
  const encoded = new TextEncoder().encode(JSON.stringify(parts.json));
  const jsonLength = Math.ceil(encoded.length / 4) * 4;
  const binLength = parts.bin ? Math.ceil(parts.bin.byteLength / 4) * 4 : 0;
  const out = new Uint8Array(12 + 8 + jsonLength + (parts.bin ? 8 + binLength : 0));
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC_GLTF, true);
  view.setUint32(4, 2, true);
  view.setUint32(8, out.length, true);
  view.setUint32(12, jsonLength, true);
  view.setUint32(16, CHUNK_JSON, true);
  out.fill(0x20, 20, 20 + jsonLength);
  out.set(encoded, 20);
  if (parts.bin) {
    view.setUint32(20 + jsonLength, binLength, true);
    view.setUint32(24 + jsonLength, CHUNK_BIN, true);
    out.set(parts.bin, 28 + jsonLength);
  }
  return out;
}
