// TEMP dev harness (deleted before finishing): ours only, one scenario, optional profile.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnServer, stopServer } from "./children.ts";
import { ensureDataset, seededShuffle } from "./dataset.ts";
import { runLoad } from "./load.ts";
import { formatNewestProfile } from "./profile-summary.ts";

const root = "/work/main";
const scen = process.env.SCEN ?? "small";
const secs = Number(process.env.SECS ?? 6);
const prof = process.env.PROF === "1";
const ds = await ensureDataset(join(root, "bench/.out"), undefined, () => {});
const smallSet = seededShuffle(ds.small, 7).slice(0, 2000);
const files = scen === "small" ? smallSet : scen === "hot" ? smallSet.slice(0, 200) : ds.large;
const tmp = mkdtempSync(join(tmpdir(), "devours-"));
const profDir = "/tmp/devprof";
const s = await spawnServer({
  name: "ours",
  command: process.execPath,
  args: [
    ...(prof ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : []),
    "--import",
    "tsx",
    join(root, "bench/serve/run-ours.ts"),
    ds.root,
    join(tmp, "pg"),
  ],
  cwd: root,
  env: { ...process.env, NODE_ENV: "production", LOG_LEVEL: "warn" },
});
const spec = (d: number) => ({
  name: scen,
  paths: files.map((f) => `/tiles/bench/${f.path}`),
  connections: scen === "large" ? 4 : 32,
  durationSeconds: d,
});
await runLoad("ours", s.url, s.pid, spec(3));
for (let i = 0; i < Number(process.env.ROUNDS ?? 1); i++) {
  const r = await runLoad("ours", s.url, s.pid, spec(secs));
  console.log(
    `${scen}: ${r.requestsPerSecond.toFixed(0)} req/s ${r.megabytesPerSecond.toFixed(0)} MB/s ${r.serverCpuMicrosPerRequest.toFixed(0)} us/req srv ${(r.serverCpuCores * 100).toFixed(0)}% client ${(r.clientCpuCores * 100).toFixed(0)}% other ${(r.otherCores * 100).toFixed(0)}% p99 ${r.latencyP99Ms}`,
  );
}
await stopServer(s);
rmSync(tmp, { recursive: true, force: true });
if (prof) console.log(await formatNewestProfile(profDir, root));
