import type pg from "pg";
import {
  type AlarmRule,
  type AlarmRuleInput,
  AlarmRuleInputSchema,
  DEFAULT_RULES,
  type LevelLimits,
  type RuleKind,
} from "../../models/alarms.ts";
import type { Database } from "../db/database.ts";

type Queryable = Pick<pg.PoolClient, "query">;

interface RuleRow {
  id: string;
  scope: "type" | "device";
  target: string;
  kind: RuleKind;
  quantity: string | null;
  red: number | null;
  orange: number | null;
  yellow: number | null;
  blue: number | null;
  deadband: number;
  enabled: boolean;
  note: string | null;
  builtin: boolean;
  updated_at: Date;
}

function toRule(row: RuleRow): AlarmRule {
  const limits: LevelLimits = {};
  for (const level of ["red", "orange", "yellow", "blue"] as const) {
    if (row[level] !== null) limits[level] = row[level];
  }
  return {
    id: Number(row.id),
    scope: row.scope,
    target: row.target,
    kind: row.kind,
    quantity: row.quantity,
    limits,
    deadband: row.deadband,
    enabled: row.enabled,
    note: row.note,
    builtin: row.builtin,
    updatedAt: row.updated_at.toISOString(),
  };
}

export class RuleConflictError extends Error {}

/** The rules that apply to one device: device overrides replace the type's rule of the same kind+quantity. */
export interface ResolvedRules {
  /** Keyed by quantity; upper/lower/rate rules. */
  byQuantity: Map<string, AlarmRule[]>;
  offline: AlarmRule | undefined;
}

const ruleKey = (kind: RuleKind, quantity: string | null) => `${kind}|${quantity ?? ""}`;

const RULE_CACHE_MS = 30_000;

const resolvedCache = new WeakMap<readonly AlarmRule[], Map<string, ResolvedRules>>();

/**
 * The enabled rules for one device of `type`: a device-scope rule replaces the type's rule of the same
 * kind and quantity. Memoised per rules snapshot, so the engine can resolve synchronously inside its
 * transaction (with the embedded database the pool has a single client).
 */
export function resolveRules(rules: readonly AlarmRule[], deviceId: string, type: string): ResolvedRules {
  let memo = resolvedCache.get(rules);
  if (memo === undefined) {
    memo = new Map();
    resolvedCache.set(rules, memo);
  }
  const cacheKey = `${type}\u0000${deviceId}`;
  const hit = memo.get(cacheKey);
  if (hit) return hit;
  const chosen = new Map<string, AlarmRule>();
  for (const rule of rules) {
    if (rule.scope === "type" && rule.target === type) chosen.set(ruleKey(rule.kind, rule.quantity), rule);
  }
  for (const rule of rules) {
    if (rule.scope === "device" && rule.target === deviceId)
      chosen.set(ruleKey(rule.kind, rule.quantity), rule);
  }
  const result: ResolvedRules = { byQuantity: new Map(), offline: undefined };
  for (const rule of chosen.values()) {
    // A disabled override still replaces the type's rule: that is how one device is exempted.
    if (!rule.enabled) continue;
    if (rule.kind === "offline") result.offline = rule;
    else {
      const list = result.byQuantity.get(rule.quantity!) ?? [];
      list.push(rule);
      result.byQuantity.set(rule.quantity!, list);
    }
  }
  memo.set(cacheKey, result);
  return result;
}

/**
 * Threshold rules in PostgreSQL, cached in memory (all of them: a city has a few hundred rules, not
 * millions) and reloaded after every change made through this store.
 */
export class AlarmRuleStore {
  private cache: Promise<AlarmRule[]> | undefined;
  private cachedAt = 0;

  constructor(private readonly db: Database) {}

  private get table() {
    return this.db.table("alarm_rules");
  }

  /**
   * Seeds the built-in defaults of each device type once (remembered per type, so a default an operator
   * deleted stays deleted and a type added in a later release still gets its defaults).
   */
  private async seedDefaults(client: Queryable): Promise<void> {
    const seeded = this.db.table("alarm_rule_defaults_seeded");
    const done = await client.query<{ device_type: string }>(`SELECT device_type FROM ${seeded}`);
    const have = new Set(done.rows.map((r) => r.device_type));
    for (const [type, rules] of Object.entries(DEFAULT_RULES)) {
      if (have.has(type) || rules === undefined) continue;
      await client.query("BEGIN");
      try {
        for (const rule of rules) {
          await client.query(
            `INSERT INTO ${this.table} (scope, target, kind, quantity, red, orange, yellow, blue, deadband, note, builtin)
             VALUES ('type', $1, $2, $3, $4, $5, $6, $7, $8, $9, true) ON CONFLICT DO NOTHING`,
            [
              type,
              rule.kind,
              rule.quantity,
              rule.limits.red ?? null,
              rule.limits.orange ?? null,
              rule.limits.yellow ?? null,
              rule.limits.blue ?? null,
              rule.deadband,
              rule.note || null,
            ],
          );
        }
        await client.query(`INSERT INTO ${seeded} (device_type) VALUES ($1) ON CONFLICT DO NOTHING`, [type]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK").catch(() => {});
        throw err;
      }
    }
  }

  /** All rules (seeding the defaults on first use), ordered by scope, target, kind, quantity. */
  list(): Promise<AlarmRule[]> {
    // Reloaded now and then too, for changes made through another server process on the same database.
    if (this.cache !== undefined && Date.now() - this.cachedAt > RULE_CACHE_MS) this.cache = undefined;
    if (this.cache === undefined) this.cachedAt = Date.now();
    this.cache ??= (async () => {
      const client = await this.db.pool.connect();
      try {
        await this.seedDefaults(client);
        const res = await client.query<RuleRow>(
          `SELECT * FROM ${this.table} ORDER BY scope DESC, target, kind, quantity NULLS FIRST, id`,
        );
        return res.rows.map(toRule);
      } finally {
        client.release();
      }
    })();
    const loading = this.cache;
    loading.catch(() => {
      if (this.cache === loading) this.cache = undefined;
    });
    return loading;
  }

  private invalidate() {
    this.cache = undefined;
  }

  async get(id: number): Promise<AlarmRule | undefined> {
    return (await this.list()).find((r) => r.id === id);
  }

  /** Enabled rules for a device of `type` (see resolveRules); loads the rules if needed. */
  async forDevice(deviceId: string, type: string): Promise<ResolvedRules> {
    return resolveRules(await this.list(), deviceId, type);
  }

  /** Shortest offline limit of any enabled rule (seconds), to skip devices that cannot be late yet. */
  static shortestOfflineLimit(rules: readonly AlarmRule[]): number | undefined {
    let min: number | undefined;
    for (const rule of rules) {
      if (rule.kind !== "offline" || !rule.enabled) continue;
      for (const v of Object.values(rule.limits))
        if (v !== undefined && (min === undefined || v < min)) min = v;
    }
    return min;
  }

  private async write(sql: string, params: unknown[]): Promise<AlarmRule | undefined> {
    try {
      const res = await this.db.pool.query<RuleRow>(sql, params);
      return res.rows[0] ? toRule(res.rows[0]) : undefined;
    } catch (err) {
      if ((err as { code?: string }).code === "23505") {
        throw new RuleConflictError(
          `a rule for this scope, target, kind and quantity already exists (${String(params[0])} "${String(params[1])}" ${String(params[2])} ${String(params[3] ?? "")}); edit it with PUT /api/alarm-rules/:id`,
        );
      }
      throw err;
    } finally {
      this.invalidate();
    }
  }

  private static params(input: AlarmRuleInput): unknown[] {
    const rule = AlarmRuleInputSchema.parse(input);
    return [
      rule.scope,
      rule.target,
      rule.kind,
      rule.quantity ?? null,
      rule.limits.red ?? null,
      rule.limits.orange ?? null,
      rule.limits.yellow ?? null,
      rule.limits.blue ?? null,
      rule.deadband,
      rule.enabled,
      rule.note ?? null,
    ];
  }

  async create(input: AlarmRuleInput): Promise<AlarmRule> {
    await this.list();
    const created = await this.write(
      `INSERT INTO ${this.table} (scope, target, kind, quantity, red, orange, yellow, blue, deadband, enabled, note)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
      AlarmRuleStore.params(input),
    );
    return created!;
  }

  async update(id: number, input: AlarmRuleInput): Promise<AlarmRule | undefined> {
    await this.list();
    return this.write(
      `UPDATE ${this.table} SET scope = $1, target = $2, kind = $3, quantity = $4, red = $5, orange = $6,
         yellow = $7, blue = $8, deadband = $9, enabled = $10, note = $11, updated_at = now()
       WHERE id = $12 RETURNING *`,
      [...AlarmRuleStore.params(input), id],
    );
  }

  async remove(id: number): Promise<boolean> {
    await this.list();
    const removed = await this.write(`DELETE FROM ${this.table} WHERE id = $1 RETURNING *`, [id]);
    return removed !== undefined;
  }
}
