/**
 * The plain JSON that the fast path of reading facts (facts-scan.ts) takes: a
 * window over the text, refilled from a byte source, and readers for the
 * tokens of that subset of JSON. Anything outside it (an escape, a character
 * past ASCII, a minus sign, a token cut by the window's end) makes a reader
 * leave (`LEAVE`), and the snapshot goes to the general path.
 *
 * Numbers are exact: an integer mantissa of at most 15 digits divided by a
 * power of ten up to 10^15 is one correctly rounded IEEE division of two
 * exact doubles, the value `JSON.parse` gives (Clinger's fast path); longer
 * ones go through `Number`.
 */

/** Reads up to `length` bytes into `into` at `offset`; returns how many, 0 at the end (`fs.readSync`'s shape). */
export type ByteSource = (into: Uint8Array, offset: number, length: number) => number;

/** The window's size, and how much of it must be left unread before an item of a list is read (else it is refilled). */
const WINDOW = 64 * 1024;
const MARGIN = 16 * 1024;

/** Thrown to leave the scan; one shared value, so leaving captures no stack. */
export const LEAVE = Symbol("leave the fast path");

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * A set of words matched in place. A word of printable ASCII up to 14
 * characters is packed exactly into two integers below 2^53 (seven 7-bit
 * characters each), so a key read from the text is compared as two numbers
 * and a length, without making a string.
 */
export interface Words {
  list: readonly string[];
  high: Float64Array;
  low: Float64Array;
  length: Int8Array;
}

const PACKED = 7;

/** `list` packed for `JsonWindow.oneOf`; a word it cannot pack is an error of the caller's, at load. */
export function words(list: readonly string[]): Words {
  const high = new Float64Array(list.length);
  const low = new Float64Array(list.length);
  const length = new Int8Array(list.length);
  list.forEach((word, i) => {
    if (word.length > 2 * PACKED) throw new Error(`json-window: ${word} is longer than ${2 * PACKED} characters`);
    for (let k = 0; k < word.length; k++) {
      if (k < PACKED) high[i] = high[i]! * 128 + word.charCodeAt(k);
      else low[i] = low[i]! * 128 + word.charCodeAt(k);
    }
    length[i] = word.length;
  });
  return { list, high, low, length };
}

/** Leaves the fast path: the snapshot is not one it takes. */
export function leave(): never {
  throw LEAVE;
}

/** A window over JSON text, and the readers of its tokens; each leaves at anything else. */
export class JsonWindow {
  /** The text being read: the window of a source, or the whole text. */
  protected w: string;
  protected p = 0;
  private readonly bytes: Buffer | null;
  private filled = 0;
  private ended: boolean;

  constructor(
    text: string,
    private readonly source: ByteSource | null,
  ) {
    this.w = text;
    this.ended = source === null;
    this.bytes = source === null ? null : Buffer.allocUnsafe(WINDOW);
    this.refill();
    // A UTF-8 byte order mark, read as Latin-1 (a text has had its U+FEFF taken off by the caller, as JSON.parse needs).
    if (source !== null && this.w.startsWith("\xef\xbb\xbf")) this.p = 3;
  }

  /** Keeps at least MARGIN characters ahead (or all that is left) in the window: called before each item of a list. */
  protected refill(): void {
    if (this.ended || this.w.length - this.p >= MARGIN) return;
    const bytes = this.bytes!;
    const kept = this.filled - this.p;
    bytes.copyWithin(0, this.p, this.filled);
    let filled = kept;
    while (filled < WINDOW) {
      const n = this.source!(bytes, filled, WINDOW - filled);
      if (n === 0) {
        this.ended = true;
        break;
      }
      filled += n;
    }
    this.filled = filled;
    // Latin-1 keeps one character per byte; any byte above 126 makes the scan leave, and the general path decodes UTF-8.
    this.w = bytes.toString("latin1", 0, filled);
    this.p = 0;
  }

  /** A list, `item` reading each element; the window is refilled before each. */
  protected list(item: () => void): void {
    this.ws();
    this.expect(91);
    this.ws();
    if (this.w.charCodeAt(this.p) === 93) {
      this.p++;
      return;
    }
    do {
      this.refill();
      item();
    } while (this.more(93));
  }

  /** An object, `member` reading each value after its key and colon. */
  protected members(member: (key: string) => void): void {
    this.ws();
    this.expect(123);
    this.ws();
    if (this.w.charCodeAt(this.p) === 125) {
      this.p++;
      return;
    }
    do {
      this.ws();
      const key = this.string();
      this.colon();
      member(key);
    } while (this.more(125));
  }

  /** An object of at least one field, each one of `keys` and given once, `field` reading each value. */
  protected fields(keys: Words, field: (key: number) => void): void {
    this.ws();
    this.expect(123);
    this.ws();
    if (this.w.charCodeAt(this.p) === 125) leave();
    let seen = 0;
    do {
      const key = this.key(keys);
      if ((seen & (1 << key)) !== 0) leave();
      seen |= 1 << key;
      field(key);
    } while (this.more(125));
  }

  /** A value that is not a list or an object: what `migrating` and `recent` items hold. */
  protected flatValue(): string | number | boolean | null {
    this.ws();
    const c = this.w.charCodeAt(this.p);
    if (c === 34) return this.string();
    if (c === 116) return this.literal("true", true);
    if (c === 102) return this.literal("false", false);
    if (c === 110) return this.literal("null", null);
    return this.number(Number.MAX_VALUE);
  }

  protected boolean(): boolean {
    this.ws();
    const c = this.w.charCodeAt(this.p);
    if (c === 116) return this.literal("true", true);
    if (c === 102) return this.literal("false", false);
    return leave();
  }

  /** `word` (true, false, null) as `value`; what follows it is checked by the caller's `more`. */
  protected literal<T>(word: string, value: T): T {
    if (!this.w.startsWith(word, this.p)) leave();
    this.p += word.length;
    return value;
  }

  /** After a member or item: true after a comma, false after `close`; anything else leaves. */
  protected more(close: number): boolean {
    this.ws();
    const c = this.w.charCodeAt(this.p++);
    if (c === 44) return true;
    if (c === close) return false;
    return leave();
  }

  /** JSON's four white-space characters, and nothing else (a form feed is not JSON). */
  protected ws(): void {
    const w = this.w;
    let p = this.p;
    for (;;) {
      const c = w.charCodeAt(p);
      if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
      p++;
    }
    this.p = p;
  }

  protected expect(code: number): void {
    if (this.w.charCodeAt(this.p) !== code) leave();
    this.p++;
  }

  protected colon(): void {
    this.ws();
    this.expect(58);
  }

  /** A member's key, as its index in `keys`, and the colon after it. */
  protected key(keys: Words): number {
    this.ws();
    const k = this.oneOf(keys);
    this.colon();
    return k;
  }

  /** A string that is one of `words`, as its index; matched in place, without making the string. */
  protected oneOf(words: Words): number {
    const w = this.w;
    const start = this.p + 1;
    const end = this.w.charCodeAt(this.p) === 34 ? stringEnd(w, start) : -1;
    const length = end - start;
    if (end < 0 || length > 2 * PACKED) leave();
    let high = 0;
    let low = 0;
    for (let p = start; p < end; p++) {
      if (p - start < PACKED) high = high * 128 + w.charCodeAt(p);
      else low = low * 128 + w.charCodeAt(p);
    }
    for (let i = 0; i < words.list.length; i++) {
      if (words.high[i] === high && words.low[i] === low && words.length[i] === length) {
        this.p = end + 1;
        return i;
      }
    }
    return leave();
  }

  /** A string of printable ASCII without escapes. */
  protected string(): string {
    const start = this.p + 1;
    const end = this.w.charCodeAt(this.p) === 34 ? stringEnd(this.w, start) : -1;
    if (end < 0) leave();
    this.p = end + 1;
    return this.w.slice(start, end);
  }

  protected name(): string {
    this.ws();
    const s = this.string();
    if (s.length === 0) leave();
    return s;
  }

  /** A number ≥ 0 and ≤ `bound`, written plainly (see the file's comment). */
  protected number(bound: number): number {
    this.ws();
    const value = plainNumber(this.w, this.p, bound);
    if (value < 0) leave();
    this.p = numberEnd;
    return value;
  }

  /** Only white space may follow, to the end of the source. */
  protected end(): void {
    for (;;) {
      this.ws();
      if (this.p < this.w.length) leave();
      if (this.ended) break;
      this.refill();
    }
  }
}

/**
 * The index of the quote that ends the string whose text starts at `p`, or
 * -1 at an escape, a control character, a character past ASCII or the end
 * of the text.
 */
export function stringEnd(w: string, p: number): number {
  for (;;) {
    const c = w.charCodeAt(p);
    if (c === 34) return p;
    if (!(c >= 32 && c <= 126 && c !== 92)) return -1;
    p++;
  }
}

/** Where the last `plainNumber` ended. */
export let numberEnd = 0;

/**
 * The number written at `w[p]` if it is ≥ 0 and ≤ `bound`, its end in
 * `numberEnd`; -1 otherwise, and for a minus sign (the general path tells
 * -0, which it takes, from the others). Up to 15 digits without an exponent
 * (what most facts are) it is computed here; any other, such as the
 * 17-digit averages the engine writes, is converted by `Number`, which is
 * JSON.parse's own conversion.
 */
export function plainNumber(w: string, p: number, bound: number): number {
  const start = p;
  let c = w.charCodeAt(p);
  if (!(c >= 48 && c <= 57)) return -1;
  let m = c - 48;
  let digits = 1;
  c = w.charCodeAt(++p);
  if (m === 0) {
    if (c >= 48 && c <= 57) return -1;
  } else {
    while (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      c = w.charCodeAt(++p);
    }
  }
  let scale = 0;
  if (c === 46) {
    c = w.charCodeAt(++p);
    while (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      scale++;
      c = w.charCodeAt(++p);
    }
    if (scale === 0) return -1;
  }
  let exact = digits <= 15;
  if (c === 101 || c === 69) {
    exact = false;
    c = w.charCodeAt(++p);
    if (c === 43 || c === 45) c = w.charCodeAt(++p);
    if (!(c >= 48 && c <= 57)) return -1;
    while (c >= 48 && c <= 57) c = w.charCodeAt(++p);
  }
  const value = !exact ? Number(w.slice(start, p)) : scale === 0 ? m : m / POW10[scale]!;
  if (!(value <= bound)) return -1;
  numberEnd = p;
  return value;
}
