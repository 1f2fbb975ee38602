import type { LoadResult } from "./load.ts";

export const SERVERS = ["nginx", "express.static", "ours"] as const;
export type ServerName = (typeof SERVERS)[number];
export const SCENARIOS = ["small", "small-hot", "large"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export type Results = Record<ServerName, Record<ScenarioName, LoadResult>>;

/** The load generator is one core; above this share of it, a server's number is a lower bound. */
export const CLIENT_SATURATED = 0.9;
/** CPU (in cores) used by unrelated processes above which the report warns. */
export const OTHER_LOAD_WARNING = 0.2;

export interface Ratios {
  smallRps: { nginx: number; expressStatic: number };
  smallHotRps: { nginx: number; expressStatic: number };
  largeMBps: { nginx: number; expressStatic: number };
  /** Server CPU per request, nginx / ours: above 1 means ours spends more CPU per request. */
  smallCpuPerRequest: { nginx: number; expressStatic: number };
}

export function computeRatios(r: Results): Ratios {
  const ratio = (pick: (x: Record<ScenarioName, LoadResult>) => number) => ({
    nginx: pick(r.ours) / pick(r.nginx),
    expressStatic: pick(r.ours) / pick(r["express.static"]),
  });
  return {
    smallRps: ratio((x) => x.small.requestsPerSecond),
    smallHotRps: ratio((x) => x["small-hot"].requestsPerSecond),
    largeMBps: ratio((x) => x.large.megabytesPerSecond),
    smallCpuPerRequest: ratio((x) => x.small.serverCpuMicrosPerRequest),
  };
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

const n0 = (v: number) => Math.round(v).toLocaleString("en-US");
const n1 = (v: number) => v.toFixed(1);
const x2 = (v: number) => `${v.toFixed(2)}x`;
const pct = (v: number) => `${Math.round(v * 100)}%`;
/** Marks a number measured while the load generator was saturated. */
const mark = (text: string, res: LoadResult) => (res.clientCpuCores >= CLIENT_SATURATED ? `${text}*` : text);

export function formatReport(results: Results, goal: number): string {
  const rows = SERVERS.map((name) => {
    const s = results[name];
    return [
      name,
      mark(n0(s.small.requestsPerSecond), s.small),
      String(s.small.latencyP99Ms),
      n0(s.small.megabytesPerSecond),
      `${pct(s.small.serverCpuCores)} / ${n0(s.small.serverCpuMicrosPerRequest)}`,
      pct(s.small.clientCpuCores),
      pct(s.small.otherCores),
      mark(n0(s["small-hot"].requestsPerSecond), s["small-hot"]),
      n0(s["small-hot"].serverCpuMicrosPerRequest),
      mark(n0(s.large.megabytesPerSecond), s.large),
      String(s.large.latencyP99Ms),
    ];
  });
  const ratios = computeRatios(results);
  const pass = ratios.smallRps.nginx >= goal;
  const busiestOther = Math.max(
    ...SERVERS.flatMap((name) => Object.values(results[name]).map((res) => res.otherCores)),
  );
  const saturated = SERVERS.some((name) =>
    Object.values(results[name]).some((res) => res.clientCpuCores >= CLIENT_SATURATED),
  );
  return [
    table(
      [
        "server",
        "small req/s",
        "p99 ms",
        "small MB/s",
        "srv CPU / us/req",
        "client CPU",
        "other CPU",
        "hot req/s",
        "hot us/req",
        "large MB/s",
        "large p99 ms",
      ],
      rows,
    ),
    "",
    table(
      ["ours vs", "small req/s", "hot req/s", "large MB/s", "CPU us/req (ours/other)"],
      [
        [
          "nginx",
          x2(ratios.smallRps.nginx),
          x2(ratios.smallHotRps.nginx),
          x2(ratios.largeMBps.nginx),
          x2(ratios.smallCpuPerRequest.nginx),
        ],
        [
          "express.static",
          x2(ratios.smallRps.expressStatic),
          x2(ratios.smallHotRps.expressStatic),
          x2(ratios.largeMBps.expressStatic),
          x2(ratios.smallCpuPerRequest.expressStatic),
        ],
      ],
    ),
    ...(saturated
      ? [
          "",
          `* load generator (autocannon, one core) was at >= ${pct(CLIENT_SATURATED)} CPU: that number is a lower bound of what the server can do.`,
        ]
      : []),
    ...(busiestOther >= OTHER_LOAD_WARNING
      ? [
          "",
          `! other processes used up to ${pct(busiestOther)} of a core during a reported run: req/s and MB/s are ` +
            "disturbed; server CPU per request (us/req) is the steadier comparison.",
        ]
      : []),
    "",
    `goal >= ${goal}x nginx req/s on small GLBs: ${pass ? "PASS" : "FAIL"} (${x2(ratios.smallRps.nginx)}: ${n1(
      results.ours.small.requestsPerSecond,
    )} vs ${n1(results.nginx.small.requestsPerSecond)} req/s)`,
  ].join("\n");
}
