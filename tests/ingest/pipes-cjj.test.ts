import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ExcelJS from "exceljs";
import iconv from "iconv-lite";
import { afterAll, describe, expect, it } from "vitest";
import { resolveSourceCrs } from "../../ingest/crs/source-crs.ts";
import { classFromPointId, classFromValue, nodeKind } from "../../ingest/pipes/cjj/classes.ts";
import { parseCsv } from "../../ingest/pipes/cjj/csv.ts";
import { CjjImportError, readCjjTables } from "../../ingest/pipes/cjj/read-cjj.ts";
import { parseSection } from "../../ingest/pipes/cjj/sections.ts";
import { decodeTableBytes } from "../../ingest/pipes/cjj/table-file.ts";
import { type PipeNetwork, PipeNetworkSchema } from "../../models/pipes.ts";

/*
 * Fixtures: a small survey in Wuhan (around 114.3°E, 30.6°N) in CGCS2000 3° Gauss-Krüger CM 114E (EPSG:4547):
 * X = northing ≈ 3 386 666 m, Y = easting ≈ 528 770 m, as CJJ 61 writes them.
 * A water supply network (给水 JS: tee, valve, hydrant, meter, reserved stub) and a storm drain (雨水 YS:
 * inlet, two manholes, box culvert to an outfall). Written as UTF-8 CSV, GBK CSV and XLSX into a temp dir.
 */

const CRS = "EPSG:4547";
const N0 = 3386666.25;
const E0 = 528770.24;
const xy = (dn: number, de: number): [string, string] => [(N0 + dn).toFixed(3), (E0 + de).toFixed(3)];

type Table = (string | number | null)[][];

const JS_POINTS: Table = [
  ["物探点号", "图上点号", "X", "Y", "地面高程", "埋深", "特征", "附属物", "备注"],
  ["JS1", "J1", ...xy(0, 0), "21.35", "1.20", "三通", null, null],
  ["JS2", "J2", ...xy(0, 50), "21.40", "1.10", null, "阀门", "蝶阀"],
  ["JS3", "J3", ...xy(0, 100), "21.52", "1.15", "弯头", null, null],
  ["JS4", "J4", ...xy(50, 100), "21.60", "1.05", null, "消防栓", "地上式, SS100"],
  ["JS5", "J5", ...xy(-50, 0), "21.30", "1.25", null, "水表", null],
  ["JS6", "J6", ...xy(0, 150), "21.45", "1.30", "预留口", null, null],
];
const JS_LINES: Table = [
  ["起点号", "终点号", "起点埋深", "终点埋深", "管径", "材质", "压力", "埋设方式", "权属单位", "埋设年代"],
  ["JS1", "JS2", "1.20", "1.10", "DN300", "球墨铸铁", "0.4", "直埋", "武汉市水务集团", "2015"],
  ["JS2", "JS3", "1.10", "1.15", "DN300", "球墨铸铁", "0.4", "直埋", "武汉市水务集团", "2015"],
  ["JS3", "JS4", "1.15", "1.05", "DN150", "球墨铸铁", "0.4", "直埋", "武汉市水务集团", "2015"],
  ["JS1", "JS5", "1.20", "1.25", "DN100", "PE", "0.4", "直埋", "武汉市水务集团", "2018"],
  ["JS3", "JS6", "1.15", "1.30", "DN200", "球墨铸铁", "0.4", "直埋", "武汉市水务集团", "2015"],
];
const YS_POINTS: Table = [
  ["物探点号", "X", "Y", "地面高程", "埋深", "井底深", "特征", "附属物"],
  ["YS1", ...xy(20, 0), "21.20", "1.80", "2.10", null, "检查井"],
  ["YS2", ...xy(20, 60), "21.10", "2.00", "2.30", null, "检查井"],
  ["YS3", ...xy(25, -30), "21.05", "1.00", "1.20", null, "雨水篦"],
  ["YS4", ...xy(20, 140), "19.50", "1.50", null, "出水口", "排放口"],
];
const YS_LINES: Table = [
  [
    "起点号",
    "终点号",
    "起点埋深",
    "终点埋深",
    "管径",
    "断面尺寸",
    "材质",
    "埋设方式",
    "权属单位",
    "埋设年代",
    "流向",
  ],
  ["YS3", "YS1", "1.00", "1.80", "300", null, "PVC", "直埋", "武汉市水务局", "2012", "YS3→YS1"],
  ["YS1", "YS2", "1.80", "2.00", null, "1000x800", "钢筋混凝土", "方沟", "武汉市水务局", "2012", "YS1→YS2"],
  ["YS2", "YS4", "2.00", "1.50", null, "1000×800", "钢筋混凝土", "方沟", "武汉市水务局", "2012", "YS2→YS4"],
];

function toCsv(table: Table): string {
  const field = (v: string | number | null) => {
    const s = v === null ? "" : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `${table.map((r) => r.map(field).join(",")).join("\r\n")}\r\n`;
}

const dir = mkdtempSync(join(tmpdir(), "cjj-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeCsv(name: string, table: Table, encoding: "utf8" | "utf8-bom" | "gbk" = "utf8"): string {
  const path = join(dir, name);
  const text = toCsv(table);
  if (encoding === "gbk") writeFileSync(path, iconv.encode(text, "gbk"));
  else writeFileSync(path, (encoding === "utf8-bom" ? "\uFEFF" : "") + text, "utf8");
  return path;
}

/** Numbers as numbers in XLSX (as survey software writes them). */
function xlsxValue(v: string | number | null): string | number | null {
  return typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
}

async function writeXlsx(
  name: string,
  sheets: { name: string; title?: string; rows: Table }[],
): Promise<string> {
  const workbook = new ExcelJS.Workbook();
  for (const sheet of sheets) {
    const ws = workbook.addWorksheet(sheet.name);
    if (sheet.title) {
      ws.addRow([sheet.title]);
      ws.mergeCells(1, 1, 1, sheet.rows[0].length);
    }
    for (const row of sheet.rows) ws.addRow(row.map(xlsxValue));
  }
  const path = join(dir, name);
  writeFileSync(path, Buffer.from(await workbook.xlsx.writeBuffer()));
  return path;
}

/** The data rows of a table under another header (missing columns empty), with extra constant columns. */
function alignTo(header: string[], table: Table, extra: Record<string, string>): Table {
  const source = table[0] as string[];
  return table
    .slice(1)
    .map((r) =>
      header.map((h) => (h in extra ? extra[h] : source.includes(h) ? r[source.indexOf(h)] : null)),
    );
}

function byId<T extends { id: string }>(items: T[]): Map<string, T> {
  return new Map(items.map((i) => [i.id, i]));
}

/** The network without attributes and issues, to compare readings of the same survey in different formats. */
function shape(net: PipeNetwork) {
  return {
    nodes: net.nodes.map(({ attributes: _a, ...n }) => n).sort((a, b) => a.id.localeCompare(b.id)),
    links: net.links.map(({ attributes: _a, ...l }) => l).sort((a, b) => a.id.localeCompare(b.id)),
  };
}

function expectSurveyNetwork(net: PipeNetwork) {
  expect(PipeNetworkSchema.parse(net)).toBeTruthy();
  expect(net.format).toBe("cjj");
  expect(net.crs).toBe(CRS);
  expect(net.nodes).toHaveLength(10);
  expect(net.links).toHaveLength(8);
  const nodes = byId(net.nodes);
  expect(Object.fromEntries(net.nodes.map((n) => [n.id, n.kind]))).toEqual({
    JS1: "junction",
    JS2: "valve",
    JS3: "junction",
    JS4: "hydrant",
    JS5: "meter",
    JS6: "feature",
    YS1: "well",
    YS2: "well",
    YS3: "well",
    YS4: "outfall",
  });
  for (const n of net.nodes) expect(n.pipeClass).toBe(n.id.slice(0, 2));
  for (const l of net.links) expect(l.pipeClass).toBe(l.from.slice(0, 2));
  expect(net.links.filter((l) => l.kind === "conduit").map((l) => l.pipeClass)).toEqual(["YS", "YS", "YS"]);

  // Easting / northing from Y / X, landing in Wuhan.
  const js1 = nodes.get("JS1")!;
  expect(js1.x).toBeCloseTo(E0, 3);
  expect(js1.y).toBeCloseTo(N0, 3);
  const [lon, lat] = resolveSourceCrs(CRS).toGeodetic(js1.x, js1.y, 0);
  expect(lon).toBeCloseTo(114.3, 4);
  expect(lat).toBeCloseTo(30.6, 4);

  const links = byId(net.links);
  // Water: depth to the pipe top → invert = ground − depth − diameter.
  const js12 = links.get("JS1-JS2")!;
  expect(js12.section).toEqual({ shape: "circular", diameter: 0.3 });
  expect(js12.fromInvert).toBeCloseTo(21.35 - 1.2 - 0.3, 6);
  expect(js12.toInvert).toBeCloseTo(21.4 - 1.1 - 0.3, 6);
  expect(js12.material).toBe("球墨铸铁");
  expect(links.get("JS1-JS5")!.section).toEqual({ shape: "circular", diameter: 0.1 });
  // Storm: depth to the invert → invert = ground − depth, whatever the size.
  const ys31 = links.get("YS3-YS1")!;
  expect(ys31.section).toEqual({ shape: "circular", diameter: 0.3 });
  expect(ys31.fromInvert).toBeCloseTo(21.05 - 1.0, 6);
  expect(ys31.toInvert).toBeCloseTo(21.2 - 1.8, 6);
  const ys12 = links.get("YS1-YS2")!;
  expect(ys12.section).toEqual({ shape: "rect_closed", width: 1, height: 0.8 });
  expect(ys12.fromInvert).toBeCloseTo(19.4, 6);
  expect(ys12.toInvert).toBeCloseTo(19.1, 6);
  expect(links.get("YS2-YS4")!.section).toEqual({ shape: "rect_closed", width: 1, height: 0.8 });
  expect(links.get("YS2-YS4")!.toInvert).toBeCloseTo(18, 6);

  // Nodes: wells at their bottom (井底深), others at the pipe invert.
  expect(nodes.get("YS1")!.groundElevation).toBe(21.2);
  expect(nodes.get("YS1")!.invertElevation).toBeCloseTo(21.2 - 2.1, 6);
  expect(nodes.get("YS4")!.invertElevation).toBeCloseTo(19.5 - 1.5, 6);
  expect(js1.groundElevation).toBe(21.35);
  expect(js1.invertElevation).toBeCloseTo(21.35 - 1.2 - 0.3, 6); // largest pipe at JS1 is DN300
  expect(nodes.get("JS4")!.invertElevation).toBeCloseTo(21.6 - 1.05 - 0.15, 6);
}

describe("CJJ 61 survey tables", () => {
  it("reads UTF-8 CSV (with and without BOM): nodes, kinds, classes, sections, inverts, attributes", async () => {
    const net = await readCjjTables({
      points: [writeCsv("JS_管线点.csv", JS_POINTS, "utf8-bom"), writeCsv("YS_管线点.csv", YS_POINTS)],
      lines: [writeCsv("JS_管线段.csv", JS_LINES), writeCsv("YS_管线段.csv", YS_LINES, "utf8-bom")],
      crs: CRS,
    });
    expect(net.issues).toEqual([]);
    expectSurveyNetwork(net);
    const nodes = byId(net.nodes);
    // Every column verbatim under its Chinese header.
    expect(nodes.get("JS4")!.attributes).toEqual({
      物探点号: "JS4",
      图上点号: "J4",
      X: "3386716.250",
      Y: "528870.240",
      地面高程: "21.60",
      埋深: "1.05",
      特征: null,
      附属物: "消防栓",
      备注: "地上式, SS100",
    });
    expect(byId(net.links).get("YS1-YS2")!.attributes).toEqual({
      起点号: "YS1",
      终点号: "YS2",
      起点埋深: "1.80",
      终点埋深: "2.00",
      管径: null,
      断面尺寸: "1000x800",
      材质: "钢筋混凝土",
      埋设方式: "方沟",
      权属单位: "武汉市水务局",
      埋设年代: "2012",
      流向: "YS1→YS2",
    });
  });

  it("reads GBK CSV to the same network and reports the decoding", async () => {
    const utf8 = await readCjjTables({
      points: [writeCsv("u_JS_p.csv", JS_POINTS), writeCsv("u_YS_p.csv", YS_POINTS)],
      lines: [writeCsv("u_JS_l.csv", JS_LINES), writeCsv("u_YS_l.csv", YS_LINES)],
      crs: CRS,
    });
    const gbkFiles = {
      points: [writeCsv("g_JS_p.csv", JS_POINTS, "gbk"), writeCsv("g_YS_p.csv", YS_POINTS, "gbk")],
      lines: [writeCsv("g_JS_l.csv", JS_LINES, "gbk"), writeCsv("g_YS_l.csv", YS_LINES, "gbk")],
    };
    const gbk = await readCjjTables({ ...gbkFiles, crs: CRS });
    expectSurveyNetwork(gbk);
    expect(gbk.nodes).toEqual(utf8.nodes);
    expect(gbk.links).toEqual(utf8.links);
    expect(gbk.issues).toEqual(
      ["g_JS_p.csv", "g_YS_p.csv", "g_JS_l.csv", "g_YS_l.csv"].map((file) => ({
        file,
        row: null,
        column: null,
        problem: "not valid UTF-8: decoded as GBK (GB18030)",
        severity: "warning",
      })),
    );
    expect(byId(gbk.nodes).get("YS3")!.attributes["附属物"]).toBe("雨水篦");
  });

  it("reads one XLSX workbook holding both tables (title rows, class columns, numeric cells)", async () => {
    // One sheet per table holding both classes under one header, with a class column (names / codes).
    const pointHeader = [...new Set([...JS_POINTS[0], ...YS_POINTS[0], "管线类别"])] as string[];
    const lineHeader = [...new Set([...JS_LINES[0], ...YS_LINES[0], "管线类别"])] as string[];
    const brokenLine = lineHeader.map((h) => (h === "起点号" ? "YS4" : h === "终点号" ? "YS99" : null));
    const path = await writeXlsx("武汉某路管线成果表.xlsx", [
      {
        name: "管线点成果表",
        title: "武汉市某路地下管线点成果表",
        rows: [
          pointHeader,
          ...alignTo(pointHeader, JS_POINTS, { 管线类别: "给水" }),
          ...alignTo(pointHeader, YS_POINTS, { 管线类别: "雨水" }),
        ],
      },
      {
        name: "管线段成果表",
        title: "武汉市某路地下管线段成果表",
        rows: [
          lineHeader,
          ...alignTo(lineHeader, JS_LINES, { 管线类别: "JS" }),
          ...alignTo(lineHeader, YS_LINES, { 管线类别: "YS" }),
          brokenLine,
        ],
      },
    ]);
    const net = await readCjjTables({ points: path, lines: path, crs: CRS });
    expectSurveyNetwork(net);
    // Row numbers as the spreadsheet shows them: title row 1, header row 2, 8 data rows → the broken one is row 11.
    expect(net.issues).toEqual([
      {
        file: "武汉某路管线成果表.xlsx#管线段成果表",
        row: 11,
        column: "终点号",
        problem: 'unknown end point id "YS99" (not in the point tables); row skipped',
        severity: "error",
      },
    ]);
    const csv = await readCjjTables({
      points: [writeCsv("x_JS_p.csv", JS_POINTS), writeCsv("x_YS_p.csv", YS_POINTS)],
      lines: [writeCsv("x_JS_l.csv", JS_LINES), writeCsv("x_YS_l.csv", YS_LINES)],
      crs: CRS,
    });
    expect(shape(net)).toEqual(shape(csv));
    const ys2 = byId(net.nodes).get("YS2")!;
    expect(ys2.attributes["管线类别"]).toBe("雨水");
    expect(ys2.attributes["附属物"]).toBe("检查井");
    expect(ys2.attributes["X"]).toBe(String(N0 + 20));
    expect(byId(net.links).get("JS1-JS5")!.attributes["埋设年代"]).toBe("2018");
  });

  it("detects swapped X/Y columns from the CRS extent (and without a CRS from the GK ranges)", async () => {
    // Data exchanged under unchanged headers: the X column holds eastings.
    const swapped = JS_POINTS.map((r, i) => (i === 0 ? r : [r[0], r[1], r[3], r[2], ...r.slice(4)]));
    for (const crs of [CRS, undefined]) {
      const net = await readCjjTables({
        points: [writeCsv("swapped_JS_p.csv", swapped), writeCsv("s_YS_p.csv", YS_POINTS)],
        lines: [writeCsv("s_JS_l.csv", JS_LINES), writeCsv("s_YS_l.csv", YS_LINES)],
        crs,
      });
      const warnings = net.issues.filter((i) => /swapped/.test(i.problem));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({
        file: "swapped_JS_p.csv",
        row: null,
        column: "X/Y",
        severity: "warning",
      });
      expect(warnings[0].problem).toContain("6 of 6 points fit");
      expect(net.issues).toHaveLength(1);
      const js4 = byId(net.nodes).get("JS4")!;
      expect(js4.x).toBeCloseTo(E0 + 100, 3);
      expect(js4.y).toBeCloseTo(N0 + 50, 3);
    }
  });

  it("warns about points outside the CRS extent (wrong zone)", async () => {
    const net = await readCjjTables({
      points: writeCsv("zone_JS_p.csv", JS_POINTS),
      lines: writeCsv("zone_JS_l.csv", JS_LINES),
      crs: "EPSG:4526", // 3° zone 38 expects eastings 38 xxx xxx
    });
    expect(net.issues).toEqual([
      expect.objectContaining({
        file: "zone_JS_p.csv",
        row: null,
        problem: "6 of 6 points lie outside the valid extent of EPSG:4526 (rows 2, 3, 4, 5, 6, 7)",
        severity: "warning",
      }),
    ]);
  });

  it("maps other header names, class values and prefixes through the mapping", async () => {
    const points: Table = [
      ["编号", "North", "East", "Ground_Z", "Depth", "Fitting"],
      ["W-1", ...xy(0, 0), "21.35", "1.20", "Tee"],
      ["W-2", ...xy(0, 50), "21.40", "1.10", "Valve"],
      ["W-3", ...xy(0, 100), "21.52", "1.15", "FH"],
    ];
    const lines: Table = [
      ["FromID", "ToID", "FromDepth", "ToDepth", "Size", "Net"],
      ["W-1", "W-2", "1.20", "1.10", "DN300", "W"],
      ["W-2", "W-3", "1.10", "1.15", "400", "W"],
    ];
    const mapping = JSON.stringify({
      points: {
        编号: "物探点号",
        North: "X",
        East: "Y",
        Ground_Z: "ground",
        Depth: "埋深",
        Fitting: "appurtenance",
      },
      lines: {
        FromID: "起点号",
        ToID: "终点号",
        FromDepth: "fromDepth",
        ToDepth: "终点埋深",
        Size: "管径",
        Net: "类别",
      },
      classes: { W: "JS" },
      kinds: { Valve: "valve", FH: "hydrant", Tee: "junction" },
    });
    const net = await readCjjTables({
      points: writeCsv("export_points.csv", points),
      lines: writeCsv("export_lines.csv", lines),
      crs: CRS,
      mapping,
    });
    expect(net.issues).toEqual([]);
    expect(net.nodes.map((n) => [n.id, n.kind, n.pipeClass])).toEqual([
      ["W-1", "junction", "JS"],
      ["W-2", "valve", "JS"],
      ["W-3", "hydrant", "JS"],
    ]);
    const [a, b] = net.links;
    expect(a).toMatchObject({ from: "W-1", to: "W-2", pipeClass: "JS", kind: "pipe" });
    expect(a.section).toEqual({ shape: "circular", diameter: 0.3 });
    expect(a.fromInvert).toBeCloseTo(21.35 - 1.2 - 0.3, 6);
    expect(b.section).toEqual({ shape: "circular", diameter: 0.4 });
    expect(net.nodes[0].attributes).toEqual({
      编号: "W-1",
      North: "3386666.250",
      East: "528770.240",
      Ground_Z: "21.35",
      Depth: "1.20",
      Fitting: "Tee",
    });
    await expect(
      readCjjTables({ points: [], lines: [], mapping: { points: { 编号: "点名" } } }),
    ).rejects.toThrow(/not a points field/);
  });

  it("honours a depthConvention override", async () => {
    const net = await readCjjTables({
      points: [writeCsv("dc_YS_p.csv", YS_POINTS)],
      lines: [writeCsv("dc_YS_l.csv", YS_LINES)],
      crs: CRS,
      depthConvention: { YS: "top" },
    });
    const ys12 = byId(net.links).get("YS1-YS2")!;
    expect(ys12.fromInvert).toBeCloseTo(21.2 - 1.8 - 0.8, 6);
  });

  it("reports exactly the problems of a broken table, skips bad rows, and throws in strict mode", async () => {
    const points: Table = [
      ["物探点号", "X", "Y", "地面高程", "埋深", "特征", "附属物"],
      ["JS1", ...xy(0, 0), "21.35", "1.20", "三通", null], // row 2
      ["JS2", ...xy(0, 50), "21.40", "1.10", null, "阀门"], // row 3
      ["JS2", ...xy(0, 60), "21.40", "1.10", null, null], // row 4: duplicate id
      ["JS3", "abc", xy(0, 100)[1], "21.52", "1.15", null, null], // row 5: non-numeric X
      ["JS4", ...xy(50, 100), "21.60", "-1.05", null, "消防栓"], // row 6: negative depth (kept, depth dropped)
      ["JS5", ...xy(-50, 0), "21.30", "深", null, "水表"], // row 7: non-numeric depth
      ["JS6", ...xy(0, 0), "21.35", "1.20", "预留口", null], // row 8: same place as JS1
      [null, ...xy(0, 200), "21.00", "1.00", null, null], // row 9: no id
    ];
    const lines: Table = [
      ["起点号", "终点号", "起点埋深", "终点埋深", "管径", "材质"],
      ["JS1", "JS2", "1.20", "1.10", "DN300", "球墨铸铁"], // row 2: fine
      ["JS1", "JS9", "1.20", "1.10", "DN300", "球墨铸铁"], // row 3: unknown end
      ["JS2", "JS2", "1.10", "1.10", "DN300", "球墨铸铁"], // row 4: same start and end
      ["JS2", "JS1", "1.10", "1.20", "DN300", "球墨铸铁"], // row 5: duplicate of row 2 (reversed)
      ["JS1", "JS6", "1.20", "1.20", "DN300", "球墨铸铁"], // row 6: identical coordinates
      ["JS2", "JS4", "1.10", "1.05", null, "球墨铸铁"], // row 7: no diameter (kept)
      ["JS4", "JS5", "x", "1.25", "DN100", "PE"], // row 8: non-numeric start depth (kept)
      ["JS4", "JS6", "1.05", "1.20", "大", "PE"], // row 9: unreadable size (kept)
    ];
    const files = {
      points: writeCsv("broken_点.csv", points),
      lines: writeCsv("broken_段.csv", lines),
      crs: CRS,
    };
    const net = await readCjjTables(files);
    const P = "broken_点.csv";
    const L = "broken_段.csv";
    expect(net.issues.map(({ file, row, column, severity }) => ({ file, row, column, severity }))).toEqual([
      { file: P, row: 4, column: "物探点号", severity: "error" },
      { file: P, row: 5, column: "X", severity: "error" },
      { file: P, row: 6, column: "埋深", severity: "error" },
      { file: P, row: 7, column: "埋深", severity: "error" },
      { file: P, row: 9, column: "物探点号", severity: "error" },
      { file: L, row: 3, column: "终点号", severity: "error" },
      { file: L, row: 4, column: "终点号", severity: "error" },
      { file: L, row: 5, column: null, severity: "error" },
      { file: L, row: 6, column: null, severity: "error" },
      { file: L, row: 7, column: "管径", severity: "warning" },
      { file: L, row: 8, column: "起点埋深", severity: "error" },
      { file: L, row: 9, column: "管径", severity: "error" },
    ]);
    expect(net.issues.map((i) => i.problem)).toEqual([
      'duplicate point id "JS2" (first at broken_点.csv row 3); row skipped',
      'non-numeric coordinate "abc"; row skipped',
      "negative depth -1.05; value ignored",
      'non-numeric depth "深"; value ignored',
      "missing point id; row skipped",
      'unknown end point id "JS9" (not in the point tables); row skipped',
      'zero-length segment: start and end are both "JS2"; row skipped',
      'duplicate segment "JS2"–"JS1" (first at broken_段.csv row 2); row skipped',
      'zero-length segment: "JS1" and "JS6" have identical coordinates; row skipped',
      "missing diameter/section (管径 empty)",
      'non-numeric start depth "x"; value ignored',
      'cannot read the size "大" (expected e.g. 300, DN300 or 1000x800 in mm); size ignored',
    ]);
    expect(net.nodes.map((n) => n.id)).toEqual(["JS1", "JS2", "JS4", "JS5", "JS6"]);
    expect(net.links.map((l) => l.id)).toEqual(["JS1-JS2", "JS2-JS4", "JS4-JS5", "JS4-JS6"]);
    const links = byId(net.links);
    expect(links.get("JS2-JS4")!.section).toBeNull();
    expect(links.get("JS2-JS4")!.toInvert).toBeNull(); // top convention without a size
    expect(links.get("JS4-JS6")!.section).toBeNull();
    // The bad start depth falls back to the point's 埋深, which was negative and dropped: no invert.
    expect(links.get("JS4-JS5")!.fromInvert).toBeNull();
    expect(byId(net.nodes).get("JS4")!.invertElevation).toBeNull();
    expect(PipeNetworkSchema.parse(net)).toBeTruthy();

    const strict = readCjjTables({ ...files, strict: true });
    await expect(strict).rejects.toBeInstanceOf(CjjImportError);
    await expect(readCjjTables({ ...files, strict: true })).rejects.toThrow(
      /11 error\(s\):\nerror: broken_点.csv, row 4, column 物探点号: duplicate point id/,
    );
    const err = await readCjjTables({ ...files, strict: true }).catch((e: CjjImportError) => e);
    expect((err as CjjImportError).issues).toEqual(net.issues);
    // Strict mode passes clean tables.
    await expect(
      readCjjTables({
        points: writeCsv("ok_JS_p.csv", JS_POINTS),
        lines: writeCsv("ok_JS_l.csv", JS_LINES),
        strict: true,
      }),
    ).resolves.toMatchObject({ crs: null });
  });

  it("reports a table without its header and points of unknown class", async () => {
    const net = await readCjjTables({
      points: [
        writeCsv("管线点.csv", [
          ["点号", "X", "Y", "埋深"],
          ["P1", ...xy(0, 0), "1.0"],
          ["P2", ...xy(0, 10), "1.0"],
        ]),
      ],
      lines: [
        writeCsv("线.csv", [
          ["起点", "终点号"],
          ["P1", "P2"],
        ]),
      ],
      crs: CRS,
    });
    expect(net.nodes.map((n) => n.pipeClass)).toEqual(["UNKNOWN", "UNKNOWN"]);
    expect(net.links).toEqual([]);
    expect(net.issues).toEqual([
      {
        file: "线.csv",
        row: null,
        column: null,
        problem:
          "no line table: the header lacks 起点号 (needs 起点号 and 终点号; other names can be given in the mapping)",
        severity: "error",
      },
      {
        file: "管线点.csv",
        row: null,
        column: null,
        problem:
          "2 point(s) without a recognisable pipe class (no class column, id prefix, file name or classed segment), set to UNKNOWN: P1, P2",
        severity: "warning",
      },
    ]);
  });
});

describe("CJJ helpers", () => {
  it("parses sections", () => {
    expect(parseSection("DN300")).toEqual({ shape: "circular", diameter: 0.3 });
    expect(parseSection("Φ600")).toEqual({ shape: "circular", diameter: 0.6 });
    expect(parseSection("De110")).toEqual({ shape: "circular", diameter: 0.11 });
    expect(parseSection("0.5m")).toEqual({ shape: "circular", diameter: 0.5 });
    expect(parseSection("1000x800")).toEqual({ shape: "rect_closed", width: 1, height: 0.8 });
    expect(parseSection("1000×800")).toEqual({ shape: "rect_closed", width: 1, height: 0.8 });
    expect(parseSection("1200*600mm")).toEqual({ shape: "rect_closed", width: 1.2, height: 0.6 });
    expect(parseSection(null)).toBeNull();
    expect(parseSection("0")).toMatchObject({ error: expect.any(String) });
    expect(parseSection("圆形")).toMatchObject({ error: expect.any(String) });
  });

  it("recognises classes and kinds", () => {
    expect(classFromValue("给水")).toBe("JS");
    expect(classFromValue("雨水管线")).toBe("YS");
    expect(classFromValue("ws")).toBe("WS");
    expect(classFromValue("天然气")).toBe("RQ");
    expect(classFromValue("有线电视")).toBe("TX");
    expect(classFromValue("??")).toBeUndefined();
    expect(classFromPointId("YS-003")).toBe("YS");
    expect(classFromPointId("JS12")).toBe("JS");
    expect(classFromPointId("JSA1")).toBeUndefined();
    expect(classFromPointId("P12")).toBeUndefined();
    expect(nodeKind("阀门井", null)).toBe("valve");
    expect(nodeKind("水表井", null)).toBe("meter");
    expect(nodeKind("污水井", null)).toBe("well");
    expect(nodeKind("窨井", null)).toBe("well");
    expect(nodeKind(null, "出水口")).toBe("outfall");
    expect(nodeKind(null, "四通")).toBe("junction");
    expect(nodeKind(null, "变径")).toBe("junction");
    expect(nodeKind(null, "进水口")).toBe("feature");
    expect(nodeKind(null, null)).toBe("junction");
  });

  it("parses RFC 4180 CSV and detects encodings", () => {
    expect(parseCsv('a,"b,c","d ""e"""\r\n"multi\nline",,x\n')).toEqual([
      ["a", "b,c", 'd "e"'],
      ["multi\nline", "", "x"],
    ]);
    const gbk = iconv.encode("物探点号,X", "gbk");
    expect(decodeTableBytes(gbk)).toMatchObject({ text: "物探点号,X", encoding: "gb18030" });
    expect(decodeTableBytes(Buffer.from("\uFEFF点号", "utf8"))).toMatchObject({ text: "点号", bom: true });
    expect(decodeTableBytes(Buffer.from("点号", "utf8"))).toMatchObject({ text: "点号", encoding: "utf-8" });
  });
});
