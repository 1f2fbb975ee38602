/**
 * Child process for bench/serve.bench.ts: our tiles-server (embedded PGlite) with the bench
 * tileset registered as layer "bench". Usage: node --import tsx bench/serve/run-ours.ts <tileset> <dataDir>
 */
import { registerLayerFolder, startServer } from "../../tiles-server/server.ts";
import { runUntilParentStops } from "./child-lifecycle.ts";

const [tileset, dataDir] = process.argv.slice(2);
if (!tileset || !dataDir) {
  process.stderr.write("usage: run-ours.ts <tileset folder> <pglite data dir>\n");
  process.exit(2);
}

const server = await startServer({
  port: 0,
  host: "127.0.0.1",
  dataDir,
  logger: false,
  adminToken: "bench-not-secret",
});
await registerLayerFolder(server, { path: tileset, id: "bench" });
runUntilParentStops(server.url, () => server.close());
