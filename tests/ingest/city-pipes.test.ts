import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeIO } from "@gltf-transform/core";
import {
  EXTMeshFeatures,
  EXTMeshoptCompression,
  EXTStructuralMetadata,
  KHRMeshQuantization,
} from "@gltf-transform/extensions";
import { MeshoptDecoder } from "meshoptimizer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCjjTables } from "../../ingest/pipes/cjj/read-cjj.ts";
import { CITY_PIPES_CRS, writeCityPipes } from "../../ingest/synthetic/city-pipes.ts";
import { GRAVITY_CLASSES, type NetworkIndex, type PipeNetwork } from "../../models/pipes.ts";
import { runCli } from "../support/run-cli.ts";
import {
  geodeticToEcef,
  IDENTITY,
  type Mat4,
  multiply,
  transformPoint,
  type Vec3,
  Y_UP_TO_Z_UP,
} from "../support/tileset-checks/geodesy.ts";
import { checkTileset, type TilesetReport } from "../support/tileset-checks.ts";

// The generated city network at a small size, through the real CLI: valid tiles with levels of detail (lines in
// the inner tiles, tubes of the real section in the leaves) carrying the same feature ids.

interface Tile {
  uri: string | undefined;
  world: Mat4;
  leaf: boolean;
  geometricError: number;
  refine: string | undefined;
  depth: number;
  children: Tile[];
}

interface TileJson {
  transform?: number[];
  content?: { uri: string };
  children?: TileJson[];
  geometricError: number;
  refine?: string;
}

function tiles(node: TileJson, parent: Mat4, depth: number, out: Tile[]): Tile {
  const world = node.transform ? multiply(parent, node.transform) : parent;
  const tile: Tile = {
    uri: node.content?.uri,
    world,
    leaf: !node.children?.length,
    geometricError: node.geometricError,
    refine: node.refine,
    depth,
    children: [],
  };
  out.push(tile);
  for (const c of node.children ?? []) tile.children.push(tiles(c, world, depth + 1, out));
  return tile;
}

let io: NodeIO | undefined;

async function reader(): Promise<NodeIO> {
  await MeshoptDecoder.ready;
  io ??= new NodeIO()
    .registerExtensions([EXTMeshFeatures, EXTStructuralMetadata, EXTMeshoptCompression, KHRMeshQuantization])
    .registerDependencies({ "meshopt.decoder": MeshoptDecoder });
  return io;
}

/** Primitive modes and, per feature id, the vertices (ECEF) of a tile's content. */
async function readContent(dir: string, tile: Tile) {
  const doc = await (await reader()).readBinary(new Uint8Array(await readFile(join(dir, tile.uri!))));
  const modes = new Set<number>();
  const vertices = new Map<number, Vec3[]>();
  for (const node of doc.getRoot().listNodes()) {
    const mesh = node.getMesh();
    if (!mesh) continue;
    // Quantized (meshopt) positions come with a node transform that restores metres.
    const m = multiply(multiply(tile.world, Y_UP_TO_Z_UP), [...node.getWorldMatrix()]);
    for (const prim of mesh.listPrimitives()) {
      modes.add(prim.getMode());
      const pos = prim.getAttribute("POSITION")!;
      const ids = prim.getAttribute("_FEATURE_ID_0")!;
      const p: number[] = [0, 0, 0];
      const id: number[] = [0];
      for (let v = 0; v < ids.getCount(); v++) {
        const list = vertices.get(ids.getElement(v, id)[0]) ?? [];
        list.push(transformPoint(m, pos.getElement(v, p)));
        vertices.set(id[0], list);
      }
    }
  }
  return { modes, vertices };
}

function distanceToSegment(p: Vec3, a: Vec3, b: Vec3): number {
  const ab = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
  const ap = [p[0] - a[0], p[1] - a[1], p[2] - a[2]];
  const t = Math.max(
    0,
    Math.min(1, (ab[0] * ap[0] + ab[1] * ap[1] + ab[2] * ap[2]) / (ab[0] ** 2 + ab[1] ** 2 + ab[2] ** 2)),
  );
  return Math.hypot(ap[0] - t * ab[0], ap[1] - t * ab[1], ap[2] - t * ab[2]);
}

const width = (p: Record<string, unknown>) =>
  Math.max(Number(p.diameter ?? 0) || 0, Number(p.width ?? 0) || 0, Number(p.height ?? 0) || 0);

let dir: string;
let net: PipeNetwork;
let files: { points: string; lines: string; links: number; lengthKm: number };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "city-pipes-"));
  files = await writeCityPipes(dir, { segments: 5000 });
  net = await readCjjTables({ points: files.points, lines: files.lines, crs: CITY_PIPES_CRS });
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("generated city pipe network", () => {
  it("has the size asked for, every class and the appurtenances the analyses need", () => {
    expect(files.links).toBeGreaterThan(4500);
    expect(files.links).toBeLessThan(5500);
    // About 50 m per segment, as at full size (200,000 segments, about 10,000 km).
    expect((files.lengthKm * 1000) / files.links).toBeGreaterThan(40);
    expect((files.lengthKm * 1000) / files.links).toBeLessThan(60);
    expect(net.issues.filter((i) => i.severity === "error")).toEqual([]);
    expect(net.links.length).toBe(files.links);
    const classes = new Set(net.links.map((l) => l.pipeClass));
    expect([...classes].sort()).toEqual(["DL", "JS", "RQ", "TX", "WS", "YS"]);
    const kinds = (cls: string, kind: string) =>
      net.nodes.filter((n) => n.pipeClass === cls && n.kind === kind).length;
    expect(kinds("JS", "valve")).toBeGreaterThan(100);
    expect(kinds("JS", "hydrant")).toBeGreaterThan(10);
    expect(kinds("JS", "meter")).toBeGreaterThan(10);
    expect(kinds("JS", "tank")).toBe(4);
    expect(kinds("YS", "outfall")).toBeGreaterThan(0);
    expect(kinds("WS", "outfall")).toBeGreaterThan(0);
  });

  it("lays gravity mains falling towards the outfalls, at realistic depths", () => {
    const byId = new Map(net.nodes.map((n) => [n.id, n]));
    const down = new Map<string, string[]>();
    for (const l of net.links) {
      if (!GRAVITY_CLASSES.has(l.pipeClass)) continue;
      expect(l.fromInvert, l.id).not.toBeNull();
      // Every gravity pipe falls in its drawn direction, at 0.08 % or more.
      const a = byId.get(l.from)!;
      const b = byId.get(l.to)!;
      const fall = l.fromInvert! - l.toInvert!;
      expect(fall / Math.hypot(b.x - a.x, b.y - a.y), l.id).toBeGreaterThan(0.0007);
      const depth = byId.get(l.from)!.groundElevation! - l.fromInvert!;
      expect(depth, l.id).toBeGreaterThan(2.5);
      expect(depth, l.id).toBeLessThan(9);
      down.set(l.from, [...(down.get(l.from) ?? []), l.to]);
    }
    // ... and every gravity node drains to an outfall.
    for (const n of net.nodes.filter((x) => GRAVITY_CLASSES.has(x.pipeClass))) {
      let v = n.id;
      for (let steps = 0; byId.get(v)!.kind !== "outfall"; steps++) {
        const next = down.get(v);
        expect(next, `${n.id} stops at ${v}`).toBeDefined();
        expect(steps).toBeLessThan(1000);
        v = next![0];
      }
    }
  });
});

describe.each([
  { name: "plain", flags: [] as string[], tolerance: 0.005 },
  // Quantized positions (14 bits over a tile a few hundred metres across) are good to a few centimetres.
  { name: "meshopt", flags: ["--meshopt"], tolerance: 0.04 },
])("city network through cim ingest pipes ($name)", ({ name, flags, tolerance }) => {
  let out: string;
  let report: TilesetReport;
  let all: Tile[];
  let rootTile: Tile;
  let stdout: string;

  beforeAll(async () => {
    out = join(dir, `tiles-${name}`);
    const r = await runCli([
      "ingest",
      "pipes",
      files.points,
      files.lines,
      "--format",
      "cjj",
      "--crs",
      CITY_PIPES_CRS,
      "--out",
      out,
      ...flags,
    ]);
    expect(r.code, r.stderr).toBe(0);
    stdout = r.stdout;
    report = await checkTileset(join(out, "tileset.json"));
    const tileset = JSON.parse(await readFile(join(out, "tileset.json"), "utf8"));
    all = [];
    rootTile = tiles(tileset.root, IDENTITY, 0, all);
  }, 300_000);

  it("passes the tileset checks", () => {
    expect(report.errors).toEqual([]);
    expect(stdout).toMatch(/issues\s+0/);
  });

  it("draws every feature once as a leaf, and inner tiles as lines of the most prominent links", () => {
    const leaves = all.filter((t) => t.leaf);
    const inner = all.filter((t) => !t.leaf && t.uri);
    expect(inner.length).toBeGreaterThan(1);
    const byTile = new Map<string, Record<string, unknown>[]>();
    for (const f of report.features) byTile.set(f.tile, [...(byTile.get(f.tile) ?? []), f.properties]);
    const leafIds = leaves.flatMap((t) => (byTile.get(t.uri!) ?? []).map((p) => String(p.id)));
    const nodeSymbols = net.nodes.filter((n) => n.kind !== "junction").length;
    expect(leafIds.length).toBe(net.links.length + nodeSymbols);
    expect(new Set(leafIds).size).toBe(leafIds.length);
    const leafProps = new Map(
      leaves.flatMap((t) => (byTile.get(t.uri!) ?? []).map((p) => [String(p.id), p] as const)),
    );
    for (const t of inner) {
      const props = byTile.get(t.uri!)!;
      // Same ids and properties as the tubes; links only.
      for (const p of props) {
        expect(p.feature).toBe("link");
        expect(p).toEqual(leafProps.get(String(p.id)));
      }
    }
    // The root keeps the widest pipes (trunks) and drops the narrowest first.
    const rootProps = byTile.get(rootTile.uri!)!;
    expect(rootProps.length).toBeLessThan(net.links.length);
    const inRoot = new Set(rootProps.map((p) => String(p.id)));
    const narrowestKept = Math.min(...rootProps.map(width));
    const widestDropped = Math.max(
      ...[...leafProps.values()].filter((p) => p.feature === "link" && !inRoot.has(String(p.id))).map(width),
    );
    expect(narrowestKept).toBeGreaterThanOrEqual(widestDropped);
    expect(narrowestKept).toBeGreaterThan(0.1);
  });

  it("switches from lines to tubes at street scale (REPLACE, errors falling to 0 at the leaves)", () => {
    for (const t of all) {
      expect(t.refine).toBe("REPLACE");
      if (t.leaf) expect(t.geometricError).toBe(0);
      for (const c of t.children) expect(c.geometricError).toBeLessThan(t.geometricError);
    }
    const aboveLeaves = all.filter((t) => !t.leaf && t.children.some((c) => c.leaf));
    // With the viewer's maximumScreenSpaceError 8, about 100 m of distance per metre of error.
    for (const t of aboveLeaves) {
      expect(t.geometricError).toBeGreaterThanOrEqual(1);
      expect(t.geometricError).toBeLessThan(10);
    }
  });

  it("meshes lines in inner tiles and tubes of the real diameter in the leaves", async () => {
    const network = JSON.parse(await readFile(join(out, "network.json"), "utf8")) as NetworkIndex;
    const links = new Map(network.links.map((l) => [l.id, l]));
    const root = await readContent(out, rootTile);
    expect([...root.modes]).toEqual([1]); // LINES
    const leaf = all.find(
      (t) => t.leaf && report.features.some((f) => f.tile === t.uri && f.properties.diameter),
    )!;
    const content = await readContent(out, leaf);
    expect([...content.modes]).toEqual([4]); // TRIANGLES
    let checked = 0;
    for (const f of report.features.filter((x) => x.tile === leaf.uri && x.properties.feature === "link")) {
      const l = links.get(String(f.properties.id))!;
      if (l.section?.shape !== "circular" || l.path.length !== 2) continue;
      const rad = Math.PI / 180;
      const [a, b] = l.path.map(([lon, lat, h]) => geodeticToEcef(lon * rad, lat * rad, h));
      const r = l.section.diameter / 2;
      for (const v of content.vertices.get(f.featureId)!) {
        expect(Math.abs(distanceToSegment(v, a, b) - r)).toBeLessThan(tolerance);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });
});
