import type { StepEntities } from "./step-entities.ts";
import { stepRef } from "./step-entities.ts";

/**
 * A placement that is (indirectly) relative to itself makes web-ifc recurse forever: found here from each
 * IfcLocalPlacement's PlacementRelTo, with the entity that closes the cycle and the cycle spelled out.
 */
export function findPlacementCycle(
  parent: Map<number, number | null>,
): { id: number; message: string } | null {
  const ok = new Set<number>();
  for (const start of parent.keys()) {
    const path: number[] = [];
    const seen = new Set<number>();
    let cur: number | null | undefined = start;
    while (cur !== null && cur !== undefined && !ok.has(cur)) {
      if (seen.has(cur)) {
        const cycle = [...path.slice(path.indexOf(cur)), cur].map((x) => `#${x}`).join(" -> ");
        return { id: cur, message: `#${cur}: IfcLocalPlacement.PlacementRelTo forms a cycle (${cycle})` };
      }
      seen.add(cur);
      path.push(cur);
      cur = parent.get(cur);
    }
    for (const p of path) ok.add(p);
  }
  return null;
}

/** The same check straight from the file's bytes, so that such a file is rejected before web-ifc is loaded. */
export function findPlacementCycleInStep(step: StepEntities): { id: number; message: string } | null {
  const parent = new Map<number, number | null>();
  for (const id of step.idsOfType("IFCLOCALPLACEMENT")) parent.set(id, stepRef(step.args(id)?.[0]));
  return findPlacementCycle(parent);
}
