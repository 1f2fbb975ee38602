import { access, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createFile, type ISOFile, MP4BoxBuffer } from "mp4box";
import { publishAtomically } from "../../publish.ts";
import { StreetScene } from "./street-scene.ts";

/**
 * h264-mp4-encoder, loaded when a clip is to be made (a demo whose clip is cached never loads it). Its Emscripten
 * glue adds process-wide 'uncaughtException' (rethrow) and 'unhandledRejection' (abort) listeners as it loads,
 * which would take over the process's own error handling (a test runner's report, Node's own message): they are
 * removed again.
 */
async function loadEncoder(): Promise<typeof import("h264-mp4-encoder")> {
  const uncaught = new Set(process.listeners("uncaughtException"));
  const rejected = new Set(process.listeners("unhandledRejection"));
  const mod = await import("h264-mp4-encoder");
  for (const l of process.listeners("uncaughtException"))
    if (!uncaught.has(l)) process.removeListener("uncaughtException", l);
  for (const l of process.listeners("unhandledRejection"))
    if (!rejected.has(l)) process.removeListener("unhandledRejection", l);
  // A CommonJS bundle: Node's ESM loader hands its exports over as the default export, tsx's as named ones.
  return (mod as unknown as { default?: typeof mod }).default ?? mod;
}

/** Bump when the clip's look or packaging changes: cached demo clips of another version are regenerated. */
export const DEMO_VIDEO_VERSION = 1;

export const HLS_PLAYLIST = "index.m3u8";
export const HLS_INIT_SEGMENT = "init.mp4";
/** The whole clip as one MP4 file (fragmented: init + the same fragments), for cameras registered with an MP4 URL. */
export const MP4_CLIP = "clip.mp4";
/** What was generated (read back to decide whether a cached clip is current). */
export const CLIP_MANIFEST = "clip.json";

export interface DemoVideoOptions {
  width?: number;
  height?: number;
  fps?: number;
  /** Total length in seconds. */
  seconds?: number;
  /** Target HLS segment length in seconds; segments are cut at key frames, one GOP per segment. */
  segmentSeconds?: number;
  cameraName?: string;
  /** Wall-clock time shown on frame 0. */
  startTime?: Date;
  /** x264-style quantiser (10..51): higher is smaller and blurrier. */
  quantizer?: number;
}

export interface DemoVideoSegment {
  uri: string;
  duration: number;
  bytes: number;
  frames: number;
}

export interface DemoVideoManifest {
  version: number;
  width: number;
  height: number;
  fps: number;
  frames: number;
  duration: number;
  /** RFC 6381 codec string of the H.264 track, e.g. avc1.42C01E. */
  codec: string;
  cameraName: string;
  playlist: string;
  init: string;
  mp4: string;
  segments: DemoVideoSegment[];
  /** Milliseconds spent drawing frames, encoding and segmenting. */
  timings: { renderMs: number; encodeMs: number; segmentMs: number };
}

const DEFAULTS = {
  width: 640,
  height: 360,
  fps: 25,
  seconds: 10,
  segmentSeconds: 2,
  cameraName: "CAM-01 DEMO STREET",
};

/**
 * Renders a synthetic street-camera clip in JS, encodes it to H.264 with a WebAssembly encoder
 * (h264-mp4-encoder: no ffmpeg, no native code) and packages it as a VOD HLS stream with fragmented
 * MP4 segments (mp4box.js), plus the same fragments as one MP4 file. `outDir` is replaced atomically.
 */
export async function generateDemoVideo(
  outDir: string,
  opts: DemoVideoOptions = {},
): Promise<DemoVideoManifest> {
  const width = opts.width ?? DEFAULTS.width;
  const height = opts.height ?? DEFAULTS.height;
  const fps = opts.fps ?? DEFAULTS.fps;
  const seconds = opts.seconds ?? DEFAULTS.seconds;
  const segmentSeconds = opts.segmentSeconds ?? DEFAULTS.segmentSeconds;
  const cameraName = opts.cameraName ?? DEFAULTS.cameraName;
  if (width % 2 || height % 2 || width < 16 || height < 16)
    throw new Error(`demo video: width and height must be even and at least 16 (${width}x${height})`);
  if (!Number.isInteger(fps) || fps < 1 || fps > 60)
    throw new Error(`demo video: fps must be an integer 1..60 (${fps})`);
  const framesPerSegment = Math.round(segmentSeconds * fps);
  const frames = Math.round(seconds * fps);
  if (framesPerSegment < 1 || frames < framesPerSegment)
    throw new Error(`demo video: ${seconds} s cannot hold a ${segmentSeconds} s segment at ${fps} fps`);

  const scene = new StreetScene({
    width,
    height,
    fps,
    cameraName,
    startTime: opts.startTime ?? new Date("2026-06-01T00:00:00Z"),
  });

  const encoder = await (await loadEncoder()).createH264MP4Encoder();
  let mp4: Uint8Array;
  let renderMs = 0;
  let encodeMs = 0;
  try {
    encoder.width = width;
    encoder.height = height;
    encoder.frameRate = fps;
    // One key frame per segment, so every segment starts decodable on its own (HLS requires it for seeking).
    encoder.groupOfPictures = framesPerSegment;
    encoder.quantizationParameter = opts.quantizer ?? 30;
    encoder.speed = 10;
    // The encoder's virtual file system is shared by all instances in the process: a unique name keeps parallel runs apart.
    encoder.outputFilename = `demo-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.mp4`;
    encoder.initialize();
    for (let i = 0; i < frames; i++) {
      const t0 = performance.now();
      const rgba = scene.render(i);
      const t1 = performance.now();
      encoder.addFrameRgba(rgba);
      renderMs += t1 - t0;
      encodeMs += performance.now() - t1;
    }
    const t2 = performance.now();
    encoder.finalize();
    mp4 = encoder.FS.readFile(encoder.outputFilename);
    encoder.FS.unlink(encoder.outputFilename);
    encodeMs += performance.now() - t2;
  } finally {
    encoder.delete();
  }

  const t3 = performance.now();
  const packaged = await segmentMp4(mp4, framesPerSegment);
  const segmentMs = performance.now() - t3;
  if (packaged.frames !== frames)
    throw new Error(`demo video: the encoder wrote ${packaged.frames} frames, expected ${frames}`);

  const segments: DemoVideoSegment[] = packaged.segments.map((s, i) => ({
    uri: `seg-${String(i).padStart(3, "0")}.m4s`,
    duration: s.frames / fps,
    bytes: s.data.byteLength,
    frames: s.frames,
  }));
  const manifest: DemoVideoManifest = {
    version: DEMO_VIDEO_VERSION,
    width,
    height,
    fps,
    frames,
    duration: frames / fps,
    codec: packaged.codec,
    cameraName,
    playlist: HLS_PLAYLIST,
    init: HLS_INIT_SEGMENT,
    mp4: MP4_CLIP,
    segments,
    timings: {
      renderMs: Math.round(renderMs),
      encodeMs: Math.round(encodeMs),
      segmentMs: Math.round(segmentMs),
    },
  };

  await publishAtomically(outDir, async (dir) => {
    await writeFile(join(dir, MP4_CLIP), concat([packaged.init, ...packaged.segments.map((s) => s.data)]));
    await writeFile(join(dir, HLS_INIT_SEGMENT), new Uint8Array(packaged.init));
    for (let i = 0; i < segments.length; i++) {
      await writeFile(join(dir, segments[i].uri), new Uint8Array(packaged.segments[i].data));
    }
    await writeFile(join(dir, HLS_PLAYLIST), hlsPlaylist(segments));
    // Written last: its presence marks a complete folder.
    await writeFile(join(dir, CLIP_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  });
  return manifest;
}

/** RFC 8216 VOD media playlist with an fMP4 initialisation section (EXT-X-MAP needs version 6+). */
export function hlsPlaylist(segments: readonly DemoVideoSegment[]): string {
  const target = Math.max(...segments.map((s) => Math.round(s.duration)));
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:7",
    `#EXT-X-TARGETDURATION:${target}`,
    "#EXT-X-MEDIA-SEQUENCE:0",
    "#EXT-X-PLAYLIST-TYPE:VOD",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    `#EXT-X-MAP:URI="${HLS_INIT_SEGMENT}"`,
  ];
  for (const s of segments) lines.push(`#EXTINF:${s.duration.toFixed(3)},`, s.uri);
  lines.push("#EXT-X-ENDLIST", "");
  return lines.join("\n");
}

interface Packaged {
  codec: string;
  init: ArrayBuffer;
  segments: { data: ArrayBuffer; frames: number }[];
  frames: number;
}

/** Cuts a progressive MP4 with one video track into an init segment and moof+mdat media segments. */
function segmentMp4(mp4: Uint8Array, framesPerSegment: number): Promise<Packaged> {
  return new Promise((resolve, reject) => {
    const file: ISOFile = createFile();
    const segments: { data: ArrayBuffer; frames: number }[] = [];
    let init: ArrayBuffer | undefined;
    let codec = "";
    let total = 0;
    let sent = 0;
    file.onError = (module: string, message: string) =>
      reject(new Error(`demo video: mp4box ${module}: ${message}`));
    file.onReady = (info) => {
      const track = info.videoTracks[0];
      if (!track || info.tracks.length !== 1) {
        reject(new Error(`demo video: expected one video track, found ${info.tracks.length} tracks`));
        return;
      }
      codec = track.codec;
      total = track.nb_samples;
      const trak = file.getTrackById(track.id);
      const avcC = (trak.mdia.minf.stbl.stsd.entries[0] as { avcC?: { lengthSizeMinusOne: number } }).avcC;
      if (!avcC) {
        reject(new Error(`demo video: track codec ${codec} has no avcC box`));
        return;
      }
      // The encoder writes no sync-sample table (stss), which by the spec marks every frame a key frame:
      // players would seek to frames that cannot be decoded alone. Key frames are the IDR ones.
      for (const sample of trak.samples) {
        sample.is_sync = hasIdrSlice(mp4, sample.offset, sample.size, avcC.lengthSizeMinusOne + 1);
      }
      if (!trak.samples[0]?.is_sync) {
        reject(new Error("demo video: the encoder's first frame is not an IDR key frame"));
        return;
      }
      // Not mp4box's rapAlignement: it tests the last sample of a segment instead of the first. The GOP
      // length equals the segment length, so every cut falls on a key frame (checked below).
      file.setSegmentOptions(track.id, null, { nbSamples: framesPerSegment, rapAlignement: false });
      init = file.initializeSegmentation().buffer;
      file.onSegment = (_id, _user, buffer, nextSample) => {
        if (!trak.samples[sent]?.is_sync) {
          reject(
            new Error(`demo video: segment ${segments.length} starts at frame ${sent}, not a key frame`),
          );
          return;
        }
        segments.push({ data: buffer, frames: nextSample - sent });
        sent = nextSample;
      };
      file.start();
    };
    const ab = mp4.buffer.slice(mp4.byteOffset, mp4.byteOffset + mp4.byteLength) as ArrayBuffer;
    file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(ab, 0), true);
    file.flush();
    if (!init) {
      reject(new Error("demo video: mp4box found no movie header in the encoder's output"));
      return;
    }
    if (sent !== total) {
      reject(new Error(`demo video: segmented ${sent} of ${total} frames`));
      return;
    }
    resolve({ codec, init, segments, frames: total });
  });
}

/** Folder of the demo camera's clip inside the media folder: served at /media/demo-camera/. */
export const DEMO_CAMERA_FOLDER = "demo-camera";

/**
 * The demo camera's clip in `<mediaDir>/demo-camera`, generated on first start (and again when
 * DEMO_VIDEO_VERSION changes or a file is missing), reused otherwise.
 */
export async function ensureDemoVideo(
  mediaDir: string,
  log: (line: string) => void = () => {},
  opts: DemoVideoOptions = {},
): Promise<{ dir: string; manifest: DemoVideoManifest; generated: boolean }> {
  const dir = join(mediaDir, DEMO_CAMERA_FOLDER);
  const cached = await readManifest(dir);
  if (cached && matches(cached, opts)) return { dir, manifest: cached, generated: false };
  log("rendering the demo camera video (first start only)...");
  const manifest = await generateDemoVideo(dir, opts);
  const ms = manifest.timings.renderMs + manifest.timings.encodeMs + manifest.timings.segmentMs;
  log(
    `  ${manifest.duration} s of ${manifest.width}x${manifest.height} H.264 in ${manifest.segments.length} HLS segments (${(ms / 1000).toFixed(1)} s)`,
  );
  return { dir, manifest, generated: true };
}

function matches(m: DemoVideoManifest, opts: DemoVideoOptions): boolean {
  return (
    m.width === (opts.width ?? DEFAULTS.width) &&
    m.height === (opts.height ?? DEFAULTS.height) &&
    m.fps === (opts.fps ?? DEFAULTS.fps) &&
    Math.abs(m.duration - (opts.seconds ?? DEFAULTS.seconds)) < 1e-9 &&
    m.cameraName === (opts.cameraName ?? DEFAULTS.cameraName)
  );
}

async function readManifest(dir: string): Promise<DemoVideoManifest | null> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, CLIP_MANIFEST), "utf8")) as DemoVideoManifest;
    if (manifest.version !== DEMO_VIDEO_VERSION) return null;
    const names = [manifest.playlist, manifest.init, manifest.mp4, ...manifest.segments.map((s) => s.uri)];
    for (const name of names) await access(join(dir, name));
    return manifest;
  } catch {
    return null;
  }
}

/** Whether a length-prefixed H.264 sample holds an IDR slice (NAL unit type 5). */
function hasIdrSlice(bytes: Uint8Array, offset: number, size: number, lengthSize: number): boolean {
  const end = offset + size;
  let i = offset;
  while (i + lengthSize < end) {
    let len = 0;
    for (let k = 0; k < lengthSize; k++) len = len * 256 + bytes[i + k];
    i += lengthSize;
    if ((bytes[i] & 0x1f) === 5) return true;
    i += len;
  }
  return false;
}

function concat(parts: readonly ArrayBuffer[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), at);
    at += p.byteLength;
  }
  return out;
}
