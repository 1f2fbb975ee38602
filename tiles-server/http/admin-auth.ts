import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";

/** Comparing fixed-length digests keeps the time independent of where the strings differ and of length. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Requires `Authorization: Bearer <adminToken>` on write endpoints. */
export function requireAdminToken(adminToken: string): RequestHandler {
  return (req, res, next) => {
    const header = req.headers.authorization ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null || !sameSecret(match[1], adminToken)) {
      res
        .status(401)
        .set("www-authenticate", 'Bearer realm="cim-twin"')
        .json({ error: "admin token required: send Authorization: Bearer <token>" });
      return;
    }
    next();
  };
}
