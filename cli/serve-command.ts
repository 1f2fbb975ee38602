import type { Command } from "commander";
import { DEFAULT_DATA_DIR } from "./paths.ts";

// Commands load their modules when they run: every `cim` call would otherwise pay for loading the server, the
// viewer build and all ingest pipelines, seconds on a busy machine.

export function registerServeCommands(program: Command): void {
  program
    .command("serve")
    .description("serve the viewer, tiles and API (PORT, DATABASE_URL, CIM_ADMIN_TOKEN from the environment)")
    .option("--port <port>", "port (default: env PORT or 8080)")
    .option("--data-dir <dir>", "folder for the embedded database", DEFAULT_DATA_DIR)
    .action(async (o: { port?: string; dataDir: string }) => {
      const { ensureViewerBuilt } = await import("./viewer-build.ts");
      const { closeServerOnSignals, startServer } = await import("../tiles-server/server.ts");
      const viewerDir = await ensureViewerBuilt((l) => process.stdout.write(`${l}\n`));
      const server = await startServer({
        port: o.port === undefined ? undefined : Number(o.port),
        dataDir: `${o.dataDir}/pglite`,
        viewerDir,
      });
      closeServerOnSignals(server);
      process.stdout.write(`CIM Twin serving at ${server.url}/\n`);
      process.stdout.write(`MQTT telemetry: ${server.mqttUrl} (topic cim/<deviceId>/telemetry)\n`);
    });

  program
    .command("demo")
    .description("generate the built-in demo city (once), then serve it: what `npm start` runs")
    .option("--port <port>", "port (default: env PORT or 8080)")
    .option("--data-dir <dir>", "folder for the embedded database and demo data", DEFAULT_DATA_DIR)
    .action(async (o: { port?: string; dataDir: string }) => {
      const { startDemo } = await import("./demo.ts");
      const { closeServerOnSignals } = await import("../tiles-server/server.ts");
      const server = await startDemo({
        port: o.port === undefined ? undefined : Number(o.port),
        dataDir: o.dataDir,
      });
      closeServerOnSignals(server);
    });
}
