/**
 * Sweeps a closed cross-section along a 3D polyline: tubes for circular pipes, boxes for culverts and duct banks.
 * Interior vertices get mitred rings (the section is stretched into the bisecting plane) so bends close without
 * gaps or overlaps. Hand-written: no maintained JavaScript library sweeps profiles without a scene graph (three.js's
 * TubeGeometry needs a curve object and has no rectangular or mitred variant).
 */
export type V3 = [number, number, number];

export interface SweptMesh {
  positions: number[];
  normals: number[];
  indices: number[];
}

const sub = (a: V3, b: V3): V3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const add = (a: V3, b: V3): V3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
const scale = (a: V3, k: number): V3 => [a[0] * k, a[1] * k, a[2] * k];
const dot = (a: V3, b: V3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: V3, b: V3): V3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];
const norm = (a: V3): V3 => {
  const l = Math.hypot(a[0], a[1], a[2]);
  return l > 0 ? [a[0] / l, a[1] / l, a[2] / l] : [0, 0, 0];
};

/** Circle of `segments` points (radius r) in section coordinates (side, up). */
export function circleProfile(r: number, segments: number): [number, number][] {
  return Array.from({ length: segments }, (_, i) => {
    const a = (i / segments) * Math.PI * 2;
    return [Math.cos(a) * r, Math.sin(a) * r] as [number, number];
  });
}

/** Rectangle width x height centred on the axis, counter-clockwise in (side, up). */
export function rectProfile(width: number, height: number): [number, number][] {
  const w = width / 2;
  const h = height / 2;
  return [
    [w, -h],
    [w, h],
    [-w, h],
    [-w, -h],
  ];
}

/**
 * Sweeps `profile` along `path` (local east-north-up metres, at least 2 distinct points), capping both ends.
 * `smooth` shares normals around the ring (round sections); otherwise each side is flat-shaded (boxes).
 */
export function sweep(path: V3[], profile: [number, number][], smooth: boolean, out?: SweptMesh): SweptMesh {
  const mesh = out ?? { positions: [], normals: [], indices: [] };
  const pts = dedupe(path);
  if (pts.length < 2) return mesh;
  const tangents = pts.slice(1).map((p, i) => norm(sub(p, pts[i])));
  // One frame per segment: side is horizontal so boxes keep level tops; vertical runs fall back to east.
  const frames = tangents.map((t) => {
    let side = cross(t, [0, 0, 1]);
    if (Math.hypot(...side) < 1e-6) side = [1, 0, 0];
    side = norm(side);
    return { t, side, up: norm(cross(side, t)) };
  });
  // Ring at each path vertex: the segment's section, mitred into the bisector plane at interior vertices.
  const rings: V3[][] = pts.map((p, i) => {
    // Interior rings start as the incoming segment's section and are pushed along its axis onto the mitre plane.
    const f = frames[i === 0 ? 0 : i - 1];
    const base = profile.map(([s, u]) => add(add(p, scale(f.side, s)), scale(f.up, u)));
    if (i === 0 || i === pts.length - 1) return base;
    const bis = norm(add(tangents[i - 1], tangents[i]));
    // Project each point along the incoming tangent onto the plane through p with normal `bis`.
    return base.map((q) => {
      const d = dot(sub(p, q), bis);
      const k = dot(tangents[i - 1], bis);
      return Math.abs(k) > 1e-6 ? add(q, scale(tangents[i - 1], d / k)) : q;
    });
  });
  const n = profile.length;
  for (let s = 0; s < frames.length; s++) {
    const f = frames[s];
    const a = rings[s];
    const b = rings[s + 1];
    const sectionNormal = (k: number): V3 => {
      const [ps, pu] = profile[k];
      return norm(add(scale(f.side, ps), scale(f.up, pu)));
    };
    if (smooth) {
      const v0 = mesh.positions.length / 3;
      for (let k = 0; k < n; k++) {
        const nk = sectionNormal(k);
        push(mesh, a[k], nk);
        push(mesh, b[k], nk);
      }
      for (let k = 0; k < n; k++) {
        const k2 = (k + 1) % n;
        quad(mesh, v0 + 2 * k, v0 + 2 * k + 1, v0 + 2 * k2 + 1, v0 + 2 * k2);
      }
    } else {
      for (let k = 0; k < n; k++) {
        const k2 = (k + 1) % n;
        const mid = [(profile[k][0] + profile[k2][0]) / 2, (profile[k][1] + profile[k2][1]) / 2];
        const nk = norm(add(scale(f.side, mid[0]), scale(f.up, mid[1])));
        const v0 = mesh.positions.length / 3;
        push(mesh, a[k], nk);
        push(mesh, b[k], nk);
        push(mesh, b[k2], nk);
        push(mesh, a[k2], nk);
        quad(mesh, v0, v0 + 1, v0 + 2, v0 + 3);
      }
    }
  }
  cap(mesh, rings[0], scale(frames[0].t, -1));
  cap(mesh, rings[rings.length - 1], frames[frames.length - 1].t);
  return mesh;
}

/** Vertical cylinder (well, manhole) from z0 to z1 with a cover disc on top and a floor below. */
export function cylinder(
  centre: [number, number],
  z0: number,
  z1: number,
  r: number,
  segments: number,
  out?: SweptMesh,
) {
  return sweep(
    [
      [centre[0], centre[1], z0],
      [centre[0], centre[1], z1],
    ],
    circleProfile(r, segments),
    true,
    out,
  );
}

function dedupe(path: V3[]): V3[] {
  const out: V3[] = [];
  for (const p of path) {
    const last = out[out.length - 1];
    if (!last || Math.hypot(p[0] - last[0], p[1] - last[1], p[2] - last[2]) > 1e-4) out.push(p);
  }
  return out;
}

function push(m: SweptMesh, p: V3, n: V3): void {
  m.positions.push(p[0], p[1], p[2]);
  m.normals.push(n[0], n[1], n[2]);
}

/** Two triangles a-b-c, a-c-d: counter-clockwise (outward) for a counter-clockwise profile swept forwards. */
function quad(m: SweptMesh, a: number, b: number, c: number, d: number): void {
  m.indices.push(a, b, c, a, c, d);
}

/** Fan over a convex ring, facing `outward`. */
function cap(m: SweptMesh, ring: V3[], outward: V3): void {
  const v0 = m.positions.length / 3;
  for (const p of ring) push(m, p, outward);
  const e1 = sub(ring[1], ring[0]);
  const e2 = sub(ring[2], ring[0]);
  const facing = dot(cross(e1, e2), outward) > 0;
  for (let k = 1; k < ring.length - 1; k++) {
    if (facing) m.indices.push(v0, v0 + k, v0 + k + 1);
    else m.indices.push(v0, v0 + k + 1, v0 + k);
  }
}
