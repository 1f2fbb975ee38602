import type { Response } from "express";
import type { ZodError, z } from "zod";

/** Answers 400 naming every field at fault, e.g. "invalid query: bbox: expected 4 numbers". */
export function sendInvalid(res: Response, where: string, error: ZodError): void {
  res.status(400).json({
    error: `invalid ${where}: ${error.issues.map((i) => `${i.path.join(".") || `(${where})`}: ${i.message}`).join("; ")}`,
    details: error.issues,
  });
}

/** The parsed value, or undefined after answering 400 (see sendInvalid). */
export function parseOr400<T extends z.ZodType>(
  schema: T,
  value: unknown,
  where: string,
  res: Response,
): z.infer<T> | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  sendInvalid(res, where, parsed.error);
  return undefined;
}
