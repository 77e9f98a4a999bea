// The stall bench's target: a minimal node http server in its own process that, when told, freezes
// its event loop for a while (no accept, no read, no response), as a service in a long GC pause or
// a stopped container does. It reports its port to the parent over IPC, then the window it was
// actually frozen (wall-clock milliseconds since the epoch), then how fast it worked off the
// backlog: responses per second of its event loop's active time over the first DRAIN_SAMPLE
// responses after the freeze (time it waited for requests is not counted, so a client that
// delivers them late does not make the server look slower). It exits when the parent disconnects.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

const DRAIN_SAMPLE = 1000;
let afterFreeze: EventLoopUtilization | undefined;
let drained = 0;

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
  res.end('ok');
  if (afterFreeze && ++drained === DRAIN_SAMPLE) {
    const { active } = performance.eventLoopUtilization(afterFreeze);
    afterFreeze = undefined;
    process.send?.({ drainRate: (DRAIN_SAMPLE * 1000) / active });
  }
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
      const to = Date.now();
      afterFreeze = performance.eventLoopUtilization();
      drained = 0;
      process.send?.({ from, to });
    },
    Math.max(0, message.freezeAt - Date.now()),
  );
});
process.on('disconnect', () => server.close(() => process.exit(0)));
