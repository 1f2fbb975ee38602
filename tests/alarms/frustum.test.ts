import { describe, expect, it } from "vitest";
import { defaultVfov } from "../../models/cameras.ts";
import { type CameraView, enu, viewTest } from "../../tiles-server/cameras/frustum.ts";

// A camera in Suqian on a 10 m pole, looking east, level, 60° x 40° field of view, 150 m range.
const camera: CameraView = {
  lon: 118.3,
  lat: 33.95,
  height: 10,
  heading: 90,
  pitch: 0,
  hfov: 60,
  vfov: 40,
  range: 150,
};

/** Metres per degree at the camera's latitude (small offsets; the ENU conversion is exact anyway). */
const M_PER_DEG_LAT = 110_922; // meridian arc at 33.95°N on the GRS80/CGCS2000 ellipsoid, ≈ 1° of latitude
const M_PER_DEG_LON = 92_445; // parallel arc at 33.95°N (N·cos φ)

/** A point `east`/`north` metres away from the camera at height `h`. */
function at(east: number, north: number, h = camera.height) {
  return { lon: camera.lon + east / M_PER_DEG_LON, lat: camera.lat + north / M_PER_DEG_LAT, height: h };
}

describe("camera view frustum", () => {
  it("puts a point 100 m east at ENU (100, 0, ~0) with bearing 90°", () => {
    const [e, n, u] = enu(camera, at(100, 0));
    expect(e).toBeCloseTo(100, 0);
    expect(Math.abs(n)).toBeLessThan(0.05);
    // Earth curvature drops a point 100 m away by d²/2R ≈ 0.8 mm below the tangent plane.
    expect(u).toBeCloseTo(-0.0008, 3);
    expect(viewTest(camera, at(100, 0)).bearing).toBeCloseTo(90, 2);
  });

  it("sees a point straight ahead within range", () => {
    const t = viewTest(camera, at(100, 0));
    expect(t.sees).toBe(true);
    expect(t.yaw).toBeCloseTo(0, 2);
    expect(t.tilt).toBeCloseTo(0, 2);
    expect(t.distance).toBeCloseTo(100, 0);
  });

  it("does not see a point straight ahead beyond its range", () => {
    const t = viewTest(camera, at(160, 0));
    expect(t.sees).toBe(false);
    expect(t.yaw).toBeCloseTo(0, 2);
  });

  it("does not see a point behind it", () => {
    const t = viewTest(camera, at(-50, 0));
    expect(t.sees).toBe(false);
    expect(t.bearing).toBeCloseTo(270, 2);
  });

  it("sees just inside the horizontal half-angle (30°) and not just outside", () => {
    // 100 m ahead, 100·tan(29°) = 55.43 m to the right (south when looking east) is 29° off axis.
    const inside = viewTest(camera, at(100, -100 * Math.tan((29 * Math.PI) / 180)));
    expect(inside.yaw).toBeCloseTo(29, 1);
    expect(inside.sees).toBe(true);
    const outside = viewTest(camera, at(100, -100 * Math.tan((31 * Math.PI) / 180)));
    expect(outside.yaw).toBeCloseTo(31, 1);
    expect(outside.sees).toBe(false);
    // The left side (north) is symmetric.
    expect(viewTest(camera, at(100, 100 * Math.tan((31 * Math.PI) / 180))).yaw).toBeCloseTo(-31, 1);
    expect(viewTest(camera, at(100, 100 * Math.tan((31 * Math.PI) / 180))).sees).toBe(false);
  });

  it("sees just inside the vertical half-angle (20°) above and below, not beyond", () => {
    const up19 = viewTest(camera, at(100, 0, camera.height + 100 * Math.tan((19 * Math.PI) / 180)));
    expect(up19.tilt).toBeCloseTo(19, 1);
    expect(up19.sees).toBe(true);
    const up21 = viewTest(camera, at(100, 0, camera.height + 100 * Math.tan((21 * Math.PI) / 180)));
    expect(up21.sees).toBe(false);
    const down19 = viewTest(camera, at(100, 0, camera.height - 100 * Math.tan((19 * Math.PI) / 180)));
    expect(down19.tilt).toBeCloseTo(-19, 1);
    expect(down19.sees).toBe(true);
    // The ground 10 m below at 20 m ahead is 26.6° down: outside a level camera's view.
    const ground = viewTest(camera, at(20, 0, 0));
    expect(ground.tilt).toBeCloseTo(-26.57, 1);
    expect(ground.sees).toBe(false);
  });

  it("pitching down 30° brings the ground ahead into view and the horizon out of it", () => {
    const down = { ...camera, pitch: -30 };
    // Ground 10 m below, 17.32 m ahead: exactly 30° down, on the optical axis.
    const onAxis = viewTest(down, at(17.32, 0, 0));
    expect(onAxis.tilt).toBeCloseTo(0, 1);
    expect(onAxis.sees).toBe(true);
    // A point level with the camera is 30° above the axis: outside the 20° half-angle.
    expect(viewTest(down, at(100, 0)).sees).toBe(false);
  });

  it("uses heading clockwise from north", () => {
    const north = { ...camera, heading: 0 };
    expect(viewTest(north, at(0, 100)).sees).toBe(true);
    expect(viewTest(north, at(100, 0)).sees).toBe(false);
    const southWest = { ...camera, heading: 225 };
    expect(viewTest(southWest, at(-70, -70)).sees).toBe(true);
    expect(viewTest(southWest, at(-70, -70)).yaw).toBeCloseTo(0, 1);
    expect(viewTest(southWest, at(70, 70)).sees).toBe(false);
  });

  it("derives a 16:9 vertical field of view from the horizontal one", () => {
    // hfov 90°: tan(45°)·9/16 = 0.5625 -> 2·atan(0.5625) = 58.72°.
    expect(defaultVfov(90)).toBeCloseTo(58.72, 2);
  });
});
