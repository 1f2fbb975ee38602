import type {
  PipeConnectivityResult,
  PipeIsolationResult,
  PipeTraceResult,
} from "../../models/pipe-analysis.ts";
import { GRAVITY_CLASSES, type NetworkIndex, PIPE_CLASSES, type PipeClass } from "../../models/pipes.ts";

export type NetworkNode = NetworkIndex["nodes"][number];
export type NetworkLink = NetworkIndex["links"][number];
export type NetworkInput = Pick<NetworkIndex, "nodes" | "links">;

/** Analysis request that names something the graph does not have (answered 404). */
export class PipeNotFoundError extends Error {}

/** Node kinds that feed a pressure network. */
const SOURCE_KINDS = new Set(["reservoir", "tank"]);
/** Node kinds that legitimately end a line (not reported as dangling). */
const TERMINAL_KINDS = new Set(["outfall", "reservoir", "tank", "hydrant"]);
const STATUS_KEYS = ["Status", "status", "STATUS", "state", "State", "状态", "开关状态", "阀门状态"];
const CLOSED_VALUES = new Set(["closed", "close", "off", "关", "关闭", "闭", "常闭"]);
const DEMAND_KEYS = ["Demand", "demand", "DEMAND", "需水量", "用水量"];

/** A link or valve node whose status attribute says closed (EPANET "Closed", 关闭, ...). */
export function isClosed(attributes: Record<string, unknown>): boolean {
  for (const key of STATUS_KEYS) {
    const v = attributes[key];
    if (typeof v === "string" && CLOSED_VALUES.has(v.trim().toLowerCase())) return true;
  }
  return false;
}

function isCustomer(node: NetworkNode): boolean {
  if (node.kind === "meter") return true;
  if (node.kind !== "junction") return false;
  for (const key of DEMAND_KEYS) {
    const v = node.attributes[key];
    const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : Number.NaN;
    if (n > 0) return true;
  }
  return false;
}

const CLASS_INDEX = new Map<PipeClass, number>(PIPE_CLASSES.map((c, i) => [c, i]));
/** 1 at the index of each gravity class. */
const GRAVITY_CLASS_INDEX = Uint8Array.from(PIPE_CLASSES, (c) => (GRAVITY_CLASSES.has(c) ? 1 : 0));

/**
 * Ids as JSON string literals in one UTF-8 buffer, so a response listing a hundred thousand of them is a copy of
 * byte ranges rather than as many JS strings through JSON.stringify.
 */
class IdJson {
  private readonly bytes: Buffer;
  private readonly offsets: Uint32Array;

  constructor(ids: readonly string[]) {
    const quoted = ids.map((id) => JSON.stringify(id));
    this.offsets = new Uint32Array(ids.length + 1);
    let total = 0;
    for (let i = 0; i < quoted.length; i++) {
      total += Buffer.byteLength(quoted[i]);
      this.offsets[i + 1] = total;
    }
    this.bytes = Buffer.from(quoted.join(""));
  }

  /** The JSON literal of id i. */
  item(i: number): Buffer {
    return this.bytes.subarray(this.offsets[i], this.offsets[i + 1]);
  }

  /** `[id, id, ...]` of the first `count` indices. */
  list(indices: Int32Array, count: number): Buffer {
    const { bytes, offsets } = this;
    let total = 2 + Math.max(0, count - 1);
    for (let k = 0; k < count; k++) total += offsets[indices[k] + 1] - offsets[indices[k]];
    const out = Buffer.allocUnsafe(total);
    let at = 0;
    out[at++] = 0x5b; // [
    for (let k = 0; k < count; k++) {
      if (k > 0) out[at++] = 0x2c; // ,
      const i = indices[k];
      const end = offsets[i + 1];
      let p = offsets[i];
      if (end - p > 48) {
        bytes.copy(out, at, p, end);
        at += end - p;
      } else while (p < end) out[at++] = bytes[p++];
    }
    out[at] = 0x5d; // ]
    return out;
  }
}

/**
 * A layer's pipe network in compact arrays (CSR adjacency), built once per layer and reused by every
 * request. Node and link positions in `nodes` / `links` are their indices.
 */
export class PipeGraph {
  readonly nodeIndex = new Map<string, number>();
  readonly linkIndex = new Map<string, number>();
  readonly linkFrom: Int32Array;
  readonly linkTo: Int32Array;
  /** Gravity flow direction: upstream / downstream node by inverts (equal or unknown: as drawn). */
  readonly linkUp: Int32Array;
  readonly linkDown: Int32Array;
  readonly linkClass: Uint8Array;
  /** 1 when the link cannot carry flow (closed valve or closed pipe). */
  readonly linkClosed: Uint8Array;
  readonly linkIsValve: Uint8Array;
  readonly nodeIsValve: Uint8Array;
  readonly nodeClosed: Uint8Array;
  readonly nodeIsSource: Uint8Array;
  readonly nodeIsCustomer: Uint8Array;
  /** Incident links of node i: adjLinks[adjStart[i] .. adjStart[i + 1]). */
  readonly adjStart: Int32Array;
  readonly adjLinks: Int32Array;
  /** Lazily computed, cached with the graph (the network does not change until re-registered). */
  readonly memo = new Map<string, unknown>();
  /** Per-call scratch, allocated once per graph: a request on a city network must not allocate megabytes. */
  private readonly scratch: {
    nodeMark: Uint8Array;
    linkMark: Uint8Array;
    queue: Int32Array;
    outNodes: Int32Array;
    outLinks: Int32Array;
    parentLink: Int32Array;
    onPath: Uint8Array;
  };
  /** Ids as JSON literals, built with the graph so the first request does not pay for them. */
  private readonly nodeIdJson: IdJson;
  private readonly linkIdJson: IdJson;

  constructor(
    readonly nodes: readonly NetworkNode[],
    readonly links: readonly NetworkLink[],
  ) {
    const n = nodes.length;
    const m = links.length;
    for (let i = 0; i < n; i++) this.nodeIndex.set(nodes[i].id, i);
    for (let i = 0; i < m; i++) this.linkIndex.set(links[i].id, i);
    this.linkFrom = new Int32Array(m);
    this.linkTo = new Int32Array(m);
    this.linkUp = new Int32Array(m);
    this.linkDown = new Int32Array(m);
    this.linkClass = new Uint8Array(m);
    this.linkClosed = new Uint8Array(m);
    this.linkIsValve = new Uint8Array(m);
    this.nodeIsValve = new Uint8Array(n);
    this.nodeClosed = new Uint8Array(n);
    this.nodeIsSource = new Uint8Array(n);
    this.nodeIsCustomer = new Uint8Array(n);
    const degree = new Int32Array(n + 1);
    for (let e = 0; e < m; e++) {
      const link = links[e];
      const f = this.nodeIndex.get(link.from);
      const t = this.nodeIndex.get(link.to);
      if (f === undefined || t === undefined) {
        throw new Error(`link "${link.id}" references an unknown node`);
      }
      this.linkFrom[e] = f;
      this.linkTo[e] = t;
      const reversed = link.fromInvert !== null && link.toInvert !== null && link.fromInvert < link.toInvert;
      this.linkUp[e] = reversed ? t : f;
      this.linkDown[e] = reversed ? f : t;
      this.linkClass[e] = CLASS_INDEX.get(link.pipeClass) ?? 0;
      this.linkIsValve[e] = link.kind === "valve" ? 1 : 0;
      this.linkClosed[e] = isClosed(link.attributes) ? 1 : 0;
      degree[f + 1]++;
      if (t !== f) degree[t + 1]++;
    }
    for (let i = 0; i < n; i++) {
      const node = nodes[i];
      this.nodeIsValve[i] = node.kind === "valve" ? 1 : 0;
      this.nodeClosed[i] = node.kind === "valve" && isClosed(node.attributes) ? 1 : 0;
      this.nodeIsSource[i] = SOURCE_KINDS.has(node.kind) ? 1 : 0;
      this.nodeIsCustomer[i] = isCustomer(node) ? 1 : 0;
      degree[i + 1] += degree[i];
    }
    this.adjStart = degree;
    this.adjLinks = new Int32Array(degree[n]);
    const fill = degree.slice(0, n);
    for (let e = 0; e < m; e++) {
      const f = this.linkFrom[e];
      const t = this.linkTo[e];
      this.adjLinks[fill[f]++] = e;
      if (t !== f) this.adjLinks[fill[t]++] = e;
    }
    this.scratch = {
      nodeMark: new Uint8Array(n),
      linkMark: new Uint8Array(m),
      queue: new Int32Array(n + 1),
      outNodes: new Int32Array(n),
      outLinks: new Int32Array(m),
      parentLink: new Int32Array(n),
      onPath: new Uint8Array(n),
    };
    this.nodeIdJson = new IdJson(nodes.map((node) => node.id));
    this.linkIdJson = new IdJson(links.map((link) => link.id));
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  get linkCount(): number {
    return this.links.length;
  }

  private other(e: number, v: number): number {
    return this.linkFrom[e] === v ? this.linkTo[e] : this.linkFrom[e];
  }

  private resolveStart(
    id: string,
    type: "link" | "node" | undefined,
  ): { type: "link" | "node"; index: number } {
    if (type !== "node") {
      const e = this.linkIndex.get(id);
      if (e !== undefined) return { type: "link", index: e };
    }
    if (type !== "link") {
      const v = this.nodeIndex.get(id);
      if (v !== undefined) return { type: "node", index: v };
    }
    throw new PipeNotFoundError(`no ${type ?? "link or node"} with id "${id}"`);
  }

  /** The class a node belongs to: its own, or the class of its first incident link. */
  private nodeClass(v: number): number {
    const start = this.adjStart[v];
    if (start < this.adjStart[v + 1]) return this.linkClass[this.adjLinks[start]];
    return CLASS_INDEX.get(this.nodes[v].pipeClass) ?? 0;
  }

  /**
   * Upstream / downstream trace. Gravity classes (PS, YS, WS) follow the flow direction given by the
   * inverts over gravity links; pressure classes go "down" to everything reachable without passing a
   * closed valve, and "up" along the shortest (fewest links) path back to every reachable source.
   */
  trace(from: string, direction: "up" | "down", fromType?: "link" | "node"): PipeTraceResult {
    const r = this.traceCore(from, direction, fromType);
    const { outNodes, outLinks } = this.scratch;
    return {
      start: { type: r.startType, id: from },
      direction,
      pipeClass: r.pipeClass,
      mode: r.gravity ? "gravity" : "pressure",
      nodes: Array.from(outNodes.subarray(0, r.nodes), (i) => this.nodes[i].id),
      links: Array.from(outLinks.subarray(0, r.links), (i) => this.links[i].id),
      counts: { nodes: r.nodes, links: r.links },
    };
  }

  /** {@link trace} serialised as the JSON of PipeTraceResult, built from pre-encoded ids (large results). */
  traceJson(from: string, direction: "up" | "down", fromType?: "link" | "node"): Buffer {
    const r = this.traceCore(from, direction, fromType);
    const { outNodes, outLinks } = this.scratch;
    const head = {
      start: { type: r.startType, id: from },
      direction,
      pipeClass: r.pipeClass,
      mode: r.gravity ? "gravity" : "pressure",
    };
    return Buffer.concat([
      Buffer.from(`${JSON.stringify(head).slice(0, -1)},"nodes":`),
      this.nodeIds().list(outNodes, r.nodes),
      Buffer.from(`,"links":`),
      this.linkIds().list(outLinks, r.links),
      Buffer.from(`,"counts":${JSON.stringify({ nodes: r.nodes, links: r.links })}}`),
    ]);
  }

  private nodeIds(): IdJson {
    return this.nodeIdJson;
  }

  private linkIds(): IdJson {
    return this.linkIdJson;
  }

  /** The trace into scratch.outNodes / outLinks (valid until the next call); returns their lengths. */
  private traceCore(
    from: string,
    direction: "up" | "down",
    fromType: "link" | "node" | undefined,
  ): { startType: "link" | "node"; pipeClass: PipeClass; gravity: boolean; nodes: number; links: number } {
    const start = this.resolveStart(from, fromType);
    const cls = start.type === "link" ? this.linkClass[start.index] : this.nodeClass(start.index);
    const pipeClass = PIPE_CLASSES[cls];
    const gravity = GRAVITY_CLASSES.has(pipeClass);
    const { nodeMark: nodeSeen, linkMark: linkSeen, queue, outNodes, outLinks } = this.scratch;
    nodeSeen.fill(0);
    linkSeen.fill(0);
    const adjStart = this.adjStart;
    const adjLinks = this.adjLinks;
    const linkClass = this.linkClass;
    const linkClosed = this.linkClosed;
    const nodeClosed = this.nodeClosed;
    const linkFrom = this.linkFrom;
    const linkTo = this.linkTo;
    let nOut = 0;
    let lOut = 0;
    let head = 0;
    let tail = 0;

    if (gravity) {
      const next = direction === "down" ? this.linkDown : this.linkUp;
      const prev = direction === "down" ? this.linkUp : this.linkDown;
      const gravityClass = GRAVITY_CLASS_INDEX;
      const enter = (v: number) => {
        if (nodeSeen[v]) return;
        nodeSeen[v] = 1;
        outNodes[nOut++] = v;
        queue[tail++] = v;
      };
      if (start.type === "link") {
        linkSeen[start.index] = 1;
        outLinks[lOut++] = start.index;
        enter(next[start.index]);
      } else enter(start.index);
      while (head < tail) {
        const v = queue[head++];
        for (let k = adjStart[v], end = adjStart[v + 1]; k < end; k++) {
          const e = adjLinks[k];
          if (linkSeen[e] || prev[e] !== v || !gravityClass[linkClass[e]]) continue;
          linkSeen[e] = 1;
          outLinks[lOut++] = e;
          const w = next[e];
          if (!nodeSeen[w]) {
            nodeSeen[w] = 1;
            outNodes[nOut++] = w;
            queue[tail++] = w;
          }
        }
      }
    } else if (direction === "down") {
      if (start.type === "link") {
        linkSeen[start.index] = 1;
        outLinks[lOut++] = start.index;
        if (!linkClosed[start.index]) {
          for (const v of [linkFrom[start.index], linkTo[start.index]]) {
            if (nodeSeen[v]) continue;
            nodeSeen[v] = 1;
            outNodes[nOut++] = v;
            if (!nodeClosed[v]) queue[tail++] = v;
          }
        }
      } else {
        nodeSeen[start.index] = 1;
        outNodes[nOut++] = start.index;
        queue[tail++] = start.index;
      }
      while (head < tail) {
        const v = queue[head++];
        for (let k = adjStart[v], end = adjStart[v + 1]; k < end; k++) {
          const e = adjLinks[k];
          if (linkSeen[e] || linkClass[e] !== cls || linkClosed[e]) continue;
          linkSeen[e] = 1;
          outLinks[lOut++] = e;
          const w = linkFrom[e] === v ? linkTo[e] : linkFrom[e];
          if (nodeSeen[w]) continue;
          // A closed valve node is reached but not passed.
          nodeSeen[w] = 1;
          outNodes[nOut++] = w;
          if (!nodeClosed[w]) queue[tail++] = w;
        }
      }
    } else {
      // BFS tree from the start; then walk back from every reached source.
      const { parentLink, onPath } = this.scratch;
      parentLink.fill(-1);
      onPath.fill(0);
      const seeds: number[] =
        start.type === "link" && !linkClosed[start.index]
          ? [linkFrom[start.index], linkTo[start.index]]
          : start.type === "node"
            ? [start.index]
            : [];
      const startLink = start.type === "link" ? start.index : -1;
      for (const s of seeds) {
        if (nodeSeen[s] || (nodeClosed[s] && start.type === "link")) continue;
        nodeSeen[s] = 1;
        queue[tail++] = s;
      }
      const sources: number[] = [];
      while (head < tail) {
        const v = queue[head++];
        if (this.nodeIsSource[v]) sources.push(v);
        for (let k = adjStart[v], end = adjStart[v + 1]; k < end; k++) {
          const e = adjLinks[k];
          if (e === startLink || linkClass[e] !== cls || linkClosed[e]) continue;
          const w = linkFrom[e] === v ? linkTo[e] : linkFrom[e];
          if (nodeSeen[w] || nodeClosed[w]) continue;
          nodeSeen[w] = 1;
          parentLink[w] = e;
          queue[tail++] = w;
        }
      }
      if (startLink >= 0) {
        linkSeen[startLink] = 1;
        outLinks[lOut++] = startLink;
      }
      for (const src of sources) {
        let v = src;
        while (!onPath[v]) {
          onPath[v] = 1;
          outNodes[nOut++] = v;
          const e = parentLink[v];
          if (e < 0) break;
          if (!linkSeen[e]) {
            linkSeen[e] = 1;
            outLinks[lOut++] = e;
          }
          v = linkFrom[e] === v ? linkTo[e] : linkFrom[e];
        }
      }
    }
    return { startType: start.type, pipeClass, gravity, nodes: nOut, links: lOut };
  }

  /**
   * Burst isolation: flood from the burst link through links and nodes of its class until valves
   * (valve nodes and valve links form the boundary; already closed links/valves stop the flood too).
   * The open boundary valves are the minimal set to close. Customers inside the area, and those that
   * no source reaches any more once it is shut off, are affected.
   */
  isolate(linkId: string): PipeIsolationResult {
    const r = this.isolateCore(linkId);
    const nodeId = (i: number) => this.nodes[i].id;
    const linkId_ = (i: number) => this.links[i].id;
    const valves = r.valves.map((v) => (v >= 0 ? nodeId(v) : linkId_(-v - 1)));
    const customers = r.customers.map(nodeId);
    return {
      link: linkId,
      valves,
      isolatedLinks: r.isoLinks.map(linkId_),
      isolatedNodes: r.isoNodes.map(nodeId),
      affected: { customers },
      counts: {
        valves: valves.length,
        isolatedLinks: r.isoLinks.length,
        isolatedNodes: r.isoNodes.length,
        customers: customers.length,
      },
    };
  }

  /** {@link isolate} serialised as the JSON of PipeIsolationResult. */
  isolateJson(linkId: string): Buffer {
    const r = this.isolateCore(linkId);
    const nodes = this.nodeIds();
    const links = this.linkIds();
    // Valves are valve nodes and valve links, in the order found.
    const valveJson = Buffer.concat([
      Buffer.from("["),
      ...r.valves.flatMap((v, i) => {
        const id = v >= 0 ? nodes.item(v) : links.item(-v - 1);
        return i > 0 ? [Buffer.from(","), id] : [id];
      }),
      Buffer.from("]"),
    ]);
    const counts = {
      valves: r.valves.length,
      isolatedLinks: r.isoLinks.length,
      isolatedNodes: r.isoNodes.length,
      customers: r.customers.length,
    };
    return Buffer.concat([
      Buffer.from(`{"link":${JSON.stringify(linkId)},"valves":`),
      valveJson,
      Buffer.from(`,"isolatedLinks":`),
      links.list(Int32Array.from(r.isoLinks), r.isoLinks.length),
      Buffer.from(`,"isolatedNodes":`),
      nodes.list(Int32Array.from(r.isoNodes), r.isoNodes.length),
      Buffer.from(`,"affected":{"customers":`),
      nodes.list(Int32Array.from(r.customers), r.customers.length),
      Buffer.from(`},"counts":${JSON.stringify(counts)}}`),
    ]);
  }

  /** Valves are node indices (>= 0) or -(link index) - 1. */
  private isolateCore(linkId: string): {
    valves: number[];
    isoLinks: number[];
    isoNodes: number[];
    customers: number[];
  } {
    const burst = this.linkIndex.get(linkId);
    if (burst === undefined) throw new PipeNotFoundError(`no link with id "${linkId}"`);
    const cls = this.linkClass[burst];
    const { nodeMark: nodeState, linkMark: linkState, queue, onPath: fed } = this.scratch;
    nodeState.fill(0); // 1 isolated, 2 boundary valve node
    linkState.fill(0); // 1 isolated, 2 boundary valve link, 3 visited closed
    const valves: number[] = [];
    const isoNodes: number[] = [];
    const isoLinks: number[] = [burst];
    linkState[burst] = 1;
    let head = 0;
    let tail = 0;
    const reach = (v: number) => {
      if (nodeState[v]) return;
      if (this.nodeIsValve[v]) {
        nodeState[v] = 2;
        if (!this.nodeClosed[v]) valves.push(v);
        return;
      }
      nodeState[v] = 1;
      isoNodes.push(v);
      queue[tail++] = v;
    };
    reach(this.linkFrom[burst]);
    reach(this.linkTo[burst]);
    while (head < tail) {
      const v = queue[head++];
      for (let k = this.adjStart[v]; k < this.adjStart[v + 1]; k++) {
        const e = this.adjLinks[k];
        if (linkState[e] || this.linkClass[e] !== cls) continue;
        if (this.linkIsValve[e]) {
          linkState[e] = 2;
          if (!this.linkClosed[e]) valves.push(-e - 1);
          continue;
        }
        if (this.linkClosed[e]) {
          linkState[e] = 3;
          continue;
        }
        linkState[e] = 1;
        isoLinks.push(e);
        reach(this.other(e, v));
      }
    }

    // Which nodes do the sources still reach with the area shut off?
    fed.fill(0);
    head = 0;
    tail = 0;
    let anySource = false;
    for (const v of this.sourceNodes()) {
      if (this.nodeClass(v) !== cls) continue;
      // A network without any source (e.g. gravity) has nothing to be cut off from.
      anySource = true;
      if (nodeState[v] === 0) {
        fed[v] = 1;
        queue[tail++] = v;
      }
    }
    while (head < tail) {
      const v = queue[head++];
      for (let k = this.adjStart[v]; k < this.adjStart[v + 1]; k++) {
        const e = this.adjLinks[k];
        if (linkState[e] || this.linkClass[e] !== cls || this.linkClosed[e]) continue;
        const w = this.other(e, v);
        if (fed[w] || nodeState[w] || this.nodeClosed[w]) continue;
        fed[w] = 1;
        queue[tail++] = w;
      }
    }
    const customers: number[] = [];
    for (const v of this.customerNodes()) {
      if (nodeState[v] === 1) customers.push(v);
      else if (anySource && !fed[v] && this.nodeClass(v) === cls && this.touchesClass(v, cls)) {
        customers.push(v);
      }
    }
    return { valves, isoLinks, isoNodes, customers };
  }

  private sourceList: Int32Array | undefined;
  private customerList: Int32Array | undefined;

  private sourceNodes(): Int32Array {
    this.sourceList ??= Int32Array.from(this.nodes.keys()).filter((v) => this.nodeIsSource[v] === 1);
    return this.sourceList;
  }

  private customerNodes(): Int32Array {
    this.customerList ??= Int32Array.from(this.nodes.keys()).filter((v) => this.nodeIsCustomer[v] === 1);
    return this.customerList;
  }

  private touchesClass(v: number, cls: number): boolean {
    for (let k = this.adjStart[v]; k < this.adjStart[v + 1]; k++) {
      if (this.linkClass[this.adjLinks[k]] === cls) return true;
    }
    return false;
  }

  /** Connected components (all links, valve states ignored) and dangling ends. */
  connectivity(limit: number): PipeConnectivityResult {
    const n = this.nodeCount;
    const comp = new Int32Array(n).fill(-1);
    const queue = new Int32Array(n + 1);
    const sizes: { nodes: number; first: number; links: number }[] = [];
    for (let s = 0; s < n; s++) {
      if (comp[s] >= 0) continue;
      const c = sizes.length;
      let head = 0;
      let tail = 0;
      comp[s] = c;
      queue[tail++] = s;
      let links = 0;
      while (head < tail) {
        const v = queue[head++];
        for (let k = this.adjStart[v]; k < this.adjStart[v + 1]; k++) {
          const e = this.adjLinks[k];
          if (this.linkFrom[e] === v) links++;
          const w = this.other(e, v);
          if (comp[w] < 0) {
            comp[w] = c;
            queue[tail++] = w;
          }
        }
      }
      sizes.push({ nodes: tail, first: s, links });
    }
    const order = sizes.map((_, i) => i).sort((a, b) => sizes[a].nodes - sizes[b].nodes || a - b);
    const largest = order[order.length - 1];
    const picked = order.filter((c) => c !== largest).slice(0, limit);
    const pickedSet = new Map<number, { nodes: string[]; links: string[] }>();
    for (const c of picked) pickedSet.set(c, { nodes: [], links: [] });
    if (pickedSet.size > 0) {
      for (let v = 0; v < n; v++) {
        const entry = pickedSet.get(comp[v]);
        if (entry && entry.nodes.length < 100) entry.nodes.push(this.nodes[v].id);
      }
      for (let e = 0; e < this.linkCount; e++) {
        const entry = pickedSet.get(comp[this.linkFrom[e]]);
        if (entry && entry.links.length < 100) entry.links.push(this.links[e].id);
      }
    }
    const dangling: string[] = [];
    for (let v = 0; v < n; v++) {
      if (this.adjStart[v + 1] - this.adjStart[v] === 1 && !TERMINAL_KINDS.has(this.nodes[v].kind)) {
        dangling.push(this.nodes[v].id);
      }
    }
    return {
      islands: {
        count: sizes.length,
        smallest: picked.map((c) => {
          const entry = pickedSet.get(c) ?? { nodes: [], links: [] };
          return {
            nodeCount: sizes[c].nodes,
            linkCount: sizes[c].links,
            nodes: entry.nodes,
            links: entry.links,
          };
        }),
      },
      danglingEnds: dangling,
      counts: {
        nodes: n,
        links: this.linkCount,
        islands: sizes.length,
        danglingEnds: dangling.length,
      },
    };
  }
}
