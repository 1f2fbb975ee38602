/**
 * Re-lays out a GLB's binary chunk so that every bufferView starts on an 8-byte boundary.
 * EXT_structural_metadata requires 8-byte alignment for property-table buffer views (readers such as CesiumJS
 * build Float64Array views over them), but gltf-transform appends extension buffer views unpadded.
 */
const GLB_MAGIC = 0x46546c67;
const CHUNK_JSON = 0x4e4f534a;
const CHUNK_BIN = 0x004e4942;

interface MeshoptRef {
  buffer: number;
  byteOffset?: number;
  byteLength: number;
}

interface BufferViewDef {
  buffer: number;
  byteOffset?: number;
  byteLength: number;
}

export function alignGlbBufferViews(glb: Uint8Array, alignment = 8): Uint8Array {
  const view = new DataView(glb.buffer, glb.byteOffset, glb.byteLength);
  if (view.getUint32(0, true) !== GLB_MAGIC) throw new Error("not a GLB");
  const jsonLength = view.getUint32(12, true);
  if (view.getUint32(16, true) !== CHUNK_JSON) throw new Error("GLB: first chunk is not JSON");
  const json = JSON.parse(new TextDecoder().decode(glb.subarray(20, 20 + jsonLength)));
  const binStart = 20 + jsonLength;
  if (binStart >= glb.byteLength) return glb;
  const binLength = view.getUint32(binStart, true);
  if (view.getUint32(binStart + 4, true) !== CHUNK_BIN) throw new Error("GLB: second chunk is not BIN");
  const bin = glb.subarray(binStart + 8, binStart + 8 + binLength);

  // What occupies the GLB's own buffer: its buffer views, and the compressed streams that
  // EXT_meshopt_compression addresses directly (their views then point at a fallback buffer).
  const segments: Array<{ ref: { byteOffset?: number; byteLength: number } }> = [];
  for (const bv of (json.bufferViews ?? []) as Array<
    BufferViewDef & { extensions?: Record<string, MeshoptRef> }
  >) {
    if (bv.buffer === 0) segments.push({ ref: bv });
    const stream = bv.extensions?.EXT_meshopt_compression;
    if (stream && stream.buffer === 0) segments.push({ ref: stream });
  }
  segments.sort((a, b) => (a.ref.byteOffset ?? 0) - (b.ref.byteOffset ?? 0));
  let size = 0;
  const newOffsets = segments.map(({ ref }) => {
    size = Math.ceil(size / alignment) * alignment;
    const at = size;
    size += ref.byteLength;
    return at;
  });
  if (segments.every(({ ref }, i) => (ref.byteOffset ?? 0) === newOffsets[i])) return glb;
  size = Math.ceil(size / 4) * 4;
  const newBin = new Uint8Array(size);
  segments.forEach(({ ref }, i) => {
    const from = ref.byteOffset ?? 0;
    newBin.set(bin.subarray(from, from + ref.byteLength), newOffsets[i]);
    ref.byteOffset = newOffsets[i];
  });
  json.buffers[0].byteLength = size;
  return assembleGlb(json, newBin);
}

export function assembleGlb(json: unknown, bin: Uint8Array): Uint8Array {
  let jsonBytes = new TextEncoder().encode(JSON.stringify(json));
  const jsonPadded = Math.ceil(jsonBytes.length / 4) * 4;
  if (jsonPadded !== jsonBytes.length) {
    const padded = new Uint8Array(jsonPadded).fill(0x20);
    padded.set(jsonBytes);
    jsonBytes = padded;
  }
  const total = 12 + 8 + jsonBytes.length + 8 + bin.length;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, GLB_MAGIC, true);
  dv.setUint32(4, 2, true);
  dv.setUint32(8, total, true);
  dv.setUint32(12, jsonBytes.length, true);
  dv.setUint32(16, CHUNK_JSON, true);
  out.set(jsonBytes, 20);
  const b = 20 + jsonBytes.length;
  dv.setUint32(b, bin.length, true);
  dv.setUint32(b + 4, CHUNK_BIN, true);
  out.set(bin, b + 8);
  return out;
}
