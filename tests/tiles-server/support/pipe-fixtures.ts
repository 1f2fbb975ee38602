import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NetworkIndex, PipeClass } from "../../../models/pipes.ts";
import { manifest, TILESET } from "./layer-fixtures.ts";

type Node = NetworkIndex["nodes"][number];
type Link = NetworkIndex["links"][number];

const LON0 = 116.39;
const LAT0 = 39.91;
const KY = (6_378_137 * Math.PI) / 180;
const KX = KY * Math.cos((LAT0 * Math.PI) / 180);

/** Local metres (east, north) to lon/lat. */
export function lonLat(x: number, y: number): [number, number] {
  return [LON0 + x / KX, LAT0 + y / KY];
}

interface Builder {
  nodes: Node[];
  links: Link[];
  pos: Map<string, [number, number]>;
}

function node(
  b: Builder,
  id: string,
  kind: Node["kind"],
  pipeClass: PipeClass,
  x: number,
  y: number,
  ground: number | null,
  attributes: Node["attributes"] = {},
): void {
  const [lon, lat] = lonLat(x, y);
  b.pos.set(id, [x, y]);
  b.nodes.push({ id, kind, pipeClass, lon, lat, groundElevation: ground, invertElevation: null, attributes });
}

function link(
  b: Builder,
  id: string,
  kind: Link["kind"],
  pipeClass: PipeClass,
  from: string,
  to: string,
  diameter: number,
  axis: [number, number],
  inverts: [number | null, number | null] = [null, null],
  attributes: Link["attributes"] = {},
): void {
  const [fx, fy] = b.pos.get(from) ?? [0, 0];
  const [tx, ty] = b.pos.get(to) ?? [0, 0];
  b.links.push({
    id,
    kind,
    pipeClass,
    from,
    to,
    section: { shape: "circular", diameter },
    fromInvert: inverts[0],
    toInvert: inverts[1],
    length: Math.hypot(tx - fx, ty - fy),
    material: null,
    path: [
      [...lonLat(fx, fy), axis[0]],
      [...lonLat(tx, ty), axis[1]],
    ],
    attributes,
  });
}

/**
 * A small hand-built network with known answers:
 * - water (JS): reservoir R feeds A; a loop A-V1-B-C-V2-E-V4-F-V3-A with four valve nodes; meters M1 (off B),
 *   M2 (off F, a shallow service pipe P12: cover 0.35 m) and, behind the valve link VL1, junction G (demand 2)
 *   and meter M3. B has demand 5. Ground 10 m, mains axis 8.5 m, DN300.
 * - storm (YS): S1 → S2 → S3 → OUT and S4 → S2 by inverts; D2 is drawn S3 → S2 but flows S2 → S3.
 * - power (DL): cable X1 (K1-K2, DN100) crossing main P9 0.2 m clear above it (JS-DL needs 0.5 m).
 * - a lone hydrant Z without links.
 */
export function sampleNetwork(): NetworkIndex {
  const b: Builder = { nodes: [], links: [], pos: new Map() };
  const J = "JS";
  node(b, "R", "reservoir", J, 0, 0, 10, { Head: 30 });
  node(b, "A", "junction", J, 20, 0, 10, { Demand: 0 });
  node(b, "V1", "valve", J, 40, 0, 10);
  node(b, "B", "junction", J, 60, 0, 10, { Demand: 5 });
  node(b, "C", "junction", J, 80, 0, 10, { Demand: 0 });
  node(b, "V2", "valve", J, 100, 0, 10);
  node(b, "E", "junction", J, 100, 40, 10);
  node(b, "V4", "valve", J, 80, 40, 10);
  node(b, "F", "junction", J, 60, 40, 10);
  node(b, "V3", "valve", J, 20, 40, 10);
  node(b, "M1", "meter", J, 60, -15, 10);
  node(b, "M2", "meter", J, 60, 55, 10);
  node(b, "G", "junction", J, 120, 40, 10, { Demand: 2 });
  node(b, "M3", "meter", J, 140, 40, 10);
  const main = (id: string, from: string, to: string) => link(b, id, "pipe", J, from, to, 0.3, [8.5, 8.5]);
  main("P0", "R", "A");
  main("P1", "A", "V1");
  main("P2", "V1", "B");
  main("P3", "B", "C");
  main("P4", "C", "V2");
  main("P5", "V2", "E");
  main("P10", "E", "V4");
  main("P9", "V4", "F");
  main("P8", "F", "V3");
  main("P7", "V3", "A");
  link(b, "P11", "pipe", J, "B", "M1", 0.1, [8.5, 8.5]);
  link(b, "P12", "pipe", J, "F", "M2", 0.1, [8.5, 9.6]);
  link(b, "VL1", "valve", J, "E", "G", 0.3, [8.5, 8.5]);
  link(b, "P13", "pipe", J, "G", "M3", 0.1, [8.5, 8.5]);

  node(b, "S1", "well", "YS", 0, 200, 7);
  node(b, "S2", "well", "YS", 30, 200, 7);
  node(b, "S3", "well", "YS", 60, 200, 7);
  node(b, "OUT", "outfall", "YS", 90, 200, 7);
  node(b, "S4", "well", "YS", 30, 230, 7);
  link(b, "D1", "conduit", "YS", "S1", "S2", 0.3, [5.15, 4.95], [5.0, 4.8]);
  link(b, "D2", "conduit", "YS", "S3", "S2", 0.3, [4.65, 4.85], [4.5, 4.7]);
  link(b, "D3", "conduit", "YS", "S3", "OUT", 0.3, [4.55, 4.35], [4.4, 4.2]);
  link(b, "D4", "conduit", "YS", "S4", "S2", 0.3, [5.25, 5.0], [5.1, 4.85]);

  node(b, "K1", "feature", "DL", 70, 30, 10);
  node(b, "K2", "feature", "DL", 70, 50, 10);
  // Main P9 top at 8.65; cable bottom at 8.85: 0.2 m clear.
  link(b, "X1", "pipe", "DL", "K1", "K2", 0.1, [8.9, 8.9]);

  node(b, "Z", "hydrant", J, 300, 300, 10);
  return { formatVersion: 1, nodes: b.nodes, links: b.links };
}

/**
 * A w × h grid water network: a reservoir at the corner, every junction with demand, and valve links on
 * every 10th column/row crossing so burst isolation stays within 10 × 10 blocks.
 */
export function gridNetwork(w: number, h: number): NetworkIndex {
  const nodes: Node[] = [];
  const links: Link[] = [];
  const id = (i: number, j: number) => `n${i}_${j}`;
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const [lon, lat] = lonLat(i * 10, j * 10);
      nodes.push({
        id: id(i, j),
        kind: i === 0 && j === 0 ? "reservoir" : "junction",
        pipeClass: "JS",
        lon,
        lat,
        groundElevation: 10,
        invertElevation: null,
        attributes: { Demand: 1 },
      });
    }
  }
  const add = (a: [number, number], c: [number, number], valve: boolean) => {
    const pa = lonLat(a[0] * 10, a[1] * 10);
    const pc = lonLat(c[0] * 10, c[1] * 10);
    links.push({
      id: `l${links.length}`,
      kind: valve ? "valve" : "pipe",
      pipeClass: "JS",
      from: id(a[0], a[1]),
      to: id(c[0], c[1]),
      section: { shape: "circular", diameter: 0.2 },
      fromInvert: null,
      toInvert: null,
      length: 10,
      material: null,
      path: [
        [pa[0], pa[1], 8.5],
        [pc[0], pc[1], 8.5],
      ],
      attributes: {},
    });
  };
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      if (i + 1 < w) add([i, j], [i + 1, j], i % 10 === 9);
      if (j + 1 < h) add([i, j], [i, j + 1], j % 10 === 9);
    }
  }
  return { formatVersion: 1, nodes, links };
}

/** Writes a pipes layer folder: tileset.json, layer.json (type "pipes") and network.json (if given). */
export function writePipesLayerFolder(
  parent: string,
  folderName: string,
  network: unknown,
  name = "Demo pipes",
): string {
  const root = join(parent, folderName);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "tileset.json"), JSON.stringify(TILESET));
  writeFileSync(
    join(root, "layer.json"),
    JSON.stringify(manifest({ type: "pipes", name, bbox: [116.38, 39.9, 116.4, 39.92, 0, 20] })),
  );
  if (network !== undefined) {
    writeFileSync(
      join(root, "network.json"),
      typeof network === "string" ? network : JSON.stringify(network),
    );
  }
  return root;
}
