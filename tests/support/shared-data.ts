import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe } from "vitest";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Real sample data beside the project root (never copied into the repository). */
export const SHARED_DATA = resolve(PROJECT_ROOT, "..", "shared", "data");

export function sharedPath(relative: string): string {
  return join(SHARED_DATA, relative);
}

const available = existsSync(SHARED_DATA);
if (!available && process.env.CI !== "true") {
  process.stderr.write(`note: ${SHARED_DATA} is absent: tests on shared sample data are skipped\n`);
}

/** describe() for suites that need ../shared/data: skipped in a bare clone, never skipped in CI. */
export const describeWithSharedData = available || process.env.CI === "true" ? describe : describe.skip;
