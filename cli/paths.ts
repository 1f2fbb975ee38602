import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Project root, so the CLI finds the built viewer wherever it is started from. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const VIEWER_DIST = join(PROJECT_ROOT, "dist", "viewer");
/** Default folder for the embedded database and generated demo data (env CIM_DATA_DIR overrides). */
export const DEFAULT_DATA_DIR = process.env.CIM_DATA_DIR ?? join(PROJECT_ROOT, "data");
