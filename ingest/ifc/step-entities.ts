import type { IfcValue } from "./ifc-types.ts";

/**
 * Attribute values of the entities of an IFC-SPF file, read straight from its bytes. web-ifc hands out entities one
 * GetLine at a time through its WebAssembly bindings, at 30-100 µs each: for the tens of thousands of relations,
 * property sets, properties and placements an ingest reads, that cost more than meshing the model. Reading them
 * here costs about a microsecond each. Geometry stays with web-ifc; an entity this index cannot read (a complex
 * instance `#1=(A()B());`) is left to web-ifc's GetLine by the caller. Hand-written: no maintained JavaScript
 * library parses STEP attribute values.
 */
export class StepRef {
  constructor(readonly id: number) {}
}
export class StepEnum {
  constructor(readonly text: string) {}
}
export class StepTyped {
  constructor(
    readonly type: string,
    readonly value: StepValue,
  ) {}
}
export type StepValue = null | number | string | StepRef | StepEnum | StepTyped | StepValue[];

const QUOTE = 0x27;
const HASH = 0x23;
const OPEN = 0x28;
const CLOSE = 0x29;
const COMMA = 0x2c;
const DOT = 0x2e;
const DOLLAR = 0x24;
const STAR = 0x2a;
const BACKSLASH = 0x5c;
const EQUALS = 0x3d;

const isNameByte = (c: number) =>
  (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

export class StepEntities {
  /** Statement of each entity id: offset of its "(" after the type name. */
  private readonly argsAt = new Map<number, number>();
  private readonly typeAt = new Map<number, string>();
  private readonly utf8 = new TextDecoder("utf-8");
  private byType: Map<string, number[]> | undefined;
  private complexInstances = 0;
  private pos = 0;

  /** `statementStarts`: offsets where the statements begin, as the syntax pass found them. */
  constructor(
    private readonly bytes: Uint8Array,
    statementStarts: ArrayLike<number>,
    statementCount: number,
  ) {
    const types = new Map<string, string>();
    for (let s = 0; s < statementCount; s++) {
      let i = statementStarts[s];
      while (isSpace(bytes[i])) i++;
      if (bytes[i] !== HASH) continue;
      let id = 0;
      for (i++; bytes[i] >= 0x30 && bytes[i] <= 0x39; i++) id = id * 10 + (bytes[i] - 0x30);
      while (isSpace(bytes[i])) i++;
      if (bytes[i] !== EQUALS) continue;
      i++;
      while (isSpace(bytes[i])) i++;
      const nameStart = i;
      while (isNameByte(bytes[i])) i++;
      if (i === nameStart) {
        // A complex instance: left to web-ifc.
        this.complexInstances++;
        continue;
      }
      const key = latin1(bytes, nameStart, i);
      let type = types.get(key);
      if (type === undefined) {
        type = key.toUpperCase();
        types.set(key, type);
      }
      while (isSpace(bytes[i])) i++;
      if (bytes[i] !== OPEN) continue;
      this.argsAt.set(id, i);
      this.typeAt.set(id, type);
    }
  }

  /** Complex instances the index skipped: its lists by type are only complete without them. */
  get skippedInstances(): number {
    return this.complexInstances;
  }

  /** Ids of the entities of exactly this (upper-case) type, in file order; built on first use. */
  idsOfType(type: string): number[] {
    if (!this.byType) {
      this.byType = new Map();
      for (const [id, t] of this.typeAt) {
        let list = this.byType.get(t);
        if (!list) {
          list = [];
          this.byType.set(t, list);
        }
        list.push(id);
      }
    }
    return this.byType.get(type) ?? [];
  }

  /** Upper-case entity type name, undefined when the index cannot read the entity. */
  type(id: number): string | undefined {
    return this.typeAt.get(id);
  }

  /** The entity's attribute values in schema order, undefined when the index cannot read it. */
  args(id: number): StepValue[] | undefined {
    const at = this.argsAt.get(id);
    if (at === undefined) return undefined;
    this.pos = at;
    return this.list();
  }

  private skipSpace(): void {
    while (isSpace(this.bytes[this.pos])) this.pos++;
  }

  /** A parenthesised list starting at `pos`. */
  private list(): StepValue[] {
    const out: StepValue[] = [];
    this.pos++; // "("
    this.skipSpace();
    if (this.bytes[this.pos] === CLOSE) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.skipSpace();
      const c = this.bytes[this.pos++];
      if (c === CLOSE) return out;
      if (c !== COMMA) throw new Error(`unexpected byte ${c} at ${this.pos - 1}`);
    }
  }

  private value(): StepValue {
    this.skipSpace();
    const b = this.bytes;
    const c = b[this.pos];
    if (c === DOLLAR || c === STAR) {
      this.pos++;
      return null;
    }
    if (c === HASH) {
      let id = 0;
      for (this.pos++; b[this.pos] >= 0x30 && b[this.pos] <= 0x39; this.pos++)
        id = id * 10 + (b[this.pos] - 0x30);
      return new StepRef(id);
    }
    if (c === QUOTE) return this.string();
    if (c === OPEN) return this.list();
    if (c === DOT) {
      const start = ++this.pos;
      while (b[this.pos] !== DOT) this.pos++;
      return new StepEnum(latin1(b, start, this.pos++));
    }
    if (isNameByte(c) && !(c >= 0x30 && c <= 0x39)) {
      const start = this.pos;
      while (isNameByte(b[this.pos])) this.pos++;
      const type = latin1(b, start, this.pos).toUpperCase();
      this.skipSpace();
      // A typed value: IFCLABEL('x'); its single argument is the value.
      const inner = this.list();
      return new StepTyped(type, inner.length === 1 ? inner[0] : inner);
    }
    // A number (or, in a malformed file, anything up to the next delimiter).
    const start = this.pos;
    while (this.pos < b.length && b[this.pos] !== COMMA && b[this.pos] !== CLOSE && !isSpace(b[this.pos]))
      this.pos++;
    return Number(latin1(b, start, this.pos));
  }

  /**
   * A STEP string with its escapes decoded as web-ifc decodes them: '' and \\, \X2\...\X0\ (UTF-16), \X4\...\X0\
   * (code points), \X\hh (ISO 8859-1), \S\c (upper half of the current code page), \P?\ ignored; other bytes UTF-8.
   */
  private string(): string {
    const b = this.bytes;
    const start = ++this.pos;
    let plain = true;
    for (;;) {
      const c = b[this.pos];
      if (c === QUOTE) {
        if (b[this.pos + 1] === QUOTE) {
          plain = false;
          this.pos += 2;
          continue;
        }
        break;
      }
      if (c === BACKSLASH || c >= 0x80) plain = false;
      this.pos++;
    }
    const end = this.pos++;
    if (plain) return latin1(b, start, end);
    let out = "";
    let run = start;
    const flush = (to: number) => {
      if (to > run) out += this.utf8.decode(b.subarray(run, to));
    };
    for (let i = start; i < end; ) {
      const c = b[i];
      if (c === QUOTE) {
        flush(i + 1); // keeps one quote of the pair
        i += 2;
        run = i;
      } else if (c === BACKSLASH && b[i + 1] === BACKSLASH) {
        flush(i + 1);
        i += 2;
        run = i;
      } else if (c === BACKSLASH && b[i + 1] === 0x58 && b[i + 2] === 0x32 && b[i + 3] === BACKSLASH) {
        flush(i);
        i += 4;
        while (i + 3 < end && b[i] !== BACKSLASH) {
          out += String.fromCharCode(Number.parseInt(latin1(b, i, i + 4), 16));
          i += 4;
        }
        i += 4; // \X0\
        run = i;
      } else if (c === BACKSLASH && b[i + 1] === 0x58 && b[i + 2] === 0x34 && b[i + 3] === BACKSLASH) {
        flush(i);
        i += 4;
        while (i + 7 < end && b[i] !== BACKSLASH) {
          out += String.fromCodePoint(Number.parseInt(latin1(b, i, i + 8), 16));
          i += 8;
        }
        i += 4;
        run = i;
      } else if (c === BACKSLASH && b[i + 1] === 0x58 && b[i + 2] === BACKSLASH) {
        flush(i);
        out += String.fromCharCode(Number.parseInt(latin1(b, i + 3, i + 5), 16));
        i += 5;
        run = i;
      } else if (c === BACKSLASH && b[i + 1] === 0x53 && b[i + 2] === BACKSLASH) {
        flush(i);
        out += String.fromCharCode(b[i + 3] + 0x80);
        i += 4;
        run = i;
      } else if (c === BACKSLASH && b[i + 1] === 0x50 && b[i + 3] === BACKSLASH) {
        flush(i);
        i += 4;
        run = i;
      } else i++;
    }
    flush(end);
    return out;
  }
}

function latin1(b: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(b[i]);
  return s;
}

export const stepRef = (v: StepValue | undefined): number | null => (v instanceof StepRef ? v.id : null);
export const stepRefs = (v: StepValue | undefined): number[] =>
  Array.isArray(v) ? v.map(stepRef).filter((x): x is number => x !== null) : [];

/** Text of a label/identifier attribute, as attrText() gives it for web-ifc's line objects. */
export function stepText(v: StepValue | undefined): string | null {
  if (v === null || v === undefined || v instanceof StepRef || Array.isArray(v)) return null;
  if (v instanceof StepEnum) return v.text;
  if (v instanceof StepTyped) return stepText(v.value);
  return String(v);
}

export function stepNumber(v: StepValue | undefined): number | null {
  const raw = v instanceof StepTyped ? v.value : v;
  const n = typeof raw === "number" ? raw : typeof raw === "string" ? Number(raw) : Number.NaN;
  return Number.isFinite(n) ? n : null;
}

/** Typed value of a property, as ifcValue() gives it for web-ifc's line objects. */
export function stepIfcValue(v: StepValue | undefined): IfcValue | null {
  if (v === null || v === undefined || v instanceof StepRef || Array.isArray(v)) return null;
  const kind = v instanceof StepTyped ? v.type : "";
  const raw = v instanceof StepTyped ? v.value : v;
  if (raw === null || raw instanceof StepRef || Array.isArray(raw) || raw instanceof StepTyped) return null;
  if (kind === "IFCBOOLEAN" || kind === "IFCLOGICAL") {
    const t = raw instanceof StepEnum ? raw.text.toUpperCase() : String(raw).toUpperCase();
    if (t === "T" || t === "TRUE") return true;
    if (t === "F" || t === "FALSE") return false;
    return "UNKNOWN";
  }
  if (raw instanceof StepEnum) return raw.text;
  return raw;
}
