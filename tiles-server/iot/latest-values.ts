import type { Database } from "../db/database.ts";

export interface LatestValueRow {
  deviceId: string;
  quantity: string;
  ts: number;
  value: number;
}

/**
 * Each registered device's last reading per quantity. The alarm engine already keeps exactly this in
 * alarm_device_state: it judges every committed batch and stores the newer readings there in the same transaction
 * as the alarms it raises. It is read from there rather than searched for in the readings' day partitions, where
 * "newest row per (device, quantity)" is a skip scan PostgreSQL does not do by itself.
 */
export class LatestValues {
  constructor(private readonly db: Database) {}

  /** Ordered by device and quantity; `deviceIds` narrows to those devices (unknown ids give nothing). */
  async list(opts: { deviceIds?: string[]; limit: number; offset: number }): Promise<LatestValueRow[]> {
    const { rows } = await this.db.pool.query<{
      device_id: string;
      quantity: string;
      ms: number;
      value: number;
    }>(
      `SELECT s.device_id, s.quantity, (extract(epoch FROM s.ts) * 1000)::float8 AS ms, s.value
       FROM ${this.db.table("alarm_device_state")} s
       JOIN ${this.db.table("devices")} d ON d.id = s.device_id
       WHERE $1::text[] IS NULL OR s.device_id = ANY($1::text[])
       ORDER BY s.device_id, s.quantity
       LIMIT $2 OFFSET $3`,
      [opts.deviceIds ?? null, opts.limit, opts.offset],
    );
    return rows.map((r) => ({
      deviceId: r.device_id,
      quantity: r.quantity,
      ts: Math.round(r.ms),
      value: r.value,
    }));
  }
}
