import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PipeCrossSectionResult, PipeCrossSectionResultSchema } from "../../models/pipe-analysis.ts";
import type { NetworkIndex, PipeClass, Section } from "../../models/pipes.ts";
import { crossSection } from "../../tiles-server/pipes/cross-section.ts";
import { PipeGraph } from "../../tiles-server/pipes/pipe-graph.ts";
import { type RunningServer, startServer } from "../../tiles-server/server.ts";
import { DB_TARGETS, type DbEnvironment } from "./support/db-targets.ts";
import { jsonRequest, request } from "./support/http-client.ts";
import { gridNetwork, lonLat, writePipesLayerFolder } from "./support/pipe-fixtures.ts";

const TOKEN = "test-admin-token-section-0123456789";
const LAYER = "street";

type Node = NetworkIndex["nodes"][number];
type Link = NetworkIndex["links"][number];

/**
 * A street cut by a section line, in local metres (x east, y north; see pipe-fixtures lonLat):
 * - W1 给水 DN300 along x = 0 from y = −20 (ground 10.0, axis 8.5) to y = 20 (ground 10.4, axis 8.9)
 * - S1 污水 DN600 along x = 4 with a vertex at y = 10: axis 7.0 → 7.3 → 7.6, grounds 10.0 / 10.4
 * - C1 雨水 box culvert 2.0 × 1.0 along x = 10, axis 6.0, grounds 10.0 / 10.4
 * - K1 电力 duct 0.4 × 0.3 diagonally from (−4, −3) to (2, 3), axis 9.2, grounds 10.0 / 10.0
 * - G1 燃气 DN200 east-west along y = 25 from x = 5 to x = 20, axis 9.0, grounds 10.3 / 10.3
 * - H1 给水 DN100 along x = 20: beyond the line's end, never crossed
 * Line: (−5, 0) → (12, 0) → (12, 30).
 */
function streetNetwork(): NetworkIndex {
  const nodes: Node[] = [];
  const links: Link[] = [];
  const node = (id: string, x: number, y: number, ground: number, pipeClass: PipeClass) => {
    const [lon, lat] = lonLat(x, y);
    nodes.push({
      id,
      kind: "junction",
      pipeClass,
      lon,
      lat,
      groundElevation: ground,
      invertElevation: null,
      attributes: {},
    });
  };
  const link = (
    id: string,
    pipeClass: PipeClass,
    from: string,
    to: string,
    section: Section,
    path: [number, number, number][],
  ) =>
    links.push({
      id,
      kind: "pipe",
      pipeClass,
      from,
      to,
      section,
      fromInvert: null,
      toInvert: null,
      length: null,
      material: "PE",
      path: path.map(([x, y, z]) => [...lonLat(x, y), z]),
      attributes: {},
    });
  node("A1", 0, -20, 10.0, "JS");
  node("A2", 0, 20, 10.4, "JS");
  link("W1", "JS", "A1", "A2", { shape: "circular", diameter: 0.3 }, [
    [0, -20, 8.5],
    [0, 20, 8.9],
  ]);
  node("B1", 4, -20, 10.0, "WS");
  node("B2", 4, 20, 10.4, "WS");
  link("S1", "WS", "B1", "B2", { shape: "circular", diameter: 0.6 }, [
    [4, -20, 7.0],
    [4, 10, 7.3],
    [4, 20, 7.6],
  ]);
  node("C1", 10, -20, 10.0, "YS");
  node("C2", 10, 20, 10.4, "YS");
  link("C1", "YS", "C1", "C2", { shape: "rect_closed", width: 2, height: 1 }, [
    [10, -20, 6],
    [10, 20, 6],
  ]);
  node("K1", -4, -3, 10.0, "DL");
  node("K2", 2, 3, 10.0, "DL");
  link("K1", "DL", "K1", "K2", { shape: "rect_closed", width: 0.4, height: 0.3 }, [
    [-4, -3, 9.2],
    [2, 3, 9.2],
  ]);
  node("G1", 5, 25, 10.3, "RQ");
  node("G2", 20, 25, 10.3, "RQ");
  link("G1", "RQ", "G1", "G2", { shape: "circular", diameter: 0.2 }, [
    [5, 25, 9],
    [20, 25, 9],
  ]);
  node("H1", 20, -20, 10.0, "JS");
  node("H2", 20, 20, 10.0, "JS");
  link("H1", "JS", "H1", "H2", { shape: "circular", diameter: 0.1 }, [
    [20, -20, 9],
    [20, 20, 9],
  ]);
  return { formatVersion: 1, nodes, links };
}

const LINE: [number, number][] = [lonLat(-5, 0), lonLat(12, 0), lonLat(12, 30)];
const lineParam = (points: [number, number][]) => points.map(([lon, lat]) => `${lon},${lat}`).join(";");

/** Hand-computed answers (metres): distance along the line, axis, top, ground, cover, angle. */
const EXPECTED = [
  { link: "K1", distance: 4, axis: 9.2, top: 9.35, bottom: 9.05, ground: 10.0, cover: 0.65, angle: 45 },
  { link: "W1", distance: 5, axis: 8.7, top: 8.85, bottom: 8.55, ground: 10.2, cover: 1.35, angle: 90 },
  // S1 crosses on its first segment (y −20 → 10) two thirds along: 7.0 + 0.3 × 2/3; ground at 20 of 40 m.
  { link: "S1", distance: 9, axis: 7.2, top: 7.5, bottom: 6.9, ground: 10.2, cover: 2.7, angle: 90 },
  { link: "C1", distance: 15, axis: 6, top: 6.5, bottom: 5.5, ground: 10.2, cover: 3.7, angle: 90 },
  // Second line segment: 17 m to the corner, then 25 m north.
  { link: "G1", distance: 42, axis: 9, top: 9.1, bottom: 8.9, ground: 10.3, cover: 1.2, angle: 90 },
];

function checkStreet(r: PipeCrossSectionResult): void {
  expect(r.crossings.map((c) => c.link)).toEqual(EXPECTED.map((e) => e.link));
  expect(r.count).toBe(EXPECTED.length);
  expect(r.line.length).toBeCloseTo(47, 2);
  for (const [i, e] of EXPECTED.entries()) {
    const c = r.crossings[i];
    for (const key of ["distance", "axis", "top", "bottom", "ground", "cover"] as const) {
      expect(Math.abs((c[key] as number) - e[key]), `${e.link}.${key} = ${c[key]}`).toBeLessThan(0.01);
    }
    expect(c.angle).toBeCloseTo(e.angle, 0);
  }
  const culvert = r.crossings[3];
  expect(culvert.section).toEqual({ shape: "rect_closed", width: 2, height: 1 });
  expect(culvert.pipeClass).toBe("YS");
  expect(culvert.kind).toBe("pipe");
  const [lon, lat] = lonLat(10, 0);
  expect(culvert.position[0]).toBeCloseTo(lon, 7);
  expect(culvert.position[1]).toBeCloseTo(lat, 7);
  // Clear distances between neighbours: axis spacing minus both half widths.
  expect(r.clearances.map((c) => [c.a, c.b])).toEqual([
    ["K1", "W1"],
    ["W1", "S1"],
    ["S1", "C1"],
    ["C1", "G1"],
  ]);
  const clear = r.clearances.map((c) => c.horizontal);
  for (const [i, want] of [0.65, 3.55, 4.7, 25.9].entries()) expect(clear[i]).toBeCloseTo(want, 2);
}

describe("cross-section geometry", () => {
  it("cuts a hand-built street with known answers", () => {
    const net = streetNetwork();
    checkStreet(crossSection(new PipeGraph(net.nodes, net.links), LINE));
  });

  it("counts a line vertex lying on a pipe once, and a line crossing a pipe twice twice", () => {
    const net = streetNetwork();
    const graph = new PipeGraph(net.nodes, net.links);
    // The corner sits on W1's axis.
    const corner = crossSection(graph, [lonLat(-3, -5), lonLat(0, 0), lonLat(-3, 5)]);
    expect(corner.crossings.filter((c) => c.link === "W1")).toHaveLength(1);
    // There and back across S1 (a zigzag).
    const zigzag = crossSection(graph, [lonLat(2, -5), lonLat(6, -5), lonLat(2, -6)]);
    expect(zigzag.crossings.map((c) => c.link)).toEqual(["S1", "S1"]);
    expect(zigzag.crossings[0].distance).toBeCloseTo(2, 2);
  });

  it("keeps a 200k-link network fast", () => {
    const net = gridNetwork(317, 317);
    const graph = new PipeGraph(net.nodes, net.links);
    const [a, b] = [net.nodes[0], net.nodes[net.nodes.length - 1]];
    const line: [number, number][] = [
      [a.lon, a.lat],
      [a.lon + (b.lon - a.lon) * 0.1, a.lat + (b.lat - a.lat) * 0.02],
    ];
    // Median of five requests: the machine is shared, single timings are noisy.
    const times: number[] = [];
    let r = crossSection(graph, line);
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      r = crossSection(graph, line);
      times.push(performance.now() - t0);
    }
    const ms = times.sort((a, b) => a - b)[2];
    console.log(
      `cross-section over ${net.links.length} links: ${r.count} crossings, median ${Math.round(ms)} ms`,
    );
    expect(r.count).toBeGreaterThan(10);
    expect(ms).toBeLessThan(1000);
  });
});

describe.each(DB_TARGETS)("GET /api/pipes/:layer/cross-section on $name", (target) => {
  let env: DbEnvironment;
  let server: RunningServer;

  beforeAll(async () => {
    env = await target.create();
    server = await startServer({
      ...env.options,
      port: 0,
      host: "127.0.0.1",
      adminToken: TOKEN,
      logger: false,
    });
    const res = await jsonRequest(
      server.url,
      "/api/layers",
      "POST",
      { path: writePipesLayerFolder(env.tempDir, "street", streetNetwork()), id: LAYER },
      TOKEN,
    );
    expect(res.status, res.body.toString()).toBe(201);
  });

  afterAll(async () => {
    await server?.close();
    await env?.cleanup();
  });

  const get = (query: string) => request(server.url, `/api/pipes/${LAYER}/cross-section?${query}`);
  const error = (body: Buffer) => (JSON.parse(body.toString("utf8")) as { error: string }).error;

  it("answers the hand-computed crossings through the database", async () => {
    const res = await get(`line=${encodeURIComponent(lineParam(LINE))}`);
    expect(res.status, res.body.toString()).toBe(200);
    checkStreet(PipeCrossSectionResultSchema.parse(JSON.parse(res.body.toString("utf8"))));
  });

  it("answers an empty section for a line that crosses nothing", async () => {
    const res = await get(`line=${lineParam([lonLat(30, 0), lonLat(40, 0)])}`);
    expect(res.status).toBe(200);
    const r = PipeCrossSectionResultSchema.parse(JSON.parse(res.body.toString("utf8")));
    expect(r.crossings).toEqual([]);
    expect(r.line.length).toBeCloseTo(10, 2);
  });

  it("rejects malformed and over-long lines naming the vertex, and unknown layers", async () => {
    const one = await get(`line=${lineParam([lonLat(0, 0)])}`);
    expect(one.status).toBe(400);
    expect(error(one.body)).toContain("2 to 100 vertices");
    const bad = await get(`line=${encodeURIComponent("116.39,39.91;116.4,abc")}`);
    expect(bad.status).toBe(400);
    expect(error(bad.body)).toContain('vertex 2 "116.4,abc"');
    expect((await get("")).status).toBe(400);
    const far = await get(`line=${lineParam([lonLat(0, 0), lonLat(0, 6000)])}`);
    expect(far.status).toBe(400);
    expect(error(far.body)).toContain("longer than 5000 m");
    const missing = await request(server.url, `/api/pipes/nope/cross-section?line=${lineParam(LINE)}`);
    expect(missing.status).toBe(404);
  });

  it("is described in the OpenAPI document", async () => {
    const doc = JSON.parse((await request(server.url, "/api/openapi.json")).body.toString("utf8")) as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.paths).toHaveProperty(["/api/pipes/{layerId}/cross-section", "get"]);
    expect(doc.components.schemas).toHaveProperty("PipeCrossSectionResult");
  });
});
