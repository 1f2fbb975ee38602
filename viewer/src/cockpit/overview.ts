import { HeatmapLayer, HexagonLayer } from "@deck.gl/aggregation-layers";
import { Deck, WebMercatorViewport } from "@deck.gl/core";
import { PathLayer, PolygonLayer } from "@deck.gl/layers";
import { type Alarm, levelSeverity } from "../../../models/alarms.ts";
import type { Device } from "../../../models/devices.ts";
import type { Layer } from "../../../models/layer.ts";
import { tilesetUrl } from "../catalog.ts";

interface NetworkLink {
  path: [number, number, number][];
  pipeClass?: string;
}

/** A hexagon cell as deck.gl reports it when picked. */
interface HexCell {
  count: number;
  /** The devices in the cell (deck.gl lists them when the data is an array). */
  points?: Device[];
}

/** Hexagon size (m): a few city blocks of the demo district per cell. */
const HEX_RADIUS = 120;

/**
 * 城市总览: a flat deck.gl map of the district with no base map (the network is offline): the pipe network as
 * the street skeleton, the layers' extents, sensor density in hexagons and the alarms as a heat map.
 * Clicking a hexagon calls `onCellClick` with its centre (the 3D scene flies there).
 */
export class Overview {
  private deck: Deck | undefined;
  private devices: Device[] = [];
  private alarms: Alarm[] = [];
  private network: NetworkLink[] = [];
  private extents: Layer[] = [];
  onCellClick: (lon: number, lat: number, count: number) => void = () => {};

  constructor(private readonly container: HTMLDivElement) {}

  /** The district's extent frames the map; call once the catalog is read. */
  async setCatalog(layers: Layer[]): Promise<void> {
    this.extents = layers.filter((l) => l.type === "buildings" || l.type === "bim");
    const bbox = unionBbox(layers);
    if (!bbox) return;
    const width = this.container.clientWidth || 400;
    const height = this.container.clientHeight || 220;
    const fitted = new WebMercatorViewport({ width, height }).fitBounds(
      [
        [bbox[0], bbox[1]],
        [bbox[2], bbox[3]],
      ],
      { padding: 12 },
    );
    this.deck = new Deck({
      parent: this.container,
      width: "100%",
      height: "100%",
      initialViewState: {
        longitude: fitted.longitude,
        latitude: fitted.latitude,
        zoom: fitted.zoom,
        pitch: 0,
        bearing: 0,
      },
      controller: { dragRotate: false, touchRotate: false },
      // No base map to keep sharp; spare a software-rendered GPU the extra pixels.
      useDevicePixels: false,
      getCursor: ({ isHovering }) => (isHovering ? "pointer" : "grab"),
      layers: [],
    });
    // Clicks are picked here rather than through deck.gl's onClick, whose gesture recognizer never reported a tap
    // on this canvas inside the CSS-scaled stage; the pick itself is deck.gl's.
    this.container.addEventListener("click", (event) => this.clicked(event));
    const pipes = layers.filter((l) => l.type === "pipes");
    const networks = await Promise.all(
      pipes.map((l) =>
        fetch(new URL("network.json", tilesetUrl(l)))
          .then((r) => (r.ok ? (r.json() as Promise<{ links?: NetworkLink[] }>) : { links: [] }))
          .then((n) => n.links ?? [])
          .catch(() => [] as NetworkLink[]),
      ),
    );
    this.network = networks.flat();
    this.update();
  }

  setDevices(devices: Device[]): void {
    this.devices = devices;
    this.update();
  }

  setAlarms(alarms: Alarm[]): void {
    this.alarms = alarms;
    this.update();
  }

  /** Hexagons drawn and devices in them (for the test hook). */
  get deviceCount(): number {
    return this.devices.length;
  }

  get alarmCount(): number {
    return this.alarms.length;
  }

  /** Screen point of a geographic position inside the overview's canvas (CSS pixels of the stage), or null. */
  project(lon: number, lat: number): [number, number] | null {
    const viewport = this.deck?.getViewports()[0];
    return viewport ? (viewport.project([lon, lat]) as [number, number]) : null;
  }

  private clicked(event: MouseEvent): void {
    const rect = this.container.getBoundingClientRect();
    // The stage is scaled with a CSS transform: back to the canvas's own (unscaled) pixels.
    const scale = rect.width / (this.container.clientWidth || rect.width);
    const picked = this.deck?.pickObject({
      x: (event.clientX - rect.left) / scale,
      y: (event.clientY - rect.top) / scale,
      radius: 2,
      layerIds: ["sensor-density"],
    });
    const cell = picked?.object as HexCell | undefined;
    // The cell's devices' centre: deck.gl's own cell `position` came out as (180, -85) in this setup.
    const points = cell?.points ?? [];
    if (points.length === 0) return;
    const lon = points.reduce((sum, d) => sum + d.lon, 0) / points.length;
    const lat = points.reduce((sum, d) => sum + d.lat, 0) / points.length;
    this.onCellClick(lon, lat, points.length);
  }

  private update(): void {
    if (!this.deck) return;
    this.deck.setProps({
      layers: [
        new PolygonLayer<Layer>({
          id: "extents",
          data: this.extents,
          getPolygon: (l) => {
            const [w, s, e, n] = l.bbox;
            return [
              [w, s],
              [e, s],
              [e, n],
              [w, n],
            ];
          },
          filled: true,
          getFillColor: [40, 110, 200, 25],
          stroked: true,
          getLineColor: [80, 170, 255, 160],
          lineWidthMinPixels: 1,
        }),
        new PathLayer<NetworkLink>({
          id: "network",
          data: this.network,
          getPath: (l) => l.path.map((p): [number, number] => [p[0], p[1]]),
          getColor: [60, 140, 220, 110],
          widthMinPixels: 1,
        }),
        new HexagonLayer<Device>({
          id: "sensor-density",
          data: this.devices,
          getPosition: (d) => [d.lon, d.lat],
          radius: HEX_RADIUS,
          coverage: 0.88,
          gpuAggregation: false,
          extruded: false,
          opacity: 0.55,
          colorRange: [
            [16, 60, 120],
            [20, 100, 170],
            [30, 140, 210],
            [40, 180, 240],
            [90, 215, 255],
            [170, 240, 255],
          ],
          pickable: true,
          autoHighlight: true,
          highlightColor: [255, 255, 255, 90],
        }),
        new HeatmapLayer<Alarm>({
          id: "alarm-heat",
          data: this.alarms,
          getPosition: (a) => [a.lon, a.lat],
          getWeight: (a) => levelSeverity(a.peakLevel),
          radiusPixels: 28,
          intensity: 1.2,
          threshold: 0.05,
          colorRange: [
            [255, 212, 0, 40],
            [255, 180, 0, 110],
            [255, 140, 26, 160],
            [255, 90, 40, 200],
            [255, 42, 42, 230],
            [255, 0, 60, 255],
          ],
        }),
      ],
    });
  }
}

function unionBbox(layers: Layer[]): [number, number, number, number] | undefined {
  const boxes = layers.map((l) => l.bbox);
  if (boxes.length === 0) return undefined;
  return [
    Math.min(...boxes.map((b) => b[0])),
    Math.min(...boxes.map((b) => b[1])),
    Math.max(...boxes.map((b) => b[2])),
    Math.max(...boxes.map((b) => b[3])),
  ];
}
