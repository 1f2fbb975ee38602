import type { NetworkIndex } from "../../models/pipes.ts";
import type { Database } from "../db/database.ts";
import { type NetworkLink, type NetworkNode, PipeGraph } from "./pipe-graph.ts";

export type PipeLayerLookup =
  | { status: "pipes"; graph: PipeGraph }
  | { status: "not-pipes" }
  | { status: "missing" };

interface Entry {
  /** layers.created_at, which every (re-)registration sets to now(): a changed value means reload. */
  version: string;
  graph: Promise<PipeGraph>;
}

interface NodeRow {
  id: string;
  kind: NetworkNode["kind"];
  pipe_class: NetworkNode["pipeClass"];
  lon: number;
  lat: number;
  ground: number | null;
  invert: number | null;
  attributes: NetworkNode["attributes"];
}

interface LinkRow {
  id: string;
  kind: NetworkLink["kind"];
  pipe_class: NetworkLink["pipeClass"];
  from_id: string;
  to_id: string;
  shape: string | null;
  diameter: number | null;
  width: number | null;
  height: number | null;
  from_invert: number | null;
  to_invert: number | null;
  length: number | null;
  material: string | null;
  path: NetworkLink["path"];
  attributes: NetworkLink["attributes"];
}

function toSection(row: LinkRow): NetworkLink["section"] {
  if (row.shape === null) return null;
  if (row.shape === "circular") return { shape: "circular", diameter: row.diameter ?? 0 };
  return {
    shape: row.shape as Exclude<NonNullable<NetworkLink["section"]>["shape"], "circular">,
    width: row.width ?? 0,
    height: row.height ?? 0,
  };
}

/** Rows per query when loading a network: a city network in one result set is hundreds of megabytes at once. */
const LOAD_PAGE = 20_000;

/** All rows of a layer in id order, page by page (keyset pagination on the (layer_id, id) primary key). */
async function loadPaged<R extends { id: string }>(
  db: Database,
  columns: string,
  table: string,
  layerId: string,
): Promise<R[]> {
  const out: R[] = [];
  let after: string | null = null;
  for (;;) {
    const { rows }: { rows: R[] } = await db.pool.query<R>(
      `SELECT ${columns} FROM ${db.table(table)}
        WHERE layer_id = $1 AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT ${LOAD_PAGE}`,
      [layerId, after],
    );
    for (const r of rows) out.push(r);
    if (rows.length < LOAD_PAGE) return out;
    after = rows[rows.length - 1].id;
  }
}

/** Reads a layer's network from pipe_nodes / pipe_links. */
export async function loadPipeNetwork(
  db: Database,
  layerId: string,
): Promise<Pick<NetworkIndex, "nodes" | "links">> {
  const nodeRows = await loadPaged<NodeRow>(
    db,
    "id, kind, pipe_class, lon, lat, ground, invert, attributes",
    "pipe_nodes",
    layerId,
  );
  const linkRows = await loadPaged<LinkRow>(
    db,
    `id, kind, pipe_class, from_id, to_id, shape, diameter, width, height, from_invert, to_invert,
     length, material, path, attributes`,
    "pipe_links",
    layerId,
  );
  return {
    nodes: nodeRows.map((r) => ({
      id: r.id,
      kind: r.kind,
      pipeClass: r.pipe_class,
      lon: r.lon,
      lat: r.lat,
      groundElevation: r.ground,
      invertElevation: r.invert,
      attributes: r.attributes,
    })),
    links: linkRows.map((r) => ({
      id: r.id,
      kind: r.kind,
      pipeClass: r.pipe_class,
      from: r.from_id,
      to: r.to_id,
      section: toSection(r),
      fromInvert: r.from_invert,
      toInvert: r.to_invert,
      length: r.length,
      material: r.material,
      path: r.path,
      attributes: r.attributes,
    })),
  };
}

/**
 * In-memory graphs of pipes layers, loaded from the database once per layer and kept until the layer
 * is re-registered (its created_at changes) or deleted -- checked with one primary-key lookup per
 * request, so registrations by other processes sharing the database are picked up too.
 */
export class PipeGraphCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly db: Database) {}

  async lookup(layerId: string): Promise<PipeLayerLookup> {
    const { rows } = await this.db.pool.query<{ type: string; version: string }>(
      `SELECT type, created_at::text AS version FROM ${this.db.table("layers")} WHERE id = $1`,
      [layerId],
    );
    if (rows.length === 0 || rows[0].type !== "pipes") {
      this.entries.delete(layerId);
      return { status: rows.length === 0 ? "missing" : "not-pipes" };
    }
    const version = rows[0].version;
    let entry = this.entries.get(layerId);
    if (entry === undefined || entry.version !== version) {
      const graph = loadPipeNetwork(this.db, layerId).then((net) => new PipeGraph(net.nodes, net.links));
      entry = { version, graph };
      this.entries.set(layerId, entry);
      const current = entry;
      graph.catch(() => {
        if (this.entries.get(layerId) === current) this.entries.delete(layerId);
      });
    }
    return { status: "pipes", graph: await entry.graph };
  }

  /** Drops a cached graph (the next request reloads it). */
  invalidate(layerId: string): void {
    this.entries.delete(layerId);
  }
}
