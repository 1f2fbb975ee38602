import {
  type Cesium3DTileset,
  ClippingPolygon,
  ClippingPolygonCollection,
  Color,
  ColorGeometryInstanceAttribute,
  GeometryInstance,
  PerInstanceColorAppearance,
  PolygonGeometry,
  PolygonHierarchy,
  PolylineColorAppearance,
  PolylineGeometry,
  Primitive,
  PrimitiveCollection,
  type Viewer,
  WallGeometry,
} from "cesium";
import { h } from "../dom.ts";
import { t } from "../i18n.ts";
import { type DrawTool, type GroundPoint, toCartesian } from "./draw-tool.ts";

export const DEFAULT_PIT_DEPTH = 5;
export const MAX_PIT_DEPTH = 50;

/** Topsoil thickness and the height of the subsoil bands painted on the pit walls, metres. */
const TOPSOIL = 0.5;
const BAND = 1;
const TOPSOIL_COLOR = Color.fromCssColorString("#4a3526");
const SOIL_COLORS = [Color.fromCssColorString("#8a6a45"), Color.fromCssColorString("#7b5c3b")];
const FLOOR_COLOR = Color.fromCssColorString("#5e4630");
const RIM_COLOR = Color.fromCssColorString("#ffd24a");
/** Where the walls' shading light comes from in plan (unit vector east, north): the north-west, as on maps. */
const LIGHT = [-Math.SQRT1_2, Math.SQRT1_2] as const;

export interface Pit {
  id: number;
  ring: GroundPoint[];
  depth: number;
  /** Height of the pit floor, metres. */
  floor: number;
}

/** Snapshot for the test hook. */
export interface ExcavationState {
  drawing: boolean;
  drawnPoints: number;
  depth: number;
  pits: { id: number; ring: [number, number][]; depth: number; floor: number }[];
  /** The globe's clipping polygons: how many, and whether they are applied. */
  clipping: { supported: boolean; enabled: boolean; polygons: number };
  depthTestAgainstTerrain: boolean;
}

/**
 * Excavation: pits drawn as ground polygons. The globe is cut away inside each polygon (a
 * ClippingPolygonCollection on the globe; WebGL 2) and the hole is lined with soil walls from the
 * ground down to the pit depth and a floor, so the pipes inside can be seen from above in the normal
 * (opaque ground) view. While pits exist the globe depth-tests everything else, so nothing below the
 * ground shows except through a pit.
 */
export class Excavation {
  private pitList: { pit: Pit; primitive: PrimitiveCollection }[] = [];
  private nextId = 1;
  private depthValue = DEFAULT_PIT_DEPTH;
  private drawing = false;
  private savedDepthTest: boolean | undefined;
  private error: string | undefined;
  private readonly listeners = new Set<() => void>();
  private syncBlock: (() => void) | undefined;

  /**
   * @param groundTilesets tilesets standing on the ground (buildings, BIM, reality meshes; not the
   *   pipes): cut away inside the pits too, so no building or photo mesh covers a pit.
   */
  constructor(
    private readonly viewer: Viewer,
    private readonly draw: DrawTool,
    private readonly groundTilesets: () => Cesium3DTileset[] = () => [],
  ) {
    draw.onChange(() => this.changed());
  }

  get depth(): number {
    return this.depthValue;
  }

  get pits(): readonly Pit[] {
    return this.pitList.map((p) => p.pit);
  }

  get isDrawing(): boolean {
    return this.drawing && this.draw.active === "polygon";
  }

  get supported(): boolean {
    return ClippingPolygonCollection.isSupported(this.viewer.scene);
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  setDepth(depth: number): void {
    if (!Number.isFinite(depth)) return;
    this.depthValue = Math.min(MAX_PIT_DEPTH, Math.max(0.5, depth));
    this.changed();
  }

  /** Lets the user draw a pit outline; the pit is dug when the polygon is finished. */
  async drawPit(): Promise<Pit | null> {
    this.error = undefined;
    this.drawing = true;
    const points = await this.draw.start({ shape: "polygon", color: RIM_COLOR });
    this.drawing = false;
    if (!points) {
      this.changed();
      return null;
    }
    return this.addPit(points, this.depthValue);
  }

  /** Digs a pit with this outline (three or more ground points) and depth. */
  addPit(ring: readonly GroundPoint[], depth = this.depthValue): Pit | null {
    const clean = ring.filter((p, i) => i === 0 || !samePoint(p, ring[i - 1]));
    while (clean.length > 1 && samePoint(clean[0], clean[clean.length - 1])) clean.pop();
    if (clean.length < 3) return null;
    if (!this.supported) {
      this.error = t("pipes.excavation.unsupported");
      this.changed();
      return null;
    }
    const floor = Math.min(...clean.map((p) => p.height)) - depth;
    const pit: Pit = { id: this.nextId++, ring: clean, depth, floor };
    const primitive = this.viewer.scene.primitives.add(pitPrimitives(pit)) as PrimitiveCollection;
    this.pitList.push({ pit, primitive });
    this.applyClipping();
    this.changed();
    return pit;
  }

  clear(): void {
    if (this.isDrawing) this.draw.cancel();
    for (const { primitive } of this.pitList) this.viewer.scene.primitives.remove(primitive);
    this.pitList = [];
    this.error = undefined;
    this.applyClipping();
    this.changed();
  }

  state(): ExcavationState {
    const globe = this.viewer.scene.globe;
    const clipping = globe.clippingPolygons as ClippingPolygonCollection | undefined;
    return {
      drawing: this.isDrawing,
      drawnPoints: this.isDrawing ? this.draw.points.length : 0,
      depth: this.depthValue,
      pits: this.pits.map((p) => ({
        id: p.id,
        ring: p.ring.map((q) => [q.lon, q.lat]),
        depth: p.depth,
        floor: p.floor,
      })),
      clipping: {
        supported: this.supported,
        enabled: clipping?.enabled ?? false,
        polygons: clipping?.length ?? 0,
      },
      depthTestAgainstTerrain: globe.depthTestAgainstTerrain,
    };
  }

  /** The panel block: depth input, draw / finish / clear buttons and the pit count (rebuilt with the panel). */
  block(): HTMLElement {
    const depth = h("input", {
      type: "number",
      class: "pipe-pit-depth",
      min: 0.5,
      max: MAX_PIT_DEPTH,
      step: 0.5,
      value: String(this.depthValue),
      "aria-label": t("pipes.excavation.depth"),
    });
    depth.addEventListener("change", () => this.setDepth(Number(depth.value)));
    const start = h(
      "button",
      { type: "button", class: "pipe-pit-draw", title: t("pipes.excavation.drawTitle") },
      t("pipes.excavation.draw"),
    );
    start.addEventListener("click", () => void this.drawPit());
    const finish = h("button", { type: "button", class: "pipe-pit-finish" }, t("pipes.excavation.finish"));
    finish.addEventListener("click", () => this.draw.finish());
    const clear = h("button", { type: "button", class: "pipe-pit-clear" }, t("pipes.excavation.clear"));
    clear.addEventListener("click", () => this.clear());
    const note = h("p", { class: "panel-note pipe-pit-note" });
    const root = h(
      "div",
      { class: "pipe-excavation" },
      h(
        "div",
        { class: "bim-row" },
        h("span", { class: "bim-muted" }, t("pipes.excavation.depth")),
        depth,
        h("span", { class: "bim-muted" }, "m"),
      ),
      h("div", { class: "pipe-actions" }, start, finish, clear),
      note,
    );
    this.syncBlock = () => {
      const drawing = this.isDrawing;
      if (document.activeElement !== depth) depth.value = String(this.depthValue);
      start.disabled = drawing;
      finish.disabled = !drawing || !this.draw.canFinish;
      clear.disabled = !this.pitList.length && !drawing;
      note.dataset.pits = String(this.pitList.length);
      note.classList.toggle("error", this.error !== undefined);
      note.textContent =
        this.error ??
        (drawing
          ? t("pipes.excavation.hint", { count: this.draw.points.length })
          : t("pipes.excavation.count", { count: this.pitList.length }));
    };
    this.syncBlock();
    return root;
  }

  private applyClipping(): void {
    const scene = this.viewer.scene;
    const globe = scene.globe;
    // A fresh collection for each owner and change: a collection belongs to one globe or tileset,
    // and a replaced collection is picked up reliably.
    const collection = () =>
      new ClippingPolygonCollection({
        polygons: this.pitList.map(
          ({ pit }) => new ClippingPolygon({ positions: pit.ring.map((p) => toCartesian(p, 0)) }),
        ),
      });
    // No pits: no collection at all (even an empty one needs WebGL 2 to render). Cesium's typings
    // do not admit undefined here, its setters do.
    const none = undefined as unknown as ClippingPolygonCollection;
    for (const tileset of this.groundTilesets()) {
      tileset.clippingPolygons = this.pitList.length ? collection() : none;
    }
    if (this.pitList.length) {
      globe.clippingPolygons = collection();
      if (this.savedDepthTest === undefined) this.savedDepthTest = globe.depthTestAgainstTerrain;
      globe.depthTestAgainstTerrain = true;
    } else {
      globe.clippingPolygons = none;
      if (this.savedDepthTest !== undefined) globe.depthTestAgainstTerrain = this.savedDepthTest;
      this.savedDepthTest = undefined;
    }
    scene.requestRender();
  }

  private changed(): void {
    this.viewer.scene.requestRender();
    this.syncBlock?.();
    for (const l of this.listeners) l();
  }
}

function samePoint(a: GroundPoint, b: GroundPoint): boolean {
  return Math.abs(a.lon - b.lon) < 1e-9 && Math.abs(a.lat - b.lat) < 1e-9;
}

/** Twice the signed plan area (positive: counter-clockwise), in degree units scaled by cos(lat). */
function signedArea(ring: readonly GroundPoint[]): number {
  const k = Math.cos((ring[0].lat * Math.PI) / 180);
  let sum = 0;
  for (let i = 0; i < ring.length; i++) {
    const a = ring[i];
    const b = ring[(i + 1) % ring.length];
    sum += a.lon * k * b.lat - b.lon * k * a.lat;
  }
  return sum;
}

/** The pit's primitives: walls and floor, and a rim line at the ground. */
function pitPrimitives(pit: Pit): PrimitiveCollection {
  const collection = new PrimitiveCollection();
  collection.add(pitPrimitive(pit));
  const rim = [...pit.ring, pit.ring[0]].map((p) => toCartesian(p, 0.05));
  collection.add(
    new Primitive({
      geometryInstances: new GeometryInstance({
        geometry: new PolylineGeometry({
          positions: rim,
          width: 3,
          vertexFormat: PolylineColorAppearance.VERTEX_FORMAT,
        }),
        attributes: { color: ColorGeometryInstanceAttribute.fromColor(RIM_COLOR) },
      }),
      appearance: new PolylineColorAppearance({ translucent: false }),
      asynchronous: false,
    }),
  );
  return collection;
}

/**
 * Walls (topsoil, then alternating 1 m subsoil bands) along every edge and the floor, one primitive
 * per pit. The walls are flat-coloured but shaded by hand by how their inner face turns to a
 * north-west light, so neighbouring walls read apart without relying on the scene's sun.
 */
function pitPrimitive(pit: Pit): Primitive {
  const ring = pit.ring;
  const ccw = signedArea(ring) > 0;
  const k = Math.cos((ring[0].lat * Math.PI) / 180);
  const instances: GeometryInstance[] = [];
  for (let i = 0; i < ring.length; i++) {
    const a = ring[i];
    const b = ring[(i + 1) % ring.length];
    const ex = (b.lon - a.lon) * k;
    const ey = b.lat - a.lat;
    const len = Math.hypot(ex, ey) || 1;
    // Inner normal: left of the edge for a counter-clockwise ring.
    const nx = (ccw ? -ey : ey) / len;
    const ny = (ccw ? ex : -ex) / len;
    const shade = 0.55 + 0.45 * Math.max(0, nx * LIGHT[0] + ny * LIGHT[1]);
    const top = Math.min(a.height, b.height);
    const bands: [number, number, Color][] = [[top - TOPSOIL, top, TOPSOIL_COLOR]];
    let z = top - TOPSOIL;
    for (let n = 0; z > pit.floor; n++) {
      const next = Math.max(pit.floor, z - BAND);
      bands.push([next, z, SOIL_COLORS[n % 2]]);
      z = next;
    }
    bands.forEach(([lo, hi, color], j) => {
      const first = j === 0;
      instances.push(
        new GeometryInstance({
          geometry: new WallGeometry({
            positions: [toCartesian(a, 0), toCartesian(b, 0)],
            // The topsoil band follows the ground at each end; the bands below are level.
            maximumHeights: first ? [a.height, b.height] : [hi, hi],
            minimumHeights: [Math.max(lo, pit.floor), Math.max(lo, pit.floor)],
            vertexFormat: PerInstanceColorAppearance.FLAT_VERTEX_FORMAT,
          }),
          attributes: {
            color: ColorGeometryInstanceAttribute.fromColor(
              new Color(color.red * shade, color.green * shade, color.blue * shade, 1),
            ),
          },
        }),
      );
    });
  }
  instances.push(
    new GeometryInstance({
      geometry: new PolygonGeometry({
        polygonHierarchy: new PolygonHierarchy(ring.map((p) => toCartesian(p, 0))),
        height: pit.floor,
        vertexFormat: PerInstanceColorAppearance.FLAT_VERTEX_FORMAT,
      }),
      attributes: { color: ColorGeometryInstanceAttribute.fromColor(FLOOR_COLOR) },
    }),
  );
  return new Primitive({
    geometryInstances: instances,
    appearance: new PerInstanceColorAppearance({ flat: true, translucent: false }),
    asynchronous: false,
  });
}
