// A minimal HTTP/1.1 keep-alive client for the closed model's hot loop only: one request in flight
// per connection, its bytes built once, the response parsed straight from the socket's Buffers.
//
// Why it exists: undici's per-request JavaScript (request objects, header objects, paused reads, a
// setImmediate per request) costs about twice what autocannon spends, and a closed model on a
// loopback service is CPU-bound in the client, so the engine measured the client rather than the
// service. autocannon uses a hand-written client for the same reason. This is a deliberate,
// documented exception to "one HTTP client": checks, wait-for, the open model, TLS and any request
// this module declines (see `encodeRawRequest`) stay on undici (http.ts).
import { connect, type Socket } from 'node:net';
import { classifyError, type LoadCallback, type LoadRequest, type TransportErrorKind } from './http.ts';

/** A load request as bytes, encoded once. */
export interface RawRequest {
  bytes: Buffer;
  /** The response carries no body whatever its headers say (HEAD). */
  noBody: boolean;
  host: string;
  port: number;
}

/** Largest response head accepted, as undici (and node's http) allow by default. */
const MAX_HEAD_BYTES = 16 * 1024;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible ASCII, obs-text, space and tab; never CR, LF or NUL.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const PATH = /^\/[\x21-\x7e]*$/;
/** Headers this client writes itself or whose semantics it does not implement. */
const DECLINED_HEADERS = new Set([
  'connection',
  'content-length',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'proxy-connection',
]);
const PAYLOAD_METHODS = new Set(['POST', 'PUT', 'PATCH']);
/**
 * Every connection reads into this one buffer: a read is parsed at once, before the next can
 * happen, and only a head split across reads is copied out of it.
 */
const readBuffer = Buffer.allocUnsafe(64 * 1024);

/**
 * The request's bytes, or undefined when this client should not send it (not `http:`, an unusual
 * method or header, anything undici would validate or treat specially): the caller then uses undici.
 */
export function encodeRawRequest(request: LoadRequest): RawRequest | undefined {
  let origin: URL;
  try {
    origin = new URL(request.origin);
  } catch {
    return undefined;
  }
  if (origin.protocol !== 'http:' || origin.username !== '' || origin.password !== '') return undefined;
  if (!TOKEN.test(request.method) || request.method === 'CONNECT') return undefined;
  if (!PATH.test(request.path)) return undefined;
  let head = `${request.method} ${request.path} HTTP/1.1\r\n`;
  const names = Object.keys(request.headers).map((name) => name.toLowerCase());
  if (!names.includes('host')) head += `host: ${origin.host}\r\n`;
  head += 'connection: keep-alive\r\n';
  for (const [name, value] of Object.entries(request.headers)) {
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value) || DECLINED_HEADERS.has(name.toLowerCase())) return undefined;
    head += `${name}: ${value}\r\n`;
  }
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  if (body !== undefined) head += `content-length: ${body.length}\r\n`;
  else if (PAYLOAD_METHODS.has(request.method)) head += 'content-length: 0\r\n';
  head += '\r\n';
  const headBytes = Buffer.from(head, 'latin1');
  const hostname = origin.hostname.startsWith('[') ? origin.hostname.slice(1, -1) : origin.hostname;
  return {
    bytes: body === undefined ? headBytes : Buffer.concat([headBytes, body]),
    noBody: request.method === 'HEAD',
    host: hostname,
    port: origin.port === '' ? 80 : Number(origin.port),
  };
}

// Parser phases.
const IDLE = 0;
const HEAD = 1;
const BODY = 2;
const UNTIL_CLOSE = 3;
const CHUNK_SIZE = 4;
const CHUNK_EXT = 5;
const CHUNK_SIZE_LF = 6;
const CHUNK_DATA = 7;
const CHUNK_DATA_CR = 8;
const CHUNK_DATA_LF = 9;
const TRAILER_START = 10;
const TRAILER_LINE = 11;
const TRAILER_LINE_LF = 12;
const TRAILER_END_LF = 13;

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;

/** parseHead results besides the end of the head. */
const INCOMPLETE = -1;
const MALFORMED = -2;

/** The bytes at `at` equal the lower-case ASCII `word`, compared case-insensitively. */
function matchesLower(buf: Buffer, at: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    if (((buf[at + i] as number) | 0x20) !== word.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * One keep-alive connection with at most one request in flight. `send` calls `done` exactly once,
 * never synchronously; a failure destroys the socket and the next `send` connects again.
 */
export class RawHttpConnection {
  private readonly host: string;
  private readonly port: number;
  private socket: Socket | undefined = undefined;
  private done: LoadCallback | undefined = undefined;
  private closed = false;
  /** Waiting for `connect` to finish (RawHttpPool). */
  private ready: ((kind: TransportErrorKind | undefined) => void) | undefined = undefined;

  // Parser state of the response in flight.
  private phase = IDLE;
  private noBody = false;
  private partial: Buffer | undefined = undefined;
  private status = 0;
  private remaining = 0;
  private chunkDigits = 0;
  private closeAfter = false;
  // Head fields of the head being parsed.
  private contentLength = -1;
  private chunked = false;
  private transferEncoding = false;
  private connectionClose = false;
  private connectionKeepAlive = false;

  // Timeouts: one interval per connection compares timestamps, instead of a timer per request.
  private timeoutMs = 0;
  private timer: NodeJS.Timeout | undefined = undefined;
  private sentAt = 0;
  /** Data events seen; the sweep notices progress and restarts the idle clock (undici's body timeout). */
  private progress = 0;
  private seenProgress = 0;

  constructor(host: string, port: number) {
    this.host = host;
    this.port = port;
  }

  send(request: RawRequest, timeoutMs: number, done: LoadCallback): void {
    if (this.closed) return;
    if (this.timeoutMs !== timeoutMs) this.startSweep(timeoutMs);
    this.done = done;
    this.noBody = request.noBody;
    this.beginHead();
    this.sentAt = performance.now();
    this.seenProgress = this.progress;
    (this.socket ?? this.open()).write(request.bytes);
  }

  /**
   * Connects now, before any request: `ready` is called once, with no kind when the socket is
   * connected and with the error's kind when it is not (RawHttpPool opens its connections so).
   */
  connect(ready: (kind: TransportErrorKind | undefined) => void): void {
    if (this.closed) return;
    this.ready = ready;
    const socket = this.socket ?? this.open();
    if (!socket.connecting) this.settle(undefined);
  }

  /** A socket is connected and no request is in flight on it. */
  get connectedIdle(): boolean {
    return this.socket !== undefined && !this.socket.connecting && this.done === undefined && !this.closed;
  }

  private settle(kind: TransportErrorKind | undefined): void {
    const ready = this.ready;
    this.ready = undefined;
    ready?.(kind);
  }

  /** Closes an idle socket; the connection connects again on its next use. */
  retire(): void {
    if (this.done === undefined && this.ready === undefined) this.drop();
  }

  /** Destroys the socket; a request in flight is abandoned without a callback. */
  close(): void {
    this.closed = true;
    this.ready = undefined;
    this.done = undefined;
    this.phase = IDLE;
    this.partial = undefined;
    this.drop();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private open(): Socket {
    // `onread` reads into one reused buffer instead of a new Buffer and a stream push per read.
    const socket: Socket = connect({
      host: this.host,
      port: this.port,
      onread: {
        buffer: readBuffer,
        callback: (length: number, buffer: Uint8Array): boolean => {
          if (this.socket === socket) this.onData(buffer as Buffer, length);
          return true;
        },
      },
    });
    socket.setNoDelay(true);
    this.socket = socket;
    socket.once('connect', () => {
      if (this.socket === socket) this.settle(undefined);
    });
    socket.on('error', (error) => {
      if (this.socket !== socket) return;
      const kind = classifyError(error);
      this.fail(kind);
      this.settle(kind);
    });
    const ended = (): void => {
      if (this.socket === socket) this.onEnd();
    };
    socket.on('end', ended);
    socket.on('close', ended);
    return socket;
  }

  private drop(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
  }

  private startSweep(timeoutMs: number): void {
    if (this.timer) clearInterval(this.timer);
    this.timeoutMs = timeoutMs;
    const period = Math.max(5, Math.min(1000, timeoutMs / 10));
    this.timer = setInterval(() => this.sweep(), period);
    this.timer.unref();
  }

  private sweep(): void {
    if (this.done === undefined) return;
    const now = performance.now();
    if (this.progress !== this.seenProgress) {
      this.seenProgress = this.progress;
      this.sentAt = now;
    } else if (now - this.sentAt >= this.timeoutMs) this.fail('timeout');
  }

  private beginHead(): void {
    this.phase = HEAD;
    this.partial = undefined;
    this.closeAfter = false;
  }

  private onEnd(): void {
    if (this.phase === UNTIL_CLOSE && this.done) {
      this.closeAfter = true;
      this.complete(0);
      return;
    }
    // The server closed mid-response: undici reports this as a socket error ("other side closed").
    if (this.done) this.fail('connection-reset');
    else {
      this.drop();
      this.settle('connection-reset');
    }
  }

  private fail(kind: TransportErrorKind): void {
    const done = this.done;
    this.done = undefined;
    this.phase = IDLE;
    this.partial = undefined;
    this.drop();
    done?.(0, kind);
  }

  /** The response is complete; `leftover` bytes after it mean the server sent something unasked. */
  private complete(leftover: number): void {
    const done = this.done as LoadCallback;
    this.done = undefined;
    this.phase = IDLE;
    if (this.closeAfter || leftover > 0) this.drop();
    done(this.status, undefined);
  }

  /** `chunk` is the shared read buffer: nothing may keep a reference to it. */
  private onData(chunk: Buffer, end: number): void {
    this.progress++;
    switch (this.phase) {
      case IDLE:
        // Bytes nobody asked for: the connection is out of step, start afresh.
        this.drop();
        return;
      case HEAD: {
        // Only a head split across packets is copied.
        const partial = this.partial;
        if (partial === undefined) return this.readHeads(chunk, 0, end);
        this.partial = undefined;
        const joined = Buffer.concat([partial, chunk.subarray(0, end)]);
        return this.readHeads(joined, 0, joined.length);
      }
      case BODY: {
        if (end < this.remaining) {
          this.remaining -= end;
          return;
        }
        this.complete(end - this.remaining);
        return;
      }
      case UNTIL_CLOSE:
        return;
      default:
        this.readChunked(chunk, 0, end);
    }
  }

  /** Parses response heads from `start`, skipping 1xx interim responses, then the body. */
  private readHeads(buf: Buffer, start: number, end: number): void {
    for (;;) {
      const headEnd = this.parseHead(buf, start, end);
      if (headEnd === MALFORMED) return this.fail('other');
      if (headEnd === INCOMPLETE) {
        if (end - start > MAX_HEAD_BYTES) return this.fail('other');
        this.partial = Buffer.from(buf.subarray(start, end));
        return;
      }
      const status = this.status;
      if (status >= 100 && status < 200) {
        // 101 would switch protocols, which this client never asks for.
        if (status === 101) return this.fail('other');
        start = headEnd;
        if (start === end) return;
        continue;
      }
      if (this.connectionClose) this.closeAfter = true;
      if (this.noBody || status === 204 || status === 304) return this.complete(end - headEnd);
      if (this.chunked) {
        this.phase = CHUNK_SIZE;
        this.remaining = 0;
        this.chunkDigits = 0;
        return this.readChunked(buf, headEnd, end);
      }
      if (this.transferEncoding || this.contentLength < 0) {
        // No length and no chunking: the body runs until the server closes.
        this.phase = UNTIL_CLOSE;
        this.closeAfter = true;
        return;
      }
      const available = end - headEnd;
      if (available >= this.contentLength) return this.complete(available - this.contentLength);
      this.remaining = this.contentLength - available;
      this.phase = BODY;
      return;
    }
  }

  /**
   * Parses one head at `start`: status line and header lines up to the empty line. Returns the
   * offset just past it, INCOMPLETE or MALFORMED; records status, framing and connection fields.
   */
  private parseHead(buf: Buffer, start: number, end: number): number {
    // Status line: HTTP/1.x SP 3DIGIT (SP reason)? CRLF
    let lf = start;
    while (lf < end && buf[lf] !== LF) lf++;
    if (lf === end) return INCOMPLETE;
    if (
      lf - start < 13 ||
      buf[lf - 1] !== CR ||
      !matchesLower(buf, start, 'http/1.') ||
      buf[start + 8] !== SP ||
      (buf[start + 12] !== SP && buf[start + 12] !== CR)
    ) {
      return MALFORMED;
    }
    const minor = (buf[start + 7] as number) - 48;
    const d0 = (buf[start + 9] as number) - 48;
    const d1 = (buf[start + 10] as number) - 48;
    const d2 = (buf[start + 11] as number) - 48;
    if (minor < 0 || minor > 9 || d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return MALFORMED;
    this.status = d0 * 100 + d1 * 10 + d2;
    this.contentLength = -1;
    this.chunked = false;
    this.transferEncoding = false;
    this.connectionClose = false;
    this.connectionKeepAlive = false;

    let p = lf + 1;
    for (;;) {
      lf = p;
      while (lf < end && buf[lf] !== LF) lf++;
      if (lf === end) return INCOMPLETE;
      if (lf === p || buf[lf - 1] !== CR) return MALFORMED;
      if (lf === p + 1) break; // the empty line
      let colon = p;
      for (; colon < lf; colon++) {
        const b = buf[colon];
        if (b === COLON) break;
        if (b === SP || b === HTAB || b === CR) return MALFORMED;
      }
      if (colon === p || colon === lf) return MALFORMED;
      let from = colon + 1;
      let to = lf - 1;
      while (from < to && (buf[from] === SP || buf[from] === HTAB)) from++;
      while (to > from && (buf[to - 1] === SP || buf[to - 1] === HTAB)) to--;
      const length = colon - p;
      if (length === 14 && matchesLower(buf, p, 'content-length')) {
        if (from === to) return MALFORMED;
        let value = 0;
        for (let i = from; i < to; i++) {
          const digit = (buf[i] as number) - 48;
          if (digit < 0 || digit > 9 || value > 1e14) return MALFORMED;
          value = value * 10 + digit;
        }
        if (this.contentLength >= 0 && this.contentLength !== value) return MALFORMED;
        this.contentLength = value;
      } else if (length === 17 && matchesLower(buf, p, 'transfer-encoding')) {
        this.transferEncoding = true;
        // Chunked when it is the last coding.
        this.chunked =
          to - from >= 7 &&
          matchesLower(buf, to - 7, 'chunked') &&
          (to - from === 7 || buf[to - 8] === 44 || buf[to - 8] === SP || buf[to - 8] === HTAB);
      } else if (length === 10 && matchesLower(buf, p, 'connection')) {
        this.readConnection(buf, from, to);
      }
      p = lf + 1;
    }
    // As undici (llhttp): a length and a transfer-encoding together are refused.
    if (this.transferEncoding && this.contentLength >= 0) return MALFORMED;
    if (minor === 0 && !this.connectionKeepAlive) this.connectionClose = true;
    return lf + 1;
  }

  /** Finds `close` and `keep-alive` among the comma-separated tokens of a Connection value. */
  private readConnection(buf: Buffer, from: number, to: number): void {
    let i = from;
    while (i < to) {
      while (i < to && (buf[i] === SP || buf[i] === HTAB || buf[i] === 44)) i++;
      let j = i;
      while (j < to && buf[j] !== 44) j++;
      let k = j;
      while (k > i && (buf[k - 1] === SP || buf[k - 1] === HTAB)) k--;
      if (k - i === 5 && matchesLower(buf, i, 'close')) this.connectionClose = true;
      else if (k - i === 10 && matchesLower(buf, i, 'keep-alive')) this.connectionKeepAlive = true;
      i = j;
    }
  }

  /** Decodes a chunked body from `pos`: sizes, extensions, data and trailers, split anywhere. */
  private readChunked(buf: Buffer, pos: number, end: number): void {
    let phase = this.phase;
    let size = this.remaining;
    while (pos < end) {
      const b = buf[pos] as number;
      switch (phase) {
        case CHUNK_SIZE: {
          let digit = -1;
          if (b >= 48 && b <= 57) digit = b - 48;
          else if ((b | 0x20) >= 97 && (b | 0x20) <= 102) digit = (b | 0x20) - 87;
          if (digit >= 0) {
            if (++this.chunkDigits > 12) return this.fail('other');
            size = size * 16 + digit;
          } else if (this.chunkDigits === 0) return this.fail('other');
          else if (b === CR) phase = CHUNK_SIZE_LF;
          else if (b === 59 || b === SP || b === HTAB) phase = CHUNK_EXT;
          else return this.fail('other');
          pos++;
          break;
        }
        case CHUNK_EXT:
          if (b === CR) phase = CHUNK_SIZE_LF;
          else if (b === LF) return this.fail('other');
          pos++;
          break;
        case CHUNK_SIZE_LF:
          if (b !== LF) return this.fail('other');
          phase = size === 0 ? TRAILER_START : CHUNK_DATA;
          pos++;
          break;
        case CHUNK_DATA: {
          const take = Math.min(size, end - pos);
          size -= take;
          pos += take;
          if (size === 0) phase = CHUNK_DATA_CR;
          break;
        }
        case CHUNK_DATA_CR:
          if (b !== CR) return this.fail('other');
          phase = CHUNK_DATA_LF;
          pos++;
          break;
        case CHUNK_DATA_LF:
          if (b !== LF) return this.fail('other');
          phase = CHUNK_SIZE;
          size = 0;
          this.chunkDigits = 0;
          pos++;
          break;
        case TRAILER_START:
          phase = b === CR ? TRAILER_END_LF : TRAILER_LINE;
          pos++;
          break;
        case TRAILER_LINE:
          if (b === CR) phase = TRAILER_LINE_LF;
          pos++;
          break;
        case TRAILER_LINE_LF:
          if (b !== LF) return this.fail('other');
          phase = TRAILER_START;
          pos++;
          break;
        case TRAILER_END_LF:
          if (b !== LF) return this.fail('other');
          return this.complete(end - pos - 1);
      }
    }
    this.phase = phase;
    this.remaining = size;
  }
}

/** A pooled connection with the callback of its request in flight, bound once. */
interface PoolSlot {
  connection: RawHttpConnection;
  done: LoadCallback | undefined;
  answer: LoadCallback;
  /** When it last went idle (performance.now()). */
  idleSince: number;
}

/**
 * How long a connection may sit idle and still be reused: undici's default keep-alive timeout when
 * the server gives no hint. Servers close idle connections (Node and uvicorn after 5 s); a request
 * written while the server's FIN is on its way would fail as connection-reset, so an older idle
 * connection is closed by the pool and the request goes out on a fresh one.
 */
const IDLE_LIMIT_MS = 4000;

/** A request that found every connection busy, waiting for one. */
interface Waiting {
  request: RawRequest;
  timeoutMs: number;
  done: LoadCallback;
  /** performance.now() when it began to wait. */
  since: number;
}

/** Connects in progress at most at once when the pool grows (a frozen server's backlog holds the rest). */
const MAX_CONNECTING = 8;
/** Connects in progress at most at once while the pool is opened ahead of the schedule. */
const PREOPEN_CONCURRENCY = 64;

/**
 * The open model's connections to one `http:` origin: opened before the schedule starts (`preopen`),
 * so no request waits for a TCP handshake, or sits in a frozen server's accept backlog, while its
 * latency runs from its scheduled time. A request that finds every connection busy waits in a
 * queue for the first one free (it is never bound to a connection that is still connecting);
 * `send` tells whether it had to wait, so the load phase can report those requests separately.
 *
 * The pool grows while requests wait, up to `max` connections, but only as fast as the service
 * answers: each response (or failed connect) allows one more connect, a few at a time, as TCP's
 * slow start paces a sender. A slow service gets the connections it needs within a few of its
 * response times; a frozen one gets none while it is frozen. Connections opened to a frozen
 * server overflow its accept backlog, and a request sent on one may wait a second or more past
 * the stall for the handshake to be retried: that is what made percentiles under a stall read high.
 */
export class RawHttpPool {
  private readonly host: string;
  private readonly port: number;
  private readonly max: number;
  private readonly slots: PoolSlot[] = [];
  private readonly idle: PoolSlot[] = [];
  /** Slots whose socket is gone, to connect again when needed. */
  private readonly spare: PoolSlot[] = [];
  private waiting: Waiting[] = [];
  private head = 0;
  private connecting = 0;
  /** Connects allowed beyond keeping `base` connections: one per response or failed connect. */
  private credits = 0;
  /** Connections the pool keeps without credit: those asked for in `preopen`. */
  private base = 0;
  private closed = false;
  private timer: NodeJS.Timeout | undefined = undefined;
  private readonly idleLimitMs: number;

  constructor(host: string, port: number, max: number, options: { idleLimitMs?: number } = {}) {
    this.host = host;
    this.port = port;
    this.max = Math.max(1, max);
    this.idleLimitMs = options.idleLimitMs ?? IDLE_LIMIT_MS;
  }

  /** Connections opened so far (connected, connecting or to be connected again). */
  get size(): number {
    return this.slots.length;
  }

  /**
   * Opens `count` connections (at most `max`), PREOPEN_CONCURRENCY at a time so as not to
   * overflow the server's accept backlog, and resolves with how many connected.
   */
  preopen(count: number): Promise<number> {
    this.base = Math.max(this.base, Math.min(count, this.max));
    const wanted = this.base - this.slots.length;
    if (wanted <= 0) return Promise.resolve(this.idle.length);
    return new Promise((resolve) => {
      let started = 0;
      let settled = 0;
      let connected = 0;
      const next = (): void => {
        if (this.closed) return resolve(connected);
        if (started === wanted) {
          if (settled === wanted) resolve(connected);
          return;
        }
        started++;
        const slot = this.newSlot();
        slot.connection.connect((kind) => {
          settled++;
          if (kind === undefined) {
            connected++;
            this.goIdle(slot);
          } else this.spare.push(slot);
          next();
        });
      };
      for (let i = 0; i < Math.min(wanted, PREOPEN_CONCURRENCY); i++) next();
    });
  }

  /**
   * Sends `request` on a free connection, or queues it until one is free; returns true when it
   * was queued. `done` is called exactly once, never synchronously (a request waiting longer than
   * `timeoutMs` for a connection fails with `timeout`).
   */
  send(request: RawRequest, timeoutMs: number, done: LoadCallback): boolean {
    if (this.closed) return false;
    const now = performance.now();
    for (let slot = this.idle.pop(); slot !== undefined; slot = this.idle.pop()) {
      if (slot.connection.connectedIdle) {
        if (now - slot.idleSince <= this.idleLimitMs) {
          this.dispatch(slot, request, timeoutMs, done);
          return false;
        }
        // Idle too long: the server may be closing it right now.
        slot.connection.retire();
      }
      // Closed (by the server while it was idle, or retired): connected again when needed.
      this.spare.push(slot);
    }
    this.waiting.push({ request, timeoutMs, done, since: performance.now() });
    this.startSweep(timeoutMs);
    this.grow();
    return true;
  }

  /** Destroys every connection; requests in flight or waiting are abandoned without a callback. */
  close(): void {
    this.closed = true;
    for (const slot of this.slots) slot.connection.close();
    this.waiting = [];
    this.head = 0;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private newSlot(): PoolSlot {
    const slot: PoolSlot = {
      connection: new RawHttpConnection(this.host, this.port),
      done: undefined,
      idleSince: 0,
      answer: (status, kind) => {
        const done = slot.done as LoadCallback;
        slot.done = undefined;
        if (kind !== 'timeout' && this.credits < MAX_CONNECTING) this.credits++;
        this.release(slot);
        done(status, kind);
      },
    };
    this.slots.push(slot);
    return slot;
  }

  private dispatch(slot: PoolSlot, request: RawRequest, timeoutMs: number, done: LoadCallback): void {
    slot.done = done;
    slot.connection.send(request, timeoutMs, slot.answer);
  }

  /** A connection is free: the longest-waiting request takes it, or it goes idle. */
  private release(slot: PoolSlot): void {
    if (this.closed) return;
    if (!slot.connection.connectedIdle) {
      this.spare.push(slot);
      this.grow();
      return;
    }
    const next = this.nextWaiting();
    if (next) this.dispatch(slot, next.request, next.timeoutMs, next.done);
    else this.goIdle(slot);
  }

  private goIdle(slot: PoolSlot): void {
    slot.idleSince = performance.now();
    this.idle.push(slot);
  }

  private nextWaiting(): Waiting | undefined {
    if (this.head === this.waiting.length) return undefined;
    const next = this.waiting[this.head] as Waiting;
    this.waiting[this.head++] = undefined as unknown as Waiting;
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    return next;
  }

  /** Connects more while requests wait: a few at a time, paced by responses, up to `max` connections. */
  private grow(): void {
    while (!this.closed && this.connecting < MAX_CONNECTING && this.waiting.length - this.head > this.connecting) {
      const live = this.slots.length - this.spare.length - this.connecting;
      const fromCredit = live + this.connecting >= this.base;
      if (fromCredit && this.credits === 0) return;
      const slot = this.spare.pop() ?? (this.slots.length < this.max ? this.newSlot() : undefined);
      if (!slot) return;
      if (fromCredit) this.credits--;
      this.connecting++;
      slot.connection.connect((kind) => {
        this.connecting--;
        if (kind === undefined) return this.release(slot);
        this.spare.push(slot);
        if (this.credits < MAX_CONNECTING) this.credits++;
        // As when undici cannot connect: the request that needed the connection fails with the cause.
        const failed = this.nextWaiting();
        if (failed) failed.done(0, kind);
        this.grow();
      });
    }
  }

  private startSweep(timeoutMs: number): void {
    if (this.timer) return;
    const period = Math.max(5, Math.min(1000, timeoutMs / 10));
    this.timer = setInterval(() => {
      const now = performance.now();
      for (;;) {
        const first = this.head < this.waiting.length ? (this.waiting[this.head] as Waiting) : undefined;
        if (!first || now - first.since < first.timeoutMs) break;
        this.nextWaiting();
        first.done(0, 'timeout');
      }
    }, period);
    this.timer.unref();
  }
}
