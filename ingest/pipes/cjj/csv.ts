/**
 * A small RFC 4180 CSV parser: quoted fields ("" escapes a quote; quoted fields may hold delimiters and line
 * breaks), CRLF / LF / CR record ends, any single-character delimiter. Lenient where survey software is sloppy: a
 * quote inside an unquoted field is kept as text, and text after a closing quote is appended to the field.
 */

/** Parses CSV text into records of raw field strings. A trailing line break does not make an extra record. */
export function parseCsv(text: string, delimiter = ","): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let inQuotes = false;
  let fieldStart = true;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else field += c;
      continue;
    }
    if (c === '"' && fieldStart) {
      inQuotes = true;
      fieldStart = false;
    } else if (c === delimiter) {
      record.push(field);
      field = "";
      fieldStart = true;
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      fieldStart = true;
    } else {
      field += c;
      fieldStart = false;
    }
  }
  if (!fieldStart || field !== "" || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

/**
 * Picks the delimiter of a delimited text file from its first lines: the most frequent of comma, tab and semicolon
 * outside quotes (Excel "Unicode text" exports are tab-separated).
 */
export function detectDelimiter(text: string): string {
  const sample = text.slice(0, 8192);
  const counts = new Map<string, number>([
    [",", 0],
    ["\t", 0],
    [";", 0],
  ]);
  let inQuotes = false;
  for (const c of sample) {
    if (c === '"') inQuotes = !inQuotes;
    else if (!inQuotes && counts.has(c)) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let best = ",";
  let bestCount = 0;
  for (const [d, k] of counts) {
    if (k > bestCount) {
      best = d;
      bestCount = k;
    }
  }
  return best;
}
