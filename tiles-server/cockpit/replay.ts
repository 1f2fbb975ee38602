import type { Replay } from "../../models/cockpit.ts";
import type { Database } from "../db/database.ts";

/**
 * The sensor side of the time-travel replay: every device's last value per quantity in fixed buckets
 * over a window, aggregated by the database (a day of 5-minute buckets for the demo's devices is a
 * few thousand rows instead of every reading).
 */
export async function replaySeries(
  db: Database,
  opts: { from: Date; to: Date; bucketMs: number; devices?: string[] },
): Promise<Replay> {
  const fromMs = opts.from.getTime();
  const toMs = opts.to.getTime();
  const { rows } = await db.pool.query<{ device_id: string; quantity: string; b: number; value: number }>(
    `SELECT device_id, quantity, b, value FROM (
       SELECT device_id, quantity, floor((extract(epoch FROM ts) * 1000 - $1) / $3)::int AS b, value,
              row_number() OVER (PARTITION BY device_id, quantity,
                                 floor((extract(epoch FROM ts) * 1000 - $1) / $3) ORDER BY ts DESC) AS rn
       FROM ${db.table("readings")}
       WHERE ts >= to_timestamp($1 / 1000.0) AND ts < to_timestamp($2 / 1000.0)
         AND ($4::text[] IS NULL OR device_id = ANY($4::text[]))
     ) last WHERE rn = 1 ORDER BY device_id, quantity, b`,
    [fromMs, toMs, opts.bucketMs, opts.devices ?? null],
  );
  const series: Replay["series"] = {};
  for (const r of rows) {
    const byQuantity = series[r.device_id] ?? {};
    series[r.device_id] = byQuantity;
    const points = byQuantity[r.quantity] ?? [];
    byQuantity[r.quantity] = points;
    points.push([r.b, r.value]);
  }
  return {
    from: opts.from.toISOString(),
    to: opts.to.toISOString(),
    bucketMs: opts.bucketMs,
    buckets: Math.ceil((toMs - fromMs) / opts.bucketMs),
    series,
  };
}
