import { open } from "node:fs/promises";
import { createRequire } from "node:module";
import { GPS_OFFSET, LasFormatError, type LasHeader, RGB_OFFSET, readLasHeader } from "./las-header.ts";

/**
 * Decoded points of one batch. The arrays are reused by the next batch: consume them before asking for more.
 */
export interface PointBatch {
  count: number;
  x: Float64Array;
  y: Float64Array;
  z: Float64Array;
  intensity: Uint16Array;
  /** Legacy (formats 0-5, 5 bits) or extended (formats 6-10, 8 bits) classification. */
  classification: Uint8Array;
  returnNumber: Uint8Array;
  numberOfReturns: Uint8Array;
  /** 16-bit R, G, B per point, or null when the format has no colour. */
  rgb: Uint16Array | null;
  gpsTime: Float64Array | null;
}

export const BATCH_POINTS = 65536;

function newBatch(format: number): PointBatch {
  const n = BATCH_POINTS;
  return {
    count: 0,
    x: new Float64Array(n),
    y: new Float64Array(n),
    z: new Float64Array(n),
    intensity: new Uint16Array(n),
    classification: new Uint8Array(n),
    returnNumber: new Uint8Array(n),
    numberOfReturns: new Uint8Array(n),
    rgb: RGB_OFFSET[format] >= 0 ? new Uint16Array(3 * n) : null,
    gpsTime: GPS_OFFSET[format] >= 0 ? new Float64Array(n) : null,
  };
}

/** Decodes `count` raw records starting at `base` in `bytes` into `out`. */
function decodeRecords(
  h: LasHeader,
  bytes: Uint8Array,
  base: number,
  count: number,
  stride: number,
  out: PointBatch,
): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [sx, sy, sz] = h.scale;
  const [ox, oy, oz] = h.offset;
  const extended = h.pointFormat >= 6;
  const rgbAt = RGB_OFFSET[h.pointFormat];
  const gpsAt = GPS_OFFSET[h.pointFormat];
  const { x, y, z, intensity, classification, returnNumber, numberOfReturns, rgb, gpsTime } = out;
  for (let i = 0; i < count; i++) {
    const p = base + i * stride;
    x[i] = dv.getInt32(p, true) * sx + ox;
    y[i] = dv.getInt32(p + 4, true) * sy + oy;
    z[i] = dv.getInt32(p + 8, true) * sz + oz;
    intensity[i] = dv.getUint16(p + 12, true);
    const r = bytes[p + 14];
    if (extended) {
      returnNumber[i] = r & 15;
      numberOfReturns[i] = r >> 4;
      classification[i] = bytes[p + 16];
    } else {
      returnNumber[i] = r & 7;
      numberOfReturns[i] = (r >> 3) & 7;
      classification[i] = bytes[p + 15] & 31;
    }
    if (rgb) {
      rgb[3 * i] = dv.getUint16(p + rgbAt, true);
      rgb[3 * i + 1] = dv.getUint16(p + rgbAt + 2, true);
      rgb[3 * i + 2] = dv.getUint16(p + rgbAt + 4, true);
    }
    if (gpsTime) gpsTime[i] = dv.getFloat64(p + gpsAt, true);
  }
  out.count = count;
}

export interface LasReader {
  header: LasHeader;
  /** Streams every point record in file order, BATCH_POINTS at a time. */
  batches(): AsyncGenerator<PointBatch>;
  close(): Promise<void>;
}

export async function openLas(file: string): Promise<LasReader> {
  const fh = await open(file, "r");
  let header: LasHeader;
  try {
    header = await readLasHeader(fh, file);
  } catch (err) {
    await fh.close();
    throw err;
  }
  const h = header;
  return {
    header: h,
    close: () => fh.close(),
    batches: h.compressed ? () => lazBatches(h, fh) : () => lasBatches(h, fh),
  };
}

async function* lasBatches(
  h: LasHeader,
  fh: import("node:fs/promises").FileHandle,
): AsyncGenerator<PointBatch> {
  const batch = newBatch(h.pointFormat);
  // Two buffers: the next batch is read while the consumer works on the current one.
  const buffers = [Buffer.alloc(BATCH_POINTS * h.recordLength), Buffer.alloc(BATCH_POINTS * h.recordLength)];
  const readBatch = (index: number, buf: Buffer) => {
    const first = index * BATCH_POINTS;
    const n = Math.min(BATCH_POINTS, h.pointCount - first);
    const at = h.offsetToPointData + first * h.recordLength;
    return fh.read(buf, 0, n * h.recordLength, at).then(({ bytesRead }) => {
      if (bytesRead < n * h.recordLength)
        throw new LasFormatError(h.file, at + bytesRead, `truncated point data after ${first} points`);
      return n;
    });
  };
  const batches = Math.ceil(h.pointCount / BATCH_POINTS);
  let pending = batches > 0 ? readBatch(0, buffers[0]) : undefined;
  for (let index = 0; index < batches; index++) {
    const n = await (pending as Promise<number>);
    const buf = buffers[index & 1];
    pending = index + 1 < batches ? readBatch(index + 1, buffers[(index + 1) & 1]) : undefined;
    // A failed read-ahead is reported when its batch is reached; keep it from being an unhandled rejection.
    pending?.catch(() => {});
    decodeRecords(h, buf, 0, n, h.recordLength, batch);
    yield batch;
  }
}

interface LazPerfModule {
  HEAPU8: Uint8Array;
  _malloc(n: number): number;
  _free(p: number): void;
  LASZip: new () => {
    open(p: number, n: number): void;
    getPoint(p: number): void;
    getCount(): number;
    getPointLength(): number;
    getPointFormat(): number;
    delete(): void;
  };
}

let lazPerf: Promise<LazPerfModule> | undefined;

function loadLazPerf(): Promise<LazPerfModule> {
  const require = createRequire(import.meta.url);
  const mod = require("laz-perf") as { createLazPerf: () => Promise<LazPerfModule> };
  lazPerf ??= mod.createLazPerf();
  return lazPerf;
}

/**
 * LAZ through laz-perf's LASZip reader. Its API decodes from a memory image of the whole compressed file (it
 * needs the chunk table at the end), so a LAZ file is held in the wasm heap compressed (typically 1/7 of the LAS
 * size); the decoded points are still streamed in batches.
 */
async function* lazBatches(
  h: LasHeader,
  fh: import("node:fs/promises").FileHandle,
): AsyncGenerator<PointBatch> {
  const lp = await loadLazPerf();
  const filePtr = lp._malloc(h.fileSize);
  const scratch = lp._malloc(BATCH_POINTS * h.recordLength);
  const reader = new lp.LASZip();
  try {
    const piece = Buffer.alloc(1 << 22);
    for (let at = 0; at < h.fileSize; at += piece.length) {
      const { bytesRead } = await fh.read(piece, 0, Math.min(piece.length, h.fileSize - at), at);
      lp.HEAPU8.set(piece.subarray(0, bytesRead), filePtr + at);
    }
    // LAZ 1.x point data starts with the 64-bit offset of the chunk table, written last: a truncated file loses it.
    const tableAt = Number(
      Buffer.from(
        lp.HEAPU8.subarray(filePtr + h.offsetToPointData, filePtr + h.offsetToPointData + 8),
      ).readBigInt64LE(0),
    );
    if (tableAt !== -1 && (tableAt < h.offsetToPointData + 8 || tableAt + 8 > h.fileSize))
      throw new LasFormatError(
        h.file,
        h.offsetToPointData,
        `LAZ chunk table offset ${tableAt} is outside the file (${h.fileSize} bytes): the file is truncated or corrupt`,
      );
    try {
      reader.open(filePtr, h.fileSize);
    } catch (err) {
      throw new LasFormatError(
        h.file,
        h.offsetToPointData,
        `laz-perf cannot open the LAZ data (corrupt LAZ): ${describe(err)}`,
      );
    }
    const stride = reader.getPointLength();
    if (stride < h.recordLength)
      throw new LasFormatError(
        h.file,
        105,
        `LAZ point length ${stride} differs from the header's ${h.recordLength}`,
      );
    const batch = newBatch(h.pointFormat);
    let done = 0;
    while (done < h.pointCount) {
      const n = Math.min(BATCH_POINTS, h.pointCount - done);
      try {
        for (let i = 0; i < n; i++) reader.getPoint(scratch + i * stride);
      } catch (err) {
        throw new LasFormatError(
          h.file,
          h.offsetToPointData,
          `LAZ decoding failed at point ${done}: ${describe(err)}`,
        );
      }
      decodeRecords(h, lp.HEAPU8, scratch, n, stride, batch);
      done += n;
      yield batch;
    }
  } finally {
    reader.delete();
    lp._free(scratch);
    lp._free(filePtr);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
