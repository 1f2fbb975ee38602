import { type Response, Router } from "express";
import { ZodError, z } from "zod";
import { BBox2DQuerySchema, InstantSchema } from "../../models/alarms.ts";
import {
  CameraAvailabilityQuerySchema,
  CameraIdSchema,
  CameraNearQuerySchema,
  CameraStatusReportSchema,
  CreateCameraSchema,
  UpdateCameraSchema,
} from "../../models/cameras.ts";
import { CameraStateError, type CameraStore } from "../cameras/camera-store.ts";
import { requireAdminToken } from "../http/admin-auth.ts";
import { sendInvalid as invalid, parseOr400 as parse } from "../http/validate.ts";

const ListQuerySchema = z.object({ bbox: BBox2DQuerySchema.optional() }).strict();
const HistoryQuerySchema = z
  .object({ from: InstantSchema.optional(), to: InstantSchema.optional() })
  .strict();

/** /api/cameras: public reads; registry changes and status reports need the admin token. */
export function camerasRouter(store: CameraStore, adminToken: string): Router {
  const router = Router();
  const admin = requireAdminToken(adminToken);

  const guarded = async (res: Response, work: () => Promise<void>) => {
    try {
      await work();
    } catch (err) {
      if (err instanceof CameraStateError) res.status(err.status).json({ error: err.message });
      else if (err instanceof ZodError) invalid(res, "request body", err);
      else throw err;
    }
  };

  router.get("/", async (req, res) => {
    const query = parse(ListQuerySchema, req.query, "query", res);
    if (query === undefined) return;
    res.set("cache-control", "no-cache").json(await store.list(query.bbox));
  });

  router.get("/near", async (req, res) => {
    const query = parse(CameraNearQuerySchema, req.query, "query", res);
    if (query === undefined) return;
    res.set("cache-control", "no-cache").json(await store.near(query));
  });

  router.get("/availability", async (req, res) => {
    const query = parse(CameraAvailabilityQuerySchema, req.query, "query", res);
    if (query === undefined) return;
    await guarded(res, async () => {
      res.set("cache-control", "no-cache").json(await store.availability(query.day, query.utcOffset));
    });
  });

  router.get("/:id", async (req, res) => {
    const camera = await store.get(String(req.params.id));
    if (camera === undefined) res.status(404).json({ error: `camera "${req.params.id}" not found` });
    else res.set("cache-control", "no-cache").json(camera);
  });

  router.get("/:id/status", async (req, res) => {
    const query = parse(HistoryQuerySchema, req.query, "query", res);
    if (query === undefined) return;
    const id = String(req.params.id);
    if ((await store.get(id)) === undefined) {
      res.status(404).json({ error: `camera "${id}" not found` });
      return;
    }
    const to = query.to ?? new Date();
    const from = query.from ?? new Date(to.getTime() - 86_400_000);
    res.set("cache-control", "no-cache").json(await store.statusHistory(id, from, to));
  });

  router.post("/", admin, async (req, res) => {
    const body = parse(CreateCameraSchema, req.body, "request body", res);
    if (body === undefined) return;
    await guarded(res, async () => {
      const camera = await store.create(body);
      res.status(201).location(`/api/cameras/${camera.id}`).json(camera);
    });
  });

  router.put("/:id", admin, async (req, res) => {
    const id = CameraIdSchema.safeParse(req.params.id);
    if (!id.success) {
      res.status(400).json({ error: `invalid camera id "${String(req.params.id)}"` });
      return;
    }
    const body = parse(UpdateCameraSchema, req.body, "request body", res);
    if (body === undefined) return;
    const camera = await store.update(id.data, body);
    if (camera === undefined) res.status(404).json({ error: `camera "${id.data}" not found` });
    else res.json(camera);
  });

  router.delete("/:id", admin, async (req, res) => {
    const id = String(req.params.id);
    if (await store.remove(id)) res.status(204).end();
    else res.status(404).json({ error: `camera "${id}" not found` });
  });

  router.post("/:id/status", admin, async (req, res) => {
    const body = parse(CameraStatusReportSchema, req.body, "request body", res);
    if (body === undefined) return;
    await guarded(res, async () => {
      res.json(await store.reportStatus(String(req.params.id), body));
    });
  });

  return router;
}
