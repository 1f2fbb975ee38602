/**
 * A small in-memory pipe network builder for the demo's synthetic survey tables: nodes in local metres (east,
 * north of the demo centre), shared by coordinates within a class, and links between them; written out as the
 * two CJJ 61 tables (管线点成果表 / 管线段成果表).
 */

export type DemoClass = "JS" | "YS" | "WS" | "RQ" | "DL" | "TX";

export const CLASS_NAMES: Record<DemoClass, string> = {
  JS: "给水",
  YS: "雨水",
  WS: "污水",
  RQ: "燃气",
  DL: "电力",
  TX: "通信",
};

export interface DemoNode {
  id: string;
  cls: DemoClass;
  x: number;
  y: number;
  ground: number;
  /** 附属物 (empty for a plain line point). */
  appurtenance: string;
  /** 埋深 to the top (pressure pipes, ducts) or null (drainage: 井底深 instead). */
  depth: number | null;
}

export interface DemoLink {
  cls: DemoClass;
  from: string;
  to: string;
  /** Depth of each end: to the invert for drainage, to the top for the others. */
  fromDepth: number;
  toDepth: number;
  /** Invert elevations (drainage only; used for 井底深). */
  fromInvert: number | null;
  toInvert: number | null;
  diameter: string;
  section: string;
  material: string;
  pressure: string;
  cables: string;
  burial: string;
  owner: string;
  year: number;
}

export const round2 = (v: number): number => Math.round(v * 100) / 100;

export class DemoNetwork {
  readonly nodes: DemoNode[] = [];
  readonly links: DemoLink[] = [];
  private readonly byKey = new Map<string, DemoNode>();
  private readonly byId = new Map<string, DemoNode>();
  private readonly serial = new Map<DemoClass, number>();

  constructor(private readonly ground: (x: number, y: number) => number) {}

  /** The class's node at (x, y), created on first use. */
  node(cls: DemoClass, x: number, y: number, appurtenance = "", depth: number | null = null): DemoNode {
    const key = `${cls}:${x.toFixed(2)}:${y.toFixed(2)}`;
    const found = this.byKey.get(key);
    if (found) {
      if (appurtenance && !found.appurtenance) found.appurtenance = appurtenance;
      return found;
    }
    const n = (this.serial.get(cls) ?? 0) + 1;
    this.serial.set(cls, n);
    const node: DemoNode = {
      id: `${cls}${String(n).padStart(3, "0")}`,
      cls,
      x,
      y,
      ground: round2(this.ground(x, y)),
      appurtenance,
      depth,
    };
    this.byKey.set(key, node);
    this.byId.set(node.id, node);
    this.nodes.push(node);
    return node;
  }

  get(id: string): DemoNode {
    const n = this.byId.get(id);
    if (!n) throw new Error(`unknown demo pipe node ${id}`);
    return n;
  }

  link(link: DemoLink): void {
    this.links.push(link);
  }

  /** 特征 from the node's degree and, at degree 2, whether the line turns there. */
  feature(node: DemoNode): string {
    const ends = this.links.filter((l) => l.from === node.id || l.to === node.id);
    if (ends.length >= 5) return "五通";
    if (ends.length === 4) return "四通";
    if (ends.length === 3) return "三通";
    if (ends.length === 2) {
      const [a, b] = ends.map((l) => this.get(l.from === node.id ? l.to : l.from));
      const ax = a.x - node.x;
      const ay = a.y - node.y;
      const bx = b.x - node.x;
      const by = b.y - node.y;
      const cross = Math.abs(ax * by - ay * bx) / (Math.hypot(ax, ay) * Math.hypot(bx, by));
      return cross > 0.2 ? "弯头" : "直线点";
    }
    return "直线点";
  }
}

function csvCell(v: string | number | null): string {
  if (v === null) return "";
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csv(rows: (string | number | null)[][]): string {
  return `\uFEFF${rows.map((r) => r.map(csvCell).join(",")).join("\r\n")}\r\n`;
}

export const POINT_COLUMNS = [
  "物探点号",
  "管线类别",
  "X",
  "Y",
  "地面高程",
  "埋深",
  "井底深",
  "特征",
  "附属物",
] as const;

export const LINE_COLUMNS = [
  "起点号",
  "终点号",
  "管线类别",
  "起点埋深",
  "终点埋深",
  "管径",
  "断面尺寸",
  "材质",
  "压力",
  "电缆条数",
  "埋设方式",
  "权属单位",
  "埋设年代",
] as const;

/** The two CJJ 61 tables; `project` turns local metres into (X northing, Y easting) of the target CRS. */
export function writeTables(
  net: DemoNetwork,
  project: (x: number, y: number) => { X: number; Y: number },
): { points: string; lines: string } {
  const lowest = new Map<string, number>();
  for (const l of net.links) {
    for (const [id, inv] of [
      [l.from, l.fromInvert],
      [l.to, l.toInvert],
    ] as const) {
      if (inv === null) continue;
      lowest.set(id, Math.min(lowest.get(id) ?? Number.POSITIVE_INFINITY, inv));
    }
  }
  const points: (string | number | null)[][] = [[...POINT_COLUMNS]];
  for (const n of net.nodes) {
    const { X, Y } = project(n.x, n.y);
    const bottom = lowest.get(n.id);
    points.push([
      n.id,
      CLASS_NAMES[n.cls],
      X.toFixed(3),
      Y.toFixed(3),
      n.ground.toFixed(2),
      n.depth === null ? null : n.depth.toFixed(2),
      bottom === undefined ? null : round2(n.ground - bottom).toFixed(2),
      net.feature(n),
      n.appurtenance || null,
    ]);
  }
  const lines: (string | number | null)[][] = [[...LINE_COLUMNS]];
  for (const l of net.links) {
    lines.push([
      l.from,
      l.to,
      CLASS_NAMES[l.cls],
      l.fromDepth.toFixed(2),
      l.toDepth.toFixed(2),
      l.diameter || null,
      l.section || null,
      l.material,
      l.pressure || null,
      l.cables || null,
      l.burial,
      l.owner,
      l.year,
    ]);
  }
  return { points: csv(points), lines: csv(lines) };
}
