import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import proj4 from "proj4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { epsgDefinition } from "../../ingest/crs/epsg.ts";
import { readCjjTables } from "../../ingest/pipes/cjj/read-cjj.ts";
import { sectionHeight } from "../../ingest/pipes/cjj/sections.ts";
import { ingestPipes } from "../../ingest/pipes/ingest-pipes.ts";
import { generateDemoCity } from "../../ingest/synthetic/demo-city.ts";
import { DEMO_PIPES_CRS, generateDemoPipes } from "../../ingest/synthetic/demo-pipes.ts";
import type { PipeLink, PipeNetwork, PipeNode } from "../../models/pipes.ts";
import { checkTileset } from "../support/tileset-checks.ts";

// What the generator is designed to contain (see ingest/synthetic/demo-pipes.ts).
const POINTS = { JS: 669, YS: 250, WS: 249, RQ: 99, DL: 249, TX: 249 };
const LINKS = { JS: 716, YS: 249, WS: 248, RQ: 96, DL: 248, TX: 248 };
const STREETS_EW = 7;
const STREETS_NS = 9;
/** Block edges between neighbouring intersections: each must be a valve-bounded water segment. */
const GRID_EDGES = STREETS_EW * (STREETS_NS - 1) + STREETS_NS * (STREETS_EW - 1);

let dir: string;
let tables: { points: string; lines: string };
let net: PipeNetwork;
let nodes: Map<string, PipeNode>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "demo-pipes-"));
  tables = generateDemoPipes();
  net = await readCjjTables({
    points: { name: "demo-pipes-points.csv", data: new TextEncoder().encode(tables.points) },
    lines: { name: "demo-pipes-lines.csv", data: new TextEncoder().encode(tables.lines) },
    crs: DEMO_PIPES_CRS,
  });
  nodes = new Map(net.nodes.map((n) => [n.id, n]));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const count = <T extends { pipeClass: string }>(items: T[]) => {
  const out: Record<string, number> = {};
  for (const i of items) out[i.pipeClass] = (out[i.pipeClass] ?? 0) + 1;
  return out;
};

const len = (l: PipeLink) => {
  const a = nodes.get(l.from)!;
  const b = nodes.get(l.to)!;
  return Math.hypot(a.x - b.x, a.y - b.y);
};

describe("generateDemoPipes", () => {
  it("writes CJJ 61 tables (UTF-8 with BOM) that read without errors", () => {
    expect(tables.points.startsWith("\uFEFF物探点号,")).toBe(true);
    expect(tables.lines.startsWith("\uFEFF起点号,终点号,")).toBe(true);
    expect(generateDemoPipes()).toEqual(tables); // deterministic
    expect(net.issues.filter((i) => i.severity === "error")).toEqual([]);
    expect(net.issues).toEqual([]);
  });

  it("has the designed network sizes per class", () => {
    expect(count(net.nodes)).toEqual(POINTS);
    expect(count(net.links)).toEqual(LINKS);
    const kinds = count(net.nodes.map((n) => ({ pipeClass: `${n.pipeClass}:${n.kind}` })));
    expect(kinds["YS:outfall"]).toBe(1);
    expect(kinds["WS:outfall"]).toBe(1);
    expect(kinds["JS:hydrant"]).toBeGreaterThan(100);
    expect(kinds["JS:meter"]).toBe(8);
    expect(kinds["JS:valve"]).toBe(2 * GRID_EDGES);
    for (const n of net.nodes) {
      expect(n.id.slice(0, 2)).toBe(n.pipeClass);
      expect(["三通", "四通", "弯头", "直线点"]).toContain(n.attributes.特征);
    }
    for (const l of net.links) {
      expect(l.section).not.toBeNull();
      expect(l.attributes.权属单位).toMatch(
        /宿迁市水务集团|宿迁港华燃气|国网宿迁供电公司|中国电信宿迁分公司/,
      );
      expect(Number(l.attributes.埋设年代)).toBeGreaterThan(2000);
      if (l.pipeClass === "DL") expect(Number(l.attributes.电缆条数)).toBeGreaterThanOrEqual(6);
      if (l.pipeClass === "TX") expect(Number(l.attributes.电缆条数)).toBeGreaterThanOrEqual(12);
    }
    const culverts = net.links.filter((l) => l.section?.shape === "rect_closed" && l.pipeClass === "YS");
    expect(culverts.length).toBeGreaterThan(0);
  });

  it("links every segment to known points inside the demo street grid", () => {
    for (const l of net.links) {
      expect(nodes.has(l.from)).toBe(true);
      expect(nodes.has(l.to)).toBe(true);
    }
    const coords = generateDemoCity().roads.features.flatMap((f) => f.geometry.coordinates as number[][]);
    const lons = coords.map((c) => c[0]);
    const lats = coords.map((c) => c[1]);
    // The street grid's centreline extent, widened by half a street (12 m) and a centimetre of rounding.
    const dLat = 12.01 / 110_940;
    const dLon = 12.01 / (111_320 * Math.cos((34 * Math.PI) / 180));
    const toLonLat = proj4(epsgDefinition(4548)!, "EPSG:4326");
    for (const n of net.nodes) {
      const [lon, lat] = toLonLat.forward([n.x, n.y]);
      expect(lon).toBeGreaterThanOrEqual(Math.min(...lons) - dLon);
      expect(lon).toBeLessThanOrEqual(Math.max(...lons) + dLon);
      expect(lat).toBeGreaterThanOrEqual(Math.min(...lats) - dLat);
      expect(lat).toBeLessThanOrEqual(Math.max(...lats) + dLat);
      expect(n.groundElevation).toBeGreaterThanOrEqual(0);
      expect(n.groundElevation).toBeLessThanOrEqual(0.6);
    }
  });

  it("lets storm water and sewage fall from upstream to downstream, to one outfall each", () => {
    for (const cls of ["YS", "WS"]) {
      const links = net.links.filter((l) => l.pipeClass === cls);
      const outfall = net.nodes.find((n) => n.pipeClass === cls && n.kind === "outfall")!;
      const down = new Map<string, PipeLink>();
      for (const l of links) {
        expect(l.fromInvert).not.toBeNull();
        expect(l.fromInvert!).toBeGreaterThan(l.toInvert!);
        const slope = (l.fromInvert! - l.toInvert!) / len(l);
        expect(slope).toBeGreaterThanOrEqual(0.0025);
        expect(slope).toBeLessThanOrEqual(0.0055);
        expect(down.has(l.from)).toBe(false); // a tree: one way out of every manhole
        down.set(l.from, l);
        // Nothing arriving at a manhole lies below what leaves it.
        for (const next of links.filter((m) => m.from === l.to))
          expect(next.fromInvert!).toBeLessThanOrEqual(l.toInvert!);
      }
      for (const n of net.nodes.filter((m) => m.pipeClass === cls)) {
        let at = n.id;
        for (let steps = 0; at !== outfall.id; steps++) {
          expect(steps).toBeLessThan(1000);
          at = down.get(at)!.to;
        }
        expect(n.invertElevation).not.toBeNull();
      }
    }
  });

  it("bounds every block edge of the water grid by valves", () => {
    const js = net.links.filter((l) => l.pipeClass === "JS");
    const around = new Map<string, string[]>();
    for (const l of js) {
      around.set(l.from, [...(around.get(l.from) ?? []), l.to]);
      around.set(l.to, [...(around.get(l.to) ?? []), l.from]);
    }
    const isValve = (id: string) => nodes.get(id)!.kind === "valve";
    // Intersections: the nodes whose every branch starts with a valve.
    const junctions = [...around.keys()].filter((id) => !isValve(id) && around.get(id)!.every(isValve));
    expect(junctions).toHaveLength(STREETS_EW * STREETS_NS);
    const segments = new Set<string>();
    for (const j of junctions) {
      for (const valve of around.get(j)!) {
        // Walk along the main (services branch off as dead ends) to the next valve.
        let at = around.get(valve)!.find((n) => n !== j)!;
        const seen = new Set([j, valve]);
        while (!isValve(at)) {
          seen.add(at);
          const next = around.get(at)!.filter((n) => !seen.has(n) && around.get(n)!.length > 1);
          expect(next).toHaveLength(1);
          at = next[0];
        }
        const beyond = around.get(at)!.filter((n) => !seen.has(n));
        expect(beyond.length).toBe(1);
        expect(junctions).toContain(beyond[0]);
        segments.add([valve, at].sort().join("|"));
      }
    }
    expect(segments.size).toBe(GRID_EDGES);
  });

  it("keeps cover >= 0.7 m and vertical clearance at every crossing of different networks", () => {
    const top = (l: PipeLink, t: number) => {
      const h = sectionHeight(l.section!);
      return l.fromInvert! + (l.toInvert! - l.fromInvert!) * t + h;
    };
    for (const l of net.links) {
      expect(nodes.get(l.from)!.groundElevation! - top(l, 0)).toBeGreaterThanOrEqual(0.7 - 1e-6);
      expect(nodes.get(l.to)!.groundElevation! - top(l, 1)).toBeGreaterThanOrEqual(0.7 - 1e-6);
    }
    const seg = (l: PipeLink) => {
      const a = nodes.get(l.from)!;
      const b = nodes.get(l.to)!;
      return { l, ax: a.x, ay: a.y, bx: b.x, by: b.y };
    };
    const segs = net.links.map(seg);
    let crossings = 0;
    const worst: string[] = [];
    for (let i = 0; i < segs.length; i++) {
      for (let j = i + 1; j < segs.length; j++) {
        const p = segs[i];
        const q = segs[j];
        if (p.l.pipeClass === q.l.pipeClass) continue;
        const rx = p.bx - p.ax;
        const ry = p.by - p.ay;
        const sx = q.bx - q.ax;
        const sy = q.by - q.ay;
        const den = rx * sy - ry * sx;
        if (Math.abs(den) < 1e-9) continue;
        const t = ((q.ax - p.ax) * sy - (q.ay - p.ay) * sx) / den;
        const u = ((q.ax - p.ax) * ry - (q.ay - p.ay) * rx) / den;
        if (t < 0 || t > 1 || u < 0 || u > 1) continue;
        crossings++;
        const pTop = top(p.l, t);
        const qTop = top(q.l, u);
        const pBottom = pTop - sectionHeight(p.l.section!);
        const qBottom = qTop - sectionHeight(q.l.section!);
        const clearance = Math.max(pBottom - qTop, qBottom - pTop);
        const drainage = ["YS", "WS"];
        const needed =
          (p.l.pipeClass === "JS" && drainage.includes(q.l.pipeClass)) ||
          (q.l.pipeClass === "JS" && drainage.includes(p.l.pipeClass))
            ? 0.4
            : 0.15;
        if (clearance < needed - 1e-6) worst.push(`${p.l.id} x ${q.l.id}: ${clearance.toFixed(3)} m`);
      }
    }
    expect(crossings).toBeGreaterThan(100);
    expect(worst).toEqual([]);
  });

  it("ingests through ingestPipes into a valid tileset", async () => {
    const points = join(dir, "demo-pipes-points.csv");
    const lines = join(dir, "demo-pipes-lines.csv");
    writeFileSync(points, tables.points);
    writeFileSync(lines, tables.lines);
    const out = join(dir, "tiles");
    const summary = await ingestPipes({ inputs: [points, lines], out, format: "cjj", crs: DEMO_PIPES_CRS });
    expect(summary.issues.filter((i) => i.severity === "error")).toEqual([]);
    expect(summary.nodes).toBe(net.nodes.length);
    expect(summary.links).toBe(net.links.length);
    expect(summary.skipped).toEqual({});
    const report = await checkTileset(join(out, "tileset.json"));
    expect(report.errors).toEqual([]);
  }, 120_000);
});
