import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LayerManifest } from "../../../models/layer.ts";

export const SECRET = "TOP-SECRET-OUTSIDE-THE-LAYER";

export function manifest(overrides: Partial<LayerManifest> = {}): LayerManifest {
  return {
    formatVersion: 1,
    type: "buildings",
    name: "Demo Buildings",
    crs: "EPSG:4547",
    bbox: [116.3, 39.9, 116.4, 40.0, 0, 120],
    featureCount: 12,
    tileCount: 3,
    createdAt: "2025-01-01T00:00:00.000Z",
    generator: "tests/tiles-server fixture",
    ...overrides,
  };
}

export const TILESET = {
  asset: { version: "1.1" },
  geometricError: 500,
  root: {
    boundingVolume: { region: [2.03, 0.696, 2.031, 0.698, 0, 120] },
    geometricError: 100,
    refine: "ADD",
    content: { uri: "content/a.glb" },
  },
};

/** A small but valid binary glTF whose BIN chunk repeats, so compression visibly helps. */
export function tinyGlb(): Buffer {
  const json = Buffer.from(
    JSON.stringify({
      asset: { version: "2.0" },
      buffers: [{ byteLength: 4096 }],
    }).padEnd(64, " "),
  );
  const jsonPadded = Buffer.concat([json, Buffer.alloc((4 - (json.length % 4)) % 4, 0x20)]);
  const bin = Buffer.alloc(4096);
  for (let i = 0; i < bin.length; i += 4) bin.writeFloatLE((i % 64) / 8, i);
  const header = Buffer.alloc(12);
  const total = 12 + 8 + jsonPadded.length + 8 + bin.length;
  header.write("glTF", 0, "ascii");
  header.writeUInt32LE(2, 4);
  header.writeUInt32LE(total, 8);
  const jsonChunk = Buffer.alloc(8);
  jsonChunk.writeUInt32LE(jsonPadded.length, 0);
  jsonChunk.write("JSON", 4, "ascii");
  const binChunk = Buffer.alloc(8);
  binChunk.writeUInt32LE(bin.length, 0);
  binChunk.write("BIN\0", 4, "ascii");
  return Buffer.concat([header, jsonChunk, jsonPadded, binChunk, bin]);
}

/** Deterministic bytes that are not trivially compressible, so Range slices are meaningful. */
export function patternBytes(size: number, seed = 7): Buffer {
  const out = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = (x >> 16) & 0xff;
  }
  return out;
}

/** Compressible text-like binary, for checking streamed compression of large files. */
export function compressibleBytes(size: number): Buffer {
  const line = Buffer.from("0123456789 tile payload, highly repetitive for compression\n");
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += line.length) line.copy(out, i);
  return out;
}

export const SMALL_FILES: Record<string, { bytes: Buffer; type: string }> = {
  "content/a.glb": { bytes: tinyGlb(), type: "model/gltf-binary" },
  "content/m.gltf": {
    bytes: Buffer.from(JSON.stringify({ asset: { version: "2.0" } })),
    type: "model/gltf+json",
  },
  "content/s.subtree": { bytes: compressibleBytes(2000), type: "application/octet-stream" },
  "content/t.b3dm": { bytes: compressibleBytes(900), type: "application/octet-stream" },
  "content/t.i3dm": { bytes: compressibleBytes(900), type: "application/octet-stream" },
  "content/t.pnts": { bytes: compressibleBytes(900), type: "application/octet-stream" },
  "content/t.cmpt": { bytes: compressibleBytes(900), type: "application/octet-stream" },
  "content/d.bin": { bytes: compressibleBytes(3000), type: "application/octet-stream" },
  "textures/i.jpg": { bytes: compressibleBytes(3000), type: "image/jpeg" },
  "textures/i.jpeg": { bytes: compressibleBytes(3000), type: "image/jpeg" },
  "textures/i.png": { bytes: compressibleBytes(3000), type: "image/png" },
  "textures/i.ktx2": { bytes: compressibleBytes(3000), type: "image/ktx2" },
  "textures/i.webp": { bytes: compressibleBytes(3000), type: "image/webp" },
  "content/with space é.json": { bytes: Buffer.from('{"ok":true}'), type: "application/json" },
};

/** 1.5 MB: above the default in-memory limit (1 MiB), so it is streamed from disk. */
export const LARGE_FILE = "content/large.bin";
export const LARGE_SIZE = 1_500_000;
/** 300 kB: served from the in-memory cache. */
export const MEDIUM_FILE = "content/medium.bin";
export const MEDIUM_SIZE = 300_000;
/** 1.2 MB compressible, streamed with on-the-fly compression. */
export const LARGE_TEXT_FILE = "content/large-text.subtree";

export interface LayerFolderFixture {
  root: string;
  /** A file next to (outside) the layer folder whose content must never be served. */
  secretFile: string;
}

/**
 * Writes an ingested-layer folder under `parent`: tileset.json, layer.json, content of every
 * served type, a large file for Range/streaming, and symlinks that try to escape the folder.
 */
export function writeLayerFolder(
  parent: string,
  folderName = "layer",
  manifestOverrides: Partial<LayerManifest> = {},
): LayerFolderFixture {
  const root = join(parent, folderName);
  mkdirSync(join(root, "content"), { recursive: true });
  mkdirSync(join(root, "textures"), { recursive: true });
  writeFileSync(join(root, "tileset.json"), JSON.stringify(TILESET, null, 2));
  writeFileSync(join(root, "layer.json"), JSON.stringify(manifest(manifestOverrides), null, 2));
  for (const [path, { bytes }] of Object.entries(SMALL_FILES)) writeFileSync(join(root, path), bytes);
  writeFileSync(join(root, LARGE_FILE), patternBytes(LARGE_SIZE));
  writeFileSync(join(root, MEDIUM_FILE), patternBytes(MEDIUM_SIZE, 11));
  writeFileSync(join(root, LARGE_TEXT_FILE), compressibleBytes(1_200_000));
  writeFileSync(join(root, ".hidden"), "dotfile");

  const secretFile = join(parent, `${folderName}-secret.txt`);
  writeFileSync(secretFile, SECRET);
  mkdirSync(join(parent, `${folderName}-outside`), { recursive: true });
  writeFileSync(join(parent, `${folderName}-outside`, "secret.txt"), SECRET);
  symlinkSync(secretFile, join(root, "content", "escape.glb"));
  symlinkSync(join(parent, `${folderName}-outside`), join(root, "escape-dir"));
  symlinkSync("/etc/passwd", join(root, "passwd.json"));
  // A symlink that stays inside the folder is legitimate and must keep working.
  symlinkSync(join(root, "content", "a.glb"), join(root, "content", "alias.glb"));
  return { root, secretFile };
}
