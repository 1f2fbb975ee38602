import { mkdirSync } from "node:fs";
import { Server } from "node:net";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { keepSocketErrorsHandled } from "./socket-errors.ts";

export interface EmbeddedPostgres {
  /** postgres:// URL of the loopback socket in front of PGlite. */
  connectionString: string;
  stop(): Promise<void>;
}

/**
 * Starts PGlite on `dataDir` behind a loopback Postgres wire-protocol socket, so the rest of
 * the server talks to it with the same `pg` driver and SQL as to a real PostgreSQL.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  mkdirSync(dataDir, { recursive: true });
  let db: PGlite;
  try {
    db = await PGlite.create({ dataDir });
  } catch (err) {
    throw new Error(`cannot open the embedded database in ${dataDir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  // PGlite runs one query at a time; the pool keeps a single client, and a few spare socket
  // slots let the pool reconnect before the server has noticed the old socket is gone.
  const socketServer = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 4 });
  try {
    await socketServer.start();
  } catch (err) {
    await db.close();
    throw err;
  }
  // The library keeps its net.Server private; without it (another version) the sockets stay as the library leaves them.
  const netServer = (socketServer as unknown as { server?: unknown }).server;
  if (netServer instanceof Server) keepSocketErrorsHandled(netServer);
  return {
    connectionString: `postgres://postgres@${socketServer.getServerConn()}/postgres`,
    async stop() {
      await socketServer.stop();
      await db.close();
    },
  };
}
