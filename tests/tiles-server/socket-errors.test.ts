import { errorMonitor } from "node:events";
import { connect, createServer, type Socket } from "node:net";
import { expect, it } from "vitest";
import { keepSocketErrorsHandled } from "../../tiles-server/db/socket-errors.ts";

/**
 * The embedded database's socket library lets go of sockets by removing every listener; a peer that then resets
 * the connection must not end the server (an unhandled 'error' event would, and vitest would report it).
 */
it("a reset on a socket whose listeners were all removed closes it and nothing else", async () => {
  const server = createServer();
  keepSocketErrorsHandled(server);
  const accepted = new Promise<Socket>((resolve) => server.on("connection", resolve));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const client = connect(port, "127.0.0.1");
  await new Promise((resolve) => client.once("connect", resolve));
  const socket = await accepted;
  // What the library does when it detaches a handler.
  socket.removeAllListeners("data");
  socket.removeAllListeners("error");
  socket.removeAllListeners("close");
  const seen: string[] = [];
  // errorMonitor observes the error without counting as a handler of it.
  (socket as NodeJS.EventEmitter).on(errorMonitor, (err: NodeJS.ErrnoException) =>
    seen.push(err.code ?? err.message),
  );
  const closed = new Promise((resolve) => socket.once("close", resolve));
  socket.resume();
  client.resetAndDestroy();
  await closed;
  expect(seen).toEqual(["ECONNRESET"]);
  await new Promise((resolve) => server.close(resolve));
});
