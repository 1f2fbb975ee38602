import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Parser } from "m3u8-parser";
import { createFile, type ISOFile, type Movie, MP4BoxBuffer, type Sample } from "mp4box";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLIP_MANIFEST,
  DEMO_CAMERA_FOLDER,
  type DemoVideoManifest,
  ensureDemoVideo,
  generateDemoVideo,
} from "../../ingest/synthetic/demo-video/generate-demo-video.ts";
import { StreetScene } from "../../ingest/synthetic/demo-video/street-scene.ts";

interface ParsedMp4 {
  info: Movie;
  samples: Sample[];
  file: ISOFile;
}

/** Parses (init segment +) media bytes with mp4box.js and extracts every sample of the video track. */
function parseMp4(...parts: Uint8Array[]): ParsedMp4 {
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.byteLength;
  }
  const file = createFile();
  let info: Movie | undefined;
  const samples: Sample[] = [];
  let failure: string | undefined;
  file.onError = (module, message) => {
    failure = `${module}: ${message}`;
  };
  file.onReady = (movie) => {
    info = movie;
    file.setExtractionOptions(movie.tracks[0].id, null, { nbSamples: 10_000 });
    file.start();
  };
  file.onSamples = (_id, _user, batch) => {
    samples.push(...batch);
  };
  file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(bytes.buffer, 0), true);
  file.flush();
  if (failure) throw new Error(failure);
  if (!info) throw new Error("mp4box found no movie header");
  return { info, samples, file };
}

/** NAL unit types in a length-prefixed (AVCC) H.264 sample. */
function nalTypes(sample: Uint8Array, lengthSize: number): number[] {
  const types: number[] = [];
  let i = 0;
  while (i + lengthSize <= sample.byteLength) {
    let len = 0;
    for (let k = 0; k < lengthSize; k++) len = len * 256 + sample[i + k];
    i += lengthSize;
    if (len === 0 || i + len > sample.byteLength) throw new Error(`bad NAL length ${len} at byte ${i}`);
    types.push(sample[i] & 0x1f);
    i += len;
  }
  if (i !== sample.byteLength) throw new Error(`trailing ${sample.byteLength - i} bytes after the last NAL`);
  return types;
}

describe("demo camera video (HLS, fMP4, H.264)", () => {
  let dir: string;
  let outDir: string;
  let manifest: DemoVideoManifest;
  let generationMs: number;
  /** The process's own error listeners before the encoder was loaded, and after the clip was made. */
  const errorListeners = () => [
    ...process.listeners("uncaughtException"),
    ...process.listeners("unhandledRejection"),
  ];
  let listenersBefore: unknown[];
  let listenersAfter: unknown[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cim-demo-video-"));
    outDir = join(dir, "clip");
    const t0 = performance.now();
    listenersBefore = errorListeners();
    manifest = await generateDemoVideo(outDir);
    listenersAfter = errorListeners();
    generationMs = performance.now() - t0;
    console.log(
      `demo video generated in ${Math.round(generationMs)} ms: ${JSON.stringify(manifest.timings)}`,
    );
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("leaves the process's error handling as it was (the encoder's glue adds listeners of its own)", () => {
    expect(listenersAfter).toEqual(listenersBefore);
  });

  it("writes a VOD playlist whose ~2 s segments add up to the 10 s clip", async () => {
    const parser = new Parser();
    parser.push(await readFile(join(outDir, "index.m3u8"), "utf8"));
    parser.end();
    const playlist = parser.manifest;
    expect(playlist.endList).toBe(true);
    expect(playlist.playlistType).toBe("VOD");
    expect(playlist.targetDuration).toBe(2);
    expect(playlist.segments).toHaveLength(5);
    let total = 0;
    for (const [i, seg] of playlist.segments.entries()) {
      expect(seg.uri).toBe(`seg-${String(i).padStart(3, "0")}.m4s`);
      expect(seg.duration).toBeCloseTo(2, 6);
      expect(seg.map?.uri).toBe("init.mp4");
      const size = (await stat(join(outDir, seg.uri))).size;
      expect(size).toBeGreaterThan(10_000);
      total += seg.duration;
    }
    expect(total).toBeCloseTo(10, 6);
    expect(manifest.duration).toBe(10);
    expect(manifest.frames).toBe(250);
  });

  it("has an fMP4 init segment with one 640x360 H.264 track and its SPS/PPS", async () => {
    const init = new Uint8Array(await readFile(join(outDir, "init.mp4")));
    const { info, file } = parseMp4(init);
    expect(info.isFragmented).toBe(true);
    expect(info.tracks).toHaveLength(1);
    const track = info.videoTracks[0];
    expect(track.codec).toMatch(/^avc1\.[0-9a-f]{6}$/i);
    expect(track.codec).toBe(manifest.codec);
    expect(track.video?.width).toBe(640);
    expect(track.video?.height).toBe(360);
    const entry = file.getTrackById(track.id).mdia.minf.stbl.stsd.entries[0] as unknown as {
      avcC: { SPS: { length: number }[]; PPS: { length: number }[]; AVCProfileIndication: number };
    };
    expect(entry.avcC.SPS.length).toBe(1);
    expect(entry.avcC.PPS.length).toBe(1);
    // Constrained Baseline / Baseline: the profile every MSE implementation decodes.
    expect(entry.avcC.AVCProfileIndication).toBe(66);
  });

  it("makes every segment decodable on its own: 50 frames, starting with an IDR key frame, continuous timestamps", async () => {
    const init = new Uint8Array(await readFile(join(outDir, "init.mp4")));
    const { file: initFile, info } = parseMp4(init);
    const entry = initFile.getTrackById(info.tracks[0].id).mdia.minf.stbl.stsd.entries[0] as unknown as {
      avcC: { lengthSizeMinusOne: number };
    };
    const lengthSize = entry.avcC.lengthSizeMinusOne + 1;
    const timescale = info.tracks[0].timescale;
    let expectedDts = 0;
    for (const seg of manifest.segments) {
      const bytes = new Uint8Array(await readFile(join(outDir, seg.uri)));
      // A media segment starts with its own movie fragment box.
      expect(String.fromCharCode(...bytes.subarray(4, 8))).toBe("moof");
      const { samples } = parseMp4(init, bytes);
      expect(samples, seg.uri).toHaveLength(50);
      expect(samples[0].is_sync, `${seg.uri} starts with a sync sample`).toBe(true);
      expect(samples.slice(1).some((s) => s.is_sync)).toBe(false);
      expect(samples[0].dts).toBe(expectedDts);
      const duration = samples.reduce((n, s) => n + s.duration, 0) / timescale;
      expect(duration).toBeCloseTo(seg.duration, 6);
      expectedDts += samples.reduce((n, s) => n + s.duration, 0);
      // NAL type 5 = IDR slice; 1 = non-IDR slice. Every sample carries a slice and parses to its end.
      expect(nalTypes(samples[0].data!, lengthSize)).toContain(5);
      for (const s of samples.slice(1)) expect(nalTypes(s.data!, lengthSize)).toContain(1);
    }
    expect(expectedDts / timescale).toBeCloseTo(10, 6);
  });

  it("also writes the clip as one MP4 file with the same frames and key frames", async () => {
    const { info, samples } = parseMp4(new Uint8Array(await readFile(join(outDir, "clip.mp4"))));
    expect(info.videoTracks[0].codec).toBe(manifest.codec);
    // Players read a fragmented file's length from its movie extends header (mehd).
    const fragmentDuration = info.fragment_duration;
    expect(fragmentDuration && fragmentDuration.num / fragmentDuration.den).toBeCloseTo(10, 3);
    expect(samples).toHaveLength(250);
    expect(samples.reduce((n, s) => n + s.duration, 0) / info.videoTracks[0].timescale).toBeCloseTo(10, 6);
    expect(samples.filter((s) => s.is_sync).map((s) => s.number)).toEqual([0, 50, 100, 150, 200]);
  });

  it("draws a moving scene with a running timestamp", () => {
    const scene = new StreetScene({
      width: 320,
      height: 180,
      fps: 25,
      cameraName: "CAM-TEST",
      startTime: new Date("2026-06-01T00:00:00Z"),
    });
    const a = scene.render(0).slice();
    const b = scene.render(50).slice();
    let changed = 0;
    for (let i = 0; i < a.length; i += 4)
      if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) changed++;
    // Cars, walkers, the timestamp and the frame counter move; the street and buildings do not.
    expect(changed).toBeGreaterThan(300);
    expect(changed).toBeLessThan((a.length / 4) * 0.25);
    // The timestamp box (top right) changes between 08:00:00 and 08:00:02.
    let stampChanged = 0;
    for (let y = 2; y < 14; y++)
      for (let x = 200; x < 318; x++) {
        const i = (y * 320 + x) * 4;
        if (a[i] !== b[i]) stampChanged++;
      }
    expect(stampChanged).toBeGreaterThan(5);
  });

  it("generates once and reuses the cached clip; regenerates a damaged or outdated one", async () => {
    const media = join(dir, "media");
    const small = { width: 160, height: 96, fps: 10, seconds: 4 };
    const first = await ensureDemoVideo(media, () => {}, small);
    expect(first.generated).toBe(true);
    expect(first.dir).toBe(join(media, DEMO_CAMERA_FOLDER));
    const again = await ensureDemoVideo(media, () => {}, small);
    expect(again.generated).toBe(false);
    expect(again.manifest.segments).toHaveLength(2);

    await unlink(join(first.dir, "seg-001.m4s"));
    expect((await ensureDemoVideo(media, () => {}, small)).generated).toBe(true);
    expect(existsSync(join(first.dir, "seg-001.m4s"))).toBe(true);

    const manifestFile = join(first.dir, CLIP_MANIFEST);
    const old = JSON.parse(await readFile(manifestFile, "utf8"));
    await writeFile(manifestFile, JSON.stringify({ ...old, version: old.version - 1 }));
    expect((await ensureDemoVideo(media, () => {}, small)).generated).toBe(true);
  });

  it("rejects impossible settings with a message naming them", async () => {
    await expect(generateDemoVideo(join(dir, "bad"), { width: 641 })).rejects.toThrow(/641x360/);
    await expect(generateDemoVideo(join(dir, "bad"), { seconds: 1, segmentSeconds: 2 })).rejects.toThrow(
      /1 s cannot hold a 2 s segment/,
    );
    expect(existsSync(join(dir, "bad"))).toBe(false);
  });
});
