import express, { type Response, Router } from "express";
import { z } from "zod";
import {
  CreateDeviceSchema,
  DEVICE_BATCH_MAX,
  DEVICE_LIST_DEFAULT_LIMIT,
  DEVICE_LIST_MAX_LIMIT,
  DEVICE_TYPE_IDS,
  DEVICE_TYPES,
  SHARING_CLASSES,
} from "../../models/devices.ts";
import { requireAdminToken } from "../http/admin-auth.ts";
import { DeviceConflictError, type DeviceStore } from "../iot/device-store.ts";

const bboxParam = z.string().transform((s, ctx) => {
  const parts = s.split(",").map((p) => Number(p.trim()));
  const [w, so, e, n] = parts;
  if (
    parts.length !== 4 ||
    !parts.every(Number.isFinite) ||
    w < -180 ||
    e > 180 ||
    so < -90 ||
    n > 90 ||
    w > e ||
    so > n
  ) {
    ctx.addIssue({
      code: "custom",
      message: "bbox must be west,south,east,north in degrees with west <= east and south <= north",
    });
    return z.NEVER;
  }
  return [w, so, e, n] as [number, number, number, number];
});

const ListQuerySchema = z.strictObject({
  bbox: bboxParam.optional(),
  type: z
    .string()
    .transform((s) => s.split(",").map((t) => t.trim()))
    .pipe(z.array(z.enum(DEVICE_TYPE_IDS)))
    .optional(),
  layer: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(DEVICE_LIST_MAX_LIMIT).default(DEVICE_LIST_DEFAULT_LIMIT),
  offset: z.coerce.number().int().min(0).default(0),
});

function badRequest(res: Response, what: string, issues: z.core.$ZodIssue[]): void {
  res.status(400).json({
    error: `invalid ${what}: ${issues
      .slice(0, 10)
      .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
      .join("; ")}`,
    details: issues.slice(0, 100),
  });
}

/** /api/devices: the IoT device registry; public reads, admin-token writes. */
export function devicesRouter(devices: DeviceStore, adminToken: string): Router {
  const router = Router();
  const admin = requireAdminToken(adminToken);

  router.get("/types", (_req, res) => {
    res.set("cache-control", "public, max-age=3600").json({
      types: DEVICE_TYPE_IDS.map((id) => ({ id, ...DEVICE_TYPES[id] })),
      sharing: Object.entries(SHARING_CLASSES).map(([id, labels]) => ({ id, ...labels })),
    });
  });

  router.get("/", async (req, res) => {
    const parsed = ListQuerySchema.safeParse(req.query);
    if (!parsed.success) return badRequest(res, "query", parsed.error.issues);
    const q = parsed.data;
    res.set("cache-control", "no-cache").json(
      await devices.list({
        bbox: q.bbox,
        types: q.type,
        layerId: q.layer,
        limit: q.limit,
        offset: q.offset,
      }),
    );
  });

  router.get("/:id", async (req, res) => {
    const device = await devices.get(String(req.params.id));
    if (device === undefined) {
      res.status(404).json({ error: `device "${String(req.params.id).slice(0, 200)}" not found` });
      return;
    }
    res.set("cache-control", "no-cache").json(device);
  });

  // 10,000 devices of ~300 bytes each.
  router.post("/", admin, express.json({ limit: "8mb" }), async (req, res) => {
    const many = Array.isArray(req.body);
    const parsed = z
      .array(CreateDeviceSchema)
      .min(1)
      .max(DEVICE_BATCH_MAX)
      .safeParse(many ? req.body : [req.body]);
    if (!parsed.success) {
      const issues = many
        ? parsed.error.issues
        : parsed.error.issues.map((i) => ({ ...i, path: i.path.slice(1) }));
      return badRequest(res, "device", issues);
    }
    try {
      const created = await devices.create(parsed.data);
      if (!many) res.location(`/api/devices/${encodeURIComponent(created[0].id)}`);
      res.status(201).json(many ? created : created[0]);
    } catch (err) {
      if (err instanceof DeviceConflictError) {
        res.status(409).json({ error: err.message, details: err.ids.slice(0, 1000) });
        return;
      }
      throw err;
    }
  });

  router.delete("/:id", admin, async (req, res) => {
    const id = String(req.params.id);
    if (!(await devices.delete(id))) {
      res.status(404).json({ error: `device "${id.slice(0, 200)}" not found` });
      return;
    }
    res.status(204).end();
  });

  return router;
}
