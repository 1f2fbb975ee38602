import { createReadStream } from "node:fs";
import { cp, stat } from "node:fs/promises";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const root = dirname(fileURLToPath(import.meta.url));
const cesiumBuild = resolve(root, "node_modules/cesium/Build/Cesium");
const outDir = resolve(root, "dist/viewer");
/** Folder (relative to the page) where CesiumJS finds its workers, textures and widget CSS at run time. */
const cesiumDir = "cesium";
const cesiumStatic = ["Workers", "ThirdParty", "Assets", "Widgets"];
const backend = process.env.CIM_BACKEND ?? "http://127.0.0.1:8080";

const mimeTypes: Record<string, string> = {
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".svg": "image/svg+xml",
  ".wasm": "application/wasm",
  ".xml": "application/xml",
};

/**
 * CesiumJS loads workers and assets by URL at run time, so they must exist as files next to the
 * bundle: copied on build, served straight from node_modules in dev (no copy, no extra package).
 */
function cesiumStaticAssets(): Plugin {
  return {
    name: "cim-cesium-static",
    configureServer(server) {
      server.middlewares.use(`/${cesiumDir}/`, (req, res, next) => {
        const rel = normalize(decodeURIComponent((req.url ?? "/").split("?")[0]!)).replace(/^[/\\]+/, "");
        const file = join(cesiumBuild, rel);
        if (!file.startsWith(cesiumBuild + sep) || !cesiumStatic.includes(rel.split(/[/\\]/)[0]!))
          return next();
        stat(file).then(
          (s) => {
            if (!s.isFile()) return next();
            res.setHeader("Content-Type", mimeTypes[extname(file)] ?? "application/octet-stream");
            createReadStream(file).pipe(res);
          },
          () => next(),
        );
      });
    },
    async closeBundle() {
      await Promise.all(
        cesiumStatic.map((d) => cp(join(cesiumBuild, d), join(outDir, cesiumDir, d), { recursive: true })),
      );
    },
  };
}

const proxy = Object.fromEntries(
  ["/api", "/tiles", "/healthz"].map((p) => [p, { target: backend, changeOrigin: true }]),
);

export default defineConfig({
  root: "viewer",
  // Relative asset URLs so the built page works wherever the server mounts it.
  base: "./",
  define: {
    CESIUM_BASE_URL: JSON.stringify(`./${cesiumDir}/`),
  },
  build: {
    outDir,
    emptyOutDir: true,
    chunkSizeWarningLimit: 8000,
    sourcemap: false,
    // Three pages: the Cesium city viewer, the three.js close-inspection view of one layer and the leaders'
    // cockpit (served at /cockpit).
    rolldownOptions: {
      input: {
        main: resolve(root, "viewer/index.html"),
        inspect: resolve(root, "viewer/inspect/index.html"),
        cockpit: resolve(root, "viewer/cockpit.html"),
      },
    },
  },
  server: {
    proxy: { ...proxy, "/ws": { target: backend.replace(/^http/, "ws"), ws: true } },
  },
  plugins: [cesiumStaticAssets()],
});
