import { readFile, realpath, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { type LayerManifest, LayerManifestSchema, LayerSchema } from "../../models/layer.ts";

/** A layer folder that cannot be registered; `message` names the file and the problem. */
export class LayerFolderError extends Error {
  constructor(
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "LayerFolderError";
  }
}

export interface LayerFolder {
  /** Canonical (symlink-free) absolute path: every served file must stay under it. */
  root: string;
  manifest: LayerManifest;
  /** The folder's own name, a fallback for the layer id. */
  folderName: string;
}

/** Lower-case, dash-separated id that satisfies LayerSchema.id, or undefined if nothing usable is left. */
export function slugifyLayerId(text: string): string | undefined {
  const slug = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[-_]+|[-_]+$/g, "")
    .slice(0, 64)
    .replace(/[-_]+$/g, "");
  return LayerSchema.shape.id.safeParse(slug).success ? slug : undefined;
}

/** Reads and parses a JSON file; LayerFolderError names the file when it is missing, unreadable or not JSON. */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new LayerFolderError(
      code === "ENOENT" ? `${file} is missing` : `${file} cannot be read (${code ?? (err as Error).message})`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new LayerFolderError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function checkTileset(file: string, tileset: unknown): void {
  const t = tileset as { asset?: { version?: unknown }; root?: unknown } | null;
  if (typeof t !== "object" || t === null || Array.isArray(t)) {
    throw new LayerFolderError(`${file} must be a JSON object (a 3D Tiles tileset)`);
  }
  if (typeof t.asset?.version !== "string") {
    throw new LayerFolderError(`${file} has no asset.version string; it is not a 3D Tiles tileset`);
  }
  if (typeof t.root !== "object" || t.root === null) {
    throw new LayerFolderError(`${file} has no root tile object; it is not a 3D Tiles tileset`);
  }
}

/** Checks a folder written by `cim ingest` and reads its manifest (layer.json). */
export async function readLayerFolder(folder: string): Promise<LayerFolder> {
  const absolute = resolve(folder);
  let root: string;
  try {
    root = await realpath(absolute);
  } catch {
    throw new LayerFolderError(`layer folder ${absolute} does not exist`);
  }
  if (!(await stat(root)).isDirectory()) {
    throw new LayerFolderError(`layer folder ${absolute} is not a directory`);
  }
  const tilesetFile = join(root, "tileset.json");
  checkTileset(tilesetFile, await readJsonFile(tilesetFile));

  const manifestFile = join(root, "layer.json");
  const parsed = LayerManifestSchema.safeParse(await readJsonFile(manifestFile));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new LayerFolderError(`${manifestFile} is not a valid layer manifest: ${problems.join("; ")}`, {
      file: manifestFile,
      issues: parsed.error.issues,
    });
  }
  return { root, manifest: parsed.data, folderName: basename(root) };
}
