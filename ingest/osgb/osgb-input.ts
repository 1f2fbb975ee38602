import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { CrsError, type Origin, resolveSourceCrs, type SourceCrs } from "../crs/source-crs.ts";

/** A user-facing input problem; the message names the file. */
export class OsgbInputError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = "OsgbInputError";
  }
}

/** What ContextCapture / Smart3D / DJI Terra write in metadata.xml beside the Data folder. */
export interface OsgbMetadata {
  file: string;
  /** <SRS> as written: EPSG:xxxx, ENU:lat,lon or WKT. */
  srs: string;
  /** <SRSOrigin>: vertex coordinates are relative to it, in the SRS's units. */
  srsOrigin: [number, number, number];
}

export interface ResolvedOsgbInput {
  /** The folder the root tiles' relative names are reported against (the Data folder, or the file's folder). */
  dataDir: string;
  /** Top-level .osgb files, one per ContextCapture tile (Data/Tile_xxx/Tile_xxx.osgb). */
  roots: string[];
  metadata: OsgbMetadata | null;
  crs: SourceCrs;
  srsOrigin: [number, number, number];
  /** The CRS text given to workers so that each resolves the same SourceCrs. */
  crsSpec: string;
  origin?: Origin;
}

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

/**
 * metadata.xml is a flat element list (<SRS>, <SRSOrigin>, <Texture>...) in every producer's output, so the two
 * values needed are picked by tag rather than through an XML library.
 */
export function parseMetadataXml(file: string, text: string): OsgbMetadata {
  if (!/<ModelMetadata\b/i.test(text))
    throw new OsgbInputError(file, "not a ContextCapture metadata.xml (no <ModelMetadata> element)");
  const tag = (name: string): string | undefined => {
    const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, "i").exec(text);
    if (!m) return undefined;
    return m[1]
      .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, "$1")
      .replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ENTITIES[e])
      .replace(/&#(\d+);/g, (_, d: string) => String.fromCharCode(Number(d)))
      .trim();
  };
  const srs = tag("SRS");
  if (!srs) throw new OsgbInputError(file, "no <SRS> element: the model's coordinate system is unknown");
  const originText = tag("SRSOrigin") ?? "0,0,0";
  const parts = originText.split(",").map((s) => Number(s.trim()));
  if (parts.length < 2 || parts.length > 3 || parts.some((v) => !Number.isFinite(v)))
    throw new OsgbInputError(file, `<SRSOrigin> must be "x,y[,z]", got "${originText}"`);
  return { file, srs, srsOrigin: [parts[0], parts[1], parts[2] ?? 0] };
}

function readMetadata(file: string): OsgbMetadata {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new OsgbInputError(file, `cannot read: ${(e as Error).message}`);
  }
  return parseMetadataXml(file, text);
}

/** Data/Tile_xxx/Tile_xxx.osgb, sorted; a tile folder without its root file is reported, not guessed at. */
function rootTiles(dataDir: string, missing: string[]): string[] {
  const roots: string[] = [];
  for (const entry of readdirSync(dataDir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    if (entry.isDirectory()) {
      const file = join(dataDir, entry.name, `${entry.name}.osgb`);
      if (existsSync(file)) roots.push(file);
      else if (/^Tile_/i.test(entry.name)) missing.push(file);
    } else if (
      entry.isFile() &&
      /\.osgb$/i.test(entry.name) &&
      /^Tile_[^_]+_[^_]+\.osgb$/i.test(entry.name)
    ) {
      // Some exports put the root tiles directly in Data/.
      roots.push(join(dataDir, entry.name));
    }
  }
  return roots;
}

function findMetadataAbove(start: string, levels: number): string | undefined {
  let dir = start;
  for (let i = 0; i <= levels; i++) {
    const f = join(dir, "metadata.xml");
    if (existsSync(f)) return f;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

export interface OsgbInputOptions {
  crs?: string;
  origin?: Origin;
  srsOrigin?: [number, number, number];
}

/**
 * Accepts the Data folder, the production folder holding Data/ and metadata.xml, metadata.xml itself, or one
 * .osgb file (georeferenced by --crs/--origin or by a metadata.xml found beside or above it).
 */
export function resolveOsgbInput(input: string, opts: OsgbInputOptions): ResolvedOsgbInput {
  const path = resolve(input);
  if (!existsSync(path)) throw new OsgbInputError(path, "does not exist");
  let dataDir: string;
  let roots: string[];
  let metadataFile: string | undefined;
  const missingRoots: string[] = [];
  const st = statSync(path);
  if (st.isDirectory()) {
    const sub = join(path, "Data");
    dataDir = existsSync(sub) && statSync(sub).isDirectory() ? sub : path;
    metadataFile = [join(dirname(dataDir), "metadata.xml"), join(dataDir, "metadata.xml")].find((f) =>
      existsSync(f),
    );
    roots = rootTiles(dataDir, missingRoots);
  } else if (/\.xml$/i.test(path)) {
    metadataFile = path;
    dataDir = join(dirname(path), "Data");
    if (!existsSync(dataDir)) throw new OsgbInputError(path, `no Data folder beside it (${dataDir})`);
    roots = rootTiles(dataDir, missingRoots);
  } else if (/\.osgb$/i.test(path)) {
    dataDir = dirname(path);
    roots = [path];
    metadataFile = findMetadataAbove(dirname(path), 2);
  } else {
    throw new OsgbInputError(path, "expected a Data folder, metadata.xml or an .osgb file");
  }
  if (roots.length === 0) {
    const hint = missingRoots.length
      ? ` (tile folders without their root file, e.g. ${missingRoots[0]})`
      : "";
    throw new OsgbInputError(dataDir, `no Tile_*/Tile_*.osgb root tiles found${hint}`);
  }
  const metadata = metadataFile ? readMetadata(metadataFile) : null;

  let crsSpec = opts.crs ?? metadata?.srs;
  if (!crsSpec) {
    if (!opts.origin)
      throw new OsgbInputError(
        path,
        "no metadata.xml found beside or above it: give --crs EPSG:xxxx (with --srs-origin) or --origin lon,lat,h",
      );
    crsSpec = "ENU";
  }
  let crs: SourceCrs;
  try {
    crs = resolveSourceCrs(crsSpec, opts.origin);
  } catch (e) {
    if (!(e instanceof CrsError)) throw e;
    if (opts.crs) throw new OsgbInputError("--crs", (e as Error).message);
    throw new OsgbInputError(metadata?.file ?? path, `<SRS>: ${(e as Error).message}`);
  }
  return {
    dataDir,
    roots,
    metadata,
    crs,
    crsSpec,
    origin: opts.origin,
    srsOrigin: opts.srsOrigin ?? metadata?.srsOrigin ?? [0, 0, 0],
  };
}

/** Name used in messages: the path below the Data folder. */
export function relativeName(dataDir: string, file: string): string {
  return file.startsWith(`${dataDir}/`) ? file.slice(dataDir.length + 1) : basename(file);
}
