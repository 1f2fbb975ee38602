import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export interface RecordedRequest {
  url: string;
  method: string;
  resourceType: string;
}

export interface BrowserSession {
  browser: Browser;
  page: Page;
  /** Every request the page made (its frames and workers included), in order. */
  requests: RecordedRequest[];
  /** Requests to any host other than `serverUrl`'s host (host:port); data:/blob: URLs are not network. */
  externalRequests(serverUrl: string): RecordedRequest[];
  /**
   * Everything that tried to leave loopback through the refusing proxy. Chromium itself talks to
   * update/sign-in services here whatever the flags, so this is for diagnosis, not assertions.
   */
  proxied: RecordedRequest[];
  /** console.error messages and uncaught page errors, for diagnosing failures. */
  pageErrors: string[];
  close(): Promise<void>;
}

export interface OpenOptions {
  width?: number;
  height?: number;
}

/**
 * Starts Debian's Chromium (software WebGL) with a page whose requests (workers included) are
 * recorded. Non-loopback traffic goes to a local proxy that refuses it, so a test never depends
 * on, nor leaks to, the outside world.
 */
export async function openBrowser(options: OpenOptions = {}): Promise<BrowserSession> {
  const width = options.width ?? 1024;
  const height = options.height ?? 700;
  const requests: RecordedRequest[] = [];
  const proxied: RecordedRequest[] = [];
  const pageErrors: string[] = [];
  const proxy = await startRefusingProxy((url, method) =>
    proxied.push({ url, method, resourceType: "other" }),
  );
  const profile = await mkdtemp(join(tmpdir(), "cim-chromium-"));

  let browser: Browser | undefined;
  try {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      userDataDir: profile,
      defaultViewport: { width, height },
      args: [
        "--no-sandbox",
        "--use-angle=swiftshader",
        "--enable-unsafe-swiftshader",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--ignore-gpu-blocklist",
        // Less background chatter from Chromium itself (it never reaches the network: see the proxy).
        "--disable-features=NetworkTimeServiceQuerying,OptimizationGuideModelDownloading,AutofillServerCommunication",
        "--disable-domain-reliability",
        "--no-pings",
        `--window-size=${width},${height}`,
        `--proxy-server=http://127.0.0.1:${proxy.port}`,
      ],
    });
    const page = await browser.newPage();
    page.on("request", (req) =>
      requests.push({ url: req.url(), method: req.method(), resourceType: req.resourceType() }),
    );
    page.on("console", (msg) => {
      if (msg.type() === "error") pageErrors.push(msg.text());
    });
    page.on("pageerror", (err) => pageErrors.push(String(err)));

    const launched = browser;
    return {
      browser: launched,
      page,
      requests,
      proxied,
      pageErrors,
      externalRequests(serverUrl: string) {
        const host = new URL(serverUrl).host;
        return requests.filter((r) => {
          if (/^(data|blob|about|chrome-extension|devtools):/.test(r.url)) return false;
          try {
            return new URL(r.url).host !== host;
          } catch {
            return true;
          }
        });
      },
      async close() {
        await launched.close().catch(() => {});
        await proxy.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await browser?.close().catch(() => {});
    await proxy.close();
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
}

/** HTTP proxy that answers every request with 403 and every CONNECT by closing the socket. */
async function startRefusingProxy(
  record: (url: string, method: string) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    record(req.url ?? "", req.method ?? "GET");
    res.writeHead(403, { "Content-Type": "text/plain" }).end("offline test: external request refused\n");
  });
  server.on("connect", (req, socket) => {
    record(`https://${req.url ?? ""}`, "CONNECT");
    socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
