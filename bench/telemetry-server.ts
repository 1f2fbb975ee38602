/**
 * Child process of bench/telemetry.bench.ts: one CIM server (real PostgreSQL schema from argv,
 * MQTT_URL or the embedded broker), so the load generator does not share its event loop.
 * Prints {"url","mqttUrl"} as one JSON line once listening; stops on SIGTERM.
 */
import { startServer } from "../tiles-server/server.ts";

const [databaseUrl, schema, mqttUrl, clientId, dataDir] = process.argv.slice(2);
const server = await startServer({
  databaseUrl: databaseUrl || undefined,
  dbSchema: schema,
  // Used only without databaseUrl (embedded PGlite).
  dataDir: dataDir || "/tmp/cim-bench-pglite-unused",
  port: 0,
  host: "127.0.0.1",
  adminToken: "bench-admin-token-0123456789",
  logger: false,
  mqttUrl: mqttUrl || undefined,
  mqttClientId: clientId,
});
process.stdout.write(`${JSON.stringify({ url: server.url, mqttUrl: server.mqttUrl })}\n`);
process.on("SIGTERM", () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
