import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  /** Share of all samples (including idle) spent in this function itself. */
  selfShare: number;
  selfMs: number;
  name: string;
}

/** Self time per function (name + file:line), largest first. */
export function summarizeProfile(profile: CpuProfile, cwd: string, top = 25): ProfileLine[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);
  const byName = new Map<string, number>();
  for (const [id, micros] of selfMicros) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) continue;
    const file = frame.url.startsWith("file://") ? relative(cwd, new URL(frame.url).pathname) : frame.url;
    const name = `${frame.functionName || "(anonymous)"}${file ? ` ${file}:${frame.lineNumber + 1}` : ""}`;
    byName.set(name, (byName.get(name) ?? 0) + micros);
  }
  return [...byName.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, micros]) => ({ name, selfMs: micros / 1000, selfShare: micros / total }));
}

/**
 * Reads the newest main-thread .cpuprofile in `dir` (names end in .<pid>.<threadId>.<seq>; the
 * tsx loader's worker thread writes one too) and formats its top self-time functions.
 */
export async function formatNewestProfile(dir: string, cwd: string): Promise<string> {
  const candidates = (await readdir(dir)).filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  const dated = await Promise.all(
    candidates.map(async (f) => ({ f, mtime: (await stat(join(dir, f))).mtimeMs })),
  );
  const newest = dated.sort((a, b) => a.mtime - b.mtime).at(-1)?.f;
  if (newest === undefined) return `no main-thread .cpuprofile in ${dir}`;
  const profile = JSON.parse(await readFile(join(dir, newest), "utf8")) as CpuProfile;
  const lines = summarizeProfile(profile, cwd).map(
    (l) => `${(l.selfShare * 100).toFixed(1).padStart(5)}%  ${l.selfMs.toFixed(0).padStart(7)} ms  ${l.name}`,
  );
  return [
    `top self time in ${join(dir, newest)} (main thread, whole child run, idle included):`,
    ...lines,
  ].join("\n");
}
