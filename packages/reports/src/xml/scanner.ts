// A streaming, byte-level XML scanner specialised for machine-written reports (JUnit, Cobertura,
// JaCoCo, Checkstyle). Hand-written because report files reach gigabytes: it skips large text
// (logs in system-out) with native Buffer.indexOf and keeps only what its handler asks for.
// Safety: a report in a pull request is untrusted input, so a DOCTYPE with an internal subset
// (where entities are declared) is rejected, and only the five predefined entities and numeric
// character references are decoded; nothing is ever fetched or expanded.

const NO_BYTES = Buffer.alloc(0);
/** Per attribute in `spans`: name start, name end, value start, value end, flags. */
const STRIDE = 5;
const HAS_ENTITY = 1;
const VALUE_NOT_ASCII = 2;
const NAME_NOT_ASCII = 4;
/** Values kept by `XmlAttributes.shared` (a power of two). */
const SHARED_SLOTS = 256;
/** The longest value a KeptValue copies as bytes (longer ones are decoded when the input goes). */
const KEPT_BYTES = 256;

/**
 * An attribute value kept past `XmlHandler.open` without being decoded: a plain ASCII value
 * stays where it lies in the scanner's input while that input is there (the rest of the chunk),
 * is copied as bytes when the scanner lets go of it (once per chunk at most, not per element),
 * and becomes a string only if `text` is asked for. Its characters can be read without the
 * string (`length`, `charCodeAt`).
 */
export class KeptValue {
  /** Where the bytes lie: the scanner's input, or `copy`. */
  private source: Buffer = NO_BYTES;
  private from = 0;
  /** Bytes of the value at `from` in `source`; -1 when the attribute was absent or `decoded` holds it. */
  private size = -1;
  private decoded: string | undefined = undefined;
  private copy: Buffer = NO_BYTES;
  /** @internal Registered with the attributes, to be detached from the scanner's input. */
  held = false;

  /** Whether the attribute was present. */
  get present(): boolean {
    return this.size !== -1 || this.decoded !== undefined;
  }

  /** Its length in UTF-16 code units, as the string's (0 when absent). */
  get length(): number {
    return this.decoded === undefined ? Math.max(this.size, 0) : this.decoded.length;
  }

  charCodeAt(index: number): number {
    return this.decoded === undefined ? (this.source[this.from + index] as number) : this.decoded.charCodeAt(index);
  }

  /** The value as a string (made once), or undefined when the attribute was absent. */
  text(): string | undefined {
    if (this.decoded === undefined && this.size !== -1) {
      this.decoded = decodeAscii(this.source, this.from, this.from + this.size);
      this.size = -1;
      this.source = NO_BYTES;
    }
    return this.decoded;
  }

  /** @internal The value is plain ASCII at `from`..`to` of the scanner's input. */
  hold(buf: Buffer, from: number, to: number): void {
    this.source = buf;
    this.from = from;
    this.size = to - from;
    this.decoded = undefined;
  }

  /** @internal */
  setText(text: string | undefined): void {
    this.size = -1;
    this.decoded = text;
    this.source = NO_BYTES;
  }

  /** @internal The scanner is done with its input: the bytes still held are copied. */
  detach(): void {
    this.held = false;
    if (this.decoded !== undefined || this.size <= 0 || this.source === this.copy) return;
    if (this.size > KEPT_BYTES) {
      this.text();
      return;
    }
    if (this.copy.length === 0) this.copy = Buffer.alloc(KEPT_BYTES);
    this.source.copy(this.copy, 0, this.from, this.from + this.size);
    this.source = this.copy;
    this.from = 0;
  }
}

/**
 * The attributes of the element being opened, read lazily: the scanner only records where each
 * name and value lies in its input (and checks them), and a value becomes a string (or a number)
 * only when a handler asks for it. Valid inside `XmlHandler.open` only: the scanner reuses it.
 */
export class XmlAttributes {
  /** @internal The input the spans point into. */
  buf: Buffer = NO_BYTES;
  /** @internal */
  count = 0;
  /** @internal A bit per first character of the names (its low five bits): most look-ups miss. */
  firsts = 0;
  /** @internal */
  spans = new Int32Array(16 * STRIDE);

  /** The decoded value of `name`, or undefined when the element has no such attribute. */
  get(name: string): string | undefined {
    const k = this.find(name);
    return k === -1 ? undefined : this.value(k);
  }

  /**
   * The value of `name` as `Number(value)` would read it, or undefined when absent; plain
   * decimals ("12", "0.375") are read from the bytes without making a string.
   */
  number(name: string): number | undefined {
    const k = this.find(name);
    if (k === -1) return undefined;
    const spans = this.spans;
    const from = spans[k + 2] as number;
    const to = spans[k + 3] as number;
    if (spans[k + 4] === 0 && to - from <= 15) {
      const buf = this.buf;
      // Up to nine digits stay a small integer (no heap number is made for it).
      const short = Math.min(to, from + 9);
      let whole = 0;
      let i = from;
      for (; i < short; i++) {
        const d = (buf[i] as number) - 0x30;
        if (d < 0 || d > 9) break;
        whole = (whole * 10 + d) | 0;
      }
      if (i === to) return whole;
      for (; i < to; i++) {
        const d = (buf[i] as number) - 0x30;
        if (d < 0 || d > 9) break;
        whole = whole * 10 + d;
      }
      if (i === to) return whole;
      // A decimal fraction: integer over a power of ten is exactly what Number() rounds to.
      if (buf[i] === 0x2e && i > from && i + 1 < to) {
        let scale = 1;
        for (i++; i < to; i++) {
          const d = (buf[i] as number) - 0x30;
          if (d < 0 || d > 9) break;
          whole = whole * 10 + d;
          scale *= 10;
        }
        if (i === to) return whole / scale;
      }
    }
    return Number(this.value(k));
  }

  /**
   * Like `get`, for values that repeat from element to element (class names, file paths): the
   * string made for a value is kept and handed out again while the same bytes recur, instead of
   * a new one being decoded each time.
   */
  shared(name: string): string | undefined {
    const k = this.find(name);
    if (k === -1) return undefined;
    const spans = this.spans;
    const from = spans[k + 2] as number;
    const to = spans[k + 3] as number;
    if (spans[k + 4] !== 0 || to - from > 256) return this.value(k);
    const buf = this.buf;
    let hash = to - from;
    for (let i = from; i < to; i++) hash = Math.imul(hash ^ (buf[i] as number), 0x01000193);
    const slot = (hash ^ (hash >>> 15)) & (SHARED_SLOTS - 1);
    const cached = this.sharedValues[slot];
    if (cached !== undefined && sameAscii(cached, buf, from, to)) return cached;
    const value = decodeAscii(buf, from, to);
    this.sharedValues[slot] = value;
    return value;
  }

  private readonly sharedValues: (string | undefined)[] = new Array<string | undefined>(SHARED_SLOTS).fill(undefined);

  /**
   * Keeps the value of `name` in `into` (see KeptValue), to be read after `open` returns;
   * returns whether the attribute is present.
   */
  keep(name: string, into: KeptValue): boolean {
    const k = this.find(name);
    if (k === -1) {
      into.setText(undefined);
      return false;
    }
    const spans = this.spans;
    const from = spans[k + 2] as number;
    const to = spans[k + 3] as number;
    if (((spans[k + 4] as number) & (HAS_ENTITY | VALUE_NOT_ASCII)) === 0) {
      into.hold(this.buf, from, to);
      if (!into.held) {
        into.held = true;
        this.held.push(into);
      }
    } else into.setText(this.value(k));
    return true;
  }

  private readonly held: KeptValue[] = [];

  /** @internal The scanner is done with its input: kept values still in it are copied out. */
  release(): void {
    const held = this.held;
    for (let i = 0; i < held.length; i++) (held[i] as KeptValue).detach();
    held.length = 0;
  }

  /** Whether `name` is present and its value is exactly `expected` (compared without a string). */
  is(name: string, expected: string): boolean {
    const k = this.find(name);
    if (k === -1) return false;
    const spans = this.spans;
    if (spans[k + 4] !== 0) return this.value(k) === expected;
    return sameAscii(expected, this.buf, spans[k + 2] as number, spans[k + 3] as number);
  }

  /** Every attribute, decoded (tests and diagnostics; handlers should ask for what they read). */
  toObject(): Record<string, string> {
    const out: Record<string, string> = {};
    for (let k = 0; k < this.count * STRIDE; k += STRIDE) out[this.nameAt(k)] = this.value(k);
    return out;
  }

  private nameAt(k: number): string {
    return this.buf.toString('utf8', this.spans[k], this.spans[k + 1]);
  }

  /** Index in `spans` of the last attribute called `name` (the last one wins, as in an object). */
  private find(name: string): number {
    if ((this.firsts & (1 << (name.charCodeAt(0) & 31))) === 0) return -1;
    const spans = this.spans;
    const buf = this.buf;
    const length = name.length;
    for (let k = (this.count - 1) * STRIDE; k >= 0; k -= STRIDE) {
      const from = spans[k] as number;
      if ((spans[k + 4] as number) & NAME_NOT_ASCII) {
        if (this.nameAt(k) === name) return k;
      } else if ((spans[k + 1] as number) - from === length) {
        let i = 0;
        while (i < length && name.charCodeAt(i) === buf[from + i]) i++;
        if (i === length) return k;
      }
    }
    return -1;
  }

  private value(k: number): string {
    const spans = this.spans;
    const from = spans[k + 2] as number;
    const to = spans[k + 3] as number;
    const flags = spans[k + 4] as number;
    // Entities were checked when the tag was scanned: decoding cannot fail here.
    if (flags & HAS_ENTITY) return decodeEntities(this.buf.toString('utf8', from, to));
    if (flags & VALUE_NOT_ASCII) return this.buf.toString('utf8', from, to);
    return decodeAscii(this.buf, from, to);
  }
}

export interface XmlHandler {
  /**
   * An element starts. Returns how many characters of text inside it to collect and hand to
   * `close` (0 or undefined: none; text is then skipped without being decoded).
   */
  open(name: string, attributes: XmlAttributes): number | void;
  /** The element ends; `text` holds its collected text (and that of its children) when asked. */
  close(name: string, text: string): void;
}

/** A well-formedness or safety error at a byte offset of the input. */
export class XmlScanError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'XmlScanError';
    this.offset = offset;
  }
}

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const QMARK = 0x3f;
const BANG = 0x21;
const EQ = 0x3d;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const AMP = 0x26;

/** The largest single tag (with its attributes) we hold while waiting for more input. */
const MAX_TAG_BYTES = 32 * 1024 * 1024;

const enum_TEXT = 0;
const enum_CDATA = 1;
const enum_COMMENT = 2;
type Mode = typeof enum_TEXT | typeof enum_CDATA | typeof enum_COMMENT;

/** Interned element names (a power of two). */
const NAME_SLOTS = 1024;

/** Per byte, in an attribute name: NAME_END ends it ('=', '>', '/', white space), NAME_NOT_ASCII marks it. */
const NAME_END = 1;
const NAME_BYTES = new Uint8Array(256);
for (const c of [EQ, GT, SLASH, 0x20, 0x0a, 0x0d, 0x09]) NAME_BYTES[c] = NAME_END;
NAME_BYTES.fill(NAME_NOT_ASCII, 0x80);
/** Per byte, in an attribute value: 1 for what the scan of a value looks at (quotes, '<', '&', not ASCII). */
const VALUE_BYTES = new Uint8Array(256);
for (const c of [DQUOTE, SQUOTE, LT, AMP]) VALUE_BYTES[c] = 1;
VALUE_BYTES.fill(1, 0x80);

const CDATA_END = Buffer.from(']]>', 'latin1');
const COMMENT_END = Buffer.from('-->', 'latin1');

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const PREDEFINED_NAMES = Object.keys(PREDEFINED);
const ENTITY = /&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_:][\w.:-]*)?(;?)/g;

/** Decodes the predefined entities and character references; anything else is an error. */
export function decodeEntities(text: string): string {
  if (text.indexOf('&') === -1) return text;
  return text.replace(ENTITY, (_match, ref: string | undefined, semi: string) => {
    if (!ref || !semi) throw new Error(`malformed entity reference near '${text.slice(0, 40)}'`);
    if (ref.charCodeAt(0) === 0x23) {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!(code > 0 && code <= 0x10ffff)) throw new Error(`invalid character reference &${ref};`);
      return String.fromCodePoint(code);
    }
    const value = PREDEFINED[ref];
    if (value === undefined) throw new Error(`undefined entity &${ref}; (entity declarations are not allowed)`);
    return value;
  });
}

/**
 * Whether every '&' in `from`..`to` starts one of the five predefined entities or a character
 * reference in range, read from the bytes: the common case of a value with entities, checked
 * without making a string. False sends the value to `decodeEntities`, which says what is wrong.
 */
function plainEntities(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    if (buf[i] !== AMP) continue;
    let semi = i + 2;
    const most = Math.min(to, i + 12);
    while (semi < most && buf[semi] !== 0x3b) semi++;
    if (semi >= most) return false;
    if (buf[i + 1] === 0x23) {
      const hex = buf[i + 2] === 0x78;
      let code = 0;
      let k = hex ? i + 3 : i + 2;
      if (k === semi) return false;
      for (; k < semi; k++) {
        const c = buf[k] as number;
        const d =
          c >= 0x30 && c <= 0x39 ? c - 0x30 : hex && (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1;
        if (d === -1) return false;
        code = code * (hex ? 16 : 10) + d;
      }
      if (!(code > 0 && code <= 0x10ffff)) return false;
    } else if (!PREDEFINED_NAMES.some((n) => sameAscii(n, buf, i + 1, semi))) return false;
    i = semi;
  }
  return true;
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** Incremental scanner: feed chunks in order, then `end()`. */
export class XmlScanner {
  private readonly handler: XmlHandler;
  private pending: Buffer = Buffer.alloc(0);
  /** Absolute offset of the first byte of the current buffer. */
  private base = 0;
  private mode: Mode = enum_TEXT;
  /**
   * The open elements are the first `depth` entries of `stack`, `budgets` and `parts` (written
   * in place, not pushed and popped: entries past `depth` are stale).
   */
  private depth = 0;
  private readonly stack: string[] = [];
  /** Per open element: remaining characters to collect (0 = not collecting). */
  private readonly budgets: number[] = [];
  /** Per open element that collects: the pieces collected. */
  private readonly parts: (string[] | undefined)[] = [];
  /** How many open elements still collect. */
  private capturing = 0;
  private sawRoot = false;
  private rootClosed = false;
  private first = true;
  private nameHash = 0;
  private readonly names: (string | undefined)[] = new Array<string | undefined>(NAME_SLOTS).fill(undefined);
  /**
   * Per depth, the (ASCII) name of the element last opened there: siblings mostly share their
   * name (test case after test case), so a start tag is first compared with it.
   */
  private readonly lastNames: (string | undefined)[] = [];
  /** Reused for every start tag. */
  private readonly attributes = new XmlAttributes();

  constructor(handler: XmlHandler) {
    this.handler = handler;
  }

  /**
   * Scans `buf` (the unconsumed rest of the previous call followed by new input) and returns
   * how many bytes it consumed; the caller passes the rest again with more input. This lets the
   * file reader keep one work buffer instead of allocating per chunk.
   */
  scan(buf: Buffer): number {
    let pos = 0;
    if (this.first) {
      if (buf.length < 3) return 0;
      this.first = false;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
      else if ((buf[0] === 0xfe && buf[1] === 0xff) || (buf[0] === 0xff && buf[1] === 0xfe)) {
        throw new XmlScanError('UTF-16 encoded XML is not supported; write reports as UTF-8', 0);
      }
    }
    try {
      const consumed = this.scanFrom(buf, pos);
      this.base += consumed;
      return consumed;
    } finally {
      this.attributes.release();
    }
  }

  private scanFrom(buf: Buffer, start: number): number {
    // The paths taken when the input ends inside a section or a tag (once per chunk) do their
    // arithmetic before they branch: an operation first run after the function is optimized
    // deoptimizes it, and recompiling the scanner costs more CPU than a few subtractions.
    let pos = start;
    const len = buf.length;
    while (pos < len) {
      if (this.mode === enum_CDATA || this.mode === enum_COMMENT) {
        const cdata = this.mode === enum_CDATA;
        let end = buf.indexOf(cdata ? CDATA_END : COMMENT_END, pos);
        const found = end !== -1;
        // Not found: keep the last two bytes, the terminator may straddle chunks.
        const tail = len - 2 > pos ? len - 2 : pos;
        if (!found) end = tail;
        if (cdata && this.capturing) {
          if (!found) end = Math.max(pos, utf8Boundary(buf, pos, end));
          this.collect(buf.toString('utf8', pos, end));
        }
        if (!found) return end;
        pos = end + 3;
        this.mode = enum_TEXT;
        continue;
      }
      // Between tags there is mostly a newline and indentation: look a few bytes ahead in JS
      // before the native search (a call costs more than a short loop).
      let lt = pos;
      const near = Math.min(len, pos + 16);
      while (lt < near && buf[lt] !== LT) lt++;
      if (lt === near) lt = near === len ? -1 : buf.indexOf(LT, near);
      const textEnd = lt === -1 ? len : lt;
      if (textEnd > pos) {
        if (this.depth === 0) this.checkOutsideText(buf, pos, textEnd);
        else if (this.capturing) {
          // An entity reference or a UTF-8 sequence may straddle chunks: hold back its start.
          let end = textEnd;
          if (lt === -1) {
            const amp = buf.lastIndexOf(AMP, textEnd - 1);
            if (amp >= pos && buf.indexOf(0x3b, amp) === -1 && textEnd - amp < 16) end = amp;
            else end = utf8Boundary(buf, pos, end);
          }
          this.collectText(buf, pos, end);
          if (end < textEnd) return end;
        }
      }
      if (lt === -1) return len;
      const next = this.markup(buf, lt);
      const tooLarge = len - lt > MAX_TAG_BYTES;
      if (next === -1) {
        if (tooLarge) throw new XmlScanError('markup too large (over 32 MiB)', this.base + lt);
        return lt;
      }
      pos = next;
    }
    return len;
  }

  /** Convenience for input already in memory in one or more pieces. */
  feed(chunk: Buffer): void {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const consumed = this.scan(buf);
    this.pending = Buffer.from(buf.subarray(consumed));
  }

  /** Input is over; `rest` is what the last `scan` left unconsumed. */
  end(rest: Buffer = this.pending): void {
    const offset = this.base + rest.length;
    if (this.mode === enum_CDATA) throw new XmlScanError('unexpected end of file inside a CDATA section', offset);
    if (this.mode === enum_COMMENT) throw new XmlScanError('unexpected end of file inside a comment', offset);
    if (rest.length > 0) {
      const text = rest.toString('latin1').trim();
      if (text.startsWith('<')) throw new XmlScanError('unexpected end of file inside a tag', this.base);
      if (text !== '') {
        if (this.depth === 0 && !this.sawRoot) throw new XmlScanError('not an XML document', 0);
      }
    }
    if (this.depth > 0) {
      throw new XmlScanError(`unexpected end of file: <${this.stack[this.depth - 1]}> is not closed`, offset);
    }
    if (!this.sawRoot) throw new XmlScanError('no root element', offset);
  }

  private checkOutsideText(buf: Buffer, from: number, to: number): void {
    for (let i = from; i < to; i++) {
      if (!isSpace(buf[i] as number)) {
        throw new XmlScanError(
          this.rootClosed ? 'content after the root element' : 'text before the root element',
          this.base + i,
        );
      }
    }
  }

  private collect(text: string): void {
    // Every collecting ancestor gets the text, each up to its own budget.
    for (let i = this.depth - 1; i >= 0; i--) {
      const budget = this.budgets[i] as number;
      if (budget <= 0) continue;
      const piece = text.length > budget ? text.slice(0, budget) : text;
      (this.parts[i] as string[]).push(piece);
      this.budgets[i] = budget - piece.length;
      if (budget === piece.length) this.capturing--;
    }
  }

  private collectText(buf: Buffer, from: number, to: number): void {
    // Decode no more than the largest budget needs (4 bytes per character at most).
    let budget = 0;
    for (let i = 0; i < this.depth; i++) budget = Math.max(budget, this.budgets[i] as number);
    const end = Math.min(to, from + budget * 4 + 16);
    let text = buf.toString('utf8', from, end);
    if (end < to) {
      const amp = text.lastIndexOf('&');
      if (amp !== -1 && text.indexOf(';', amp) === -1) text = text.slice(0, amp);
    }
    try {
      this.collect(decodeEntities(text));
    } catch (error) {
      throw new XmlScanError((error as Error).message, this.base + from);
    }
  }

  /** Handles markup at `lt`; returns the position after it, or -1 when it is incomplete. */
  private markup(buf: Buffer, lt: number): number {
    const len = buf.length;
    if (lt + 1 >= len) return -1;
    const next = buf[lt + 1] as number;
    if (next === SLASH) return this.closeTag(buf, lt);
    if (next === QMARK) {
      const end = buf.indexOf('?>', lt + 2, 'latin1');
      return end === -1 ? -1 : end + 2;
    }
    if (next === BANG) {
      if (len - lt < 4) return -1;
      if (buf[lt + 2] === 0x2d && buf[lt + 3] === 0x2d) {
        this.mode = enum_COMMENT;
        return lt + 4;
      }
      // Not enough bytes yet to tell CDATA from a DOCTYPE.
      if (len - lt < 9) return -1;
      if (buf[lt + 2] === 0x5b && sameAscii('CDATA[', buf, lt + 3, lt + 9)) {
        if (this.depth === 0) throw new XmlScanError('CDATA outside the root element', this.base + lt);
        this.mode = enum_CDATA;
        return lt + 9;
      }
      const head = buf.toString('latin1', lt, lt + 9);
      if (head === '<!DOCTYPE') return this.doctype(buf, lt);
      throw new XmlScanError(`unexpected markup '${head}'`, this.base + lt);
    }
    return this.openTag(buf, lt);
  }

  private doctype(buf: Buffer, lt: number): number {
    if (this.sawRoot) throw new XmlScanError('DOCTYPE after the root element', this.base + lt);
    const gt = buf.indexOf(GT, lt);
    const bracket = buf.indexOf(0x5b, lt);
    if (bracket !== -1 && (gt === -1 || bracket < gt)) {
      // An internal subset is where entities (and entity bombs) are declared: refuse it outright.
      throw new XmlScanError(
        'DOCTYPE with an internal subset (entity declarations) is not allowed in reports',
        this.base + lt,
      );
    }
    if (gt === -1) return -1;
    // A SYSTEM or PUBLIC identifier (JaCoCo's report.dtd) is skipped: external DTDs are never loaded.
    return gt + 1;
  }

  /** End of the element name starting at `from`; leaves its hash in `nameHash` (-1 when not ASCII). */
  private readName(buf: Buffer, from: number): number {
    let i = from;
    const len = buf.length;
    let hash = 0;
    while (i < len) {
      const b = buf[i] as number;
      if (b === GT || b === SLASH || b === EQ || (b <= 0x20 && isSpace(b))) break;
      if (b >= 0x80) hash = -1;
      else if (hash !== -1) hash = (Math.imul(hash, 31) + b) & 0x3fffffff;
      i++;
    }
    this.nameHash = hash;
    return i;
  }

  /** Element names repeat millions of times: intern them instead of decoding each. */
  private name(buf: Buffer, from: number, to: number): string {
    const hash = this.nameHash;
    if (hash === -1 || to - from > 64) return buf.toString('utf8', from, to);
    const slot = (hash + to - from) & (NAME_SLOTS - 1);
    const cached = this.names[slot];
    if (cached !== undefined && sameAscii(cached, buf, from, to)) return cached;
    const value = internalize(buf.toString('latin1', from, to));
    this.names[slot] = value;
    return value;
  }

  /**
   * An element's start tag at `lt`. Attributes are checked here (quoting, '<', entities) and
   * recorded as byte spans; nothing is decoded unless the handler asks.
   */
  private openTag(buf: Buffer, lt: number): number {
    const len = buf.length;
    if (this.rootClosed) throw new XmlScanError('a second root element', this.base + lt);
    const depth = this.depth;
    const last = this.lastNames[depth];
    let name = last ?? '';
    let nameEnd = last === undefined ? -1 : nameAt(last, buf, lt + 1);
    if (nameEnd === -1) {
      nameEnd = this.readName(buf, lt + 1);
      if (nameEnd >= len) return -1;
      if (nameEnd === lt + 1) throw new XmlScanError("'<' not followed by a name", this.base + lt);
      name = this.name(buf, lt + 1, nameEnd);
      if (this.nameHash !== -1) this.lastNames[depth] = name;
    }
    const attributes = this.attributes;
    let spans = attributes.spans;
    let count = 0;
    let firsts = 0;
    let i = nameEnd;
    for (;;) {
      while (i < len && isSpace(buf[i] as number)) i++;
      if (i >= len) return -1;
      const b = buf[i] as number;
      if (b === GT || b === SLASH) {
        if (b === SLASH) {
          if (i + 1 >= len) return -1;
          if (buf[i + 1] !== GT) throw new XmlScanError(`malformed tag <${name}>`, this.base + i);
        }
        attributes.buf = buf;
        attributes.count = count;
        attributes.firsts = firsts;
        this.start(name, attributes, lt);
        attributes.count = 0;
        attributes.buf = NO_BYTES;
        if (b === GT) return i + 1;
        this.finish(name);
        return i + 2;
      }
      // The attribute's name (one table look-up per byte).
      const nameFrom = i;
      let flags = 0;
      for (; i < len; i++) {
        const kind = NAME_BYTES[buf[i] as number] as number;
        if (kind !== 0) {
          if (kind === NAME_END) break;
          flags = NAME_NOT_ASCII;
        }
      }
      if (i >= len) return -1;
      if (i === nameFrom) throw new XmlScanError(`malformed attribute in <${name}>`, this.base + i);
      const nameTo = i;
      while (i < len && isSpace(buf[i] as number)) i++;
      if (i >= len) return -1;
      if (buf[i] !== EQ) {
        throw new XmlScanError(
          `attribute '${buf.toString('utf8', nameFrom, nameTo)}' of <${name}> has no value`,
          this.base + i,
        );
      }
      i++;
      while (i < len && isSpace(buf[i] as number)) i++;
      if (i >= len) return -1;
      const quote = buf[i];
      if (quote !== DQUOTE && quote !== SQUOTE) {
        throw new XmlScanError(
          `attribute '${buf.toString('utf8', nameFrom, nameTo)}' of <${name}> is not quoted`,
          this.base + i,
        );
      }
      // The value, up to the closing quote: short values are scanned faster in JS than natively.
      const opening = i;
      const valueFrom = i + 1;
      let j = valueFrom;
      for (;;) {
        if (j >= len) return -1;
        const c = buf[j] as number;
        if (VALUE_BYTES[c] !== 0) {
          if (c === quote) break;
          if (c === LT) {
            throw new XmlScanError(
              `'<' in the value of attribute '${buf.toString('utf8', nameFrom, nameTo)}' of <${name}>`,
              this.base + opening,
            );
          }
          if (c === AMP) flags |= HAS_ENTITY;
          else if (c >= 0x80) flags |= VALUE_NOT_ASCII;
        }
        j++;
      }
      if (flags & HAS_ENTITY && !plainEntities(buf, valueFrom, j)) {
        try {
          decodeEntities(buf.toString('utf8', valueFrom, j));
        } catch (error) {
          throw new XmlScanError((error as Error).message, this.base + opening);
        }
      }
      const at = count * STRIDE;
      if (at + STRIDE > spans.length) {
        const bigger = new Int32Array(spans.length * 2);
        bigger.set(spans);
        spans = attributes.spans = bigger;
      }
      spans[at] = nameFrom;
      spans[at + 1] = nameTo;
      spans[at + 2] = valueFrom;
      spans[at + 3] = j;
      spans[at + 4] = flags;
      const first = buf[nameFrom] as number;
      // (A name starting with a multi-byte character could match any look-up.)
      firsts |= first < 0x80 ? 1 << (first & 31) : -1;
      count++;
      i = j + 1;
      // (Not read past the end: an out-of-bounds read would deoptimize this function.)
      const after = i < len ? (buf[i] as number) : GT;
      if (after !== GT && after !== SLASH && !isSpace(after)) {
        throw new XmlScanError(
          `missing space after attribute '${buf.toString('utf8', nameFrom, nameTo)}' of <${name}>`,
          this.base + i,
        );
      }
    }
  }

  private start(name: string, attributes: XmlAttributes, lt: number): void {
    this.sawRoot = true;
    const depth = this.depth;
    this.stack[depth] = name;
    let budget: number;
    try {
      budget = this.handler.open(name, attributes) || 0;
    } catch (error) {
      throw new XmlScanError((error as Error).message, this.base + lt);
    }
    this.budgets[depth] = budget;
    if (budget > 0) {
      this.parts[depth] = [];
      this.capturing++;
    }
    this.depth = depth + 1;
  }

  private finish(name: string): void {
    const depth = this.depth - 1;
    this.depth = depth;
    let text = '';
    const parts = this.parts[depth];
    if (parts !== undefined) {
      text = parts.length === 1 ? (parts[0] as string) : parts.join('');
      this.parts[depth] = undefined;
      if ((this.budgets[depth] as number) > 0) this.capturing--;
    }
    this.handler.close(name, text);
    if (this.depth === 0) this.rootClosed = true;
  }

  private closeTag(buf: Buffer, lt: number): number {
    const len = buf.length;
    const open = this.stack[this.depth - 1];
    if (open !== undefined) {
      // Mostly the open element's name then '>': compared byte by byte, no string is made.
      const end = lt + 2 + open.length;
      let i = lt + 2;
      for (let k = 0; i < end && i < len; k++, i++) {
        const c = open.charCodeAt(k);
        if (c !== buf[i] || c >= 0x80) break;
      }
      if (i === end) {
        while (i < len && isSpace(buf[i] as number)) i++;
        if (i >= len) return -1;
        if (buf[i] === GT) {
          this.finish(open);
          return i + 1;
        }
      } else if (i >= len) return -1;
    }
    // Closing tags are short: a loop in JS finds their end sooner than a native search.
    let gt = lt + 2;
    while (gt < len && buf[gt] !== GT) gt++;
    if (gt >= len) return -1;
    let end = gt;
    while (end > lt + 2 && isSpace(buf[end - 1] as number)) end--;
    if (open === undefined || open !== buf.toString('utf8', lt + 2, end)) {
      const name = buf.toString('utf8', lt + 2, end);
      throw new XmlScanError(
        open === undefined
          ? `closing tag </${name}> without an open element`
          : `closing tag </${name}> does not match <${open}>`,
        this.base + lt,
      );
    }
    this.finish(open);
    return gt + 1;
  }
}

/** Moves `end` back to the start of a UTF-8 sequence that it would cut. */
function utf8Boundary(buf: Buffer, from: number, end: number): number {
  let i = end - 1;
  let back = 0;
  while (i >= from && back < 4 && ((buf[i] as number) & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i < from || (buf[i] as number) < 0xc0) return end;
  const lead = buf[i] as number;
  const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
  return end - i < size ? i : end;
}

/**
 * Where the element name `name` (ASCII) ends when the bytes at `from` are that name followed by
 * the end of a name (space, '>' or '/'); -1 otherwise, or when the input ends too soon to tell.
 */
function nameAt(name: string, buf: Buffer, from: number): number {
  const end = from + name.length;
  if (end >= buf.length) return -1;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) !== buf[from + i]) return -1;
  const b = buf[end] as number;
  return b === GT || b === SLASH || isSpace(b) ? end : -1;
}

/**
 * The same string, internalized (as property names are): element names are compared with
 * constants in every handler, and two internalized strings compare by identity.
 */
function internalize(text: string): string {
  for (const key in { [text]: 0 }) return key;
  return text;
}

function sameAscii(text: string, buf: Buffer, from: number, to: number): boolean {
  if (text.length !== to - from) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== buf[from + i]) return false;
  return true;
}

/**
 * Attribute values are mostly short ASCII. Up to 12 characters, building them in JS beats a
 * native call; longer ones would become chains of concatenations (slow to hash and to collect).
 */
function decodeAscii(buf: Buffer, from: number, to: number): string {
  const length = to - from;
  if (length === 0) return '';
  if (length > 12) return buf.toString('latin1', from, to);
  let out = '';
  for (let i = from; i < to; i++) out += String.fromCharCode(buf[i] as number);
  return out;
}
