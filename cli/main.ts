import { Command, CommanderError } from "commander";
import { registerSimulateCommand } from "../simulator/command.ts";
import { registerIngestCommands } from "./ingest-command.ts";
import { registerServeCommands } from "./serve-command.ts";

const program = new Command("cim")
  .description("CIM Twin: offline 3D city information model platform")
  .exitOverride()
  .showHelpAfterError();
registerIngestCommands(program);
registerServeCommands(program);
registerSimulateCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  process.stderr.write(`cim: error: ${(err as Error).message}\n`);
  if (process.env.CIM_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
}
