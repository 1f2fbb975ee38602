import { readFile } from "node:fs/promises";
import type { AlarmRuleInput } from "../../models/alarms.ts";
import type { BimElement, BimElementIndex } from "../../models/bim.ts";
import type { CreateCamera } from "../../models/cameras.ts";
import type { CreateDevice, DeviceType } from "../../models/devices.ts";
import type { NetworkIndex } from "../../models/pipes.ts";
import { DEMO_CENTRE } from "./demo-city.ts";

/**
 * The demo district's IoT devices and video cameras, derived from the generated demo data itself (the ingested
 * pipe network's `network.json`, the building footprints and the BIM element index), so every device sits on a
 * real pipe segment, well, building or BIM room and links to that feature's id in the tiles. Deterministic: the
 * same data gives the same devices, ids and positions.
 *
 * Six "hotspots" along water mains each get a pressure gauge and a flow meter on the main plus street and
 * underground sensors nearby, and a camera on a pole looking along the street at them, so whatever the telemetry
 * simulator makes happen at a hotspot (a main burst) is on video.
 */

type LonLat = [number, number];
type Path3 = [number, number, number][];
type NetworkLink = NetworkIndex["links"][number];
type NetworkNode = NetworkIndex["nodes"][number];

interface BuildingFeature {
  properties: { id: string; name?: string; use?: string; height?: number };
  geometry: { type: "Polygon"; coordinates: LonLat[][] };
}

interface RoadFeature {
  properties: { name: string };
  geometry: { type: "LineString"; coordinates: LonLat[] };
}

/** What the plan is derived from: the demo's generated files, read as they are. */
export interface DemoDeviceInputs {
  network: NetworkIndex;
  buildings: { features: BuildingFeature[] };
  roads: { features: RoadFeature[] };
  bim: BimElementIndex;
}

export interface DemoLayerIds {
  buildings: string;
  bim: string;
  pipes: string;
}

export interface DemoAssets {
  /** Devices in or on an asset carry its layer and feature id; street-pole sensors carry none. */
  devices: (CreateDevice & { height: number })[];
  cameras: CreateCamera[];
  /** Device-scope alarm rules that replace type defaults which do not fit the demo's sensors. */
  rules: AlarmRuleInput[];
}

export interface DemoDeviceFiles {
  /** `network.json` beside the pipe tiles. */
  network: string;
  buildings: string;
  roads: string;
  /** `elements.json` beside the BIM tiles. */
  bimElements: string;
}

export async function readDemoDeviceInputs(files: DemoDeviceFiles): Promise<DemoDeviceInputs> {
  const json = async (path: string) => JSON.parse(await readFile(path, "utf8"));
  const [network, buildings, roads, bim] = await Promise.all([
    json(files.network),
    json(files.buildings),
    json(files.roads),
    json(files.bimElements),
  ]);
  return { network, buildings, roads, bim };
}

// The demo street grid (see demo-city.ts / demo-pipes.ts): centrelines in metres from the district centre.
const XS = Array.from({ length: 9 }, (_, c) => -736 + c * 184);
const YS = Array.from({ length: 7 }, (_, r) => -462 + r * 154);
/** Offsets of the utilities from the street centreline (demo-pipes.ts) and of the sidewalk poles. */
const OFFSET = { JS: 6, WS: 2.5, YS: -2, RQ: -6, DL: -9.5, TX: 9.5, POLE: 10.5 } as const;
/** Street furniture (air, noise, crowd sensors) hangs this high above the ground (the demo's ground is ~0 m). */
const POLE_SENSOR_HEIGHT = 3.5;

const COS_LAT = Math.cos((DEMO_CENTRE.lat * Math.PI) / 180);
/** The same equirectangular mapping as demo-city.ts, both ways (exact enough within 2 km). */
function toLonLat(x: number, y: number): LonLat {
  return [DEMO_CENTRE.lon + x / (111_320 * COS_LAT), DEMO_CENTRE.lat + y / 110_940];
}
function toLocal(lon: number, lat: number): [number, number] {
  return [(lon - DEMO_CENTRE.lon) * 111_320 * COS_LAT, (lat - DEMO_CENTRE.lat) * 110_940];
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

/** A street: east-west (`ew`, index into YS) or north-south (index into XS). */
interface Street {
  ew: boolean;
  index: number;
}

/** Local (x, y) of a point `along` a street at `offset` from its centreline (+ north / + east). */
function onStreet(s: Street, along: number, offset: number): [number, number] {
  return s.ew ? [along, YS[s.index] + offset] : [XS[s.index] + offset, along];
}

interface Hotspot {
  street: Street;
  /** Where the pressure gauge sits along the street (m). */
  along: number;
  /** Direction the camera looks along the street (+1: east / north). */
  dir: 1 | -1;
  /** Sidewalk of the camera pole (+1: north / east). */
  side: 1 | -1;
  poleHeight: number;
}

const HOTSPOTS: readonly Hotspot[] = [
  { street: { ew: true, index: 3 }, along: -92, dir: 1, side: -1, poleHeight: 10 },
  { street: { ew: false, index: 4 }, along: -77, dir: -1, side: -1, poleHeight: 12 },
  { street: { ew: true, index: 5 }, along: -460, dir: 1, side: 1, poleHeight: 9 },
  { street: { ew: true, index: 1 }, along: 460, dir: -1, side: -1, poleHeight: 11 },
  { street: { ew: false, index: 0 }, along: 231, dir: -1, side: 1, poleHeight: 8 },
  { street: { ew: false, index: 8 }, along: -231, dir: 1, side: -1, poleHeight: 10 },
];

const DEPARTMENT = {
  water: "宿迁市水务集团",
  gas: "宿迁港华燃气",
  power: "国网宿迁供电公司",
  telecom: "中国电信宿迁分公司",
  environment: "宿迁市生态环境局",
  fire: "宿迁市消防救援支队",
  city: "宿迁市城市管理局",
  police: "宿迁市公安局宿城分局",
} as const;

const CLASS_LABEL: Record<string, string> = { YS: "雨水", WS: "污水", TX: "通信", DL: "电力", JS: "给水" };

/** Point on a 3D polyline at the position nearest to local (x, y), with its height. */
function nearestOnPath(
  path: Path3,
  x: number,
  y: number,
): { lon: number; lat: number; height: number; d: number } {
  let best = { lon: path[0][0], lat: path[0][1], height: path[0][2], d: Number.POSITIVE_INFINITY };
  for (let i = 0; i + 1 < path.length; i++) {
    const [ax, ay] = toLocal(path[i][0], path[i][1]);
    const [bx, by] = toLocal(path[i + 1][0], path[i + 1][1]);
    const len2 = (bx - ax) ** 2 + (by - ay) ** 2;
    const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / len2));
    const px = ax + t * (bx - ax);
    const py = ay + t * (by - ay);
    const d = Math.hypot(px - x, py - y);
    if (d < best.d) {
      const [lon, lat] = toLonLat(px, py);
      best = { lon, lat, height: path[i][2] + t * (path[i + 1][2] - path[i][2]), d };
    }
  }
  return best;
}

class DemoPlanner {
  readonly devices: DemoAssets["devices"] = [];
  readonly cameras: CreateCamera[] = [];
  readonly rules: AlarmRuleInput[] = [];
  private readonly serial = new Map<string, number>();
  private readonly roadsEw: RoadFeature[];
  private readonly roadsNs: RoadFeature[];

  constructor(
    private readonly input: DemoDeviceInputs,
    private readonly layers: DemoLayerIds,
    private readonly streamUrl: string,
  ) {
    const isEw = (r: RoadFeature) => r.geometry.coordinates[0][1] === r.geometry.coordinates[1][1];
    const byLat = (a: RoadFeature, b: RoadFeature) =>
      a.geometry.coordinates[0][1] - b.geometry.coordinates[0][1];
    const byLon = (a: RoadFeature, b: RoadFeature) =>
      a.geometry.coordinates[0][0] - b.geometry.coordinates[0][0];
    this.roadsEw = input.roads.features.filter(isEw).sort(byLat);
    this.roadsNs = input.roads.features.filter((r) => !isEw(r)).sort(byLon);
  }

  roadName(s: Street): string {
    return (s.ew ? this.roadsEw : this.roadsNs)[s.index]?.properties.name ?? "示范区道路";
  }

  /** Nearest street to a local point, for naming devices that are not placed by street. */
  streetAt(x: number, y: number): Street {
    const r = YS.reduce((best, v, i) => (Math.abs(v - y) < Math.abs(YS[best] - y) ? i : best), 0);
    const c = XS.reduce((best, v, i) => (Math.abs(v - x) < Math.abs(XS[best] - x) ? i : best), 0);
    return Math.abs(YS[r] - y) <= Math.abs(XS[c] - x) ? { ew: true, index: r } : { ew: false, index: c };
  }

  nextId(prefix: string): string {
    const n = (this.serial.get(prefix) ?? 0) + 1;
    this.serial.set(prefix, n);
    return `${prefix}-${String(n).padStart(2, "0")}`;
  }

  add(
    prefix: string,
    type: DeviceType,
    name: string,
    at: { lon: number; lat: number; height: number },
    link: { layerId: string; featureId: string } | undefined,
    department: string,
    sharing: CreateDevice["sharing"] = "conditional",
  ): DemoAssets["devices"][number] {
    const id = this.nextId(prefix);
    const twins = this.devices.filter((d) => d.name === name || d.name.startsWith(`${name}（`)).length;
    const device = {
      id,
      type,
      name: twins === 0 ? name : `${name}（${twins + 1}）`,
      lon: round(at.lon, 8),
      lat: round(at.lat, 8),
      height: round(at.height, 2),
      ...link,
      department,
      sharing,
    };
    this.devices.push(device);
    return device;
  }

  /** The link of `cls` running along the street's utility line nearest to `along` (pressure pipes: mains only). */
  linkAlong(
    cls: string,
    s: Street,
    along: number,
    minDiameter = 0,
  ): { link: NetworkLink; lon: number; lat: number; height: number } {
    const [x, y] = onStreet(s, along, OFFSET[cls as keyof typeof OFFSET]);
    let best: { link: NetworkLink; lon: number; lat: number; height: number; d: number } | undefined;
    for (const link of this.input.network.links) {
      if (link.pipeClass !== cls || link.path.length < 2) continue;
      const size = link.section?.shape === "circular" ? link.section.diameter : (link.section?.height ?? 0);
      if (size < minDiameter) continue;
      // Only links that run along the street (not service branches or crossings).
      const [ax, ay] = toLocal(link.path[0][0], link.path[0][1]);
      const [bx, by] = toLocal(link.path[link.path.length - 1][0], link.path[link.path.length - 1][1]);
      if (s.ew ? Math.abs(ay - by) > 0.5 : Math.abs(ax - bx) > 0.5) continue;
      const hit = nearestOnPath(link.path, x, y);
      if (hit.d < (best?.d ?? Number.POSITIVE_INFINITY)) best = { link, ...hit };
    }
    if (best === undefined || best.d > 3) {
      throw new Error(`demo devices: no ${cls} pipe along street ${JSON.stringify(s)} at ${along} m`);
    }
    return best;
  }

  /** The node of `cls` and `kind` nearest to a local point. */
  nodeNear(cls: string, kinds: readonly string[], x: number, y: number): NetworkNode {
    let best: NetworkNode | undefined;
    let bestD = Number.POSITIVE_INFINITY;
    for (const n of this.input.network.nodes) {
      if (n.pipeClass !== cls || !kinds.includes(n.kind)) continue;
      const [nx, ny] = toLocal(n.lon, n.lat);
      const d = Math.hypot(nx - x, ny - y);
      if (d < bestD) {
        bestD = d;
        best = n;
      }
    }
    if (best === undefined) throw new Error(`demo devices: no ${cls} ${kinds.join("/")} node in the network`);
    return best;
  }

  /** Largest pipe (m) connected to a node: what a well's level is measured against. */
  pipeSizeAt(nodeId: string): number {
    let size = 0;
    for (const l of this.input.network.links) {
      if (l.from !== nodeId && l.to !== nodeId) continue;
      const s = l.section?.shape === "circular" ? l.section.diameter : (l.section?.height ?? 0);
      size = Math.max(size, s);
    }
    return size;
  }

  // --- devices by kind ---------------------------------------------------------------------------------

  waterMain(type: "pipe_pressure" | "flow", s: Street, along: number): void {
    const hit = this.linkAlong("JS", s, along, 0.3);
    const label = type === "pipe_pressure" ? "给水管网压力监测点" : "给水管网流量计";
    this.add(
      type === "pipe_pressure" ? "PRS" : "FLW",
      type,
      `${this.roadName(s)}${label}`,
      hit,
      { layerId: this.layers.pipes, featureId: hit.link.id },
      DEPARTMENT.water,
    );
  }

  gas(s: Street, along: number): void {
    const hit = this.linkAlong("RQ", s, along);
    this.add(
      "GAS",
      "gas_concentration",
      `${this.roadName(s)}燃气管线可燃气体监测`,
      hit,
      { layerId: this.layers.pipes, featureId: hit.link.id },
      DEPARTMENT.gas,
      "none",
    );
  }

  cableTemperature(s: Street, along: number): void {
    const hit = this.linkAlong("DL", s, along);
    this.add(
      "CBT",
      "cable_temperature",
      `${this.roadName(s)}电力排管电缆测温`,
      hit,
      { layerId: this.layers.pipes, featureId: hit.link.id },
      DEPARTMENT.power,
      "none",
    );
  }

  /**
   * A level gauge in a sewer well, measuring water depth above the well bottom. The type's default rule is for
   * road ponding (0.15 m), so each well gets its own: pipe full (surcharge), well 60 % full, 0.3 m below the cover.
   */
  wellLevel(x: number, y: number): void {
    const node = this.nodeNear("WS", ["well"], x, y);
    const invert = node.invertElevation ?? 0;
    const ground = node.groundElevation ?? invert + 2;
    const depth = ground - invert;
    const device = this.add(
      "LVL",
      "water_level",
      `${this.roadName(this.streetAt(x, y))}污水井液位计`,
      { lon: node.lon, lat: node.lat, height: invert + 0.3 },
      { layerId: this.layers.pipes, featureId: node.id },
      DEPARTMENT.water,
    );
    const yellow = round(Math.max(this.pipeSizeAt(node.id), 0.3), 2);
    const orange = round(Math.max(yellow + 0.1, 0.6 * depth), 2);
    const red = round(Math.max(orange + 0.1, depth - 0.3), 2);
    this.rules.push({
      scope: "device",
      target: device.id,
      kind: "upper",
      quantity: "level",
      limits: { yellow, orange, red },
      deadband: 0.05,
      note: `井下液位（距井底）：满管 ${yellow} m / 井深 60% ${orange} m / 距井盖 0.3 m ${red} m（井深 ${round(depth, 2)} m）`,
    });
  }

  manholeCover(cls: "YS" | "WS" | "TX" | "DL", x: number, y: number): void {
    const node = this.nodeNear(cls, ["well"], x, y);
    const ground = node.groundElevation ?? 0;
    this.add(
      "MHC",
      "manhole_cover",
      `${this.roadName(this.streetAt(x, y))}${CLASS_LABEL[cls]}井盖监测`,
      { lon: node.lon, lat: node.lat, height: ground - 0.1 },
      { layerId: this.layers.pipes, featureId: node.id },
      cls === "TX" ? DEPARTMENT.telecom : cls === "DL" ? DEPARTMENT.power : DEPARTMENT.city,
    );
  }

  waterQuality(node: NetworkNode): void {
    const [x, y] = toLocal(node.lon, node.lat);
    this.add(
      "WQ",
      "water_quality",
      `${this.roadName(this.streetAt(x, y))}管网水质监测点`,
      { lon: node.lon, lat: node.lat, height: (node.invertElevation ?? node.groundElevation ?? 0) + 0.2 },
      { layerId: this.layers.pipes, featureId: node.id },
      DEPARTMENT.water,
      "unconditional",
    );
  }

  /** Street sensors hang on a sidewalk pole, which is no feature of the demo's layers. */
  streetSensor(
    prefix: string,
    type: DeviceType,
    label: string,
    s: Street,
    along: number,
    side: 1 | -1,
    department: string,
  ): void {
    const [x, y] = onStreet(s, along, side * OFFSET.POLE);
    const [lon, lat] = toLonLat(x, y);
    this.add(
      prefix,
      type,
      `${this.roadName(s)}${label}`,
      { lon, lat, height: POLE_SENSOR_HEIGHT },
      undefined,
      department,
      "unconditional",
    );
  }

  building(b: BuildingFeature): void {
    const inside = pointInside(b.geometry.coordinates[0]);
    const top = b.properties.height ?? 10;
    const name = b.properties.name ?? b.properties.id;
    const link = { layerId: this.layers.buildings, featureId: b.properties.id };
    const at = (h: number) => ({ lon: inside[0], lat: inside[1], height: Math.min(h, top - 0.5) });
    this.add("SMK", "smoke", `${name}烟感`, at(2.7), link, DEPARTMENT.fire);
    this.add("TMP", "temperature", `${name}室内温度`, at(2.5), link, DEPARTMENT.fire);
    this.add("ELK", "electrical_leakage", `${name}电气火灾监测`, at(1.5), link, DEPARTMENT.fire);
  }

  bimRoom(room: BimElement, type: "smoke" | "temperature" | "electrical_leakage", bimName: string): void {
    const [w, s, e, n, bottom, top] = room.bbox;
    const floor = room.storeyElevation ?? bottom;
    const height = type === "electrical_leakage" ? floor + 1.5 : top - 0.3;
    const prefix = { smoke: "SMK", temperature: "TMP", electrical_leakage: "ELK" }[type];
    const label = { smoke: "烟感", temperature: "室内温度", electrical_leakage: "配电箱剩余电流" }[type];
    this.add(
      prefix,
      type,
      `${bimName}${room.storey ?? ""}${room.name ?? ""}${label}`,
      { lon: (w + e) / 2, lat: (s + n) / 2, height },
      { layerId: this.layers.bim, featureId: room.globalId },
      DEPARTMENT.fire,
    );
  }

  /** A camera on a sidewalk pole behind the hotspot, looking along the street at its devices. */
  camera(h: Hotspot, n: number): void {
    const [px, py] = onStreet(h.street, h.along - h.dir * 35, h.side * OFFSET.POLE);
    const [tx, ty] = onStreet(h.street, h.along + h.dir * 15, 0);
    const heading = ((Math.atan2(tx - px, ty - py) * 180) / Math.PI + 360) % 360;
    const [lon, lat] = toLonLat(px, py);
    this.cameras.push({
      id: `CAM-${String(n).padStart(2, "0")}`,
      name: `${this.roadName(h.street)}监控${n}号杆`,
      lon: round(lon, 8),
      lat: round(lat, 8),
      height: h.poleHeight,
      heading: round(heading, 1),
      pitch: -25,
      hfov: 65,
      range: 150,
      streamUrl: this.streamUrl,
      status: "online",
      department: DEPARTMENT.police,
    });
  }
}

/** A point inside a footprint ring: its vertex centroid if inside, else the first inside candidate. */
function pointInside(ring: LonLat[]): LonLat {
  const pts = ring.slice(0, -1);
  const centroid: LonLat = [
    pts.reduce((s, p) => s + p[0], 0) / pts.length,
    pts.reduce((s, p) => s + p[1], 0) / pts.length,
  ];
  const candidates: LonLat[] = [centroid];
  for (let i = 0; i < pts.length; i++) {
    const a = pts[i];
    const b = pts[(i + 2) % pts.length];
    candidates.push([(a[0] + b[0]) / 2, (a[1] + b[1]) / 2]);
  }
  return candidates.find((p) => contains(ring, p)) ?? centroid;
}

function contains(ring: LonLat[], [x, y]: LonLat): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Buildings that get fire-safety sensors: the tallest of each public use, then the tallest office and homes. */
function monitoredBuildings(features: BuildingFeature[]): BuildingFeature[] {
  const byHeight = [...features].sort(
    (a, b) =>
      (b.properties.height ?? 0) - (a.properties.height ?? 0) ||
      a.properties.id.localeCompare(b.properties.id),
  );
  const chosen: BuildingFeature[] = [];
  for (const use of ["医院", "学校", "商业", "公共服务", "办公", "住宅"]) {
    const b = byHeight.find((f) => f.properties.use === use && !chosen.includes(f));
    if (b) chosen.push(b);
  }
  for (const b of byHeight) if (chosen.length < 6 && !chosen.includes(b)) chosen.push(b);
  return chosen;
}

/**
 * Plans the demo's devices, cameras and device-scope alarm rules from the generated demo data.
 * `bimName` prefixes the BIM room devices' names; `streamUrl` is every camera's stream.
 */
export function planDemoDevices(
  input: DemoDeviceInputs,
  layers: DemoLayerIds,
  streamUrl: string,
  bimName = "",
): DemoAssets {
  const p = new DemoPlanner(input, layers, streamUrl);

  HOTSPOTS.forEach((h, i) => {
    p.waterMain("pipe_pressure", h.street, h.along);
    p.waterMain("flow", h.street, h.along + h.dir * 50);
    p.camera(h, i + 1);
  });
  // Near the hotspots, inside their cameras' view: gas on the gas streets, wells on the drainage streets.
  const [h1, h2, h3, h4, h5, h6] = HOTSPOTS;
  p.gas(h1.street, h1.along + 30);
  p.gas(h3.street, h3.along + 30);
  p.gas(h4.street, h4.along - 30);
  p.gas({ ew: true, index: 1 }, -276);
  p.gas({ ew: true, index: 5 }, 276);
  for (const h of [h2, h5, h6]) {
    p.wellLevel(...onStreet(h.street, h.along + h.dir * 30, OFFSET.WS));
    p.manholeCover("YS", ...onStreet(h.street, h.along + h.dir * 45, OFFSET.YS));
  }
  p.wellLevel(...onStreet({ ew: true, index: 0 }, -92, OFFSET.WS));
  p.wellLevel(...onStreet({ ew: false, index: 6 }, 77, OFFSET.WS));
  p.manholeCover("WS", ...onStreet({ ew: false, index: 2 }, -231, OFFSET.WS));
  p.manholeCover("TX", ...onStreet({ ew: true, index: 4 }, 92, OFFSET.TX));
  p.manholeCover("DL", ...onStreet({ ew: true, index: 2 }, -368, OFFSET.DL));
  p.cableTemperature({ ew: true, index: 2 }, -300);
  p.cableTemperature({ ew: true, index: 4 }, 300);
  p.cableTemperature({ ew: false, index: 0 }, 0);
  const meters = input.network.nodes.filter((n) => n.pipeClass === "JS" && n.kind === "meter");
  for (const m of meters.slice(0, 2)) p.waterQuality(m);

  // Air quality micro-stations (PM2.5 and PM10 are separate devices), noise and crowd counters on sidewalk poles.
  for (const [s, along, side] of [
    [h1.street, h1.along + 20, -1],
    [h4.street, h4.along - 60, -1],
    [{ ew: false, index: 4 }, 231, 1],
  ] as const) {
    p.streetSensor("PM25", "pm25", "空气质量微站PM2.5", s, along, side, DEPARTMENT.environment);
    p.streetSensor("PM10", "pm10", "空气质量微站PM10", s, along, side, DEPARTMENT.environment);
  }
  p.streetSensor("NOI", "noise", "交通噪声监测点", h1.street, h1.along + 40, 1, DEPARTMENT.environment);
  p.streetSensor("NOI", "noise", "交通噪声监测点", h3.street, h3.along + 50, 1, DEPARTMENT.environment);
  p.streetSensor("NOI", "noise", "交通噪声监测点", { ew: true, index: 3 }, 368, -1, DEPARTMENT.environment);
  p.streetSensor("NOI", "noise", "交通噪声监测点", { ew: false, index: 2 }, 0, 1, DEPARTMENT.environment);
  p.streetSensor("CRW", "crowd_count", "人流计数", h2.street, h2.along - 40, -1, DEPARTMENT.police);
  p.streetSensor("CRW", "crowd_count", "人流计数", { ew: true, index: 3 }, 92, 1, DEPARTMENT.police);
  p.streetSensor("CRW", "crowd_count", "人流计数", { ew: false, index: 3 }, 77, -1, DEPARTMENT.police);

  for (const b of monitoredBuildings(input.buildings.features)) p.building(b);

  const rooms = input.bim.elements.filter((e) => e.ifcClass === "IfcSpace");
  const room = (storey: string, name: string) => rooms.find((r) => r.storey === storey && r.name === name);
  const bimDevices: [BimElement | undefined, "smoke" | "temperature" | "electrical_leakage"][] = [
    [room("一层", "门厅"), "smoke"],
    [room("一层", "开放办公区"), "temperature"],
    [room("一层", "楼梯间"), "electrical_leakage"],
    [room("四层", "楼梯间"), "smoke"],
  ];
  for (const [r, type] of bimDevices) if (r) p.bimRoom(r, type, bimName);

  return { devices: p.devices, cameras: p.cameras, rules: p.rules };
}
