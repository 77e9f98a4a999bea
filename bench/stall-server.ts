// The stall bench's target: a minimal node http server in its own process that, when told, freezes
// its event loop for a while (no accept, no read, no response), as a service in a long GC pause or
// a stopped container does. It reports its port to the parent over IPC, then the window it was
// actually frozen (wall-clock milliseconds since the epoch), and exits when the parent disconnects.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
  res.end('ok');
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on('message', (message: { freezeAt: number; freezeMs: number }) => {
  setTimeout(
    () => {
      const from = Date.now();
      const until = from + message.freezeMs;
      // Busy: the event loop runs nothing else until the stall is over.
      while (Date.now() < until);
      process.send?.({ from, to: Date.now() });
    },
    Math.max(0, message.freezeAt - Date.now()),
  );
});
process.on('disconnect', () => server.close(() => process.exit(0)));
