import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { pinoHttp } from "pino-http";
import type { RegisterLayer } from "../models/layer.ts";
import { createApiApp } from "./api/app.ts";
import { LayerCatalog, type RegisterResult } from "./catalog/layer-catalog.ts";
import { openDatabase } from "./db/database.ts";
import { closeHttpServer, closeOnSignals } from "./shutdown.ts";
import { type TileFileCacheOptions, TileFileStore } from "./tiles/tile-files.ts";
import { createTileHandler } from "./tiles/tile-handler.ts";

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
  /** Default env CIM_ADMIN_TOKEN; if unset, a random token is generated and printed once. */
  adminToken?: string;
  /** Request logging (default on). */
  logger?: boolean;
  /**
   * In-memory tile cache limits: body bytes (default env CIM_TILE_CACHE_MB, else 1/8 of RAM
   * within 64 MiB..1 GiB), largest file held in memory (1 MiB), files whose metadata is kept (100k).
   */
  tileCache?: TileFileCacheOptions;
}

export interface RunningServer {
  url: string;
  port: number;
  adminToken: string;
  /** The layer catalog, for in-process registration (see registerLayerFolder). */
  catalog: LayerCatalog;
  close(): Promise<void>;
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
  const logger = pino({ enabled: opts.logger !== false, level: process.env.LOG_LEVEL ?? "info" });

  const db = await openDatabase({
    databaseUrl: opts.databaseUrl ?? (process.env.DATABASE_URL || undefined),
    dataDir: opts.dataDir,
    schema: opts.dbSchema,
  });
  const catalog = new LayerCatalog(db);
  let server: Server | undefined;
  try {
    await catalog.start();
    const adminToken = resolveAdminToken(opts.adminToken);
    const tiles = createTileHandler({ catalog, files: new TileFileStore(opts.tileCache), logger });
    const app = createApiApp({
      catalog,
      db,
      adminToken,
      viewerDir: opts.viewerDir,
      logger,
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
    // Longer than typical browser/proxy idle timeouts so keep-alive sockets are reused, not raced.
    httpServer.keepAliveTimeout = 65_000;
    const address = await listen(httpServer, port, host);

    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        await closeHttpServer(httpServer);
        catalog.stop();
        await db.close();
        logger.flush();
      })();
      return closing;
    };
    logger.info({ url: publicUrl(host, address.port), embeddedDb: db.embedded }, "server listening");
    return { url: publicUrl(host, address.port), port: address.port, adminToken, catalog, close };
  } catch (err) {
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
