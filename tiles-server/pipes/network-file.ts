import { access } from "node:fs/promises";
import { join } from "node:path";
import { PIPE_NETWORK_INDEX_FILE } from "../../models/pipe-analysis.ts";
import { type NetworkIndex, NetworkIndexSchema } from "../../models/pipes.ts";
import { LayerFolderError, readJsonFile } from "../catalog/layer-folder.ts";

const MAX_LISTED_ISSUES = 10;

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out || "(root)";
}

interface Issue {
  path: (string | number)[];
  message: string;
}

function fail(file: string, issues: Issue[]): never {
  const listed = issues.slice(0, MAX_LISTED_ISSUES).map((i) => `${formatPath(i.path)}: ${i.message}`);
  if (issues.length > MAX_LISTED_ISSUES) listed.push(`and ${issues.length - MAX_LISTED_ISSUES} more`);
  throw new LayerFolderError(`${file} is not a valid pipe network index: ${listed.join("; ")}`, {
    file,
    issues: issues.slice(0, 100),
  });
}

/**
 * Reads and validates `<root>/network.json` of a pipes layer: the schema, unique node and link ids,
 * and links whose from/to name existing nodes. Throws LayerFolderError naming the file, index and field.
 */
export async function readPipeNetworkIndex(root: string): Promise<NetworkIndex> {
  const file = join(root, PIPE_NETWORK_INDEX_FILE);
  try {
    await access(file);
  } catch {
    throw new LayerFolderError(
      `${file} is missing: a layer of type "pipes" needs its network index (${PIPE_NETWORK_INDEX_FILE}) next to layer.json`,
    );
  }
  const raw = await readJsonFile(file);
  const parsed = NetworkIndexSchema.safeParse(raw);
  if (!parsed.success) {
    fail(
      file,
      parsed.error.issues.map((i) => ({ path: i.path as (string | number)[], message: i.message })),
    );
  }
  const index = parsed.data;
  const issues: Issue[] = [];
  const nodeIds = new Set<string>();
  index.nodes.forEach((n, i) => {
    if (n.id.includes("\0")) issues.push({ path: ["nodes", i, "id"], message: "must not contain NUL" });
    if (nodeIds.has(n.id)) issues.push({ path: ["nodes", i, "id"], message: `duplicate node id "${n.id}"` });
    nodeIds.add(n.id);
  });
  const linkIds = new Set<string>();
  index.links.forEach((l, i) => {
    if (l.id.includes("\0")) issues.push({ path: ["links", i, "id"], message: "must not contain NUL" });
    if (linkIds.has(l.id)) issues.push({ path: ["links", i, "id"], message: `duplicate link id "${l.id}"` });
    linkIds.add(l.id);
    if (!nodeIds.has(l.from))
      issues.push({
        path: ["links", i, "from"],
        message: `link "${l.id}" references unknown node "${l.from}"`,
      });
    if (!nodeIds.has(l.to))
      issues.push({ path: ["links", i, "to"], message: `link "${l.id}" references unknown node "${l.to}"` });
  });
  if (issues.length > 0) fail(file, issues);
  return index;
}
