import { spawn } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "./shared-data.ts";

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  env?: NodeJS.ProcessEnv;
  /** Sends `signal` (default SIGKILL) once stderr matches, e.g. when a phase has started. */
  killWhenStderr?: RegExp;
  signal?: NodeJS.Signals;
}

/** Runs the real `cim` executable as a user would. */
export function runCli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, "bin", "cim.js"), ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...opts.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    let signalled = false;
    child.stderr.on("data", (d) => {
      stderr += d;
      if (!signalled && opts.killWhenStderr?.test(stderr)) {
        signalled = true;
        child.kill(opts.signal ?? "SIGKILL");
      }
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}
