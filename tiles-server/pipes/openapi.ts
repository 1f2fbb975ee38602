import { LayerSchema } from "../../models/layer.ts";
import {
  ClearanceCheckResultSchema,
  CoverCheckResultSchema,
  PIPE_SECTION_MAX_LENGTH,
  PIPE_SECTION_MAX_POINTS,
  PipeConnectivityResultSchema,
  PipeCrossSectionResultSchema,
  PipeIsolationResultSchema,
  PipeTraceResultSchema,
} from "../../models/pipe-analysis.ts";
import { errorResponse, jsonContent, ref, toJsonSchema } from "../http/openapi-parts.ts";

/** OpenAPI pieces for /api/pipes, merged into the server's document by api/openapi.ts. */

export const PIPE_OPENAPI_SCHEMAS = {
  PipeTraceResult: toJsonSchema(PipeTraceResultSchema),
  PipeIsolationResult: toJsonSchema(PipeIsolationResultSchema),
  PipeConnectivityResult: toJsonSchema(PipeConnectivityResultSchema),
  ClearanceCheckResult: toJsonSchema(ClearanceCheckResultSchema),
  CoverCheckResult: toJsonSchema(CoverCheckResultSchema),
  PipeCrossSectionResult: toJsonSchema(PipeCrossSectionResultSchema),
};

const NOT_FOUND = "No such layer, not a pipes layer, or unknown link/node id";

/** One GET analysis of a pipes layer: the path parameter, query parameters and its result schema. */
function pipeAnalysis(op: {
  operationId: string;
  summary: string;
  parameters?: object[];
  result: keyof typeof PIPE_OPENAPI_SCHEMAS;
  badRequest?: string;
  notFound?: string;
}) {
  return {
    parameters: [
      {
        name: "layerId",
        in: "path",
        required: true,
        description: 'Id of a registered layer of type "pipes"',
        schema: toJsonSchema(LayerSchema.shape.id),
      },
    ],
    get: {
      operationId: op.operationId,
      summary: op.summary,
      parameters: op.parameters ?? [],
      responses: {
        "200": { description: "Result", content: jsonContent(ref(op.result)) },
        "400": errorResponse(op.badRequest ?? "Invalid query parameter"),
        "404": errorResponse(op.notFound ?? NOT_FOUND),
      },
    },
  };
}

const requiredQuery = (name: string, description: string, schema: object = { type: "string" }) => ({
  name,
  in: "query",
  required: true,
  description,
  schema,
});

export const PIPE_OPENAPI_PATHS = {
  "/api/pipes/{layerId}/trace": pipeAnalysis({
    operationId: "tracePipes",
    summary:
      "Upstream/downstream trace: gravity classes (PS/YS/WS) by inverts, pressure classes by connectivity (down) or paths back to reservoirs/tanks (up)",
    parameters: [
      requiredQuery("from", "Link id or node id (a link wins unless fromType is given)"),
      {
        ...requiredQuery("fromType", "Disambiguates from", { type: "string", enum: ["link", "node"] }),
        required: false,
      },
      requiredQuery("direction", "up or down", { type: "string", enum: ["up", "down"] }),
    ],
    result: "PipeTraceResult",
  }),
  "/api/pipes/{layerId}/isolate": pipeAnalysis({
    operationId: "isolatePipeBurst",
    summary: "Burst isolation: valves to close, isolated links/nodes and affected customers",
    parameters: [requiredQuery("link", "Id of the burst link")],
    result: "PipeIsolationResult",
  }),
  "/api/pipes/{layerId}/connectivity": pipeAnalysis({
    operationId: "pipeConnectivity",
    summary: "Islands (connected components) and dangling ends",
    parameters: [
      {
        ...requiredQuery("limit", "How many of the smallest islands to list", {
          type: "integer",
          minimum: 1,
          maximum: 1000,
          default: 10,
        }),
        required: false,
      },
    ],
    result: "PipeConnectivityResult",
  }),
  "/api/pipes/{layerId}/checks/clearance": pipeAnalysis({
    operationId: "pipeClearanceCheck",
    summary: "Pairs of links of different classes closer than the GB 50289 minimum clearances",
    result: "ClearanceCheckResult",
  }),
  "/api/pipes/{layerId}/checks/cover": pipeAnalysis({
    operationId: "pipeCoverCheck",
    summary: "Links with cover depth below the per-class minimum (GB 50289)",
    result: "CoverCheckResult",
  }),
  "/api/pipes/{layerId}/cross-section": pipeAnalysis({
    operationId: "pipeCrossSection",
    summary:
      "Cross-section (横断面) along a drawn line: every crossing pipe with its distance along the line, axis/top/bottom heights, ground and cover depth, and clearances between neighbours",
    parameters: [
      {
        ...requiredQuery(
          "line",
          `Polyline vertices "lon,lat;lon,lat[;...]" in degrees, 2 to ${PIPE_SECTION_MAX_POINTS} vertices, at most ${PIPE_SECTION_MAX_LENGTH} m long`,
        ),
        example: "118.2901,33.9601;118.2905,33.9598",
      },
    ],
    result: "PipeCrossSectionResult",
    badRequest: "Malformed line or a line too long",
    notFound: "No such layer, or not a pipes layer",
  }),
};
