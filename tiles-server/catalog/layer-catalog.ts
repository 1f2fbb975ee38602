import type { BimElement } from "../../models/bim.ts";
import type { Layer, RegisterLayer } from "../../models/layer.ts";
import { readBimElementIndex } from "../bim/element-index-file.ts";
import { replaceBimElements } from "../bim/element-store.ts";
import type { Database } from "../db/database.ts";
import { readPipeNetworkIndex } from "../pipes/network-file.ts";
import { replacePipeNetwork } from "../pipes/network-store.ts";
import { LayerFolderError, readLayerFolder, slugifyLayerId } from "./layer-folder.ts";

interface LayerRow {
  id: string;
  name: string;
  type: Layer["type"];
  root_path: string;
  bbox: number[];
  crs: string;
  created_at: Date;
}

export interface RegisterResult {
  layer: Layer;
  /** false when an existing layer with the same id was replaced. */
  created: boolean;
}

/** A deleted or unknown id is looked up again in the database at most this often. */
const MISS_RETRY_MS = 1000;
/** Other processes sharing the database can register/delete layers; pick those up this often. */
const REFRESH_MS = 15_000;

export function tilesetUrl(layerId: string): string {
  return `/tiles/${layerId}/tileset.json`;
}

function toLayer(row: LayerRow): Layer {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    url: tilesetUrl(row.id),
    bbox: row.bbox as Layer["bbox"],
    crs: row.crs,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/**
 * The layer catalog in PostgreSQL, plus an in-memory id → folder map so that serving a tile
 * never waits for the database.
 */
export class LayerCatalog {
  private readonly roots = new Map<string, string>();
  private readonly misses = new Map<string, number>();
  /** Bumped by every local write, so a refresh that raced with it does not undo it. */
  private writeGeneration = 0;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly db: Database) {}

  private get table(): string {
    return this.db.table("layers");
  }

  /** Loads the id → folder map and keeps it fresh until stop(). */
  async start(): Promise<void> {
    await this.refreshRoots();
    this.refreshTimer = setInterval(() => {
      this.refreshRoots().catch(() => {
        // The database is briefly unreachable: keep serving from the last known map.
      });
    }, REFRESH_MS);
    this.refreshTimer.unref();
  }

  stop(): void {
    clearInterval(this.refreshTimer);
  }

  async refreshRoots(): Promise<void> {
    const generation = this.writeGeneration;
    const { rows } = await this.db.pool.query<{ id: string; root_path: string }>(
      `SELECT id, root_path FROM ${this.table}`,
    );
    if (generation !== this.writeGeneration) return;
    this.roots.clear();
    for (const row of rows) this.roots.set(row.id, row.root_path);
  }

  /** Folder of a layer from memory only (the hot path of tile serving). */
  cachedRoot(id: string): string | undefined {
    return this.roots.get(id);
  }

  /** Folder of a layer, asking the database when another process may have registered it. */
  async findRoot(id: string): Promise<string | undefined> {
    const known = this.roots.get(id);
    if (known !== undefined) return known;
    const lastMiss = this.misses.get(id);
    if (lastMiss !== undefined && Date.now() - lastMiss < MISS_RETRY_MS) return undefined;
    const { rows } = await this.db.pool.query<{ root_path: string }>(
      `SELECT root_path FROM ${this.table} WHERE id = $1`,
      [id],
    );
    if (rows.length === 0) {
      if (this.misses.size > 10_000) this.misses.clear();
      this.misses.set(id, Date.now());
      return undefined;
    }
    this.roots.set(id, rows[0].root_path);
    return rows[0].root_path;
  }

  async list(): Promise<Layer[]> {
    const { rows } = await this.db.pool.query<LayerRow>(
      `SELECT id, name, type, root_path, bbox, crs, created_at FROM ${this.table} ORDER BY created_at, id`,
    );
    return rows.map(toLayer);
  }

  async get(id: string): Promise<Layer | undefined> {
    const { rows } = await this.db.pool.query<LayerRow>(
      `SELECT id, name, type, root_path, bbox, crs, created_at FROM ${this.table} WHERE id = $1`,
      [id],
    );
    return rows[0] ? toLayer(rows[0]) : undefined;
  }

  /**
   * Registers (or replaces) an ingested folder. The folder is fully validated before the
   * database is touched (for a "bim" layer that includes elements.json), and the write --
   * layer row plus the layer's BIM element index -- is one transaction, so a failure
   * changes nothing.
   */
  async register(input: RegisterLayer): Promise<RegisterResult> {
    const folder = await readLayerFolder(input.path);
    const bimElements: readonly BimElement[] =
      folder.manifest.type === "bim" ? await readBimElementIndex(folder.root) : [];
    const pipeNetwork =
      folder.manifest.type === "pipes" ? await readPipeNetworkIndex(folder.root) : { nodes: [], links: [] };
    const id = input.id ?? slugifyLayerId(folder.manifest.name) ?? slugifyLayerId(folder.folderName);
    if (id === undefined) {
      throw new LayerFolderError(
        `cannot derive a layer id from the manifest name "${folder.manifest.name}" or folder "${folder.folderName}"; pass an explicit id`,
      );
    }
    const name = input.name ?? folder.manifest.name;
    const m = folder.manifest;
    const client = await this.db.pool.connect();
    let row: LayerRow & { created: boolean };
    try {
      await client.query("BEGIN");
      const existing = await client.query(`SELECT 1 FROM ${this.table} WHERE id = $1 FOR UPDATE`, [id]);
      const result = await client.query<LayerRow>(
        `INSERT INTO ${this.table} AS l
           (id, name, type, root_path, bbox, crs, feature_count, tile_count, manifest, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
         ON CONFLICT (id) DO UPDATE SET
           name = EXCLUDED.name, type = EXCLUDED.type, root_path = EXCLUDED.root_path,
           bbox = EXCLUDED.bbox, crs = EXCLUDED.crs, feature_count = EXCLUDED.feature_count,
           tile_count = EXCLUDED.tile_count, manifest = EXCLUDED.manifest, created_at = now()
         RETURNING id, name, type, root_path, bbox, crs, created_at`,
        [id, name, m.type, folder.root, m.bbox, m.crs, m.featureCount, m.tileCount, JSON.stringify(m)],
      );
      // Also clears the rows of a bim layer that is replaced by a layer of another type.
      await replaceBimElements(client, this.db.table("bim_elements"), id, bimElements);
      // Likewise the topology of a pipes layer (the analysis API reloads it: created_at changed).
      await replacePipeNetwork(client, this.db, id, pipeNetwork);
      await client.query("COMMIT");
      row = { ...result.rows[0], created: existing.rowCount === 0 };
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
    this.writeGeneration++;
    this.roots.set(id, folder.root);
    this.misses.delete(id);
    return { layer: toLayer(row), created: row.created };
  }

  /** Removes a layer from the catalog (its files stay on disk); its BIM elements go by cascade. */
  async remove(id: string): Promise<boolean> {
    const result = await this.db.pool.query(`DELETE FROM ${this.table} WHERE id = $1`, [id]);
    this.writeGeneration++;
    this.roots.delete(id);
    return (result.rowCount ?? 0) > 0;
  }
}
