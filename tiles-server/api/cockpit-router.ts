import { Router } from "express";
import {
  CitySummaryQuerySchema,
  REPLAY_BUCKETS,
  REPLAY_MAX_SPAN_MS,
  ReplayQuerySchema,
} from "../../models/cockpit.ts";
import type { CitySummaryQueries } from "../cockpit/city-summary.ts";
import { replaySeries } from "../cockpit/replay.ts";
import type { Database } from "../db/database.ts";
import { parseOr400 } from "../http/validate.ts";

const DAY_MS = 86_400_000;

/** /api/cockpit: read-only figures for the leaders' cockpit and its time-travel replay. */
export function cockpitRouter(db: Database, summary: CitySummaryQueries): Router {
  const router = Router();

  router.get("/summary", async (req, res) => {
    const query = parseOr400(CitySummaryQuerySchema, req.query, "query", res);
    if (query === undefined) return;
    res.set("cache-control", "no-cache").json(await summary.summary(query));
  });

  router.get("/replay", async (req, res) => {
    const query = parseOr400(ReplayQuerySchema, req.query, "query", res);
    if (query === undefined) return;
    const to = query.to ?? new Date();
    const from = query.from ?? new Date(to.getTime() - DAY_MS);
    if (!(from < to) || to.getTime() - from.getTime() > REPLAY_MAX_SPAN_MS) {
      res.status(400).json({ error: "invalid query: from must be before to, at most 7 days apart" });
      return;
    }
    const devices = query.devices?.split(",").filter((d) => d !== "");
    const body = await replaySeries(db, { from, to, bucketMs: REPLAY_BUCKETS[query.bucket], devices });
    res.set("cache-control", "no-cache").json(body);
  });

  return router;
}
