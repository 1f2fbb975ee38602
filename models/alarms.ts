import { z } from "zod";
import type { DeviceType } from "./devices.ts";

/**
 * Threshold rules, alarms and the alarm lifecycle (the city's closed loop):
 * raised -> acknowledged -> dispatched -> handled -> verified -> closed.
 * Shared by the server (/api/alarms, /api/alarm-rules) and the viewer (cockpit, timeline).
 */

/** Most severe first. Chinese early-warning colours: 红 > 橙 > 黄 > 蓝. */
export const ALARM_LEVELS = ["red", "orange", "yellow", "blue"] as const;
export type AlarmLevel = (typeof ALARM_LEVELS)[number];
export const AlarmLevelSchema = z.enum(ALARM_LEVELS);

export const ALARM_LEVEL_LABELS: Record<AlarmLevel, { zh: string; en: string }> = {
  red: { zh: "红色", en: "Red" },
  orange: { zh: "橙色", en: "Orange" },
  yellow: { zh: "黄色", en: "Yellow" },
  blue: { zh: "蓝色", en: "Blue" },
};

/** 4 = red ... 1 = blue; 0 = no breach. */
export function levelSeverity(level: AlarmLevel | null | undefined): number {
  return level ? 4 - ALARM_LEVELS.indexOf(level) : 0;
}

/**
 * What a rule watches: `upper` value >= limit, `lower` value <= limit, `rate` |change per minute| >= limit,
 * `offline` seconds without any reading >= limit.
 */
export const RULE_KINDS = ["upper", "lower", "rate", "offline"] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

export const ALARM_STATUSES = [
  "raised",
  "acknowledged",
  "dispatched",
  "handled",
  "verified",
  "closed",
] as const;
export type AlarmStatus = (typeof ALARM_STATUSES)[number];

export const ALARM_STATUS_LABELS: Record<AlarmStatus, { zh: string; en: string }> = {
  raised: { zh: "已报警", en: "Raised" },
  acknowledged: { zh: "已确认", en: "Acknowledged" },
  dispatched: { zh: "已派单", en: "Dispatched" },
  handled: { zh: "已处置", en: "Handled" },
  verified: { zh: "已核查", en: "Verified" },
  closed: { zh: "已办结", en: "Closed" },
};

export const ALARM_ACTIONS = ["acknowledge", "dispatch", "handle", "verify", "reject", "close"] as const;
export type AlarmAction = (typeof ALARM_ACTIONS)[number];

/**
 * The only allowed lifecycle steps. `dispatch` also re-assigns a dispatched alarm; `reject` sends a
 * handled alarm whose verification failed back to the assignee.
 */
export const ALARM_TRANSITIONS: Record<AlarmAction, { from: readonly AlarmStatus[]; to: AlarmStatus }> = {
  acknowledge: { from: ["raised"], to: "acknowledged" },
  dispatch: { from: ["acknowledged", "dispatched"], to: "dispatched" },
  handle: { from: ["dispatched"], to: "handled" },
  verify: { from: ["handled"], to: "verified" },
  reject: { from: ["handled"], to: "dispatched" },
  close: { from: ["verified"], to: "closed" },
};

/** Actions allowed from a status, in lifecycle order. */
export function allowedActions(status: AlarmStatus): AlarmAction[] {
  return ALARM_ACTIONS.filter((a) => ALARM_TRANSITIONS[a].from.includes(status));
}

const QuantitySchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, _ . - only");

/** One limit per level; a level left out does not fire. */
export const LevelLimitsSchema = z
  .object({
    red: z.number().finite().optional(),
    orange: z.number().finite().optional(),
    yellow: z.number().finite().optional(),
    blue: z.number().finite().optional(),
  })
  .strict();
export type LevelLimits = z.infer<typeof LevelLimitsSchema>;

function limitsOrdered(kind: RuleKind, limits: LevelLimits): boolean {
  // Going from blue towards red a limit must be at least as strict: higher for upper/rate/offline, lower for lower.
  const values = [...ALARM_LEVELS]
    .reverse()
    .map((l) => limits[l])
    .filter((v): v is number => v !== undefined);
  for (let i = 1; i < values.length; i++) {
    if (kind === "lower" ? values[i] > values[i - 1] : values[i] < values[i - 1]) return false;
  }
  return true;
}

const RuleBodyShape = {
  /** `type`: all devices of a device type; `device`: one device, overriding its type's rule. */
  scope: z.enum(["type", "device"]),
  /** Device type key (scope type) or device id (scope device). */
  target: z.string().min(1).max(200),
  kind: z.enum(RULE_KINDS),
  /** Telemetry quantity the rule watches; omitted (null) for `offline`, which watches the whole device. */
  quantity: QuantitySchema.nullable().optional(),
  limits: LevelLimitsSchema,
  /**
   * Hysteresis band in the quantity's unit (per minute for `rate`): an alarm at a level clears (or steps
   * down) only once the value is back inside the limit by more than this. 0 for `offline`.
   */
  deadband: z.number().finite().nonnegative().default(0),
  enabled: z.boolean().default(true),
  note: z.string().max(500).optional(),
};

function checkRule(
  rule: { kind: RuleKind; quantity?: string | null; limits: LevelLimits },
  ctx: z.RefinementCtx,
) {
  if (rule.kind === "offline" && rule.quantity) {
    ctx.addIssue({ code: "custom", path: ["quantity"], message: "an offline rule watches the whole device" });
  }
  if (rule.kind !== "offline" && !rule.quantity) {
    ctx.addIssue({ code: "custom", path: ["quantity"], message: `a ${rule.kind} rule needs a quantity` });
  }
  if (Object.values(rule.limits).every((v) => v === undefined)) {
    ctx.addIssue({ code: "custom", path: ["limits"], message: "give at least one level's limit" });
  }
  if ((rule.kind === "rate" || rule.kind === "offline") && Object.values(rule.limits).some((v) => v! <= 0)) {
    ctx.addIssue({ code: "custom", path: ["limits"], message: `${rule.kind} limits must be > 0` });
  }
  if (!limitsOrdered(rule.kind, rule.limits)) {
    ctx.addIssue({
      code: "custom",
      path: ["limits"],
      message:
        rule.kind === "lower"
          ? "lower limits must not rise from blue to red (red is the lowest)"
          : "limits must not fall from blue to red (red is the highest)",
    });
  }
}

/** Body of POST /api/alarm-rules and PUT /api/alarm-rules/:id. */
export const AlarmRuleInputSchema = z.object(RuleBodyShape).strict().superRefine(checkRule);
export type AlarmRuleInput = z.input<typeof AlarmRuleInputSchema>;

export const AlarmRuleSchema = z.object({
  id: z.number().int(),
  scope: RuleBodyShape.scope,
  target: RuleBodyShape.target,
  kind: RuleBodyShape.kind,
  quantity: z.string().nullable(),
  limits: LevelLimitsSchema,
  deadband: z.number(),
  enabled: z.boolean(),
  note: z.string().nullable(),
  /** True for a built-in default (seeded once; edit or disable it like any rule). */
  builtin: z.boolean(),
  updatedAt: z.string(),
});
export type AlarmRule = z.infer<typeof AlarmRuleSchema>;

export interface DefaultRule {
  kind: RuleKind;
  quantity: string | null;
  limits: LevelLimits;
  deadband: number;
  note: string;
}

/** Offline timeouts in seconds: yellow 15 min, orange 1 h, red 24 h for devices reporting every minute or so. */
const OFFLINE_FAST: DefaultRule = {
  kind: "offline",
  quantity: null,
  limits: { yellow: 900, orange: 3600, red: 86_400 },
  deadband: 0,
  note: "no reading for 15 min / 1 h / 24 h",
};
/** Battery (NB-IoT) devices that report hourly: 3 h / 12 h / 48 h. */
const OFFLINE_SLOW: DefaultRule = {
  kind: "offline",
  quantity: null,
  limits: { yellow: 3 * 3600, orange: 12 * 3600, red: 48 * 3600 },
  deadband: 0,
  note: "battery device reporting hourly: no reading for 3 h / 12 h / 48 h",
};

/**
 * Built-in defaults per device type (keys of models/devices.ts DEVICE_TYPES), seeded into the rules table
 * the first time rules are read; operators then edit, disable or override them per device. The numbers:
 * - pipe_pressure (MPa, water supply): high 0.60/0.70/0.80 (yellow/orange/red), low 0.14 (GB 50282 minimum
 *   service pressure) / 0.10 / 0.05; a change of 0.05/0.10/0.20 MPa per minute suggests a burst or water hammer.
 * - water_level (m of ponding on roads and underpasses): 0.15 (traffic hampered) / 0.30 / 0.50 (vehicles stall).
 * - gas_concentration (%LEL): 10 / 25 / 50, the two-stage GB/T 50493 alarm settings (25 % and 50 % LEL)
 *   with an early yellow stage.
 * - manhole_cover: tilt 5° / 10° / 15°; `open` (0/1) is red at 1.
 * - temperature (°C, ambient): 35 / 37 / 40, the CMA heat warning levels; blue 33.
 * - smoke (dB/m obscuration): 0.1 / 0.2 / 0.3, around photoelectric detector alarm sensitivity.
 * - electrical_leakage (mA, residual current, GB 14287.2 monitoring): 200 / 300 / 500.
 * - cable_temperature (°C): 60 / 70 (PVC insulation rating) / 90 (XLPE rating); rising 2/5/10 °C per min.
 * - pm25 (µg/m³, 24-h AQI breakpoints of HJ 633): blue 75, yellow 115, orange 150, red 250.
 * - pm10 (µg/m³): blue 150, yellow 250, orange 350, red 420.
 * - noise (dB(A), GB 3096 class-4a daytime limit 70): blue 70, yellow 75, orange 85, red 95.
 * - water_quality (GB 5749-2022): turbidity 1 / 3 / 5 NTU; pH above 8.5 / 9.0 / 9.5 and below 6.5 / 6.0 / 5.5;
 *   free chlorine below 0.05 (yellow) / 0.02 (red) mg/L.
 * - crowd_count (persons in the camera's or counter's area; site-specific, override per device): 500 / 800 / 1000.
 * - flow: no value limits by default (depend on the main's size); offline only.
 * Every type gets an offline rule: 15 min / 1 h / 24 h, or 3 h / 12 h / 48 h for battery devices
 * (manhole_cover, water_level, water_quality).
 * Quantity names follow the telemetry payload's `values` keys.
 */
export const DEFAULT_RULES: Partial<Record<DeviceType, DefaultRule[]>> = {
  pipe_pressure: [
    {
      kind: "upper",
      quantity: "pressure",
      limits: { yellow: 0.6, orange: 0.7, red: 0.8 },
      deadband: 0.02,
      note: "",
    },
    {
      kind: "lower",
      quantity: "pressure",
      limits: { yellow: 0.14, orange: 0.1, red: 0.05 },
      deadband: 0.02,
      note: "",
    },
    {
      kind: "rate",
      quantity: "pressure",
      limits: { yellow: 0.05, orange: 0.1, red: 0.2 },
      deadband: 0.01,
      note: "",
    },
    OFFLINE_FAST,
  ],
  flow: [OFFLINE_FAST],
  water_level: [
    {
      kind: "upper",
      quantity: "level",
      limits: { yellow: 0.15, orange: 0.3, red: 0.5 },
      deadband: 0.03,
      note: "",
    },
    OFFLINE_SLOW,
  ],
  gas_concentration: [
    {
      kind: "upper",
      quantity: "concentration",
      limits: { yellow: 10, orange: 25, red: 50 },
      deadband: 2,
      note: "",
    },
    OFFLINE_FAST,
  ],
  manhole_cover: [
    { kind: "upper", quantity: "tilt", limits: { yellow: 5, orange: 10, red: 15 }, deadband: 1, note: "" },
    { kind: "upper", quantity: "open", limits: { red: 1 }, deadband: 0.5, note: "" },
    OFFLINE_SLOW,
  ],
  temperature: [
    {
      kind: "upper",
      quantity: "temperature",
      limits: { blue: 33, yellow: 35, orange: 37, red: 40 },
      deadband: 0.5,
      note: "",
    },
    OFFLINE_FAST,
  ],
  smoke: [
    {
      kind: "upper",
      quantity: "smoke",
      limits: { yellow: 0.1, orange: 0.2, red: 0.3 },
      deadband: 0.02,
      note: "",
    },
    OFFLINE_FAST,
  ],
  electrical_leakage: [
    {
      kind: "upper",
      quantity: "current",
      limits: { yellow: 200, orange: 300, red: 500 },
      deadband: 20,
      note: "",
    },
    OFFLINE_FAST,
  ],
  cable_temperature: [
    {
      kind: "upper",
      quantity: "temperature",
      limits: { yellow: 60, orange: 70, red: 90 },
      deadband: 2,
      note: "",
    },
    {
      kind: "rate",
      quantity: "temperature",
      limits: { yellow: 2, orange: 5, red: 10 },
      deadband: 0.5,
      note: "",
    },
    OFFLINE_FAST,
  ],
  pm25: [
    {
      kind: "upper",
      quantity: "pm25",
      limits: { blue: 75, yellow: 115, orange: 150, red: 250 },
      deadband: 5,
      note: "",
    },
    OFFLINE_FAST,
  ],
  pm10: [
    {
      kind: "upper",
      quantity: "pm10",
      limits: { blue: 150, yellow: 250, orange: 350, red: 420 },
      deadband: 10,
      note: "",
    },
    OFFLINE_FAST,
  ],
  noise: [
    {
      kind: "upper",
      quantity: "noise",
      limits: { blue: 70, yellow: 75, orange: 85, red: 95 },
      deadband: 2,
      note: "",
    },
    OFFLINE_FAST,
  ],
  water_quality: [
    {
      kind: "upper",
      quantity: "turbidity",
      limits: { yellow: 1, orange: 3, red: 5 },
      deadband: 0.2,
      note: "",
    },
    { kind: "upper", quantity: "ph", limits: { yellow: 8.5, orange: 9, red: 9.5 }, deadband: 0.1, note: "" },
    { kind: "lower", quantity: "ph", limits: { yellow: 6.5, orange: 6, red: 5.5 }, deadband: 0.1, note: "" },
    { kind: "lower", quantity: "chlorine", limits: { yellow: 0.05, red: 0.02 }, deadband: 0.01, note: "" },
    OFFLINE_SLOW,
  ],
  crowd_count: [
    {
      kind: "upper",
      quantity: "count",
      limits: { yellow: 500, orange: 800, red: 1000 },
      deadband: 20,
      note: "",
    },
    OFFLINE_FAST,
  ],
};

export const AlarmSchema = z.object({
  id: z.number().int(),
  deviceId: z.string(),
  deviceType: z.string(),
  deviceName: z.string().nullable(),
  kind: z.enum(RULE_KINDS),
  /** null for offline alarms. */
  quantity: z.string().nullable(),
  unit: z.string().nullable(),
  ruleId: z.number().int().nullable(),
  /** Current level (the level it had when the condition cleared, once cleared). */
  level: AlarmLevelSchema,
  /** Most severe level reached. */
  peakLevel: AlarmLevelSchema,
  status: z.enum(ALARM_STATUSES),
  /** The condition is still present (not yet back inside the limit by the deadband). */
  active: z.boolean(),
  /** Latest breaching value (per minute for rate, seconds of silence for offline). */
  value: z.number(),
  /** Limit of the current level. */
  limit: z.number(),
  /** Breaching readings (or offline sweeps) folded into this alarm. */
  count: z.number().int(),
  assignee: z.string().nullable(),
  lon: z.number(),
  lat: z.number(),
  height: z.number(),
  raisedAt: z.string(),
  lastAt: z.string(),
  clearedAt: z.string().nullable(),
  statusAt: z.string(),
  closedAt: z.string().nullable(),
  /** Lifecycle actions allowed now. */
  actions: z.array(z.enum(ALARM_ACTIONS)),
});
export type Alarm = z.infer<typeof AlarmSchema>;

/** Kinds of history rows: condition changes from the rule engine, then the lifecycle actions. */
export const ALARM_HISTORY_KINDS = [
  "raised",
  "reraised",
  "level_changed",
  "cleared",
  ...ALARM_ACTIONS,
] as const;
export type AlarmHistoryKind = (typeof ALARM_HISTORY_KINDS)[number];

export const AlarmHistoryEntrySchema = z.object({
  id: z.number().int(),
  alarmId: z.number().int(),
  kind: z.enum(ALARM_HISTORY_KINDS),
  at: z.string(),
  fromStatus: z.enum(ALARM_STATUSES).nullable(),
  toStatus: z.enum(ALARM_STATUSES).nullable(),
  fromLevel: AlarmLevelSchema.nullable(),
  toLevel: AlarmLevelSchema.nullable(),
  value: z.number().nullable(),
  /** Operator (lifecycle actions) or "system" (rule engine). */
  by: z.string(),
  note: z.string().nullable(),
  assignee: z.string().nullable(),
});
export type AlarmHistoryEntry = z.infer<typeof AlarmHistoryEntrySchema>;

export const AlarmWithHistorySchema = AlarmSchema.extend({ history: z.array(AlarmHistoryEntrySchema) });
export type AlarmWithHistory = z.infer<typeof AlarmWithHistorySchema>;

/** A history row with the alarm's identity, for the 24-h timeline replay. */
export const AlarmTimelineEntrySchema = AlarmHistoryEntrySchema.extend({
  deviceId: z.string(),
  deviceType: z.string(),
  deviceName: z.string().nullable(),
  alarmKind: z.enum(RULE_KINDS),
  quantity: z.string().nullable(),
  unit: z.string().nullable(),
  /** The alarm's limit now (of its current level): what a replay shows beside the value. */
  limit: z.number(),
  lon: z.number(),
  lat: z.number(),
  height: z.number(),
});
export type AlarmTimelineEntry = z.infer<typeof AlarmTimelineEntrySchema>;

/** Body of POST /api/alarms/:id/transitions. */
export const AlarmTransitionSchema = z
  .object({
    action: z.enum(ALARM_ACTIONS),
    /** Who did it (operator name or id). */
    by: z.string().trim().min(1).max(200),
    note: z.string().max(2000).optional(),
    /** Required for dispatch: the person or team the work order goes to. */
    assignee: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.action === "dispatch" && !t.assignee) {
      ctx.addIssue({ code: "custom", path: ["assignee"], message: "dispatch needs an assignee" });
    }
  });
export type AlarmTransition = z.infer<typeof AlarmTransitionSchema>;

/** An instant as epoch milliseconds or ISO 8601 text (query strings). */
export const InstantSchema = z.union([
  z
    .string()
    .regex(/^\d{1,15}$/)
    .transform((s) => new Date(Number(s))),
  z.iso.datetime({ offset: true, local: true }).transform((s) => new Date(s)),
  z.iso.date().transform((s) => new Date(`${s}T00:00:00Z`)),
]);

const csvOf = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .string()
    .transform((s) => s.split(",").map((v) => v.trim()))
    .pipe(z.array(z.enum(values)).min(1));

export const BBox2DQuerySchema = z
  .string()
  .transform((s) => s.split(",").map((v) => Number(v)))
  .pipe(
    z
      .tuple([
        z.number().min(-180).max(180),
        z.number().min(-90).max(90),
        z.number().min(-180).max(180),
        z.number().min(-90).max(90),
      ])
      .refine(
        ([w, s, e, n]) => w <= e && s <= n,
        "bbox is west,south,east,north with west <= east, south <= north",
      ),
  );

export const ALARM_LIST_DEFAULT_LIMIT = 100;
export const ALARM_LIST_MAX_LIMIT = 1000;

/** GET /api/alarms query. */
export const AlarmListQuerySchema = z
  .object({
    /** Comma list of statuses, or `open` (everything not closed). */
    status: z
      .string()
      .transform((s) => s.split(",").map((v) => v.trim()))
      .pipe(z.array(z.enum([...ALARM_STATUSES, "open"])).min(1))
      .optional(),
    level: csvOf(ALARM_LEVELS).optional(),
    kind: csvOf(RULE_KINDS).optional(),
    device: z.string().min(1).optional(),
    /** Device type key. */
    type: z.string().min(1).optional(),
    active: z.enum(["true", "false"]).optional(),
    /** Alarms alive at some time in [from, to]: raised before `to` and not closed before `from`. */
    from: InstantSchema.optional(),
    to: InstantSchema.optional(),
    bbox: BBox2DQuerySchema.optional(),
    limit: z.coerce.number().int().min(1).max(ALARM_LIST_MAX_LIMIT).default(ALARM_LIST_DEFAULT_LIMIT),
  })
  .strict();
export type AlarmListQuery = z.infer<typeof AlarmListQuerySchema>;

export const AlarmListResultSchema = z.object({
  items: z.array(AlarmSchema),
  /** All matches, beyond `limit`. */
  total: z.number().int(),
});

/** GET /api/alarms/timeline query: history rows in [from, to] (default: the last 24 h). */
export const AlarmTimelineQuerySchema = z
  .object({
    from: InstantSchema.optional(),
    to: InstantSchema.optional(),
    limit: z.coerce.number().int().min(1).max(50_000).default(10_000),
  })
  .strict();

export const AlarmStatsQuerySchema = z.object({ since: InstantSchema.optional() }).strict();

/** GET /api/alarms/stats: for the cockpit. */
export const AlarmStatsSchema = z.object({
  since: z.string(),
  /** Alarms raised since `since`, by peak level, device type and rule kind. */
  raised: z.object({
    total: z.number().int(),
    byLevel: z.record(AlarmLevelSchema, z.number().int()),
    byDeviceType: z.record(z.string(), z.number().int()),
    byKind: z.record(z.enum(RULE_KINDS), z.number().int()),
  }),
  /** All alarms not closed (whenever raised), by lifecycle stage and current level. */
  open: z.object({
    total: z.number().int(),
    active: z.number().int(),
    byStatus: z.record(z.enum(ALARM_STATUSES), z.number().int()),
    byLevel: z.record(AlarmLevelSchema, z.number().int()),
  }),
  /** Alarms closed since `since`. */
  closed: z.number().int(),
});
export type AlarmStats = z.infer<typeof AlarmStatsSchema>;

/** What the engine reports to listeners (pushed live on the WebSocket by the server). */
export const ALARM_EVENT_TYPES = ["raised", "level_changed", "cleared", "transition"] as const;
export type AlarmEventType = (typeof ALARM_EVENT_TYPES)[number];

export const AlarmEventSchema = z.object({
  type: z.enum(ALARM_EVENT_TYPES),
  /** The alarm after the change. */
  alarm: AlarmSchema,
  /** The history row written for this change. */
  entry: AlarmHistoryEntrySchema,
});
export type AlarmEvent = z.infer<typeof AlarmEventSchema>;
