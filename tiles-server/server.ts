import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { pinoHttp } from "pino-http";
import type { RegisterLayer } from "../models/layer.ts";
import { AlarmEngine } from "./alarms/engine.ts";
import { wireAlarms } from "./alarms/wiring.ts";
import { createApiApp } from "./api/app.ts";
import { LayerCatalog, type RegisterResult } from "./catalog/layer-catalog.ts";
import { openDatabase } from "./db/database.ts";
import { DeviceStore } from "./iot/device-store.ts";
import { type MqttIngest, startEmbeddedBroker, subscribeExternal } from "./iot/mqtt.ts";
import { ReadingStore } from "./iot/reading-store.ts";
import { TelemetryService } from "./iot/telemetry-service.ts";
import { closeHttpServer, closeOnSignals } from "./shutdown.ts";
import { type TileFileCacheOptions, TileFileStore } from "./tiles/tile-files.ts";
import { createTileHandler } from "./tiles/tile-handler.ts";
import { WsHub } from "./ws/hub.ts";

export { LayerFolderError } from "./catalog/layer-folder.ts";
export type { LayerCatalog, RegisterResult };

export interface ServerOptions {
  /** Default: env PORT or 8080; 0 picks a free port. */
  port?: number;
  /** Default "0.0.0.0". */
  host?: string;
  /** Real PostgreSQL (may carry `?schema=name`); default env DATABASE_URL; absent: embedded PGlite. */
  databaseUrl?: string;
  /** Schema for our tables (overrides the URL's `schema`); default "public". */
  dbSchema?: string;
  /** Where the embedded database keeps its files, e.g. <project>/data/pglite. */
  dataDir: string;
  /** Built viewer served at "/" with index.html fallback. */
  viewerDir?: string;
  /** Folder served at /media/ (camera clips); absent: no /media route. */
  mediaDir?: string;
  /** Default env CIM_ADMIN_TOKEN; if unset, a random token is generated and printed once. */
  adminToken?: string;
  /** Request logging (default on). */
  logger?: boolean;
  /**
   * In-memory tile cache limits: body bytes (default env CIM_TILE_CACHE_MB, else 1/8 of RAM
   * within 64 MiB..1 GiB), largest file held in memory (1 MiB), files whose metadata is kept (100k).
   */
  tileCache?: TileFileCacheOptions;
  /**
   * External MQTT broker to take telemetry from (e.g. mqtt://127.0.0.1:1883); default env MQTT_URL.
   * Absent: an embedded broker (aedes) is started instead.
   */
  mqttUrl?: string;
  /**
   * Port of the embedded broker; default env CIM_MQTT_PORT, else 11883, or a free port (0) when
   * `port` is 0 so that parallel test servers never collide.
   */
  mqttPort?: number;
  /** Client id of the persistent session on the external broker; default env CIM_MQTT_CLIENT_ID or "cim-twin-ingest". */
  mqttClientId?: string;
  /** Days of readings kept (0 = all); default env CIM_READINGS_RETENTION_DAYS or 365. */
  readingsRetentionDays?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  adminToken: string;
  /** The layer catalog, for in-process registration (see registerLayerFolder). */
  catalog: LayerCatalog;
  /** Where devices publish telemetry: the embedded broker, or the external MQTT_URL. */
  mqttUrl: string;
  /**
   * In-process IoT services: `telemetry.onCommitted(listener)` receives every committed batch of
   * readings, `telemetry.onLive(listener)` every valid reading on arrival; `hub.broadcast(channel, message, filter)` pushes other live messages (e.g. alarms) on /ws.
   */
  iot: { devices: DeviceStore; readings: ReadingStore; telemetry: TelemetryService; hub: WsHub };
  close(): Promise<void>;
}

function resolveMqttPort(explicit: number | undefined, httpPort: number): number {
  if (explicit !== undefined) return explicit;
  const fromEnv = process.env.CIM_MQTT_PORT;
  if (fromEnv === undefined || fromEnv === "") return httpPort === 0 ? 0 : 11883;
  const parsed = Number(fromEnv);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) {
    throw new Error(`CIM_MQTT_PORT must be an integer 0-65535, got "${fromEnv}"`);
  }
  return parsed;
}

function resolvePort(port: number | undefined): number {
  if (port !== undefined) return port;
  const fromEnv = process.env.PORT;
  if (fromEnv === undefined || fromEnv === "") return 8080;
  const parsed = Number(fromEnv);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) {
    throw new Error(`PORT must be an integer 0-65535, got "${fromEnv}"`);
  }
  return parsed;
}

function resolveAdminToken(explicit: string | undefined): string {
  const token = explicit ?? process.env.CIM_ADMIN_TOKEN;
  if (token) return token;
  const generated = randomBytes(24).toString("base64url");
  process.stdout.write(
    `CIM admin token (generated for this run; set CIM_ADMIN_TOKEN to choose one): ${generated}\n`,
  );
  return generated;
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function publicUrl(host: string, port: number): string {
  if (host === "0.0.0.0" || host === "::" || host === "") return `http://127.0.0.1:${port}`;
  return host.includes(":") ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

/** Starts the catalog database, the tile server and the API; resolves once listening. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const port = resolvePort(opts.port);
  const host = opts.host ?? "0.0.0.0";
  const logger = pino({
    enabled: opts.logger !== false,
    level: process.env.LOG_LEVEL ?? "info",
    // Request logs must not carry the admin or device tokens.
    redact: ["req.headers.authorization", "req.headers.cookie"],
  });

  const db = await openDatabase({
    databaseUrl: opts.databaseUrl ?? (process.env.DATABASE_URL || undefined),
    dataDir: opts.dataDir,
    schema: opts.dbSchema,
  });
  const catalog = new LayerCatalog(db);
  const devices = new DeviceStore(db);
  const readings = new ReadingStore(db);
  let server: Server | undefined;
  let telemetry: TelemetryService | undefined;
  let hub: WsHub | undefined;
  let mqtt: MqttIngest | undefined;
  let unwireAlarms: (() => void) | undefined;
  const alarms = new AlarmEngine(db, logger);
  try {
    await catalog.start();
    telemetry = new TelemetryService({
      devices,
      readings,
      logger,
      retentionDays: opts.readingsRetentionDays,
      // PGlite runs one statement at a time: a second writer would only queue behind the first.
      writers: db.embedded ? 1 : 2,
    });
    await telemetry.start();
    hub = new WsHub({ logger, deviceInfo: (id) => devices.cached(id) });
    const liveHub = hub;
    telemetry.onLive((batch) => liveHub.publishReadings(batch));
    // Committed readings are judged against the alarm rules; alarm events go live on /ws.
    unwireAlarms = wireAlarms({ engine: alarms, telemetry, hub, logger });
    const adminToken = resolveAdminToken(opts.adminToken);
    const tiles = createTileHandler({ catalog, files: new TileFileStore(opts.tileCache), logger });
    const app = createApiApp({
      catalog,
      db,
      adminToken,
      viewerDir: opts.viewerDir,
      mediaDir: opts.mediaDir,
      logger,
      alarms,
      iot: { devices, readings, telemetry, hub },
      requestLogger:
        opts.logger === false
          ? undefined
          : pinoHttp({ logger, autoLogging: { ignore: (req) => req.url === "/healthz" } }),
    });
    const httpServer = createServer((req, res) => {
      if (req.url?.startsWith("/tiles/")) tiles(req, res);
      else app(req, res);
    });
    server = httpServer;
    hub.attach(httpServer);
    // Longer than typical browser/proxy idle timeouts so keep-alive sockets are reused, not raced.
    httpServer.keepAliveTimeout = 65_000;
    const address = await listen(httpServer, port, host);
    const mqttUrl = opts.mqttUrl ?? (process.env.MQTT_URL || undefined);
    mqtt = mqttUrl
      ? await subscribeExternal({
          service: telemetry,
          logger,
          url: mqttUrl,
          clientId: opts.mqttClientId ?? (process.env.CIM_MQTT_CLIENT_ID || "cim-twin-ingest"),
        })
      : await startEmbeddedBroker({
          service: telemetry,
          logger,
          host,
          port: resolveMqttPort(opts.mqttPort, port),
        });

    const running = { telemetry, hub, mqtt, unwireAlarms };
    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        // Commit what is in flight first (its acknowledgements still go out), then stop intake.
        await running.telemetry.stop();
        running.unwireAlarms();
        await alarms.idle();
        await running.mqtt.close();
        running.hub.close();
        await closeHttpServer(httpServer);
        catalog.stop();
        await db.close();
        logger.flush();
      })();
      return closing;
    };
    logger.info({ url: publicUrl(host, address.port), embeddedDb: db.embedded }, "server listening");
    return {
      url: publicUrl(host, address.port),
      port: address.port,
      adminToken,
      catalog,
      mqttUrl: mqtt.url,
      iot: { devices, readings, telemetry, hub },
      close,
    };
  } catch (err) {
    await telemetry?.stop(0);
    unwireAlarms?.();
    await alarms.idle();
    await mqtt?.close();
    hub?.close();
    catalog.stop();
    if (server?.listening) await closeHttpServer(server);
    await db.close();
    throw err;
  }
}

/**
 * Registers an ingested folder on a running server without HTTP (used by `cim demo`).
 * Throws LayerFolderError (message names the file at fault) for an invalid folder.
 */
export function registerLayerFolder(server: RunningServer, layer: RegisterLayer): Promise<RegisterResult> {
  return server.catalog.register(layer);
}

/** Wires SIGINT/SIGTERM to `server.close()` then exits; for the CLI. Returns an unhook function. */
export function closeServerOnSignals(server: RunningServer): () => void {
  return closeOnSignals(() => server.close());
}
