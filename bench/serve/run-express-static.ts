/**
 * Child process for bench/serve.bench.ts: the baseline, a bare express 5 app with
 * express.static (defaults: weak ETag, Last-Modified, Range) serving the tileset at /tiles/bench/.
 * Usage: node --import tsx bench/serve/run-express-static.ts <tileset>
 */
import type { AddressInfo } from "node:net";
import express from "express";
import { runUntilParentStops } from "./child-lifecycle.ts";

const [tileset] = process.argv.slice(2);
if (!tileset) {
  process.stderr.write("usage: run-express-static.ts <tileset folder>\n");
  process.exit(2);
}

const app = express();
app.disable("x-powered-by");
app.use("/tiles/bench", express.static(tileset));
const server = app.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  server.keepAliveTimeout = 65_000;
  runUntilParentStops(
    `http://127.0.0.1:${port}`,
    () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
});
