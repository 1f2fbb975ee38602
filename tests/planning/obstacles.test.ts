import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { Document, NodeIO } from "@gltf-transform/core";
import { Cartesian3, Cartographic, Math as CesiumMath, Matrix4, Transforms } from "cesium";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_BIM_LAYER_ID } from "../../cli/demo.ts";
import type { BimElementSearchResult } from "../../models/bim.ts";
import type { Layer } from "../../models/layer.ts";
import { type BuildingGeometry, readBuildingGeometry } from "../../viewer/src/planning/building-geometry.ts";
import { CHUNK_TRIANGLES, readObstacleGeometry } from "../../viewer/src/planning/obstacle-geometry.ts";
import { firstHit } from "../../viewer/src/planning/ray-test.ts";
import { skylineFrom } from "../../viewer/src/planning/skyline.ts";
import { readTileset } from "../../viewer/src/planning/tile-reader.ts";
import { type DemoSession, startDemoSession } from "../support/demo-session.ts";
import { runCli } from "../support/run-cli.ts";
import { sharedPath } from "../support/shared-data.ts";

/**
 * The planning analyses' obstacles beyond the white models: the demo BIM building and an OSGB-derived reality
 * mesh, read over HTTP from a running demo server exactly as the viewer reads them.
 */

type Region = [number, number, number, number, number, number];

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return (await res.json()) as T;
}

/**
 * An obstacle lies inside a region (radians, metres; widened by `slack` metres): each of its vertices does, and
 * so its ECEF box lies within the ECEF box of the region's corners (a region a few hundred metres across bulges
 * by millimetres between its corners, well inside the slack).
 */
function expectInRegion(o: BuildingGeometry, region: Region, slack: number): void {
  const [w, s, e, n, minH, maxH] = region;
  const angle = slack / 6_371_000;
  const c = new Cartographic();
  for (let i = 0; i < o.triangles.length; i += 3) {
    Cartographic.fromCartesian(
      new Cartesian3(o.triangles[i], o.triangles[i + 1], o.triangles[i + 2]),
      undefined,
      c,
    );
    const where = `${o.id}: vertex ${CesiumMath.toDegrees(c.longitude)},${CesiumMath.toDegrees(c.latitude)},${c.height}`;
    expect(c.longitude >= w - angle && c.longitude <= e + angle, where).toBe(true);
    expect(c.latitude >= s - angle && c.latitude <= n + angle, where).toBe(true);
    expect(c.height >= minH - slack && c.height <= maxH + slack, where).toBe(true);
  }
  const corners = [w, e].flatMap((lon) =>
    [s, n].flatMap((lat) => [minH, maxH].map((h) => Cartesian3.fromRadians(lon, lat, h))),
  );
  for (let k = 0; k < 3; k++) {
    const axis = (p: Cartesian3) => [p.x, p.y, p.z][k];
    expect(o.box[k], `${o.id}: box min ${k}`).toBeGreaterThanOrEqual(Math.min(...corners.map(axis)) - slack);
    expect(o.box[3 + k], `${o.id}: box max ${k}`).toBeLessThanOrEqual(Math.max(...corners.map(axis)) + slack);
  }
}

describe("planning obstacles from BIM and reality-mesh layers", () => {
  let ctx: DemoSession;
  let layers: Layer[];
  const root = () => ctx.pageUrl;

  beforeAll(async () => {
    ctx = await startDemoSession("cim-obstacles-");
    layers = await getJson<Layer[]>(new URL("api/layers", root()).href);
  });
  afterAll(async () => {
    await ctx?.close();
  });

  const tilesetOf = (id: string) => {
    const layer = layers.find((l) => l.id === id);
    expect(layer, `layer ${id}`).toBeDefined();
    return new URL((layer as Layer).url, root()).href;
  };

  it("reads the demo BIM building as one obstacle per element, blocking rays through it", async () => {
    const url = tilesetOf(DEMO_BIM_LAYER_ID);
    const obstacles = await readObstacleGeometry(url, DEMO_BIM_LAYER_ID);
    const ids = new Set(obstacles.map((o) => o.id));

    // Same elements as the features of the tiles' property tables and as the element index (products with
    // geometry), less the IfcSpace volumes: rooms are air, a sight line through a room is not blocked by it.
    let features = 0;
    let spaces = 0;
    await readTileset(url, (tile) => {
      const ifcClass = tile.column(["IfcClass"]);
      for (let row = 0; row < tile.rowCount; row++) {
        if (ifcClass?.(row) === "IfcSpace") spaces++;
        else features++;
      }
    });
    const elements: string[] = [];
    const spaceIds: string[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await getJson<BimElementSearchResult>(
        new URL(`api/bim/${DEMO_BIM_LAYER_ID}/elements?limit=1000&offset=${offset}`, root()).href,
      );
      for (const e of page.items) (e.ifcClass === "IfcSpace" ? spaceIds : elements).push(e.globalId);
      if (elements.length + spaceIds.length >= page.total) break;
    }
    expect(ids.size).toBeGreaterThan(10);
    expect(ids.size).toBe(features);
    expect([...ids].sort()).toEqual([...elements].sort());
    expect(spaceIds.length).toBe(spaces);
    for (const o of obstacles) {
      expect(o.layerId).toBe(DEMO_BIM_LAYER_ID);
      expect(o.triangles.length % 9).toBe(0);
      expect(o.triangles.length / 9).toBeLessThanOrEqual(CHUNK_TRIANGLES);
      expect(o.roof).toEqual([]);
    }

    // Inside the tileset's root bounding volume (a region, as the IFC ingest writes it).
    const tileset = await getJson<{ root: { boundingVolume: { region?: Region } } }>(url);
    const region = tileset.root.boundingVolume.region;
    expect(region, "root bounding volume is a region").toBeDefined();
    for (const o of obstacles) expectInRegion(o, region as Region, 0.05);

    // A horizontal ray from 50 m south of the building towards its centre at mid height hits an element of it;
    // the same ray 5 m above its top passes.
    const [w, s, e, n, minH, maxH] = region as Region;
    const centre = Cartesian3.fromRadians((w + e) / 2, (s + n) / 2, (minH + maxH) / 2);
    const enu = Transforms.eastNorthUpToFixedFrame(centre);
    const halfDepth = ((n - s) / 2) * 6_371_000;
    const from = (up: number) =>
      Matrix4.multiplyByPoint(enu, new Cartesian3(0, -(halfDepth + 50), up), new Cartesian3());
    const north = Matrix4.multiplyByPointAsVector(enu, new Cartesian3(0, 1, 0), new Cartesian3());
    Cartesian3.normalize(north, north);
    const hit = firstHit(obstacles, from(0), north, 2 * halfDepth + 100);
    expect(hit, "ray at mid height hits the BIM building").toBeDefined();
    expect(ids.has(hit?.building.id ?? "")).toBe(true);
    expect(hit?.distance).toBeGreaterThan(49);
    expect(hit?.distance).toBeLessThan(50 + 2 * halfDepth);
    const above = (maxH - minH) / 2 + 5;
    expect(firstHit(obstacles, from(above), north, 2 * halfDepth + 100)).toBeUndefined();

    // The skyline from the foot of that point, 50 m south: the building (no roofs: its triangles' edges) rises
    // to the north at the angle of its top seen from between its near and far faces; nothing to the south.
    const foot = Cartographic.fromCartesian(from(-(maxH - minH) / 2));
    const viewpoint = {
      lon: CesiumMath.toDegrees(foot.longitude),
      lat: CesiumMath.toDegrees(foot.latitude),
      height: foot.height,
    };
    const sky = skylineFrom(obstacles, viewpoint).points;
    const northMax = sky
      .filter((p) => p.azimuth >= 350 || p.azimuth < 10)
      .sort((a, b) => b.elevation - a.elevation)[0];
    const rise = maxH - minH;
    expect(northMax.elevation).toBeGreaterThan(
      CesiumMath.toDegrees(Math.atan2(rise, 50 + 2 * halfDepth)) - 0.5,
    );
    expect(northMax.elevation).toBeLessThan(CesiumMath.toDegrees(Math.atan2(rise, 49)) + 0.5);
    expect(ids.has(northMax.building ?? "")).toBe(true);
    expect(Math.abs((northMax.position?.height ?? 0) - maxH)).toBeLessThan(rise / 2);
    expect(Math.max(...sky.filter((p) => p.azimuth >= 135 && p.azimuth < 225).map((p) => p.elevation))).toBe(
      0,
    );
  });

  // The real ContextCapture tile, converted as reality.e2e.test.ts does (the same `cim ingest osgb` call).
  it.skipIf(!existsSync(sharedPath("osgb/test.osgb")))(
    "reads an OSGB-derived reality mesh as obstacles on its surface",
    async () => {
      const out = join(ctx.dataDir, "osgb-real");
      const r = await runCli([
        "ingest",
        "osgb",
        sharedPath("osgb/test.osgb"),
        "--crs",
        "ENU",
        "--origin",
        "118.3005,33.9555,-430",
        "--out",
        out,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const reg = await fetch(new URL("api/layers", root()), {
        method: "POST",
        headers: { authorization: `Bearer ${ctx.demo.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ path: out, id: "osgb-real" }),
      });
      expect(reg.status, await reg.text()).toBeLessThan(300);
      layers = await getJson<Layer[]>(new URL("api/layers", root()).href);
      const url = tilesetOf("osgb-real");

      let triangles = 0;
      await readTileset(url, (tile) => {
        for (const m of tile.meshes) triangles += m.indices.length / 3;
      });
      const obstacles = await readObstacleGeometry(url, "osgb-real");
      expect(obstacles.length).toBeGreaterThan(0);
      expect(obstacles.reduce((sum, o) => sum + o.triangles.length / 9, 0)).toBe(triangles);
      const bbox = JSON.parse(await readFile(join(out, "layer.json"), "utf8")).bbox as number[];
      const region: Region = [
        CesiumMath.toRadians(bbox[0]),
        CesiumMath.toRadians(bbox[1]),
        CesiumMath.toRadians(bbox[2]),
        CesiumMath.toRadians(bbox[3]),
        bbox[4],
        bbox[5],
      ];
      for (const o of obstacles) {
        expect(o.layerId).toBe("osgb-real");
        expectInRegion(o, region, 0.05);
      }
      // Straight down onto a point of the mesh from 20 m above: the mesh is met at most 20 m below.
      const o = obstacles[Math.floor(obstacles.length / 2)];
      const t = Math.floor(o.triangles.length / 18) * 9;
      const target = new Cartesian3(
        (o.triangles[t] + o.triangles[t + 3] + o.triangles[t + 6]) / 3,
        (o.triangles[t + 1] + o.triangles[t + 4] + o.triangles[t + 7]) / 3,
        (o.triangles[t + 2] + o.triangles[t + 5] + o.triangles[t + 8]) / 3,
      );
      const up = Cartesian3.normalize(target, new Cartesian3());
      const start = Cartesian3.add(
        target,
        Cartesian3.multiplyByScalar(up, 20, new Cartesian3()),
        new Cartesian3(),
      );
      const hit = firstHit(obstacles, start, Cartesian3.negate(up, new Cartesian3()), 30);
      expect(hit, "ray down onto the mesh").toBeDefined();
      expect(hit?.distance).toBeLessThanOrEqual(20.01);
      expect(hit?.building.layerId).toBe("osgb-real");
    },
  );
});

/**
 * Tilesets the ingests do not write today but any 3D Tiles producer may: REPLACE levels of detail, external
 * tilesets, node transforms. Served from a temporary folder over HTTP.
 */
describe("obstacle tile walk", () => {
  let dir: string;
  let server: Server;
  let base: string;
  const origin = Cartesian3.fromDegrees(118.3, 33.95, 20);
  const tileTransform = Matrix4.toArray(Transforms.eastNorthUpToFixedFrame(origin));

  /** A GLB with one node holding one triangle (glTF y-up), translated by `translation`. */
  async function glb(name: string, tri: number[], translation: [number, number, number]): Promise<void> {
    const doc = new Document();
    const buffer = doc.createBuffer();
    const prim = doc
      .createPrimitive()
      .setAttribute(
        "POSITION",
        doc.createAccessor().setType("VEC3").setArray(new Float32Array(tri)).setBuffer(buffer),
      );
    const node = doc.createNode("n").setMesh(doc.createMesh().addPrimitive(prim)).setTranslation(translation);
    doc.createScene().addChild(node);
    await writeFile(join(dir, name), await new NodeIO().writeBinary(doc));
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cim-obstacle-walk-"));
    await mkdir(join(dir, "sub"));
    // Coarse: a big triangle 10 m up; fine: a small one, 3 m east of the node's origin and 4 m north (glTF -z).
    await glb("coarse.glb", [-50, 10, 50, 50, 10, 50, 0, 10, -50], [0, 0, 0]);
    await glb("sub/fine.glb", [0, 0, 0, 1, 0, 0, 0, 1, 0], [3, 0, -4]);
    const volume = { box: [0, 0, 0, 100, 0, 0, 0, 100, 0, 0, 0, 100] };
    await writeFile(
      join(dir, "sub", "fine.json"),
      JSON.stringify({
        asset: { version: "1.1" },
        geometricError: 0,
        root: { boundingVolume: volume, geometricError: 0, content: { uri: "fine.glb" } },
      }),
    );
    const tileset = (refine: string) => ({
      asset: { version: "1.1" },
      geometricError: 100,
      root: {
        boundingVolume: volume,
        geometricError: 100,
        refine,
        transform: tileTransform,
        content: { uri: "coarse.glb" },
        children: [{ boundingVolume: volume, geometricError: 1, content: { uri: "sub/fine.json" } }],
      },
    });
    await writeFile(join(dir, "replace.json"), JSON.stringify(tileset("REPLACE")));
    await writeFile(join(dir, "add.json"), JSON.stringify(tileset("ADD")));
    server = createServer((req, res) => {
      const path = join(dir, decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
      readFile(path).then(
        (bytes) => {
          res.writeHead(200, {
            "content-type": extname(path) === ".json" ? "application/json" : "model/gltf-binary",
          });
          res.end(bytes);
        },
        () => {
          res.writeHead(404);
          res.end();
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const enuPoint = (o: BuildingGeometry, vertex: number) => {
    const inverse = Matrix4.inverse(Matrix4.fromArray(tileTransform), new Matrix4());
    const p = new Cartesian3(
      o.triangles[3 * vertex],
      o.triangles[3 * vertex + 1],
      o.triangles[3 * vertex + 2],
    );
    return Matrix4.multiplyByPoint(inverse, p, new Cartesian3());
  };

  it("REPLACE keeps only the finest level, through an external tileset, with every transform applied", async () => {
    const obstacles = await readObstacleGeometry(`${base}replace.json`, "walk");
    expect(obstacles.map((o) => o.id)).toEqual(["sub/fine.glb#0"]);
    // glTF (x, y, z) + node translation (3, 0, -4) -> east x + 3, north -(z - 4), up y.
    const expected = [
      [3, 4, 0],
      [4, 4, 0],
      [3, 4, 1],
    ];
    expected.forEach(([east, north, up], v) => {
      const p = enuPoint(obstacles[0], v);
      expect(p.x).toBeCloseTo(east, 3);
      expect(p.y).toBeCloseTo(north, 3);
      expect(p.z).toBeCloseTo(up, 3);
    });
    expect(obstacles[0].topElevation).toBeCloseTo(21, 2);
    expect(obstacles[0].height).toBeCloseTo(1, 2);
  });

  it("white models read the same from meshopt-compressed (quantized) tiles", async () => {
    const footprints = {
      type: "FeatureCollection",
      features: [
        [118.3, 33.95, 30, "a"],
        [118.301, 33.95, 12, "b"],
      ].map(([lon, lat, height, id]) => ({
        type: "Feature",
        properties: { id, name: `building ${id}`, height },
        geometry: {
          type: "Polygon",
          coordinates: [
            [
              [lon, lat],
              [(lon as number) + 0.0005, lat],
              [(lon as number) + 0.0005, (lat as number) + 0.0004],
              [lon, (lat as number) + 0.0004],
              [lon, lat],
            ],
          ],
        },
      })),
    };
    await writeFile(join(dir, "footprints.geojson"), JSON.stringify(footprints));
    const read = async (name: string, extra: string[]) => {
      const r = await runCli([
        "ingest",
        "buildings",
        join(dir, "footprints.geojson"),
        "--out",
        join(dir, name),
        ...extra,
      ]);
      expect(r.code, r.stderr).toBe(0);
      return (await readBuildingGeometry(`${base}${name}/tileset.json`)).sort((a, b) =>
        a.id.localeCompare(b.id),
      );
    };
    const plain = await read("plain", []);
    const packed = await read("packed", ["--meshopt"]);
    expect(plain.map((b) => [b.id, b.name, b.height])).toEqual([
      ["a", "building a", 30],
      ["b", "building b", 12],
    ]);
    expect(packed.map((b) => [b.id, b.name, b.height, b.roof.length])).toEqual(
      plain.map((b) => [b.id, b.name, b.height, b.roof.length]),
    );
    packed.forEach((b, i) => {
      expect(b.topElevation).toBeCloseTo(plain[i].topElevation, 1);
      b.box.forEach((v, k) => {
        expect(Math.abs(v - plain[i].box[k])).toBeLessThan(0.05);
      });
      expect(b.centre[0]).toBeCloseTo(plain[i].centre[0], 6);
      expect(b.centre[1]).toBeCloseTo(plain[i].centre[1], 6);
    });
  });

  it("ADD keeps every level", async () => {
    const obstacles = await readObstacleGeometry(`${base}add.json`, "walk");
    expect(obstacles.map((o) => o.id).sort()).toEqual(["coarse.glb#0", "sub/fine.glb#0"]);
    const coarse = obstacles.find((o) => o.id === "coarse.glb#0") as BuildingGeometry;
    // The coarse triangle is 10 m up (glTF y): a ray straight down from 15 m above the origin meets it 5 m below.
    const down = Cartesian3.negate(Cartesian3.normalize(origin, new Cartesian3()), new Cartesian3());
    const start = Cartesian3.fromDegrees(118.3, 33.95, 35);
    const hit = firstHit([coarse], start, down, 100);
    expect(hit?.distance).toBeCloseTo(5, 2);
  });
});
