/**
 * EXT_meshopt_compression / KHR_meshopt_compression, checked and decoded by the checker itself.
 *
 * gltf-validator (2.0.0-dev.3.10) does not know these extensions: it reports them as UNSUPPORTED_EXTENSION
 * (info) and validates accessors against the zero-filled fallback buffer, so a GLB whose compressed streams are
 * missing, truncated or overwritten still gets 0 validator errors. Here every compressed stream is range-checked
 * against its source buffer, checked for overlap with other data in that buffer, and decoded with
 * meshoptimizer's reference decoder. The result is also returned as a plain GLB (one buffer, no meshopt) so the
 * binary property-table checks see the bytes a client would see.
 */
import { MeshoptDecoder } from "meshoptimizer";
import type { GlbParts } from "./glb-container.ts";

type Json = Record<string, unknown>;

const EXTENSIONS = ["EXT_meshopt_compression", "KHR_meshopt_compression"] as const;

export interface MeshoptOutcome {
  errors: string[];
  warnings: string[];
  /** Number of compressed buffer views found (0: the GLB does not use meshopt; `decoded` is the input). */
  compressedViews: number;
  /** Same GLB with every stream decoded into a single BIN buffer; undefined when it could not be built. */
  decoded: GlbParts | undefined;
}

interface Stream {
  index: number;
  ext: string;
  view: Json;
  source: number;
  byteOffset: number;
  byteLength: number;
  byteStride: number;
  count: number;
  mode: string;
  filter: string;
}

function asObject(v: unknown): Json | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0;
}

function streamsOf(json: Json, uri: string, errors: string[]): Stream[] {
  const views = Array.isArray(json.bufferViews) ? (json.bufferViews as Json[]) : [];
  const streams: Stream[] = [];
  views.forEach((view, index) => {
    for (const ext of EXTENSIONS) {
      const e = asObject(asObject(view.extensions)?.[ext]);
      if (!e) continue;
      const where = `${uri}: bufferViews[${index}].extensions.${ext}`;
      const { buffer, byteOffset = 0, byteLength, byteStride, count, mode, filter = "NONE" } = e;
      if (![buffer, byteOffset, byteLength, byteStride, count].every(isCount) || typeof mode !== "string") {
        errors.push(
          `${where}: buffer, byteLength, byteStride, count and mode are required non-negative integers`,
        );
        continue;
      }
      streams.push({
        index,
        ext,
        view,
        source: buffer as number,
        byteOffset: byteOffset as number,
        byteLength: byteLength as number,
        byteStride: byteStride as number,
        count: count as number,
        mode,
        filter: String(filter),
      });
    }
  });
  return streams;
}

/** Stream and buffer-view byte ranges in one buffer must not overlap: one of them would be garbage. */
function checkOverlaps(json: Json, streams: Stream[], uri: string, errors: string[]): void {
  const views = Array.isArray(json.bufferViews) ? (json.bufferViews as Json[]) : [];
  const ranges: Array<{ buffer: number; start: number; end: number; label: string }> = [];
  for (const s of streams)
    ranges.push({
      buffer: s.source,
      start: s.byteOffset,
      end: s.byteOffset + s.byteLength,
      label: `the compressed stream of bufferViews[${s.index}]`,
    });
  const compressed = new Set(streams.map((s) => s.view));
  views.forEach((view, index) => {
    if (compressed.has(view) || typeof view.buffer !== "number") return;
    const start = (view.byteOffset as number | undefined) ?? 0;
    ranges.push({
      buffer: view.buffer,
      start,
      end: start + (view.byteLength as number),
      label: `bufferViews[${index}]`,
    });
  });
  ranges.sort((a, b) => a.buffer - b.buffer || a.start - b.start);
  let reported = 0;
  for (let i = 0; i < ranges.length; i++)
    for (let j = i + 1; j < ranges.length && ranges[j].buffer === ranges[i].buffer; j++) {
      const [a, b] = [ranges[i], ranges[j]];
      if (b.start >= a.end) break;
      if (!a.label.startsWith("the compressed") && !b.label.startsWith("the compressed")) continue;
      if (reported++ < 5)
        errors.push(
          `${uri}: ${a.label} (buffer ${a.buffer} bytes ${a.start}..${a.end}) overlaps ${b.label} ` +
            `(bytes ${b.start}..${b.end}); the compressed data has been overwritten or mislocated`,
        );
    }
  if (reported > 5) errors.push(`${uri}: ${reported - 5} more overlaps with compressed streams`);
}

export async function decodeMeshopt(glb: GlbParts, uri: string): Promise<MeshoptOutcome> {
  const errors: string[] = [];
  const warnings: string[] = [];
  const streams = streamsOf(glb.json, uri, errors);
  if (streams.length === 0 && errors.length === 0)
    return { errors, warnings, compressedViews: 0, decoded: glb };

  const buffers = Array.isArray(glb.json.buffers) ? (glb.json.buffers as Json[]) : [];
  // Bytes of each buffer as stored: buffer 0 is the BIN chunk; buffers without uri beyond it are fallbacks.
  const stored = buffers.map((b, i) =>
    i === 0 && b.uri === undefined ? glb.bin : b.uri === undefined ? "fallback" : undefined,
  );
  let buildable = stored.every((s) => s !== undefined);
  if (!buildable)
    warnings.push(`${uri}: meshopt with buffers outside the GLB BIN chunk is not decoded by the checker`);

  checkOverlaps(glb.json, streams, uri, errors);

  // Merged layout: buffer 0 (the BIN chunk) first, every other buffer after it on an 8-byte boundary.
  const base: number[] = [];
  let size = 0;
  buffers.forEach((b) => {
    size = Math.ceil(size / 8) * 8;
    base.push(size);
    size += (b.byteLength as number | undefined) ?? 0;
  });
  size = Math.ceil(size / 8) * 8;
  const merged = new Uint8Array(size);
  const binBytes = Math.min(glb.bin?.byteLength ?? 0, (buffers[0]?.byteLength as number | undefined) ?? 0);
  if (glb.bin) merged.set(glb.bin.subarray(0, binBytes));

  await MeshoptDecoder.ready;
  for (const s of streams) {
    const where = `${uri}: bufferViews[${s.index}].extensions.${s.ext}`;
    const source = stored[s.source];
    const sourceBuffer = buffers[s.source];
    if (!sourceBuffer) {
      errors.push(`${where}: buffer ${s.source} does not exist`);
      buildable = false;
      continue;
    }
    if (source === "fallback") {
      errors.push(
        `${where}: buffer ${s.source} is a fallback buffer without data; it cannot hold compressed bytes`,
      );
      buildable = false;
      continue;
    }
    if (!source) {
      warnings.push(`${where}: buffer ${s.source} is external; the stream is not checked`);
      continue;
    }
    const end = s.byteOffset + s.byteLength;
    const available = Math.min(source.byteLength, (sourceBuffer.byteLength as number | undefined) ?? 0);
    if (end > available) {
      errors.push(
        `${where}: compressed stream (buffer ${s.source} bytes ${s.byteOffset}..${end}) runs past the end of ` +
          `buffer ${s.source} (${available} bytes); the compressed data is missing`,
      );
      buildable = false;
      continue;
    }
    const decodedLength = s.count * s.byteStride;
    const viewLength = s.view.byteLength as number;
    if (decodedLength > viewLength) {
      errors.push(`${where}: count * byteStride = ${decodedLength} > bufferView byteLength ${viewLength}`);
      buildable = false;
      continue;
    }
    const target = new Uint8Array(decodedLength);
    try {
      MeshoptDecoder.decodeGltfBuffer(
        target,
        s.count,
        s.byteStride,
        source.subarray(s.byteOffset, end),
        s.mode,
        s.filter,
      );
    } catch (e) {
      errors.push(`${where}: ${s.mode}/${s.filter} stream could not be decoded: ${(e as Error).message}`);
      buildable = false;
      continue;
    }
    const at =
      (base[s.view.buffer as number] ?? Number.NaN) + ((s.view.byteOffset as number | undefined) ?? 0);
    if (!(at + decodedLength <= merged.byteLength)) {
      errors.push(`${where}: the bufferView runs past the end of buffer ${String(s.view.buffer)}`);
      buildable = false;
      continue;
    }
    merged.set(target, at);
  }
  if (!buildable || errors.length > 0)
    return { errors, warnings, compressedViews: streams.length, decoded: undefined };

  const json = structuredClone(glb.json);
  for (const view of (json.bufferViews as Json[] | undefined) ?? []) {
    view.byteOffset = ((view.byteOffset as number | undefined) ?? 0) + base[view.buffer as number];
    view.buffer = 0;
    const ext = asObject(view.extensions);
    if (ext) {
      for (const name of EXTENSIONS) delete ext[name];
      if (Object.keys(ext).length === 0) delete view.extensions;
    }
  }
  json.buffers = [{ byteLength: size }];
  for (const key of ["extensionsUsed", "extensionsRequired"])
    if (Array.isArray(json[key]))
      json[key] = (json[key] as string[]).filter((n) => !(EXTENSIONS as readonly string[]).includes(n));
  return { errors, warnings, compressedViews: streams.length, decoded: { json, bin: merged } };
}
