import { between, pick, seededRandom } from "./random.ts";

/**
 * The built-in demo district: a street grid east of Suqian's old town (Jiangsu), with a few hundred
 * buildings whose uses, names and heights follow a plausible Chinese urban mix. Deterministic.
 */
export const DEMO_CENTRE = { lon: 118.2905, lat: 33.9565 } as const;
export const DEMO_CITY_VERSION = 3;

type Position = [number, number];
type Feature = {
  type: "Feature";
  properties: Record<string, string | number | boolean>;
  geometry: { type: "Polygon"; coordinates: Position[][] } | { type: "LineString"; coordinates: Position[] };
};

const BLOCK_W = 160;
const BLOCK_H = 130;
const STREET = 24;
const COLS = 8;
const ROWS = 6;

/** The empty block reserved for the demo's BIM building (a planned scheme on a vacant plot). */
const BIM_BLOCK = { row: 1, col: 5 } as const;

/** Centre of the vacant plot, where the demo BIM building is placed (ground at ellipsoid height 0). */
export function demoBimSite(): { lon: number; lat: number; height: number; widthM: number; depthM: number } {
  const originX = -((COLS * (BLOCK_W + STREET)) / 2);
  const originY = -((ROWS * (BLOCK_H + STREET)) / 2);
  const x = originX + BIM_BLOCK.col * (BLOCK_W + STREET) + STREET / 2 + BLOCK_W / 2;
  const y = originY + BIM_BLOCK.row * (BLOCK_H + STREET) + STREET / 2 + BLOCK_H / 2;
  const [lon, lat] = toLonLat(x, y);
  return { lon, lat, height: 0, widthM: BLOCK_W, depthM: BLOCK_H };
}

const ROADS_EW = ["洪泽湖路", "人民大道", "幸福路", "项王路", "西湖路", "青海湖路"];
const ROADS_NS = ["发展大道", "黄河路", "太湖路", "宿支路", "珠江路", "富康大道", "古黄河路", "迎宾大道"];
const ESTATES = ["金柏", "御景", "润园", "水岸", "锦绣", "书香", "翠苑", "湖滨", "悦府", "名都"];
const TOWERS = ["宿迁国际金融中心", "苏宁广场", "运河大厦", "楚街商务中心", "科创大厦", "宿迁传媒大厦"];

type Use = "住宅" | "商业" | "办公" | "学校" | "医院" | "公共服务";

interface Building {
  use: Use;
  name: string;
  floors: number;
  height: number;
  rings: Position[][];
}

export interface DemoCity {
  buildings: { type: "FeatureCollection"; features: Feature[] };
  roads: { type: "FeatureCollection"; features: Feature[] };
}

/** Metres east/north of the centre to lon/lat. */
function toLonLat(x: number, y: number): Position {
  const lat = DEMO_CENTRE.lat + y / 110_940;
  const lon = DEMO_CENTRE.lon + x / (111_320 * Math.cos((DEMO_CENTRE.lat * Math.PI) / 180));
  return [round7(lon), round7(lat)];
}

const round7 = (v: number) => Math.round(v * 1e7) / 1e7;

function rect(x: number, y: number, w: number, h: number): Position[] {
  return [
    [x, y],
    [x + w, y],
    [x + w, y + h],
    [x, y + h],
    [x, y],
  ];
}

function lShape(x: number, y: number, w: number, h: number, cut: number): Position[] {
  return [
    [x, y],
    [x + w, y],
    [x + w, y + h * cut],
    [x + w * cut, y + h * cut],
    [x + w * cut, y + h],
    [x, y + h],
    [x, y],
  ];
}

export function generateDemoCity(seed = 20261121): DemoCity {
  const rand = seededRandom(seed);
  const buildings: Feature[] = [];
  const originX = -((COLS * (BLOCK_W + STREET)) / 2);
  const originY = -((ROWS * (BLOCK_H + STREET)) / 2);
  let serial = 1;

  for (let row = 0; row < ROWS; row++) {
    for (let col = 0; col < COLS; col++) {
      const bx = originX + col * (BLOCK_W + STREET) + STREET / 2;
      const by = originY + row * (BLOCK_H + STREET) + STREET / 2;
      // One block is left empty: the BIM design scheme of the demo stands there.
      if (row === BIM_BLOCK.row && col === BIM_BLOCK.col) continue;
      const central = Math.abs(col - (COLS - 1) / 2) <= 1 && Math.abs(row - (ROWS - 1) / 2) <= 1;
      const roadName = ROADS_EW[row % ROADS_EW.length];
      const block = central
        ? downtownBlock(rand)
        : pick(rand, [residentialBlock, residentialBlock, mixedBlock, campusBlock])(rand);
      for (const b of block) {
        const id = `SQ-${String(serial).padStart(4, "0")}`;
        buildings.push({
          type: "Feature",
          properties: {
            id,
            name: b.name,
            use: b.use,
            floors: b.floors,
            height: Math.round(b.height * 10) / 10,
            address: `宿迁市宿城区${roadName}${100 + serial * 2}号`,
            builtYear: Math.floor(between(rand, 1998, 2025)),
            hasBasement: b.floors > 6,
          },
          geometry: {
            type: "Polygon",
            coordinates: b.rings.map((ring) => ring.map(([x, y]) => toLonLat(bx + x, by + y))),
          },
        });
        serial++;
      }
    }
  }
  return { buildings: { type: "FeatureCollection", features: buildings }, roads: roadGrid(originX, originY) };
}

function tower(
  rand: () => number,
  use: Use,
  name: string,
  floorsLo: number,
  floorsHi: number,
  rings: Position[][],
): Building {
  const floors = Math.floor(between(rand, floorsLo, floorsHi));
  const storey = use === "住宅" ? 3 : use === "办公" ? 4 : 4.5;
  return { use, name, floors, height: floors * storey + between(rand, 1, 4), rings };
}

function residentialBlock(rand: () => number): Building[] {
  const estate = `${pick(rand, ESTATES)}${pick(rand, ["花园", "小区", "华府", "苑"])}`;
  const out: Building[] = [];
  let n = 1;
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) {
      if (rand() < 0.15) continue;
      const w = between(rand, 22, 30);
      const d = between(rand, 11, 14);
      const x = 8 + c * 38 + between(rand, 0, 4);
      const y = 8 + r * 40 + between(rand, 0, 6);
      out.push(tower(rand, "住宅", `${estate}${n++}号楼`, 6, 33, [rect(x, y, w, d)]));
    }
  }
  return out;
}

function mixedBlock(rand: () => number): Building[] {
  const out: Building[] = [];
  // A podium mall with a courtyard (polygon with a hole) and towers around it.
  const mall = `${pick(rand, ["吾悦", "万达", "宝龙", "金鹰"])}广场`;
  out.push({
    use: "商业",
    name: mall,
    floors: 4,
    height: 22,
    rings: [rect(10, 10, 90, 60), rect(35, 25, 40, 30).reverse()],
  });
  out.push(tower(rand, "办公", `${mall}写字楼A座`, 18, 32, [rect(112, 12, 36, 30)]));
  out.push(tower(rand, "住宅", `${mall}公寓`, 20, 30, [lShape(10, 82, 45, 40, 0.45)]));
  for (let i = 0; i < 3; i++)
    out.push(tower(rand, "商业", `${mall}商业街${i + 1}栋`, 2, 4, [rect(70 + i * 28, 85, 22, 16)]));
  return out;
}

function campusBlock(rand: () => number): Building[] {
  const hospital = rand() < 0.4;
  const base = hospital
    ? `宿迁市${pick(rand, ["第一", "中医", "妇幼", "人民"])}医院`
    : `宿迁${pick(rand, ["实验", "钟吾", "新区", "育才"])}${pick(rand, ["小学", "中学"])}`;
  const use: Use = hospital ? "医院" : "学校";
  const out: Building[] = [];
  out.push(
    tower(rand, use, hospital ? `${base}门诊楼` : `${base}教学楼`, 4, hospital ? 12 : 6, [
      lShape(12, 14, 70, 50, 0.4),
    ]),
  );
  out.push(
    tower(rand, use, hospital ? `${base}住院部` : `${base}实验楼`, 5, hospital ? 18 : 5, [
      rect(100, 16, 45, 20),
    ]),
  );
  out.push(
    tower(rand, "公共服务", hospital ? `${base}行政楼` : `${base}体育馆`, 2, 4, [rect(96, 70, 50, 38)]),
  );
  return out;
}

function downtownBlock(rand: () => number): Building[] {
  const out: Building[] = [];
  const name = pick(rand, TOWERS);
  out.push(tower(rand, "办公", name, 38, 62, [rect(20, 20, 42, 42)]));
  out.push(tower(rand, "办公", `${name}二期`, 22, 36, [rect(95, 25, 38, 32)]));
  out.push({
    use: "商业",
    name: `${name}裙楼`,
    floors: 5,
    height: 24,
    rings: [lShape(18, 75, 120, 45, 0.6)],
  });
  return out;
}

function roadGrid(originX: number, originY: number): DemoCity["roads"] {
  const features: Feature[] = [];
  const width = COLS * (BLOCK_W + STREET);
  const height = ROWS * (BLOCK_H + STREET);
  for (let r = 0; r <= ROWS; r++) {
    const y = originY + r * (BLOCK_H + STREET);
    features.push({
      type: "Feature",
      properties: { name: ROADS_EW[r % ROADS_EW.length], kind: "major_road", width: STREET },
      geometry: { type: "LineString", coordinates: [toLonLat(originX, y), toLonLat(originX + width, y)] },
    });
  }
  for (let c = 0; c <= COLS; c++) {
    const x = originX + c * (BLOCK_W + STREET);
    features.push({
      type: "Feature",
      properties: { name: ROADS_NS[c % ROADS_NS.length], kind: "major_road", width: STREET },
      geometry: { type: "LineString", coordinates: [toLonLat(x, originY), toLonLat(x, originY + height)] },
    });
  }
  return { type: "FeatureCollection", features };
}
