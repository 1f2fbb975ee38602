import { Router } from "express";
import { RegisterLayerSchema } from "../../models/layer.ts";
import type { LayerCatalog } from "../catalog/layer-catalog.ts";
import { LayerFolderError } from "../catalog/layer-folder.ts";
import { requireAdminToken } from "../http/admin-auth.ts";

/** /api/layers: public reads, token-protected writes. */
export function layersRouter(catalog: LayerCatalog, adminToken: string): Router {
  const router = Router();
  const admin = requireAdminToken(adminToken);

  router.get("/", async (_req, res) => {
    res.set("cache-control", "no-cache").json(await catalog.list());
  });

  router.get("/:id", async (req, res) => {
    const layer = await catalog.get(req.params.id);
    if (layer === undefined) {
      res.status(404).json({ error: `layer "${req.params.id}" not found` });
      return;
    }
    res.set("cache-control", "no-cache").json(layer);
  });

  router.post("/", admin, async (req, res) => {
    const parsed = RegisterLayerSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({
        error: `invalid request body: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ")}`,
        details: parsed.error.issues,
      });
      return;
    }
    try {
      const { layer, created } = await catalog.register(parsed.data);
      res
        .status(created ? 201 : 200)
        .location(`/api/layers/${layer.id}`)
        .json(layer);
    } catch (err) {
      if (err instanceof LayerFolderError) {
        res.status(400).json({ error: err.message, details: err.details });
        return;
      }
      throw err;
    }
  });

  router.delete("/:id", admin, async (req, res) => {
    const id = String(req.params.id);
    if (!(await catalog.remove(id))) {
      res.status(404).json({ error: `layer "${id}" not found` });
      return;
    }
    res.status(204).end();
  });

  return router;
}
