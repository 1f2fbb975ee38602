import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { get } from "node:http";
import { join } from "node:path";
import autocannon from "autocannon";
import { CLOCK_TICKS_PER_SECOND, machineCpu, processCpuSeconds } from "./children.ts";
import type { DatasetFile } from "./dataset.ts";

export interface LoadSpec {
  /** Scenario name, e.g. "small". */
  name: string;
  /** URL paths to request, in order; each connection starts at a different offset. */
  paths: string[];
  connections: number;
  durationSeconds: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  /** Response bytes per second (headers + bodies), 1 MB = 1e6 bytes. */
  megabytesPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  completedRequests: number;
  durationSeconds: number;
  /** CPU of the serving process during the run, as a share of one core (1 = 100 %). */
  serverCpuCores: number;
  /** Server CPU time per completed request, microseconds. */
  serverCpuMicrosPerRequest: number;
  /** CPU of this (load generator) process during the run, as a share of one core. */
  clientCpuCores: number;
  /** CPU used by other processes on the machine (neither server nor load generator), in cores. */
  otherCores: number;
  /** Whole machine during the run, in cores: busy (incl. softirq), idle, stolen by the hypervisor. */
  machine: { busyCores: number; idleCores: number; stealCores: number; softirqCores: number };
}

export class LoadError extends Error {}

/**
 * autocannon accumulates every response body into a string (`body += chunk`), which for
 * 20-500 KB binary bodies costs a UTF-8 decode and a concat per chunk and made the load
 * generator, not the server, the bottleneck. Bodies are not needed (status and byte counts
 * are), so the per-client queue drops them.
 */
function dropBodies(client: autocannon.Client): void {
  const queue = (client as unknown as { pipelinedRequests?: { addBody?: (data: unknown) => void } })
    .pipelinedRequests;
  if (queue?.addBody === undefined) throw new Error("autocannon internals changed: no pipelinedRequests");
  queue.addBody = () => {};
}

/** Runs autocannon against `baseUrl` and fails loudly on any error, timeout or non-200 answer. */
export async function runLoad(
  serverName: string,
  baseUrl: string,
  serverPid: number,
  spec: LoadSpec,
): Promise<LoadResult> {
  if (spec.paths.length === 0) throw new Error(`${spec.name}: no paths`);
  const requests = spec.paths.map((path) => ({ method: "GET", path }));
  let clientIndex = 0;
  const setupClient = (client: autocannon.Client) => {
    dropBodies(client);
    // Rotate the list per connection so connections do not walk the same files in lockstep.
    const offset = Math.floor((clientIndex++ * requests.length) / spec.connections) % requests.length;
    client.setRequests([...requests.slice(offset), ...requests.slice(0, offset)]);
  };

  const machineBefore = machineCpu();
  const serverCpuBefore = processCpuSeconds(serverPid);
  const clientCpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const result = await autocannon({
    url: baseUrl,
    connections: spec.connections,
    duration: spec.durationSeconds,
    pipelining: 1,
    timeout: 10,
    // No Accept-Encoding (autocannon sends only Host): every server answers identity bytes.
    headers: {},
    requests,
    setupClient,
  });
  const wallSeconds = (performance.now() - wallBefore) / 1000;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const serverCpuSeconds = processCpuSeconds(serverPid) - serverCpuBefore;
  const machineAfter = machineCpu();
  const cores = (key: keyof typeof machineAfter) =>
    (machineAfter[key] - machineBefore[key]) / CLOCK_TICKS_PER_SECOND / wallSeconds;

  const statuses = Object.entries(result.statusCodeStats)
    .map(([status, { count }]) => `${status}: ${count}`)
    .join(", ");
  const bad = Object.keys(result.statusCodeStats).filter((status) => status !== "200");
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0 || bad.length > 0) {
    throw new LoadError(
      `${serverName} / ${spec.name}: ${result.errors} errors, ${result.timeouts} timeouts, ` +
        `${result.non2xx} non-2xx (status counts: ${statuses || "none"})`,
    );
  }
  const completed = result.requests.total;
  if (completed === 0) throw new LoadError(`${serverName} / ${spec.name}: no request completed`);

  return {
    requestsPerSecond: result.requests.average,
    megabytesPerSecond: result.throughput.average / 1e6,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMaxMs: result.latency.max,
    completedRequests: completed,
    durationSeconds: result.duration,
    serverCpuCores: serverCpuSeconds / wallSeconds,
    serverCpuMicrosPerRequest: (serverCpuSeconds * 1e6) / completed,
    clientCpuCores: (clientCpu.user + clientCpu.system) / 1e6 / wallSeconds,
    otherCores: Math.max(
      0,
      cores("busy") -
        serverCpuSeconds / wallSeconds -
        (clientCpu.user + clientCpu.system) / 1e6 / wallSeconds,
    ),
    machine: {
      busyCores: cores("busy"),
      idleCores: cores("idle"),
      stealCores: cores("steal"),
      softirqCores: cores("softirq"),
    },
  };
}

interface Fetched {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** GET without Accept-Encoding (fetch() would add one) on a fresh connection. */
function httpGet(url: string): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", reject);
  });
}

const sha1 = (data: Buffer) => createHash("sha1").update(data).digest("hex");

/**
 * Before measuring: each server must answer tileset.json and a sample of tiles with status 200
 * and exactly the bytes on disk (no content-encoding), or the comparison would be meaningless.
 */
export async function verifyServer(
  serverName: string,
  baseUrl: string,
  urlPrefix: string,
  root: string,
  samples: DatasetFile[],
): Promise<void> {
  for (const file of [{ path: "tileset.json", size: -1 }, ...samples]) {
    const url = `${baseUrl}${urlPrefix}${file.path}`;
    const res = await httpGet(url);
    if (res.status !== 200) throw new LoadError(`${serverName}: GET ${url} -> ${res.status}`);
    if (res.headers["content-encoding"] !== undefined) {
      throw new LoadError(`${serverName}: GET ${url} was ${res.headers["content-encoding"]}-encoded`);
    }
    const expected = await readFile(join(root, file.path));
    if (res.body.length !== expected.length || sha1(res.body) !== sha1(expected)) {
      throw new LoadError(`${serverName}: GET ${url} body differs from the file on disk`);
    }
  }
}
