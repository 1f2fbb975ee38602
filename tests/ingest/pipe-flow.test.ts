import { describe, expect, it } from "vitest";
import { enuToEcefMatrix } from "../../ingest/crs/geodesy.ts";
import { resolveSourceCrs } from "../../ingest/crs/source-crs.ts";
import { pipeFeatures } from "../../ingest/pipes/tiles/pipe-features.ts";
import { PipeLineBuilder } from "../../ingest/pipes/tiles/pipe-lines.ts";
import { PipeTileBuilder } from "../../ingest/pipes/tiles/pipe-mesh.ts";
import type { PipeLink, PipeNetwork, PipeNode } from "../../models/pipes.ts";

const LAT = 33.96;
const LON = 118.29;

const node = (id: string, x: number, invert: number): PipeNode => ({
  id,
  kind: "well",
  pipeClass: "WS",
  x,
  y: 0,
  groundElevation: invert + 3,
  invertElevation: invert,
  attributes: {},
});

const link = (id: string, from: string, to: string, pipeClass: PipeLink["pipeClass"]): PipeLink => ({
  id,
  kind: "pipe",
  pipeClass,
  from,
  to,
  vertices: [],
  section: { shape: "circular", diameter: 0.4 },
  fromInvert: null,
  toInvert: null,
  length: null,
  material: null,
  attributes: {},
});

/** _FLOW of the vertices of one feature's mesh, with their east coordinate (glTF x). */
function flowByEast(builder: {
  build(): { mesh: { positions: Float32Array; extraAttributes?: Record<string, Float32Array> } }[];
}) {
  const out: { east: number; flow: number }[] = [];
  for (const { mesh } of builder.build()) {
    const flow = mesh.extraAttributes?._FLOW;
    expect(flow, "the mesh carries a _FLOW attribute").toBeDefined();
    for (let i = 0; i < flow!.length; i++) out.push({ east: mesh.positions[3 * i], flow: flow![i] });
  }
  return out;
}

describe("flow distance for the flow-direction animation", () => {
  // A: invert 10 m at x = 0; B: invert 9 m at x = 40. The sewer drawn A -> B flows A -> B; drawn B -> A it still
  // flows A -> B (gravity goes by inverts); a water main drawn B -> A flows as drawn (B -> A).
  const net: PipeNetwork = {
    format: "test",
    crs: null,
    nodes: [node("A", 0, 10), node("B", 40, 9)],
    links: [link("ab", "A", "B", "WS"), link("ba", "B", "A", "WS"), link("main", "B", "A", "JS")],
    issues: [],
  };
  const crs = resolveSourceCrs(`ENU:${LAT},${LON}`);
  const { features } = pipeFeatures(net, crs);
  const frame = enuToEcefMatrix(LON, LAT, 0);
  const byId = new Map(features.map((f) => [f.id, f]));

  for (const [id, downstreamEast] of [
    ["ab", 40],
    ["ba", 40],
    ["main", 0],
  ] as const) {
    it(`${id}: stripes run towards x = ${downstreamEast} on the tube and on the line level`, () => {
      const tubes = new PipeTileBuilder(frame);
      tubes.add(0, byId.get(id)!);
      const lines = new PipeLineBuilder(frame);
      lines.add(0, byId.get(id)!);
      for (const samples of [flowByEast(tubes), flowByEast(lines)]) {
        const upstream = samples.filter((s) => Math.abs(s.east - (40 - downstreamEast)) < 0.3);
        const downstream = samples.filter((s) => Math.abs(s.east - downstreamEast) < 0.3);
        expect(upstream.length).toBeGreaterThan(0);
        expect(downstream.length).toBeGreaterThan(0);
        for (const s of upstream) expect(s.flow).toBeLessThan(0.5);
        // The axis runs 40 m across and 1 m down: 40.01 m along.
        for (const s of downstream) expect(s.flow).toBeCloseTo(Math.hypot(40, 1), 1);
      }
    });
  }

  it("wells get no flow (-1): they do not animate", () => {
    const wells = new PipeTileBuilder(frame);
    wells.add(0, byId.get("A")!);
    for (const s of flowByEast(wells)) expect(s.flow).toBe(-1);
  });
});
