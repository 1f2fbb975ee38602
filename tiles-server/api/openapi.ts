import { z } from "zod";
import {
  BIM_SEARCH_DEFAULT_LIMIT,
  BIM_SEARCH_MAX_LIMIT,
  BimClassCountSchema,
  BimElementIndexSchema,
  BimElementSchema,
  BimElementSearchResultSchema,
  BimStoreySchema,
  IfcGlobalIdSchema,
} from "../../models/bim.ts";
import { LayerManifestSchema, LayerSchema, RegisterLayerSchema } from "../../models/layer.ts";
import { ALARM_OPENAPI_PATHS, ALARM_OPENAPI_SCHEMAS } from "../alarms/openapi.ts";
import { CAMERA_OPENAPI_PATHS, CAMERA_OPENAPI_SCHEMAS } from "../cameras/openapi.ts";
import { COCKPIT_OPENAPI_PATHS, COCKPIT_OPENAPI_SCHEMAS } from "../cockpit/openapi.ts";
import {
  errorResponse,
  jsonContent as json,
  toJsonSchema as jsonSchema,
  ref,
} from "../http/openapi-parts.ts";
import { IOT_OPENAPI_PATHS, IOT_OPENAPI_SCHEMAS } from "../iot/openapi.ts";
import { PIPE_OPENAPI_PATHS, PIPE_OPENAPI_SCHEMAS } from "../pipes/openapi.ts";

const ErrorSchema = z.object({
  error: z.string().describe("What went wrong, naming the file/field at fault"),
  details: z.unknown().optional(),
});

const HealthSchema = z.object({ status: z.enum(["ok", "error"]), db: z.enum(["ok", "error"]) });

const layerIdParam = {
  name: "id",
  in: "path",
  required: true,
  schema: jsonSchema(LayerSchema.shape.id),
};

const bimLayerIdParam = {
  name: "layerId",
  in: "path",
  required: true,
  description: 'Id of a registered layer of type "bim"',
  schema: jsonSchema(LayerSchema.shape.id),
};

const bimNotFound = errorResponse('No such layer, or the layer is not of type "bim"');

const bimSearchParams = [
  {
    name: "q",
    in: "query",
    required: false,
    description:
      "Case-insensitive substring of the element name (full-width forms folded, e.g. Ｗａｌｌ = wall), or a GlobalId prefix / whole GlobalId (case-sensitive)",
    schema: { type: "string", maxLength: 200 },
  },
  {
    name: "class",
    in: "query",
    required: false,
    description:
      "IFC class, exact, or a comma-separated list (IfcWall,IfcSlab); the parameter may also repeat",
    schema: { type: "string" },
    example: "IfcWall,IfcSlab",
  },
  {
    name: "storey",
    in: "query",
    required: false,
    description: "Storey name, exact (see /api/bim/{layerId}/storeys)",
    schema: { type: "string" },
  },
  {
    name: "limit",
    in: "query",
    required: false,
    schema: { type: "integer", minimum: 1, maximum: BIM_SEARCH_MAX_LIMIT, default: BIM_SEARCH_DEFAULT_LIMIT },
  },
  {
    name: "offset",
    in: "query",
    required: false,
    schema: { type: "integer", minimum: 0, default: 0 },
  },
];

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
        BimElement: jsonSchema(BimElementSchema),
        BimElementIndex: jsonSchema(BimElementIndexSchema),
        BimElementSearchResult: jsonSchema(BimElementSearchResultSchema),
        BimStorey: jsonSchema(BimStoreySchema),
        BimClassCount: jsonSchema(BimClassCountSchema),
        ...ALARM_OPENAPI_SCHEMAS,
        ...PIPE_OPENAPI_SCHEMAS,
        ...CAMERA_OPENAPI_SCHEMAS,
        ...COCKPIT_OPENAPI_SCHEMAS,
        ...IOT_OPENAPI_SCHEMAS,
      },
    },
    paths: {
      ...ALARM_OPENAPI_PATHS,
      ...PIPE_OPENAPI_PATHS,
      ...CAMERA_OPENAPI_PATHS,
      ...COCKPIT_OPENAPI_PATHS,
      ...IOT_OPENAPI_PATHS,
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
            "400": errorResponse(
              "Invalid body, or the folder/tileset.json/layer.json (for a bim layer also elements.json, see BimElementIndex) is missing or invalid",
            ),
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
      "/api/bim/{layerId}/elements": {
        parameters: [bimLayerIdParam],
        get: {
          operationId: "searchBimElements",
          summary:
            "Search the element index of a BIM layer (written from elements.json at registration); all filters combine with AND",
          description:
            "Items are ordered by storey elevation (elements outside any storey last), then name (code-point order), then GlobalId.",
          parameters: bimSearchParams,
          responses: {
            "200": { description: "One page and the total", content: json(ref("BimElementSearchResult")) },
            "400": errorResponse("Invalid or unknown query parameter"),
            "404": bimNotFound,
          },
        },
      },
      "/api/bim/{layerId}/elements/{globalId}": {
        parameters: [
          bimLayerIdParam,
          { name: "globalId", in: "path", required: true, schema: jsonSchema(IfcGlobalIdSchema) },
        ],
        get: {
          operationId: "getBimElement",
          summary: "One element of a BIM layer by its GlobalId",
          responses: {
            "200": { description: "The element", content: json(ref("BimElement")) },
            "400": errorResponse("Not a GlobalId"),
            "404": errorResponse("No such layer, not a BIM layer, or no such element"),
          },
        },
      },
      "/api/bim/{layerId}/storeys": {
        parameters: [bimLayerIdParam],
        get: {
          operationId: "listBimStoreys",
          summary:
            "Storeys of a BIM layer by elevation, with element counts (name null: elements outside any storey)",
          responses: {
            "200": { description: "Storeys", content: json({ type: "array", items: ref("BimStorey") }) },
            "404": bimNotFound,
          },
        },
      },
      "/api/bim/{layerId}/classes": {
        parameters: [bimLayerIdParam],
        get: {
          operationId: "listBimClasses",
          summary: "IFC classes present in a BIM layer, alphabetically, with element counts",
          responses: {
            "200": { description: "Classes", content: json({ type: "array", items: ref("BimClassCount") }) },
            "404": bimNotFound,
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
