import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BimElement } from "../../../models/bim.ts";
import { manifest, TILESET } from "./layer-fixtures.ts";

/** A 22-character GlobalId-shaped id: "G" + 5-digit number + a fixed tail in IFC's alphabet. */
export function gid(n: number, prefix = "G"): string {
  return `${prefix}${String(n).padStart(5, "0")}xYz$_AbCdEfGhIjKlMnOp`.slice(0, 22);
}

const STOREYS: { name: string | null; elevation: number | null }[] = [
  { name: "一层", elevation: 0 },
  { name: "二层", elevation: 3.6 },
  { name: "屋顶", elevation: 7.2 },
  { name: "Basement", elevation: -3.5 },
];

function bbox(i: number, minH: number): BimElement["bbox"] {
  const west = 116.39 + i * 1e-5;
  const south = 39.91 + i * 1e-5;
  return [west, south, west + 5e-6, south + 5e-6, minH, minH + 3];
}

/**
 * 30 elements over five classes and four storeys (plus two outside any storey), with Chinese,
 * mixed-case and LIKE-wildcard names and a few nulls.
 */
export function sampleElements(): BimElement[] {
  const out: BimElement[] = [];
  const add = (
    ifcClass: string,
    name: string | null,
    storeyIndex: number | null,
    objectType: string | null = `${ifcClass}:Standard`,
  ) => {
    const i = out.length;
    const storey = storeyIndex === null ? { name: null, elevation: null } : STOREYS[storeyIndex];
    out.push({
      globalId: gid(i),
      ifcClass,
      name,
      objectType,
      storey: storey.name,
      storeyElevation: storey.elevation,
      bbox: bbox(i, storey.elevation ?? 0),
    });
  };
  // 0-8: exterior walls on 一层/二层/屋顶
  for (let k = 1; k <= 9; k++) add("IfcWall", `外墙-0${k}`, (k - 1) % 3, "Basiswand:Bestand 300mm");
  // 9-12: interior walls
  add("IfcWall", "内墙-A", 0);
  add("IfcWall", "内墙-B", 1);
  add("IfcWall", "Wand-Ext-ERDG-1", 0);
  add("IfcWall", "wand-int-og-2", 1);
  // 13-16: doors, mixed case
  add("IfcDoor", "Door-A1", 0);
  add("IfcDoor", "door-b2", 1);
  add("IfcDoor", "DOOR-C3", 3);
  add("IfcDoor", null, 0, null);
  // 17-21: windows
  add("IfcWindow", "窗-C1", 0);
  add("IfcWindow", "窗-C2", 1);
  add("IfcWindow", "Window W1", 1);
  add("IfcWindow", "Window W2", 2);
  add("IfcWindow", "window_w3", 2);
  // 22-25: slabs, with LIKE wildcards in names
  add("IfcSlab", "楼板 100%", 0);
  add("IfcSlab", "楼板_200", 1);
  add("IfcSlab", "Roof Slab", 2);
  add("IfcSlab", "Basement Slab", 3);
  // 26-27: columns
  add("IfcColumn", "柱 C-1", 0);
  add("IfcColumn", "柱 C-2", 3);
  // 28-29: proxies outside any storey
  add("IfcBuildingElementProxy", "Site furniture", null);
  add("IfcBuildingElementProxy", null, null, null);
  return out;
}

/** The search API's documented order: storey elevation, then name (code points), then GlobalId; nulls last. */
export function expectedOrder(elements: readonly BimElement[]): BimElement[] {
  const cmpNullable = <T>(a: T | null, b: T | null, cmp: (x: T, y: T) => number) =>
    a === null ? (b === null ? 0 : 1) : b === null ? -1 : cmp(a, b);
  const byCodePoint = (x: string, y: string) => {
    const ax = Array.from(x, (c) => c.codePointAt(0) ?? 0);
    const ay = Array.from(y, (c) => c.codePointAt(0) ?? 0);
    for (let i = 0; i < Math.min(ax.length, ay.length); i++) if (ax[i] !== ay[i]) return ax[i] - ay[i];
    return ax.length - ay.length;
  };
  return [...elements].sort(
    (a, b) =>
      cmpNullable(a.storeyElevation, b.storeyElevation, (x, y) => x - y) ||
      cmpNullable(a.name, b.name, byCodePoint) ||
      byCodePoint(a.globalId, b.globalId),
  );
}

/** Writes a bim layer folder: tileset.json, layer.json (type "bim") and elements.json (if given). */
export function writeBimLayerFolder(
  parent: string,
  folderName: string,
  elements: unknown,
  name = "Demo BIM 办公楼",
): string {
  const root = join(parent, folderName);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "tileset.json"), JSON.stringify(TILESET));
  writeFileSync(
    join(root, "layer.json"),
    JSON.stringify(
      manifest({
        type: "bim",
        name,
        featureCount: Array.isArray(elements) ? elements.length : 0,
        bbox: [116.39, 39.91, 116.4, 39.92, -3.5, 10.2],
      }),
    ),
  );
  if (elements !== undefined) writeElementsJson(root, elements);
  return root;
}

/** (Re)writes elements.json: an element array is wrapped in the format envelope, a string is written raw. */
export function writeElementsJson(root: string, elements: unknown): void {
  const text =
    typeof elements === "string"
      ? elements
      : JSON.stringify(Array.isArray(elements) ? { formatVersion: 1, elements } : elements);
  writeFileSync(join(root, "elements.json"), text);
}

/** `count` simple elements, for size/performance and mid-transaction failure tests. */
export function manyElements(count: number, prefix = "M"): BimElement[] {
  const classes = ["IfcWall", "IfcSlab", "IfcDoor", "IfcWindow", "IfcBeam", "IfcColumn", "IfcPipeSegment"];
  const out: BimElement[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const storey = i % 12;
    out[i] = {
      globalId: gid(i, prefix).slice(0, 22),
      ifcClass: classes[i % classes.length],
      name: `构件 ${classes[i % classes.length]} #${i}`,
      objectType: "Generic:Type",
      storey: `${storey + 1}F`,
      storeyElevation: storey * 3.3,
      bbox: bbox(i % 1000, storey * 3.3),
    };
  }
  return out;
}
