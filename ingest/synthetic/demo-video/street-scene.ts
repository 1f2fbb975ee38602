import { between, pick, seededRandom } from "../random.ts";
import { type Point, Raster, type Rgb } from "./raster.ts";

/**
 * A fixed street camera looking down a two-way road between buildings: a pinhole projection of a
 * small 3D world (metres; x to the right, y up, z away from the camera), so cars shrink as they
 * drive away and grow as they come closer. Static parts are drawn once; each frame copies them and
 * adds the moving cars, pedestrians, the traffic light and the on-screen display (camera name and a
 * running timestamp, as real cameras burn in).
 */
export interface StreetSceneOptions {
  width: number;
  height: number;
  fps: number;
  /** Burnt into the top-left corner. */
  cameraName: string;
  /** Wall-clock time of frame 0 (shown in China Standard Time, UTC+8). */
  startTime: Date;
  seed?: number;
}

const CAMERA_HEIGHT = 7;
const ROAD_HALF = 7;
const KERB_OUT = 11;
const FAR = 220;
const NEAR = 1.5;

interface Car {
  lane: number;
  /** Metres per second; negative drives towards the camera. */
  speed: number;
  z0: number;
  color: Rgb;
  width: number;
  height: number;
}

interface Walker {
  x: number;
  speed: number;
  z0: number;
  shirt: Rgb;
}

export class StreetScene {
  private readonly background: Raster;
  private readonly frame: Raster;
  private readonly focal: number;
  private readonly horizon: number;
  private readonly cars: Car[];
  private readonly walkers: Walker[];

  constructor(readonly opts: StreetSceneOptions) {
    const { width, height } = opts;
    this.focal = width * 0.78;
    this.horizon = height * 0.36;
    this.background = new Raster(width, height);
    this.frame = new Raster(width, height);
    const rand = seededRandom(opts.seed ?? 20_240_601);
    const paints: Rgb[] = [
      [200, 30, 35],
      [235, 235, 235],
      [30, 60, 150],
      [20, 20, 24],
      [225, 180, 30],
      [120, 125, 130],
      [40, 120, 70],
    ];
    this.cars = [];
    for (let i = 0; i < 9; i++) {
      const outbound = i % 2 === 0;
      const bus = i === 3;
      this.cars.push({
        lane: outbound
          ? between(rand, 1.6, 2.0) + (i % 4 === 0 ? 3.2 : 0)
          : -between(rand, 1.6, 2.0) - (i % 3 === 0 ? 3.2 : 0),
        speed: (outbound ? 1 : -1) * between(rand, 7, 13),
        z0: between(rand, 12, 152),
        color: bus ? [30, 140, 90] : pick(rand, paints),
        width: bus ? 2.5 : 1.8,
        height: bus ? 3.1 : 1.45,
      });
    }
    this.walkers = [];
    for (let i = 0; i < 6; i++) {
      const left = i % 2 === 0;
      this.walkers.push({
        x: (left ? -1 : 1) * between(rand, 8, 10),
        speed: (rand() < 0.5 ? 1 : -1) * between(rand, 1.1, 1.6),
        z0: between(rand, 12, 60),
        shirt: pick(rand, paints),
      });
    }
    this.drawBackground(rand);
  }

  /** RGBA pixels of frame `index` (the returned buffer is reused by the next call). */
  render(index: number): Uint8Array {
    const t = index / this.opts.fps;
    const f = this.frame;
    f.copyFrom(this.background);
    this.drawTrafficLight(t);

    type Sprite = { z: number; draw: () => void };
    const sprites: Sprite[] = [];
    // Cars loop over the nearer part of the street, where they are big enough to see.
    const span = 140;
    for (const car of this.cars) {
      const z = 12 + ((((car.z0 - 12 + car.speed * t) % span) + span) % span);
      sprites.push({ z, draw: () => this.drawCar(car, z) });
    }
    for (const w of this.walkers) {
      const z = 12 + ((((w.z0 - 12 + w.speed * t) % 60) + 60) % 60);
      sprites.push({ z, draw: () => this.drawWalker(w, z, t) });
    }
    sprites.sort((a, b) => b.z - a.z);
    for (const s of sprites) s.draw();

    this.drawOverlay(index, t);
    return f.data;
  }

  private project(x: number, y: number, z: number): Point {
    const zz = Math.max(z, NEAR);
    return [
      this.opts.width / 2 + (this.focal * x) / zz,
      this.horizon + (this.focal * (CAMERA_HEIGHT - y)) / zz,
    ];
  }

  private quad(r: Raster, pts: [number, number, number][], color: Rgb, alpha = 1): void {
    r.fillPolygon(
      pts.map(([x, y, z]) => this.project(x, y, z)),
      color,
      alpha,
    );
  }

  private drawBackground(rand: () => number): void {
    const r = this.background;
    const { width, height } = this.opts;
    for (let y = 0; y < Math.ceil(this.horizon) + 1; y++) {
      const k = y / this.horizon;
      r.fillRect(0, y, width, y + 1, [
        Math.round(120 + 90 * k),
        Math.round(170 + 60 * k),
        Math.round(225 + 20 * k),
      ]);
    }
    r.fillRect(0, this.horizon, width, height, [95, 100, 92]);
    // Road, kerbs and pavements.
    this.quad(
      r,
      [
        [-ROAD_HALF, 0, NEAR],
        [ROAD_HALF, 0, NEAR],
        [ROAD_HALF, 0, FAR],
        [-ROAD_HALF, 0, FAR],
      ],
      [70, 72, 78],
    );
    for (const side of [-1, 1]) {
      this.quad(
        r,
        [
          [side * ROAD_HALF, 0, NEAR],
          [side * KERB_OUT, 0, NEAR],
          [side * KERB_OUT, 0, FAR],
          [side * ROAD_HALF, 0, FAR],
        ],
        [165, 160, 150],
      );
      this.quad(
        r,
        [
          [side * ROAD_HALF, 0, NEAR],
          [side * (ROAD_HALF + 0.3), 0, NEAR],
          [side * (ROAD_HALF + 0.3), 0, FAR],
          [side * ROAD_HALF, 0, FAR],
        ],
        [205, 205, 200],
      );
    }
    // Lane markings: double yellow centre line, dashed white lane dividers, a zebra crossing.
    for (const dx of [-0.15, 0.15]) {
      this.quad(
        r,
        [
          [dx - 0.06, 0, NEAR],
          [dx + 0.06, 0, NEAR],
          [dx + 0.06, 0, FAR],
          [dx - 0.06, 0, FAR],
        ],
        [230, 190, 40],
      );
    }
    for (const lane of [-3.5, 3.5]) {
      for (let z = 14; z < FAR; z += 9) {
        this.quad(
          r,
          [
            [lane - 0.08, 0, z],
            [lane + 0.08, 0, z],
            [lane + 0.08, 0, z + 4],
            [lane - 0.08, 0, z + 4],
          ],
          [235, 235, 235],
        );
      }
    }
    for (let x = -ROAD_HALF + 0.5; x < ROAD_HALF - 0.5; x += 1.2) {
      this.quad(
        r,
        [
          [x, 0, 16],
          [x + 0.6, 0, 16],
          [x + 0.6, 0, 20],
          [x, 0, 20],
        ],
        [235, 235, 235],
      );
    }
    // Buildings along both pavements, far ones first so near ones cover them.
    const facades: { side: number; z1: number; z2: number; h: number; color: Rgb }[] = [];
    const walls: Rgb[] = [
      [196, 178, 150],
      [170, 180, 190],
      [210, 200, 185],
      [150, 110, 90],
      [185, 190, 175],
    ];
    for (const side of [-1, 1]) {
      for (let z = 8; z < FAR; ) {
        const len = between(rand, 14, 30);
        facades.push({ side, z1: z, z2: z + len, h: between(rand, 10, 42), color: pick(rand, walls) });
        z += len + between(rand, 2, 6);
      }
    }
    facades.sort((a, b) => b.z1 - a.z1);
    for (const b of facades) {
      const x = b.side * KERB_OUT;
      this.quad(
        r,
        [
          [x, 0, b.z1],
          [x, b.h, b.z1],
          [x, b.h, b.z2],
          [x, 0, b.z2],
        ],
        b.color,
      );
      // The end wall facing the camera, a little darker.
      const dark: Rgb = [b.color[0] * 0.75, b.color[1] * 0.75, b.color[2] * 0.75];
      this.quad(
        r,
        [
          [x, 0, b.z1],
          [x + b.side * 14, 0, b.z1],
          [x + b.side * 14, b.h, b.z1],
          [x, b.h, b.z1],
        ],
        dark,
      );
      for (let y = 3; y + 2 < b.h; y += 3.2) {
        for (let z = b.z1 + 1.2; z + 1.6 < b.z2; z += 3) {
          const lit = rand() < 0.2;
          this.quad(
            r,
            [
              [x, y, z],
              [x, y + 1.8, z],
              [x, y + 1.8, z + 1.6],
              [x, y, z + 1.6],
            ],
            lit ? [250, 230, 160] : [60, 80, 100],
          );
        }
      }
      // Shop sign on the ground floor.
      this.quad(
        r,
        [
          [x, 2.2, b.z1 + 1],
          [x, 2.9, b.z1 + 1],
          [x, 2.9, b.z2 - 1],
          [x, 2.2, b.z2 - 1],
        ],
        pick(rand, [
          [200, 40, 40],
          [40, 90, 170],
          [230, 150, 30],
        ] as Rgb[]),
      );
    }
    // Street lamps.
    for (const side of [-1, 1]) {
      for (let z = 20; z < FAR; z += 30) {
        const x = side * (ROAD_HALF + 0.8);
        this.quad(
          r,
          [
            [x - 0.1, 0, z],
            [x + 0.1, 0, z],
            [x + 0.1, 8, z],
            [x - 0.1, 8, z],
          ],
          [60, 60, 65],
        );
        this.quad(
          r,
          [
            [x, 7.8, z],
            [x - side * 1.5, 7.8, z],
            [x - side * 1.5, 8.1, z],
            [x, 8.1, z],
          ],
          [60, 60, 65],
        );
      }
    }
  }

  private drawCar(car: Car, z: number): void {
    const f = this.frame;
    const x = car.lane;
    const hw = car.width / 2;
    const body: Rgb = car.color;
    const shade: Rgb = [body[0] * 0.7, body[1] * 0.7, body[2] * 0.7];
    // Shadow, body, cabin, glass, lights, wheels: the face the camera sees (rear or front).
    this.quad(
      f,
      [
        [x - hw - 0.2, 0, z],
        [x + hw + 0.2, 0, z],
        [x + hw + 0.2, 0, z + 4.5],
        [x - hw - 0.2, 0, z + 4.5],
      ],
      [40, 40, 44],
      0.6,
    );
    const roof = car.height > 2 ? car.height : car.height + 0.5;
    this.quad(
      f,
      [
        [x - hw * 0.85, car.height - 0.1, z + 0.3],
        [x + hw * 0.85, car.height - 0.1, z + 0.3],
        [x + hw * 0.8, roof, z + 1.2],
        [x - hw * 0.8, roof, z + 1.2],
      ],
      shade,
    );
    this.quad(
      f,
      [
        [x - hw, 0.25, z],
        [x + hw, 0.25, z],
        [x + hw, car.height, z],
        [x - hw, car.height, z],
      ],
      body,
    );
    this.quad(
      f,
      [
        [x - hw * 0.75, car.height * 0.62, z],
        [x + hw * 0.75, car.height * 0.62, z],
        [x + hw * 0.75, car.height * 0.93, z],
        [x - hw * 0.75, car.height * 0.93, z],
      ],
      [45, 55, 70],
    );
    const light: Rgb = car.speed > 0 ? [230, 30, 30] : [255, 245, 200];
    for (const s of [-1, 1]) {
      const lx = x + s * (hw - 0.25);
      this.quad(
        f,
        [
          [lx - 0.18, 0.55, z],
          [lx + 0.18, 0.55, z],
          [lx + 0.18, 0.75, z],
          [lx - 0.18, 0.75, z],
        ],
        light,
      );
      const wx = x + s * (hw - 0.3);
      this.quad(
        f,
        [
          [wx - 0.22, 0, z],
          [wx + 0.22, 0, z],
          [wx + 0.22, 0.35, z],
          [wx - 0.22, 0.35, z],
        ],
        [20, 20, 20],
      );
    }
    // Plate.
    this.quad(
      f,
      [
        [x - 0.25, 0.3, z],
        [x + 0.25, 0.3, z],
        [x + 0.25, 0.45, z],
        [x - 0.25, 0.45, z],
      ],
      [30, 70, 190],
    );
  }

  private drawWalker(w: Walker, z: number, t: number): void {
    const f = this.frame;
    const swing = Math.sin(t * 7 + w.z0) * 0.25;
    this.quad(
      f,
      [
        [w.x - 0.2 + swing, 0, z],
        [w.x + swing, 0, z],
        [w.x + swing, 0.9, z],
        [w.x - 0.2 + swing, 0.9, z],
      ],
      [40, 40, 60],
    );
    this.quad(
      f,
      [
        [w.x - swing, 0, z],
        [w.x + 0.2 - swing, 0, z],
        [w.x + 0.2 - swing, 0.9, z],
        [w.x - swing, 0.9, z],
      ],
      [40, 40, 60],
    );
    this.quad(
      f,
      [
        [w.x - 0.25, 0.85, z],
        [w.x + 0.25, 0.85, z],
        [w.x + 0.25, 1.5, z],
        [w.x - 0.25, 1.5, z],
      ],
      w.shirt,
    );
    this.quad(
      f,
      [
        [w.x - 0.12, 1.5, z],
        [w.x + 0.12, 1.5, z],
        [w.x + 0.12, 1.75, z],
        [w.x - 0.12, 1.75, z],
      ],
      [225, 190, 160],
    );
  }

  private drawTrafficLight(t: number): void {
    const f = this.frame;
    const x = ROAD_HALF + 0.6;
    const z = 24;
    this.quad(
      f,
      [
        [x - 0.12, 0, z],
        [x + 0.12, 0, z],
        [x + 0.12, 5.5, z],
        [x - 0.12, 5.5, z],
      ],
      [50, 50, 55],
    );
    this.quad(
      f,
      [
        [x - 0.45, 5.5, z],
        [x + 0.45, 5.5, z],
        [x + 0.45, 8, z],
        [x - 0.45, 8, z],
      ],
      [25, 25, 28],
    );
    // 4 s green, 1 s amber, 3 s red: the clip shows every phase.
    const phase = t % 8;
    const on = phase < 4 ? 2 : phase < 5 ? 1 : 0;
    const colors: Rgb[] = [
      [240, 40, 40],
      [250, 180, 30],
      [40, 220, 90],
    ];
    for (let i = 0; i < 3; i++) {
      const y = 7.6 - i * 0.8;
      const c = i === on ? colors[i] : ([60, 60, 60] as Rgb);
      this.quad(
        f,
        [
          [x - 0.28, y - 0.56, z],
          [x + 0.28, y - 0.56, z],
          [x + 0.28, y, z],
          [x - 0.28, y, z],
        ],
        c,
      );
    }
  }

  private drawOverlay(index: number, t: number): void {
    const f = this.frame;
    const { width, height, cameraName, startTime } = this.opts;
    const scale = width >= 480 ? 2 : 1;
    const pad = 6 * scale;
    const line = 7 * scale;
    const name = cameraName;
    f.fillRect(pad - 4, pad - 4, pad + f.textWidth(name, scale) + 4, pad + line + 4, [0, 0, 0], 0.45);
    f.text(pad, pad, name, [255, 255, 255], scale);

    const stamp = formatCst(new Date(startTime.getTime() + t * 1000));
    const sw = f.textWidth(stamp, scale);
    f.fillRect(width - pad - sw - 4, pad - 4, width - pad + 4, pad + line + 4, [0, 0, 0], 0.45);
    f.text(width - pad - sw, pad, stamp, [255, 255, 255], scale);

    const counter = `FRAME ${String(index).padStart(4, "0")}`;
    f.fillRect(
      pad - 4,
      height - pad - line - 4,
      pad + f.textWidth(counter, scale) + 4,
      height - pad + 4,
      [0, 0, 0],
      0.45,
    );
    f.text(pad, height - pad - line, counter, [255, 255, 255], scale);
    // Recording dot, blinking once a second.
    if (Math.floor(t * 2) % 2 === 0) {
      f.fillRect(width - pad - 4 * scale, height - pad - 4 * scale, width - pad, height - pad, [230, 30, 30]);
    }
  }
}

/** YYYY-MM-DD HH:MM:SS in UTC+8, the way Chinese CCTV cameras print it. */
export function formatCst(d: Date): string {
  const cst = new Date(d.getTime() + 8 * 3600_000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${cst.getUTCFullYear()}-${p(cst.getUTCMonth() + 1)}-${p(cst.getUTCDate())} ${p(cst.getUTCHours())}:${p(
    cst.getUTCMinutes(),
  )}:${p(cst.getUTCSeconds())}`;
}
