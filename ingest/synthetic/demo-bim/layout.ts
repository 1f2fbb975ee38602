/**
 * The design of 「宿迁科创中心」 as plain data (no IFC): a 4-storey office block of 48 m x 24 m for the demo's
 * vacant plot. Coordinates are metres in the building's local frame: origin at the plot centre, +X east,
 * +Y north (true north), +Z up; element coordinates are relative to their storey (storey elevation at z = 0).
 */

export const FOOTPRINT_LENGTH = 48; // along X (east-west)
export const FOOTPRINT_WIDTH = 24; // along Y (north-south)
export const STOREY_HEIGHT = 4.2;
export const SLAB_THICKNESS = 0.2;
export const ROOF_THICKNESS = 0.2;
export const EXTERIOR_WALL_THICKNESS = 0.3;
export const INTERIOR_WALL_THICKNESS = 0.2;
/** Walls stand on their storey's floor slab and stop under the next slab (or the roof slab). */
export const WALL_HEIGHT = STOREY_HEIGHT - SLAB_THICKNESS;

export interface StoreyPlan {
  /** Index 0..3. */
  index: number;
  /** 一层 .. 四层 */
  name: string;
  /** 1F .. 4F */
  code: string;
  elevation: number;
}

export interface InsertPlan {
  kind: "window" | "door";
  key: string;
  name: string;
  /** Chinese drawing code, e.g. C2421 (window 2400 x 2100), M1021 (door 1000 x 2100). */
  code: string;
  /** Distance along the wall from its start to the insert's left edge. */
  offset: number;
  width: number;
  sill: number;
  height: number;
  external: boolean;
  /** Doors: IfcDoorTypeOperationEnum. */
  operation?: "SINGLE_SWING_LEFT" | "DOUBLE_DOOR_DOUBLE_SWING";
  fireRating?: string;
}

export interface WallPlan {
  key: string;
  name: string;
  storey: StoreyPlan;
  /** Start of the wall axis (centre line), relative to the storey. */
  start: [number, number];
  /** Unit direction of the axis in plan. */
  dir: [number, number];
  length: number;
  thickness: number;
  height: number;
  external: boolean;
  loadBearing: boolean;
  fireRating: string;
  inserts: InsertPlan[];
}

export interface SlabPlan {
  key: string;
  name: string;
  storey: StoreyPlan;
  type: "FLOOR" | "ROOF";
  /** Bottom of the slab relative to the storey. */
  z: number;
  thickness: number;
  external: boolean;
}

export interface SpacePlan {
  key: string;
  name: string;
  longName: string;
  /** Room number, e.g. 101. */
  reference: string;
  storey: StoreyPlan;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  height: number;
  publiclyAccessible: boolean;
}

export interface BuildingPlan {
  storeys: StoreyPlan[];
  walls: WallPlan[];
  slabs: SlabPlan[];
  spaces: SpacePlan[];
}

const STOREY_NAMES = ["一层", "二层", "三层", "四层"];

const HX = FOOTPRINT_LENGTH / 2;
const HY = FOOTPRINT_WIDTH / 2;
const ET = EXTERIOR_WALL_THICKNESS;
const IT = INTERIOR_WALL_THICKNESS;
/** Cross walls split the plan into a west zone, an open-plan centre and an east zone. */
const CROSS_X = 12;

/** Window centres along X on the south and north façades. */
const LONG_FACADE_WINDOWS = [-20, -16, -7.5, -2.5, 2.5, 7.5, 16, 20];
/** Window centres along Y on the east and west façades. */
const SHORT_FACADE_WINDOWS = [-6, 6];
const WINDOW = { width: 2.4, height: 2.1, sill: 0.9, code: "C2421" };
const MAIN_ENTRANCE = { centreX: -18, width: 3, height: 3, code: "M3030" };

/** Chinese storey name: 一层, 二层 ... 十层, 十一层 ... (towers for the IFC benchmark have many). */
function storeyName(index: number): string {
  if (index < STOREY_NAMES.length) return STOREY_NAMES[index];
  const digits = "零一二三四五六七八九";
  const n = index + 1;
  const tens = Math.floor(n / 10) % 10;
  const hundreds = Math.floor(n / 100);
  let text = hundreds ? `${digits[hundreds]}百` : "";
  if (tens) text += `${tens === 1 && !hundreds ? "" : digits[tens]}十`;
  else if (hundreds && n % 10) text += "零";
  if (n % 10) text += digits[n % 10];
  return `${text}层`;
}

/** The demo's 4-storey block; the benchmark asks for taller towers of the same plan. */
export function demoBimLayout(storeyCount = STOREY_NAMES.length): BuildingPlan {
  const storeys: StoreyPlan[] = Array.from({ length: storeyCount }, (_, index) => storeyName(index)).map(
    (name, index) => ({
      index,
      name,
      code: `${index + 1}F`,
      elevation: round(index * STOREY_HEIGHT),
    }),
  );
  const walls: WallPlan[] = [];
  const slabs: SlabPlan[] = [];
  const spaces: SpacePlan[] = [];

  for (const storey of storeys) {
    const s = storey.code;
    const ground = storey.index === 0;
    const wall = (
      id: string,
      name: string,
      start: [number, number],
      dir: [number, number],
      length: number,
      kind: "exterior" | "cross" | "partition",
    ): WallPlan => {
      const w: WallPlan = {
        key: `wall/${s}/${id}`,
        name: `${storey.name}${name}`,
        storey,
        start,
        dir,
        length: round(length),
        thickness: kind === "exterior" ? ET : IT,
        height: WALL_HEIGHT,
        external: kind === "exterior",
        loadBearing: kind !== "partition",
        fireRating: kind === "partition" ? "EI60" : "REI90",
        inserts: [],
      };
      walls.push(w);
      return w;
    };

    // Exterior walls, running counter-clockwise; axis on the wall's centre line, outer face on the footprint.
    const south = wall("south", "南外墙", [-HX, -HY + ET / 2], [1, 0], FOOTPRINT_LENGTH, "exterior");
    const east = wall(
      "east",
      "东外墙",
      [HX - ET / 2, -HY + ET],
      [0, 1],
      FOOTPRINT_WIDTH - 2 * ET,
      "exterior",
    );
    const north = wall("north", "北外墙", [HX, HY - ET / 2], [-1, 0], FOOTPRINT_LENGTH, "exterior");
    const west = wall(
      "west",
      "西外墙",
      [-HX + ET / 2, HY - ET],
      [0, -1],
      FOOTPRINT_WIDTH - 2 * ET,
      "exterior",
    );
    // Interior walls.
    const innerY0 = -HY + ET;
    const innerLen = FOOTPRINT_WIDTH - 2 * ET;
    const crossWest = wall("cross-west", "西隔墙", [-CROSS_X, innerY0], [0, 1], innerLen, "cross");
    const crossEast = wall("cross-east", "东隔墙", [CROSS_X, innerY0], [0, 1], innerLen, "cross");
    const partitionX0 = CROSS_X + IT / 2;
    wall("partition-east", "东区隔墙", [partitionX0, 0], [1, 0], HX - ET - partitionX0, "partition");

    // Windows: offsets along each wall from its start, so façades facing any direction use the same rule.
    const window = (w: WallPlan, i: number, centre: number) => {
      w.inserts.push({
        kind: "window",
        key: `${w.key}/window-${i + 1}`,
        name: `${w.name}窗${i + 1}`,
        code: WINDOW.code,
        offset: round(centre - WINDOW.width / 2),
        width: WINDOW.width,
        sill: WINDOW.sill,
        height: WINDOW.height,
        external: true,
      });
    };
    LONG_FACADE_WINDOWS.forEach((x, i) => {
      // The main entrance replaces the two lobby windows on the ground floor.
      if (!(ground && Math.abs(x - MAIN_ENTRANCE.centreX) <= 2)) window(south, i, x + HX);
      window(north, i, HX - x);
    });
    SHORT_FACADE_WINDOWS.forEach((y, i) => {
      window(east, i, y - innerY0);
      window(west, i, -innerY0 - y);
    });

    // Doors.
    if (ground) {
      south.inserts.push({
        kind: "door",
        key: `${south.key}/main-entrance`,
        name: "主入口",
        code: MAIN_ENTRANCE.code,
        offset: round(MAIN_ENTRANCE.centreX + HX - MAIN_ENTRANCE.width / 2),
        width: MAIN_ENTRANCE.width,
        sill: 0,
        height: MAIN_ENTRANCE.height,
        external: true,
        operation: "DOUBLE_DOOR_DOUBLE_SWING",
        fireRating: "EI30",
      });
    }
    const door = (
      w: WallPlan,
      id: string,
      name: string,
      centreY: number,
      width: number,
      fireRating: string,
    ) => {
      w.inserts.push({
        kind: "door",
        key: `${w.key}/door-${id}`,
        name: `${storey.name}${name}`,
        code: width > 1.2 ? "M1521" : "M1021",
        offset: round(centreY - innerY0 - width / 2),
        width,
        sill: 0,
        height: 2.1,
        external: false,
        operation: width > 1.2 ? "DOUBLE_DOOR_DOUBLE_SWING" : "SINGLE_SWING_LEFT",
        fireRating,
      });
    };
    door(crossWest, "west-zone", ground ? "门厅门" : "会议室门", 0, 1.5, "EI30");
    door(crossEast, "east-south", ground ? "会议室门" : "经理办公室门", -6, 1, "EI30");
    door(crossEast, "stair", "楼梯间防火门", 6, 1, "EI60");

    // Slabs: the floor slab under each storey (the ground slab under 一层), the roof slab over 四层.
    slabs.push({
      key: `slab/${s}/floor`,
      name: `${storey.name}楼板`,
      storey,
      type: "FLOOR",
      z: -SLAB_THICKNESS,
      thickness: SLAB_THICKNESS,
      external: ground,
    });
    if (storey.index === storeys.length - 1) {
      slabs.push({
        key: `slab/${s}/roof`,
        name: "屋面板",
        storey,
        type: "ROOF",
        z: WALL_HEIGHT,
        thickness: ROOF_THICKNESS,
        external: true,
      });
    }

    // Spaces: the clear rectangles between the walls.
    const n = storey.index + 1;
    const room = (
      i: number,
      name: string,
      x0: number,
      y0: number,
      x1: number,
      y1: number,
      publiclyAccessible = false,
    ) => {
      spaces.push({
        key: `space/${s}/${i}`,
        name,
        longName: `${storey.name}${name}`,
        reference: `${n}0${i}`,
        storey,
        x0: round(x0),
        y0: round(y0),
        x1: round(x1),
        y1: round(y1),
        height: WALL_HEIGHT,
        publiclyAccessible,
      });
    };
    const inX0 = -HX + ET;
    const inX1 = HX - ET;
    const inY1 = HY - ET;
    room(1, ground ? "门厅" : "会议室", inX0, innerY0, -CROSS_X - IT / 2, inY1, ground);
    room(2, "开放办公区", -CROSS_X + IT / 2, innerY0, CROSS_X - IT / 2, inY1);
    room(3, ground ? "会议室" : "经理办公室", CROSS_X + IT / 2, innerY0, inX1, -IT / 2);
    room(4, "楼梯间", CROSS_X + IT / 2, IT / 2, inX1, inY1, true);
  }
  return { storeys, walls, slabs, spaces };
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
