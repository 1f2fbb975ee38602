import type pg from "pg";
import type { NetworkIndex } from "../../models/pipes.ts";
import type { Database } from "../db/database.ts";

/** Rows per INSERT statement; every column travels as one array through unnest(). */
const INSERT_BATCH = 10_000;

type NetworkNode = NetworkIndex["nodes"][number];
type NetworkLink = NetworkIndex["links"][number];

/**
 * Replaces the pipe_nodes / pipe_links rows of `layerId` on a client inside the caller's
 * transaction (a failure leaves the previous rows in place). An empty network just clears them.
 */
export async function replacePipeNetwork(
  client: pg.ClientBase,
  db: Pick<Database, "table">,
  layerId: string,
  network: Pick<NetworkIndex, "nodes" | "links">,
): Promise<void> {
  const nodesTable = db.table("pipe_nodes");
  const linksTable = db.table("pipe_links");
  await client.query(`DELETE FROM ${linksTable} WHERE layer_id = $1`, [layerId]);
  await client.query(`DELETE FROM ${nodesTable} WHERE layer_id = $1`, [layerId]);
  for (let start = 0; start < network.nodes.length; start += INSERT_BATCH) {
    const batch: NetworkNode[] = network.nodes.slice(start, start + INSERT_BATCH);
    await client.query(
      `INSERT INTO ${nodesTable} (layer_id, id, kind, pipe_class, lon, lat, ground, invert, attributes)
       SELECT $1, u.id, u.kind, u.pipe_class, u.lon, u.lat, u.ground, u.invert, u.attributes::jsonb
         FROM unnest($2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::float8[],
                     $8::float8[], $9::text[])
           AS u(id, kind, pipe_class, lon, lat, ground, invert, attributes)`,
      [
        layerId,
        batch.map((n) => n.id),
        batch.map((n) => n.kind),
        batch.map((n) => n.pipeClass),
        batch.map((n) => n.lon),
        batch.map((n) => n.lat),
        batch.map((n) => n.groundElevation),
        batch.map((n) => n.invertElevation),
        batch.map((n) => JSON.stringify(n.attributes)),
      ],
    );
  }
  for (let start = 0; start < network.links.length; start += INSERT_BATCH) {
    const batch: NetworkLink[] = network.links.slice(start, start + INSERT_BATCH);
    const dim = (l: NetworkLink, k: "diameter" | "width" | "height"): number | null => {
      const s = l.section;
      if (s === null) return null;
      if (s.shape === "circular") return k === "diameter" ? s.diameter : null;
      return k === "diameter" ? null : s[k];
    };
    await client.query(
      `INSERT INTO ${linksTable} (layer_id, id, kind, pipe_class, from_id, to_id, shape, diameter, width, height,
                                  from_invert, to_invert, length, material, path, attributes, drawn_length)
       SELECT $1, u.id, u.kind, u.pipe_class, u.from_id, u.to_id, u.shape, u.diameter, u.width, u.height,
              u.from_invert, u.to_invert, u.length, u.material, u.path::jsonb, u.attributes::jsonb, u.drawn_length
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[],
                     $9::float8[], $10::float8[], $11::float8[], $12::float8[], $13::float8[], $14::text[],
                     $15::text[], $16::text[], $17::float8[])
           AS u(id, kind, pipe_class, from_id, to_id, shape, diameter, width, height, from_invert, to_invert,
                length, material, path, attributes, drawn_length)`,
      [
        layerId,
        batch.map((l) => l.id),
        batch.map((l) => l.kind),
        batch.map((l) => l.pipeClass),
        batch.map((l) => l.from),
        batch.map((l) => l.to),
        batch.map((l) => l.section?.shape ?? null),
        batch.map((l) => dim(l, "diameter")),
        batch.map((l) => dim(l, "width")),
        batch.map((l) => dim(l, "height")),
        batch.map((l) => l.fromInvert),
        batch.map((l) => l.toInvert),
        batch.map((l) => l.length),
        batch.map((l) => l.material),
        batch.map((l) => JSON.stringify(l.path)),
        batch.map((l) => JSON.stringify(l.attributes)),
        batch.map((l) => drawnLength(l.path)),
      ],
    );
  }
}

const EARTH_RADIUS = 6_378_137;
const RAD = Math.PI / 180;

/** Metres along a path of [lon, lat, height] points (local flat-earth per segment: pipe segments are short). */
export function drawnLength(path: readonly (readonly number[])[]): number {
  let total = 0;
  for (let i = 1; i < path.length; i++) {
    const [lon0, lat0, h0 = 0] = path[i - 1];
    const [lon1, lat1, h1 = 0] = path[i];
    const dx = (lon1 - lon0) * RAD * EARTH_RADIUS * Math.cos(((lat0 + lat1) / 2) * RAD);
    const dy = (lat1 - lat0) * RAD * EARTH_RADIUS;
    total += Math.hypot(dx, dy, h1 - h0);
  }
  return total;
}
