import { Document, NodeIO, Primitive } from "@gltf-transform/core";
import {
  EXTMeshFeatures,
  EXTMeshoptCompression,
  EXTStructuralMetadata,
  KHRMeshQuantization,
} from "@gltf-transform/extensions";
import { meshopt } from "@gltf-transform/functions";
import { MeshoptDecoder, MeshoptEncoder } from "meshoptimizer";
import { alignGlbBufferViews } from "./glb-align.ts";
import type { PropertyDef } from "./property-schema.ts";
import { type EncodedColumn, encodeColumn, noDataFor } from "./property-table-encoding.ts";

/** Triangle mesh of one tile in glTF's y-up frame, with one feature index per vertex. */
export interface FeatureMesh {
  positions: Float32Array;
  /** Empty for unlit geometry (Cesium draws a primitive without normals unlit). */
  normals: Float32Array;
  /** glTF primitive mode; "LINES" pairs up `indices` into segments. Default "TRIANGLES". */
  mode?: "TRIANGLES" | "LINES";
  /** Row of the property table each vertex belongs to. */
  featureIds: Uint16Array;
  indices: Uint32Array;
  /** Application-specific float vertex attributes, e.g. _STOREY_INDEX for exploding BIM storeys in a shader. */
  extraAttributes?: Record<`_${string}`, Float32Array>;
}

/** One material's share of a tile: BIM tiles have several (glass, concrete...), white models one. */
export interface ColoredMesh {
  mesh: FeatureMesh;
  /** Linear RGBA; alpha < 1 is blended. */
  color: [number, number, number, number];
}

export interface FeatureGlbOptions {
  className: string;
  classDescription?: string;
  properties: PropertyDef[];
  /** One record per feature, in feature-id order; or the feature count and its columns already encoded. */
  rows: ReadonlyArray<Record<string, unknown>> | PreEncodedRows;
  meshopt?: boolean;
}

/** Property-table rows a caller has encoded itself (e.g. once per feature for features written to several tiles). */
export interface PreEncodedRows {
  count: number;
  column(def: PropertyDef): EncodedColumn;
}

let meshoptReady: Promise<void> | undefined;
// One IO for all tiles: NodeIO resolves its platform modules lazily per instance, which costs more than a small tile.
let sharedIo: NodeIO | undefined;
let sharedMeshoptIo: NodeIO | undefined;

async function ioFor(meshoptCompression: boolean): Promise<NodeIO> {
  if (!meshoptCompression) {
    sharedIo ??= new NodeIO().registerExtensions([EXTMeshFeatures, EXTStructuralMetadata]);
    return sharedIo;
  }
  meshoptReady ??= Promise.all([MeshoptEncoder.ready, MeshoptDecoder.ready]).then(() => undefined);
  await meshoptReady;
  sharedMeshoptIo ??= new NodeIO()
    .registerExtensions([EXTMeshFeatures, EXTStructuralMetadata, EXTMeshoptCompression, KHRMeshQuantization])
    .registerDependencies({ "meshopt.encoder": MeshoptEncoder, "meshopt.decoder": MeshoptDecoder });
  return sharedMeshoptIo;
}

/** Writes a GLB whose features carry EXT_mesh_features ids and an EXT_structural_metadata property table. */
export async function writeFeatureGlb(parts: ColoredMesh[], opts: FeatureGlbOptions): Promise<Uint8Array> {
  const doc = new Document();
  const buffer = doc.createBuffer();
  const featuresExt = doc.createExtension(EXTMeshFeatures);
  const metadataExt = doc.createExtension(EXTStructuralMetadata);

  const schema = metadataExt.createSchema().setId(`cim_${opts.className}`);
  const cls = metadataExt.createClass().setName(opts.className);
  if (opts.classDescription) cls.setDescription(opts.classDescription);
  const rows = opts.rows;
  const preEncoded = "column" in rows ? rows : undefined;
  const rowCount = preEncoded ? preEncoded.count : (rows as ReadonlyArray<unknown>).length;
  const table = metadataExt.createPropertyTable().setClass(opts.className).setCount(rowCount);
  for (const def of opts.properties) {
    const prop = metadataExt.createClassProperty().setName(def.sourceName);
    if (def.kind === "STRING" || def.kind === "BOOLEAN") prop.setType(def.kind);
    else prop.setType("SCALAR").setComponentType(def.kind);
    const noData = noDataFor(def);
    if (noData !== undefined) prop.setNoData(noData);
    cls.setProperty(def.id, prop);

    const column = preEncoded
      ? preEncoded.column(def)
      : encodeColumn(def, rows as ReadonlyArray<Record<string, unknown>>);
    const tableProp = metadataExt.createPropertyTableProperty().setValues(padTo8(column.values));
    if (column.stringOffsets) tableProp.setStringOffsets(column.stringOffsets).setStringOffsetType("UINT32");
    table.setProperty(def.id, tableProp);
  }
  schema.setClass(opts.className, cls);
  const metadata = metadataExt.createStructuralMetadata().setSchema(schema).addPropertyTable(table);
  doc.getRoot().setExtension("EXT_structural_metadata", metadata);

  const gltfMesh = doc.createMesh();
  for (const { mesh, color } of parts) {
    if (mesh.indices.length === 0) continue;
    const prim = doc
      .createPrimitive()
      .setMode(mesh.mode === "LINES" ? Primitive.Mode.LINES : Primitive.Mode.TRIANGLES)
      .setAttribute(
        "POSITION",
        doc.createAccessor().setType("VEC3").setArray(mesh.positions).setBuffer(buffer),
      );
    if (mesh.normals.length > 0) {
      prim.setAttribute(
        "NORMAL",
        doc.createAccessor().setType("VEC3").setArray(mesh.normals).setBuffer(buffer),
      );
    }
    prim
      .setAttribute(
        "_FEATURE_ID_0",
        doc.createAccessor().setType("SCALAR").setArray(mesh.featureIds).setBuffer(buffer),
      )
      .setIndices(doc.createAccessor().setType("SCALAR").setArray(compactIndices(mesh)).setBuffer(buffer));
    for (const [name, values] of Object.entries(mesh.extraAttributes ?? {})) {
      prim.setAttribute(name, doc.createAccessor().setType("SCALAR").setArray(values).setBuffer(buffer));
    }
    prim.setMaterial(
      doc
        .createMaterial()
        .setBaseColorFactor(color)
        .setMetallicFactor(0)
        .setRoughnessFactor(0.9)
        .setAlphaMode(color[3] < 1 ? "BLEND" : "OPAQUE"),
    );
    const featureId = featuresExt
      .createFeatureID()
      .setFeatureCount(rowCount)
      .setAttribute(0)
      .setPropertyTable(table);
    prim.setExtension("EXT_mesh_features", featuresExt.createFeatures().addFeatureID(featureId));
    gltfMesh.addPrimitive(prim);
  }

  doc.createScene().addChild(doc.createNode().setMesh(gltfMesh));

  const io = await ioFor(Boolean(opts.meshopt));
  // "high" quantizes only standard attributes: EXT_mesh_features forbids normalized feature ids.
  if (opts.meshopt) await doc.transform(meshopt({ encoder: MeshoptEncoder, level: "high" }));
  return alignGlbBufferViews(await io.writeBinary(doc));
}

/** 16-bit indices when they fit: half the index bytes for typical tiles. */
function compactIndices(mesh: FeatureMesh): Uint16Array | Uint32Array {
  return mesh.positions.length / 3 <= 65535 ? Uint16Array.from(mesh.indices) : mesh.indices;
}

function padTo8(bytes: Uint8Array): Uint8Array {
  const len = Math.max(8, Math.ceil(bytes.length / 8) * 8);
  if (len === bytes.length) return bytes;
  const out = new Uint8Array(len);
  out.set(bytes);
  return out;
}
