import {
  GRAVITY_CLASSES,
  type NodeKind,
  type PipeLink,
  type PipeNetwork,
  type PipeNode,
} from "../../../models/pipes.ts";
import type { SourceCrs } from "../../crs/source-crs.ts";
import { pipeColor } from "./pipe-colors.ts";

/** Geodetic point: lon, lat (degrees), height (metres). */
export type Geo = [number, number, number];

/** What a feature is drawn as, in geodetic coordinates; meshed per tile in the tile's ENU frame. */
export type PipeShape =
  | { type: "tube"; path: Geo[]; diameter: number }
  | { type: "box"; path: Geo[]; width: number; height: number }
  | { type: "cylinder"; centre: Geo; z0: number; z1: number; radius: number };

export interface PipeFeature {
  id: string;
  role: "node" | "link";
  shape: PipeShape;
  color: [number, number, number, number];
  /** Feature centre for tiling, degrees. */
  lon: number;
  lat: number;
  /** Level-of-detail size, metres: drawn length of a link, height or diameter of a node symbol. */
  size: number;
  /** Conservative bounds of the drawn geometry (degrees, metres). */
  west: number;
  south: number;
  east: number;
  north: number;
  minH: number;
  maxH: number;
  readonly properties: Record<string, string | number | boolean | null>;
  /**
   * A link's water runs against its drawn direction (to -> from): gravity pipes flow from the higher invert to the
   * lower; pressure pipes are taken to flow as drawn (EPANET's positive flow, a survey's 起点 -> 终点).
   */
  readonly flowReversed: boolean;
}

export const DEFAULT_LINK_DIAMETER = 0.1;
export const WELL_RADIUS = 0.5;
export const SYMBOL_RADIUS = 0.3;
export const SYMBOL_HEIGHT = 1;
const SYMBOL_KINDS: ReadonlySet<NodeKind> = new Set([
  "valve",
  "hydrant",
  "meter",
  "outfall",
  "reservoir",
  "tank",
]);
const METRES_PER_DEGREE = 111_320;

export interface PipeFeatureResult {
  features: PipeFeature[];
  /** Why network objects got no geometry, with counts (nodes of kinds drawn as no symbol are not counted). */
  skipped: Record<string, number>;
}

/**
 * Turns a network into drawable features: every link a tube or box along its 3D centreline, wells and storage a
 * vertical cylinder from invert to ground, valves / hydrants / meters / outfalls / reservoirs / tanks a small
 * symbol. `scale` converts source x/y to the CRS units (0.3048 for US feet drawings in a metric ENU frame).
 */
export function pipeFeatures(net: PipeNetwork, crs: SourceCrs, scale = 1): PipeFeatureResult {
  const skipped: Record<string, number> = {};
  const skip = (why: string) => {
    skipped[why] = (skipped[why] ?? 0) + 1;
  };
  const toLonLat = (x: number, y: number): [number, number] => {
    const g = crs.toGeodetic(x * scale, y * scale, 0);
    return [g[0], g[1]];
  };
  const nodes = new Map<string, PipeNode>();
  const nodeLonLat = new Map<string, [number, number]>();
  for (const n of net.nodes) {
    nodes.set(n.id, n);
    nodeLonLat.set(n.id, toLonLat(n.x, n.y));
  }
  const features: PipeFeature[] = [];

  for (const n of net.nodes) {
    const [lon, lat] = nodeLonLat.get(n.id)!;
    let shape: PipeShape | null = null;
    if (n.kind === "well" || n.kind === "storage") {
      if (n.invertElevation !== null && n.groundElevation !== null && n.groundElevation > n.invertElevation) {
        shape = {
          type: "cylinder",
          centre: [lon, lat, 0],
          z0: n.invertElevation,
          z1: n.groundElevation,
          radius: WELL_RADIUS,
        };
      } else skip(`${n.kind} without invert and ground elevation`);
    } else if (SYMBOL_KINDS.has(n.kind)) {
      const z0 = n.invertElevation ?? n.groundElevation ?? 0;
      shape = { type: "cylinder", centre: [lon, lat, 0], z0, z1: z0 + SYMBOL_HEIGHT, radius: SYMBOL_RADIUS };
    }
    if (shape?.type !== "cylinder") continue;
    features.push(
      withBounds(
        {
          id: n.id,
          role: "node",
          shape,
          color: pipeColor(n.pipeClass, n.kind),
          lon,
          lat,
          size: Math.max(shape.z1 - shape.z0, shape.radius * 2),
          source: n,
        },
        [
          [lon, lat, shape.z0],
          [lon, lat, shape.z1],
        ],
        shape.radius,
      ),
    );
  }

  for (const l of net.links) {
    const a = nodes.get(l.from);
    const b = nodes.get(l.to);
    if (!a || !b) {
      skip("link to an unknown node");
      continue;
    }
    const { path, drawnLength } = centreline(l, a, b, nodeLonLat, toLonLat);
    if (drawnLength < 1e-3) {
      skip("zero-length link");
      continue;
    }
    const section = l.section;
    const shape: PipeShape =
      section === null
        ? { type: "tube", path, diameter: DEFAULT_LINK_DIAMETER }
        : section.shape === "circular"
          ? { type: "tube", path, diameter: section.diameter }
          : { type: "box", path, width: section.width, height: section.height };
    const half = shape.type === "tube" ? shape.diameter / 2 : Math.hypot(shape.width, shape.height) / 2;
    const mid = path[Math.floor(path.length / 2)];
    const centre = path.length % 2 === 0 ? midpoint(path[path.length / 2 - 1], mid) : mid;
    features.push(
      withBounds(
        {
          id: l.id,
          role: "link",
          shape,
          color: pipeColor(l.pipeClass),
          lon: centre[0],
          lat: centre[1],
          size: Math.max(drawnLength, half * 2),
          source: l,
        },
        path,
        // Mitred bends stretch the section: allow twice its half-size horizontally and vertically.
        half * 2,
      ),
    );
  }
  return { features, skipped };
}

/** Bottom-of-pipe elevation at a link end: the link's own invert, else the node's, else 0. */
function endInvert(linkInvert: number | null, node: PipeNode): number {
  return linkInvert ?? node.invertElevation ?? 0;
}

function sectionHeight(l: PipeLink): number {
  if (!l.section) return DEFAULT_LINK_DIAMETER;
  return l.section.shape === "circular" ? l.section.diameter : l.section.height;
}

/** 3D centreline from node to node through the vertices, z interpolated along the horizontal length. */
function centreline(
  l: PipeLink,
  a: PipeNode,
  b: PipeNode,
  nodeLonLat: Map<string, [number, number]>,
  toLonLat: (x: number, y: number) => [number, number],
): { path: Geo[]; drawnLength: number } {
  const h = sectionHeight(l) / 2;
  const z0 = endInvert(l.fromInvert, a) + h;
  const z1 = endInvert(l.toInvert, b) + h;
  const ll: [number, number][] = [
    nodeLonLat.get(a.id)!,
    ...l.vertices.map(([x, y]) => toLonLat(x, y)),
    nodeLonLat.get(b.id)!,
  ];
  const cum = [0];
  for (let i = 1; i < ll.length; i++) cum.push(cum[i - 1] + groundDistance(ll[i - 1], ll[i]));
  const total = cum[cum.length - 1];
  const path = ll.map(([lon, lat], i): Geo => [lon, lat, total > 0 ? z0 + ((z1 - z0) * cum[i]) / total : z0]);
  return { path, drawnLength: Math.hypot(total, z1 - z0) };
}

function groundDistance(p: [number, number], q: [number, number]): number {
  const k = Math.cos(((p[1] + q[1]) / 2) * (Math.PI / 180));
  return Math.hypot((q[0] - p[0]) * k, q[1] - p[1]) * METRES_PER_DEGREE;
}

function midpoint(p: Geo, q: Geo): Geo {
  return [(p[0] + q[0]) / 2, (p[1] + q[1]) / 2, (p[2] + q[2]) / 2];
}

type FeatureInit = Omit<
  PipeFeature,
  "west" | "south" | "east" | "north" | "minH" | "maxH" | "properties" | "flowReversed"
> & {
  source: PipeNode | PipeLink;
};

/**
 * A feature whose property record is built when asked for: held for every feature of a city network the records
 * (source attributes copied next to the typed fields) would be the largest thing in memory.
 */
class Feature implements PipeFeature {
  id: string;
  role: "node" | "link";
  shape: PipeShape;
  color: [number, number, number, number];
  lon: number;
  lat: number;
  size: number;
  west = 0;
  south = 0;
  east = 0;
  north = 0;
  minH = 0;
  maxH = 0;
  private readonly source: PipeNode | PipeLink;

  constructor(f: FeatureInit) {
    this.id = f.id;
    this.role = f.role;
    this.shape = f.shape;
    this.color = f.color;
    this.lon = f.lon;
    this.lat = f.lat;
    this.size = f.size;
    this.source = f.source;
  }

  get flowReversed(): boolean {
    if (this.role !== "link" || this.shape.type === "cylinder") return false;
    const path = this.shape.path;
    return GRAVITY_CLASSES.has((this.source as PipeLink).pipeClass) && path[path.length - 1][2] > path[0][2];
  }

  get properties(): PipeFeature["properties"] {
    return this.role === "node"
      ? nodeProperties(this.source as PipeNode)
      : linkProperties(this.source as PipeLink);
  }
}

/** Source attributes first, then the typed fields (which win on a name clash). A for-in copy: spreading the
 * reader's records was several times slower. */
function withAttributes(
  attributes: Record<string, unknown>,
  typed: Record<string, string | number | boolean | null>,
): PipeFeature["properties"] {
  const out: PipeFeature["properties"] = {};
  for (const k in attributes) out[k] = attributes[k] as string | number | boolean | null;
  for (const k in typed) out[k] = typed[k];
  return out;
}

function nodeProperties(n: PipeNode): PipeFeature["properties"] {
  return withAttributes(n.attributes, {
    id: n.id,
    feature: "node",
    kind: n.kind,
    pipeClass: n.pipeClass,
    groundElevation: n.groundElevation,
    invertElevation: n.invertElevation,
  });
}

function linkProperties(l: PipeLink): PipeFeature["properties"] {
  const section = l.section;
  return withAttributes(l.attributes, {
    id: l.id,
    feature: "link",
    kind: l.kind,
    pipeClass: l.pipeClass,
    from: l.from,
    to: l.to,
    sectionShape: section?.shape ?? null,
    diameter: section?.shape === "circular" ? section.diameter : null,
    width: section && section.shape !== "circular" ? section.width : null,
    height: section && section.shape !== "circular" ? section.height : null,
    fromInvert: l.fromInvert,
    toInvert: l.toInvert,
    length: l.length,
    material: l.material,
  });
}

function withBounds(init: FeatureInit, points: Geo[], pad: number): PipeFeature {
  let west = Number.POSITIVE_INFINITY;
  let south = Number.POSITIVE_INFINITY;
  let east = Number.NEGATIVE_INFINITY;
  let north = Number.NEGATIVE_INFINITY;
  let minH = Number.POSITIVE_INFINITY;
  let maxH = Number.NEGATIVE_INFINITY;
  for (const [lon, lat, h] of points) {
    west = Math.min(west, lon);
    east = Math.max(east, lon);
    south = Math.min(south, lat);
    north = Math.max(north, lat);
    minH = Math.min(minH, h);
    maxH = Math.max(maxH, h);
  }
  const dLat = pad / METRES_PER_DEGREE;
  const dLon = dLat / Math.max(Math.cos(((south + north) / 2) * (Math.PI / 180)), 1e-6);
  const cylinder = init.shape.type === "cylinder";
  const f = new Feature(init);
  f.west = west - dLon;
  f.east = east + dLon;
  f.south = south - dLat;
  f.north = north + dLat;
  // A cylinder's caps are exactly at z0 / z1; a swept section reaches `pad` above and below its centreline.
  f.minH = cylinder ? minH : minH - pad;
  f.maxH = cylinder ? maxH : maxH + pad;
  return f;
}
