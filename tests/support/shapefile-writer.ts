import { writeFile } from "node:fs/promises";
import iconv from "iconv-lite";

/**
 * Writes polygon shapefiles (.shp + .dbf, optional .prj/.cpg) with attributes in a chosen encoding, so tests
 * can build the GBK files Chinese GIS exports produce. Test-only and hand-written: no maintained npm package
 * writes .dbf in GBK.
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

function dbfBytes(polygons: ShapefilePolygon[], fields: ShapefileFields, encoding: string): Buffer {
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
    head.write(name, at, 10, "latin1");
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
          ? Buffer.from(Number(v).toFixed(f.decimals).padStart(f.length, " "), "latin1")
          : iconv.encode(String(v ?? ""), encoding);
      bytes.copy(row, at, 0, Math.min(bytes.length, f.length));
      at += f.length;
    }
    return row;
  });
  return Buffer.concat([head, ...rows, Buffer.from([0x1a])]);
}
