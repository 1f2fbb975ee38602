/**
 * Structural checks of a tileset.json (3D Tiles 1.1, explicit tiling): asset, geometric errors, bounding
 * volumes and their nesting, content URIs. Produces the list of contents with the world transform and volume
 * each must respect, for the per-content checks that follow.
 */
import { access, readFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  diagonal,
  distanceOutside,
  isSkewedBox,
  samplePoints,
  toWorldVolume,
  type WorldVolume,
} from "./bounding-volume.ts";
import { IDENTITY, type Mat4, multiply } from "./geodesy.ts";

export interface Tolerance {
  /** Absolute slack, metres. */
  meters: number;
  /** Slack as a fraction of the enclosing volume's diagonal. */
  relative: number;
}

export function slack(volume: WorldVolume, tol: Tolerance): number {
  return tol.meters + tol.relative * diagonal(volume);
}

export interface ContentRef {
  /** Where the tile sits in the tree, e.g. "root.children[1]". */
  tilePath: string;
  /** The content uri as written in tileset.json. */
  uri: string;
  /** Absolute file path the uri resolves to. */
  file: string;
  /** Tile world transform (product of the transforms from the root down). */
  world: Mat4;
  tileVolume: WorldVolume;
  contentVolume?: WorldVolume;
}

export interface StructureResult {
  errors: string[];
  warnings: string[];
  tileCount: number;
  contents: ContentRef[];
  /** glTF up axis declared by asset.gltfUpAxis (a 1.0-era hint Cesium still honours); default "Y". */
  gltfUpAxis: "Y" | "Z";
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

export async function checkStructure(tilesetPath: string, tol: Tolerance): Promise<StructureResult> {
  const result: StructureResult = { errors: [], warnings: [], tileCount: 0, contents: [], gltfUpAxis: "Y" };
  const { errors, warnings } = result;
  let tileset: unknown;
  try {
    tileset = JSON.parse(await readFile(tilesetPath, "utf8"));
  } catch (e) {
    errors.push(`tileset.json: cannot read or parse ${tilesetPath}: ${(e as Error).message}`);
    return result;
  }
  if (!isObject(tileset)) {
    errors.push("tileset.json: top level is not a JSON object");
    return result;
  }
  const asset = tileset.asset;
  if (!isObject(asset)) errors.push("tileset.json: asset is missing");
  else if (asset.version !== "1.1")
    errors.push(`tileset.json: asset.version is ${JSON.stringify(asset.version)}, expected "1.1"`);
  if (isObject(asset) && asset.gltfUpAxis !== undefined) {
    if (asset.gltfUpAxis === "Z" || asset.gltfUpAxis === "Y") result.gltfUpAxis = asset.gltfUpAxis;
    else
      errors.push(
        `tileset.json: asset.gltfUpAxis ${JSON.stringify(asset.gltfUpAxis)} is not supported by the checker`,
      );
  }
  if (typeof tileset.geometricError !== "number" || tileset.geometricError < 0)
    errors.push("tileset.json: top-level geometricError must be a non-negative number");
  if (!isObject(tileset.root)) {
    errors.push("tileset.json: root tile is missing");
    return result;
  }
  if (tileset.root.refine !== "ADD" && tileset.root.refine !== "REPLACE")
    errors.push(
      `root: refine must be "ADD" or "REPLACE" on the root tile, got ${JSON.stringify(tileset.root.refine)}`,
    );
  if (
    typeof tileset.geometricError === "number" &&
    typeof tileset.root.geometricError === "number" &&
    tileset.root.geometricError > tileset.geometricError
  )
    errors.push(
      `root: geometricError ${tileset.root.geometricError} > tileset geometricError ${tileset.geometricError}`,
    );

  const tilesetUrl = pathToFileURL(tilesetPath);

  const walk = async (
    tile: Json,
    path: string,
    parentWorld: Mat4,
    parent: { volume?: WorldVolume; geometricError?: number; path: string } | null,
  ): Promise<void> => {
    result.tileCount++;
    let world = parentWorld;
    if (tile.transform !== undefined) {
      const t = tile.transform;
      if (Array.isArray(t) && t.length === 16 && t.every((x) => typeof x === "number" && Number.isFinite(x)))
        world = multiply(parentWorld, t as number[]);
      else errors.push(`${path}: transform must be 16 finite numbers (column-major)`);
    }

    const ge = tile.geometricError;
    if (typeof ge !== "number" || !Number.isFinite(ge))
      errors.push(`${path}: geometricError is missing or not a number`);
    else if (ge < 0) errors.push(`${path}: geometricError ${ge} is negative`);
    else if (parent?.geometricError !== undefined && ge > parent.geometricError)
      errors.push(
        `${path}: geometricError ${ge} > parent ${parent.path} geometricError ${parent.geometricError}`,
      );

    if (tile.refine !== undefined && tile.refine !== "ADD" && tile.refine !== "REPLACE")
      errors.push(`${path}: refine must be "ADD" or "REPLACE", got ${JSON.stringify(tile.refine)}`);
    if (isObject(tile.extensions) && "3DTILES_implicit_tiling" in tile.extensions)
      warnings.push(`${path}: implicit tiling is not checked by this checker`);
    if (tile.implicitTiling !== undefined)
      warnings.push(`${path}: implicit tiling is not checked by this checker`);

    const volumeOrError = toWorldVolume(tile.boundingVolume, world);
    const volume = typeof volumeOrError === "string" ? undefined : volumeOrError;
    if (typeof volumeOrError === "string") errors.push(`${path}: ${volumeOrError}`);
    else if (isSkewedBox(volumeOrError))
      warnings.push(`${path}: box half-axes are not orthogonal; containment checks are approximate`);

    if (volume && parent?.volume) {
      const allowed = slack(parent.volume, tol);
      const worst = Math.max(
        ...samplePoints(volume).map((p) => distanceOutside(parent.volume as WorldVolume, p)),
      );
      if (worst > allowed)
        errors.push(
          `${path}: bounding volume (${volume.kind}) extends ${worst.toFixed(3)} m outside parent ${parent.path} ` +
            `bounding volume (${parent.volume.kind}; tolerance ${allowed.toFixed(3)} m)`,
        );
    }

    const contents: Json[] = [];
    if (tile.content !== undefined) {
      if (isObject(tile.content)) contents.push(tile.content);
      else errors.push(`${path}: content must be an object`);
    }
    if (tile.contents !== undefined) {
      if (Array.isArray(tile.contents) && tile.contents.every(isObject))
        contents.push(...(tile.contents as Json[]));
      else errors.push(`${path}: contents must be an array of objects`);
    }
    for (const content of contents) {
      const uri = content.uri;
      if (typeof uri !== "string" || uri.length === 0) {
        errors.push(`${path}: content.uri is missing`);
        continue;
      }
      let file: string;
      try {
        const url = new URL(uri, tilesetUrl);
        if (url.protocol !== "file:") {
          errors.push(`${path}: content uri ${uri} is not a local file (${url.protocol})`);
          continue;
        }
        file = fileURLToPath(url);
      } catch (e) {
        errors.push(`${path}: content uri ${uri} is not a valid URI: ${(e as Error).message}`);
        continue;
      }
      if (!(await exists(file))) {
        errors.push(`${path}: content uri ${uri} does not resolve to an existing file (${file})`);
        continue;
      }
      if (/\.json$/i.test(file)) {
        warnings.push(`${path}: external tileset ${uri} is not followed by this checker`);
        continue;
      }
      let contentVolume: WorldVolume | undefined;
      if (content.boundingVolume !== undefined) {
        const cv = toWorldVolume(content.boundingVolume, world);
        if (typeof cv === "string") errors.push(`${path}: content ${uri}: ${cv}`);
        else contentVolume = cv;
      }
      if (volume)
        result.contents.push({ tilePath: path, uri, file, world, tileVolume: volume, contentVolume });
      else
        warnings.push(
          `${path}: content ${uri} skipped for bounds checks (tile has no valid bounding volume)`,
        );
    }

    if (tile.children !== undefined) {
      if (!Array.isArray(tile.children)) {
        errors.push(`${path}: children must be an array`);
        return;
      }
      for (const [i, child] of tile.children.entries()) {
        if (!isObject(child)) {
          errors.push(`${path}.children[${i}]: not an object`);
          continue;
        }
        await walk(child, `${path}.children[${i}]`, world, {
          volume,
          geometricError: typeof ge === "number" ? ge : undefined,
          path,
        });
      }
    }
  };

  await walk(tileset.root, "root", IDENTITY, null);
  return result;
}
