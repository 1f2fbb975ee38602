import {
  Cartesian3,
  Cesium3DTileset,
  Color,
  ColorGeometryInstanceAttribute,
  Ellipsoid,
  GeometryInstance,
  PolylineColorAppearance,
  PolylineGeometry,
  Primitive,
  PrimitiveCollection,
  Ray,
  type Viewer,
} from "cesium";
import { tilesetUrl } from "../catalog.ts";
import type { MapLayer } from "../layers.ts";
import type { DrawTool, GroundPoint } from "../pipes/draw-tool.ts";
import { FlattenFrame, type FlattenPolygonSpec } from "./flatten-frame.ts";
import { FlattenShaders } from "./flatten-shaders.ts";

export type FlattenMode = "flatten" | "clip";

export interface FlattenPolygon {
  id: number;
  ring: GroundPoint[];
  mode: FlattenMode;
  /** Flat height, metres above the ellipsoid (clip polygons keep theirs for when they turn to flatten). */
  height: number;
}

/** Snapshot for the test hook. */
export interface RealityFlattenState {
  /** Reality-mesh layers the tool applies to. */
  layers: string[];
  drawing: boolean;
  drawnPoints: number;
  /** Mode and height given to the next polygon; autoHeight: the lowest mesh point inside instead. */
  mode: FlattenMode;
  autoHeight: boolean;
  height: number;
  polygons: { id: number; mode: FlattenMode; height: number; ring: [number, number][] }[];
  /** Flattened copies of the layers on the globe, and whether all their tiles for the view are loaded. */
  flatCopies: number;
  tilesLoaded: boolean;
}

/** A mesh surface point found straight down from the sky. */
export interface MeshSample {
  height: number;
  /** True when the reality mesh was hit, false when the ray went through it (clipped) to the globe. */
  onMesh: boolean;
}

const OUTLINE_COLOR = Color.fromCssColorString("#3ec1d3");
const CLIP_OUTLINE_COLOR = Color.fromCssColorString("#ff7a59");
/** Samples per side of the grid laid over a polygon to find its lowest mesh point. */
const SAMPLE_GRID = 7;

/**
 * 压平 / 裁剪 of oblique photography (reality meshes): polygons drawn on the ground inside which every
 * reality-mesh layer is flattened to a height (so a BIM or white-model design can stand in its place)
 * or cut away. Several polygons at once, each with its own mode and height.
 *
 * How it stays exact at the drawn edge: the layer's own tileset discards its fragments inside the
 * polygons (shaders/flatten-fragment.glsl), and a second tileset of the same layer, flattened as a whole
 * to the polygons' heights, keeps only the fragments inside (shaders/flatten-vertex.glsl with FLATTEN). Flattening
 * only the vertices inside, as the usual approach does, drags every triangle that crosses the edge
 * into a slope a triangle wide; here the cut runs through the triangles, pixel by pixel. The second
 * tileset exists only while flatten polygons do.
 */
export class RealityFlatten {
  private layers: MapLayer[] = [];
  private polygonList: FlattenPolygon[] = [];
  private nextId = 1;
  private modeValue: FlattenMode = "flatten";
  private heightValue = 0;
  private auto = true;
  private drawing = false;
  private readonly shaders: FlattenShaders;
  private readonly copies = new Map<MapLayer, Cesium3DTileset | "loading">();
  private readonly outlines: PrimitiveCollection;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly viewer: Viewer,
    private readonly draw: DrawTool,
  ) {
    this.shaders = new FlattenShaders(viewer.scene);
    this.outlines = viewer.scene.primitives.add(new PrimitiveCollection()) as PrimitiveCollection;
    draw.onChange(() => this.changed());
  }

  /** Takes the catalog's layers; the reality-mesh ones are flattened. */
  setLayers(layers: readonly MapLayer[]): void {
    this.layers = layers.filter((l) => l.layer.type === "reality-mesh");
    for (const layer of this.layers) {
      layer.onChange((change) => {
        if (change === "state") this.apply();
        else this.syncCopy(layer);
      });
    }
    this.apply();
  }

  get realityLayers(): readonly MapLayer[] {
    return this.layers;
  }

  /** The flattened copies on the globe (other tools that cut the ground, e.g. excavation, cut them too). */
  flatTilesets(): Cesium3DTileset[] {
    return [...this.copies.values()].filter((c): c is Cesium3DTileset => c !== "loading");
  }

  get polygons(): readonly FlattenPolygon[] {
    return this.polygonList;
  }

  get mode(): FlattenMode {
    return this.modeValue;
  }

  get height(): number {
    return this.heightValue;
  }

  get autoHeight(): boolean {
    return this.auto;
  }

  get isDrawing(): boolean {
    return this.drawing && this.draw.active === "polygon";
  }

  get drawnPoints(): number {
    return this.isDrawing ? this.draw.points.length : 0;
  }

  get canFinish(): boolean {
    return this.isDrawing && this.draw.canFinish;
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  setMode(mode: FlattenMode): void {
    this.modeValue = mode;
    this.changed();
  }

  /** A typed height (metres above the ellipsoid) for the next polygons: turns the automatic height off. */
  setHeight(height: number): void {
    if (!Number.isFinite(height)) return;
    this.heightValue = height;
    this.auto = false;
    this.changed();
  }

  setAutoHeight(auto: boolean): void {
    this.auto = auto;
    this.changed();
  }

  /** Lets the user draw a polygon; it is applied when finished. */
  async drawPolygon(): Promise<FlattenPolygon | null> {
    this.drawing = true;
    this.changed();
    const color = this.modeValue === "clip" ? CLIP_OUTLINE_COLOR : OUTLINE_COLOR;
    const points = await this.draw.start({ shape: "polygon", color });
    this.drawing = false;
    if (!points) {
      this.changed();
      return null;
    }
    return this.addPolygon(points);
  }

  finishDrawing(): void {
    this.draw.finish();
  }

  /** Adds a polygon with the current mode and height (or the lowest mesh point inside it). */
  addPolygon(ring: readonly GroundPoint[], mode = this.modeValue): FlattenPolygon | null {
    const clean = ring.filter((p, i) => i === 0 || !samePoint(p, ring[i - 1]));
    while (clean.length > 1 && samePoint(clean[0], clean[clean.length - 1])) clean.pop();
    if (clean.length < 3) return null;
    const height = this.auto ? (this.lowestMeshPoint(clean) ?? this.heightValue) : this.heightValue;
    if (this.auto) this.heightValue = height;
    const polygon: FlattenPolygon = { id: this.nextId++, ring: clean, mode, height };
    this.polygonList.push(polygon);
    this.apply();
    return polygon;
  }

  setPolygonHeight(id: number, height: number): void {
    const polygon = this.polygonList.find((p) => p.id === id);
    if (!polygon || !Number.isFinite(height)) return;
    polygon.height = height;
    this.apply();
  }

  setPolygonMode(id: number, mode: FlattenMode): void {
    const polygon = this.polygonList.find((p) => p.id === id);
    if (!polygon) return;
    polygon.mode = mode;
    this.apply();
  }

  removePolygon(id: number): void {
    this.polygonList = this.polygonList.filter((p) => p.id !== id);
    this.apply();
  }

  clear(): void {
    if (this.isDrawing) this.draw.cancel();
    this.polygonList = [];
    this.apply();
  }

  /**
   * The surface straight down at a point: the reality mesh as shown (flattened, cut), or the globe
   * where the mesh is cut away; undefined where nothing is rendered.
   */
  sampleAt(lon: number, lat: number): MeshSample | undefined {
    const scene = this.viewer.scene;
    const top = Cartesian3.fromDegrees(lon, lat, 20000);
    const down = Cartesian3.negate(Ellipsoid.WGS84.geodeticSurfaceNormal(top), new Cartesian3());
    const mine = new Set<unknown>(this.ownTilesets());
    const others: unknown[] = [];
    for (let i = 0; i < scene.primitives.length; i++) {
      const p = scene.primitives.get(i);
      if (!mine.has(p)) others.push(p);
    }
    // Scene.pickFromRay is not in Cesium's typings; unlike sampleHeight it says what the ray hit.
    const pickFromRay = (
      scene as unknown as {
        pickFromRay(ray: Ray, exclude: unknown[]): { object?: unknown; position?: Cartesian3 } | undefined;
      }
    ).pickFromRay.bind(scene);
    const hit = pickFromRay(new Ray(top, down), others);
    if (!hit?.position) return undefined;
    const object = hit.object as { primitive?: unknown } | undefined;
    const height = Ellipsoid.WGS84.cartesianToCartographic(hit.position)?.height;
    if (height === undefined) return undefined;
    return { height, onMesh: mine.has(object?.primitive) };
  }

  /** True when the flattened copies have every tile the view needs. */
  tilesLoaded(): boolean {
    for (const copy of this.copies.values()) {
      if (copy === "loading") return false;
      if (copy.show && !copy.tilesLoaded) return false;
    }
    return true;
  }

  state(): RealityFlattenState {
    return {
      layers: this.layers.map((l) => l.layer.id),
      drawing: this.isDrawing,
      drawnPoints: this.drawnPoints,
      mode: this.modeValue,
      autoHeight: this.auto,
      height: this.heightValue,
      polygons: this.polygonList.map((p) => ({
        id: p.id,
        mode: p.mode,
        height: p.height,
        ring: p.ring.map((q) => [q.lon, q.lat]),
      })),
      flatCopies: [...this.copies.values()].filter((c) => c !== "loading").length,
      tilesLoaded: this.tilesLoaded(),
    };
  }

  /** Pushes the polygons to the shaders, the layers and their flattened copies. */
  private apply(): void {
    const specs: FlattenPolygonSpec[] = this.polygonList;
    const frame = specs.length ? FlattenFrame.around(specs) : undefined;
    this.shaders.setPolygons(frame, specs);
    const any = specs.length > 0;
    const flattenPolygons = this.polygonList.filter((p) => p.mode === "flatten");
    for (const layer of this.layers) {
      if (layer.tileset) layer.tileset.customShader = any ? this.shaders.cut : undefined;
      // A copy only for layers a flatten polygon reaches: a city has many oblique blocks.
      if (layer.tileset && flattenPolygons.some((p) => overlaps(layer.layer.bbox, p.ring)))
        this.ensureCopy(layer);
      else this.dropCopy(layer);
      this.syncCopy(layer);
    }
    this.drawOutlines();
    this.changed();
  }

  /** The lowest point of the rendered reality mesh over the polygon (its corners and a grid inside). */
  private lowestMeshPoint(ring: readonly GroundPoint[]): number | undefined {
    const frame = FlattenFrame.around([{ ring, height: 0, mode: "flatten" }]);
    const local = ring.map((p) => frame.toLocal(p.lon, p.lat));
    const lons = ring.map((p) => p.lon);
    const lats = ring.map((p) => p.lat);
    const [west, east, south, north] = [
      Math.min(...lons),
      Math.max(...lons),
      Math.min(...lats),
      Math.max(...lats),
    ];
    const points: { lon: number; lat: number }[] = [];
    for (let i = 0; i < SAMPLE_GRID; i++)
      for (let j = 0; j < SAMPLE_GRID; j++) {
        const lon = west + ((east - west) * (i + 0.5)) / SAMPLE_GRID;
        const lat = south + ((north - south) * (j + 0.5)) / SAMPLE_GRID;
        if (insideRing(local, frame.toLocal(lon, lat))) points.push({ lon, lat });
      }
    // Corners pulled 2 % towards the centre, so the sample is the mesh inside and not across the edge.
    const cLon = lons.reduce((a, b) => a + b, 0) / ring.length;
    const cLat = lats.reduce((a, b) => a + b, 0) / ring.length;
    for (const p of ring)
      points.push({ lon: p.lon + (cLon - p.lon) * 0.02, lat: p.lat + (cLat - p.lat) * 0.02 });
    const heights = points
      .map((p) => this.sampleAt(p.lon, p.lat))
      .filter((s): s is MeshSample => s?.onMesh === true)
      .map((s) => s.height);
    return heights.length ? Math.min(...heights) : undefined;
  }

  private ownTilesets(): Cesium3DTileset[] {
    const own: Cesium3DTileset[] = [];
    for (const layer of this.layers) if (layer.tileset) own.push(layer.tileset);
    for (const copy of this.copies.values()) if (copy !== "loading") own.push(copy);
    return own;
  }

  private ensureCopy(layer: MapLayer): void {
    if (this.copies.has(layer)) return;
    this.copies.set(layer, "loading");
    // Same URL as the layer: the browser cache serves the tiles the layer already fetched.
    Cesium3DTileset.fromUrl(tilesetUrl(layer.layer), { maximumScreenSpaceError: 8 })
      .then((copy) => {
        if (this.copies.get(layer) !== "loading" || this.viewer.isDestroyed()) {
          copy.destroy();
          return;
        }
        copy.customShader = this.shaders.flat;
        this.viewer.scene.primitives.add(copy);
        this.copies.set(layer, copy);
        this.syncCopy(layer);
        this.changed();
      })
      .catch((err) => {
        console.error(`flattened copy of ${layer.layer.id}:`, err);
        this.copies.delete(layer);
      });
  }

  private dropCopy(layer: MapLayer): void {
    const copy = this.copies.get(layer);
    if (copy === undefined) return;
    this.copies.delete(layer);
    if (copy !== "loading") this.viewer.scene.primitives.remove(copy);
  }

  /** The copy shows and fades with its layer. */
  private syncCopy(layer: MapLayer): void {
    const copy = this.copies.get(layer);
    if (!copy || copy === "loading") return;
    copy.show = layer.show;
    if (layer.tileset) copy.style = layer.tileset.style;
    this.viewer.scene.requestRender();
  }

  /** Outlines of the polygons at their flat height (clip polygons: at the drawn ground). */
  private drawOutlines(): void {
    this.outlines.removeAll();
    for (const p of this.polygonList) {
      const h = p.mode === "flatten" ? p.height : Math.min(...p.ring.map((q) => q.height));
      const positions = [...p.ring, p.ring[0]].map((q) => Cartesian3.fromDegrees(q.lon, q.lat, h + 0.05));
      this.outlines.add(
        new Primitive({
          geometryInstances: new GeometryInstance({
            geometry: new PolylineGeometry({
              positions,
              width: 2,
              vertexFormat: PolylineColorAppearance.VERTEX_FORMAT,
            }),
            attributes: {
              color: ColorGeometryInstanceAttribute.fromColor(
                p.mode === "flatten" ? OUTLINE_COLOR : CLIP_OUTLINE_COLOR,
              ),
            },
          }),
          appearance: new PolylineColorAppearance({ translucent: false }),
          asynchronous: false,
        }),
      );
    }
  }

  private changed(): void {
    this.viewer.scene.requestRender();
    for (const l of this.listeners) l();
  }
}

/** Whether a layer's extent [west, south, east, north, ...] and a polygon's bounding box overlap. */
function overlaps(bbox: readonly number[], ring: readonly GroundPoint[]): boolean {
  const [west, south, east, north] = bbox;
  const lons = ring.map((p) => p.lon);
  const lats = ring.map((p) => p.lat);
  return (
    Math.min(...lons) <= east &&
    Math.max(...lons) >= west &&
    Math.min(...lats) <= north &&
    Math.max(...lats) >= south
  );
}

function samePoint(a: GroundPoint, b: GroundPoint): boolean {
  return Math.abs(a.lon - b.lon) < 1e-9 && Math.abs(a.lat - b.lat) < 1e-9;
}

/** Even-odd point in polygon (plan metres); the same rule as the shaders. */
function insideRing(ring: readonly [number, number][], [x, y]: [number, number]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
