import {
  BoundingSphere,
  Cartesian3,
  Cesium3DTileColorBlendMode,
  type Cesium3DTileFeature,
  Math as CesiumMath,
  HeadingPitchRange,
  type Viewer,
} from "cesium";
import { loadedFeatures } from "../bim/features.ts";
import type { MapLayer } from "../layers.ts";
import type { Selection } from "../selection.ts";
import {
  fetchIsolation,
  fetchNetwork,
  fetchTrace,
  type PipeIsolationResult,
  type PipeNetwork,
  type PipeTraceResult,
} from "./api.ts";
import { PipeFlow } from "./flow.ts";
import { type PipeStyleState, pipesStyle, type ResultRole } from "./style.ts";

export const DEFAULT_GROUND_ALPHA = 0.35;

/** The pipe feature the analyses start from. */
export interface PipeTarget {
  id: string;
  feature: "link" | "node";
  pipeClass: string;
}

export type PipeAnalysis =
  | { kind: "idle" }
  | { kind: "running"; op: "up" | "down" | "isolate"; target: PipeTarget }
  | { kind: "trace"; result: PipeTraceResult }
  | { kind: "isolate"; result: PipeIsolationResult }
  | { kind: "error"; message: string };

/** Snapshot for the test hook. */
export interface PipeToolsState {
  layerId: string;
  underground: boolean;
  groundAlpha: number;
  collisionDetection: boolean;
  translucency: boolean;
  hiddenClasses: string[];
  flow: boolean;
  target: PipeTarget | null;
  analysis: PipeAnalysis["kind"];
  highlight: Partial<Record<ResultRole, string[]>>;
}

/**
 * The pipeline engineer's tools for one pipes layer: underground mode (translucent globe, camera
 * allowed below the surface), class visibility, network analyses painted through the layer style,
 * and the flow animation shader.
 */
export class PipeTools {
  private readonly hidden = new Set<string>();
  private under = false;
  private alpha = DEFAULT_GROUND_ALPHA;
  private targetState: PipeTarget | null = null;
  private analysisState: PipeAnalysis = { kind: "idle" };
  private highlight: PipeStyleState["highlight"] = {};
  private flow: PipeFlow | undefined;
  private network: Promise<PipeNetwork> | undefined;
  private abort: AbortController | undefined;
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
  get underground(): boolean {
    return this.under;
  }
  get groundAlpha(): number {
    return this.alpha;
  }
  get hiddenClasses(): ReadonlySet<string> {
    return this.hidden;
  }
  get target(): PipeTarget | null {
    return this.targetState;
  }
  get analysis(): PipeAnalysis {
    return this.analysisState;
  }
  get flowOn(): boolean {
    return this.flow?.running ?? false;
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  state(): PipeToolsState {
    const scene = this.viewer.scene;
    return {
      layerId: this.id,
      underground: this.under,
      groundAlpha: this.alpha,
      collisionDetection: scene.screenSpaceCameraController.enableCollisionDetection,
      translucency: scene.globe.translucency.enabled,
      hiddenClasses: [...this.hidden].sort(),
      flow: this.flowOn,
      target: this.targetState ? { ...this.targetState } : null,
      analysis: this.analysisState.kind,
      highlight: Object.fromEntries(Object.entries(this.highlight).map(([k, v]) => [k, [...(v ?? [])]])),
    };
  }

  /** See-through ground and a camera that may go below the surface. */
  setUnderground(on: boolean): void {
    this.under = on;
    this.applyGround();
    this.changed();
  }

  setGroundAlpha(alpha: number): void {
    this.alpha = Math.min(1, Math.max(0, alpha));
    this.applyGround();
    this.changed();
  }

  setClassHidden(pipeClass: string, hidden: boolean): void {
    if (hidden) this.hidden.add(pipeClass);
    else this.hidden.delete(pipeClass);
    const current = this.selection.current;
    if (
      hidden &&
      current &&
      current.tileset === this.layer.tileset &&
      current.getProperty("pipeClass") === pipeClass
    )
      this.selection.clear();
    this.layer.restyle();
    this.changed();
  }

  setFlow(on: boolean): void {
    const tileset = this.layer.tileset;
    if (on) this.flow ??= new PipeFlow(this.viewer);
    this.flow?.run(on);
    if (tileset) tileset.customShader = on ? this.flow?.shader : undefined;
    this.viewer.scene.requestRender();
    this.changed();
  }

  async trace(direction: "up" | "down"): Promise<void> {
    const target = this.targetState;
    if (!target) return;
    await this.run({ kind: "running", op: direction, target }, async (signal) => {
      const result = await fetchTrace(this.id, target.id, target.feature, direction, signal);
      this.analysisState = { kind: "trace", result };
      this.highlight = { traced: [...result.links, ...result.nodes] };
    });
  }

  async isolate(): Promise<void> {
    const target = this.targetState;
    if (!target || target.feature !== "link") return;
    await this.run({ kind: "running", op: "isolate", target }, async (signal) => {
      const result = await fetchIsolation(this.id, target.id, signal);
      this.analysisState = { kind: "isolate", result };
      this.highlight = {
        valve: result.valves,
        customer: result.affected.customers,
        isolated: [...result.isolatedLinks, ...result.isolatedNodes],
      };
    });
  }

  clearResults(): void {
    this.abort?.abort();
    this.analysisState = { kind: "idle" };
    this.highlight = {};
    this.layer.restyle();
    this.changed();
  }

  /** Network topology with positions and elevations (network.json), read once. */
  loadNetwork(): Promise<PipeNetwork> {
    this.network ??= fetchNetwork(this.layer.layer).catch((err: unknown) => {
      this.network = undefined;
      throw err;
    });
    return this.network;
  }

  /** Flies close to a node or link of the network, looking down at it at an angle. */
  async flyToFeature(id: string): Promise<boolean> {
    const net = await this.loadNetwork();
    const points: Cartesian3[] = [];
    const node = net.nodes.get(id);
    const link = net.links.get(id);
    if (node) points.push(Cartesian3.fromDegrees(node.lon, node.lat, node.invertElevation ?? 0));
    else if (link) for (const [lon, lat, z] of link.path) points.push(Cartesian3.fromDegrees(lon, lat, z));
    if (!points.length) return false;
    const sphere = BoundingSphere.fromPoints(points);
    const range = Math.max(25, Math.min(sphere.radius * 3, 120));
    return new Promise((resolve) => {
      this.viewer.camera.flyToBoundingSphere(sphere, {
        offset: new HeadingPitchRange(this.viewer.camera.heading, CesiumMath.toRadians(-50), range),
        duration: 1.0,
        complete: () => {
          this.viewer.scene.requestRender();
          resolve(true);
        },
        cancel: () => resolve(false),
      });
      this.viewer.scene.requestRender();
    });
  }

  /** The loaded tile feature with this id (nodes and links share the id space per class). */
  featureById(id: string): Cesium3DTileFeature | undefined {
    const tileset = this.layer.tileset;
    if (!tileset) return undefined;
    for (const f of loadedFeatures(tileset)) if (f.getProperty("id") === id) return f;
    return undefined;
  }

  private async run(running: PipeAnalysis, work: (signal: AbortSignal) => Promise<void>): Promise<void> {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.analysisState = running;
    this.highlight = {};
    this.layer.restyle();
    this.changed();
    try {
      await work(abort.signal);
    } catch (err) {
      if (abort.signal.aborted) return;
      this.analysisState = { kind: "error", message: err instanceof Error ? err.message : String(err) };
      this.highlight = {};
    }
    if (abort.signal.aborted) return;
    this.layer.restyle();
    this.changed();
  }

  private applyGround(): void {
    const scene = this.viewer.scene;
    const translucency = scene.globe.translucency;
    translucency.enabled = this.under;
    translucency.frontFaceAlpha = this.alpha;
    translucency.backFaceAlpha = this.alpha;
    scene.screenSpaceCameraController.enableCollisionDetection = !this.under;
    scene.requestRender();
  }

  private attach(): void {
    const tileset = this.layer.tileset;
    if (this.layer.state !== "ready" || !tileset) return;
    // Feature colours are mixed into the class colours: result colours read clearly on any pipe.
    tileset.colorBlendMode = Cesium3DTileColorBlendMode.MIX;
    tileset.colorBlendAmount = 0.95;
    this.layer.setStyleBuilder((opacity) =>
      pipesStyle({ hiddenClasses: this.hidden, highlight: this.highlight }, opacity),
    );
    if (this.flowOn) tileset.customShader = this.flow?.shader;
  }

  private selectionChanged(): void {
    const f = this.selection.current;
    let next: PipeTarget | null = null;
    if (f && f.tileset === this.layer.tileset) {
      const id = f.getProperty("id");
      const feature = f.getProperty("feature");
      if (typeof id === "string" && id)
        next = {
          id,
          feature: feature === "node" ? "node" : "link",
          pipeClass: String(f.getProperty("pipeClass") ?? ""),
        };
    }
    const same = next?.id === this.targetState?.id && next?.feature === this.targetState?.feature;
    if (same) return;
    this.targetState = next;
    this.changed();
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
