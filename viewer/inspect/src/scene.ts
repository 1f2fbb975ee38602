import { TilesRenderer } from "3d-tiles-renderer";
import { GLTFExtensionsPlugin } from "3d-tiles-renderer/plugins";
import {
  AmbientLight,
  Box3,
  Color,
  DirectionalLight,
  GridHelper,
  type Intersection,
  Matrix4,
  type Object3D,
  PerspectiveCamera,
  Raycaster,
  Scene,
  Sphere,
  Vector2,
  Vector3,
  WebGLRenderer,
} from "three";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";

const BACKGROUND = "#e4e7eb";
/** Where the first view looks from: south-east of the building and above it (x east, y up, z south). */
const VIEW_DIRECTION = new Vector3(0.62, 0.5, 0.6).normalize();

export interface InspectSceneOptions {
  /** CSS pixels along each edge of the canvas covered by UI: the model is framed in the rest. */
  insets(): { top: number; right: number; bottom: number };
}

/**
 * three.js scene streaming one 3D Tiles tileset with 3d-tiles-renderer. The tileset is moved from
 * ECEF into a local east-north-up frame (three's y up, x east, -z north) so that the model stands on
 * the origin, on a ground grid, under an orbiting camera. Renders only when something changed.
 */
export class InspectScene {
  readonly renderer: WebGLRenderer;
  readonly scene = new Scene();
  readonly camera = new PerspectiveCamera(40, 1, 0.1, 10_000);
  readonly controls: OrbitControls;
  readonly tiles: TilesRenderer;
  /** The model's extent in scene coordinates, once the root tileset is known. */
  modelBox: Box3 | undefined;
  loadError: string | undefined;

  private readonly tileScenes = new Set<Object3D>();
  private readonly listeners = { render: new Set<() => void>(), dispose: new Set<(o: Object3D) => void>() };
  private readonly grid = new GridHelper(1, 1);
  private dirty = true;
  private modelsLoaded = 0;
  /** Render count when the last tile finished loading; a render after it shows the loaded state. */
  private renders = 0;
  private lastLoadRender = -1;
  private rootReady: () => void = () => {};
  /** Resolves when the root tileset is placed and the camera framed on it. */
  readonly rootLoaded = new Promise<void>((resolve) => {
    this.rootReady = resolve;
  });

  constructor(
    private readonly container: HTMLElement,
    tilesetUrl: string,
    private readonly options: InspectSceneOptions,
  ) {
    this.renderer = new WebGLRenderer({ antialias: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
    container.append(this.renderer.domElement);
    this.scene.background = new Color(BACKGROUND);

    this.scene.add(new AmbientLight("#ffffff", 1.1));
    const sun = new DirectionalLight("#ffffff", 2.2);
    sun.position.set(0.5, 1, 0.35); // from the south-east, high
    this.scene.add(sun);
    const fill = new DirectionalLight("#dfe8ff", 0.6);
    fill.position.set(-0.6, 0.4, -0.5);
    this.scene.add(fill);
    this.grid.visible = false;
    this.scene.add(this.grid);

    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.screenSpacePanning = true;
    this.controls.maxPolarAngle = Math.PI * 0.495; // stay above the ground
    this.controls.addEventListener("change", () => this.invalidate());

    this.tiles = new TilesRenderer(tilesetUrl);
    // EXT_mesh_features + EXT_structural_metadata (and CESIUM_RTC) on the GLTFLoader the tiles use.
    this.tiles.registerPlugin(new GLTFExtensionsPlugin({ metadata: true, rtc: true }));
    this.tiles.errorTarget = 8; // finer than the default 16 px: this view is for close-ups
    this.tiles.setCamera(this.camera);
    this.scene.add(this.tiles.group);
    this.tiles.addEventListener("load-root-tileset", () => {
      this.placeInLocalFrame();
      this.rootReady();
    });
    this.tiles.addEventListener("load-model", ({ scene }) => {
      this.tileScenes.add(scene);
      this.modelsLoaded++;
      this.lastLoadRender = this.renders;
      this.invalidate();
    });
    this.tiles.addEventListener("dispose-model", ({ scene }) => {
      this.tileScenes.delete(scene);
      for (const l of this.listeners.dispose) l(scene);
      this.invalidate();
    });
    this.tiles.addEventListener("load-error", ({ error, url }) => {
      console.error("tile load failed:", String(url), error);
      this.loadError = error instanceof Error ? error.message : String(error);
      this.invalidate();
    });
    for (const event of ["needs-update", "tile-visibility-change", "tiles-load-end"] as const)
      this.tiles.addEventListener(event, () => this.invalidate());

    new ResizeObserver(() => this.resize()).observe(container);
    this.resize();
    this.loop();
  }

  invalidate(): void {
    this.dirty = true;
  }

  onRender(listener: () => void): void {
    this.listeners.render.add(listener);
  }

  /** A loaded tile's content went away (anything referring to its meshes must let go). */
  onTileDisposed(listener: (tileScene: Object3D) => void): void {
    this.listeners.dispose.add(listener);
  }

  /** Root tileset placed, at least one tile drawn, nothing queued, and the last load rendered. */
  tilesLoaded(): boolean {
    return (
      this.tiles.root !== null &&
      this.modelsLoaded > 0 &&
      this.tiles.loadProgress >= 1 &&
      !this.dirty &&
      this.renders > this.lastLoadRender
    );
  }

  /** The glTF scene of a loaded tile that contains `object`. */
  tileSceneOf(object: Object3D): Object3D | undefined {
    for (let o: Object3D | null = object; o; o = o.parent) if (this.tileScenes.has(o)) return o;
    return undefined;
  }

  /** Nearest tile surface under a canvas point (CSS pixels relative to the canvas). */
  raycast(x: number, y: number): Intersection | undefined {
    const rect = this.renderer.domElement.getBoundingClientRect();
    const ndc = new Vector2((x / rect.width) * 2 - 1, -(y / rect.height) * 2 + 1);
    const raycaster = new Raycaster();
    raycaster.setFromCamera(ndc, this.camera);
    return raycaster.intersectObject(this.tiles.group, true)[0];
  }

  /** Looks at the whole model from the south-east, fitting it into the canvas area not covered by UI. */
  resetView(): void {
    const box = this.modelBox;
    if (!box) return;
    const center = box.getCenter(new Vector3());
    const { width, height } = this.viewportSize();
    const tanV = Math.tan((this.camera.fov * Math.PI) / 360);
    const focal = height / 2 / tanV;
    const insets = this.options.insets();
    const freeWidth = Math.max(1, width - this.rightInsetPx());
    const freeHeight = Math.max(1, height - insets.top - insets.bottom);
    const tanX = (freeWidth / 2 / focal) * 0.86;
    const tanY = (freeHeight / 2 / focal) * 0.86;
    // Camera basis when looking at `center` along -VIEW_DIRECTION.
    const back = VIEW_DIRECTION;
    const right = new Vector3(0, 1, 0).cross(back).normalize();
    const up = back.clone().cross(right);
    let distance = 0;
    const corner = new Vector3();
    for (let i = 0; i < 8; i++) {
      corner
        .set(i & 1 ? box.max.x : box.min.x, i & 2 ? box.max.y : box.min.y, i & 4 ? box.max.z : box.min.z)
        .sub(center);
      const towardCamera = corner.dot(back);
      distance = Math.max(
        distance,
        Math.abs(corner.dot(right)) / tanX + towardCamera,
        Math.abs(corner.dot(up)) / tanY + towardCamera,
      );
    }
    // The free area sits between the top bar and the status bar: shift the aim so the model sits in its middle.
    const lift = ((insets.top - insets.bottom) / 2 / focal) * distance;
    this.controls.target.copy(center).addScaledVector(up, lift);
    this.camera.position.copy(this.controls.target).addScaledVector(back, distance);
    const radius = box.getSize(new Vector3()).length();
    this.camera.near = Math.max(0.05, distance / 200);
    this.camera.far = distance + radius * 50;
    this.camera.updateProjectionMatrix();
    this.controls.maxDistance = distance * 6;
    this.controls.update();
    this.invalidate();
  }

  /**
   * Undoes the tileset's georeference: the inverse of the east-north-up frame at the tileset's centre
   * (tile transforms and glTF y-up are applied by the renderer below this group), then turns ENU's
   * z-up into three's y-up and stands the model's footprint centre on the origin.
   */
  private placeInLocalFrame(): void {
    const { tiles } = this;
    const sphere = new Sphere();
    tiles.getBoundingSphere(sphere);
    const zUpToYUp = new Matrix4().makeRotationX(-Math.PI / 2);
    const toLocal = new Matrix4();
    const minRadius = Math.min(tiles.ellipsoid.radius.x, tiles.ellipsoid.radius.y, tiles.ellipsoid.radius.z);
    if (sphere.center.length() > minRadius * 0.5) {
      const c = tiles.ellipsoid.getPositionToCartographic(sphere.center, { lat: 0, lon: 0, height: 0 });
      const enu = tiles.ellipsoid.getEastNorthUpFrame(c.lat, c.lon, c.height, new Matrix4());
      toLocal.copy(zUpToYUp).multiply(enu.invert());
    } else {
      // Not on the globe: a local model, assumed z-up as 3D Tiles are.
      toLocal.copy(zUpToYUp).multiply(new Matrix4().makeTranslation(sphere.center.clone().negate()));
    }

    const box = new Box3();
    const obb = new Box3();
    const obbMatrix = new Matrix4();
    if (tiles.getOrientedBoundingBox(obb, obbMatrix)) {
      const m = toLocal.clone().multiply(obbMatrix);
      for (let i = 0; i < 8; i++) {
        box.expandByPoint(
          new Vector3(
            i & 1 ? obb.max.x : obb.min.x,
            i & 2 ? obb.max.y : obb.min.y,
            i & 4 ? obb.max.z : obb.min.z,
          ).applyMatrix4(m),
        );
      }
    } else {
      box.setFromCenterAndSize(new Vector3(), new Vector3(2, 2, 2).multiplyScalar(sphere.radius));
    }
    const foot = new Vector3((box.min.x + box.max.x) / 2, box.min.y, (box.min.z + box.max.z) / 2);
    box.translate(foot.clone().negate());
    const placed = new Matrix4().makeTranslation(foot.negate()).multiply(toLocal);
    const group = tiles.group;
    placed.decompose(group.position, group.quaternion, group.scale);
    group.updateMatrixWorld(true);
    this.modelBox = box;

    const size = box.getSize(new Vector3());
    const extent = Math.max(size.x, size.z);
    const cell = 10 ** Math.floor(Math.log10(Math.max(extent, 1) / 2));
    const gridSize = Math.ceil((extent * 2.5) / cell) * cell;
    this.scene.remove(this.grid);
    const grid = new GridHelper(gridSize, Math.round(gridSize / cell), "#9aa3ae", "#c3c9d1");
    grid.position.y = -0.02;
    this.scene.add(grid);
    this.resetView();
  }

  private rightInsetPx(): number {
    const { width } = this.viewportSize();
    const inset = this.options.insets().right;
    // Only worth it when the canvas is wide enough to keep most of its width.
    return inset > 0 && inset < width * 0.5 ? inset : 0;
  }

  private viewportSize(): { width: number; height: number } {
    return {
      width: Math.max(1, this.container.clientWidth),
      height: Math.max(1, this.container.clientHeight),
    };
  }

  private resize(): void {
    const { width, height } = this.viewportSize();
    this.renderer.setSize(width, height);
    // Shift the principal point to the middle of the area left of the panel: a view offset of a
    // wider virtual image, so picking (which unprojects through the same matrix) stays exact.
    const inset = this.rightInsetPx();
    this.camera.aspect = (width + inset) / height;
    if (inset > 0) this.camera.setViewOffset(width + inset, height, inset, 0, width, height);
    else this.camera.clearViewOffset();
    this.camera.updateProjectionMatrix();
    this.tiles.setResolutionFromRenderer(this.camera, this.renderer);
    this.invalidate();
  }

  private loop = (): void => {
    requestAnimationFrame(this.loop);
    this.camera.updateMatrixWorld();
    this.tiles.update();
    if (!this.dirty) return;
    this.dirty = false;
    this.renderer.render(this.scene, this.camera);
    this.renders++;
    for (const l of this.listeners.render) l();
  };
}
