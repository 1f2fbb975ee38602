import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import proj4 from "proj4";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../support/run-cli.ts";
import { describeWithSharedData, sharedPath } from "../support/shared-data.ts";
import { checkTileset } from "../support/tileset-checks.ts";
import { writeLas } from "./support/las-writer.ts";
import { nearest, readPointTileset } from "./support/read-point-tileset.ts";

const work = mkdtempSync(join(tmpdir(), "cim-las-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Autzen's user-defined GeoTIFF CRS written out by hand: Oregon Lambert (NAD83 HARN), international feet.
const AUTZEN_PROJ =
  "+proj=lcc +lat_1=43 +lat_2=45.5 +lat_0=41.75 +lon_0=-120.5 +x_0=400000 +y_0=0 +ellps=GRS80 +towgs84=0,0,0 +units=ft +no_defs";
const FT = 0.3048;

/** Source records read here directly (LAS 1.2 format 3), independently of the ingest's reader. */
function readFormat3(file: string) {
  const b = readFileSync(file);
  const start = b.readUInt32LE(96);
  const n = b.readUInt32LE(107);
  const len = b.readUInt16LE(105);
  const s = [b.readDoubleLE(131), b.readDoubleLE(139), b.readDoubleLE(147)];
  const o = [b.readDoubleLE(155), b.readDoubleLE(163), b.readDoubleLE(171)];
  return Array.from({ length: n }, (_, i) => {
    const p = start + i * len;
    return {
      x: b.readInt32LE(p) * s[0] + o[0],
      y: b.readInt32LE(p + 4) * s[1] + o[1],
      z: b.readInt32LE(p + 8) * s[2] + o[2],
      intensity: b.readUInt16LE(p + 12),
      classification: b[p + 15] & 31,
      rgb: [b.readUInt16LE(p + 28), b.readUInt16LE(p + 30), b.readUInt16LE(p + 32)],
    };
  });
}

function toEcef(def: string, x: number, y: number, zMetres: number): number[] {
  const [lon, lat] = proj4(def, "WGS84", [x, y]);
  return proj4("WGS84", "+proj=geocent +datum=WGS84 +units=m +no_defs", [lon, lat, zMetres]) as number[];
}

async function ingest(args: string[]) {
  const r = await runCli(["ingest", "las", ...args]);
  if (r.code !== 0) throw new Error(`cim ingest las failed: ${r.stderr}`);
  return r;
}

describeWithSharedData("cim ingest las (shared data)", () => {
  it("ingests autzen (LAS 1.2, GeoTIFF feet CRS) to a valid tileset that keeps every point where proj4 puts it", async () => {
    const out = join(work, "autzen");
    // A small in-memory budget forces several on-disk subtrees and sampled upper levels.
    const r = await ingest([
      sharedPath("las/autzen_trim.las"),
      "--out",
      out,
      "--max-points-in-memory",
      "20000",
    ]);
    expect(r.stdout).toMatch(/110000 read, 110000 written/);
    expect(r.stdout).toMatch(/from GeoTIFF keys/);
    const report = await checkTileset(join(out, "tileset.json"));
    expect(report.errors).toEqual([]);
    expect(report.tileCount).toBeGreaterThan(8);
    expect(report.contents.reduce((s, c) => s + c.vertexCount, 0)).toBe(110000);

    const points = readPointTileset(join(out, "tileset.json"));
    expect(points.count).toBe(110000);
    const source = readFormat3(sharedPath("las/autzen_trim.las"));
    let worst = 0;
    for (let i = 0; i < source.length; i += 997) {
      const s = source[i];
      const ref = toEcef(AUTZEN_PROJ, s.x, s.y, s.z * FT);
      const near = nearest(
        points,
        ref[0],
        ref[1],
        ref[2],
        (k) =>
          points.intensity[k] === s.intensity &&
          points.classification[k] === s.classification &&
          points.rgb?.[3 * k] === s.rgb[0] &&
          points.rgb?.[3 * k + 1] === s.rgb[1] &&
          points.rgb?.[3 * k + 2] === s.rgb[2],
      );
      worst = Math.max(worst, near.distance);
    }
    expect(worst).toBeLessThan(0.01);
    const layer = JSON.parse(readFileSync(join(out, "layer.json"), "utf8"));
    expect(layer.type).toBe("pointcloud");
    expect(layer.bbox[0]).toBeCloseTo(-123.07, 1);
    expect(layer.bbox[1]).toBeCloseTo(44.05, 1);
  }, 120_000);

  it("gives the same points for simple.las and simple.laz", async () => {
    const a = join(work, "simple-las");
    const b = join(work, "simple-laz");
    await ingest([sharedPath("las/simple.las"), "--out", a, "--crs", AUTZEN_PROJ]);
    await ingest([sharedPath("las/simple.laz"), "--out", b, "--crs", AUTZEN_PROJ]);
    for (const dir of [a, b]) expect((await checkTileset(join(dir, "tileset.json"))).errors).toEqual([]);
    const key = (p: ReturnType<typeof readPointTileset>) =>
      Array.from({ length: p.count }, (_, i) =>
        [
          ...[0, 1, 2].map((c) => p.ecef[3 * i + c].toFixed(3)),
          p.intensity[i],
          p.classification[i],
          p.rgb?.slice(3 * i, 3 * i + 3).join("/"),
        ].join(","),
      ).sort();
    const pa = readPointTileset(join(a, "tileset.json"));
    expect(pa.count).toBe(1065);
    expect(key(readPointTileset(join(b, "tileset.json")))).toEqual(key(pa));
  }, 60_000);

  it("asks for --crs when the file has none", async () => {
    const out = join(work, "no-crs");
    const r = await runCli(["ingest", "las", sharedPath("las/simple.las"), "--out", out]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no CRS in the file.*--crs/);
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    ["malformed/bad_vlr_count.las", /bad_vlr_count\.las: byte 429: .*3 VLRs/],
    ["malformed/garbage_nVariableLength.las", /garbage_nVariableLength\.las: byte 227: .*1069128089 VLRs/],
  ])("fails clearly on %s and writes nothing", async (file, message) => {
    const out = join(work, `bad-${file.replace(/\W/g, "_")}`);
    const r = await runCli(["ingest", "las", sharedPath(`las/${file}`), "--out", out, "--crs", "EPSG:32617"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it("fails clearly on truncated point data and on a file that is not LAS", async () => {
    const whole = readFileSync(sharedPath("las/simple.las"));
    const truncated = join(work, "truncated.las");
    writeFileSync(truncated, whole.subarray(0, 20_000));
    const r1 = await runCli(["ingest", "las", truncated, "--out", join(work, "t-out"), "--crs", AUTZEN_PROJ]);
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toMatch(/truncated\.las: byte 20000: truncated point data/);
    expect(existsSync(join(work, "t-out"))).toBe(false);
    const truncatedLaz = join(work, "truncated.laz");
    writeFileSync(truncatedLaz, readFileSync(sharedPath("las/simple.laz")).subarray(0, 10_000));
    const r3 = await runCli([
      "ingest",
      "las",
      truncatedLaz,
      "--out",
      join(work, "tz-out"),
      "--crs",
      AUTZEN_PROJ,
    ]);
    expect(r3.code).not.toBe(0);
    expect(r3.stderr).toMatch(/truncated\.laz: byte 333: LAZ chunk table offset \d+ is outside the file/);
    expect(existsSync(join(work, "tz-out"))).toBe(false);
    const notLas = join(work, "not.las");
    writeFileSync(notLas, Buffer.from("PK\u0003\u0004 this is a zip, not a point cloud".padEnd(400, ".")));
    const r2 = await runCli(["ingest", "las", notLas, "--out", join(work, "n-out"), "--crs", AUTZEN_PROJ]);
    expect(r2.stderr).toMatch(/not\.las: byte 0: not a LAS\/LAZ file/);
    expect(existsSync(join(work, "n-out"))).toBe(false);
  });
});

describe("cim ingest las (synthetic LAS 1.4)", () => {
  it.each([6, 7, 8] as const)(
    "reads point format %i with extended classification and 16-bit colour",
    async (format) => {
      const file = join(work, `synthetic-${format}.las`);
      // UTM 50N around Suqian; classifications above 31 exist only in the 1.4 extended field.
      const pts = Array.from({ length: 500 }, (_, i) => ({
        x: 500000 + (i % 25) * 2.5,
        y: 3760000 + Math.floor(i / 25) * 2.5,
        z: 20 + (i % 7) * 0.5,
        intensity: 1000 + i,
        classification: [2, 6, 45, 200][i % 4],
        returnNumber: 1 + (i % 3),
        numberOfReturns: 3,
        rgb: [(i * 131) % 65536, (i * 257) % 65536, 65535] as [number, number, number],
        nir: 123,
        gpsTime: i,
      }));
      writeLas(file, format, pts, 'PROJCS["WGS 84 / UTM zone 50N",AUTHORITY["EPSG","32650"]]');
      const out = join(work, `synthetic-${format}`);
      const r = await ingest([file, "--out", out, "--crs", "EPSG:32650"]);
      expect(r.stdout).toMatch(`1.4, point format ${format}`);
      expect((await checkTileset(join(out, "tileset.json"))).errors).toEqual([]);
      const read = readPointTileset(join(out, "tileset.json"));
      expect(read.count).toBe(500);
      const def = "+proj=utm +zone=50 +datum=WGS84 +units=m +no_defs";
      for (const i of [0, 77, 251, 499]) {
        const p = pts[i];
        const ref = toEcef(def, p.x, p.y, p.z);
        const near = nearest(read, ref[0], ref[1], ref[2]);
        expect(near.distance).toBeLessThan(0.005);
        expect(read.intensity[near.index]).toBe(p.intensity);
        expect(read.classification[near.index]).toBe(p.classification);
        if (format >= 7)
          expect(Array.from(read.rgb?.slice(3 * near.index, 3 * near.index + 3) ?? [])).toEqual(
            p.rgb.map((v) => v >> 8),
          );
      }
    },
    60_000,
  );
});
