import {
  BoundingSphere,
  Cartesian3,
  Cesium3DTileColorBlendMode,
  type Cesium3DTileFeature,
  Math as CesiumMath,
  HeadingPitchRange,
  type Viewer,
} from "cesium";
import type { MapLayer } from "../layers.ts";
import { type FeatureProperties, featureProperties, type Selection } from "../selection.ts";
import {
  type BimClassCount,
  type BimElement,
  type BimElementSearchResult,
  type BimStorey,
  fetchClasses,
  fetchStoreys,
  searchElements,
} from "./api.ts";
import { StoreyExplode } from "./explode.ts";
import { featureByGlobalId } from "./features.ts";
import { type Axis, type ClipPlaneState, defaultSection, Section, type SectionState } from "./section.ts";
import { type BimFilter, bimStyle, passesFilter } from "./style.ts";

export const DEFAULT_EXPLODE_GAP = 4;
export const MAX_EXPLODE_GAP = 12;

/** Snapshot of one BIM layer's tools (the test hook reports it). */
export interface BimToolsState {
  layerId: string;
  indexState: "loading" | "ready" | "error";
  storey: string | null;
  hiddenClasses: string[];
  isolatedClass: string | null;
  ghost: boolean;
  focusGlobalId: string | null;
  exploded: boolean;
  explodeGap: number;
  section: SectionState;
  /** Number of clipping planes on the tileset now. */
  clippingPlanes: number;
}

export type IndexState = { kind: "loading" } | { kind: "ready" } | { kind: "error"; message: string };

/**
 * The BIM inspection state of one BIM layer and how it reaches the scene: storey and class filters
 * and "others transparent" through the layer's 3D Tiles style, exploded storeys through a custom
 * shader, the section box and plane through the tileset's clipping planes.
 */
export class BimTools {
  storeys: BimStorey[] = [];
  classes: BimClassCount[] = [];
  index: IndexState = { kind: "loading" };
  private readonly hidden = new Set<string>();
  private filterState: Omit<BimFilter, "hiddenClasses"> = {
    storey: null,
    isolatedClass: null,
    ghost: false,
    focusGlobalId: null,
  };
  private explode: StoreyExplode | undefined;
  private explodeGap = DEFAULT_EXPLODE_GAP;
  private exploded = false;
  private sectionState: SectionState = defaultSection();
  private sectionTool: Section | undefined;
  private planeCount = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly layer: MapLayer,
    private readonly viewer: Viewer,
    private readonly selection: Selection,
  ) {
    selection.onChange(() => this.selectionChanged());
    layer.onChange((change) => {
      if (change === "state") this.attach();
    });
    this.attach();
  }

  get id(): string {
    return this.layer.layer.id;
  }

  get filter(): BimFilter {
    return { ...this.filterState, hiddenClasses: this.hidden };
  }

  get section(): SectionState {
    return this.sectionState;
  }

  get sectionGeometry(): Section | undefined {
    return this.sectionTool;
  }

  get isExploded(): boolean {
    return this.exploded;
  }

  get gap(): number {
    return this.explodeGap;
  }

  state(): BimToolsState {
    return {
      layerId: this.id,
      indexState: this.index.kind,
      storey: this.filterState.storey,
      hiddenClasses: [...this.hidden].sort(),
      isolatedClass: this.filterState.isolatedClass,
      ghost: this.filterState.ghost,
      focusGlobalId: this.filterState.focusGlobalId,
      exploded: this.exploded,
      explodeGap: this.explodeGap,
      section: structuredClone(this.sectionState),
      clippingPlanes: this.planeCount,
    };
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** Reads the storeys and IFC classes of the layer from the element index API. */
  async loadIndex(): Promise<void> {
    this.index = { kind: "loading" };
    this.changed();
    try {
      const [storeys, classes] = await Promise.all([fetchStoreys(this.id), fetchClasses(this.id)]);
      this.storeys = storeys;
      this.classes = classes;
      this.index = { kind: "ready" };
    } catch (err) {
      this.index = { kind: "error", message: err instanceof Error ? err.message : String(err) };
      console.error(`BIM index ${this.id}:`, err);
    }
    this.changed();
  }

  search(q: string, signal?: AbortSignal): Promise<BimElementSearchResult> {
    return searchElements(this.id, q, 50, signal);
  }

  setStorey(storey: string | null): void {
    this.filterState.storey = storey;
    this.filterChanged();
  }

  setClassHidden(ifcClass: string, hidden: boolean): void {
    if (hidden) this.hidden.add(ifcClass);
    else this.hidden.delete(ifcClass);
    this.filterChanged();
  }

  /** Shows only this class (null: every class again). */
  isolate(ifcClass: string | null): void {
    this.filterState.isolatedClass = ifcClass;
    if (ifcClass) this.hidden.delete(ifcClass);
    this.filterChanged();
  }

  showAllClasses(): void {
    this.hidden.clear();
    this.filterState.isolatedClass = null;
    this.filterChanged();
  }

  setGhost(ghost: boolean): void {
    this.filterState.ghost = ghost;
    this.filterChanged();
  }

  setExploded(on: boolean): void {
    this.exploded = on;
    this.applyExplode();
    this.changed();
  }

  setExplodeGap(metres: number): void {
    this.explodeGap = Math.min(MAX_EXPLODE_GAP, Math.max(0, metres));
    if (this.explode) this.explode.gap = this.explodeGap;
    this.viewer.scene.requestRender();
    this.changed();
  }

  setSectionBox(enabled: boolean): void {
    this.sectionState.box.enabled = enabled;
    this.applySection();
  }

  setSectionBoxLimit(axis: Axis, end: "min" | "max", fraction: number): void {
    this.sectionState.box[end][axis] = Math.min(1, Math.max(0, fraction));
    this.applySection();
  }

  setClipPlane(plane: Partial<ClipPlaneState>): void {
    this.sectionState.plane = { ...this.sectionState.plane, ...plane };
    this.applySection();
  }

  resetSection(): void {
    this.sectionState = defaultSection();
    this.applySection();
  }

  /** Flies to a found element and selects it, first clearing any filter that hides it. */
  async flyToElement(element: BimElement): Promise<Cesium3DTileFeature | undefined> {
    const props: FeatureProperties = { Storey: element.storey ?? undefined, IfcClass: element.ifcClass };
    if (!passesFilter(props, this.filter)) {
      if (this.filterState.storey !== null && this.filterState.storey !== element.storey)
        this.filterState.storey = null;
      this.hidden.delete(element.ifcClass);
      if (this.filterState.isolatedClass !== null && this.filterState.isolatedClass !== element.ifcClass)
        this.filterState.isolatedClass = null;
      this.filterChanged();
    }
    if (!this.layer.show) this.layer.show = true;
    await this.flyToBBox(element);
    const feature = await this.findFeature(element.globalId);
    if (feature) this.selection.select(feature);
    return feature;
  }

  /** The storey index (0 = lowest) the ingest gives a storey name, as in `_STOREY_INDEX`. */
  storeyIndex(name: string | null): number {
    if (name === null) return -1;
    return this.storeys.filter((s) => s.name !== null).findIndex((s) => s.name === name);
  }

  private flyToBBox(element: BimElement): Promise<void> {
    const [west, south, east, north, minH, maxH] = element.bbox;
    const lift = this.exploded ? Math.max(0, this.storeyIndex(element.storey)) * this.explodeGap : 0;
    const corners: Cartesian3[] = [];
    for (const lon of [west, east])
      for (const lat of [south, north])
        for (const hgt of [minH, maxH]) corners.push(Cartesian3.fromDegrees(lon, lat, hgt + lift));
    const sphere = BoundingSphere.fromPoints(corners);
    const radius = Math.max(sphere.radius, 1.5);

    // Look at the element from outside the building: from its side of the building's centre.
    const [bw, bs, be, bn] = this.layer.layer.bbox;
    const lat0 = CesiumMath.toRadians((bs + bn) / 2);
    const dx = (((west + east) / 2 - (bw + be) / 2) * Math.cos(lat0) * Math.PI * 6378137) / 180;
    const dy = (((south + north) / 2 - (bs + bn) / 2) * Math.PI * 6378137) / 180;
    const heading = Math.hypot(dx, dy) > 2 ? Math.atan2(-dx, -dy) : this.viewer.camera.heading;

    return new Promise((resolve) => {
      this.viewer.camera.flyToBoundingSphere(sphere, {
        offset: new HeadingPitchRange(heading, CesiumMath.toRadians(-25), Math.max(radius * 5, 22)),
        duration: 1.2,
        complete: () => {
          this.viewer.scene.requestRender();
          resolve();
        },
        cancel: () => resolve(),
      });
      this.viewer.scene.requestRender();
    });
  }

  /** The feature of a GlobalId, waiting (a little) for its tile to load after a flight. */
  private async findFeature(globalId: string): Promise<Cesium3DTileFeature | undefined> {
    const tileset = this.layer.tileset;
    if (!tileset) return undefined;
    const deadline = performance.now() + 15_000;
    for (;;) {
      const found = featureByGlobalId(tileset, globalId);
      if (found || performance.now() > deadline) return found;
      this.viewer.scene.requestRender();
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  private attach(): void {
    const tileset = this.layer.tileset;
    if (this.layer.state !== "ready" || !tileset) return;
    // BIM materials are coloured (brown doors, blue glass): multiplying them by the yellow
    // highlight would barely show, so feature colours are mixed in instead. White, the style's
    // colour for every unselected element, leaves the material as it is in MIX mode.
    tileset.colorBlendMode = Cesium3DTileColorBlendMode.MIX;
    tileset.colorBlendAmount = 0.85;
    this.layer.setStyleBuilder((opacity) => bimStyle(this.filter, opacity));
    this.sectionTool = new Section(tileset, this.layer.layer.bbox);
    this.applyExplode();
    this.applySection();
  }

  private filterChanged(): void {
    const current = this.selection.current;
    if (
      current &&
      current.tileset === this.layer.tileset &&
      !passesFilter(featureProperties(current), this.filter)
    )
      this.selection.clear();
    this.layer.restyle();
    this.changed();
  }

  private selectionChanged(): void {
    const current = this.selection.current;
    const focus =
      current && current.tileset === this.layer.tileset
        ? String(current.getProperty("GlobalId") ?? "")
        : null;
    if (focus === this.filterState.focusGlobalId) return;
    this.filterState.focusGlobalId = focus || null;
    // The focus only changes the drawing in "others transparent" mode.
    if (this.filterState.ghost) this.layer.restyle();
    this.changed();
  }

  private applyExplode(): void {
    const tileset = this.layer.tileset;
    if (!tileset) return;
    if (this.exploded) {
      this.explode ??= new StoreyExplode(this.explodeGap);
      this.explode.gap = this.explodeGap;
      tileset.customShader = this.explode.shader;
    } else {
      tileset.customShader = undefined;
    }
    this.viewer.scene.requestRender();
  }

  private applySection(): void {
    if (this.sectionTool) this.planeCount = this.sectionTool.apply(this.sectionState);
    this.viewer.scene.requestRender();
    this.changed();
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
