import { type ZodType, z } from "zod";

/** Building blocks of the OpenAPI document shared by every router's paths. */

/** JSON Schema of a zod schema, without the dialect line (the document declares 3.1 once). */
export function toJsonSchema(schema: ZodType, io: "input" | "output" = "output"): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io }) as Record<
    string,
    unknown
  >;
  return rest;
}

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const jsonContent = (schema: object) => ({ "application/json": { schema } });
export const errorResponse = (description: string) => ({ description, content: jsonContent(ref("Error")) });

/** An optional query parameter (string unless told). */
export const queryParam = (name: string, description: string, schema: object = { type: "string" }) => ({
  name,
  in: "query",
  required: false,
  description,
  schema,
});

export const instantParam = (name: string, description: string) =>
  queryParam(name, `${description} (epoch ms or ISO 8601)`);

export const bboxParam = {
  ...queryParam("bbox", "west,south,east,north in degrees"),
  example: "118.28,33.94,118.32,33.97",
};
