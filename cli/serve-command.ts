import type { Command } from "commander";
import { closeServerOnSignals, startServer } from "../tiles-server/server.ts";
import { startDemo } from "./demo.ts";
import { DEFAULT_DATA_DIR } from "./paths.ts";
import { ensureViewerBuilt } from "./viewer-build.ts";

export function registerServeCommands(program: Command): void {
  program
    .command("serve")
    .description("serve the viewer, tiles and API (PORT, DATABASE_URL, CIM_ADMIN_TOKEN from the environment)")
    .option("--port <port>", "port (default: env PORT or 8080)")
    .option("--data-dir <dir>", "folder for the embedded database", DEFAULT_DATA_DIR)
    .action(async (o: { port?: string; dataDir: string }) => {
      const viewerDir = await ensureViewerBuilt((l) => process.stdout.write(`${l}\n`));
      const server = await startServer({
        port: o.port === undefined ? undefined : Number(o.port),
        dataDir: `${o.dataDir}/pglite`,
        viewerDir,
      });
      closeServerOnSignals(server);
      process.stdout.write(`CIM Twin serving at ${server.url}/\n`);
    });

  program
    .command("demo")
    .description("generate the built-in demo city (once), then serve it: what `npm start` runs")
    .option("--port <port>", "port (default: env PORT or 8080)")
    .option("--data-dir <dir>", "folder for the embedded database and demo data", DEFAULT_DATA_DIR)
    .action(async (o: { port?: string; dataDir: string }) => {
      const server = await startDemo({
        port: o.port === undefined ? undefined : Number(o.port),
        dataDir: o.dataDir,
      });
      closeServerOnSignals(server);
    });
}
