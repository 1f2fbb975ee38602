import { existsSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import compression from "compression";
import express, { type ErrorRequestHandler, type RequestHandler } from "express";
import type { Logger } from "pino";
import { AlarmQueries } from "../alarms/alarm-queries.ts";
import { AlarmEngine } from "../alarms/engine.ts";
import { BimElementStore } from "../bim/element-store.ts";
import { CameraStore } from "../cameras/camera-store.ts";
import type { LayerCatalog } from "../catalog/layer-catalog.ts";
import { CitySummaryQueries } from "../cockpit/city-summary.ts";
import type { Database } from "../db/database.ts";
import { answerPreflight, CORS_HEADERS } from "../http/cors.ts";
import type { DeviceStore } from "../iot/device-store.ts";
import { LatestValues } from "../iot/latest-values.ts";
import type { ReadingStore } from "../iot/reading-store.ts";
import type { TelemetryService } from "../iot/telemetry-service.ts";
import { PipeGraphCache } from "../pipes/graph-cache.ts";
import type { WsHub } from "../ws/hub.ts";
import { alarmRulesRouter, alarmsRouter } from "./alarms-router.ts";
import { bimRouter } from "./bim-router.ts";
import { camerasRouter } from "./cameras-router.ts";
import { cockpitRouter } from "./cockpit-router.ts";
import { devicesRouter } from "./devices-router.ts";
import { healthHandler } from "./health.ts";
import { layersRouter } from "./layers-router.ts";
import { buildOpenApiDocument } from "./openapi.ts";
import { pipesRouter } from "./pipes-router.ts";
import { sensorsRouter } from "./sensors-router.ts";
import { telemetryRouter } from "./telemetry-router.ts";

export interface ApiAppOptions {
  catalog: LayerCatalog;
  db: Database;
  adminToken: string;
  viewerDir?: string;
  /** Folder served read-only at /media/ (camera clips: HLS playlists and segments, MP4), with Range support. */
  mediaDir?: string;
  /** pino-http middleware, or undefined to log nothing per request. */
  requestLogger?: RequestHandler;
  logger: Logger;
  /** Device registry, telemetry ingest and readings history (absent: those endpoints answer 404). */
  iot?: { devices: DeviceStore; readings: ReadingStore; telemetry: TelemetryService; hub: WsHub };
  /** Rule engine and alarm lifecycle (the server wires telemetry and the WebSocket to it); default: a new one. */
  alarms?: AlarmEngine;
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
  const cockpitHtml = join(root, "cockpit.html");
  // The leaders' cockpit (大屏) is the build's second page. Its asset URLs are relative ("./assets/..."), so
  // "/cockpit/" is redirected to "/cockpit", where they resolve at the root like the main page's.
  const cockpit: RequestHandler = (req, res, next) => {
    if (req.method !== "GET" && req.method !== "HEAD") return next();
    if (req.path === "/cockpit/") {
      const query = req.originalUrl.split("?")[1];
      return res.redirect(301, query ? `/cockpit?${query}` : "/cockpit");
    }
    if (req.path !== "/cockpit" || !existsSync(cockpitHtml)) return next();
    res.set("cache-control", "no-cache").sendFile(cockpitHtml);
  };
  const fallback: RequestHandler = (req, res, next) => {
    if ((req.method !== "GET" && req.method !== "HEAD") || !existsSync(indexHtml)) return next();
    res.set("cache-control", "no-cache").sendFile(indexHtml);
  };
  return [cockpit, express.static(root, { index: "index.html", fallthrough: true }), fallback];
}

/** Players need exact types: hls.js and Safari check the playlist's, MSE the segments'. */
const MEDIA_TYPES: Record<string, string> = {
  ".m3u8": "application/vnd.apple.mpegurl",
  ".ts": "video/mp2t",
  ".m4s": "video/iso.segment",
  ".mp4": "video/mp4",
  ".webm": "video/webm",
};

function mediaRoutes(mediaDir: string): RequestHandler[] {
  const files = express.static(resolve(mediaDir), {
    index: false,
    dotfiles: "ignore",
    // Clips are regenerated in place (same names) when the demo changes: revalidate by ETag.
    cacheControl: false,
    setHeaders(res, path) {
      const type = MEDIA_TYPES[extname(path).toLowerCase()];
      if (type) res.setHeader("Content-Type", type);
      res.setHeader("Cache-Control", "no-cache");
    },
  });
  const notFound: RequestHandler = (req, res) => {
    res.status(404).json({ error: `no media file ${req.path}` });
  };
  return [cors, files, notFound];
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
  const alarms = opts.alarms ?? new AlarmEngine(opts.db, opts.logger);
  const alarmQueries = new AlarmQueries(opts.db);
  app.use(
    "/api/alarms",
    express.json({ limit: "64kb" }),
    alarmsRouter(alarms, alarmQueries, opts.adminToken),
  );
  app.use("/api/alarm-rules", express.json({ limit: "64kb" }), alarmRulesRouter(alarms, opts.adminToken));
  const cameras = new CameraStore(opts.db);
  app.use("/api/cameras", express.json({ limit: "64kb" }), camerasRouter(cameras, opts.adminToken));
  app.use("/api/cockpit", cockpitRouter(opts.db, new CitySummaryQueries(opts.db, alarmQueries, cameras)));
  if (opts.iot) {
    const { devices, readings, telemetry, hub } = opts.iot;
    app.use("/api/devices", devicesRouter(devices, opts.adminToken));
    app.use(
      "/api/telemetry",
      telemetryRouter({ service: telemetry, devices, hub, adminToken: opts.adminToken }),
    );
    app.use("/api/sensors", sensorsRouter(devices, readings, new LatestValues(opts.db)));
  }
  app.use("/api", apiNotFound);

  if (opts.mediaDir !== undefined) app.use("/media", mediaRoutes(opts.mediaDir));
  if (opts.viewerDir !== undefined) app.use(viewerRoutes(opts.viewerDir));
  app.use((req, res) => {
    res.status(404).json({ error: `not found: ${req.method} ${req.path}` });
  });
  app.use(errorHandler(opts.logger));
  return app;
}
