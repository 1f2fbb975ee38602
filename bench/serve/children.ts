import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { createInterface } from "node:readline";

/** Line a node child prints on stdout once it listens: `BENCH_READY <url>`. */
export const READY_PREFIX = "BENCH_READY ";

const live = new Set<ChildProcess>();
let hooked = false;

/** Last-resort cleanup: whatever is still running when this process exits gets SIGKILL. */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
}

export interface SpawnedServer {
  name: string;
  child: ChildProcess;
  /** pid whose CPU time is measured (the process that serves). */
  pid: number;
  url: string;
  /** stderr tail, for error messages. */
  stderrTail(): string;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Resolve with the URL: node children print READY_PREFIX; others use `readyUrl` + polling. */
  readyUrl?: string;
  /** Polled (GET, expecting 200) when `readyUrl` is given. */
  probePath?: string;
  timeoutMs?: number;
}

/** Spawns a server process and waits until it serves. Rejects (and kills it) on early exit or timeout. */
export async function spawnServer(opts: SpawnOptions): Promise<SpawnedServer> {
  hookExit();
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    // stdin stays a pipe: node children exit when it closes (i.e. when this process dies).
    stdio: ["pipe", "pipe", "pipe"],
  });
  live.add(child);
  child.once("exit", () => live.delete(child));
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const stderrTail = () => stderr.trim();
  const timeoutMs = opts.timeoutMs ?? 60_000;

  const url = await new Promise<string>((resolve, reject) => {
    let settled = false;
    const onError = (err: Error) => fail(err);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(new Error(`exited early (code ${code}, signal ${signal})`));
    const timer = setTimeout(() => fail(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      child.off("error", onError);
      child.off("exit", onExit);
    };
    const fail = (err: Error) => {
      if (settled) return;
      settle();
      child.kill("SIGKILL");
      reject(new Error(`${opts.name} did not start: ${err.message}\n${stderrTail()}`));
    };
    const done = (value: string) => {
      if (settled) return;
      settle();
      resolve(value);
    };
    child.on("error", onError);
    child.on("exit", onExit);
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      if (line.startsWith(READY_PREFIX)) done(line.slice(READY_PREFIX.length).trim());
    });
    if (opts.readyUrl !== undefined) {
      const target = opts.readyUrl + (opts.probePath ?? "/");
      const poll = async () => {
        while (!settled) {
          const ok = await fetch(target, { signal: AbortSignal.timeout(1000) }).then(
            async (r) => {
              await r.arrayBuffer();
              return r.status === 200;
            },
            () => false,
          );
          if (ok) return done(opts.readyUrl!);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      void poll();
    }
  });
  // After start-up, errors surface as failed requests; keep them from crashing this process.
  child.on("error", () => {});
  if (child.pid === undefined) throw new Error(`${opts.name}: no pid`);
  return { name: opts.name, child, pid: child.pid, url, stderrTail };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export function stopServer(server: SpawnedServer, graceMs = 5000): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      live.delete(child);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** A free TCP port on 127.0.0.1 (for servers that cannot listen on port 0 and report it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error("no port"));
      });
    });
  });
}

export const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ on every mainstream build

/** User + system CPU seconds a process (all its threads) has used so far, from /proc. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Field 2 (comm) may contain spaces; fields after ")" start at field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

export interface MachineCpu {
  /** Jiffies per state, summed over all cores. */
  busy: number;
  idle: number;
  steal: number;
  softirq: number;
}

/** Whole-machine CPU counters from /proc/stat ("cpu" line). */
export function machineCpu(): MachineCpu {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0];
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal, softirq };
}
