/**
 * Writes a tiny but complete 3D Tiles 1.1 tileset (root + two GLB children near Shanghai) for testing the
 * tileset checker. Bounding volumes are computed from the vertices actually written, so the fixture is tight
 * by construction; options break it in one controlled way each, for negative tests.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Accessor, Document, NodeIO } from "@gltf-transform/core";
import { EXTMeshFeatures, EXTStructuralMetadata } from "@gltf-transform/extensions";
import { ecefToGeodetic, enuToEcef, type Mat4, transformPoint, type Vec3 } from "./tileset-checks/geodesy.ts";

export interface FixtureFeature {
  name: string;
  height: number;
  floors: number;
  isPublic: boolean;
}

export interface FixtureTile {
  /** Content file name, relative to tileset.json. */
  uri: string;
  /** Tile origin, degrees and metres. */
  lon: number;
  lat: number;
  boundingVolume: "region" | "box";
  features: FixtureFeature[];
}

export interface FixtureOptions {
  tiles?: FixtureTile[];
  /** Moves tile 0's geometry by this many metres east after its bounding volume was computed. */
  shiftGeometryEastMeters?: number;
  /** Makes the last vertex of tile 0 use feature id == featureCount (out of range). */
  featureIdOverflow?: boolean;
  /** Re-points tile 0's last feature's vertices to feature 0, leaving its property-table row unreferenced. */
  orphanLastRow?: boolean;
}

export interface WrittenFixture {
  tilesetPath: string;
  tiles: FixtureTile[];
}

const DEG = Math.PI / 180;

export const DEFAULT_TILES: FixtureTile[] = [
  {
    uri: "tiles/0.glb",
    lon: 121.4997,
    lat: 31.2397,
    boundingVolume: "region",
    features: [
      { name: "东方明珠", height: 468, floors: 15, isPublic: true },
      { name: "金茂大厦", height: 420.5, floors: 88, isPublic: false },
    ],
  },
  {
    uri: "tiles/1.glb",
    lon: 121.5055,
    lat: 31.2335,
    boundingVolume: "box",
    features: [
      { name: "上海中心大厦", height: 632, floors: 128, isPublic: false },
      { name: "环球金融中心", height: 492, floors: 101, isPublic: true },
      { name: "Bund Pavilion", height: 12.25, floors: 2, isPublic: true },
    ],
  },
];

/** glTF node translation, so the checker has to apply node transforms to find the real vertices. */
const NODE_TRANSLATION: Vec3 = [3, 0, -2];

/** One vertical wall quad (two triangles) per feature, in y-up glTF space: x east, y up, z south. */
function featureQuads(features: FixtureFeature[]): { positions: number[]; ids: number[] } {
  const positions: number[] = [];
  const ids: number[] = [];
  features.forEach((f, i) => {
    const x0 = i * 20;
    const x1 = x0 + 12;
    const z = -i * 15;
    positions.push(x0, 0, z, x1, 0, z, x1, f.height, z, x0, 0, z, x1, f.height, z, x0, f.height, z);
    for (let k = 0; k < 6; k++) ids.push(i);
  });
  return { positions, ids };
}

function encodeStrings(values: string[]): { data: Uint8Array; offsets: Uint8Array } {
  const encoded = values.map((v) => new TextEncoder().encode(v));
  const offsets = new Uint32Array(values.length + 1);
  encoded.forEach((e, i) => {
    offsets[i + 1] = offsets[i] + e.length;
  });
  const data = new Uint8Array(offsets[values.length]);
  encoded.forEach((e, i) => {
    data.set(e, offsets[i]);
  });
  return { data, offsets: new Uint8Array(offsets.buffer) };
}

/** BOOLEAN columns are bitstreams, least significant bit first. */
function encodeBooleans(values: boolean[]): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v) out[i >> 3] |= 1 << (i & 7);
  });
  return out;
}

function padTo8(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / 8) * 8);
  out.set(bytes);
  return out;
}

function asBytes(array: Float64Array | Int32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

async function buildGlb(tile: FixtureTile, positions: number[], ids: number[]): Promise<Uint8Array> {
  const doc = new Document();
  const buffer = doc.createBuffer();
  const meshFeatures = doc.createExtension(EXTMeshFeatures);
  const metadata = doc.createExtension(EXTStructuralMetadata);

  const schemaClass = metadata.createClass();
  const columns: Array<[string, "STRING" | "SCALAR" | "BOOLEAN", "FLOAT64" | "INT32" | null]> = [
    ["name", "STRING", null],
    ["height", "SCALAR", "FLOAT64"],
    ["floors", "SCALAR", "INT32"],
    ["isPublic", "BOOLEAN", null],
  ];
  for (const [key, type, componentType] of columns) {
    schemaClass.setProperty(
      key,
      metadata.createClassProperty().setType(type).setComponentType(componentType),
    );
  }
  const schema = metadata.createSchema().setId("cim_fixture").setClass("building", schemaClass);

  // gltf-transform packs property-table buffer views back to back without padding, while
  // EXT_structural_metadata requires each byteOffset to be a multiple of its component size. Vertex data
  // here is a multiple of 16 bytes, so padding every column to 8 bytes and writing the string column (whose
  // offsets must have exactly count + 1 entries) last keeps every view aligned.
  const strings = encodeStrings(tile.features.map((f) => f.name));
  const column = (values: Uint8Array) => metadata.createPropertyTableProperty().setValues(padTo8(values));
  const table = metadata
    .createPropertyTable()
    .setClass("building")
    .setCount(tile.features.length)
    .setProperty("height", column(asBytes(Float64Array.from(tile.features.map((f) => f.height)))))
    .setProperty("floors", column(asBytes(Int32Array.from(tile.features.map((f) => f.floors)))))
    .setProperty("isPublic", column(encodeBooleans(tile.features.map((f) => f.isPublic))))
    .setProperty("name", column(strings.data).setStringOffsets(strings.offsets));
  doc
    .getRoot()
    .setExtension(
      "EXT_structural_metadata",
      metadata.createStructuralMetadata().setSchema(schema).addPropertyTable(table),
    );

  const position = doc
    .createAccessor()
    .setBuffer(buffer)
    .setType(Accessor.Type.VEC3)
    .setArray(Float32Array.from(positions));
  const featureIdAttr = doc
    .createAccessor()
    .setBuffer(buffer)
    .setType(Accessor.Type.SCALAR)
    .setArray(Uint16Array.from(ids));
  const featureId = meshFeatures
    .createFeatureID()
    .setFeatureCount(tile.features.length)
    .setAttribute(0)
    .setPropertyTable(table);
  const prim = doc
    .createPrimitive()
    .setAttribute("POSITION", position)
    .setAttribute("_FEATURE_ID_0", featureIdAttr)
    .setExtension("EXT_mesh_features", meshFeatures.createFeatures().addFeatureID(featureId));
  const node = doc
    .createNode("tile")
    .setTranslation(NODE_TRANSLATION)
    .setMesh(doc.createMesh().addPrimitive(prim));
  doc.createScene().addChild(node);
  return new NodeIO().registerExtensions([EXTMeshFeatures, EXTStructuralMetadata]).writeBinary(doc);
}

/** Vertex positions in the tile's z-up local frame (node transform and y-up to z-up applied). */
function localZUp(positions: number[]): Vec3[] {
  const out: Vec3[] = [];
  for (let i = 0; i < positions.length; i += 3) {
    const x = positions[i] + NODE_TRANSLATION[0];
    const y = positions[i + 1] + NODE_TRANSLATION[1];
    const z = positions[i + 2] + NODE_TRANSLATION[2];
    out.push([x, -z, y]);
  }
  return out;
}

function boxAround(points: Vec3[]): number[] {
  const min = [0, 1, 2].map((k) => Math.min(...points.map((p) => p[k])));
  const max = [0, 1, 2].map((k) => Math.max(...points.map((p) => p[k])));
  const c = min.map((m, k) => (m + max[k]) / 2);
  const h = min.map((m, k) => (max[k] - m) / 2);
  return [...c, h[0], 0, 0, 0, h[1], 0, 0, 0, h[2]];
}

type Region = [number, number, number, number, number, number];

function regionAround(points: Vec3[], transform: Mat4): Region {
  const geo = points.map((p) => ecefToGeodetic(transformPoint(transform, p)));
  return [
    Math.min(...geo.map((g) => g.lon)),
    Math.min(...geo.map((g) => g.lat)),
    Math.max(...geo.map((g) => g.lon)),
    Math.max(...geo.map((g) => g.lat)),
    Math.min(...geo.map((g) => g.height)),
    Math.max(...geo.map((g) => g.height)),
  ];
}

function unionRegions(regions: Region[], padRadians: number, padMeters: number): Region {
  return [
    Math.min(...regions.map((r) => r[0])) - padRadians,
    Math.min(...regions.map((r) => r[1])) - padRadians,
    Math.max(...regions.map((r) => r[2])) + padRadians,
    Math.max(...regions.map((r) => r[3])) + padRadians,
    Math.min(...regions.map((r) => r[4])) - padMeters,
    Math.max(...regions.map((r) => r[5])) + padMeters,
  ];
}

export async function writeTinyTileset(dir: string, options: FixtureOptions = {}): Promise<WrittenFixture> {
  const tiles = options.tiles ?? DEFAULT_TILES;
  await mkdir(join(dir, "tiles"), { recursive: true });
  const children: unknown[] = [];
  const childRegions: Region[] = [];
  for (const [index, tile] of tiles.entries()) {
    const transform = enuToEcef(tile.lon * DEG, tile.lat * DEG, 4);
    const { positions, ids } = featureQuads(tile.features);
    const local = localZUp(positions);
    childRegions.push(regionAround(local, transform));
    const boundingVolume =
      tile.boundingVolume === "region" ? { region: childRegions[index] } : { box: boxAround(local) };
    if (index === 0 && options.shiftGeometryEastMeters) {
      for (let i = 0; i < positions.length; i += 3) positions[i] += options.shiftGeometryEastMeters;
    }
    if (index === 0 && options.featureIdOverflow) ids[ids.length - 1] = tile.features.length;
    if (index === 0 && options.orphanLastRow)
      for (let i = 0; i < ids.length; i++) if (ids[i] === tile.features.length - 1) ids[i] = 0;
    await writeFile(join(dir, tile.uri), await buildGlb(tile, positions, ids));
    children.push({
      boundingVolume,
      geometricError: 0,
      refine: "REPLACE",
      transform,
      content: { uri: tile.uri },
    });
  }
  const tileset = {
    asset: { version: "1.1", generator: "cim-twin tiny-tileset-fixture" },
    geometricError: 200,
    root: {
      boundingVolume: { region: unionRegions(childRegions, 1e-6, 1) },
      geometricError: 100,
      refine: "ADD",
      children,
    },
  };
  const tilesetPath = join(dir, "tileset.json");
  await writeFile(tilesetPath, JSON.stringify(tileset, null, 2));
  return { tilesetPath, tiles };
}
