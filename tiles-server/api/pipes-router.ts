import { type Request, type Response, Router } from "express";
import type { z } from "zod";
import {
  PipeConnectivityQuerySchema,
  PipeCrossSectionQuerySchema,
  PipeIsolateQuerySchema,
  PipeTraceQuerySchema,
} from "../../models/pipe-analysis.ts";
import { checkClearance, checkCover } from "../pipes/checks.ts";
import { CrossSectionLineError, crossSection } from "../pipes/cross-section.ts";
import type { PipeGraphCache } from "../pipes/graph-cache.ts";
import { sendJson } from "../pipes/json-response.ts";
import { type PipeGraph, PipeNotFoundError } from "../pipes/pipe-graph.ts";

function parseQuery<T extends z.ZodType>(schema: T, req: Request, res: Response): z.infer<T> | undefined {
  const parsed = schema.safeParse(req.query);
  if (parsed.success) return parsed.data;
  res.status(400).json({
    error: `invalid query: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(query)"}: ${i.message}`).join("; ")}`,
    details: parsed.error.issues,
  });
  return undefined;
}

/** The layer's graph, or undefined after answering 404 (unknown layer or not a pipes layer). */
async function requireGraph(
  cache: PipeGraphCache,
  req: Request,
  res: Response,
): Promise<PipeGraph | undefined> {
  const layerId = String(req.params.layerId);
  const found = await cache.lookup(layerId);
  if (found.status === "pipes") return found.graph;
  res.status(404).json({
    error:
      found.status === "missing"
        ? `layer "${layerId}" not found`
        : `layer "${layerId}" is not a pipes layer (it has no network index)`,
  });
  return undefined;
}

function memo<T>(graph: PipeGraph, key: string, compute: () => T): T {
  if (!graph.memo.has(key)) graph.memo.set(key, compute());
  return graph.memo.get(key) as T;
}

/** /api/pipes/:layerId/...: network analysis over a pipes layer's topology (network.json). */
export function pipesRouter(cache: PipeGraphCache): Router {
  const router = Router();

  const answer = (res: Response, compute: () => unknown) => {
    try {
      res.set("cache-control", "no-cache").json(compute());
    } catch (err) {
      if (err instanceof PipeNotFoundError) res.status(404).json({ error: err.message });
      else throw err;
    }
  };
  // Trace and isolation results can list most of a city network: serialised by the graph from pre-encoded ids.
  const answerJson = async (req: Request, res: Response, compute: () => Buffer) => {
    let body: Buffer;
    try {
      body = compute();
    } catch (err) {
      if (err instanceof PipeNotFoundError) res.status(404).json({ error: err.message });
      else throw err;
      return;
    }
    await sendJson(req, res, body);
  };

  router.get("/:layerId/trace", async (req, res) => {
    const query = parseQuery(PipeTraceQuerySchema, req, res);
    if (query === undefined) return;
    const graph = await requireGraph(cache, req, res);
    if (graph === undefined) return;
    await answerJson(req, res, () => graph.traceJson(query.from, query.direction, query.fromType));
  });

  router.get("/:layerId/isolate", async (req, res) => {
    const query = parseQuery(PipeIsolateQuerySchema, req, res);
    if (query === undefined) return;
    const graph = await requireGraph(cache, req, res);
    if (graph === undefined) return;
    await answerJson(req, res, () => graph.isolateJson(query.link));
  });

  router.get("/:layerId/connectivity", async (req, res) => {
    const query = parseQuery(PipeConnectivityQuerySchema, req, res);
    if (query === undefined) return;
    const graph = await requireGraph(cache, req, res);
    if (graph === undefined) return;
    answer(res, () => memo(graph, `connectivity:${query.limit}`, () => graph.connectivity(query.limit)));
  });

  router.get("/:layerId/cross-section", async (req, res) => {
    const query = parseQuery(PipeCrossSectionQuerySchema, req, res);
    if (query === undefined) return;
    const graph = await requireGraph(cache, req, res);
    if (graph === undefined) return;
    try {
      answer(res, () => crossSection(graph, query.line));
    } catch (err) {
      if (err instanceof CrossSectionLineError) res.status(400).json({ error: err.message });
      else throw err;
    }
  });

  router.get("/:layerId/checks/clearance", async (req, res) => {
    const graph = await requireGraph(cache, req, res);
    if (graph === undefined) return;
    answer(res, () => memo(graph, "clearance", () => checkClearance(graph)));
  });

  router.get("/:layerId/checks/cover", async (req, res) => {
    const graph = await requireGraph(cache, req, res);
    if (graph === undefined) return;
    answer(res, () => memo(graph, "cover", () => checkCover(graph)));
  });

  return router;
}
