import { mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger, NodeIO } from "@gltf-transform/core";
import {
  EXTMeshFeatures,
  EXTMeshoptCompression,
  EXTStructuralMetadata,
  KHRMeshQuantization,
} from "@gltf-transform/extensions";
import { meshopt } from "@gltf-transform/functions";
import { Tiles3DLoader } from "@loaders.gl/3d-tiles";
import { parse } from "@loaders.gl/core";
import { MeshoptDecoder, MeshoptEncoder } from "meshoptimizer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGlb, replaceGlbJson, writeGlb } from "./support/tileset-checks/glb-container.ts";
import { checkTileset } from "./support/tileset-checks.ts";
import { DEFAULT_TILES, type FixtureOptions, writeTinyTileset } from "./support/tiny-tileset-fixture.ts";

let root: string;
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "tileset-checks-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function fixture(options: FixtureOptions = {}) {
  return writeTinyTileset(join(root, `fx${counter++}`), options);
}

/** The parts of the fixture's tileset.json the negative tests edit. */
interface EditableTileset {
  asset: { version: string };
  root: {
    children: Array<{ geometricError: number; content: { uri: string }; boundingVolume: { box: number[] } }>;
  };
}

async function editTileset(path: string, edit: (tileset: EditableTileset) => void): Promise<void> {
  const tileset = JSON.parse(await readFile(path, "utf8"));
  edit(tileset);
  await writeFile(path, JSON.stringify(tileset));
}

describe("checkTileset on a valid tileset", () => {
  it("reports no errors and exactly the features and properties written", async () => {
    const { tilesetPath } = await fixture();
    const report = await checkTileset(tilesetPath);

    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.tileCount).toBe(3);
    const expected = DEFAULT_TILES.flatMap((tile) =>
      tile.features.map((f, i) => ({
        tile: tile.uri,
        featureId: i,
        properties: { name: f.name, height: f.height, floors: f.floors, isPublic: f.isPublic },
      })),
    );
    expect(report.features).toEqual(expected);
    expect(report.features.find((f) => f.properties.name === "东方明珠")?.properties.height).toBe(468);
    expect(report.contents.map((c) => [c.tile, c.tilePath, c.vertexCount, c.distinctFeatureIds])).toEqual([
      ["tiles/0.glb", "root.children[0]", 12, 2],
      ["tiles/1.glb", "root.children[1]", 18, 3],
    ]);
    expect(report.distinctFeatureIds).toBe(5);
    expect(report.notes.join("\n")).toMatch(/BOOLEAN properties isPublic were decoded by the checker/);
  });

  it("documents why BOOLEAN columns bypass loaders.gl: it still cannot decode them", async () => {
    // If this starts failing after a loaders.gl upgrade, drop the BOOLEAN workaround in the checker.
    const { tilesetPath } = await fixture();
    const glb = await readFile(join(tilesetPath, "..", "tiles", "0.glb"));
    await expect(
      parse(new Uint8Array(glb), Tiles3DLoader, { worker: false, "3d-tiles": { isTileset: false } }),
    ).rejects.toThrow(/Not implemented - classProperty.type=BOOLEAN/);
  });
});

describe("checkTileset on broken tilesets", () => {
  it("names the file when a GLB is truncated", async () => {
    const { tilesetPath } = await fixture();
    const glb = join(tilesetPath, "..", "tiles", "1.glb");
    const size = (await readFile(glb)).length;
    await truncate(glb, Math.floor(size / 2));
    const report = await checkTileset(tilesetPath);
    expect(report.errors.some((e) => e.startsWith("tiles/1.glb: gltf-validator "))).toBe(true);
    expect(report.errors.every((e) => e.startsWith("tiles/1.glb"))).toBe(true);
    expect(report.features.map((f) => f.tile)).toEqual(["tiles/0.glb", "tiles/0.glb"]);
  });

  it("rejects a child geometricError greater than its parent's", async () => {
    const { tilesetPath } = await fixture();
    await editTileset(tilesetPath, (t) => {
      t.root.children[0].geometricError = 150;
    });
    const report = await checkTileset(tilesetPath);
    expect(report.errors).toEqual(["root.children[0]: geometricError 150 > parent root geometricError 100"]);
  });

  it("rejects a content uri that does not resolve", async () => {
    const { tilesetPath } = await fixture();
    await editTileset(tilesetPath, (t) => {
      t.root.children[1].content.uri = "tiles/missing.glb";
    });
    const report = await checkTileset(tilesetPath);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatch(
      /^root\.children\[1\]: content uri tiles\/missing\.glb does not resolve to an existing file/,
    );
  });

  it("rejects vertices outside the tile bounding volume", async () => {
    const { tilesetPath } = await fixture({ shiftGeometryEastMeters: 50 });
    const report = await checkTileset(tilesetPath);
    expect(report.errors).toHaveLength(1);
    const match = report.errors[0].match(
      /^tiles\/0\.glb \(root\.children\[0\]\): 12 of 12 vertices of meshes\[0\]\.primitives\[0\] lie outside the tile bounding volume \(region\); worst is vertex \d+, (\d+\.\d{3}) m outside/,
    );
    expect(match, report.errors[0]).not.toBeNull();
    // The east-most vertex was moved 50 m past the region's east edge.
    expect(Number(match?.[1])).toBeCloseTo(50, 1);
  });

  it("rejects a feature id >= featureCount", async () => {
    const { tilesetPath } = await fixture({ featureIdOverflow: true });
    const report = await checkTileset(tilesetPath);
    expect(report.errors).toEqual([
      "tiles/0.glb: meshes[0].primitives[0] EXT_mesh_features.featureIds[0]: 1 vertices have a feature id >= " +
        "featureCount 2 (first: vertex 11 has feature id 2); vertices 11",
    ]);
  });

  it("rejects a property-table row that no vertex references", async () => {
    const { tilesetPath } = await fixture({ orphanLastRow: true });
    const report = await checkTileset(tilesetPath);
    expect(report.errors).toEqual([
      "tiles/0.glb: propertyTables[0] has 1 orphan row(s) no vertex references: rows 1",
    ]);
    expect(report.contents[0].distinctFeatureIds).toBe(1);
  });

  it("rejects a child bounding volume that leaves its parent's", async () => {
    const { tilesetPath } = await fixture();
    await editTileset(tilesetPath, (t) => {
      // Move the box child's volume 2 km east in its local frame: outside the root region.
      t.root.children[1].boundingVolume.box[0] += 2000;
    });
    const report = await checkTileset(tilesetPath);
    expect(report.errors[0]).toMatch(
      /^root\.children\[1\]: bounding volume \(box\) extends \d+\.\d{3} m outside parent root bounding volume \(region/,
    );
    // The content did not move, so its vertices now fall outside the moved box too.
    expect(report.errors[1]).toMatch(/^tiles\/1\.glb \(root\.children\[1\]\): 18 of 18 vertices/);
    expect(report.errors).toHaveLength(2);
  });

  it("rejects a tileset that is not 3D Tiles 1.1", async () => {
    const { tilesetPath } = await fixture();
    await editTileset(tilesetPath, (t) => {
      t.asset.version = "1.0";
    });
    const report = await checkTileset(tilesetPath);
    expect(report.errors).toEqual(['tileset.json: asset.version is "1.0", expected "1.1"']);
  });

  it("rejects a missing tileset.json without throwing", async () => {
    const report = await checkTileset(join(root, "nowhere", "tileset.json"));
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatch(/^tileset\.json: cannot read or parse /);
  });
});

type Range = { buffer: number; byteOffset?: number; byteLength: number };

/**
 * Buffer 0 re-laid out with every block on an 8-byte boundary, as EXT_structural_metadata needs. The blocks are
 * the buffer-0 bufferViews and the meshopt compressed streams, which live in buffer 0 without a bufferView.
 */
function align8(bytes: Uint8Array): Uint8Array {
  const { json, bin } = readGlb(bytes);
  const blocks: Range[] = [];
  for (const view of json.bufferViews as Array<Range & { extensions?: Record<string, Range> }>) {
    if (view.buffer === 0) blocks.push(view);
    const stream = view.extensions?.EXT_meshopt_compression;
    if (stream?.buffer === 0) blocks.push(stream);
  }
  blocks.sort((a, b) => (a.byteOffset ?? 0) - (b.byteOffset ?? 0));
  const offsets: number[] = [];
  let size = 0;
  for (const block of blocks) {
    size = Math.ceil(size / 8) * 8;
    offsets.push(size);
    size += block.byteLength;
  }
  const out = new Uint8Array(Math.ceil(size / 8) * 8);
  blocks.forEach((block, i) => {
    const from = block.byteOffset ?? 0;
    out.set((bin as Uint8Array).subarray(from, from + block.byteLength), offsets[i]);
    block.byteOffset = offsets[i];
  });
  (json.buffers as Range[])[0].byteLength = out.length;
  return writeGlb({ json, bin: out });
}

/** The tiny fixture with every content re-encoded by gltf-transform's meshopt() (which also quantizes). */
async function meshoptFixture(level: "medium" | "high") {
  const written = await fixture();
  await Promise.all([MeshoptEncoder.ready, MeshoptDecoder.ready]);
  const io = new NodeIO()
    .registerExtensions([EXTMeshFeatures, EXTStructuralMetadata, EXTMeshoptCompression, KHRMeshQuantization])
    .registerDependencies({ "meshopt.encoder": MeshoptEncoder, "meshopt.decoder": MeshoptDecoder });
  for (const tile of written.tiles) {
    const file = join(written.tilesetPath, "..", tile.uri);
    const doc = await io.readBinary(new Uint8Array(await readFile(file)));
    doc.setLogger(new Logger(Logger.Verbosity.SILENT));
    await doc.transform(meshopt({ encoder: MeshoptEncoder, level }));
    await writeFile(file, align8(await io.writeBinary(doc)));
  }
  return written;
}

describe("checkTileset on meshopt-compressed contents", () => {
  it("decodes EXT_meshopt_compression + KHR_mesh_quantization and still checks bounds, ids and properties", async () => {
    const { tilesetPath } = await meshoptFixture("high");
    const { json } = readGlb(new Uint8Array(await readFile(join(tilesetPath, "..", "tiles", "1.glb"))));
    expect(json.extensionsRequired).toEqual(["EXT_meshopt_compression", "KHR_mesh_quantization"]);
    // Positions are normalized SHORTs; the node's scale and translation carry the quantization volume.
    expect(json.accessors as Array<{ componentType: number; normalized?: boolean }>).toContainEqual(
      expect.objectContaining({ type: "VEC3", componentType: 5122, normalized: true }),
    );

    const report = await checkTileset(tilesetPath);
    expect(report.errors).toEqual([]);
    expect(report.features).toEqual(
      DEFAULT_TILES.flatMap((tile) =>
        tile.features.map((f, i) => ({
          tile: tile.uri,
          featureId: i,
          properties: { name: f.name, height: f.height, floors: f.floors, isPublic: f.isPublic },
        })),
      ),
    );
    expect(report.contents.map((c) => [c.vertexCount, c.distinctFeatureIds])).toEqual([
      [12, 2],
      [18, 3],
    ]);
    // If this stops appearing after a loaders.gl upgrade, featureIds[].data is decoded after meshopt again.
    expect(report.notes.join("\n")).toMatch(
      /featureIds\[\]\.data differs from its decoded _FEATURE_ID_n accessor/,
    );
  });

  it("names a compressed stream that is missing from the BIN chunk (gltf-validator cannot see it)", async () => {
    const { tilesetPath } = await meshoptFixture("high");
    const file = join(tilesetPath, "..", "tiles", "1.glb");
    const bytes = new Uint8Array(await readFile(file));
    const { json } = readGlb(bytes);
    const views = json.bufferViews as Array<{ extensions?: { EXT_meshopt_compression?: Range } }>;
    const index = views.findIndex((v) => v.extensions?.EXT_meshopt_compression);
    const stream = views[index].extensions?.EXT_meshopt_compression as Range;
    stream.byteOffset = (json.buffers as Range[])[0].byteLength;
    await writeFile(file, replaceGlbJson(bytes, json));

    const report = await checkTileset(tilesetPath);
    expect(report.errors.some((e) => e.startsWith("tiles/1.glb: gltf-validator"))).toBe(false);
    expect(report.errors[0]).toMatch(
      new RegExp(
        `^tiles/1\\.glb: bufferViews\\[${index}\\]\\.extensions\\.EXT_meshopt_compression: compressed stream ` +
          "\\(buffer 0 bytes \\d+\\.\\.\\d+\\) runs past the end of buffer 0",
      ),
    );
    expect(report.errors.every((e) => e.startsWith("tiles/1.glb"))).toBe(true);
  });

  it("rejects feature ids that quantization turned into normalized values", async () => {
    // meshopt level "medium" quantizes every attribute, including _FEATURE_ID_0 when its ids fit in [-1, 1].
    const { tilesetPath } = await meshoptFixture("medium");
    const report = await checkTileset(tilesetPath);
    expect(report.errors[0]).toMatch(
      /^tiles\/0\.glb: meshes\[0\]\.primitives\[0\] EXT_mesh_features\.featureIds\[0\]: the _FEATURE_ID_0 accessor is normalized/,
    );
    expect(report.errors.every((e) => e.startsWith("tiles/0.glb"))).toBe(true);
  });
});
