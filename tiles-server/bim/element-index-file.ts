import { access } from "node:fs/promises";
import { join } from "node:path";
import { BIM_ELEMENT_INDEX_FILE, type BimElement, BimElementIndexSchema } from "../../models/bim.ts";
import { LayerFolderError, readJsonFile } from "../catalog/layer-folder.ts";

/** At most this many problems are spelled out in the error message (all are in `details`). */
const MAX_LISTED_ISSUES = 10;

type IssuePath = readonly PropertyKey[];

/** `elements[12].bbox` rather than `elements.12.bbox`, so the element index stands out. */
function formatPath(path: IssuePath): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out || "(root)";
}

function describeElement(raw: unknown, path: IssuePath): string {
  if (path[0] !== "elements" || typeof path[1] !== "number" || !Array.isArray(raw)) return "";
  const element = raw[path[1]] as { globalId?: unknown } | undefined;
  return typeof element?.globalId === "string" ? ` (GlobalId "${element.globalId.slice(0, 64)}")` : "";
}

/**
 * Reads and validates `<root>/elements.json`, the element index of a BIM layer. Throws
 * LayerFolderError naming the file and, for bad content, the element index and field.
 */
export async function readBimElementIndex(root: string): Promise<BimElement[]> {
  const file = join(root, BIM_ELEMENT_INDEX_FILE);
  try {
    await access(file);
  } catch {
    throw new LayerFolderError(
      `${file} is missing: a layer of type "bim" needs its element index (${BIM_ELEMENT_INDEX_FILE}) next to layer.json`,
    );
  }
  const raw = await readJsonFile(file);
  const parsed = BimElementIndexSchema.safeParse(raw);
  if (!parsed.success) {
    const elements = (raw as { elements?: unknown } | null)?.elements;
    const issues = parsed.error.issues;
    const listed = issues
      .slice(0, MAX_LISTED_ISSUES)
      .map((i) => `${formatPath(i.path)}${describeElement(elements, i.path)}: ${i.message}`);
    if (issues.length > MAX_LISTED_ISSUES) listed.push(`and ${issues.length - MAX_LISTED_ISSUES} more`);
    throw new LayerFolderError(`${file} is not a valid BIM element index: ${listed.join("; ")}`, {
      file,
      issues: issues.slice(0, 100),
    });
  }
  return parsed.data.elements;
}
