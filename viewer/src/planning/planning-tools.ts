import {
  BoundingSphere,
  Cartesian2,
  Cartesian3,
  type Cesium3DTileFeature,
  Cesium3DTileStyle,
  Math as CesiumMath,
  ClockRange,
  Color,
  CustomDataSource,
  HeadingPitchRange,
  HorizontalOrigin,
  JulianDate,
  LabelStyle,
  PolygonHierarchy,
  PolylineDashMaterialProperty,
  SplitDirection,
  VerticalOrigin,
  type Viewer,
} from "cesium";
import { loadedFeatures } from "../bim/features.ts";
import { flyToSphere } from "../camera-flight.ts";
import { tilesetUrl } from "../catalog.ts";
import { t } from "../i18n.ts";
import { type MapLayer, RESULT_STYLE_PRIORITY } from "../layers.ts";
import type { DrawTool, GroundPoint } from "../pipes/draw-tool.ts";
import { type BuildingGeometry, readBuildingGeometry } from "./building-geometry.ts";
import type { ExportableResult } from "./export.ts";
import { type HeightLimitResult, heightLimit } from "./height-limit.ts";
import { type MeasureKind, type Measurement, measure } from "./measure.ts";
import { type SkylineResult, skylineFrom } from "./skyline.ts";
import { localTime, type SunlightOptions, type SunlightResult, sunlightAt } from "./sunlight.ts";
import { ViewshedStage } from "./viewshed-stage.ts";
import {
  EYE_HEIGHT,
  type LineOfSightResult,
  lineOfSight,
  type ViewshedResult,
  viewshed,
} from "./visibility.ts";

export type PlanningMode =
  | "idle"
  | "loading"
  | `measure-${MeasureKind}`
  | "height-limit"
  | "line-of-sight"
  | "viewshed"
  | "sunlight";

export type SwipeSide = "both" | "left" | "right";

/** Snapshot for the test hook and the panel. */
export interface PlanningState {
  mode: PlanningMode;
  error: string | null;
  /** Buildings whose geometry was read from the tiles (0 until a tool first needs them). */
  buildings: number;
  measurements: Measurement[];
  heightLimit: HeightLimitResult | null;
  lineOfSight: LineOfSightResult | null;
  viewshed: { observer: GroundPoint; radius: number; cells: number; visibleShare: number } | null;
  sunlight: SunlightResult | null;
  skyline: SkylineResult | null;
  swipe: { enabled: boolean; position: number; sides: Record<string, SwipeSide> };
  /** Which result the export buttons write. */
  lastResult: "measurements" | "height-limit" | "sunlight" | "line-of-sight" | "viewshed" | "skyline" | null;
}

const OVER_LIMIT = Color.fromCssColorString("#ff2a2a");
const LIMIT_PLANE = Color.fromCssColorString("#ff5a5a").withAlpha(0.22);
const MEASURE = Color.fromCssColorString("#ffd23f");
const VISIBLE = Color.fromCssColorString("#2ee66b");
const HIDDEN = Color.fromCssColorString("#ff3b3b");
const SUN = Color.fromCssColorString("#ffb020");

export const DEFAULT_SUNLIGHT: SunlightOptions = {
  date: `${new Date().getFullYear()}-12-21`,
  fromHour: 8,
  toHour: 16,
  stepMinutes: 15,
  utcOffset: 8,
};

/**
 * The planners' analysis tools over the building layer: measuring, height limits (控高), line of sight,
 * viewshed, sunlight hours, skyline, a current-versus-planned swipe and exports. Analyses run on the buildings'
 * own geometry read from the tiles (see building-geometry.ts); the scene shows the results.
 */
export class PlanningTools {
  private readonly graphics = new CustomDataSource("planning");
  private geometry: { layer: MapLayer; buildings: Promise<BuildingGeometry[]> } | undefined;
  /** Obstacle geometry of BIM and reality-mesh layers, by layer id. */
  private readonly obstacleCache = new Map<
    string,
    { layer: MapLayer; geometry: Promise<BuildingGeometry[]> }
  >();
  private buildingCount = 0;
  private modeValue: PlanningMode = "idle";
  private error: string | null = null;
  private measurementList: Measurement[] = [];
  private limitResult: HeightLimitResult | null = null;
  private overLimit = new Set<string>();
  /** Ground height the limit area was drawn on. */
  private limitGround = 0;
  private losResult: LineOfSightResult | null = null;
  private viewshedResult: ViewshedResult | null = null;
  private sunResult: SunlightResult | null = null;
  private skylineResult: SkylineResult | null = null;
  private last: PlanningState["lastResult"] = null;
  private swipeOn = false;
  private swipePosition = 0.5;
  private sides: Record<string, SwipeSide> = {};
  private removeTick: (() => void) | undefined;
  private viewshedStage: ViewshedStage | undefined;
  private readonly listeners = new Set<() => void>();
  limit = 40;
  viewshedRadius = 150;
  sunlightOptions: SunlightOptions = { ...DEFAULT_SUNLIGHT };

  constructor(
    readonly viewer: Viewer,
    private readonly draw: DrawTool,
    private readonly layers: () => MapLayer[],
  ) {
    void viewer.dataSources.add(this.graphics);
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  get mode(): PlanningMode {
    return this.modeValue;
  }

  state(): PlanningState {
    const v = this.viewshedResult;
    return {
      mode: this.modeValue,
      error: this.error,
      buildings: this.buildingCount,
      measurements: this.measurementList,
      heightLimit: this.limitResult,
      lineOfSight: this.losResult,
      viewshed: v
        ? { observer: v.observer, radius: v.radius, cells: v.cells.length, visibleShare: v.visibleShare }
        : null,
      sunlight: this.sunResult,
      skyline: this.skylineResult,
      swipe: { enabled: this.swipeOn, position: this.swipePosition, sides: this.swipeSides() },
      lastResult: this.last,
    };
  }

  /** The layer the analyses read: the first white-model (buildings) layer. */
  buildingsLayer(): MapLayer | undefined {
    return this.layers().find((l) => l.layer.type === "buildings" && l.state !== "error");
  }

  /** Colour the building layer's style gives a loaded building, or null if it is not loaded. */
  buildingColor(id: string): string | null {
    const tileset = this.buildingsLayer()?.tileset;
    if (!tileset) return null;
    for (const f of loadedFeatures(tileset))
      if (String(f.getProperty("id")) === id) return f.color.toCssColorString();
    return null;
  }

  // ---- measuring ----

  async startMeasure(kind: MeasureKind): Promise<Measurement | null> {
    const shape = kind === "area" ? "polygon" : "polyline";
    const maxPoints = kind === "height" ? 2 : kind === "angle" ? 3 : undefined;
    const points = await this.run(`measure-${kind}`, () =>
      this.draw.start({ shape, color: MEASURE, surface: true, maxPoints }),
    );
    if (!points) return null;
    const m = measure(kind, points);
    this.measurementList.push(m);
    this.drawMeasurement(m);
    this.last = "measurements";
    this.changed();
    return m;
  }

  clearMeasurements(): void {
    this.measurementList = [];
    this.removeGraphics("measure");
    this.changed();
  }

  // ---- height limit ----

  async startHeightLimit(): Promise<HeightLimitResult | null> {
    const ring = await this.run("height-limit", () =>
      this.draw.start({ shape: "polygon", color: OVER_LIMIT }),
    );
    if (!ring) return null;
    return this.applyHeightLimit(
      ring.map((p) => [p.lon, p.lat] as [number, number]),
      ring,
    );
  }

  /** Re-evaluates the current area with a new limit. */
  async setLimit(limit: number): Promise<void> {
    if (!Number.isFinite(limit) || limit < 0) return;
    this.limit = limit;
    if (this.limitResult) await this.applyHeightLimit(this.limitResult.ring);
    else this.changed();
  }

  clearHeightLimit(): void {
    this.limitResult = null;
    this.overLimit = new Set();
    this.removeGraphics("limit");
    this.restyleBuildings();
    this.changed();
  }

  private async applyHeightLimit(
    ring: [number, number][],
    points?: GroundPoint[],
  ): Promise<HeightLimitResult | null> {
    const buildings = await this.whiteModels();
    if (!buildings) return null;
    const result = heightLimit(buildings, ring, this.limit);
    this.limitResult = result;
    this.overLimit = new Set(result.rows.map((r) => r.id));
    this.removeGraphics("limit");
    // The limit is metres above the ground the area was drawn on.
    if (points) this.limitGround = Math.min(...points.map((p) => p.height));
    const ground = this.limitGround;
    this.graphics.entities.add({
      id: "limit-plane",
      polygon: {
        hierarchy: new PolygonHierarchy(ring.map(([lon, lat]) => Cartesian3.fromDegrees(lon, lat))),
        height: ground + this.limit,
        material: LIMIT_PLANE,
        outline: true,
        outlineColor: OVER_LIMIT,
      },
      polyline: {
        positions: [...ring, ring[0]].map(([lon, lat]) =>
          Cartesian3.fromDegrees(lon, lat, ground + this.limit),
        ),
        width: 2,
        material: OVER_LIMIT,
      },
    });
    this.restyleBuildings();
    this.last = "height-limit";
    this.changed();
    return result;
  }

  private restyleBuildings(): void {
    const layer = this.buildingsLayer();
    if (!layer) return;
    const over = this.overLimit;
    if (over.size === 0) {
      layer.setStyleBuilder(undefined, RESULT_STYLE_PRIORITY);
      return;
    }
    // Map lookups instead of a style expression per id (see pipes/style.ts): any number of results stays cheap.
    layer.setStyleBuilder((opacity) => {
      const style = new Cesium3DTileStyle();
      const rest = new Color(1, 1, 1, opacity * 0.85);
      const red = OVER_LIMIT.withAlpha(Math.max(opacity, 0.9));
      style.color = {
        evaluateColor: (feature: Cesium3DTileFeature, result?: Color) =>
          Color.clone(over.has(String(feature.getProperty("id"))) ? red : rest, result),
      } as unknown as Cesium3DTileStyle["color"];
      return style;
    }, RESULT_STYLE_PRIORITY);
  }

  /** Flies to a building of the last result. */
  async flyToBuilding(id: string): Promise<boolean> {
    // A large BIM element or mesh comes as several pieces with one id: frame them all.
    const parts = (await this.buildings())?.filter((x) => x.id === id) ?? [];
    if (parts.length === 0) return false;
    const sphere = BoundingSphere.fromCornerPoints(
      new Cartesian3(
        ...([0, 1, 2].map((k) => Math.min(...parts.map((b) => b.box[k]))) as [number, number, number]),
      ),
      new Cartesian3(
        ...([3, 4, 5].map((k) => Math.max(...parts.map((b) => b.box[k]))) as [number, number, number]),
      ),
    );
    return flyToSphere(
      this.viewer,
      sphere,
      new HeadingPitchRange(this.viewer.camera.heading, CesiumMath.toRadians(-35), sphere.radius * 3.2),
      1.2,
    );
  }

  // ---- line of sight and viewshed ----

  async startLineOfSight(): Promise<LineOfSightResult | null> {
    const points = await this.run("line-of-sight", () =>
      this.draw.start({ shape: "polyline", color: VISIBLE, surface: true, maxPoints: 2 }),
    );
    if (!points) return null;
    const buildings = await this.buildings();
    if (!buildings) return null;
    const r = lineOfSight(buildings, points[0], points[1]);
    this.losResult = r;
    this.removeGraphics("los");
    const cart = (p: GroundPoint) => Cartesian3.fromDegrees(p.lon, p.lat, p.height);
    const mid = r.blockedAt ?? r.to;
    this.graphics.entities.add({
      id: "los-visible",
      polyline: {
        positions: [cart(r.from), cart(mid)],
        width: 3,
        material: VISIBLE,
        depthFailMaterial: VISIBLE,
      },
    });
    if (r.blockedAt)
      this.graphics.entities.add({
        id: "los-blocked",
        polyline: {
          positions: [cart(r.blockedAt), cart(r.to)],
          width: 3,
          material: HIDDEN,
          depthFailMaterial: new PolylineDashMaterialProperty({ color: HIDDEN }),
        },
      });
    this.graphics.entities.add({
      id: "los-label",
      position: cart(r.to),
      label: this.label(r.visible ? t("planning.los.visible") : t("planning.los.blocked")),
    });
    this.last = "line-of-sight";
    this.changed();
    return r;
  }

  async startViewshed(): Promise<ViewshedResult | null> {
    const points = await this.run("viewshed", () =>
      this.draw.start({ shape: "point", color: VISIBLE, maxPoints: 1 }),
    );
    if (!points) return null;
    const buildings = await this.buildings();
    if (!buildings) return null;
    const r = viewshed(buildings, points[0], this.viewshedRadius);
    this.viewshedResult = r;
    this.removeGraphics("viewshed");
    this.removeViewshedStage();
    // The scene shows the GPU's answer (every surface, from a depth cube rendered at the eye); the ring-sector
    // cells above give the numbers and the export.
    this.viewshedStage = new ViewshedStage(
      this.viewer,
      Cartesian3.fromDegrees(r.observer.lon, r.observer.lat, r.observer.height + EYE_HEIGHT),
      r.radius,
      VISIBLE,
      HIDDEN,
    );
    this.graphics.entities.add({
      id: "viewshed-observer",
      position: Cartesian3.fromDegrees(r.observer.lon, r.observer.lat, r.observer.height + 1.6),
      point: { pixelSize: 10, color: VISIBLE, outlineColor: Color.BLACK, outlineWidth: 1 },
      label: this.label(t("planning.viewshed.share", { share: Math.round(r.visibleShare * 100) })),
    });
    this.last = "viewshed";
    this.changed();
    return r;
  }

  clearVisibility(): void {
    this.losResult = null;
    this.viewshedResult = null;
    this.removeGraphics("los");
    this.removeGraphics("viewshed");
    this.removeViewshedStage();
    this.changed();
  }

  // ---- sunlight ----

  async startSunlight(): Promise<SunlightResult | null> {
    const points = await this.run("sunlight", () =>
      this.draw.start({ shape: "point", color: SUN, surface: true, maxPoints: 1 }),
    );
    if (!points) return null;
    return this.sunlightFor(points[0]);
  }

  /** Recomputes the sunlight of the last point with the current options. */
  async sunlightFor(point: GroundPoint): Promise<SunlightResult | null> {
    const buildings = await this.buildings();
    if (!buildings) return null;
    const r = sunlightAt(buildings, point, this.sunlightOptions);
    this.sunResult = r;
    this.removeGraphics("sun");
    this.graphics.entities.add({
      id: "sun-point",
      position: Cartesian3.fromDegrees(point.lon, point.lat, point.height + 0.3),
      point: {
        pixelSize: 11,
        color: SUN,
        outlineColor: Color.BLACK,
        outlineWidth: 1,
        disableDepthTestDistance: Number.POSITIVE_INFINITY,
      },
      label: this.label(t("planning.sun.hoursLabel", { hours: r.sunHours })),
    });
    this.showShadowsAt(
      this.sunlightOptions.fromHour + (this.sunlightOptions.toHour - this.sunlightOptions.fromHour) / 2,
    );
    this.last = "sunlight";
    this.changed();
    return r;
  }

  /** Cesium's sun and shadows at a local hour of the analysis date. */
  showShadowsAt(hour: number): void {
    const o = this.sunlightOptions;
    this.viewer.shadows = true;
    this.viewer.shadowMap.softShadows = false;
    this.viewer.clock.shouldAnimate = false;
    this.viewer.clock.currentTime = localTime(o.date, hour, o.utcOffset);
    this.viewer.scene.requestRender();
  }

  /** Plays the shadows through the analysis hours (ten minutes a second). */
  animateShadows(): void {
    const o = this.sunlightOptions;
    const clock = this.viewer.clock;
    this.viewer.shadows = true;
    clock.startTime = localTime(o.date, o.fromHour, o.utcOffset);
    clock.stopTime = localTime(o.date, o.toHour, o.utcOffset);
    clock.currentTime = JulianDate.clone(clock.startTime);
    clock.clockRange = ClockRange.CLAMPED;
    clock.multiplier = 600;
    clock.shouldAnimate = true;
    this.removeTick?.();
    // The viewer renders on demand: each tick of the animation needs a frame.
    this.removeTick = clock.onTick.addEventListener(() => {
      this.viewer.scene.requestRender();
      if (JulianDate.greaterThanOrEquals(clock.currentTime, clock.stopTime)) {
        clock.shouldAnimate = false;
        this.removeTick?.();
        this.removeTick = undefined;
      }
    });
  }

  clearSunlight(): void {
    this.sunResult = null;
    this.removeTick?.();
    this.removeTick = undefined;
    this.viewer.clock.shouldAnimate = false;
    this.viewer.shadows = false;
    this.removeGraphics("sun");
    this.changed();
  }

  // ---- skyline ----

  async computeSkyline(): Promise<SkylineResult | null> {
    const buildings = await this.run("loading", () => this.buildings());
    if (!buildings) return null;
    const c = this.viewer.camera.positionCartographic;
    const r = skylineFrom(buildings, {
      lon: CesiumMath.toDegrees(c.longitude),
      lat: CesiumMath.toDegrees(c.latitude),
      height: c.height,
    });
    this.skylineResult = r;
    this.removeGraphics("skyline");
    const positions = r.points
      .filter((p) => p.position)
      .map((p) => Cartesian3.fromDegrees(p.position!.lon, p.position!.lat, p.position!.height + 0.5));
    if (positions.length > 1)
      this.graphics.entities.add({
        id: "skyline-line",
        polyline: { positions, width: 3, material: Color.CYAN, depthFailMaterial: Color.CYAN.withAlpha(0.5) },
      });
    this.last = "skyline";
    this.changed();
    return r;
  }

  clearSkyline(): void {
    this.skylineResult = null;
    this.removeGraphics("skyline");
    this.changed();
  }

  // ---- swipe ----

  /** Default sides: BIM schemes on the right only (planned), everything else on both sides (current). */
  private swipeSides(): Record<string, SwipeSide> {
    const sides: Record<string, SwipeSide> = {};
    for (const l of this.layers())
      sides[l.layer.id] = this.sides[l.layer.id] ?? (l.layer.type === "bim" ? "right" : "both");
    return sides;
  }

  setSwipe(enabled: boolean): void {
    this.swipeOn = enabled;
    this.applySwipe();
  }

  setSwipeSide(layerId: string, side: SwipeSide): void {
    this.sides[layerId] = side;
    this.applySwipe();
  }

  setSwipePosition(position: number): void {
    this.swipePosition = Math.min(1, Math.max(0, position));
    this.viewer.scene.splitPosition = this.swipePosition;
    this.viewer.scene.requestRender();
    this.changed();
  }

  private applySwipe(): void {
    const sides = this.swipeSides();
    const split = { both: SplitDirection.NONE, left: SplitDirection.LEFT, right: SplitDirection.RIGHT };
    for (const l of this.layers()) {
      if (!l.tileset) continue;
      l.tileset.splitDirection = this.swipeOn ? split[sides[l.layer.id]] : SplitDirection.NONE;
    }
    this.viewer.scene.splitPosition = this.swipePosition;
    this.viewer.scene.requestRender();
    this.changed();
  }

  // ---- export ----

  /** The last result as a table and as GeoJSON, or null when there is none. */
  exportable(): ExportableResult | null {
    const point = (lon: number, lat: number, props: Record<string, unknown>): GeoJSON.Feature => ({
      type: "Feature",
      properties: props,
      geometry: { type: "Point", coordinates: [lon, lat] },
    });
    switch (this.last) {
      case "height-limit": {
        const r = this.limitResult;
        if (!r) return null;
        return {
          name: "height-limit",
          columns: ["id", "name", "height_m", "limit_m", "excess_m"],
          rows: r.rows.map((x) => [x.id, x.name, x.height, r.limit, x.excess]),
          geojson: {
            type: "FeatureCollection",
            features: [
              {
                type: "Feature",
                properties: { kind: "limit-area", limit_m: r.limit },
                geometry: { type: "Polygon", coordinates: [[...r.ring, r.ring[0]]] },
              },
              ...r.rows.map((x) =>
                point(x.centre[0], x.centre[1], {
                  id: x.id,
                  name: x.name,
                  height_m: x.height,
                  excess_m: x.excess,
                }),
              ),
            ],
          },
        };
      }
      case "measurements":
        return {
          name: "measurements",
          columns: ["kind", "value", "secondary", "points"],
          rows: this.measurementList.map((m) => [
            m.kind,
            m.value,
            m.secondary ?? null,
            m.points.map((p) => `${p.lon.toFixed(7)} ${p.lat.toFixed(7)} ${p.height.toFixed(2)}`).join(";"),
          ]),
          geojson: {
            type: "FeatureCollection",
            features: this.measurementList.map((m) => ({
              type: "Feature",
              properties: { kind: m.kind, value: m.value, secondary: m.secondary ?? null },
              geometry:
                m.kind === "area"
                  ? {
                      type: "Polygon",
                      coordinates: [[...m.points, m.points[0]].map((p) => [p.lon, p.lat, p.height])],
                    }
                  : { type: "LineString", coordinates: m.points.map((p) => [p.lon, p.lat, p.height]) },
            })),
          },
        };
      case "sunlight": {
        const r = this.sunResult;
        if (!r) return null;
        return {
          name: "sunlight",
          columns: ["date", "time", "sun_elevation_deg", "sun_azimuth_deg", "sunny", "shaded_by"],
          rows: r.slots.map((s) => [
            r.options.date,
            s.time,
            s.elevation,
            s.azimuth,
            s.sunny,
            s.shadedBy ?? null,
          ]),
          geojson: {
            type: "FeatureCollection",
            features: [
              point(r.point.lon, r.point.lat, {
                date: r.options.date,
                from: r.options.fromHour,
                to: r.options.toHour,
                sun_hours: r.sunHours,
              }),
            ],
          },
        };
      }
      case "line-of-sight": {
        const r = this.losResult;
        if (!r) return null;
        return {
          name: "line-of-sight",
          columns: ["visible", "distance_m", "blocked_by"],
          rows: [[r.visible, Math.round(r.distance * 100) / 100, r.blockedBy]],
          geojson: {
            type: "FeatureCollection",
            features: [
              {
                type: "Feature",
                properties: { visible: r.visible, blocked_by: r.blockedBy },
                geometry: {
                  type: "LineString",
                  coordinates: [r.from, r.to].map((p) => [p.lon, p.lat, p.height]),
                },
              },
            ],
          },
        };
      }
      case "viewshed": {
        const r = this.viewshedResult;
        if (!r) return null;
        return {
          name: "viewshed",
          columns: ["cell", "visible"],
          rows: r.cells.map((c, i) => [i, c.visible]),
          geojson: {
            type: "FeatureCollection",
            features: r.cells.map((c) => ({
              type: "Feature",
              properties: { visible: c.visible },
              geometry: { type: "Polygon", coordinates: [[...c.ring, c.ring[0]]] },
            })),
          },
        };
      }
      case "skyline": {
        const r = this.skylineResult;
        if (!r) return null;
        return {
          name: "skyline",
          columns: ["azimuth_deg", "elevation_deg", "building"],
          rows: r.points.map((p) => [p.azimuth, p.elevation, p.building]),
          geojson: {
            type: "FeatureCollection",
            features: r.points
              .filter((p) => p.position)
              .map((p) =>
                point(p.position!.lon, p.position!.lat, {
                  azimuth_deg: p.azimuth,
                  elevation_deg: p.elevation,
                  building: p.building,
                }),
              ),
          },
        };
      }
      default:
        return null;
    }
  }

  // ---- plumbing ----

  /**
   * What the ray-cast analyses (line of sight, viewshed, sunlight, skyline) test against: the white models plus
   * the obstacles of every visible BIM and reality-mesh layer, so a sight line through a BIM scheme or an
   * oblique-photography mesh is blocked too. Each layer is read once; a layer that cannot be read is left out
   * with an error naming it, the others still count.
   */
  async buildings(): Promise<BuildingGeometry[] | null> {
    const layers = this.layers().filter(
      (l) => (l.layer.type === "bim" || l.layer.type === "reality-mesh") && l.show && l.state !== "error",
    );
    // A scene of only a reality mesh (or BIM) is still worth a sight line.
    const white = this.buildingsLayer() || !layers.length ? await this.whiteModels() : [];
    if (!white) return null;
    const failures: string[] = [];
    const read = await Promise.all(
      layers.map(async (l) => {
        try {
          return await this.obstaclesOf(l);
        } catch (err) {
          failures.push(
            t("planning.obstacleLayerFailed", {
              layer: l.layer.name || l.layer.id,
              message: err instanceof Error ? err.message : String(err),
            }),
          );
          return [];
        }
      }),
    );
    if (failures.length) this.fail(failures.join("\n"));
    return read.length ? white.concat(...read) : white;
  }

  private obstaclesOf(layer: MapLayer): Promise<BuildingGeometry[]> {
    const cached = this.obstacleCache.get(layer.layer.id);
    if (cached?.layer === layer) return cached.geometry;
    // Loaded on first use: scenes without BIM or mesh layers never need the reader.
    const geometry = import("./obstacle-geometry.ts").then((m) =>
      m.readObstacleGeometry(tilesetUrl(layer.layer), layer.layer.id),
    );
    this.obstacleCache.set(layer.layer.id, { layer, geometry });
    // Read again next time: the failure may have been the network.
    geometry.catch(() => {
      if (this.obstacleCache.get(layer.layer.id)?.geometry === geometry)
        this.obstacleCache.delete(layer.layer.id);
    });
    return geometry;
  }

  /** Building geometry of the white-model (buildings) layer, read once per layer: height limits use only these. */
  async whiteModels(): Promise<BuildingGeometry[] | null> {
    const layer = this.buildingsLayer();
    if (!layer) {
      this.fail(t("planning.noBuildings"));
      return null;
    }
    if (this.geometry?.layer !== layer) {
      const buildings = readBuildingGeometry(tilesetUrl(layer.layer));
      this.geometry = { layer, buildings };
      buildings.then(
        (b) => {
          this.buildingCount = b.length;
          this.changed();
        },
        () => {
          this.geometry = undefined;
        },
      );
    }
    try {
      return await this.geometry.buildings;
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err));
      return null;
    }
  }

  private async run<T>(mode: PlanningMode, work: () => Promise<T>): Promise<T> {
    this.error = null;
    this.modeValue = mode;
    this.changed();
    // Geometry loads while the user draws.
    if (mode !== "loading") void this.buildings();
    try {
      return await work();
    } finally {
      if (this.modeValue === mode) this.modeValue = "idle";
      this.changed();
    }
  }

  private fail(message: string): void {
    this.error = message;
    this.changed();
  }

  private drawMeasurement(m: Measurement): void {
    const n = this.measurementList.length;
    const positions = m.points.map((p) => Cartesian3.fromDegrees(p.lon, p.lat, p.height + 0.05));
    const closed = m.kind === "area" ? [...positions, positions[0]] : positions;
    let text: string;
    let at = positions[positions.length - 1];
    if (m.kind === "distance")
      text = t("planning.measure.distanceLabel", { space: m.value, ground: m.secondary });
    else if (m.kind === "area") {
      text = t("planning.measure.areaLabel", { area: m.value });
      at = BoundingSphere.fromPoints(positions).center;
    } else if (m.kind === "height")
      text = t("planning.measure.heightLabel", { height: m.value, plan: m.secondary });
    else {
      text = t("planning.measure.angleLabel", { angle: m.value });
      at = positions[1];
    }
    if (m.kind === "height") {
      // The vertical leg and the horizontal leg of the right triangle between the two points.
      const [a, b] = m.points[0].height <= m.points[1].height ? m.points : [m.points[1], m.points[0]];
      const corner = Cartesian3.fromDegrees(a.lon, a.lat, b.height + 0.05);
      this.graphics.entities.add({
        id: `measure-${n}-legs`,
        polyline: {
          positions: [
            Cartesian3.fromDegrees(a.lon, a.lat, a.height + 0.05),
            corner,
            positions[positions.length - 1],
          ],
          width: 2,
          material: new PolylineDashMaterialProperty({ color: MEASURE }),
          depthFailMaterial: new PolylineDashMaterialProperty({ color: MEASURE.withAlpha(0.5) }),
        },
      });
    }
    this.graphics.entities.add({
      id: `measure-${n}-line`,
      polyline: {
        positions: closed,
        width: 2.5,
        material: MEASURE,
        depthFailMaterial: MEASURE.withAlpha(0.5),
      },
      polygon:
        m.kind === "area"
          ? {
              hierarchy: new PolygonHierarchy(positions),
              perPositionHeight: true,
              material: MEASURE.withAlpha(0.25),
            }
          : undefined,
    });
    m.points.forEach((p, i) => {
      this.graphics.entities.add({
        id: `measure-${n}-p${i}`,
        position: Cartesian3.fromDegrees(p.lon, p.lat, p.height + 0.05),
        point: { pixelSize: 7, color: MEASURE, disableDepthTestDistance: Number.POSITIVE_INFINITY },
      });
    });
    this.graphics.entities.add({ id: `measure-${n}-label`, position: at, label: this.label(text) });
  }

  private label(text: string) {
    return {
      text,
      font: '600 14px "Noto Sans CJK SC", "Microsoft YaHei", sans-serif',
      fillColor: Color.WHITE,
      outlineColor: Color.BLACK,
      outlineWidth: 3,
      style: LabelStyle.FILL_AND_OUTLINE,
      showBackground: true,
      backgroundColor: new Color(0.05, 0.08, 0.12, 0.75),
      horizontalOrigin: HorizontalOrigin.CENTER,
      verticalOrigin: VerticalOrigin.BOTTOM,
      pixelOffset: new Cartesian2(0, -10),
      disableDepthTestDistance: Number.POSITIVE_INFINITY,
    };
  }

  private removeViewshedStage(): void {
    this.viewshedStage?.destroy();
    this.viewshedStage = undefined;
  }

  private removeGraphics(prefix: string): void {
    const entities = this.graphics.entities;
    entities.suspendEvents();
    for (const e of [...entities.values]) if (e.id.startsWith(prefix)) entities.remove(e);
    entities.resumeEvents();
    this.viewer.scene.requestRender();
  }

  private changed(): void {
    this.viewer.scene.requestRender();
    for (const l of this.listeners) l();
  }
}
