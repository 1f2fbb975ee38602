import { randomBytes } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";

const PARTIAL = ".partial-";

/**
 * Builds an output folder beside its final place and renames it into place only when complete, so readers
 * never see a half-written tileset: a failed or killed run leaves --out as it was.
 */
export async function publishAtomically<T>(
  outDir: string,
  build: (workDir: string) => Promise<T>,
): Promise<T> {
  const target = resolve(outDir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  await removeStalePartials(parent, basename(target));
  const work = `${target}${PARTIAL}${process.pid}-${randomBytes(4).toString("hex")}`;
  await mkdir(work);
  // Synchronous on purpose: nothing else may write into the folder between removing it and exiting.
  const onSignal = (signal: NodeJS.Signals) => {
    rmSync(work, { recursive: true, force: true });
    process.exit(128 + (signal === "SIGINT" ? 2 : 15));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const result = await build(work);
    await swapInto(work, target);
    return result;
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw err;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}

async function swapInto(work: string, target: string): Promise<void> {
  if (!existsSync(target)) {
    await rename(work, target);
    return;
  }
  const old = `${target}.old-${process.pid}-${randomBytes(4).toString("hex")}`;
  await rename(target, old);
  try {
    await rename(work, target);
  } catch (err) {
    await rename(old, target);
    throw err;
  }
  await rm(old, { recursive: true, force: true });
}

/** Leftovers of runs that were killed (SIGKILL, power loss) whose process no longer exists. */
async function removeStalePartials(parent: string, name: string): Promise<void> {
  for (const entry of await readdir(parent)) {
    if (!entry.startsWith(name + PARTIAL) && !entry.startsWith(`${name}.old-`)) continue;
    const pid = Number(/-(\d+)-[0-9a-f]+$/.exec(entry)?.[1]);
    if (pid && pid !== process.pid && isAlive(pid)) continue;
    await rm(join(parent, entry), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
