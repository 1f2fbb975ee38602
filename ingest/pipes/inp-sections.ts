import { readFile } from "node:fs/promises";
import type { ImportIssue, PipeLink, PipeNetwork, PipeNode } from "../../models/pipes.ts";

/**
 * Shared reading machinery for the sectioned ".inp" text files of EPANET 2.x and SWMM 5.x: a tokenizer, typed
 * column readers that record problems as ImportIssues with file and line, and a network builder that resolves
 * node references, coordinates, vertices and tags the same way for both formats.
 *
 * Hand-written on purpose: no maintained JavaScript library parses these files (the reference parsers are the
 * C engines themselves, and the Python ones such as wntr / swmm-api are not usable from Node), and the format is
 * simple: "[SECTION]" headers, whitespace-separated tokens, ";" comments, double-quoted tokens (SWMM 5.2 names
 * with spaces, "" as an empty placeholder).
 */

/** One data line of a section: its 1-based line number in the file, tokens (quotes removed) and ";" comment. */
export interface InpRow {
  line: number;
  tokens: string[];
  /** Text after ";" on a data line (EPANET keeps it as the object's description), or null. */
  comment: string | null;
}

export interface InpDocument {
  file: string;
  /** Rows by upper-case section name without brackets ("JUNCTIONS"); repeated sections are concatenated. */
  sections: Map<string, InpRow[]>;
}

/** Decodes file bytes: the given encoding, else UTF-8 when valid, else GB18030 (Chinese Windows software). */
export function decodeInpBytes(bytes: Uint8Array, encoding?: string): string {
  if (encoding) return new TextDecoder(encoding).decode(bytes);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder("gb18030").decode(bytes);
  }
}

export async function readInpDocument(path: string, encoding?: string): Promise<InpDocument> {
  return tokenizeInp(decodeInpBytes(await readFile(path), encoding), path);
}

/** Splits .inp text into sections of tokenized rows. Lines before the first header and after [END] are ignored. */
export function tokenizeInp(text: string, file: string): InpDocument {
  const sections = new Map<string, InpRow[]>();
  let current: InpRow[] | null = null;
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i].trim();
    if (trimmed === "" || trimmed.startsWith(";")) continue;
    if (trimmed.startsWith("[")) {
      const close = trimmed.indexOf("]");
      const name = (close < 0 ? trimmed.slice(1) : trimmed.slice(1, close)).trim().toUpperCase();
      if (name === "END") break;
      current = sections.get(name) ?? [];
      sections.set(name, current);
      continue;
    }
    if (!current) continue;
    const { tokens, comment } = tokenizeLine(trimmed);
    if (tokens.length > 0) current.push({ line: i + 1, tokens, comment });
  }
  return { file, sections };
}

/** Whitespace-separated tokens; "..." is one token (quotes removed, "" gives an empty token); ";" starts a comment. */
export function tokenizeLine(line: string): { tokens: string[]; comment: string | null } {
  const tokens: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ";") {
      const comment = line.slice(i + 1).trim();
      return { tokens, comment: comment === "" ? null : comment };
    }
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    if (c === '"') {
      const end = line.indexOf('"', i + 1);
      const stop = end < 0 ? line.length : end;
      tokens.push(line.slice(i + 1, stop));
      i = stop + 1;
      continue;
    }
    let j = i;
    while (j < line.length && line[j] !== " " && line[j] !== "\t" && line[j] !== ";" && line[j] !== '"') j++;
    tokens.push(line.slice(i, j));
    i = j;
  }
  return { tokens, comment: null };
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A decimal number as the engines read it ("-.5", "1e3"), or null. */
export function parseInpNumber(token: string): number | null {
  return NUMBER_RE.test(token) ? Number(token) : null;
}

export const FEET = 0.3048;
export const INCHES = 0.0254;
export const MILLIMETRES = 0.001;

/** value x factor in metres, rounded to the nanometre so that 10530 ft reads 3209.544 and not 3209.5440000000003. */
export function toMetres(value: number | null, factor: number): number | null {
  return value === null ? null : roundMetres(value * factor);
}

export function roundMetres(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}

type AttributeValue = string | number | boolean | null;

export interface NumberRule {
  /** The column must be present (a missing one is an error). */
  required?: boolean;
  positive?: boolean;
  nonNegative?: boolean;
}

/**
 * Reads the columns of one row into verbatim attributes (numbers as numbers, source units), recording an error
 * issue for a missing required column, a non-numeric number or a value out of range.
 */
export class RowReader {
  readonly attributes: Record<string, AttributeValue> = {};
  /** False once any column of this row was rejected. */
  ok = true;

  constructor(
    private readonly log: IssueLog,
    private readonly section: string,
    readonly row: InpRow,
  ) {}

  get line(): number {
    return this.row.line;
  }

  /** Token i as text, recorded under `column`; null (and an error when required) if absent or empty. */
  text(i: number, column: string, required = false): string | null {
    const token = this.row.tokens[i];
    if (token === undefined || token === "") {
      if (required) this.fail(column, `missing ${column}`);
      return null;
    }
    this.attributes[column] = token;
    return token;
  }

  /** Token i as a number, recorded under `column`; null if absent, non-numeric or out of range. */
  number(i: number, column: string, rule: NumberRule = {}): number | null {
    const token = this.row.tokens[i];
    if (token === undefined || token === "") {
      if (rule.required) this.fail(column, `missing ${column}`);
      return null;
    }
    const value = parseInpNumber(token);
    if (value === null) {
      this.attributes[column] = token;
      this.fail(column, `${column} "${token}" is not a number`);
      return null;
    }
    this.attributes[column] = value;
    if (rule.positive && !(value > 0)) {
      this.fail(column, `${column} ${token} must be positive`);
      return null;
    }
    if (rule.nonNegative && value < 0) {
      this.fail(column, `${column} ${token} must not be negative`);
      return null;
    }
    return value;
  }

  /** Remaining tokens from i on, recorded as one space-joined text attribute. */
  rest(i: number, column: string): void {
    const tokens = this.row.tokens.slice(i);
    if (tokens.length > 0) this.attributes[column] = tokens.join(" ");
  }

  /** Records the ";" comment (EPANET's object description) when there is one. */
  comment(): void {
    if (this.row.comment) this.attributes["Comment"] = this.row.comment;
  }

  fail(column: string | null, problem: string): void {
    this.ok = false;
    this.log.error(this.row.line, column, `[${this.section}] ${problem}`);
  }

  warn(column: string | null, problem: string): void {
    this.log.warning(this.row.line, column, `[${this.section}] ${problem}`);
  }
}

export class IssueLog {
  readonly issues: ImportIssue[] = [];

  constructor(readonly file: string) {}

  error(row: number | null, column: string | null, problem: string): void {
    this.issues.push({ file: this.file, row, column, problem, severity: "error" });
  }

  warning(row: number | null, column: string | null, problem: string): void {
    this.issues.push({ file: this.file, row, column, problem, severity: "warning" });
  }

  /** Issues in file order (rows without a line number last), stable within a line. */
  sorted(): ImportIssue[] {
    return this.issues
      .map((issue, order) => ({ issue, order }))
      .sort((a, b) => (a.issue.row ?? Infinity) - (b.issue.row ?? Infinity) || a.order - b.order)
      .map((e) => e.issue);
  }
}

/** Thrown in strict mode: the message lists every error as "file:line: problem". */
export class InpImportError extends Error {
  constructor(readonly issues: ImportIssue[]) {
    const errors = issues.filter((i) => i.severity === "error");
    super(
      `${errors.length} error(s) reading ${errors[0]?.file ?? "input"}:\n` +
        errors.map((i) => `${i.file}:${i.row ?? "?"}: ${i.problem}`).join("\n"),
    );
    this.name = "InpImportError";
  }
}

export interface InpReadOptions {
  /** Throw an InpImportError listing all issues of severity "error" instead of returning them. */
  strict?: boolean;
  /** Text encoding of the file; default: UTF-8 when the bytes are valid UTF-8, else GB18030. */
  encoding?: string;
}

type NodeDraft = Omit<PipeNode, "x" | "y">;
type LinkDraft = Omit<PipeLink, "vertices">;

/**
 * Collects nodes and links of an .inp file and applies the rules shared by EPANET and SWMM: duplicate ids are
 * errors (the first definition wins), links to unknown nodes are errors and skipped, nodes without coordinates
 * are skipped with a warning and so are the links touching them.
 */
export class InpNetworkBuilder {
  readonly log: IssueLog;
  private readonly nodes = new Map<string, { node: NodeDraft; line: number }>();
  private readonly links = new Map<string, { link: LinkDraft; line: number }>();
  /** Links rejected for errors: later rows about them (vertices, cross-sections) are dropped silently. */
  private readonly rejectedLinks = new Set<string>();
  private readonly coordinates = new Map<string, { x: number; y: number; line: number }>();
  /** Nodes whose coordinate row was unreadable (already reported as an error). */
  private readonly badCoordinates = new Set<string>();
  private readonly vertices = new Map<string, [number, number][]>();

  /**
   * @param caseInsensitive SWMM names are case-insensitive (EPANET 2.2 ids are case-sensitive).
   * @param endColumns names of a link's end-node columns in issues ("Node1", "Node2" for EPANET).
   */
  constructor(
    readonly file: string,
    private readonly format: string,
    private readonly caseInsensitive: boolean,
    private readonly endColumns: readonly [string, string],
  ) {
    this.log = new IssueLog(file);
  }

  private key(id: string): string {
    return this.caseInsensitive ? id.toUpperCase() : id;
  }

  /** Adds a node unless its id is already taken (then an error on this row). */
  addNode(reader: RowReader, node: NodeDraft): boolean {
    const existing = this.nodes.get(this.key(node.id));
    if (existing) {
      reader.fail(
        "ID",
        `duplicate node id "${node.id}" (first defined on line ${existing.line}); row ignored`,
      );
      return false;
    }
    this.nodes.set(this.key(node.id), { node, line: reader.line });
    return true;
  }

  node(id: string): NodeDraft | undefined {
    return this.nodes.get(this.key(id))?.node;
  }

  /** Node id as declared (canonical spelling), or undefined. */
  nodeId(id: string): string | undefined {
    return this.node(id)?.id;
  }

  /**
   * Adds a link after checking its id is new and both end nodes exist (by their declared spelling); otherwise an
   * error on this row and the link is skipped. Node sections must have been read before link sections.
   */
  addLink(reader: RowReader, link: LinkDraft): boolean {
    const existing = this.links.get(this.key(link.id));
    if (existing) {
      reader.fail(
        "ID",
        `duplicate link id "${link.id}" (first defined on line ${existing.line}); row ignored`,
      );
      return false;
    }
    const from = this.nodeId(link.from);
    const to = this.nodeId(link.to);
    for (const [end, id, found] of [
      [this.endColumns[0], link.from, from],
      [this.endColumns[1], link.to, to],
    ] as const) {
      if (found === undefined)
        reader.fail(end, `link "${link.id}" refers to unknown node "${id}"; link skipped`);
    }
    if (from === undefined || to === undefined) {
      this.rejectedLinks.add(this.key(link.id));
      return false;
    }
    this.links.set(this.key(link.id), { link: { ...link, from, to }, line: reader.line });
    return true;
  }

  link(id: string): LinkDraft | undefined {
    return this.links.get(this.key(id))?.link;
  }

  /** Marks a link row that could not be read (reported already), so later rows about it are dropped silently. */
  rejectLink(id: string): void {
    this.rejectedLinks.add(this.key(id));
  }

  isRejectedLink(id: string): boolean {
    return this.rejectedLinks.has(this.key(id));
  }

  /** [COORDINATES]: node x y. */
  readCoordinates(rows: InpRow[] | undefined): void {
    for (const row of rows ?? []) {
      const r = new RowReader(this.log, "COORDINATES", row);
      const id = r.text(0, "Node", true);
      const x = r.number(1, "X-Coord", { required: true });
      const y = r.number(2, "Y-Coord", { required: true });
      if (id === null) continue;
      const key = this.key(id);
      if (!this.nodes.has(key)) {
        r.warn("Node", `coordinates for unknown node "${id}" ignored`);
        continue;
      }
      if (x === null || y === null) {
        this.badCoordinates.add(key);
        continue;
      }
      const existing = this.coordinates.get(key);
      if (existing) {
        r.warn("Node", `second coordinates for node "${id}" ignored (first on line ${existing.line})`);
        continue;
      }
      this.coordinates.set(key, { x, y, line: row.line });
    }
  }

  /** [VERTICES]: link x y, in order. */
  readVertices(rows: InpRow[] | undefined): void {
    for (const row of rows ?? []) {
      const r = new RowReader(this.log, "VERTICES", row);
      const id = r.text(0, "Link", true);
      const x = r.number(1, "X-Coord", { required: true });
      const y = r.number(2, "Y-Coord", { required: true });
      if (id === null || x === null || y === null) continue;
      const key = this.key(id);
      if (!this.links.has(key)) {
        if (!this.rejectedLinks.has(key)) r.warn("Link", `vertex for unknown link "${id}" ignored`);
        continue;
      }
      const list = this.vertices.get(key) ?? [];
      list.push([x, y]);
      this.vertices.set(key, list);
    }
  }

  /** [TAGS]: NODE|LINK id tag (other object types, e.g. SWMM subcatchments, are ignored). */
  readTags(rows: InpRow[] | undefined): void {
    for (const row of rows ?? []) {
      const [type, id, ...tag] = row.tokens;
      if (id === undefined || tag.length === 0) continue;
      const kind = type.toUpperCase();
      const target = kind === "NODE" ? this.node(id) : kind === "LINK" ? this.link(id) : undefined;
      if (target) target.attributes["Tag"] = tag.join(" ");
    }
  }

  /** Applies coordinates and vertices, drops what has no position, and returns the network (or throws if strict). */
  finish(strict: boolean | undefined): PipeNetwork {
    const nodes: PipeNode[] = [];
    const placed = new Set<string>();
    for (const [key, { node, line }] of this.nodes) {
      const xy = this.coordinates.get(key);
      if (!xy) {
        if (!this.badCoordinates.has(key)) {
          this.log.warning(line, "X-Coord", `node "${node.id}" has no [COORDINATES] row; node skipped`);
        }
        continue;
      }
      placed.add(key);
      nodes.push({ ...node, x: xy.x, y: xy.y });
    }
    const links: PipeLink[] = [];
    for (const [key, { link, line }] of this.links) {
      const missing = [link.from, link.to].filter((id) => !placed.has(this.key(id)));
      if (missing.length > 0) {
        this.log.warning(
          line,
          null,
          `link "${link.id}" skipped: node ${missing.map((id) => `"${id}"`).join(" and ")} has no coordinates`,
        );
        continue;
      }
      links.push({ ...link, vertices: this.vertices.get(key) ?? [] });
    }
    const issues = this.log.sorted();
    if (strict && issues.some((i) => i.severity === "error")) throw new InpImportError(issues);
    return { format: this.format, crs: null, nodes, links, issues };
  }
}
