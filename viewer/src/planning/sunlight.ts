import {
  Cartesian3,
  Math as CesiumMath,
  JulianDate,
  Matrix3,
  Simon1994PlanetaryPositions,
  Transforms,
} from "cesium";
import type { BuildingGeometry } from "./building-geometry.ts";
import { firstHit } from "./ray-test.ts";

export interface SunlightOptions {
  /** Local calendar date, "YYYY-MM-DD". */
  date: string;
  /** Local hours (decimal), start inclusive, end exclusive. */
  fromHour: number;
  toHour: number;
  stepMinutes: number;
  /** Hours east of UTC of the local clock (China Standard Time: 8). */
  utcOffset: number;
}

export interface SunSlot {
  /** Local time the slot starts, "HH:MM". */
  time: string;
  /** Sun elevation at the middle of the slot, degrees. */
  elevation: number;
  azimuth: number;
  sunny: boolean;
  /** Id of the building casting the shade, when shaded by one. */
  shadedBy?: string;
}

export interface SunlightResult {
  point: { lon: number; lat: number; height: number };
  options: SunlightOptions;
  slots: SunSlot[];
  sunHours: number;
}

/**
 * The sun's direction from the Earth's centre, in Earth-fixed coordinates: the same model (Simon 1994
 * planetary positions, TEME to pseudo-fixed rotation) CesiumJS uses to place its sun and cast its shadows, so
 * the numbers agree with what the shadow animation shows.
 */
export function sunDirection(time: JulianDate, result = new Cartesian3()): Cartesian3 {
  const inertial = Simon1994PlanetaryPositions.computeSunPositionInEarthInertialFrame(time);
  const rotation = Transforms.computeTemeToPseudoFixedMatrix(time, new Matrix3());
  Matrix3.multiplyByVector(rotation, inertial, result);
  return Cartesian3.normalize(result, result);
}

/** JulianDate of a local clock time on a date. */
export function localTime(date: string, hour: number, utcOffset: number): JulianDate {
  const [y, m, d] = date.split("-").map(Number);
  const ms = Date.UTC(y, m - 1, d) + (hour - utcOffset) * 3_600_000;
  return JulianDate.fromDate(new Date(ms));
}

/**
 * Hours of sun at a point: the period is cut into slots of stepMinutes; in each, the sun is sampled at the
 * slot's middle and a ray from the point towards it is tested against every building of the layer. A slot is
 * sunny when the sun is above the horizon and no building is in the way.
 */
export function sunlightAt(
  buildings: readonly BuildingGeometry[],
  point: { lon: number; lat: number; height: number },
  options: SunlightOptions,
): SunlightResult {
  // A little above the ground, so the ground itself (or a roof the point was picked on) is not an obstacle.
  const origin = Cartesian3.fromDegrees(point.lon, point.lat, point.height + 0.1);
  const enu = Transforms.eastNorthUpToFixedFrame(origin);
  const east = new Cartesian3(enu[0], enu[1], enu[2]);
  const north = new Cartesian3(enu[4], enu[5], enu[6]);
  const up = new Cartesian3(enu[8], enu[9], enu[10]);
  const step = Math.max(1, options.stepMinutes) / 60;
  const slots: SunSlot[] = [];
  const dir = new Cartesian3();
  for (let h = options.fromHour; h < options.toHour - 1e-9; h += step) {
    sunDirection(localTime(options.date, h + step / 2, options.utcOffset), dir);
    const elevation = CesiumMath.toDegrees(Math.asin(Cartesian3.dot(dir, up)));
    const azimuth =
      (CesiumMath.toDegrees(Math.atan2(Cartesian3.dot(dir, east), Cartesian3.dot(dir, north))) + 360) % 360;
    let sunny = elevation > 0;
    let shadedBy: string | undefined;
    if (sunny) {
      const hit = firstHit(buildings, origin, dir, 5000);
      if (hit) {
        sunny = false;
        shadedBy = hit.building.id;
      }
    }
    slots.push({ time: clock(h), elevation: round2(elevation), azimuth: round2(azimuth), sunny, shadedBy });
  }
  const sunHours = round2(slots.filter((s) => s.sunny).length * step);
  return { point, options, slots, sunHours };
}

function clock(hour: number): string {
  const minutes = Math.round(hour * 60);
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

const round2 = (v: number) => Math.round(v * 100) / 100;
