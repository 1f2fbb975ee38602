import type { Server, Socket } from "node:net";

const ignore = () => {};

/**
 * Gives every socket `server` accepts an 'error' listener that outlives `removeAllListeners`.
 *
 * Why: pglite-socket drops its listeners from a socket when it lets go of it (removeAllListeners) and does not
 * destroy one that is no longer writable (a client that half-closed); a reset arriving on such a socket afterwards
 * is an 'error' event nobody listens to, which ends the process. Seen in CI as a test closed its demo server:
 * "read ECONNRESET ... Emitted 'error' event on Socket instance". A reset peer needs no more handling than closing,
 * which the socket does by itself.
 */
export function keepSocketErrorsHandled(server: Server): void {
  server.on("connection", (socket: Socket) => {
    socket.on("error", ignore);
    const removeAll = socket.removeAllListeners.bind(socket);
    socket.removeAllListeners = ((event?: string | symbol) => {
      removeAll(event);
      if (event === undefined || event === "error") socket.on("error", ignore);
      return socket;
    }) as Socket["removeAllListeners"];
  });
}
