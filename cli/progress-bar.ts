import cliProgress from "cli-progress";

/** A progress bar on stderr per phase; in a non-interactive log it prints a line every few seconds instead. */
export function createProgressReporter(labels: Record<string, string>) {
  let bar: cliProgress.SingleBar | undefined;
  let phase = "";
  return {
    update(p: { phase: string; done: number; total: number }): void {
      if (p.phase !== phase) {
        bar?.stop();
        phase = p.phase;
        bar = new cliProgress.SingleBar(
          {
            format: `${(labels[p.phase] ?? p.phase).padEnd(10)} [{bar}] {percentage}% | {value}/{total} | {eta_formatted}`,
            stream: process.stderr,
            noTTYOutput: true,
            notTTYSchedule: 5000,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.total, 0);
      }
      bar?.setTotal(p.total);
      bar?.update(p.done);
    },
    stop(): void {
      bar?.stop();
      bar = undefined;
    },
  };
}
