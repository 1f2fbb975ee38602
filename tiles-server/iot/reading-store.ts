import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { from as copyFrom } from "pg-copy-streams";
import type { Reading } from "../../models/telemetry.ts";
import { quoteIdent } from "../db/connection-url.ts";
import type { Database } from "../db/database.ts";

export const DAY_MS = 86_400_000;

const ignore = () => {};

/** `readings_20261121` for the UTC day holding `dayNumber * DAY_MS`. */
export function partitionName(dayNumber: number): string {
  return `readings_${new Date(dayNumber * DAY_MS).toISOString().slice(0, 10).replaceAll("-", "")}`;
}

function dayFromPartitionName(name: string): number | undefined {
  const m = /^readings_(\d{4})(\d{2})(\d{2})$/.exec(name);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isFinite(ms) ? ms / DAY_MS : undefined;
}

const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
const COPY_SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");
const TWO_32 = 2 ** 32;

/**
 * Encodes readings as PostgreSQL binary COPY data (device_id text, ts timestamptz, quantity text,
 * value float8) into one Buffer. Written by hand: the format is four fixed field encodings, and
 * encoding straight into one buffer avoids the per-row objects and stream chunks of a general
 * encoder, which would cost more than the COPY itself.
 */
export function encodeCopyBinary(readings: readonly Reading[]): Buffer {
  let size = 19 + 2;
  for (const r of readings)
    size += 2 + 4 + Buffer.byteLength(r.deviceId) + 12 + 4 + Buffer.byteLength(r.quantity) + 12;
  const buf = Buffer.allocUnsafe(size);
  COPY_SIGNATURE.copy(buf, 0);
  buf.writeInt32BE(0, 11); // flags
  buf.writeInt32BE(0, 15); // header extension length
  let o = 19;
  for (const r of readings) {
    buf.writeInt16BE(4, o);
    o += 2;
    const idLen = buf.write(r.deviceId, o + 4, "utf8");
    buf.writeInt32BE(idLen, o);
    o += 4 + idLen;
    // timestamptz: int64 microseconds since 2000-01-01 UTC (exact in a double up to 2^53).
    const micros = (r.ts - PG_EPOCH_MS) * 1000;
    const hi = Math.floor(micros / TWO_32);
    buf.writeInt32BE(8, o);
    buf.writeInt32BE(hi, o + 4);
    buf.writeUInt32BE(micros - hi * TWO_32, o + 8);
    o += 12;
    const qLen = buf.write(r.quantity, o + 4, "utf8");
    buf.writeInt32BE(qLen, o);
    o += 4 + qLen;
    buf.writeInt32BE(8, o);
    buf.writeDoubleBE(r.value, o + 4);
    o += 12;
  }
  buf.writeInt16BE(-1, o);
  return buf.subarray(0, o + 2);
}

export interface InsertResult {
  /** Rows newly written; the rest were already stored (redelivery). */
  inserted: number;
}

/**
 * The readings table: one partition per UTC day, created when the first reading of that day
 * arrives, dropped whole when it falls out of the retention window.
 */
export class ReadingStore {
  private readonly known = new Set<number>();
  readonly table: string;

  constructor(private readonly db: Database) {
    this.table = db.table("readings");
  }

  /** Day numbers of the existing partitions, oldest first. */
  async listPartitions(): Promise<number[]> {
    const { rows } = await this.db.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
         JOIN pg_namespace n ON n.oid = p.relnamespace
       WHERE n.nspname = $1 AND p.relname = 'readings'`,
      [this.db.schema],
    );
    const days = rows.map((r) => dayFromPartitionName(r.name)).filter((d) => d !== undefined);
    for (const d of days) this.known.add(d);
    return days.sort((a, b) => a - b);
  }

  async ensurePartitions(days: Iterable<number>): Promise<void> {
    for (const day of days) {
      if (this.known.has(day)) continue;
      const from = new Date(day * DAY_MS).toISOString();
      const to = new Date((day + 1) * DAY_MS).toISOString();
      try {
        await this.db.pool.query(
          `CREATE TABLE IF NOT EXISTS ${quoteIdent(this.db.schema)}.${quoteIdent(partitionName(day))}
             PARTITION OF ${this.table} FOR VALUES FROM ('${from}') TO ('${to}')`,
        );
      } catch (err) {
        // Another server may have created it between our check and CREATE: fine if it exists now.
        await this.listPartitions();
        if (!this.known.has(day)) throw err;
      }
      this.known.add(day);
    }
  }

  /**
   * Writes the rows in one statement; a row whose (device, quantity, ts) is already stored is
   * skipped, so redelivered messages are harmless. Partitions must exist (ensurePartitions).
   */
  async insert(readings: readonly Reading[]): Promise<InsertResult> {
    // Binary COPY is the fastest way in, but it cannot skip rows already stored: it is tried
    // first and, if the batch holds a redelivered reading (unique violation, whole COPY undone),
    // the batch goes through INSERT ... ON CONFLICT DO NOTHING instead. PGlite's socket does not
    // speak the COPY sub-protocol, so the embedded database always takes the INSERT.
    if (!this.db.embedded) {
      try {
        await this.copy(readings);
        return { inserted: readings.length };
      } catch (err) {
        if ((err as { code?: string }).code !== "23505") throw err;
      }
    }
    return this.upsert(readings);
  }

  /** Binary COPY of the rows in one statement (fails whole on a duplicate). */
  async copy(readings: readonly Reading[]): Promise<void> {
    const data = encodeCopyBinary(readings);
    const client = await this.db.pool.connect();
    // A checked-out client has no pool error listener: a connection killed now must not become
    // an uncaught 'error' event (the failing query reports it).
    client.on("error", ignore);
    let broken: Error | undefined;
    try {
      await pipeline(
        Readable.from([data]),
        client.query(
          copyFrom(`COPY ${this.table} (device_id, ts, quantity, value) FROM STDIN (FORMAT binary)`),
        ),
      );
    } catch (err) {
      // Only a constraint violation leaves the connection known-good for the pool.
      if (!(err as { code?: string }).code?.startsWith("23")) broken = err as Error;
      throw err;
    } finally {
      client.off("error", ignore);
      client.release(broken);
    }
  }

  /** INSERT ... ON CONFLICT DO NOTHING of the rows in one statement; returns how many were new. */
  async upsert(readings: readonly Reading[]): Promise<InsertResult> {
    const n = readings.length;
    const ids = new Array<string>(n);
    const ts = new Array<number>(n);
    const quantities = new Array<string>(n);
    const values = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const r = readings[i];
      ids[i] = r.deviceId;
      ts[i] = r.ts;
      quantities[i] = r.quantity;
      values[i] = r.value;
    }
    const sql = `INSERT INTO ${this.table} (device_id, ts, quantity, value)
       SELECT d, to_timestamp(t / 1000.0), q, v FROM unnest($1::text[], $2::float8[], $3::text[], $4::float8[]) AS x(d, t, q, v)
       ON CONFLICT DO NOTHING`;
    const params = [ids, ts, quantities, values];
    if (this.db.embedded) {
      const result = await this.db.pool.query(sql, params);
      return { inserted: result.rowCount ?? 0 };
    }
    // The planner cannot see the array sizes; on a big batch it may JIT-compile the plan, which
    // costs far more than the insert.
    const client = await this.db.pool.connect();
    client.on("error", ignore);
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      await client.query("SET LOCAL jit = off");
      const result = await client.query(sql, params);
      await client.query("COMMIT");
      return { inserted: result.rowCount ?? 0 };
    } catch (err) {
      broken = err as Error;
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.off("error", ignore);
      client.release(broken);
    }
  }

  /** Drops partitions whose whole day is older than `retentionDays` before `now`; returns their names. */
  async dropExpired(retentionDays: number, now = Date.now()): Promise<string[]> {
    if (retentionDays <= 0) return [];
    const cutoffDay = Math.floor((now - retentionDays * DAY_MS) / DAY_MS);
    const dropped: string[] = [];
    for (const day of await this.listPartitions()) {
      if (day >= cutoffDay) continue;
      const name = partitionName(day);
      await this.db.pool.query(`DROP TABLE IF EXISTS ${quoteIdent(this.db.schema)}.${quoteIdent(name)}`);
      this.known.delete(day);
      dropped.push(name);
    }
    return dropped;
  }

  async readings(
    deviceId: string,
    fromMs: number,
    toMs: number,
    quantities: string[] | undefined,
    limit: number,
  ): Promise<{ ts: number; quantity: string; value: number }[]> {
    const { rows } = await this.db.pool.query<{ ms: number; quantity: string; value: number }>(
      `SELECT (extract(epoch FROM ts) * 1000)::float8 AS ms, quantity, value FROM ${this.table}
       WHERE device_id = $1 AND ts >= to_timestamp($2 / 1000.0) AND ts < to_timestamp($3 / 1000.0)
         AND ($4::text[] IS NULL OR quantity = ANY($4::text[]))
       ORDER BY ts, quantity LIMIT $5`,
      [deviceId, fromMs, toMs, quantities ?? null, limit],
    );
    return rows.map((r) => ({ ts: Math.round(r.ms), quantity: r.quantity, value: r.value }));
  }

  /** min/max/avg per UTC-aligned bucket, computed by the database. */
  async buckets(
    deviceId: string,
    fromMs: number,
    toMs: number,
    quantities: string[] | undefined,
    bucketMs: number,
  ): Promise<{ bucket: number; quantity: string; count: number; min: number; max: number; avg: number }[]> {
    const { rows } = await this.db.pool.query<{
      b: number;
      quantity: string;
      count: number;
      min: number;
      max: number;
      avg: number;
    }>(
      `SELECT (extract(epoch FROM date_bin(make_interval(secs => $5 / 1000.0), ts,
                 TIMESTAMPTZ '2000-01-01 00:00:00+00')) * 1000)::float8 AS b,
              quantity, count(*)::int AS count, min(value) AS min, max(value) AS max, avg(value) AS avg
       FROM ${this.table}
       WHERE device_id = $1 AND ts >= to_timestamp($2 / 1000.0) AND ts < to_timestamp($3 / 1000.0)
         AND ($4::text[] IS NULL OR quantity = ANY($4::text[]))
       GROUP BY 1, 2 ORDER BY 1, 2`,
      [deviceId, fromMs, toMs, quantities ?? null, bucketMs],
    );
    return rows.map(({ b, ...r }) => ({ ...r, bucket: Math.round(b) }));
  }
}
