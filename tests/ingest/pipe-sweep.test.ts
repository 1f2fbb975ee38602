import { describe, expect, it } from "vitest";
import {
  circleProfile,
  cylinder,
  rectProfile,
  type SweptMesh,
  sweep,
  type V3,
} from "../../ingest/pipes/geometry/sweep.ts";

const vertex = (m: SweptMesh, i: number): V3 => [
  m.positions[3 * i],
  m.positions[3 * i + 1],
  m.positions[3 * i + 2],
];

/** Every edge (by position) is shared by exactly two triangles, with opposite directions: a closed, consistent surface. */
function closedAndConsistent(m: SweptMesh): boolean {
  const key = (p: V3) => p.map((v) => v.toFixed(5)).join(",");
  const edges = new Map<string, number>();
  for (let t = 0; t < m.indices.length; t += 3) {
    const tri = [0, 1, 2].map((k) => key(vertex(m, m.indices[t + k])));
    for (let k = 0; k < 3; k++) {
      const e = `${tri[k]}|${tri[(k + 1) % 3]}`;
      edges.set(e, (edges.get(e) ?? 0) + 1);
    }
  }
  for (const [e, count] of edges) {
    const [a, b] = e.split("|");
    if (count !== 1 || edges.get(`${b}|${a}`) !== 1) return false;
  }
  return true;
}

/** Volume by the divergence theorem: positive when faces point outwards. */
function volume(m: SweptMesh): number {
  let v = 0;
  for (let t = 0; t < m.indices.length; t += 3) {
    const [a, b, c] = [0, 1, 2].map((k) => vertex(m, m.indices[t + k]));
    v +=
      (a[0] * (b[1] * c[2] - b[2] * c[1]) -
        a[1] * (b[0] * c[2] - b[2] * c[0]) +
        a[2] * (b[0] * c[1] - b[1] * c[0])) /
      6;
  }
  return v;
}

describe("pipe sweep", () => {
  it("a straight tube is closed, faces outwards and has the volume of its prism", () => {
    const m = sweep(
      [
        [0, 0, -2],
        [20, 0, -2.5],
      ],
      circleProfile(0.15, 16),
      true,
    );
    expect(closedAndConsistent(m)).toBe(true);
    const length = Math.hypot(20, 0.5);
    const polygonArea = 0.5 * 16 * 0.15 * 0.15 * Math.sin((2 * Math.PI) / 16);
    expect(volume(m)).toBeCloseTo(polygonArea * length, 6);
    // Side vertices lie at the radius from the axis.
    for (let i = 0; i < 32; i++) {
      const p = vertex(m, i);
      const t = p[0] / 20;
      const axis: V3 = [p[0], 0, -2 - 0.5 * t];
      expect(Math.hypot(p[1] - axis[1], p[2] - axis[2]) * (length / 20)).toBeGreaterThan(0.149);
    }
  });

  it("a 90-degree bend is mitred: closed, no overlap, the corner ring in the bisecting plane", () => {
    const path: V3[] = [
      [0, 0, -1],
      [10, 0, -1],
      [10, 10, -1],
    ];
    const m = sweep(path, circleProfile(0.5, 12), true);
    expect(closedAndConsistent(m)).toBe(true);
    const prism = 0.5 * 12 * 0.25 * Math.sin((2 * Math.PI) / 12);
    // Two mitred legs measured along the axis make exactly the volume of 20 m of straight pipe.
    expect(volume(m)).toBeCloseTo(prism * 20, 6);
    const bis = [1 / Math.SQRT2, 1 / Math.SQRT2, 0];
    const cornerRing = [...Array(12).keys()].map((k) => vertex(m, 2 * k + 1)); // second ring of the first segment
    for (const q of cornerRing) expect(Math.abs((q[0] - 10) * bis[0] + q[1] * bis[1])).toBeLessThan(1e-9);
  });

  it("a box culvert keeps vertical sides and a level top along a falling run", () => {
    const m = sweep(
      [
        [0, 0, -3],
        [30, 40, -3.5],
      ],
      rectProfile(1.0, 0.8),
      false,
    );
    expect(closedAndConsistent(m)).toBe(true);
    const sideNormals = [];
    for (let i = 0; i < m.normals.length / 3; i++)
      sideNormals.push([m.normals[3 * i], m.normals[3 * i + 1], m.normals[3 * i + 2]]);
    const horizontal = sideNormals.filter((n) => Math.abs(n[2]) < 1e-9);
    expect(horizontal.length).toBeGreaterThanOrEqual(8);
    const length = Math.hypot(30, 40, 0.5);
    expect(volume(m)).toBeCloseTo(1.0 * 0.8 * length, 6);
  });

  it("a manhole is a closed vertical cylinder from its floor to the cover", () => {
    const m = cylinder([5, 5], -3.2, 0, 0.5, 20);
    expect(closedAndConsistent(m)).toBe(true);
    const zs = m.positions.filter((_, i) => i % 3 === 2);
    expect(Math.min(...zs)).toBeCloseTo(-3.2, 9);
    expect(Math.max(...zs)).toBeCloseTo(0, 9);
    expect(volume(m)).toBeGreaterThan(0);
  });
});
