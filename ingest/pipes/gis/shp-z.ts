import { readFile } from "node:fs/promises";

/**
 * Z values of a PointZ / PolyLineZ shapefile, per record in file order (the order the `shapefile` package yields
 * features in). That package reads the x/y of these shape types but drops their Z, and no maintained npm
 * package reads them, so the few fixed offsets of the ESRI Shapefile Technical Description are read here.
 * Returns null for shapefiles of other types; a record without Z (null shape) gets null.
 */
export async function readShapefileZ(shpPath: string): Promise<(number[] | null)[] | null> {
  const bytes = await readFile(shpPath);
  if (bytes.length < 100) return null;
  const fileType = bytes.readInt32LE(32);
  if (fileType !== 11 && fileType !== 13) return null;
  const fileEnd = Math.min(bytes.length, bytes.readInt32BE(24) * 2);
  const result: (number[] | null)[] = [];
  let at = 100;
  while (at + 8 <= fileEnd) {
    const contentBytes = bytes.readInt32BE(at + 4) * 2;
    const start = at + 8;
    const end = start + contentBytes;
    if (end > bytes.length) break;
    const type = contentBytes >= 4 ? bytes.readInt32LE(start) : 0;
    if (type === 11 && contentBytes >= 28) {
      result.push([bytes.readDoubleLE(start + 20)]);
    } else if (type === 13 && contentBytes >= 44) {
      const parts = bytes.readInt32LE(start + 36);
      const points = bytes.readInt32LE(start + 40);
      // type, box, counts, part starts, x/y pairs, then the Z range and the Z array.
      const zAt = start + 44 + 4 * parts + 16 * points + 16;
      if (zAt + 8 * points <= end) {
        const z: number[] = [];
        for (let i = 0; i < points; i++) z.push(bytes.readDoubleLE(zAt + 8 * i));
        result.push(z);
      } else result.push(null);
    } else result.push(null);
    at = end;
  }
  return result;
}
