import type { RequestHandler } from "express";
import type pg from "pg";

/** Longer than any healthy round trip, shorter than a load balancer's probe timeout. */
const DB_CHECK_TIMEOUT_MS = 3000;

async function databaseAnswers(pool: pg.Pool): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), DB_CHECK_TIMEOUT_MS);
  });
  try {
    const query = pool.query("SELECT 1 AS ok").then(
      (r) => r.rows[0]?.ok === 1,
      () => false,
    );
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** GET /healthz: 200 when the database answers, 503 otherwise. */
export function healthHandler(pool: pg.Pool): RequestHandler {
  return async (_req, res) => {
    const ok = await databaseAnswers(pool);
    res
      .status(ok ? 200 : 503)
      .set("cache-control", "no-store")
      .json({ status: ok ? "ok" : "error", db: ok ? "ok" : "error" });
  };
}
