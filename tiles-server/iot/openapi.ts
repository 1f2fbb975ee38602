import {
  CreateDeviceSchema,
  CreatedDeviceSchema,
  DEVICE_BATCH_MAX,
  DEVICE_LIST_DEFAULT_LIMIT,
  DEVICE_LIST_MAX_LIMIT,
  DEVICE_TYPE_IDS,
  DeviceSchema,
} from "../../models/devices.ts";
import {
  LATEST_MAX_DEVICES,
  LATEST_MAX_LIMIT,
  LatestReadingSchema,
  READINGS_MAX_BUCKETS,
  READINGS_MAX_ROWS,
  ReadingBucketRowSchema,
  ReadingRowSchema,
  TELEMETRY_BATCH_MAX,
  TELEMETRY_MAX_PAYLOAD_BYTES,
  TelemetryItemSchema,
  TelemetryStatsSchema,
} from "../../models/telemetry.ts";
import {
  errorResponse,
  jsonContent as json,
  queryParam as query,
  ref,
  toJsonSchema,
} from "../http/openapi-parts.ts";

/** OpenAPI pieces for /api/devices, /api/telemetry and /api/sensors, merged by api/openapi.ts. */

const deviceIdParam = (name: string) => ({
  name,
  in: "path",
  required: true,
  schema: toJsonSchema(DeviceSchema.shape.id),
});

export const IOT_OPENAPI_SCHEMAS = {
  Device: toJsonSchema(DeviceSchema),
  CreateDevice: toJsonSchema(CreateDeviceSchema, "input"),
  CreatedDevice: toJsonSchema(CreatedDeviceSchema),
  TelemetryItem: toJsonSchema(TelemetryItemSchema, "input"),
  TelemetryStats: toJsonSchema(TelemetryStatsSchema),
  ReadingRow: toJsonSchema(ReadingRowSchema),
  ReadingBucketRow: toJsonSchema(ReadingBucketRowSchema),
  LatestReading: toJsonSchema(LatestReadingSchema),
};

export const IOT_OPENAPI_PATHS = {
  "/api/devices": {
    get: {
      operationId: "listDevices",
      summary: "Registered IoT devices, filtered by bounding box, type and linked layer; ordered by id",
      parameters: [
        query("bbox", "west,south,east,north in degrees (CGCS2000 ~ WGS84)", { type: "string" }),
        query("type", `Device type, or a comma-separated list: ${DEVICE_TYPE_IDS.join(", ")}`),
        query("layer", "Id of the layer the device is linked to"),
        query("limit", "Page size", {
          type: "integer",
          minimum: 1,
          maximum: DEVICE_LIST_MAX_LIMIT,
          default: DEVICE_LIST_DEFAULT_LIMIT,
        }),
        query("offset", "Rows to skip", { type: "integer", minimum: 0, default: 0 }),
      ],
      responses: {
        "200": { description: "Devices", content: json({ type: "array", items: ref("Device") }) },
        "400": errorResponse("Invalid query parameter"),
      },
    },
    post: {
      operationId: "createDevices",
      summary: `Register one device (object) or up to ${DEVICE_BATCH_MAX} (array), all or none; each answer carries the device's telemetry token, shown only here`,
      security: [{ adminToken: [] }],
      requestBody: {
        required: true,
        content: json({ oneOf: [ref("CreateDevice"), { type: "array", items: ref("CreateDevice") }] }),
      },
      responses: {
        "201": {
          description: "Created (an object for an object, an array for an array)",
          content: json({ oneOf: [ref("CreatedDevice"), { type: "array", items: ref("CreatedDevice") }] }),
        },
        "400": errorResponse("Invalid device (the message names the field)"),
        "401": errorResponse("Missing or wrong admin token"),
        "409": errorResponse("A device id (or token) is already registered; nothing was created"),
      },
    },
  },
  "/api/devices/types": {
    get: {
      operationId: "listDeviceTypes",
      summary: "Device types (zh-CN/en labels, default unit) and data-sharing classes",
      responses: { "200": { description: "Types and sharing classes" } },
    },
  },
  "/api/devices/{id}": {
    parameters: [deviceIdParam("id")],
    get: {
      operationId: "getDevice",
      summary: "One device",
      responses: {
        "200": { description: "The device", content: json(ref("Device")) },
        "404": errorResponse("No such device"),
      },
    },
    delete: {
      operationId: "deleteDevice",
      summary: "Unregister a device (its stored readings are kept until retention drops them)",
      security: [{ adminToken: [] }],
      responses: {
        "204": { description: "Removed" },
        "401": errorResponse("Missing or wrong admin token"),
        "404": errorResponse("No such device"),
      },
    },
  },
  "/api/telemetry": {
    post: {
      operationId: "postTelemetry",
      summary: `Store a batch of readings (1..${TELEMETRY_BATCH_MAX} items, each at most ${TELEMETRY_MAX_PAYLOAD_BYTES} bytes) with the admin token or a device's own token; answered after the commit. Same payload as MQTT cim/<deviceId>/telemetry plus deviceId. A reading already stored (same device, quantity, ts) is skipped, so resending is safe.`,
      security: [{ adminToken: [] }],
      requestBody: {
        required: true,
        content: json({
          type: "object",
          required: ["readings"],
          properties: { readings: { type: "array", items: ref("TelemetryItem") } },
        }),
      },
      responses: {
        "200": {
          description: "Committed",
          content: json({
            type: "object",
            properties: { accepted: { type: "integer" }, readings: { type: "integer" } },
          }),
        },
        "400": errorResponse(
          "Body is not JSON, or some items are invalid (details: index, reason, error per item); nothing was stored",
        ),
        "401": errorResponse("No token, or a token of no device"),
        "403": errorResponse("A device token used for another device's readings"),
        "503": errorResponse("Database unavailable or server stopping; nothing acknowledged, retry"),
      },
    },
  },
  "/api/telemetry/stats": {
    get: {
      operationId: "telemetryStats",
      summary:
        "Ingest counters since start: received, committed, duplicates, rejected by reason, pending, write failures",
      responses: { "200": { description: "Counters", content: json(ref("TelemetryStats")) } },
    },
  },
  "/api/sensors/latest": {
    get: {
      operationId: "latestReadings",
      summary:
        "Each registered device's last reading per quantity (what a map label shows until the next live one), ordered by device and quantity",
      parameters: [
        query("devices", `Only these device ids (comma-separated, at most ${LATEST_MAX_DEVICES})`),
        query("limit", "Most rows", {
          type: "integer",
          minimum: 1,
          maximum: LATEST_MAX_LIMIT,
          default: LATEST_MAX_LIMIT,
        }),
        query("offset", "Rows to skip (paging)", { type: "integer", minimum: 0, default: 0 }),
      ],
      responses: {
        "200": {
          description: "Latest readings",
          content: json({ type: "array", items: ref("LatestReading") }),
        },
        "400": errorResponse("Invalid parameter"),
      },
    },
  },
  "/api/sensors/{deviceId}/readings": {
    parameters: [deviceIdParam("deviceId")],
    get: {
      operationId: "sensorReadings",
      summary:
        "Stored readings of a device in [from, to), raw (ordered by ts, quantity) or min/max/avg/count per UTC-aligned bucket computed in SQL; JSON or CSV",
      parameters: [
        query("from", "Start, inclusive: epoch ms or ISO 8601 (default: to - 24 h)"),
        query("to", "End, exclusive: epoch ms or ISO 8601 (default: now)"),
        query("bucket", `Aggregate per bucket (at most ${READINGS_MAX_BUCKETS} buckets)`, {
          type: "string",
          enum: ["1m", "1h", "1d"],
        }),
        query("quantity", "Only these quantities (comma-separated)"),
        query("format", "json (default) or csv (attachment)", { type: "string", enum: ["json", "csv"] }),
        query("limit", "Most raw readings; more in the range is a 400 asking to narrow it or aggregate", {
          type: "integer",
          minimum: 1,
          maximum: READINGS_MAX_ROWS,
          default: READINGS_MAX_ROWS,
        }),
      ],
      responses: {
        "200": {
          description:
            "Readings (JSON ReadingRow[] or ReadingBucketRow[] with bucket=; CSV device_id,ts,quantity,value or device_id,bucket,quantity,count,min,max,avg)",
          content: {
            ...json({
              oneOf: [
                { type: "array", items: ref("ReadingRow") },
                { type: "array", items: ref("ReadingBucketRow") },
              ],
            }),
            "text/csv": { schema: { type: "string" } },
          },
        },
        "400": errorResponse("Invalid parameter, from >= to, too many buckets or readings"),
        "404": errorResponse("No such device"),
      },
    },
  },
  "/ws": {
    get: {
      operationId: "liveWebSocket",
      summary:
        'WebSocket upgrade. Send {"subscribe":{"devices":[ids]}|{"bbox":[w,s,e,n]}|{"layer":"id"}} (subscriptions add up) or {"unsubscribe":true}; receive {"type":"readings","readings":[{deviceId,ts,quantity,value}]} (ts epoch ms; "coalesced":true when a slow client got the latest value per sensor), {"type":"subscribed"}, {"type":"error"} and other types pushed by server features (e.g. alarms)',
      responses: { "101": { description: "Switching protocols" } },
    },
  },
};
