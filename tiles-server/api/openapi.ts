import { type ZodType, z } from "zod";
import { LayerManifestSchema, LayerSchema, RegisterLayerSchema } from "../../models/layer.ts";

const ErrorSchema = z.object({
  error: z.string().describe("What went wrong, naming the file/field at fault"),
  details: z.unknown().optional(),
});

const HealthSchema = z.object({ status: z.enum(["ok", "error"]), db: z.enum(["ok", "error"]) });

function jsonSchema(schema: ZodType, io: "input" | "output" = "output"): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io }) as Record<
    string,
    unknown
  >;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ "application/json": { schema } });
const errorResponse = (description: string) => ({ description, content: json(ref("Error")) });

const layerIdParam = {
  name: "id",
  in: "path",
  required: true,
  schema: jsonSchema(LayerSchema.shape.id),
};

/** OpenAPI 3.1 description of every endpoint; schemas come from the shared zod models. */
export function buildOpenApiDocument(): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: {
      title: "CIM Twin tiles server",
      version: "0.1.0",
      description: "Layer catalog and OGC 3D Tiles 1.1 hosting for the CIM Twin viewer.",
    },
    components: {
      securitySchemes: { adminToken: { type: "http", scheme: "bearer" } },
      schemas: {
        Layer: jsonSchema(LayerSchema),
        RegisterLayer: jsonSchema(RegisterLayerSchema, "input"),
        LayerManifest: jsonSchema(LayerManifestSchema),
        Error: jsonSchema(ErrorSchema),
        Health: jsonSchema(HealthSchema),
      },
    },
    paths: {
      "/api/layers": {
        get: {
          operationId: "listLayers",
          summary: "List registered layers",
          responses: {
            "200": { description: "All layers", content: json({ type: "array", items: ref("Layer") }) },
          },
        },
        post: {
          operationId: "registerLayer",
          summary: "Register an ingested folder (tileset.json + layer.json) as a layer; same id replaces",
          security: [{ adminToken: [] }],
          requestBody: { required: true, content: json(ref("RegisterLayer")) },
          responses: {
            "200": { description: "Existing layer replaced", content: json(ref("Layer")) },
            "201": { description: "Layer created", content: json(ref("Layer")) },
            "400": errorResponse("Invalid body, or the folder/tileset.json/layer.json is missing or invalid"),
            "401": errorResponse("Missing or wrong admin token"),
          },
        },
      },
      "/api/layers/{id}": {
        parameters: [layerIdParam],
        get: {
          operationId: "getLayer",
          summary: "One layer",
          responses: {
            "200": { description: "The layer", content: json(ref("Layer")) },
            "404": errorResponse("No such layer"),
          },
        },
        delete: {
          operationId: "deleteLayer",
          summary: "Remove a layer from the catalog (files on disk are kept)",
          security: [{ adminToken: [] }],
          responses: {
            "204": { description: "Removed" },
            "401": errorResponse("Missing or wrong admin token"),
            "404": errorResponse("No such layer"),
          },
        },
      },
      "/tiles/{layerId}/{path}": {
        parameters: [
          { name: "layerId", in: "path", required: true, schema: jsonSchema(LayerSchema.shape.id) },
          {
            name: "path",
            in: "path",
            required: true,
            description: "File inside the layer folder, may contain '/' (e.g. tileset.json, content/0/0.glb)",
            schema: { type: "string" },
          },
        ],
        get: {
          operationId: "getTileFile",
          summary: "A file of the layer's 3D Tiles tileset (gzip/br, ETag, Range supported)",
          responses: {
            "200": { description: "File content" },
            "206": { description: "Partial content for a Range request" },
            "304": { description: "Not modified (If-None-Match / If-Modified-Since)" },
            "400": errorResponse("Malformed or unsafe path"),
            "404": errorResponse("Unknown layer or file"),
            "416": errorResponse("Range not satisfiable"),
          },
        },
        head: {
          operationId: "headTileFile",
          summary: "Headers of a tile file",
          responses: {
            "200": { description: "Headers only" },
            "404": { description: "Unknown layer or file" },
          },
        },
      },
      "/healthz": {
        get: {
          operationId: "health",
          summary: "Liveness and database check",
          responses: {
            "200": { description: "Healthy", content: json(ref("Health")) },
            "503": { description: "Database unreachable", content: json(ref("Health")) },
          },
        },
      },
      "/api/openapi.json": {
        get: {
          operationId: "openapi",
          summary: "This document",
          responses: { "200": { description: "OpenAPI 3.1 document" } },
        },
      },
    },
  };
}
