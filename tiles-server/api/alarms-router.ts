import { type Request, type Response, Router } from "express";
import { ZodError, z } from "zod";
import {
  AlarmListQuerySchema,
  AlarmRuleInputSchema,
  AlarmStatsQuerySchema,
  AlarmTimelineQuerySchema,
  AlarmTransitionSchema,
  RULE_KINDS,
} from "../../models/alarms.ts";
import type { AlarmQueries } from "../alarms/alarm-queries.ts";
import { type AlarmEngine, AlarmTransitionError } from "../alarms/engine.ts";
import { RuleConflictError } from "../alarms/rule-store.ts";
import { requireAdminToken } from "../http/admin-auth.ts";
import { sendInvalid as invalid, parseOr400 as parse } from "../http/validate.ts";

const DAY_MS = 86_400_000;

const IdParamSchema = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

function idParam(req: Request, res: Response, what: string): number | undefined {
  const parsed = IdParamSchema.safeParse(req.params.id);
  if (parsed.success) return parsed.data;
  res.status(400).json({ error: `${what} id must be a positive integer, got "${String(req.params.id)}"` });
  return undefined;
}

/** /api/alarms: public reads, token-protected lifecycle steps. */
export function alarmsRouter(engine: AlarmEngine, queries: AlarmQueries, adminToken: string): Router {
  const router = Router();
  const admin = requireAdminToken(adminToken);

  router.get("/", async (req, res) => {
    const query = parse(AlarmListQuerySchema, req.query, "query", res);
    if (query === undefined) return;
    res.set("cache-control", "no-cache").json(await queries.list(query));
  });

  router.get("/stats", async (req, res) => {
    const query = parse(AlarmStatsQuerySchema, req.query, "query", res);
    if (query === undefined) return;
    const since = query.since ?? new Date(Date.now() - DAY_MS);
    res.set("cache-control", "no-cache").json(await queries.stats(since));
  });

  router.get("/timeline", async (req, res) => {
    const query = parse(AlarmTimelineQuerySchema, req.query, "query", res);
    if (query === undefined) return;
    const to = query.to ?? new Date();
    const from = query.from ?? new Date(to.getTime() - DAY_MS);
    if (from > to) {
      res.status(400).json({ error: "invalid query: from is after to" });
      return;
    }
    const result = await queries.timeline(from, to, query.limit);
    res.set("cache-control", "no-cache").json({ from: from.toISOString(), to: to.toISOString(), ...result });
  });

  router.get("/:id", async (req, res) => {
    const id = idParam(req, res, "alarm");
    if (id === undefined) return;
    const alarm = await queries.get(id);
    if (alarm === undefined) {
      res.status(404).json({ error: `alarm ${id} not found` });
      return;
    }
    res.set("cache-control", "no-cache").json(alarm);
  });

  router.post("/:id/transitions", admin, async (req, res) => {
    const id = idParam(req, res, "alarm");
    if (id === undefined) return;
    const body = parse(AlarmTransitionSchema, req.body, "request body", res);
    if (body === undefined) return;
    try {
      const event = await engine.transition(id, body);
      res.status(201).json({ alarm: event.alarm, entry: event.entry });
    } catch (err) {
      if (err instanceof AlarmTransitionError) {
        res.status(err.status).json({ error: err.message });
        return;
      }
      throw err;
    }
  });

  return router;
}

const RuleListQuerySchema = z
  .object({
    scope: z.enum(["type", "device"]).optional(),
    target: z.string().min(1).optional(),
    kind: z.enum(RULE_KINDS).optional(),
  })
  .strict();

/** /api/alarm-rules: threshold rules per device type and per device; writes need the admin token. */
export function alarmRulesRouter(engine: AlarmEngine, adminToken: string): Router {
  const router = Router();
  const admin = requireAdminToken(adminToken);
  const store = engine.rules;

  const write = async (res: Response, work: () => Promise<void>) => {
    try {
      await work();
    } catch (err) {
      if (err instanceof RuleConflictError) res.status(409).json({ error: err.message });
      else if (err instanceof ZodError) invalid(res, "request body", err);
      else throw err;
    }
  };

  router.get("/", async (req, res) => {
    const query = parse(RuleListQuerySchema, req.query, "query", res);
    if (query === undefined) return;
    const rules = (await store.list()).filter(
      (r) =>
        (query.scope === undefined || r.scope === query.scope) &&
        (query.target === undefined || r.target === query.target) &&
        (query.kind === undefined || r.kind === query.kind),
    );
    res.set("cache-control", "no-cache").json(rules);
  });

  router.get("/:id", async (req, res) => {
    const id = idParam(req, res, "rule");
    if (id === undefined) return;
    const rule = await store.get(id);
    if (rule === undefined) res.status(404).json({ error: `alarm rule ${id} not found` });
    else res.set("cache-control", "no-cache").json(rule);
  });

  router.post("/", admin, async (req, res) => {
    const body = parse(AlarmRuleInputSchema, req.body, "request body", res);
    if (body === undefined) return;
    await write(res, async () => {
      const rule = await store.create(body);
      res.status(201).location(`/api/alarm-rules/${rule.id}`).json(rule);
    });
  });

  router.put("/:id", admin, async (req, res) => {
    const id = idParam(req, res, "rule");
    if (id === undefined) return;
    const body = parse(AlarmRuleInputSchema, req.body, "request body", res);
    if (body === undefined) return;
    await write(res, async () => {
      const rule = await store.update(id, body);
      if (rule === undefined) res.status(404).json({ error: `alarm rule ${id} not found` });
      else res.json(rule);
    });
  });

  router.delete("/:id", admin, async (req, res) => {
    const id = idParam(req, res, "rule");
    if (id === undefined) return;
    if (await store.remove(id)) res.status(204).end();
    else res.status(404).json({ error: `alarm rule ${id} not found` });
  });

  return router;
}
