import type { MeshFeatures, StructuralMetadata } from "3d-tiles-renderer/plugins";
import {
  type BufferAttribute,
  BufferGeometry,
  Float32BufferAttribute,
  type Intersection,
  LessEqualDepth,
  Mesh,
  MeshStandardMaterial,
  type Object3D,
} from "three";
import type { FeatureProperties } from "../../src/selection.ts";

/**
 * One feature of a loaded tile: row `featureId` of property table `table` of the glTF in `tileScene`.
 * (Feature ids are only unique within one glTF, so the tile's scene is part of the identity.)
 */
export interface PickedFeature {
  tileScene: Object3D;
  table: number;
  featureId: number;
  properties: FeatureProperties;
  /** Display names by property id from the metadata schema (e.g. "Pset_WallCommon.IsExternal"). */
  names: Record<string, string>;
}

interface FeatureIdSet {
  propertyTable: number | null;
  nullFeatureId: number | null;
  attribute?: number;
  texture?: unknown;
}

/** What GLTFMeshFeaturesExtension / GLTFStructuralMetadataExtension attach to each primitive. */
function meshFeaturesOf(object: Object3D): MeshFeatures | undefined {
  return object.userData.meshFeatures as MeshFeatures | undefined;
}

function metadataOf(object: Object3D): StructuralMetadata | undefined {
  return object.userData.structuralMetadata as StructuralMetadata | undefined;
}

/**
 * Feature id of the hit face in the first feature-id set that points at a property table.
 * Attribute ids (`_FEATURE_ID_n`, lower-cased by three's GLTFLoader) are read straight from the
 * vertex nearest to the hit, exactly as MeshFeatures.getFeatures does; only texture ids go through
 * getFeatures, whose GPU read-back (its own WebGL context) is slow under software rendering.
 */
function featureIdAt(mesh: Mesh, hit: Intersection): { table: number; featureId: number } | undefined {
  const features = meshFeaturesOf(mesh);
  if (!features || hit.faceIndex == null || !hit.barycoord) return undefined;
  const sets = features.getFeatureInfo() as FeatureIdSet[];
  const setIndex = sets.findIndex((s) => s.propertyTable !== null && s.propertyTable !== undefined);
  if (setIndex < 0) return undefined;
  const set = sets[setIndex];
  let id: number | null;
  if (set.attribute !== undefined) {
    const attr = mesh.geometry.getAttribute(`_feature_id_${set.attribute}`);
    if (!attr) return undefined;
    const corners = triangleVertices(mesh.geometry, hit.faceIndex);
    const b = hit.barycoord;
    const nearest = b.x > b.y && b.x > b.z ? 0 : b.y > b.z ? 1 : 2;
    id = attr.getX(corners[nearest]);
  } else {
    id = features.getFeatures(hit.faceIndex, hit.barycoord)[setIndex] ?? null;
  }
  if (id === null || id === set.nullFeatureId) return undefined;
  return { table: set.propertyTable as number, featureId: id };
}

function triangleVertices(geometry: BufferGeometry, triangle: number): [number, number, number] {
  const i = triangle * 3;
  const index = geometry.index;
  return index ? [index.getX(i), index.getX(i + 1), index.getX(i + 2)] : [i, i + 1, i + 2];
}

/** Plain values for the properties panel: three's vector/matrix types become arrays, no-data becomes undefined. */
function plain(value: unknown): unknown {
  if (value === null) return undefined;
  if (value && typeof value === "object" && "toArray" in value && typeof value.toArray === "function")
    return (value as { toArray(): unknown[] }).toArray();
  return value;
}

/**
 * The feature under a raycast hit and all its metadata, read through EXT_structural_metadata in the
 * order the class declares its properties (the same keys and values CesiumJS reports).
 */
export function featureFromHit(hit: Intersection, tileSceneOf: (o: Object3D) => Object3D | undefined) {
  const mesh = hit.object;
  if (!(mesh instanceof Mesh)) return undefined;
  const id = featureIdAt(mesh, hit);
  const tileScene = tileSceneOf(mesh);
  const metadata = metadataOf(mesh) ?? (tileScene ? metadataOf(tileScene) : undefined);
  if (!id || !tileScene || !metadata) return undefined;
  const row = (
    metadata.getPropertyTableData as unknown as (table: number, id: number) => Record<string, unknown>
  )(id.table, id.featureId);
  const properties: FeatureProperties = {};
  for (const [key, value] of Object.entries(row)) properties[key] = plain(value);
  return {
    tileScene,
    table: id.table,
    featureId: id.featureId,
    properties,
    names: schemaNames(metadata, id.table),
  } satisfies PickedFeature;
}

interface MetadataSchema {
  classes?: Record<string, { properties?: Record<string, { name?: string }> }>;
}

/** Property id -> schema `name` for the class of a property table (ids are sanitized, names are not). */
function schemaNames(metadata: StructuralMetadata, table: number): Record<string, string> {
  const info = metadata.getPropertyTableInfo([table])[0];
  const schema = (metadata as unknown as { schema?: MetadataSchema }).schema;
  const properties = (info && schema?.classes?.[info.className]?.properties) ?? {};
  const names: Record<string, string> = {};
  for (const [id, property] of Object.entries(properties)) names[id] = property.name ?? id;
  return names;
}

const HIGHLIGHT = new MeshStandardMaterial({
  color: "#ffd23f",
  emissive: "#ffb000",
  emissiveIntensity: 0.35,
  roughness: 0.8,
  metalness: 0,
  // Drawn over the element's own faces (same vertices, so same depth) without z-fighting.
  depthFunc: LessEqualDepth,
  polygonOffset: true,
  polygonOffsetFactor: -1,
  polygonOffsetUnits: -4,
});

/**
 * Paints one feature: for every primitive of the tile that carries the same feature id, the
 * triangles whose vertices have that id are copied into an overlay mesh in the highlight colour.
 * The tile's own geometry and materials are never touched.
 */
export class FeatureHighlight {
  private overlays: Mesh[] = [];
  private picked: PickedFeature | undefined;

  get current(): PickedFeature | undefined {
    return this.picked;
  }

  show(feature: PickedFeature | undefined): void {
    this.clear();
    this.picked = feature;
    if (!feature) return;
    feature.tileScene.traverse((object) => {
      if (!(object instanceof Mesh) || object.userData.cimOverlay) return;
      const sets = (meshFeaturesOf(object)?.getFeatureInfo() ?? []) as FeatureIdSet[];
      const set = sets.find((s) => s.propertyTable === feature.table && s.attribute !== undefined);
      if (!set) return;
      const ids = object.geometry.getAttribute(`_feature_id_${set.attribute}`);
      const overlay = ids && overlayFor(object, ids as BufferAttribute, feature.featureId);
      if (!overlay) return;
      object.add(overlay);
      overlay.updateMatrixWorld(true);
      this.overlays.push(overlay);
    });
  }

  clear(): void {
    for (const overlay of this.overlays) {
      overlay.removeFromParent();
      overlay.geometry.dispose();
    }
    this.overlays = [];
    this.picked = undefined;
  }
}

function overlayFor(mesh: Mesh, ids: BufferAttribute, featureId: number): Mesh | undefined {
  const geometry = mesh.geometry;
  const position = geometry.getAttribute("position");
  const normal = geometry.getAttribute("normal");
  const triangles = (geometry.index ? geometry.index.count : position.count) / 3;
  const positions: number[] = [];
  const normals: number[] = [];
  for (let t = 0; t < triangles; t++) {
    const corners = triangleVertices(geometry, t);
    if (!corners.every((v) => ids.getX(v) === featureId)) continue;
    for (const v of corners) {
      positions.push(position.getX(v), position.getY(v), position.getZ(v));
      if (normal) normals.push(normal.getX(v), normal.getY(v), normal.getZ(v));
    }
  }
  if (positions.length === 0) return undefined;
  const overlayGeometry = new BufferGeometry();
  overlayGeometry.setAttribute("position", new Float32BufferAttribute(positions, 3));
  if (normal) overlayGeometry.setAttribute("normal", new Float32BufferAttribute(normals, 3));
  else overlayGeometry.computeVertexNormals();
  const overlay = new Mesh(overlayGeometry, HIGHLIGHT);
  overlay.name = "cim-highlight";
  overlay.userData.cimOverlay = true;
  // The overlay is decoration: picks go to the element underneath.
  overlay.raycast = () => {};
  overlay.renderOrder = 1;
  // TilesGroup refreshes its descendants' world matrices only when the group itself moves, so an
  // object added under a tile follows its mesh here, just before it is drawn.
  overlay.onBeforeRender = () => {
    if (overlay.parent) overlay.matrixWorld.multiplyMatrices(overlay.parent.matrixWorld, overlay.matrix);
  };
  return overlay;
}
