import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import iconv from "iconv-lite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEpanetInp, readEpanetInp } from "../../ingest/pipes/epanet/read-epanet-inp.ts";
import { InpImportError, tokenizeLine } from "../../ingest/pipes/inp-sections.ts";
import { parseSwmmInp, readSwmmInp } from "../../ingest/pipes/swmm/read-swmm-inp.ts";
import { type PipeNetwork, PipeNetworkSchema } from "../../models/pipes.ts";
import { describeWithSharedData, sharedPath } from "../support/shared-data.ts";

const FT = 0.3048;
const IN = 0.0254;

/**
 * Data rows per section found by a plain line scan, independent of the reader: a line is a data row when it is
 * not blank, not a ";" comment, and inside a "[SECTION]". Each row is split on whitespace after removing ";..." .
 */
function scanSections(path: string): Map<string, string[][]> {
  const out = new Map<string, string[][]>();
  let section = "";
  for (const raw of readFileSync(path, "utf8").split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("[")) {
      section = line.slice(1, line.indexOf("]")).toUpperCase();
      if (!out.has(section)) out.set(section, []);
      continue;
    }
    if (line === "" || line.startsWith(";") || section === "") continue;
    out.get(section)!.push(line.split(";")[0].trim().split(/\s+/));
  }
  return out;
}

const countKinds = (items: { kind: string }[]) =>
  items.reduce<Record<string, number>>((acc, i) => {
    acc[i.kind] = (acc[i.kind] ?? 0) + 1;
    return acc;
  }, {});

const rowCount = (sections: Map<string, string[][]>, name: string) => sections.get(name)?.length ?? 0;

/** Kind counts without zero entries, for comparing against countKinds. */
const nonZero = (counts: Record<string, number>) =>
  Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));

/** 1-based number of the first line of `text` that contains `needle`. */
const lineOf = (text: string, needle: string) => text.split("\n").findIndex((l) => l.includes(needle)) + 1;

const byId = <T extends { id: string }>(items: T[], id: string): T => {
  const found = items.find((i) => i.id === id);
  if (!found) throw new Error(`no ${id}`);
  return found;
};

function expectValid(net: PipeNetwork) {
  expect(() => PipeNetworkSchema.parse(net)).not.toThrow();
}

describeWithSharedData("EPANET examples (shared data)", () => {
  it.each(["Net1", "Net2"])("%s: node and link counts per kind equal the source's rows", async (name) => {
    const path = sharedPath(`pipes/epanet/${name}.inp`);
    const rows = scanSections(path);
    const net = await readEpanetInp(path);
    expectValid(net);
    expect(net.issues).toEqual([]);
    expect(net.format).toBe("epanet");
    expect(net.crs).toBeNull();
    expect(countKinds(net.nodes)).toEqual(
      nonZero({
        junction: rowCount(rows, "JUNCTIONS"),
        reservoir: rowCount(rows, "RESERVOIRS"),
        tank: rowCount(rows, "TANKS"),
      }),
    );
    expect(countKinds(net.links)).toEqual(
      nonZero({
        pipe: rowCount(rows, "PIPES"),
        pump: rowCount(rows, "PUMPS"),
        valve: rowCount(rows, "VALVES"),
      }),
    );
    expect(new Set([...net.nodes, ...net.links].map((e) => e.pipeClass))).toEqual(new Set(["JS"]));
  });

  it("Net1 is in US units: pipe 10 is 10530 ft x 18 in = 3209.544 m x 0.4572 m", async () => {
    const path = sharedPath("pipes/epanet/Net1.inp");
    const rows = scanSections(path);
    expect(rows.get("OPTIONS")!.find((r) => r[0] === "Units")?.[1]).toBe("GPM");
    const source = rows.get("PIPES")!.find((r) => r[0] === "10")!;
    expect(source.slice(3, 5)).toEqual(["10530", "18"]);
    const net = await readEpanetInp(path);
    const pipe = byId(net.links, "10");
    expect(pipe).toMatchObject({ kind: "pipe", from: "10", to: "11", fromInvert: null, toInvert: null });
    expect(pipe.length).toBeCloseTo(3209.544, 6);
    expect(pipe.section).toEqual({ shape: "circular", diameter: expect.closeTo(0.4572, 9) });
    expect(pipe.attributes).toMatchObject({
      Length: 10530,
      Diameter: 18,
      Roughness: 100,
      MinorLoss: 0,
      Status: "Open",
    });
    // Tank 2: elevation 850 ft; reservoir 9: head 800 ft, kept as an attribute.
    expect(byId(net.nodes, "2")).toMatchObject({ kind: "tank", x: 50, y: 90 });
    expect(byId(net.nodes, "2").invertElevation).toBeCloseTo(850 * FT, 9);
    expect(byId(net.nodes, "9")).toMatchObject({ kind: "reservoir", invertElevation: null, x: 10, y: 70 });
    expect(byId(net.nodes, "9").attributes["Head"]).toBe(800);
    expect(byId(net.links, "9")).toMatchObject({ kind: "pump", from: "9", to: "10", section: null });
    expect(byId(net.links, "9").attributes["HeadCurve"]).toBe("1");
  });

  it("every Net2 pipe's length, diameter and every node's coordinates match the file", async () => {
    const path = sharedPath("pipes/epanet/Net2.inp");
    const rows = scanSections(path);
    const net = await readEpanetInp(path);
    for (const [id, from, to, len, diam] of rows.get("PIPES")!) {
      const pipe = byId(net.links, id);
      expect([pipe.from, pipe.to]).toEqual([from, to]);
      expect(pipe.length).toBeCloseTo(Number(len) * FT, 9);
      expect(pipe.section).toEqual({ shape: "circular", diameter: expect.closeTo(Number(diam) * IN, 9) });
    }
    for (const [id, x, y] of rows.get("COORDINATES")!) {
      expect(byId(net.nodes, id)).toMatchObject({ x: Number(x), y: Number(y) });
    }
    for (const [id, elev] of rows.get("JUNCTIONS")!) {
      const node = byId(net.nodes, id);
      expect(node.invertElevation).toBeCloseTo(Number(elev) * FT, 9);
      expect(node.groundElevation).toBeNull();
      expect(node.attributes["Elevation"]).toBe(Number(elev));
    }
  });
});

describeWithSharedData("SWMM model_full_features.inp (shared data)", () => {
  const path = sharedPath("pipes/swmm/model_full_features.inp");
  let net: PipeNetwork;
  let rows: Map<string, string[][]>;
  beforeAll(async () => {
    net = await readSwmmInp(path);
    rows = scanSections(path);
  });

  it("node and link counts per kind equal the source's rows", () => {
    expectValid(net);
    expect(net.issues).toEqual([]);
    expect(net.format).toBe("swmm");
    expect(countKinds(net.nodes)).toEqual(
      nonZero({
        well: rowCount(rows, "JUNCTIONS"),
        outfall: rowCount(rows, "OUTFALLS"),
        storage: rowCount(rows, "STORAGE"),
        junction: rowCount(rows, "DIVIDERS"),
      }),
    );
    expect(countKinds(net.links)).toEqual(
      nonZero({
        conduit: rowCount(rows, "CONDUITS"),
        pump: rowCount(rows, "PUMPS"),
        weir: rowCount(rows, "WEIRS"),
        orifice: rowCount(rows, "ORIFICES"),
        outlet: rowCount(rows, "OUTLETS"),
      }),
    );
    expect(new Set([...net.nodes, ...net.links].map((e) => e.pipeClass))).toEqual(new Set(["PS"]));
  });

  it("is in feet (FLOW_UNITS CFS): elevations and lengths converted to metres, coordinates as drawn", () => {
    expect(rows.get("OPTIONS")!.find((r) => r[0] === "FLOW_UNITS")?.[1]).toBe("CFS");
    for (const [id, invert, maxDepth] of rows.get("JUNCTIONS")!) {
      const node = byId(net.nodes, id);
      expect(node.kind).toBe("well");
      expect(node.invertElevation).toBeCloseTo(Number(invert) * FT, 9);
      expect(node.groundElevation).toBeCloseTo((Number(invert) + Number(maxDepth)) * FT, 9);
    }
    for (const [id, x, y] of rows.get("COORDINATES")!)
      expect(byId(net.nodes, id)).toMatchObject({ x: +x, y: +y });
    const [, , , len] = rows.get("CONDUITS")![0];
    expect(byId(net.links, "C1:C2").length).toBeCloseTo(Number(len) * FT, 9);
    expect(byId(net.nodes, "J4")).toMatchObject({
      kind: "outfall",
      invertElevation: 0,
      groundElevation: null,
    });
    expect(byId(net.nodes, "J2").kind).toBe("storage");
  });

  it("maps the CIRCULAR conduit and the RECT_OPEN weir cross-sections", () => {
    const xs = new Map(rows.get("XSECTIONS")!.map((r) => [r[0], r]));
    expect(xs.get("C1:C2")![1]).toBe("CIRCULAR");
    expect(byId(net.links, "C1:C2").section).toEqual({
      shape: "circular",
      diameter: expect.closeTo(Number(xs.get("C1:C2")![2]) * FT, 9),
    });
    expect(xs.get("C3")![1]).toBe("RECT_OPEN");
    const weir = byId(net.links, "C3");
    expect(weir.kind).toBe("weir");
    expect(weir.section).toEqual({
      shape: "rect_open",
      width: expect.closeTo(Number(xs.get("C3")![3]) * FT, 9),
      height: expect.closeTo(Number(xs.get("C3")![2]) * FT, 9),
    });
    expect(weir.attributes).toMatchObject({ Type: "TRANSVERSE", Shape: "RECT_OPEN", Geom1: 5, Geom2: 1 });
    expect(byId(net.links, "C2")).toMatchObject({ kind: "pump", section: null, fromInvert: null });
  });

  it("conduit inverts are node inverts plus offsets (LINK_OFFSETS DEPTH)", () => {
    const [, from, to, , , off1, off2] = rows.get("CONDUITS")![0];
    const invert = (id: string) =>
      Number([...rows.get("JUNCTIONS")!, ...rows.get("STORAGE")!].find((r) => r[0] === id)![1]);
    const conduit = byId(net.links, "C1:C2");
    expect(conduit.fromInvert).toBeCloseTo((invert(from) + Number(off1)) * FT, 9);
    expect(conduit.toInvert).toBeCloseTo((invert(to) + Number(off2)) * FT, 9);
    // The weir's crest: inlet invert (J3) + crest height.
    const [, , , , crest] = rows.get("WEIRS")![0];
    expect(byId(net.links, "C3").fromInvert).toBeCloseTo((invert("J3") + Number(crest)) * FT, 9);
  });
});

describe("synthetic .inp files", () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "cim-pipes-inp-"));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("reads GBK-encoded files (Chinese ids) when the bytes are not UTF-8", async () => {
    const text =
      "[JUNCTIONS]\n节点1 5\n节点2 4\n[PIPES]\n管1 节点1 节点2 10 100 100 ;主干管\n[COORDINATES]\n节点1 0 0\n节点2 1 0\n";
    const file = join(work, "gbk.inp");
    await writeFile(file, iconv.encode(text, "gbk"));
    const net = await readEpanetInp(file);
    expect(net.issues).toEqual([]);
    expect(byId(net.links, "管1")).toMatchObject({
      from: "节点1",
      to: "节点2",
      attributes: { Comment: "主干管" },
    });
  });

  it("tokenizes quotes, tabs and comments", () => {
    expect(tokenizeLine('A\t"two words"  "" 1.5 ;note')).toEqual({
      tokens: ["A", "two words", "", "1.5"],
      comment: "note",
    });
  });

  it("EPANET in SI units with CRLF, tabs, valves, vertices in order, tags and sections in any order", async () => {
    const text = [
      "[COORDINATES]",
      "R\t0\t0",
      "A\t10\t0",
      "B\t20\t0",
      "T\t30\t5",
      "[MYSECTION]",
      "whatever 1 2 3",
      "[VERTICES]",
      ";Link X Y",
      "P2\t12\t1",
      "P2\t15\t2",
      "P2\t18\t1",
      "[PIPES]",
      "P1\tR\tA\t250.5\t300\t0.1\t0\tOpen\t;main",
      "P2\tA\tB\t120\t200\t0.1\tCV",
      "[OPTIONS]",
      "Units\tLPS",
      "[JUNCTIONS]",
      "A\t12.5\t2\tpat1",
      "B\t11",
      "[TANKS]",
      "T\t40\t2\t0\t5\t12\t0",
      "[RESERVOIRS]",
      "R\t60",
      "[VALVES]",
      "V1\tB\tT\t150\tPRV\t35\t0",
      "[TAGS]",
      "NODE\tA\tDMA-1",
      "LINK\tP1\tTrunk",
      "[END]",
      "P9 A B 1 1 1",
    ].join("\r\n");
    const net = parseEpanetInp(text, "si.inp");
    expectValid(net);
    expect(net.issues).toEqual([]);
    expect(byId(net.links, "P1")).toMatchObject({
      length: 250.5,
      section: { shape: "circular", diameter: 0.3 },
      attributes: { Status: "Open", Comment: "main", Tag: "Trunk" },
    });
    expect(byId(net.links, "P2").attributes["Status"]).toBe("CV");
    expect(byId(net.links, "P2").vertices).toEqual([
      [12, 1],
      [15, 2],
      [18, 1],
    ]);
    expect(byId(net.links, "V1")).toMatchObject({
      kind: "valve",
      from: "B",
      to: "T",
      section: { shape: "circular", diameter: 0.15 },
      attributes: { Type: "PRV", Setting: 35 },
    });
    expect(byId(net.nodes, "A")).toMatchObject({
      invertElevation: 12.5,
      attributes: { Elevation: 12.5, Demand: 2, Pattern: "pat1", Tag: "DMA-1" },
    });
    expect(byId(net.nodes, "T")).toMatchObject({ kind: "tank", invertElevation: 40, x: 30, y: 5 });
    expect(net.links.map((l) => l.id)).not.toContain("P9"); // after [END]
  });

  it("EPANET: a broken file yields exactly its unknown node, bad number and duplicate id, with line numbers", async () => {
    const text = [
      "[JUNCTIONS]",
      " J1   10   1",
      " J2   12   1",
      " J1   11   1",
      "[RESERVOIRS]",
      " R1   50",
      "[PIPES]",
      " P1  R1  J1  100  150  100",
      " P2  J1  J9  100  150  100",
      " P3  J1  J2  100  abc  100",
      "[COORDINATES]",
      " J1 0 0",
      " J2 10 0",
      " R1 -10 0",
      "[END]",
    ].join("\n");
    const file = join(work, "broken.inp");
    await writeFile(file, text);
    const net = await readEpanetInp(file);
    expectValid(net);
    expect(net.issues).toEqual([
      {
        file,
        row: lineOf(text, " J1   11"),
        column: "ID",
        problem: expect.stringContaining('duplicate node id "J1"'),
        severity: "error",
      },
      {
        file,
        row: lineOf(text, " P2 "),
        column: "Node2",
        problem: expect.stringContaining('"J9"'),
        severity: "error",
      },
      {
        file,
        row: lineOf(text, " P3 "),
        column: "Diameter",
        problem: expect.stringContaining('"abc" is not a number'),
        severity: "error",
      },
    ]);
    // The first J1 wins (US units by default: 10 ft); P2 is skipped; P3 is kept without a section.
    expect(byId(net.nodes, "J1").invertElevation).toBeCloseTo(10 * FT, 9);
    expect(net.links.map((l) => l.id).sort()).toEqual(["P1", "P3"]);
    expect(byId(net.links, "P3").section).toBeNull();

    const strict = readEpanetInp(file, { strict: true });
    await expect(strict).rejects.toBeInstanceOf(InpImportError);
    await expect(readEpanetInp(file, { strict: true })).rejects.toThrow(
      `${file}:${lineOf(text, " P3 ")}: [PIPES]`,
    );
    await expect(readEpanetInp(file, { strict: true })).rejects.toThrow(`${file}:${lineOf(text, " P2 ")}:`);
  });

  it("skips nodes without coordinates and the links touching them, each reported as a warning", () => {
    const text = [
      "[JUNCTIONS]",
      "A 1",
      "B 2",
      "C 3",
      "[PIPES]",
      "P1 A B 10 100 100",
      "P2 B C 10 100 100",
      "[COORDINATES]",
      "A 0 0",
      "B 1 1",
      "Z 5 5",
    ].join("\n");
    const net = parseEpanetInp(text, "nocoord.inp", { strict: true }); // warnings never throw
    expect(net.nodes.map((n) => n.id)).toEqual(["A", "B"]);
    expect(net.links.map((l) => l.id)).toEqual(["P1"]);
    expect(net.issues.map((i) => [i.row, i.severity, i.problem])).toEqual([
      [4, "warning", expect.stringContaining('node "C" has no [COORDINATES]')],
      [7, "warning", expect.stringContaining('link "P2" skipped')],
      [11, "warning", expect.stringContaining('unknown node "Z"')],
    ]);
  });

  it("SWMM in SI units: ELEVATION offsets, case-insensitive and quoted names, shapes, regulators, vertices", () => {
    const text = [
      "[OPTIONS]",
      "FLOW_UNITS LPS",
      "LINK_OFFSETS ELEVATION",
      "[JUNCTIONS]",
      ";;Name Elev MaxDepth",
      '"MH 1"  10.0  3.0  0  0  0',
      "MH2     9.0   0",
      "[DIVIDERS]",
      "D1  8.5  C2  CUTOFF  0.2  2.5  0  0  0",
      "[OUTFALLS]",
      "OUT1  7.0  FIXED  7.5  NO",
      "[CONDUITS]",
      '"C 1"  "mh 1"  MH2  50  0.013  10.2  *  0  0',
      "C2  MH2  D1  40  0.013  9.1  8.9",
      "C3  D1  OUT1  30  0.013  8.5  7.0",
      "[ORIFICES]",
      "OR1  MH2  OUT1  SIDE  9.3  0.65  NO  0",
      "[OUTLETS]",
      "OL1  D1  OUT1  8.75  FUNCTIONAL/DEPTH  10  0.5  NO",
      "[XSECTIONS]",
      '"C 1"  TRAPEZOIDAL  1.0  2.0  1  0.5  1',
      "c2     EGG          1.5  0    0  0    1",
      "C3     HORIZ_ELLIPSE 1.2 1.9  0  0    2",
      "OR1    CIRCULAR     0.3  0    0  0",
      "[VERTICES]",
      '"C 1"  2  1',
      '"C 1"  4  2',
      "[COORDINATES]",
      '"MH 1"  0  0',
      "mh2     6  0",
      "D1      9  0",
      "OUT1    12  0",
    ].join("\n");
    const net = parseSwmmInp(text, "si.inp", { pipeClass: "YS" });
    expectValid(net);
    expect(net.issues).toEqual([]);
    expect(byId(net.nodes, "MH 1")).toMatchObject({ kind: "well", invertElevation: 10, groundElevation: 13 });
    expect(byId(net.nodes, "MH2")).toMatchObject({ groundElevation: null, x: 6 }); // max depth 0: no rim
    expect(byId(net.nodes, "D1")).toMatchObject({ kind: "junction", groundElevation: 11 });
    expect(byId(net.nodes, "OUT1").attributes).toMatchObject({ Type: "FIXED", Stage: 7.5, Gated: "NO" });
    const c1 = byId(net.links, "C 1");
    expect(c1).toMatchObject({
      from: "MH 1",
      to: "MH2",
      fromInvert: 10.2,
      toInvert: 9,
      length: 50,
      pipeClass: "YS",
    });
    expect(c1.section).toEqual({ shape: "trapezoidal", width: 3.5, height: 1 });
    expect(c1.vertices).toEqual([
      [2, 1],
      [4, 2],
    ]);
    expect(byId(net.links, "C2")).toMatchObject({ fromInvert: 9.1, toInvert: 8.9 });
    expect(byId(net.links, "C2").section).toEqual({ shape: "other", width: 1, height: 1.5 });
    expect(byId(net.links, "C3").section).toEqual({ shape: "other", width: 1.9, height: 1.2 });
    expect(byId(net.links, "C3").attributes["Barrels"]).toBe(2);
    expect(byId(net.links, "OR1")).toMatchObject({
      kind: "orifice",
      fromInvert: 9.3,
      toInvert: null,
      section: { shape: "circular", diameter: 0.3 },
    });
    expect(byId(net.links, "OL1")).toMatchObject({ kind: "outlet", fromInvert: 8.75, section: null });
  });

  it("SWMM: unknown node, bad number and duplicate name are errors with line numbers; strict throws", () => {
    const text = [
      "[JUNCTIONS]",
      "J1  10  2",
      "J2  9   2",
      "j1  8   2",
      "[CONDUITS]",
      "C1  J1  J2  20  0.013  0  0",
      "C2  J2  J7  20  0.013  0  0",
      "C3  J1  J2  2O  0.013  0.5  0",
      "[XSECTIONS]",
      "C1  RECT_CLOSED  1.2  2.0  0  0",
      "C3  CIRCULAR     0.6  0    0  0",
      "[COORDINATES]",
      "J1  0 0",
      "J2  1 0",
    ].join("\n");
    const net = parseSwmmInp(text, "bad.inp");
    expect(net.issues.map((i) => [i.row, i.column, i.severity])).toEqual([
      [4, "ID", "error"],
      [7, "ToNode", "error"],
      [8, "Length", "error"],
    ]);
    // US default (CFS): 1.2 ft x 2.0 ft box; C3 has no length but keeps inverts: J1 10 ft + 0.5 ft offset.
    expect(byId(net.links, "C1").section).toEqual({
      shape: "rect_closed",
      width: expect.closeTo(2 * FT, 9),
      height: expect.closeTo(1.2 * FT, 9),
    });
    expect(byId(net.links, "C3")).toMatchObject({ length: null, fromInvert: expect.closeTo(10.5 * FT, 9) });
    expect(() => parseSwmmInp(text, "bad.inp", { strict: true })).toThrow(
      /bad\.inp:4: .*duplicate node id "j1"/,
    );
  });
});
