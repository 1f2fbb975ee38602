/**
 * A syntax pass over an IFC-SPF (ISO 10303-21) file before web-ifc sees it. web-ifc reads whatever it can and
 * reports nothing, so a truncated file or an unterminated string would silently lose elements; this pass names
 * the byte offset and the entity (#id) where the text stops being valid STEP. Hand-written: no maintained
 * library validates STEP syntax in JavaScript.
 */
export class StepSyntaxError extends Error {
  constructor(
    message: string,
    readonly byteOffset: number,
    readonly entityId?: number,
  ) {
    super(message);
  }
}

const HEADER = "ISO-10303-21;";
const END = "END-ISO-10303-21;";
const QUOTE = 0x27;
const SLASH = 0x2f;
const STAR = 0x2a;
const SEMI = 0x3b;
const OPEN = 0x28;
const CLOSE = 0x29;
const HASH = 0x23;

/** Where the file's statements start, found on the way (the entity index reads attributes from there). */
export interface StepStatements {
  starts: Int32Array;
  count: number;
}

export function precheckStep(bytes: Uint8Array): StepStatements {
  let statements: StepStatements = { starts: new Int32Array(0), count: 0 };
  const head = new TextDecoder("latin1")
    .decode(bytes.subarray(0, 64))
    .replace(/^\uFEFF/, "")
    .trimStart();
  const hasHeader = head.startsWith(HEADER);
  // A file of bare entities (no header) still deserves the #id of its first broken one.
  if (hasHeader || head.startsWith("#")) statements = scanStatements(bytes, hasHeader);
  if (!hasHeader) {
    throw new StepSyntaxError(`not an IFC file: it does not start with "${HEADER}" (byte 0)`, 0);
  }
  const tail = new TextDecoder("latin1").decode(bytes.subarray(Math.max(0, bytes.length - 64))).trimEnd();
  if (!tail.endsWith(END)) {
    throw new StepSyntaxError(
      `truncated: the file ends at byte ${bytes.length} without "${END}"${lastEntityNote(bytes)}`,
      bytes.length,
    );
  }
  return statements;
}

function scanStatements(bytes: Uint8Array, hasHeader: boolean): StepStatements {
  let i = 0;
  const n = bytes.length;
  let start = 0;
  let depth = 0;
  // About one statement per 60 bytes in real files; grown when short.
  let starts = new Int32Array(Math.max(16, (n / 48) | 0));
  let count = 0;
  while (i < n) {
    const c = bytes[i];
    if (c === QUOTE) {
      const open = i;
      i++;
      for (;;) {
        if (i >= n) {
          throw new StepSyntaxError(
            `unterminated string starting at byte ${open}${entityNote(bytes, start)}`,
            open,
            entityIdAt(bytes, start),
          );
        }
        if (bytes[i] === QUOTE) {
          if (bytes[i + 1] === QUOTE) i += 2;
          else break;
        } else i++;
      }
    } else if (c === SLASH && bytes[i + 1] === STAR) {
      const close = indexOf(bytes, "*/", i + 2);
      if (close < 0) throw new StepSyntaxError(`unterminated comment starting at byte ${i}`, i);
      i = close + 1;
    } else if (c === OPEN) depth++;
    else if (c === CLOSE) {
      depth--;
      if (depth < 0) {
        throw new StepSyntaxError(
          `unbalanced ")" at byte ${i}${entityNote(bytes, start)}`,
          i,
          entityIdAt(bytes, start),
        );
      }
    } else if (c === SEMI) {
      if (depth !== 0) {
        throw new StepSyntaxError(
          `statement ends at byte ${i} with ${depth} unclosed "("${entityNote(bytes, start)}`,
          i,
          entityIdAt(bytes, start),
        );
      }
      if (count === starts.length) {
        const grown = new Int32Array(starts.length * 2);
        grown.set(starts);
        starts = grown;
      }
      starts[count++] = start;
      start = i + 1;
    }
    i++;
  }
  if (depth !== 0 && hasHeader) {
    throw new StepSyntaxError(
      `file ends inside a statement${entityNote(bytes, start)}`,
      n,
      entityIdAt(bytes, start),
    );
  }
  return { starts, count };
}

function indexOf(bytes: Uint8Array, text: string, from: number): number {
  const a = text.charCodeAt(0);
  const b = text.charCodeAt(1);
  for (let i = from; i < bytes.length - 1; i++) if (bytes[i] === a && bytes[i + 1] === b) return i;
  return -1;
}

/** The #id of the statement that starts at `start` (after whitespace), if it is an entity instance. */
function entityIdAt(bytes: Uint8Array, start: number): number | undefined {
  let i = start;
  while (i < bytes.length && bytes[i] <= 0x20) i++;
  if (bytes[i] !== HASH) return undefined;
  let id = 0;
  let digits = 0;
  for (i++; i < bytes.length && bytes[i] >= 0x30 && bytes[i] <= 0x39; i++, digits++)
    id = id * 10 + (bytes[i] - 0x30);
  return digits ? id : undefined;
}

function entityNote(bytes: Uint8Array, start: number): string {
  const id = entityIdAt(bytes, start);
  return id === undefined ? "" : ` in entity #${id}`;
}

function lastEntityNote(bytes: Uint8Array): string {
  const text = new TextDecoder("latin1").decode(bytes.subarray(Math.max(0, bytes.length - 4096)));
  const ids = [...text.matchAll(/#(\d+)\s*=/g)];
  return ids.length ? ` (last entity started: #${ids[ids.length - 1][1]})` : "";
}
