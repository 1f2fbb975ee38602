import { writeFile } from "node:fs/promises";
import iconv from "iconv-lite";

/**
 * Writes polygon, polyline (2D or Z) and point shapefiles (.shp + .dbf, optional .prj/.cpg) with attributes and
 * field names in a chosen encoding, so tests can build the GBK files Chinese GIS exports produce. Test-only and
 * hand-written: no maintained npm package writes .dbf in GBK.
 */
export interface ShapefilePolygon {
  rings: number[][][];
  attributes: Record<string, string | number>;
}

export interface ShapefileFields {
  [name: string]: { type: "C"; length: number } | { type: "N"; length: number; decimals: number };
}

export async function writePolygonShapefile(
  stem: string,
  polygons: ShapefilePolygon[],
  fields: ShapefileFields,
  opts: { encoding: "gbk" | "utf8"; prj?: string; cpg?: string },
): Promise<void> {
  await writeFile(`${stem}.shp`, shpBytes(polygons));
  await writeFile(`${stem}.dbf`, dbfBytes(polygons, fields, opts.encoding));
  if (opts.prj) await writeFile(`${stem}.prj`, opts.prj);
  if (opts.cpg) await writeFile(`${stem}.cpg`, opts.cpg);
}

/** A polyline record: parts of [x, y] or [x, y, z] positions (all with z: written as PolyLineZ). */
export interface ShapefileLine {
  parts: number[][][];
  attributes: Record<string, string | number>;
}

export interface ShapefilePoint {
  point: number[];
  attributes: Record<string, string | number>;
}

export async function writeLineShapefile(
  stem: string,
  lines: ShapefileLine[],
  fields: ShapefileFields,
  opts: { encoding: "gbk" | "utf8"; prj?: string; cpg?: string },
): Promise<void> {
  const withZ = lines.every((l) => l.parts.every((p) => p.every((q) => q.length >= 3)));
  const records = lines.map((l) => {
    const points = l.parts.flat();
    const n = l.parts.length;
    const m = points.length;
    const content = Buffer.alloc(44 + 4 * n + 16 * m + (withZ ? 16 + 8 * m : 0));
    content.writeInt32LE(withZ ? 13 : 3, 0);
    writeBox(content, 4, points);
    content.writeInt32LE(n, 36);
    content.writeInt32LE(m, 40);
    let start = 0;
    l.parts.forEach((p, k) => {
      content.writeInt32LE(start, 44 + 4 * k);
      start += p.length;
    });
    const xyAt = 44 + 4 * n;
    points.forEach((q, k) => {
      content.writeDoubleLE(q[0], xyAt + 16 * k);
      content.writeDoubleLE(q[1], xyAt + 16 * k + 8);
    });
    if (withZ) {
      const zAt = xyAt + 16 * m;
      content.writeDoubleLE(Math.min(...points.map((q) => q[2])), zAt);
      content.writeDoubleLE(Math.max(...points.map((q) => q[2])), zAt + 8);
      points.forEach((q, k) => {
        content.writeDoubleLE(q[2], zAt + 16 + 8 * k);
      });
    }
    return content;
  });
  await writeFile(
    `${stem}.shp`,
    shpFile(
      withZ ? 13 : 3,
      records,
      lines.flatMap((l) => l.parts.flat()),
    ),
  );
  await writeFile(`${stem}.dbf`, dbfBytes(lines, fields, opts.encoding));
  if (opts.prj) await writeFile(`${stem}.prj`, opts.prj);
  if (opts.cpg) await writeFile(`${stem}.cpg`, opts.cpg);
}

export async function writePointShapefile(
  stem: string,
  points: ShapefilePoint[],
  fields: ShapefileFields,
  opts: { encoding: "gbk" | "utf8"; prj?: string; cpg?: string },
): Promise<void> {
  const records = points.map((p) => {
    const content = Buffer.alloc(20);
    content.writeInt32LE(1, 0);
    content.writeDoubleLE(p.point[0], 4);
    content.writeDoubleLE(p.point[1], 12);
    return content;
  });
  await writeFile(
    `${stem}.shp`,
    shpFile(
      1,
      records,
      points.map((p) => p.point),
    ),
  );
  await writeFile(`${stem}.dbf`, dbfBytes(points, fields, opts.encoding));
  if (opts.prj) await writeFile(`${stem}.prj`, opts.prj);
  if (opts.cpg) await writeFile(`${stem}.cpg`, opts.cpg);
}

function writeBox(b: Buffer, at: number, points: number[][]): void {
  b.writeDoubleLE(Math.min(...points.map((q) => q[0])), at);
  b.writeDoubleLE(Math.min(...points.map((q) => q[1])), at + 8);
  b.writeDoubleLE(Math.max(...points.map((q) => q[0])), at + 16);
  b.writeDoubleLE(Math.max(...points.map((q) => q[1])), at + 24);
}

/** Main file: 100-byte header, then records each behind a (number, content length in 16-bit words) header. */
function shpFile(shapeType: number, contents: Buffer[], all: number[][]): Buffer {
  const body = Buffer.concat(
    contents.flatMap((content, i) => {
      const header = Buffer.alloc(8);
      header.writeInt32BE(i + 1, 0);
      header.writeInt32BE(content.length / 2, 4);
      return [header, content];
    }),
  );
  const head = Buffer.alloc(100);
  head.writeInt32BE(9994, 0);
  head.writeInt32BE((100 + body.length) / 2, 24);
  head.writeInt32LE(1000, 28);
  head.writeInt32LE(shapeType, 32);
  writeBox(head, 36, all);
  return Buffer.concat([head, body]);
}

function shpBytes(polygons: ShapefilePolygon[]): Buffer {
  const records = polygons.map((p, i) => {
    // Shapefile outer rings are clockwise: the reverse of GeoJSON's convention.
    const rings = p.rings.map((r, k) => (k === 0 ? [...r].reverse() : r));
    const points = rings.flat();
    const content = Buffer.alloc(44 + 4 * rings.length + 16 * points.length);
    content.writeInt32LE(5, 0);
    const xs = points.map((q) => q[0]);
    const ys = points.map((q) => q[1]);
    content.writeDoubleLE(Math.min(...xs), 4);
    content.writeDoubleLE(Math.min(...ys), 12);
    content.writeDoubleLE(Math.max(...xs), 20);
    content.writeDoubleLE(Math.max(...ys), 28);
    content.writeInt32LE(rings.length, 36);
    content.writeInt32LE(points.length, 40);
    let start = 0;
    rings.forEach((r, k) => {
      content.writeInt32LE(start, 44 + 4 * k);
      start += r.length;
    });
    points.forEach((q, k) => {
      content.writeDoubleLE(q[0], 44 + 4 * rings.length + 16 * k);
      content.writeDoubleLE(q[1], 52 + 4 * rings.length + 16 * k);
    });
    const header = Buffer.alloc(8);
    header.writeInt32BE(i + 1, 0);
    header.writeInt32BE(content.length / 2, 4);
    return Buffer.concat([header, content]);
  });
  const body = Buffer.concat(records);
  const all = polygons.flatMap((p) => p.rings.flat());
  const head = Buffer.alloc(100);
  head.writeInt32BE(9994, 0);
  head.writeInt32BE((100 + body.length) / 2, 24);
  head.writeInt32LE(1000, 28);
  head.writeInt32LE(5, 32);
  head.writeDoubleLE(Math.min(...all.map((q) => q[0])), 36);
  head.writeDoubleLE(Math.min(...all.map((q) => q[1])), 44);
  head.writeDoubleLE(Math.max(...all.map((q) => q[0])), 52);
  head.writeDoubleLE(Math.max(...all.map((q) => q[1])), 60);
  return Buffer.concat([head, body]);
}

function dbfBytes(
  polygons: { attributes: Record<string, string | number> }[],
  fields: ShapefileFields,
  encoding: string,
): Buffer {
  const names = Object.keys(fields);
  const recordLength = 1 + names.reduce((s, n) => s + fields[n].length, 0);
  const headerLength = 32 + 32 * names.length + 1;
  const head = Buffer.alloc(headerLength);
  head[0] = 0x03;
  head[1] = 126;
  head[2] = 11;
  head[3] = 21;
  head.writeUInt32LE(polygons.length, 4);
  head.writeUInt16LE(headerLength, 8);
  head.writeUInt16LE(recordLength, 10);
  names.forEach((name, i) => {
    const at = 32 + 32 * i;
    iconv.encode(name, encoding).copy(head, at, 0, 10);
    const f = fields[name];
    head.write(f.type, at + 11, 1, "latin1");
    head[at + 16] = f.length;
    head[at + 17] = f.type === "N" ? f.decimals : 0;
  });
  head[headerLength - 1] = 0x0d;
  const rows = polygons.map((p) => {
    const row = Buffer.alloc(recordLength, 0x20);
    let at = 1;
    for (const name of names) {
      const f = fields[name];
      const v = p.attributes[name];
      const bytes =
        f.type === "N"
          ? v === undefined || v === ""
            ? Buffer.alloc(0)
            : Buffer.from(Number(v).toFixed(f.decimals).padStart(f.length, " "), "latin1")
          : iconv.encode(String(v ?? ""), encoding);
      bytes.copy(row, at, 0, Math.min(bytes.length, f.length));
      at += f.length;
    }
    return row;
  });
  return Buffer.concat([head, ...rows, Buffer.from([0x1a])]);
}
