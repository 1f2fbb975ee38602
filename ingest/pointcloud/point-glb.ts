import { assembleGlb } from "../tiles3d/glb-align.ts";

/** Points of one tile, positions in the tile's frame (z up), ready to write. */
export interface PointTile {
  count: number;
  /** x, y, z (east, north, up) relative to the tile's origin. */
  positions: Float32Array;
  /** RGBA 8-bit, or null when the source has no colour. */
  colors: Uint8Array | null;
  intensity: Float32Array;
  classification: Float32Array;
}

/**
 * Writes a glTF 2.0 point primitive (mode POINTS) as GLB. Written directly rather than through gltf-transform:
 * the document is five accessors, and building a gltf-transform Document per tile costs more than decoding the
 * tile's points, which matters at millions of points per second. Intensity and classification are plain custom
 * vertex attributes (_INTENSITY, _CLASSIFICATION) that CesiumJS custom shaders read as
 * vsInput.attributes.intensity / .classification.
 */
export function writePointGlb(tile: PointTile): Uint8Array {
  const n = tile.count;
  // glTF is y-up; 3D Tiles rotates y-up content to z-up, so (e, n, u) is stored as (e, u, -n).
  const pos = new Float32Array(3 * n);
  const min = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  const max = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (let i = 0; i < n; i++) {
    const x = tile.positions[3 * i];
    const y = tile.positions[3 * i + 2];
    const z = -tile.positions[3 * i + 1];
    pos[3 * i] = x;
    pos[3 * i + 1] = y;
    pos[3 * i + 2] = z;
    if (x < min[0]) min[0] = x;
    if (x > max[0]) max[0] = x;
    if (y < min[1]) min[1] = y;
    if (y > max[1]) max[1] = y;
    if (z < min[2]) min[2] = z;
    if (z > max[2]) max[2] = z;
  }
  const parts: Uint8Array[] = [];
  const bufferViews: Array<{ buffer: 0; byteOffset: number; byteLength: number; target: number }> = [];
  const accessors: Array<Record<string, unknown>> = [];
  const attributes: Record<string, number> = {};
  let offset = 0;
  const add = (name: string, data: ArrayBufferView, accessor: Record<string, unknown>) => {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    bufferViews.push({ buffer: 0, byteOffset: offset, byteLength: bytes.length, target: 34962 });
    parts.push(bytes);
    offset += bytes.length;
    const pad = (4 - (offset % 4)) % 4;
    if (pad) {
      parts.push(new Uint8Array(pad));
      offset += pad;
    }
    attributes[name] = accessors.length;
    accessors.push({ bufferView: bufferViews.length - 1, count: n, ...accessor });
  };
  add("POSITION", pos, {
    componentType: 5126,
    type: "VEC3",
    min: min.map((v) => Math.fround(v)),
    max: max.map((v) => Math.fround(v)),
  });
  if (tile.colors) add("COLOR_0", tile.colors, { componentType: 5121, normalized: true, type: "VEC4" });
  add("_INTENSITY", tile.intensity, { componentType: 5126, type: "SCALAR" });
  add("_CLASSIFICATION", tile.classification, { componentType: 5126, type: "SCALAR" });
  const bin = new Uint8Array(offset);
  let at = 0;
  for (const p of parts) {
    bin.set(p, at);
    at += p.length;
  }
  const json = {
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
    buffers: [{ byteLength: bin.length }],
    bufferViews,
    accessors,
  };
  return assembleGlb(json, bin);
}
