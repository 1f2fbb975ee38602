/**
 * Runs the Khronos glTF-Validator on one content file. Only severity-0 issues count as errors. The validator
 * (2.0.0-dev.3.10) does not know EXT_mesh_features / EXT_structural_metadata: it reports them as
 * UNSUPPORTED_EXTENSION and the property-table buffer views as UNUSED_OBJECT, both at info severity, so they
 * never reach the error list.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import validator from "gltf-validator";

export interface ValidationOutcome {
  errors: string[];
  warnings: string[];
}

export async function validateContent(
  bytes: Uint8Array,
  uri: string,
  file: string,
): Promise<ValidationOutcome> {
  const outcome: ValidationOutcome = { errors: [], warnings: [] };
  try {
    const report = await validator.validateBytes(bytes, {
      uri,
      maxIssues: 0,
      writeTimestamp: false,
      externalResourceFunction: async (ref) =>
        new Uint8Array(await readFile(resolve(dirname(file), decodeURIComponent(ref)))),
    });
    for (const m of report.issues.messages) {
      const line = `${uri}: gltf-validator ${m.code}${m.pointer ? ` at ${m.pointer}` : ""}: ${m.message}`;
      if (m.severity === 0) outcome.errors.push(line);
      else if (m.severity === 1) outcome.warnings.push(line);
    }
  } catch (e) {
    // The validator rejects (rather than reporting) when it cannot even detect the format.
    outcome.errors.push(`${uri}: gltf-validator could not read the asset: ${String(e)}`);
  }
  return outcome;
}
