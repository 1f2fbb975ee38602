import {
  ALARM_ACTIONS,
  ALARM_LEVELS,
  ALARM_LIST_DEFAULT_LIMIT,
  ALARM_LIST_MAX_LIMIT,
  ALARM_STATUSES,
  AlarmHistoryEntrySchema,
  AlarmRuleInputSchema,
  AlarmRuleSchema,
  AlarmSchema,
  AlarmStatsSchema,
  AlarmTimelineEntrySchema,
  AlarmTransitionSchema,
  AlarmWithHistorySchema,
  RULE_KINDS,
} from "../../models/alarms.ts";
import {
  bboxParam,
  errorResponse,
  instantParam,
  jsonContent,
  ref,
  toJsonSchema,
} from "../http/openapi-parts.ts";

/** OpenAPI pieces for /api/alarms and /api/alarm-rules, merged into the server's document by api/openapi.ts. */

const csvParam = (name: string, values: readonly string[], description: string) => ({
  name,
  in: "query",
  required: false,
  description: `${description}; comma-separated list of ${values.join(", ")}`,
  schema: { type: "string" },
});

const idParam = (what: string) => ({
  name: "id",
  in: "path",
  required: true,
  description: `${what} id`,
  schema: { type: "integer", minimum: 1 },
});

export const ALARM_OPENAPI_SCHEMAS = {
  Alarm: toJsonSchema(AlarmSchema),
  AlarmHistoryEntry: toJsonSchema(AlarmHistoryEntrySchema),
  AlarmWithHistory: toJsonSchema(AlarmWithHistorySchema),
  AlarmTimelineEntry: toJsonSchema(AlarmTimelineEntrySchema),
  AlarmTransition: toJsonSchema(AlarmTransitionSchema, "input"),
  AlarmStats: toJsonSchema(AlarmStatsSchema),
  AlarmRule: toJsonSchema(AlarmRuleSchema),
  AlarmRuleInput: toJsonSchema(AlarmRuleInputSchema, "input"),
};

const unauthorized = errorResponse("Missing or wrong admin token");

export const ALARM_OPENAPI_PATHS = {
  "/api/alarms": {
    get: {
      operationId: "listAlarms",
      summary: "Alarms, newest raised first; all filters combine with AND",
      parameters: [
        {
          name: "status",
          in: "query",
          required: false,
          description: `Comma-separated lifecycle statuses (${ALARM_STATUSES.join(", ")}) or "open" (not closed)`,
          schema: { type: "string" },
        },
        csvParam("level", ALARM_LEVELS, "Current level"),
        csvParam("kind", RULE_KINDS, "Rule kind"),
        {
          name: "device",
          in: "query",
          required: false,
          description: "Device id",
          schema: { type: "string" },
        },
        {
          name: "type",
          in: "query",
          required: false,
          description: "Device type key",
          schema: { type: "string" },
        },
        { name: "active", in: "query", required: false, schema: { type: "string", enum: ["true", "false"] } },
        instantParam("from", "Alarms alive at or after this time: not closed before it"),
        instantParam("to", "Alarms raised at or before this time"),
        bboxParam,
        {
          name: "limit",
          in: "query",
          required: false,
          schema: {
            type: "integer",
            minimum: 1,
            maximum: ALARM_LIST_MAX_LIMIT,
            default: ALARM_LIST_DEFAULT_LIMIT,
          },
        },
      ],
      responses: {
        "200": {
          description: "One page and the total number of matches",
          content: jsonContent({
            type: "object",
            properties: { items: { type: "array", items: ref("Alarm") }, total: { type: "integer" } },
            required: ["items", "total"],
          }),
        },
        "400": errorResponse("Invalid or unknown query parameter"),
      },
    },
  },
  "/api/alarms/stats": {
    get: {
      operationId: "alarmStats",
      summary:
        "Cockpit counts: alarms raised since a time by level, device type and kind; open alarms by stage",
      parameters: [instantParam("since", "Start of the counting window; default 24 h ago")],
      responses: {
        "200": { description: "Counts", content: jsonContent(ref("AlarmStats")) },
        "400": errorResponse("Invalid query parameter"),
      },
    },
  },
  "/api/alarms/timeline": {
    get: {
      operationId: "alarmTimeline",
      summary:
        "Every alarm history row (raise, level change, clear, lifecycle step) in a window, oldest first, for replay",
      parameters: [
        instantParam("from", "Window start; default `to` - 24 h"),
        instantParam("to", "Window end; default now"),
        {
          name: "limit",
          in: "query",
          required: false,
          schema: { type: "integer", minimum: 1, maximum: 50000, default: 10000 },
        },
      ],
      responses: {
        "200": {
          description: "History rows; truncated is true when the limit cut the window short",
          content: jsonContent({
            type: "object",
            properties: {
              from: { type: "string" },
              to: { type: "string" },
              items: { type: "array", items: ref("AlarmTimelineEntry") },
              truncated: { type: "boolean" },
            },
          }),
        },
        "400": errorResponse("Invalid query parameter"),
      },
    },
  },
  "/api/alarms/{id}": {
    parameters: [idParam("Alarm")],
    get: {
      operationId: "getAlarm",
      summary: "One alarm with its full history (who, when, note, assignee for every step)",
      responses: {
        "200": { description: "The alarm", content: jsonContent(ref("AlarmWithHistory")) },
        "400": errorResponse("Not an alarm id"),
        "404": errorResponse("No such alarm"),
      },
    },
  },
  "/api/alarms/{id}/transitions": {
    parameters: [idParam("Alarm")],
    post: {
      operationId: "transitionAlarm",
      summary: `Lifecycle step (${ALARM_ACTIONS.join(", ")}): raised -> acknowledged -> dispatched (assignee) -> handled -> verified -> closed; reject sends a handled alarm back to dispatched`,
      description:
        "verify is refused while the alarm's condition is still present. The step is recorded in the alarm's history and pushed to listeners.",
      security: [{ adminToken: [] }],
      requestBody: { required: true, content: jsonContent(ref("AlarmTransition")) },
      responses: {
        "201": {
          description: "Step recorded",
          content: jsonContent({
            type: "object",
            properties: { alarm: ref("Alarm"), entry: ref("AlarmHistoryEntry") },
          }),
        },
        "400": errorResponse("Invalid body (unknown action, dispatch without assignee)"),
        "401": unauthorized,
        "404": errorResponse("No such alarm"),
        "409": errorResponse(
          "The step is not allowed from the alarm's current status (the message lists the allowed ones)",
        ),
      },
    },
  },
  "/api/alarm-rules": {
    get: {
      operationId: "listAlarmRules",
      summary:
        "Threshold rules (built-in defaults per device type, plus operator rules and per-device overrides)",
      parameters: [
        { name: "scope", in: "query", required: false, schema: { type: "string", enum: ["type", "device"] } },
        {
          name: "target",
          in: "query",
          required: false,
          description: "Device type or device id",
          schema: { type: "string" },
        },
        { name: "kind", in: "query", required: false, schema: { type: "string", enum: [...RULE_KINDS] } },
      ],
      responses: {
        "200": { description: "Rules", content: jsonContent({ type: "array", items: ref("AlarmRule") }) },
        "400": errorResponse("Invalid query parameter"),
      },
    },
    post: {
      operationId: "createAlarmRule",
      summary: "Add a rule; a device-scope rule replaces its type's rule of the same kind and quantity",
      security: [{ adminToken: [] }],
      requestBody: { required: true, content: jsonContent(ref("AlarmRuleInput")) },
      responses: {
        "201": { description: "Created", content: jsonContent(ref("AlarmRule")) },
        "400": errorResponse("Invalid rule (e.g. limits out of order, missing quantity)"),
        "401": unauthorized,
        "409": errorResponse("A rule for this scope, target, kind and quantity exists"),
      },
    },
  },
  "/api/alarm-rules/{id}": {
    parameters: [idParam("Rule")],
    get: {
      operationId: "getAlarmRule",
      summary: "One rule",
      responses: {
        "200": { description: "The rule", content: jsonContent(ref("AlarmRule")) },
        "404": errorResponse("No such rule"),
      },
    },
    put: {
      operationId: "updateAlarmRule",
      summary: "Replace a rule (enabled: false disables it; a disabled device rule exempts that device)",
      security: [{ adminToken: [] }],
      requestBody: { required: true, content: jsonContent(ref("AlarmRuleInput")) },
      responses: {
        "200": { description: "Updated", content: jsonContent(ref("AlarmRule")) },
        "400": errorResponse("Invalid rule"),
        "401": unauthorized,
        "404": errorResponse("No such rule"),
        "409": errorResponse("Another rule has this scope, target, kind and quantity"),
      },
    },
    delete: {
      operationId: "deleteAlarmRule",
      summary: "Delete a rule (built-in defaults are not re-created)",
      security: [{ adminToken: [] }],
      responses: {
        "204": { description: "Deleted" },
        "401": unauthorized,
        "404": errorResponse("No such rule"),
      },
    },
  },
};
