import { type Request, type RequestHandler, type Response, Router } from "express";
import { BimElementSearchQuerySchema, IfcGlobalIdSchema } from "../../models/bim.ts";
import type { BimElementStore } from "../bim/element-store.ts";

/**
 * Answers 404 unless `:layerId` is a registered layer of type "bim"; returns whether the
 * request may go on.
 */
async function requireBimLayer(store: BimElementStore, req: Request, res: Response): Promise<boolean> {
  const layerId = String(req.params.layerId);
  const found = await store.lookupLayer(layerId);
  if (found === "bim") return true;
  res.status(404).json({
    error:
      found === "missing"
        ? `layer "${layerId}" not found`
        : `layer "${layerId}" is not a BIM layer (it has no element index)`,
  });
  return false;
}

/** `?class=IfcWall&class=IfcSlab` is accepted as well as `?class=IfcWall,IfcSlab`. */
function normaliseQuery(query: Request["query"]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...query };
  if (Array.isArray(out.class) && out.class.every((c) => typeof c === "string")) {
    out.class = out.class.join(",");
  }
  return out;
}

/** /api/bim/:layerId/...: public reads of a BIM layer's element index. */
export function bimRouter(store: BimElementStore): Router {
  const router = Router();

  const elements: RequestHandler = async (req, res) => {
    const parsed = BimElementSearchQuerySchema.safeParse(normaliseQuery(req.query));
    if (!parsed.success) {
      res.status(400).json({
        error: `invalid query: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(query)"}: ${i.message}`).join("; ")}`,
        details: parsed.error.issues,
      });
      return;
    }
    if (!(await requireBimLayer(store, req, res))) return;
    res.set("cache-control", "no-cache").json(await store.search(String(req.params.layerId), parsed.data));
  };

  router.get("/:layerId/elements", elements);

  router.get("/:layerId/elements/:globalId", async (req, res) => {
    const globalId = String(req.params.globalId);
    if (!IfcGlobalIdSchema.safeParse(globalId).success) {
      res.status(400).json({ error: `"${globalId.slice(0, 100)}" is not an IFC GlobalId` });
      return;
    }
    if (!(await requireBimLayer(store, req, res))) return;
    const element = await store.get(String(req.params.layerId), globalId);
    if (element === undefined) {
      res
        .status(404)
        .json({ error: `no element with GlobalId "${globalId}" in layer "${req.params.layerId}"` });
      return;
    }
    res.set("cache-control", "no-cache").json(element);
  });

  router.get("/:layerId/storeys", async (req, res) => {
    if (!(await requireBimLayer(store, req, res))) return;
    res.set("cache-control", "no-cache").json(await store.storeys(String(req.params.layerId)));
  });

  router.get("/:layerId/classes", async (req, res) => {
    if (!(await requireBimLayer(store, req, res))) return;
    res.set("cache-control", "no-cache").json(await store.classes(String(req.params.layerId)));
  });

  return router;
}
