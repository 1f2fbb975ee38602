import {
  BillboardCollection,
  BoundingSphere,
  type Cartesian2,
  type Cartesian3,
  Color,
  HeadingPitchRange,
  HorizontalOrigin,
  Material,
  PolylineCollection,
  SceneTransforms,
  ScreenSpaceEventHandler,
  ScreenSpaceEventType,
  VerticalOrigin,
  type Viewer,
} from "cesium";
import type { Camera } from "../../../models/cameras.ts";
import { pickObject } from "../scene-pick.ts";
import { fetchCameras } from "./api.ts";
import { cameraIcon, STATUS_COLORS } from "./camera-icon.ts";
import type { CameraPopups } from "./camera-popup.ts";
import { frustumCorners, groundFootprint, position } from "./camera-pose.ts";

/** Which frustums are drawn: every camera's, or only the hovered and the open camera's. */
export type FrustumMode = "all" | "focus";

export interface CameraLayerState {
  show: boolean;
  count: number;
  frustumMode: FrustumMode;
  /** Ids of the cameras whose frustum is drawn now. */
  frustums: string[];
  hovered: string | null;
  /** Camera whose popup is open. */
  open: string | null;
  /** Camera whose video is projected onto the scene, and how many of its frames reached the GPU. */
  projection: { cameraId: string; active: boolean; frames: number } | null;
  error: string | null;
}

/** How often the registry is read again (cameras are added and change status while the page is open). */
const REFRESH_MS = 30_000;
/** Hover picking is throttled: picking renders the scene again, costly without a GPU. */
const HOVER_PICK_MS = 120;

/**
 * The cameras layer: a status-coloured icon at each registered camera, its view frustum as a wireframe
 * pyramid out to its range, and a click on an icon opening the camera's video popup.
 */
export class CameraLayer {
  private cameras: Camera[] = [];
  private readonly icons = new BillboardCollection();
  private readonly frustums = new PolylineCollection();
  private showNow = true;
  private mode: FrustumMode = "focus";
  private hoveredId: string | null = null;
  private errorText: string | null = null;
  private readonly listeners = new Set<() => void>();

  /** `isBusy`: true while another tool owns clicks (drawing a polygon or line), when icons are not opened. */
  constructor(
    private readonly viewer: Viewer,
    private readonly popups: CameraPopups,
    isBusy: () => boolean = () => false,
  ) {
    viewer.scene.primitives.add(this.frustums);
    viewer.scene.primitives.add(this.icons);
    popups.onChange(() => this.drawFrustums());

    const handler = new ScreenSpaceEventHandler(viewer.scene.canvas);
    handler.setInputAction((click: { position: Cartesian2 }) => {
      if (isBusy()) return;
      const camera = this.cameraAt(click.position);
      if (camera) popups.open(camera);
    }, ScreenSpaceEventType.LEFT_CLICK);
    let lastPick = 0;
    handler.setInputAction((move: { endPosition: Cartesian2 }) => {
      if (!this.showNow || this.cameras.length === 0 || performance.now() - lastPick < HOVER_PICK_MS) return;
      lastPick = performance.now();
      const id = this.cameraAt(move.endPosition)?.id ?? null;
      viewer.scene.canvas.style.cursor = id ? "pointer" : "";
      if (id !== this.hoveredId) {
        this.hoveredId = id;
        this.drawFrustums();
      }
    }, ScreenSpaceEventType.MOUSE_MOVE);
    window.setInterval(() => void this.load(), REFRESH_MS);
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
    this.viewer.scene.requestRender();
  }

  /** Reads the camera registry and redraws; a failure keeps the cameras already shown. */
  async load(): Promise<void> {
    try {
      this.cameras = await fetchCameras();
      this.errorText = null;
    } catch (err) {
      this.errorText = err instanceof Error ? err.message : String(err);
    }
    this.drawIcons();
    this.drawFrustums();
  }

  get list(): readonly Camera[] {
    return this.cameras;
  }

  get show(): boolean {
    return this.showNow;
  }

  set show(on: boolean) {
    this.showNow = on;
    this.icons.show = on;
    this.frustums.show = on;
    this.changed();
  }

  get frustumMode(): FrustumMode {
    return this.mode;
  }

  set frustumMode(mode: FrustumMode) {
    this.mode = mode;
    this.drawFrustums();
  }

  /**
   * Flies the view straight above the ground a camera watches (north up), with its surroundings in view;
   * resolves when the flight ends.
   */
  frame(id: string, duration = 0): Promise<boolean> {
    const camera = this.cameras.find((c) => c.id === id);
    if (!camera) return Promise.resolve(false);
    const sphere = BoundingSphere.fromPoints(groundFootprint(camera));
    const frustum = this.viewer.camera.frustum as { fov?: number; aspectRatio?: number };
    // Cesium's fov spans the wider side of the canvas: the narrower half-angle decides what fits.
    const fov = frustum.fov ?? Math.PI / 3;
    const aspect = frustum.aspectRatio ?? 1;
    const halfNarrow = aspect >= 1 ? Math.atan(Math.tan(fov / 2) / aspect) : fov / 2;
    return new Promise((resolve) => {
      this.viewer.camera.flyToBoundingSphere(sphere, {
        offset: new HeadingPitchRange(
          0,
          -Math.PI / 2 + 0.001,
          (FRAME_MARGIN * sphere.radius) / Math.sin(halfNarrow),
        ),
        duration,
        complete: () => resolve(true),
        cancel: () => resolve(false),
      });
    });
  }

  /** The registered camera whose icon is drawn at a canvas position, if any. */
  cameraAt(canvasPosition: Cartesian2): Camera | undefined {
    if (!this.showNow) return undefined;
    const picked = pickObject(this.viewer.scene, canvasPosition) as
      | { collection?: unknown; id?: unknown }
      | undefined;
    if (picked?.collection !== this.icons) return undefined;
    return this.cameras.find((c) => c.id === picked.id);
  }

  /** Viewport (CSS pixel) position of a camera's icon, or null when it is not drawn on the canvas. */
  iconOnScreen(id: string): { x: number; y: number } | null {
    const camera = this.cameras.find((c) => c.id === id);
    if (!camera || !this.showNow) return null;
    const canvas = this.viewer.scene.canvas;
    const p = SceneTransforms.worldToWindowCoordinates(this.viewer.scene, position(camera));
    const rect = canvas.getBoundingClientRect();
    if (!p || p.x < 0 || p.y < 0 || p.x > rect.width || p.y > rect.height) return null;
    // The icon is anchored at its bottom centre on the camera: its middle is half an icon above.
    return { x: rect.left + p.x, y: rect.top + p.y - ICON_SIZE / 2 };
  }

  state(): CameraLayerState {
    const projection = this.popups.projection;
    return {
      show: this.showNow,
      count: this.cameras.length,
      frustumMode: this.mode,
      frustums: this.frustumIds(),
      hovered: this.hoveredId,
      open: this.popups.camera?.id ?? null,
      projection: projection
        ? { cameraId: projection.cameraId, active: projection.active, frames: projection.framesUploaded }
        : null,
      error: this.errorText,
    };
  }

  private drawIcons(): void {
    this.icons.removeAll();
    for (const camera of this.cameras) {
      this.icons.add({
        id: camera.id,
        position: position(camera),
        image: cameraIcon(camera.status),
        width: ICON_SIZE,
        height: ICON_SIZE,
        verticalOrigin: VerticalOrigin.BOTTOM,
        horizontalOrigin: HorizontalOrigin.CENTER,
        // Always on top: a camera on a wall must stay clickable from any side.
        disableDepthTestDistance: Number.POSITIVE_INFINITY,
      });
    }
    this.changed();
  }

  private frustumIds(): string[] {
    if (this.mode === "all") return this.cameras.map((c) => c.id);
    const ids = new Set([this.hoveredId, this.popups.camera?.id]);
    return this.cameras.filter((c) => ids.has(c.id)).map((c) => c.id);
  }

  private drawFrustums(): void {
    this.frustums.removeAll();
    const ids = new Set(this.frustumIds());
    for (const camera of this.cameras) {
      if (!ids.has(camera.id)) continue;
      const color = Color.fromCssColorString(STATUS_COLORS[camera.status]);
      // One material per polyline: a polyline destroys its material when removed, so sharing one would
      // destroy it twice on the next redraw.
      const line = (positions: Cartesian3[]) =>
        this.frustums.add({
          positions,
          width: 2,
          material: Material.fromType("Color", { color }),
          id: camera.id,
        });
      const { apex, corners } = frustumCorners(camera);
      // Four edges from the lens and the far rectangle.
      for (const corner of corners) line([apex, corner]);
      line([...corners, corners[0]]);
    }
    this.changed();
  }
}

const ICON_SIZE = 32;
/** Framing a camera's ground shows as much again around it: where it stands, what is next to it. */
const FRAME_MARGIN = 1.6;
