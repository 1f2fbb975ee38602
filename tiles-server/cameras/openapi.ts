import {
  CameraAvailabilitySchema,
  CameraSchema,
  CameraStatusEntrySchema,
  CameraStatusReportResultSchema,
  CameraStatusReportSchema,
  CreateCameraSchema,
  NearCameraSchema,
  UpdateCameraSchema,
} from "../../models/cameras.ts";
import {
  bboxParam,
  errorResponse,
  instantParam,
  jsonContent,
  ref,
  toJsonSchema,
} from "../http/openapi-parts.ts";

/** OpenAPI pieces for /api/cameras, merged into the server's document by api/openapi.ts. */

export const CAMERA_OPENAPI_SCHEMAS = {
  Camera: toJsonSchema(CameraSchema),
  CreateCamera: toJsonSchema(CreateCameraSchema, "input"),
  UpdateCamera: toJsonSchema(UpdateCameraSchema, "input"),
  NearCamera: toJsonSchema(NearCameraSchema),
  CameraStatusReport: toJsonSchema(CameraStatusReportSchema, "input"),
  CameraStatusReportResult: toJsonSchema(CameraStatusReportResultSchema),
  CameraStatusEntry: toJsonSchema(CameraStatusEntrySchema),
  CameraAvailability: toJsonSchema(CameraAvailabilitySchema),
};

const unauthorized = errorResponse("Missing or wrong admin token");
const cameraIdParam = { name: "id", in: "path", required: true, schema: { type: "string" } };
const num = (name: string, description: string, required = true, extra: object = {}) => ({
  name,
  in: "query",
  required,
  description,
  schema: { type: "number", ...extra },
});

export const CAMERA_OPENAPI_PATHS = {
  "/api/cameras": {
    get: {
      operationId: "listCameras",
      summary: "Registered cameras, optionally within a bbox",
      parameters: [bboxParam],
      responses: {
        "200": { description: "Cameras", content: jsonContent({ type: "array", items: ref("Camera") }) },
        "400": errorResponse("Invalid bbox"),
      },
    },
    post: {
      operationId: "createCamera",
      summary: "Register a camera (its initial status starts the status history)",
      security: [{ adminToken: [] }],
      requestBody: { required: true, content: jsonContent(ref("CreateCamera")) },
      responses: {
        "201": { description: "Created", content: jsonContent(ref("Camera")) },
        "400": errorResponse("Invalid body"),
        "401": unauthorized,
        "409": errorResponse("A camera with this id exists"),
      },
    },
  },
  "/api/cameras/near": {
    get: {
      operationId: "camerasNear",
      summary:
        "Cameras within a radius of a point, nearest first, each with sees = the point is inside its view frustum (heading, pitch, hfov/vfov, range)",
      parameters: [
        num("lon", "Longitude (degrees)"),
        num("lat", "Latitude (degrees)"),
        num("height", "Metres above the ellipsoid; default 0", false),
        num("radius", "Horizontal search radius in metres; default 500", false, { maximum: 50000 }),
        {
          name: "limit",
          in: "query",
          required: false,
          schema: { type: "integer", minimum: 1, maximum: 500, default: 20 },
        },
      ],
      responses: {
        "200": {
          description: "Cameras by distance",
          content: jsonContent({ type: "array", items: ref("NearCamera") }),
        },
        "400": errorResponse("Invalid query parameter"),
      },
    },
  },
  "/api/cameras/availability": {
    get: {
      operationId: "cameraAvailability",
      summary:
        "Availability (完好率) for one day: per camera the share of the day it was online (from its first status record; today ends now) and the overall rate",
      parameters: [
        {
          name: "day",
          in: "query",
          required: true,
          schema: { type: "string", format: "date" },
          example: "2026-11-20",
        },
        {
          name: "utcOffset",
          in: "query",
          required: false,
          description: "Time zone of the day; default +08:00",
          schema: { type: "string" },
        },
      ],
      responses: {
        "200": { description: "Availability", content: jsonContent(ref("CameraAvailability")) },
        "400": errorResponse("Invalid day"),
      },
    },
  },
  "/api/cameras/{id}": {
    parameters: [cameraIdParam],
    get: {
      operationId: "getCamera",
      summary: "One camera",
      responses: {
        "200": { description: "The camera", content: jsonContent(ref("Camera")) },
        "404": errorResponse("No such camera"),
      },
    },
    put: {
      operationId: "updateCamera",
      summary: "Replace a camera's registry data (status has its own endpoint)",
      security: [{ adminToken: [] }],
      requestBody: { required: true, content: jsonContent(ref("UpdateCamera")) },
      responses: {
        "200": { description: "Updated", content: jsonContent(ref("Camera")) },
        "400": errorResponse("Invalid body"),
        "401": unauthorized,
        "404": errorResponse("No such camera"),
      },
    },
    delete: {
      operationId: "deleteCamera",
      summary: "Remove a camera and its status history",
      security: [{ adminToken: [] }],
      responses: {
        "204": { description: "Deleted" },
        "401": unauthorized,
        "404": errorResponse("No such camera"),
      },
    },
  },
  "/api/cameras/{id}/status": {
    parameters: [cameraIdParam],
    get: {
      operationId: "cameraStatusHistory",
      summary: "Status changes of a camera in a window (default the last 24 h)",
      parameters: [instantParam("from", "Window start"), instantParam("to", "Window end")],
      responses: {
        "200": {
          description: "Changes, oldest first",
          content: jsonContent({ type: "array", items: ref("CameraStatusEntry") }),
        },
        "404": errorResponse("No such camera"),
      },
    },
    post: {
      operationId: "reportCameraStatus",
      summary:
        "Status report (video platform or operator): a change is recorded in the status history; the same status only moves lastSeen",
      security: [{ adminToken: [] }],
      requestBody: { required: true, content: jsonContent(ref("CameraStatusReport")) },
      responses: {
        "200": { description: "Recorded", content: jsonContent(ref("CameraStatusReportResult")) },
        "400": errorResponse("Invalid body or a time in the future"),
        "401": unauthorized,
        "404": errorResponse("No such camera"),
        "409": errorResponse("Report older than the camera's current status"),
      },
    },
  },
};
