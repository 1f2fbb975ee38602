import { CitySummarySchema, REPLAY_BUCKETS, ReplaySchema } from "../../models/cockpit.ts";
import { SHARING_CLASS_IDS } from "../../models/devices.ts";
import { errorResponse, instantParam, jsonContent, ref, toJsonSchema } from "../http/openapi-parts.ts";

/** OpenAPI pieces for /api/cockpit, merged into the server's document by api/openapi.ts. */

export const COCKPIT_OPENAPI_SCHEMAS = {
  CitySummary: toJsonSchema(CitySummarySchema),
  Replay: toJsonSchema(ReplaySchema),
};

export const COCKPIT_OPENAPI_PATHS = {
  "/api/cockpit/summary": {
    get: {
      operationId: "citySummary",
      summary:
        "City vital signs for the cockpit: devices online, alarms of the day (by level, type, stage, hour), cameras and availability, pipe length by class, layer counts",
      parameters: [
        {
          name: "day",
          in: "query",
          required: false,
          description: "The day (YYYY-MM-DD) the alarm counts are for; default today at utcOffset",
          schema: { type: "string", format: "date" },
        },
        {
          name: "utcOffset",
          in: "query",
          required: false,
          description: "The city's time zone as a UTC offset; default +08:00",
          schema: { type: "string", example: "+08:00" },
        },
        {
          name: "department",
          in: "query",
          required: false,
          description: "Only this owner department's devices and their alarms (a department's cockpit)",
          schema: { type: "string" },
        },
        {
          name: "sharing",
          in: "query",
          required: false,
          description:
            "Only devices of this data-sharing class and their alarms (`unconditional` for the public)",
          schema: { type: "string", enum: [...SHARING_CLASS_IDS] },
        },
      ],
      responses: {
        "200": { description: "Summary", content: jsonContent(ref("CitySummary")) },
        "400": errorResponse("Invalid query parameter"),
      },
    },
  },
  "/api/cockpit/replay": {
    get: {
      operationId: "replaySeries",
      summary: "Every device's last value per quantity in fixed buckets over a window (time travel)",
      parameters: [
        instantParam("from", "Window start; default `to` - 24 h"),
        instantParam("to", "Window end; default now (at most 7 days after from)"),
        {
          name: "bucket",
          in: "query",
          required: false,
          description: "Bucket length",
          schema: { type: "string", enum: Object.keys(REPLAY_BUCKETS), default: "5m" },
        },
        {
          name: "devices",
          in: "query",
          required: false,
          description: "Only these devices: comma-separated ids",
          schema: { type: "string" },
        },
      ],
      responses: {
        "200": { description: "Bucketed series", content: jsonContent(ref("Replay")) },
        "400": errorResponse("Invalid query parameter"),
      },
    },
  },
};
