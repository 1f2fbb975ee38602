import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface ReadPoints {
  count: number;
  /** ECEF x, y, z per point. */
  ecef: Float64Array;
  rgb: Uint8Array | null;
  intensity: Float32Array;
  classification: Float32Array;
}

type M = number[];
const mul = (a: M, b: M): M => {
  const o = new Array<number>(16).fill(0);
  for (let c = 0; c < 4; c++)
    for (let r = 0; r < 4; r++) for (let k = 0; k < 4; k++) o[c * 4 + r] += a[k * 4 + r] * b[c * 4 + k];
  return o;
};
const ID: M = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];

/** Reads every point of a tileset as a client would: tile transforms composed, glTF y-up turned to z-up. */
export function readPointTileset(tilesetPath: string): ReadPoints {
  const ts = JSON.parse(readFileSync(tilesetPath, "utf8"));
  const parts: Array<{
    m: M;
    pos: Float32Array;
    rgb: Uint8Array | null;
    int: Float32Array;
    cls: Float32Array;
  }> = [];
  const walk = (tile: { transform?: M; content?: { uri: string }; children?: unknown[] }, parent: M) => {
    const m = tile.transform ? mul(parent, tile.transform) : parent;
    if (tile.content) {
      const glb = readFileSync(join(dirname(tilesetPath), tile.content.uri));
      const jsonLen = glb.readUInt32LE(12);
      const json = JSON.parse(glb.toString("utf8", 20, 20 + jsonLen));
      const bin = glb.subarray(28 + jsonLen);
      const attr = json.meshes[0].primitives[0].attributes as Record<string, number>;
      const view = (name: string) => {
        const a = json.accessors[attr[name]];
        const bv = json.bufferViews[a.bufferView];
        const bytes = bin.subarray(bv.byteOffset, bv.byteOffset + bv.byteLength);
        const copy = new Uint8Array(bytes);
        return { a, buf: copy.buffer };
      };
      const p = view("POSITION");
      parts.push({
        m,
        pos: new Float32Array(p.buf, 0, p.a.count * 3),
        rgb: attr.COLOR_0 !== undefined ? new Uint8Array(view("COLOR_0").buf) : null,
        int: new Float32Array(view("_INTENSITY").buf),
        cls: new Float32Array(view("_CLASSIFICATION").buf),
      });
    }
    for (const c of tile.children ?? []) walk(c as typeof tile, m);
  };
  walk(ts.root, ID);
  const count = parts.reduce((s, p) => s + p.pos.length / 3, 0);
  const out: ReadPoints = {
    count,
    ecef: new Float64Array(3 * count),
    rgb: parts[0]?.rgb ? new Uint8Array(3 * count) : null,
    intensity: new Float32Array(count),
    classification: new Float32Array(count),
  };
  let k = 0;
  for (const p of parts) {
    const n = p.pos.length / 3;
    for (let i = 0; i < n; i++, k++) {
      // y-up -> z-up: (x, y, z)gltf -> (x, -z, y)
      const x = p.pos[3 * i];
      const y = -p.pos[3 * i + 2];
      const z = p.pos[3 * i + 1];
      const m = p.m;
      out.ecef[3 * k] = m[0] * x + m[4] * y + m[8] * z + m[12];
      out.ecef[3 * k + 1] = m[1] * x + m[5] * y + m[9] * z + m[13];
      out.ecef[3 * k + 2] = m[2] * x + m[6] * y + m[10] * z + m[14];
      if (out.rgb && p.rgb) for (let c = 0; c < 3; c++) out.rgb[3 * k + c] = p.rgb[4 * i + c];
      out.intensity[k] = p.int[i];
      out.classification[k] = p.cls[i];
    }
  }
  return out;
}

/** Index of the point nearest to (x, y, z) and its distance. */
export function nearest(
  points: ReadPoints,
  x: number,
  y: number,
  z: number,
  matches?: (i: number) => boolean,
): { index: number; distance: number } {
  let best = -1;
  let bestD = Number.POSITIVE_INFINITY;
  for (let i = 0; i < points.count; i++) {
    const dx = points.ecef[3 * i] - x;
    const dy = points.ecef[3 * i + 1] - y;
    const dz = points.ecef[3 * i + 2] - z;
    const d = dx * dx + dy * dy + dz * dz;
    if (d < bestD && (!matches || matches(i))) {
      bestD = d;
      best = i;
    }
  }
  return { index: best, distance: Math.sqrt(bestD) };
}
