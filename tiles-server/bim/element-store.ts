import type pg from "pg";
import {
  type BimClassCount,
  type BimElement,
  type BimElementSearchQuery,
  type BimElementSearchResult,
  type BimStorey,
  foldForSearch,
} from "../../models/bim.ts";
import type { Database } from "../db/database.ts";

/** Elements per INSERT statement: 14 arrays of this length travel as one message. */
const INSERT_BATCH = 10_000;

const COLUMNS =
  "global_id, ifc_class, name, object_type, storey, storey_elevation, west, south, east, north, min_h, max_h";

/** Storey elevation, then name (code-point order, the same on every database locale), then GlobalId. */
const ORDER_BY = `storey_elevation NULLS LAST, name COLLATE "C" NULLS LAST, global_id`;

interface ElementRow {
  global_id: string;
  ifc_class: string;
  name: string | null;
  object_type: string | null;
  storey: string | null;
  storey_elevation: number | null;
  west: number;
  south: number;
  east: number;
  north: number;
  min_h: number;
  max_h: number;
}

function toElement(row: ElementRow): BimElement {
  return {
    globalId: row.global_id,
    ifcClass: row.ifc_class,
    name: row.name,
    objectType: row.object_type,
    storey: row.storey,
    storeyElevation: row.storey_elevation,
    bbox: [row.west, row.south, row.east, row.north, row.min_h, row.max_h],
  };
}

/** Escapes LIKE wildcards so user text matches literally (used with ESCAPE '\'). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Replaces all element rows of `layerId` with `elements`, on a client inside the caller's
 * transaction (so a failure leaves the previous rows in place). Rows go in as column arrays
 * through unnest(), INSERT_BATCH elements per statement.
 */
export async function replaceBimElements(
  client: pg.ClientBase,
  table: string,
  layerId: string,
  elements: readonly BimElement[],
): Promise<void> {
  await client.query(`DELETE FROM ${table} WHERE layer_id = $1`, [layerId]);
  for (let start = 0; start < elements.length; start += INSERT_BATCH) {
    const batch = elements.slice(start, start + INSERT_BATCH);
    const n = batch.length;
    const globalId = new Array<string>(n);
    const ifcClass = new Array<string>(n);
    const name = new Array<string | null>(n);
    const searchName = new Array<string | null>(n);
    const objectType = new Array<string | null>(n);
    const storey = new Array<string | null>(n);
    const storeyElevation = new Array<number | null>(n);
    const bounds = [0, 1, 2, 3, 4, 5].map(() => new Array<number>(n));
    for (let i = 0; i < n; i++) {
      const e = batch[i];
      globalId[i] = e.globalId;
      ifcClass[i] = e.ifcClass;
      name[i] = e.name;
      searchName[i] = e.name === null ? null : foldForSearch(e.name);
      objectType[i] = e.objectType;
      storey[i] = e.storey;
      storeyElevation[i] = e.storeyElevation;
      for (let k = 0; k < 6; k++) bounds[k][i] = e.bbox[k];
    }
    await client.query(
      `INSERT INTO ${table} (layer_id, ${COLUMNS}, search_name)
       SELECT $1, u.* FROM unnest(
         $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[],
         $8::float8[], $9::float8[], $10::float8[], $11::float8[], $12::float8[], $13::float8[],
         $14::text[]
       ) AS u`,
      [layerId, globalId, ifcClass, name, objectType, storey, storeyElevation, ...bounds, searchName],
    );
  }
}

export type BimLayerLookup = "bim" | "not-bim" | "missing";

/** Read side of the BIM element index (bim_elements). */
export class BimElementStore {
  constructor(private readonly db: Database) {}

  private get table(): string {
    return this.db.table("bim_elements");
  }

  /** Whether `layerId` is a registered layer of type "bim". */
  async lookupLayer(layerId: string): Promise<BimLayerLookup> {
    const { rows } = await this.db.pool.query<{ type: string }>(
      `SELECT type FROM ${this.db.table("layers")} WHERE id = $1`,
      [layerId],
    );
    if (rows.length === 0) return "missing";
    return rows[0].type === "bim" ? "bim" : "not-bim";
  }

  /**
   * One page of the elements matching every given filter: `q` is a case-insensitive substring
   * of the name or a GlobalId prefix, `class` any of the listed IFC classes, `storey` exact.
   */
  async search(layerId: string, query: BimElementSearchQuery): Promise<BimElementSearchResult> {
    const params: unknown[] = [layerId];
    const where = ["layer_id = $1"];
    if (query.q !== undefined) {
      params.push(`%${escapeLike(foldForSearch(query.q))}%`, `${escapeLike(query.q)}%`);
      where.push(
        `(search_name LIKE $${params.length - 1} ESCAPE '\\' OR global_id LIKE $${params.length} ESCAPE '\\')`,
      );
    }
    if (query.class !== undefined) {
      params.push(query.class);
      where.push(`ifc_class = ANY($${params.length}::text[])`);
    }
    if (query.storey !== undefined) {
      params.push(query.storey);
      where.push(`storey = $${params.length}`);
    }
    const filter = where.join(" AND ");
    const [page, count] = await Promise.all([
      this.db.pool.query<ElementRow>(
        `SELECT ${COLUMNS} FROM ${this.table} WHERE ${filter}
         ORDER BY ${ORDER_BY} LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, query.limit, query.offset],
      ),
      this.db.pool.query<{ total: number }>(
        `SELECT count(*)::int AS total FROM ${this.table} WHERE ${filter}`,
        params,
      ),
    ]);
    return { total: count.rows[0].total, items: page.rows.map(toElement) };
  }

  /** One element by its exact GlobalId. */
  async get(layerId: string, globalId: string): Promise<BimElement | undefined> {
    const { rows } = await this.db.pool.query<ElementRow>(
      `SELECT ${COLUMNS} FROM ${this.table} WHERE layer_id = $1 AND global_id = $2`,
      [layerId, globalId],
    );
    return rows[0] ? toElement(rows[0]) : undefined;
  }

  /** Storeys by elevation (elements outside any storey last, as name null) with element counts. */
  async storeys(layerId: string): Promise<BimStorey[]> {
    const { rows } = await this.db.pool.query<BimStorey>(
      `SELECT storey AS name, min(storey_elevation) AS elevation, count(*)::int AS count
         FROM ${this.table} WHERE layer_id = $1
         GROUP BY storey
         ORDER BY min(storey_elevation) NULLS LAST, storey COLLATE "C" NULLS LAST`,
      [layerId],
    );
    return rows;
  }

  /** IFC classes present in the layer, alphabetically, with element counts. */
  async classes(layerId: string): Promise<BimClassCount[]> {
    const { rows } = await this.db.pool.query<BimClassCount>(
      `SELECT ifc_class AS "ifcClass", count(*)::int AS count
         FROM ${this.table} WHERE layer_id = $1
         GROUP BY ifc_class
         ORDER BY ifc_class COLLATE "C"`,
      [layerId],
    );
    return rows;
  }
}
