import type { FileHandle } from "node:fs/promises";

/** A malformed LAS/LAZ file: the message names the file and the byte offset of the problem. */
export class LasFormatError extends Error {
  constructor(file: string, offset: number, message: string) {
    super(`${file}: byte ${offset}: ${message}`);
  }
}

export interface LasVlr {
  userId: string;
  recordId: number;
  /** Offset of the record's payload in the file. */
  dataOffset: number;
  data: Buffer;
  extended: boolean;
}

export interface LasHeader {
  file: string;
  fileSize: number;
  versionMajor: number;
  versionMinor: number;
  headerSize: number;
  offsetToPointData: number;
  /** Point data record format 0-10 (compression bits removed). */
  pointFormat: number;
  recordLength: number;
  compressed: boolean;
  pointCount: number;
  scale: [number, number, number];
  offset: [number, number, number];
  min: [number, number, number];
  max: [number, number, number];
  vlrs: LasVlr[];
}

/** Bytes of each point format's fixed fields; a file's record length may add "extra bytes" after them. */
export const POINT_FORMAT_SIZE = [20, 28, 26, 34, 57, 63, 30, 36, 38, 59, 67];
/** Byte offset of the RGB triplet per point format, or -1. */
export const RGB_OFFSET = [-1, -1, 20, 28, -1, 28, -1, 30, 30, -1, 30];
/** Byte offset of the GPS time per point format, or -1. */
export const GPS_OFFSET = [-1, 20, -1, 20, 20, 20, 22, 22, 22, 22, 22];

// Sanity bound on VLR payloads we keep in memory (GeoTIFF keys and WKT are a few KB; waveform EVLRs are skipped).
const MAX_KEPT_VLR = 1 << 20;

async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, offset);
  return bytesRead === length ? buf : buf.subarray(0, bytesRead);
}

/**
 * Reads and validates the public header block and the VLRs/EVLRs of a LAS 1.0-1.4 or LAZ file. Every count
 * and length is checked against the file size before it is trusted, so garbage headers fail here, with the
 * offset of the bad field, instead of producing a partial tileset.
 */
export async function readLasHeader(fh: FileHandle, file: string): Promise<LasHeader> {
  const fileSize = (await fh.stat()).size;
  const h = await readAt(fh, 0, 375);
  if (h.length < 227 || h.toString("latin1", 0, 4) !== "LASF")
    throw new LasFormatError(
      file,
      0,
      'not a LAS/LAZ file (no "LASF" signature or shorter than a LAS header)',
    );
  const versionMajor = h[24];
  const versionMinor = h[25];
  if (versionMajor !== 1 || versionMinor > 4)
    throw new LasFormatError(file, 24, `unsupported LAS version ${versionMajor}.${versionMinor} (1.0-1.4)`);
  const headerSize = h.readUInt16LE(94);
  const minHeader = versionMinor >= 4 ? 375 : versionMinor === 3 ? 235 : 227;
  if (headerSize < minHeader || headerSize > fileSize)
    throw new LasFormatError(file, 94, `header size ${headerSize} is invalid for LAS 1.${versionMinor}`);
  const offsetToPointData = h.readUInt32LE(96);
  if (offsetToPointData < headerSize || offsetToPointData > fileSize)
    throw new LasFormatError(
      file,
      96,
      `offset to point data ${offsetToPointData} is outside the file (header ${headerSize} bytes, file ${fileSize} bytes)`,
    );
  const vlrCount = h.readUInt32LE(100);
  const rawFormat = h[104];
  const compressed = (rawFormat & 0x80) !== 0;
  const pointFormat = rawFormat & 0x3f;
  if (pointFormat > 10)
    throw new LasFormatError(file, 104, `unknown point data record format ${pointFormat}`);
  const recordLength = h.readUInt16LE(105);
  if (recordLength < POINT_FORMAT_SIZE[pointFormat])
    throw new LasFormatError(
      file,
      105,
      `point record length ${recordLength} is shorter than format ${pointFormat} needs (${POINT_FORMAT_SIZE[pointFormat]})`,
    );
  let pointCount = h.readUInt32LE(107);
  if (versionMinor >= 4) {
    const extended = Number(h.readBigUInt64LE(247));
    if (extended > 0) pointCount = extended;
  }
  const d = (o: number) => h.readDoubleLE(o);
  const scale: [number, number, number] = [d(131), d(139), d(147)];
  if (scale.some((s) => !Number.isFinite(s) || s === 0))
    throw new LasFormatError(file, 131, `invalid scale factors ${scale.join(", ")}`);
  const offset: [number, number, number] = [d(155), d(163), d(171)];
  const max: [number, number, number] = [d(179), d(195), d(211)];
  const min: [number, number, number] = [d(187), d(203), d(219)];

  const vlrs: LasVlr[] = [];
  let at = headerSize;
  for (let i = 0; i < vlrCount; i++) {
    if (at + 54 > offsetToPointData)
      throw new LasFormatError(
        file,
        at,
        `the header declares ${vlrCount} VLRs but VLR ${i + 1} would start inside the point data (which begins at byte ${offsetToPointData})`,
      );
    const v = await readAt(fh, at, 54);
    const length = v.readUInt16LE(20);
    if (at + 54 + length > offsetToPointData)
      throw new LasFormatError(
        file,
        at + 20,
        `VLR ${i + 1} of ${vlrCount} claims ${length} bytes, past the start of point data at byte ${offsetToPointData}`,
      );
    vlrs.push({
      userId: cString(v, 2, 16),
      recordId: v.readUInt16LE(18),
      dataOffset: at + 54,
      data: await readAt(fh, at + 54, length),
      extended: false,
    });
    at += 54 + length;
  }

  if (!compressed) {
    const needed = offsetToPointData + pointCount * recordLength;
    if (needed > fileSize)
      throw new LasFormatError(
        file,
        fileSize,
        `truncated point data: the header declares ${pointCount} points of ${recordLength} bytes from byte ${offsetToPointData} (to byte ${needed}) but the file ends at byte ${fileSize}`,
      );
  }

  if (versionMinor >= 4) {
    let evlrAt = Number(h.readBigUInt64LE(235));
    const evlrCount = h.readUInt32LE(243);
    if (evlrCount > 0 && (evlrAt < offsetToPointData || evlrAt > fileSize))
      throw new LasFormatError(file, 235, `start of first EVLR ${evlrAt} is outside the file`);
    for (let i = 0; i < evlrCount; i++) {
      if (evlrAt + 60 > fileSize)
        throw new LasFormatError(
          file,
          evlrAt,
          `the header declares ${evlrCount} EVLRs but EVLR ${i + 1} would start past the end of the file`,
        );
      const v = await readAt(fh, evlrAt, 60);
      const length = Number(v.readBigUInt64LE(20));
      if (evlrAt + 60 + length > fileSize)
        throw new LasFormatError(
          file,
          evlrAt + 20,
          `EVLR ${i + 1} claims ${length} bytes, past the end of the file`,
        );
      const userId = cString(v, 2, 16);
      const recordId = v.readUInt16LE(18);
      // Only CRS records are needed; waveform data can be gigabytes.
      const keep = userId === "LASF_Projection" && length <= MAX_KEPT_VLR;
      vlrs.push({
        userId,
        recordId,
        dataOffset: evlrAt + 60,
        data: keep ? await readAt(fh, evlrAt + 60, length) : Buffer.alloc(0),
        extended: true,
      });
      evlrAt += 60 + length;
    }
  }

  return {
    file,
    fileSize,
    versionMajor,
    versionMinor,
    headerSize,
    offsetToPointData,
    pointFormat,
    recordLength,
    compressed,
    pointCount,
    scale,
    offset,
    min,
    max,
    vlrs,
  };
}

function cString(b: Buffer, start: number, length: number): string {
  const end = b.indexOf(0, start);
  return b.toString("latin1", start, end >= 0 && end < start + length ? end : start + length);
}
