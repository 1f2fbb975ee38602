import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

/**
 * Global setup: a folder for the demo data that browser tests copy instead of generating the demo city
 * again in every suite (see demo-session.ts). Made lazily by the first suite that needs it, removed at
 * the end of the run, so it never outlives the code that generated it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), "cim-demo-template-"));
  project.provide("demoTemplateDir", dir);
  return () => rm(dir, { recursive: true, force: true });
}

declare module "vitest" {
  export interface ProvidedContext {
    demoTemplateDir: string;
  }
}
