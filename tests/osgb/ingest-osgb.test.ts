import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeIO } from "@gltf-transform/core";
import { KHRMaterialsUnlit } from "@gltf-transform/extensions";
import proj4 from "proj4";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OsgbGeometry } from "../../ingest/osgb/osgb-types.ts";
import { readOsgb, walkOsgb } from "../../ingest/osgb/read-osgb.ts";
import { runCli } from "../support/run-cli.ts";
import { describeWithSharedData, sharedPath } from "../support/shared-data.ts";
import {
  enuToEcef,
  IDENTITY,
  type Mat4,
  multiply,
  transformPoint,
  Y_UP_TO_Z_UP,
} from "../support/tileset-checks/geodesy.ts";
import { checkTileset } from "../support/tileset-checks.ts";
import { hasOsgconv, osgconv, type TileSpec, tileOsgt } from "./support/osgt-fixtures.ts";

/*
 * A ContextCapture-style production (metadata.xml + Data/Tile_xxx/Tile_xxx.osgb + PagedLOD child files, JPEG and
 * PNG textures) is generated with OpenSceneGraph's osgconv and ingested through the real `cim` executable. Positions
 * are checked against proj4 run here on the reader's vertices, independently of the ingest's own geodesy.
 */
const available = hasOsgconv();
const describeWithOsg = available || process.env.CI === "true" ? describe : describe.skip;

// CGCS2000 / 3-degree Gauss-Kruger CM 114E, written out here from the EPSG registry rather than taken from the code.
const EPSG_4547 = "+proj=tmerc +lat_0=0 +lon_0=114 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs";
const LONLAT = "+proj=longlat +datum=WGS84 +no_defs";
const GEOCENT = "+proj=geocent +datum=WGS84 +units=m +no_defs";
// Near Suqian, Jiangsu (118.3E 33.96N): 4.3 degrees from the zone's central meridian.
const [SRS_X, SRS_Y] = proj4(LONLAT, EPSG_4547)
  .forward([118.3, 33.96])
  .map((v) => Math.round(v));
const SRS_Z = 20;

const T0 = "Tile_+000_+000";
const T1 = "Tile_+001_+000";
const TILES: Record<string, { spec: TileSpec; embed: boolean }> = {
  [`${T0}/${T0}.osgb`]: {
    embed: true,
    spec: {
      kind: "pagedLod",
      center: [-30, -20, 10],
      radius: 40,
      ranges: [
        [0, 40],
        [40, 1e30],
        [40, 1e30],
      ],
      fileNames: ["", `${T0}_L16_0.osgb`, `${T0}_L16_1.osgb`],
      geometries: [
        {
          nx: 5,
          ny: 4,
          origin: [-60, -40, 5],
          size: 60,
          ushortTriangles: true,
          normals: true,
          texCoords: true,
          texture: "facade.jpg",
        },
      ],
    },
  },
  [`${T0}/${T0}_L16_0.osgb`]: {
    embed: true,
    spec: {
      kind: "group",
      geometries: [
        {
          nx: 9,
          ny: 5,
          origin: [-60, -40, 5],
          size: 30,
          uintTriangles: true,
          uintStrip: true,
          texCoords: true,
          texture: "facade.jpg",
        },
      ],
    },
  },
  // Written without WriteImageHint: OSG then stores raw pixels, which the ingest encodes to PNG.
  [`${T0}/${T0}_L16_1.osgb`]: {
    embed: false,
    spec: {
      kind: "group",
      translate: [30, 0, 0],
      geometries: [
        {
          nx: 7,
          ny: 6,
          origin: [-60, -40, 5],
          size: 30,
          ushortTriangles: true,
          texCoords: true,
          texture: "roof.png",
        },
      ],
    },
  },
  [`${T1}/${T1}.osgb`]: {
    embed: true,
    spec: {
      kind: "pagedLod",
      center: [30, -20, 10],
      radius: 40,
      ranges: [
        [0, 40],
        [40, 1e30],
      ],
      fileNames: ["", `${T1}_L16_0.osgb`],
      geometries: [
        {
          nx: 6,
          ny: 4,
          origin: [0, -40, 5],
          size: 60,
          ushortTriangles: true,
          texCoords: true,
          texture: "roof.png",
        },
      ],
    },
  },
  [`${T1}/${T1}_L16_0.osgb`]: {
    embed: true,
    spec: {
      kind: "group",
      geometries: [
        {
          nx: 12,
          ny: 8,
          origin: [0, -40, 5],
          size: 60,
          ushortTriangles: true,
          normals: true,
          colors: "ubyte",
          material: [0.6, 0.5, 0.4, 1],
        },
      ],
    },
  },
};

const METADATA = (srs: string, origin: string) =>
  `<?xml version="1.0" encoding="utf-8"?>\n<ModelMetadata version="1">\n\t<!--Spatial Reference System-->\n\t<SRS>${srs}</SRS>\n\t<!--Origin in Spatial Reference System-->\n\t<SRSOrigin>${origin}</SRSOrigin>\n\t<Texture>\n\t\t<ColorSource>Visible</ColorSource>\n\t</Texture>\n</ModelMetadata>\n`;

let root: string;
let source: string;

/** A production folder: metadata.xml beside Data/ holding copies of the generated tiles. */
function production(name: string, metadata: string): string {
  const dir = join(root, name);
  for (const file of Object.keys(TILES)) {
    mkdirSync(join(dir, "Data", file.split("/")[0]), { recursive: true });
    copyFileSync(join(source, file), join(dir, "Data", file));
  }
  writeFileSync(join(dir, "metadata.xml"), metadata);
  return dir;
}

function geometriesOf(file: string): OsgbGeometry[] {
  const scene = readOsgb(readFileSync(file), { file });
  const out: OsgbGeometry[] = [];
  walkOsgb(scene.root, (n) => {
    if (n.kind === "geometry") out.push(n);
  });
  return out;
}

interface TileNode {
  transform?: number[];
  content?: { uri: string };
  children?: TileNode[];
  geometricError: number;
}

/** Content uri -> world matrix (tile transforms composed, glTF y-up to z-up applied). */
function contentWorlds(tile: TileNode, parent: Mat4 = IDENTITY, out = new Map<string, Mat4>()) {
  const world = tile.transform ? multiply(parent, tile.transform) : parent;
  if (tile.content) out.set(tile.content.uri, multiply(world, Y_UP_TO_Z_UP));
  for (const c of tile.children ?? []) contentWorlds(c, world, out);
  return out;
}

async function glbPositions(file: string): Promise<Float32Array[]> {
  const doc = await new NodeIO().registerExtensions([KHRMaterialsUnlit]).read(file);
  return doc
    .getRoot()
    .listMeshes()[0]
    .listPrimitives()
    .map((p) => p.getAttribute("POSITION")!.getArray() as Float32Array);
}

async function glbImages(file: string): Promise<{ mime: string; bytes: Uint8Array }[]> {
  const doc = await new NodeIO().registerExtensions([KHRMaterialsUnlit]).read(file);
  return doc
    .getRoot()
    .listTextures()
    .map((t) => ({ mime: t.getMimeType(), bytes: t.getImage()! }));
}

/** Horizontal and vertical distance between two lon/lat/h points, metres. */
function distance(a: number[], b: number[]): number {
  const r = 6378137;
  const dx = ((a[0] - b[0]) * Math.PI * r * Math.cos((b[1] * Math.PI) / 180)) / 180;
  const dy = ((a[1] - b[1]) * Math.PI * r) / 180;
  return Math.hypot(dx, dy, a[2] - b[2]);
}

describeWithOsg("cim ingest osgb", () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "osgb-ingest-"));
    source = join(root, "source");
    mkdirSync(source);
    await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 180, g: 120, b: 60 } } })
      .jpeg()
      .toFile(join(source, "facade.jpg"));
    await sharp({
      create: { width: 32, height: 32, channels: 4, background: { r: 20, g: 90, b: 200, alpha: 1 } },
    })
      .png()
      .toFile(join(source, "roof.png"));
    for (const [file, { spec, embed }] of Object.entries(TILES)) {
      mkdirSync(join(source, file.split("/")[0]), { recursive: true });
      const text = file.replace(/[/+]/g, "_").replace(/\.osgb$/, ".osgt");
      writeFileSync(join(source, text), tileOsgt(spec));
      await osgconv(source, [
        ...(embed ? ["-O", "WriteImageHint=IncludeFile"] : []),
        text,
        join(source, file),
      ]);
    }
  }, 120_000);
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("keeps the PagedLOD hierarchy and puts EPSG:4547 vertices where proj4 does", async () => {
    const dir = production("gk", METADATA("EPSG:4547", `${SRS_X},${SRS_Y},${SRS_Z}`));
    const out = join(root, "out-gk");
    const r = await runCli(["ingest", "osgb", dir, "--out", out]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/crs\s+EPSG:4547/);
    expect(r.stdout).toMatch(/files\s+5 \.osgb \(2 root tiles, 2 LOD levels\)/);
    expect(r.stdout).toMatch(/missing children\s+0/);
    const err = Number(/max position error\s+([\d.]+) mm over (\d+)/.exec(r.stdout)?.[1]);
    expect(err).toBeLessThan(10);

    const report = await checkTileset(join(out, "tileset.json"));
    expect(report.errors).toEqual([]);
    expect(report.tileCount).toBe(6);

    const tileset = JSON.parse(readFileSync(join(out, "tileset.json"), "utf8")) as { root: TileNode };
    const uris = (t: TileNode): unknown => ({
      uri: t.content?.uri,
      children: (t.children ?? []).map(uris),
    });
    expect(uris(tileset.root)).toEqual({
      uri: undefined,
      children: [
        {
          uri: `tiles/${T0}/${T0}.glb`,
          children: [
            { uri: `tiles/${T0}/${T0}_L16_0.glb`, children: [] },
            { uri: `tiles/${T0}/${T0}_L16_1.glb`, children: [] },
          ],
        },
        { uri: `tiles/${T1}/${T1}.glb`, children: [{ uri: `tiles/${T1}/${T1}_L16_0.glb`, children: [] }] },
      ],
    });
    // Switching at 40 px for a 40 m radius sphere: 16 px * 80 m / 40 px.
    expect(tileset.root.children![0].geometricError).toBeCloseTo(32, 6);
    expect(tileset.root.children![0].children![0].geometricError).toBe(0);

    const worlds = contentWorlds(tileset.root);
    const toLonLat = proj4(EPSG_4547, LONLAT);
    const fromEcef = proj4(GEOCENT, LONLAT);
    let checked = 0;
    for (const file of Object.keys(TILES)) {
      const uri = `tiles/${file.replace(/\.osgb$/, ".glb")}`;
      const geoms = geometriesOf(join(dir, "Data", file));
      const expectedVertices = geoms.reduce((s, g) => s + (g.vertices?.count ?? 0), 0);
      expect(report.contents.find((c) => c.tile === uri)?.vertexCount, uri).toBe(expectedVertices);

      const prims = await glbPositions(join(out, uri));
      expect(prims.length).toBe(geoms.length);
      const translate = TILES[file].spec.translate ?? [0, 0, 0];
      prims.forEach((pos, g) => {
        const v = geoms[g].vertices!.data;
        for (let i = 0; i < pos.length / 3; i++) {
          const ecef = transformPoint(worlds.get(uri)!, [pos[i * 3], pos[i * 3 + 1], pos[i * 3 + 2]]);
          const got = fromEcef.forward([ecef[0], ecef[1], ecef[2]]) as number[];
          const x = v[i * 3] + translate[0] + SRS_X;
          const y = v[i * 3 + 1] + translate[1] + SRS_Y;
          const [lon, lat] = toLonLat.forward([x, y]);
          const d = distance(got, [lon, lat, v[i * 3 + 2] + translate[2] + SRS_Z]);
          if (d > 0.01) expect.fail(`${uri} vertex ${i}: ${d.toFixed(4)} m from proj4`);
          checked++;
        }
      });
    }
    expect(checked).toBeGreaterThan(200);

    // The fixture's normals point straight up the source CRS's z axis: in glTF's y-up frame that is +y.
    const doc = await new NodeIO()
      .registerExtensions([KHRMaterialsUnlit])
      .read(join(out, `tiles/${T0}/${T0}.glb`));
    const normals = doc.getRoot().listMeshes()[0].listPrimitives()[0].getAttribute("NORMAL")!.getArray()!;
    for (let i = 0; i < normals.length; i += 3) expect(normals[i + 1]).toBeGreaterThan(0.9999);

    // Textures keep their encoded bytes; raw pixels become PNG.
    const rootImages = await glbImages(join(out, `tiles/${T0}/${T0}.glb`));
    expect(rootImages.map((i) => i.mime)).toEqual(["image/jpeg"]);
    expect(Buffer.from(rootImages[0].bytes).equals(readFileSync(join(source, "facade.jpg")))).toBe(true);
    expect((await glbImages(join(out, `tiles/${T1}/${T1}.glb`))).map((i) => i.mime)).toEqual(["image/png"]);
    const pixels = await glbImages(join(out, `tiles/${T0}/${T0}_L16_1.glb`));
    expect(pixels.map((i) => i.mime)).toEqual(["image/png"]);
    const meta = await sharp(pixels[0].bytes).metadata();
    expect([meta.width, meta.height]).toEqual([32, 32]);

    const layer = JSON.parse(readFileSync(join(out, "layer.json"), "utf8"));
    expect(layer.type).toBe("reality-mesh");
    expect(layer.crs).toBe("EPSG:4547");
    expect(layer.bbox[0]).toBeGreaterThan(118.29);
    expect(layer.bbox[2]).toBeLessThan(118.31);
  }, 120_000);

  it("places ENU:lat,lon metadata at its origin", async () => {
    const dir = production("enu", METADATA("ENU:33.96,118.3", "0,0,0"));
    const out = join(root, "out-enu");
    const r = await runCli(["ingest", "osgb", join(dir, "metadata.xml"), "--out", out]);
    expect(r.code).toBe(0);
    const report = await checkTileset(join(out, "tileset.json"));
    expect(report.errors).toEqual([]);
    const tileset = JSON.parse(readFileSync(join(out, "tileset.json"), "utf8")) as { root: TileNode };
    const worlds = contentWorlds(tileset.root);
    const frame = enuToEcef((118.3 * Math.PI) / 180, (33.96 * Math.PI) / 180, 0);
    const file = `${T1}/${T1}_L16_0.osgb`;
    const uri = `tiles/${T1}/${T1}_L16_0.glb`;
    const v = geometriesOf(join(dir, "Data", file))[0].vertices!.data;
    const pos = (await glbPositions(join(out, uri)))[0];
    for (let i = 0; i < pos.length / 3; i++) {
      const got = transformPoint(worlds.get(uri)!, [pos[i * 3], pos[i * 3 + 1], pos[i * 3 + 2]]);
      const want = transformPoint(frame, [v[i * 3], v[i * 3 + 1], v[i * 3 + 2]]);
      expect(Math.hypot(got[0] - want[0], got[1] - want[1], got[2] - want[2])).toBeLessThan(0.01);
    }
  }, 60_000);

  it("fails on a truncated .osgb naming the file and byte offset, publishing nothing", async () => {
    const dir = production("truncated", METADATA("EPSG:4547", `${SRS_X},${SRS_Y},${SRS_Z}`));
    const bad = join(dir, "Data", T1, `${T1}_L16_0.osgb`);
    const bytes = readFileSync(bad);
    writeFileSync(bad, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const out = join(root, "out-truncated");
    const r = await runCli(["ingest", "osgb", join(dir, "Data"), "--out", out]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${T1}_L16_0.osgb: byte `);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(root).filter((f) => f.startsWith("out-truncated"))).toEqual([]);
  }, 60_000);

  it("rejects metadata.xml with an SRS it cannot use, naming the file", async () => {
    const dir = production("unknown-srs", METADATA("EPSG:99999", "0,0,0"));
    const out = join(root, "out-unknown");
    const r = await runCli(["ingest", "osgb", dir, "--out", out]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(join(dir, "metadata.xml"));
    expect(r.stderr).toContain("EPSG:99999");
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});

describeWithSharedData("cim ingest osgb on a real ContextCapture tile", () => {
  it("ingests test.osgb with --origin and reports its missing child", async () => {
    const dir = mkdtempSync(join(tmpdir(), "osgb-real-"));
    try {
      const out = join(dir, "out");
      const r = await runCli([
        "ingest",
        "osgb",
        sharedPath("osgb/test.osgb"),
        "--crs",
        "ENU",
        "--origin",
        "118.3,33.96,10",
        "--out",
        out,
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/missing children\s+1/);
      expect(r.stdout).toContain("Tile_+000_+000_L16_0.osgb (from test.osgb): child file not found");
      expect(r.stdout).toMatch(/triangles\s+114 /);
      const report = await checkTileset(join(out, "tileset.json"));
      expect(report.errors).toEqual([]);
      expect(report.contents.map((c) => c.vertexCount)).toEqual([200]);
      const images = await glbImages(join(out, "tiles/test.glb"));
      expect(images.map((i) => i.mime)).toEqual(["image/jpeg"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
