import { describe, expect, it } from "vitest";
import { WhiteModelBuilder } from "../../ingest/buildings/extrude.ts";
import type { Footprint } from "../../ingest/buildings/footprint.ts";
import { enuToEcefMatrix } from "../../ingest/crs/geodesy.ts";

const LON = 118.29;
const LAT = 33.96;
const M_LAT = 1 / 110_940;
const M_LON = 1 / (111_320 * Math.cos((LAT * Math.PI) / 180));

/** A ring of metre offsets around (LON, LAT), in the given order. */
function ring(points: number[][]): Float64Array {
  return Float64Array.from(points.flatMap(([x, y]) => [LON + x * M_LON, LAT + y * M_LAT]));
}

const square = (s: number, cw = false) => {
  const pts = [
    [-s, -s],
    [s, -s],
    [s, s],
    [-s, s],
  ];
  return ring(cw ? pts.reverse() : pts);
};

function build(polygons: Footprint[], base = 0, top = 30) {
  const b = new WhiteModelBuilder(enuToEcefMatrix(LON, LAT, 0));
  b.addBuilding(0, polygons, base, top);
  return b.build();
}

/** Triangles as [centroid (east, north, up), face normal from winding, stored vertex normal]. */
function triangles(mesh: ReturnType<typeof build>) {
  const p = mesh.positions;
  const n = mesh.normals;
  const out = [];
  for (let t = 0; t < mesh.indices.length; t += 3) {
    const [a, b, c] = [mesh.indices[t], mesh.indices[t + 1], mesh.indices[t + 2]];
    // glTF y-up (x, y, z) = (east, up, -north)
    const v = (i: number) => [p[3 * i], -p[3 * i + 2], p[3 * i + 1]];
    const [A, B, C] = [v(a), v(b), v(c)];
    const u = [B[0] - A[0], B[1] - A[1], B[2] - A[2]];
    const w = [C[0] - A[0], C[1] - A[1], C[2] - A[2]];
    const face = [u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]];
    const centroid = [0, 1, 2].map((k) => (A[k] + B[k] + C[k]) / 3);
    out.push({ centroid, face, normal: [n[3 * a], -n[3 * a + 2], n[3 * a + 1]] });
  }
  return out;
}

describe("white-model extrusion", () => {
  it.each([false, true])(
    "walls face outwards and the roof up whatever the input winding (clockwise: %s)",
    (cw) => {
      const tris = triangles(build([{ outer: square(10, cw), holes: [] }]));
      expect(tris.length).toBe(4 * 2 + 2);
      for (const t of tris) {
        const dot = t.face[0] * t.normal[0] + t.face[1] * t.normal[1] + t.face[2] * t.normal[2];
        expect(dot).toBeGreaterThan(0); // winding agrees with the normal
        if (Math.abs(t.normal[2]) < 0.5) {
          // wall: its normal points away from the footprint's centre
          expect(t.centroid[0] * t.normal[0] + t.centroid[1] * t.normal[1]).toBeGreaterThan(0);
        } else {
          expect(t.normal[2]).toBe(1);
          expect(t.centroid[2]).toBeCloseTo(30, 1);
        }
      }
    },
  );

  it("a courtyard (hole) gets inward-facing walls and no roof over it", () => {
    const tris = triangles(build([{ outer: square(20), holes: [square(5)] }]));
    const roofs = tris.filter((t) => t.normal[2] === 1);
    for (const r of roofs)
      expect(Math.max(Math.abs(r.centroid[0]), Math.abs(r.centroid[1]))).toBeGreaterThan(5 - 1e-6);
    const courtyardWalls = tris.filter(
      (t) => Math.abs(t.normal[2]) < 0.5 && Math.hypot(t.centroid[0], t.centroid[1]) < 8,
    );
    expect(courtyardWalls.length).toBe(8);
    for (const t of courtyardWalls)
      expect(t.centroid[0] * t.normal[0] + t.centroid[1] * t.normal[1]).toBeLessThan(0);
  });

  it("a raised part (base above ground) is closed underneath, facing down", () => {
    const tris = triangles(build([{ outer: square(10), holes: [] }], 12, 30));
    const bottoms = tris.filter((t) => t.normal[2] === -1);
    expect(bottoms.length).toBe(2);
    for (const b of bottoms) {
      expect(b.centroid[2]).toBeCloseTo(12, 1);
      expect(b.face[2]).toBeLessThan(0);
    }
  });

  it("multipolygon parts are all extruded under one feature id", () => {
    const far = ring([
      [100, 0],
      [110, 0],
      [110, 10],
      [100, 10],
    ]);
    const mesh = build([
      { outer: square(5), holes: [] },
      { outer: far, holes: [] },
    ]);
    expect(new Set(mesh.featureIds)).toEqual(new Set([0]));
    expect(triangles(mesh).length).toBe(2 * (8 + 2));
  });
});
