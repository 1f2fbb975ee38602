import { writeFileSync } from "node:fs";

export interface SyntheticPoint {
  x: number;
  y: number;
  z: number;
  intensity: number;
  classification: number;
  returnNumber: number;
  numberOfReturns: number;
  rgb?: [number, number, number];
  nir?: number;
  gpsTime?: number;
}

const SIZE: Record<number, number> = { 0: 20, 2: 26, 6: 30, 7: 36, 8: 38 };

/**
 * Writes a LAS file independently of the reader under test: LAS 1.4 (375-byte header, 64-bit counts) for formats
 * 6-8, LAS 1.2 for formats 0 and 2. Scale 0.001, offset = first point rounded.
 */
export function writeLas(
  file: string,
  format: 0 | 2 | 6 | 7 | 8,
  points: SyntheticPoint[],
  wkt?: string,
): void {
  const v14 = format >= 6;
  const headerSize = v14 ? 375 : 227;
  const vlr = wkt ? Buffer.from(`${wkt}\0`, "utf8") : undefined;
  const vlrBytes = vlr ? 54 + vlr.length : 0;
  const recLen = SIZE[format];
  const offsetToPoints = headerSize + vlrBytes;
  const buf = Buffer.alloc(offsetToPoints + points.length * recLen);
  buf.write("LASF", 0, "latin1");
  if (v14 && wkt) buf.writeUInt16LE(1 << 4, 6); // WKT global encoding bit
  buf[24] = 1;
  buf[25] = v14 ? 4 : 2;
  buf.writeUInt16LE(headerSize, 94);
  buf.writeUInt32LE(offsetToPoints, 96);
  buf.writeUInt32LE(vlr ? 1 : 0, 100);
  buf[104] = format;
  buf.writeUInt16LE(recLen, 105);
  buf.writeUInt32LE(v14 ? 0 : points.length, 107);
  const scale = 0.001;
  const off = [Math.round(points[0].x), Math.round(points[0].y), Math.round(points[0].z)];
  for (let c = 0; c < 3; c++) {
    buf.writeDoubleLE(scale, 131 + 8 * c);
    buf.writeDoubleLE(off[c], 155 + 8 * c);
  }
  const keys = ["x", "y", "z"] as const;
  keys.forEach((k, c) => {
    buf.writeDoubleLE(Math.max(...points.map((p) => p[k])), 179 + 16 * c);
    buf.writeDoubleLE(Math.min(...points.map((p) => p[k])), 187 + 16 * c);
  });
  if (v14) buf.writeBigUInt64LE(BigInt(points.length), 247);
  if (vlr) {
    buf.write("LASF_Projection", headerSize + 2, "latin1");
    buf.writeUInt16LE(2112, headerSize + 18);
    buf.writeUInt16LE(vlr.length, headerSize + 20);
    vlr.copy(buf, headerSize + 54);
  }
  points.forEach((p, i) => {
    const at = offsetToPoints + i * recLen;
    buf.writeInt32LE(Math.round((p.x - off[0]) / scale), at);
    buf.writeInt32LE(Math.round((p.y - off[1]) / scale), at + 4);
    buf.writeInt32LE(Math.round((p.z - off[2]) / scale), at + 8);
    buf.writeUInt16LE(p.intensity, at + 12);
    if (v14) {
      buf[at + 14] = p.returnNumber | (p.numberOfReturns << 4);
      buf[at + 16] = p.classification;
      buf.writeDoubleLE(p.gpsTime ?? 0, at + 22);
      if (format >= 7 && p.rgb) for (let c = 0; c < 3; c++) buf.writeUInt16LE(p.rgb[c], at + 30 + 2 * c);
      if (format === 8) buf.writeUInt16LE(p.nir ?? 0, at + 36);
    } else {
      buf[at + 14] = p.returnNumber | (p.numberOfReturns << 3);
      buf[at + 15] = p.classification & 31;
      if (format === 2 && p.rgb) for (let c = 0; c < 3; c++) buf.writeUInt16LE(p.rgb[c], at + 20 + 2 * c);
    }
  });
  writeFileSync(file, buf);
}
