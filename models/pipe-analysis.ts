import { z } from "zod";
import { LINK_KINDS, PIPE_CLASSES, SectionSchema } from "./pipes.ts";

/**
 * Requests and responses of the pipe network analysis API (/api/pipes/:layer/...): trace, burst
 * isolation, connectivity and the clearance / cover checks. Ids are the node/link ids of network.json.
 */

/** File name of the topology index that `cim ingest pipes` writes next to tileset.json. */
export const PIPE_NETWORK_INDEX_FILE = "network.json";

const IdSchema = z.string().min(1).max(500);
const IdList = z.array(z.string());

export const PipeTraceQuerySchema = z
  .object({
    /** A link id or a node id; a link wins when both exist unless fromType says otherwise. */
    from: IdSchema,
    fromType: z.enum(["link", "node"]).optional(),
    direction: z.enum(["up", "down"]),
  })
  .strict();
export type PipeTraceQuery = z.infer<typeof PipeTraceQuerySchema>;

export const PipeTraceResultSchema = z.object({
  start: z.object({ type: z.enum(["link", "node"]), id: z.string() }),
  direction: z.enum(["up", "down"]),
  pipeClass: z.enum(PIPE_CLASSES),
  /** "gravity": followed flow direction from inverts; "pressure": connectivity to/from sources. */
  mode: z.enum(["gravity", "pressure"]),
  nodes: IdList,
  links: IdList,
  counts: z.object({ nodes: z.number().int(), links: z.number().int() }),
});
export type PipeTraceResult = z.infer<typeof PipeTraceResultSchema>;

export const PipeIsolateQuerySchema = z.object({ link: IdSchema }).strict();

export const PipeIsolationResultSchema = z.object({
  link: z.string(),
  /** Open valves (valve node ids and valve link ids) on the boundary of the isolated area: close these. */
  valves: IdList,
  isolatedLinks: IdList,
  isolatedNodes: IdList,
  affected: z.object({
    /** Meters and junctions with a positive demand inside the isolated area or cut off from every source. */
    customers: IdList,
  }),
  counts: z.object({
    valves: z.number().int(),
    isolatedLinks: z.number().int(),
    isolatedNodes: z.number().int(),
    customers: z.number().int(),
  }),
});
export type PipeIsolationResult = z.infer<typeof PipeIsolationResultSchema>;

export const PIPE_CONNECTIVITY_MAX_LIMIT = 1000;
export const PipeConnectivityQuerySchema = z
  .object({ limit: z.coerce.number().int().min(1).max(PIPE_CONNECTIVITY_MAX_LIMIT).default(10) })
  .strict();

export const PipeIslandSchema = z.object({
  nodeCount: z.number().int(),
  linkCount: z.number().int(),
  /** At most 100 ids each. */
  nodes: IdList,
  links: IdList,
});

export const PipeConnectivityResultSchema = z.object({
  islands: z.object({
    /** Connected components (every node and link, valves open or not). */
    count: z.number().int(),
    /** The smallest components (never the largest one), smallest first, up to `limit`. */
    smallest: z.array(PipeIslandSchema),
  }),
  /** Nodes of degree 1 that are not outfalls, reservoirs, tanks or hydrants. */
  danglingEnds: IdList,
  counts: z.object({
    nodes: z.number().int(),
    links: z.number().int(),
    islands: z.number().int(),
    danglingEnds: z.number().int(),
  }),
});
export type PipeConnectivityResult = z.infer<typeof PipeConnectivityResultSchema>;

const Position = z.tuple([z.number(), z.number(), z.number()]);

export const ClearanceViolationSchema = z.object({
  a: z.string(),
  b: z.string(),
  /** Clear horizontal distance (centrelines minus both half widths), metres, at the closest approach. */
  horizontal: z.number(),
  /** Clear vertical distance (axis heights minus both half heights), metres, at the same place. */
  vertical: z.number(),
  required: z.object({ horizontal: z.number(), vertical: z.number() }),
  position: Position,
});
export type ClearanceViolation = z.infer<typeof ClearanceViolationSchema>;

export const ClearanceCheckResultSchema = z.object({
  violations: z.array(ClearanceViolationSchema),
  count: z.number().int(),
});
export type ClearanceCheckResult = z.infer<typeof ClearanceCheckResultSchema>;

export const CoverViolationSchema = z.object({
  link: z.string(),
  /** Smallest cover depth along the link: ground minus top of pipe, metres. */
  cover: z.number(),
  required: z.number(),
  position: Position,
});
export type CoverViolation = z.infer<typeof CoverViolationSchema>;

export const CoverCheckResultSchema = z.object({
  violations: z.array(CoverViolationSchema),
  count: z.number().int(),
  /** Links without ground elevation at both ends (not checkable). */
  unchecked: z.number().int(),
});
export type CoverCheckResult = z.infer<typeof CoverCheckResultSchema>;

/** Most vertices of a cross-section line, and its longest total length (metres). */
export const PIPE_SECTION_MAX_POINTS = 100;
export const PIPE_SECTION_MAX_LENGTH = 5_000;

/**
 * `line=lon,lat;lon,lat[;...]` (degrees, WGS84/CGCS2000): the polyline a cross-section (横断面) is cut along.
 * Errors name the vertex at fault.
 */
export const PipeCrossSectionQuerySchema = z
  .object({
    line: z
      .string()
      .max(PIPE_SECTION_MAX_POINTS * 50)
      .transform((text, ctx): [number, number][] => {
        const parts = text.split(";").filter((p) => p.trim() !== "");
        const points: [number, number][] = [];
        for (const [i, part] of parts.entries()) {
          const nums = part.split(",").map((s) => Number(s.trim()));
          const [lon, lat] = nums;
          if (
            nums.length !== 2 ||
            !Number.isFinite(lon) ||
            !Number.isFinite(lat) ||
            Math.abs(lon) > 180 ||
            Math.abs(lat) > 90
          ) {
            ctx.addIssue({
              code: "custom",
              message: `vertex ${i + 1} "${part}" is not "lon,lat" in degrees`,
            });
            return z.NEVER;
          }
          points.push([lon, lat]);
        }
        if (points.length < 2 || points.length > PIPE_SECTION_MAX_POINTS) {
          ctx.addIssue({
            code: "custom",
            message: `needs 2 to ${PIPE_SECTION_MAX_POINTS} vertices "lon,lat;lon,lat", got ${points.length}`,
          });
          return z.NEVER;
        }
        return points;
      }),
  })
  .strict();

export const PipeCrossingSchema = z.object({
  link: z.string(),
  pipeClass: z.enum(PIPE_CLASSES),
  kind: z.enum(LINK_KINDS),
  section: SectionSchema.nullable(),
  material: z.string().nullable(),
  /** Distance along the drawn line to the crossing of the pipe axis, metres. */
  distance: z.number(),
  /** Where the axis crosses the line: lon, lat (degrees). */
  position: z.tuple([z.number(), z.number()]),
  /** Height of the pipe axis there, interpolated along the link's 3D centreline, metres. */
  axis: z.number(),
  /** Axis ± half the section height (the axis itself without a section). */
  top: z.number(),
  bottom: z.number(),
  /** Ground there, interpolated along the link between its end nodes' ground elevations; null if unknown. */
  ground: z.number().nullable(),
  /** Depth of cover: ground minus top of pipe; null without ground. */
  cover: z.number().nullable(),
  /** Angle between the pipe and the line in plan, degrees (90: square across). */
  angle: z.number(),
});
export type PipeCrossing = z.infer<typeof PipeCrossingSchema>;

export const PipeCrossSectionResultSchema = z.object({
  line: z.object({
    points: z.array(z.tuple([z.number(), z.number()])),
    /** Total length in plan, metres. */
    length: z.number(),
  }),
  /** Every link whose centreline crosses the line (once per crossing), by distance along the line. */
  crossings: z.array(PipeCrossingSchema),
  /**
   * Clear horizontal distance between neighbouring crossings along the line: distance between axes
   * minus both half widths (the true clearance when the pipes cross the line square on).
   */
  clearances: z.array(z.object({ a: z.string(), b: z.string(), horizontal: z.number() })),
  count: z.number().int(),
});
export type PipeCrossSectionResult = z.infer<typeof PipeCrossSectionResultSchema>;
