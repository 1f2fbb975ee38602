import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ingestLas } from "../../ingest/pointcloud/ingest-las.ts";
import { seededRandom } from "../../ingest/synthetic/random.ts";
import { runCli } from "../support/run-cli.ts";
import { describeWithSharedData, sharedPath } from "../support/shared-data.ts";
import { writeLas } from "./support/las-writer.ts";
import { type PotreeNode, type PotreePoint, readPotree } from "./support/read-potree.ts";

const work = mkdtempSync(join(tmpdir(), "cim-potree-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface LasRecord {
  xyz: [number, number, number];
  intensity: number;
  returnNumber: number;
  numberOfReturns: number;
  classification: number;
  rgb: [number, number, number] | null;
}

/** Point records of LAS 1.2 formats 0-3 or LAS 1.4 formats 6-8, read here independently of the ingest. */
function readLasRecords(file: string): LasRecord[] {
  const b = readFileSync(file);
  const minor = b[25];
  const start = b.readUInt32LE(96);
  const format = b[104] & 0x3f;
  const len = b.readUInt16LE(105);
  const n = minor >= 4 ? Number(b.readBigUInt64LE(247)) : b.readUInt32LE(107);
  const s = [b.readDoubleLE(131), b.readDoubleLE(139), b.readDoubleLE(147)];
  const o = [b.readDoubleLE(155), b.readDoubleLE(163), b.readDoubleLE(171)];
  const rgbAt = { 2: 20, 3: 28, 7: 30, 8: 30 }[format];
  return Array.from({ length: n }, (_, i) => {
    const p = start + i * len;
    const extended = format >= 6;
    const r = b[p + 14];
    return {
      xyz: [0, 1, 2].map((c) => b.readInt32LE(p + 4 * c) * s[c] + o[c]) as [number, number, number],
      intensity: b.readUInt16LE(p + 12),
      returnNumber: extended ? r & 15 : r & 7,
      numberOfReturns: extended ? r >> 4 : (r >> 3) & 7,
      classification: extended ? b[p + 16] : b[p + 15] & 31,
      rgb:
        rgbAt === undefined
          ? null
          : ([0, 1, 2].map((c) => b.readUInt16LE(p + rgbAt + 2 * c)) as [number, number, number]),
    };
  });
}

const keyOf = (xyz: number[], rest: Array<number | string>) =>
  [...xyz.map((v) => v.toFixed(3)), ...rest].join(",");

function pointKey(p: PotreePoint, colour: boolean): string {
  const v = p.values;
  return keyOf(p.position, [
    v.intensity[0],
    v["return number"][0],
    v["number of returns"][0],
    v.classification[0],
    colour ? v.rgb.join("/") : "-",
  ]);
}

/** 16-bit colour (any channel above 255) is kept as its high byte, 8-bit colour as it is. */
function colourShift(records: LasRecord[]): number {
  return records.some((r) => r.rgb?.some((c) => c > 255)) ? 8 : 0;
}

function recordKey(r: LasRecord, colourShift: number | null): string {
  return keyOf(r.xyz, [
    r.intensity,
    r.returnNumber,
    r.numberOfReturns,
    r.classification,
    colourShift === null || !r.rgb ? "-" : r.rgb.map((c) => c >> colourShift).join("/"),
  ]);
}

/** Every point lies in its node's box, and an inner node keeps at most one point per cell of its spacing. */
function checkOctree(read: ReturnType<typeof readPotree>) {
  const m = read.metadata;
  // In integer steps of `scale`, so that points on a cell boundary fall on the same side as in the writer.
  const steps = (v: number, c: number) => Math.round((v - m.offset[c]) / m.scale[c]);
  const byName = new Map(read.nodes.map((n) => [n.name, n]));
  const cells = new Map<string, Set<string>>();
  let outside = 0;
  let sharedCells = 0;
  for (const p of read.points) {
    const node = byName.get(p.node) as PotreeNode;
    const q = [0, 1, 2].map((c) => steps(p.position[c], c));
    const lo = [0, 1, 2].map((c) => steps(node.min[c], c));
    const hi = [0, 1, 2].map((c) => steps(node.max[c], c));
    for (let c = 0; c < 3; c++) if (q[c] < lo[c] || q[c] > hi[c]) outside++;
    if (node.children.some(Boolean)) {
      const cell = [0, 1, 2]
        .map((c) => Math.min(127, Math.floor(((q[c] - lo[c]) * 128) / (hi[c] - lo[c]))))
        .join(",");
      let seen = cells.get(node.name);
      if (!seen) {
        seen = new Set();
        cells.set(node.name, seen);
      }
      if (seen.has(cell)) sharedCells++;
      seen.add(cell);
    }
  }
  expect(outside).toBe(0);
  expect(sharedCells).toBe(0);
}

describeWithSharedData("cim ingest las --format potree (shared data)", () => {
  const source = () => readLasRecords(sharedPath("las/autzen_trim.las"));

  it("writes autzen as Potree 2.0 that potree's loader logic reads back point for point", async () => {
    const out = join(work, "autzen");
    const r = await runCli([
      "ingest",
      "las",
      sharedPath("las/autzen_trim.las"),
      "--out",
      out,
      "--format",
      "potree",
      "--max-points-in-memory",
      "20000",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/110000 read, 110000 written/);
    expect(readdirSync(out).sort()).toEqual(["hierarchy.bin", "metadata.json", "octree.bin"]);

    const read = readPotree(out);
    const m = read.metadata;
    expect(m.version).toBe("2.0");
    expect(m.encoding).toBe("DEFAULT");
    expect(m.points).toBe(110000);
    expect(m.projection).toMatch(/^PROJCS\[.*Lambert/);
    expect(m.hierarchy.stepSize).toBe(4);
    const cube = m.boundingBox.max.map((v, c) => v - m.boundingBox.min[c]);
    expect(cube[1]).toBeCloseTo(cube[0], 6);
    expect(cube[2]).toBeCloseTo(cube[0], 6);
    expect(m.spacing).toBeCloseTo(cube[0] / 128, 9);
    expect(m.attributes.map((a) => [a.name, a.type, a.numElements])).toEqual([
      ["position", "int32", 3],
      ["intensity", "uint16", 1],
      ["return number", "uint8", 1],
      ["number of returns", "uint8", 1],
      ["classification", "uint8", 1],
      ["rgb", "uint16", 3],
    ]);
    for (const a of m.attributes) expect(a.size).toBe(a.numElements * a.elementSize);
    expect(Math.max(...read.nodes.map((n) => n.level))).toBe(m.hierarchy.depth);

    expect(read.points.length).toBe(110000);
    expect(read.nodes.reduce((s, n) => s + n.numPoints, 0)).toBe(110000);
    checkOctree(read);

    // Positions are lossless (the file's 0.01 ft grid), and so are autzen's 8-bit colours.
    const las = source();
    expect(colourShift(las)).toBe(0);
    const expected = las.map((p) => recordKey(p, 0)).sort();
    const actual = read.points.map((p) => pointKey(p, true)).sort();
    expect(actual).toEqual(expected);
    const range = (f: (p: LasRecord) => number) => [Math.min(...las.map(f)), Math.max(...las.map(f))];
    const attr = (name: string) => m.attributes.find((a) => a.name === name);
    expect([attr("intensity")?.min[0], attr("intensity")?.max[0]]).toEqual(range((p) => p.intensity));
    expect([attr("classification")?.min[0], attr("classification")?.max[0]]).toEqual(
      range((p) => p.classification),
    );
    for (let c = 0; c < 3; c++) {
      const [lo, hi] = range((p) => p.xyz[c]);
      expect(attr("position")?.min[c]).toBeCloseTo(lo, 6);
      expect(attr("position")?.max[c]).toBeCloseTo(hi, 6);
    }
  }, 120_000);
});

describe("cim ingest las --format potree (synthetic)", () => {
  it.each([
    [7, true],
    [0, false],
  ] as const)(
    "keeps point format %i's attributes (extended classification, returns, colour)",
    async (format, colour) => {
      const file = join(work, `synthetic-${format}.las`);
      const pts = Array.from({ length: 600 }, (_, i) => ({
        x: 500000 + (i % 30) * 1.5,
        y: 3760000 + Math.floor(i / 30) * 1.5,
        z: 20 + (i % 11) * 0.25,
        intensity: 500 + i,
        classification: format >= 6 ? [2, 6, 45, 200][i % 4] : [2, 5, 6, 9][i % 4],
        returnNumber: 1 + (i % 3),
        numberOfReturns: 3,
        rgb: [(i * 131) % 65536, (i * 257) % 65536, 65535] as [number, number, number],
        gpsTime: i,
      }));
      writeLas(file, format, pts);
      const out = join(work, `synthetic-${format}`);
      const r = await runCli([
        "ingest",
        "las",
        file,
        "--out",
        out,
        "--format",
        "potree",
        "--crs",
        "EPSG:32650",
      ]);
      expect(r.code, r.stderr).toBe(0);
      const read = readPotree(out);
      expect(read.metadata.projection).toMatch(/\+proj=utm \+zone=50/);
      expect(read.metadata.attributes.some((a) => a.name === "rgb")).toBe(colour);
      const las = readLasRecords(file);
      // 16-bit colour comes back as its high byte.
      if (colour) expect(colourShift(las)).toBe(8);
      expect(read.points.map((p) => pointKey(p, colour)).sort()).toEqual(
        las.map((p) => recordKey(p, colour ? 8 : null)).sort(),
      );
      checkOctree(read);
    },
    60_000,
  );

  it("chunks a deep hierarchy with proxy nodes, as PotreeConverter does past four levels", async () => {
    // A dense cluster far from a few outliers: the cube is large, so sampling needs many levels to reach the
    // cluster's point spacing.
    const random = seededRandom(7);
    const pts = Array.from({ length: 4000 }, (_, i) => ({
      x: 500000 + (i < 3 ? 400 * i : random()),
      y: 3760000 + (i < 3 ? 300 : random()),
      z: 20 + (i < 3 ? 0 : random()),
      intensity: i % 65536,
      classification: 2,
      returnNumber: 1,
      numberOfReturns: 1,
    }));
    const file = join(work, "deep.las");
    writeLas(file, 0, pts);
    const out = join(work, "deep");
    await ingestLas({ input: file, out, format: "potree", crs: "EPSG:32650", leafPoints: 50 });
    const read = readPotree(out);
    expect(read.metadata.hierarchy.depth).toBeGreaterThan(8);
    // The root chunk holds levels 0-4; proxies at level 4 lead to the chunks below.
    const firstChunk = readFileSync(join(out, "hierarchy.bin")).subarray(
      0,
      read.metadata.hierarchy.firstChunkSize,
    );
    const types = Array.from({ length: firstChunk.length / 22 }, (_, i) => firstChunk[22 * i]);
    expect(types).toContain(2);
    expect(read.chunksRead).toBeGreaterThan(2);
    checkOctree(read);
    expect(read.points.map((p) => pointKey(p, false)).sort()).toEqual(
      readLasRecords(file)
        .map((p) => recordKey(p, null))
        .sort(),
    );
  }, 60_000);

  it("rejects an unknown --format and writes nothing", async () => {
    const file = join(work, "tiny.las");
    writeLas(file, 0, [
      { x: 1, y: 2, z: 3, intensity: 1, classification: 2, returnNumber: 1, numberOfReturns: 1 },
    ]);
    const out = join(work, "bad-format");
    const r = await runCli(["ingest", "las", file, "--out", out, "--format", "ept", "--crs", "EPSG:32650"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--format must be 3dtiles or potree/);
    expect(existsSync(out)).toBe(false);
  });
});
