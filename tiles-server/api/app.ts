import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import compression from "compression";
import express, { type ErrorRequestHandler, type RequestHandler } from "express";
import type { Logger } from "pino";
import { BimElementStore } from "../bim/element-store.ts";
import type { LayerCatalog } from "../catalog/layer-catalog.ts";
import type { Database } from "../db/database.ts";
import { answerPreflight, CORS_HEADERS } from "../http/cors.ts";
import { PipeGraphCache } from "../pipes/graph-cache.ts";
import { bimRouter } from "./bim-router.ts";
import { healthHandler } from "./health.ts";
import { layersRouter } from "./layers-router.ts";
import { buildOpenApiDocument } from "./openapi.ts";
import { pipesRouter } from "./pipes-router.ts";

export interface ApiAppOptions {
  catalog: LayerCatalog;
  db: Database;
  adminToken: string;
  viewerDir?: string;
  /** pino-http middleware, or undefined to log nothing per request. */
  requestLogger?: RequestHandler;
  logger: Logger;
}

const cors: RequestHandler = (req, res, next) => {
  if (req.method === "OPTIONS") return answerPreflight(res);
  res.set(CORS_HEADERS);
  next();
};

const apiNotFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: `no API endpoint ${req.method} ${req.path}` });
};

/** The single-page viewer: real files first, then index.html for client-side routes. */
function viewerRoutes(viewerDir: string): RequestHandler[] {
  const root = resolve(viewerDir);
  const indexHtml = join(root, "index.html");
  const fallback: RequestHandler = (req, res, next) => {
    if ((req.method !== "GET" && req.method !== "HEAD") || !existsSync(indexHtml)) return next();
    res.set("cache-control", "no-cache").sendFile(indexHtml);
  };
  return [express.static(root, { index: "index.html", fallthrough: true }), fallback];
}

function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const status =
      typeof err?.status === "number" && err.status >= 400 && err.status < 600 ? err.status : 500;
    if (err?.type === "entity.parse.failed") {
      res.status(400).json({ error: `request body is not valid JSON: ${err.message}` });
      return;
    }
    if (status >= 500) logger.error({ err }, "request failed");
    res.status(status).json({ error: status >= 500 ? "internal server error" : String(err.message ?? err) });
  };
}

/** Everything except /tiles: JSON API, health, OpenAPI document and the viewer. */
export function createApiApp(opts: ApiAppOptions): express.Express {
  const app = express();
  app.disable("x-powered-by");
  if (opts.requestLogger) app.use(opts.requestLogger);
  app.use(compression());

  const openApi = JSON.stringify(buildOpenApiDocument());
  app.get("/healthz", healthHandler(opts.db.pool));
  app.use("/api", cors);
  app.get("/api/openapi.json", (_req, res) => {
    res.type("application/json").send(openApi);
  });
  app.use("/api/layers", express.json({ limit: "64kb" }), layersRouter(opts.catalog, opts.adminToken));
  app.use("/api/bim", bimRouter(new BimElementStore(opts.db)));
  app.use("/api/pipes", pipesRouter(new PipeGraphCache(opts.db)));
  app.use("/api", apiNotFound);

  if (opts.viewerDir !== undefined) app.use(viewerRoutes(opts.viewerDir));
  app.use((req, res) => {
    res.status(404).json({ error: `not found: ${req.method} ${req.path}` });
  });
  app.use(errorHandler(opts.logger));
  return app;
}
