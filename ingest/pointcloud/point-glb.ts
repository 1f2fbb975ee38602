import { WORDS } from "./octree.ts";

/** One tile's points, packed as in octree.ts, and how to place them in the tile's frame. */
export interface PointTileSource {
  points: Uint32Array;
  count: number;
  /** Octree origin and step: a stored coordinate is origin + q * quantum (metres, east-north-up). */
  origin: readonly number[];
  quantum: number;
  /** The tile's own origin in the same frame. */
  centre: readonly number[];
  /** Write COLOR_0 (the source has RGB). */
  colour: boolean;
}

/** Room before the binary chunk for the GLB header and the JSON chunk, which are written last. */
const HEAD = 4096;

/**
 * Writes a glTF 2.0 point primitive (mode POINTS) as GLB, straight from the packed points into the final file
 * image. Written by hand rather than through gltf-transform: the document is four accessors, and building a
 * gltf-transform Document (and copying every array twice more) per tile costs more than decoding the tile's
 * points, which matters at millions of points per second. Intensity and classification are plain custom vertex
 * attributes (_INTENSITY, _CLASSIFICATION) that CesiumJS custom shaders read as vsInput.attributes.intensity /
 * .classification.
 */
export function encodePointGlb(tile: PointTileSource): Uint8Array {
  const n = tile.count;
  const pts = tile.points;
  const colourBytes = tile.colour ? 4 * n : 0;
  const binLength = 12 * n + colourBytes + 8 * n;
  // Never pooled, so the typed-array views below start 4-byte aligned.
  const file = Buffer.allocUnsafeSlow(HEAD + binLength);
  const buffer = file.buffer;
  const at = file.byteOffset + HEAD;
  const pos = new Float32Array(buffer, at, 3 * n);
  const colours = tile.colour ? new Uint32Array(buffer, at + 12 * n, n) : null;
  const intensity = new Float32Array(buffer, at + 12 * n + colourBytes, n);
  const classification = new Float32Array(buffer, at + 16 * n + colourBytes, n);
  const [ox, oy, oz] = tile.origin;
  const [cx, cy, cz] = tile.centre;
  const quantum = tile.quantum;
  let minX = Infinity;
  let minY = Infinity;
  let minZ = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  let maxZ = -Infinity;
  for (let i = 0, p = 0; i < n; i++, p += WORDS) {
    // glTF is y-up; 3D Tiles rotates y-up content to z-up, so (e, n, u) is stored as (e, u, -n).
    const x = Math.fround(ox + pts[p] * quantum - cx);
    const y = Math.fround(oz + pts[p + 2] * quantum - cz);
    const z = -Math.fround(oy + pts[p + 1] * quantum - cy);
    pos[3 * i] = x;
    pos[3 * i + 1] = y;
    pos[3 * i + 2] = z;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
    if (z < minZ) minZ = z;
    if (z > maxZ) maxZ = z;
    const a = pts[p + 3];
    intensity[i] = a & 0xffff;
    classification[i] = (a >>> 16) & 0xff;
    // Word 4 is r | g << 8 | b << 16 | 255 << 24: in little-endian memory that is the RGBA byte quadruple.
    if (colours) colours[i] = pts[p + 4];
  }
  const bufferViews: Array<{ buffer: 0; byteOffset: number; byteLength: number; target: number }> = [];
  const accessors: Array<Record<string, unknown>> = [];
  const attributes: Record<string, number> = {};
  let offset = 0;
  const add = (name: string, byteLength: number, accessor: Record<string, unknown>) => {
    bufferViews.push({ buffer: 0, byteOffset: offset, byteLength, target: 34962 });
    offset += byteLength;
    attributes[name] = accessors.length;
    accessors.push({ bufferView: bufferViews.length - 1, count: n, ...accessor });
  };
  add("POSITION", 12 * n, {
    componentType: 5126,
    type: "VEC3",
    min: [minX, minY, minZ],
    max: [maxX, maxY, maxZ],
  });
  if (tile.colour) add("COLOR_0", 4 * n, { componentType: 5121, normalized: true, type: "VEC4" });
  add("_INTENSITY", 4 * n, { componentType: 5126, type: "SCALAR" });
  add("_CLASSIFICATION", 4 * n, { componentType: 5126, type: "SCALAR" });
  const json = JSON.stringify({
    asset: { version: "2.0", generator: "CIM Twin cim ingest las" },
    scene: 0,
    scenes: [{ nodes: [0] }],
    nodes: [{ mesh: 0 }],
    meshes: [{ primitives: [{ attributes, mode: 0, material: 0 }] }],
    // Unlit so points show their colour regardless of lighting (points have no normals).
    materials: [
      {
        pbrMetallicRoughness: { baseColorFactor: [1, 1, 1, 1], metallicFactor: 0 },
        extensions: { KHR_materials_unlit: {} },
      },
    ],
    extensionsUsed: ["KHR_materials_unlit"],
    buffers: [{ byteLength: binLength }],
    bufferViews,
    accessors,
  });
  const jsonBytes = Buffer.byteLength(json);
  const jsonLength = Math.ceil(jsonBytes / 4) * 4;
  const start = HEAD - 8 - jsonLength - 20;
  if (start < 0) throw new Error("internal error: glTF JSON larger than the GLB head room");
  file.writeUInt32LE(0x46546c67, start); // "glTF"
  file.writeUInt32LE(2, start + 4);
  file.writeUInt32LE(20 + jsonLength + 8 + binLength, start + 8);
  file.writeUInt32LE(jsonLength, start + 12);
  file.writeUInt32LE(0x4e4f534a, start + 16); // "JSON"
  file.write(json, start + 20, "utf8");
  file.fill(0x20, start + 20 + jsonBytes, HEAD - 8);
  file.writeUInt32LE(binLength, HEAD - 8);
  file.writeUInt32LE(0x004e4942, HEAD - 4); // "BIN\0"
  return file.subarray(start);
}
