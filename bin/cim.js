#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so that `npx cim` works straight after `npm install`,
// with no separate build step.
import { register } from "tsx/esm/api";

register();
await import("../cli/main.ts");
