/**
 * Locates a JSON syntax error by line and column. `JSON.parse` on Node 20
 * gives an offset for some errors only ("Unexpected token 'x', … is not
 * valid JSON" has none and quotes the whole text), so after it fails this
 * small scanner walks the text once more and names the first problem.
 */

/** Where and what the first syntax error of `text` is. */
export interface JsonSyntaxError {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

class Stop {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

/**
 * Finds the first syntax error in `text` (which `JSON.parse` rejected with
 * `nativeMessage`); 1-based line and column. Nesting too deep for the
 * scanner's recursion falls back to the offset in `nativeMessage`, if any.
 */
export function locateJsonError(text: string, nativeMessage = ""): JsonSyntaxError {
  let offset = text.length;
  let message = "unexpected end of input";
  try {
    const end = value(text, ws(text, 0));
    const rest = ws(text, end);
    if (rest < text.length) throw new Stop(rest, `unexpected ${describe(text, rest)} after the end of the document`);
  } catch (e) {
    if (e instanceof Stop) {
      offset = e.offset;
      message = e.message;
    } else if (e instanceof RangeError) {
      const at = /at position (\d+)/.exec(nativeMessage);
      offset = at === null ? 0 : Number(at[1]);
      message = nativeMessage.replace(/ in JSON at position \d+.*$/s, "").replace(/, (\.\.\.)?".*$/s, "") || "nested too deeply";
    } else throw e;
  }
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1, message };
}

function describe(text: string, at: number): string {
  if (at >= text.length) return "end of input";
  return `character ${JSON.stringify(text[at])}`;
}

function ws(text: string, i: number): number {
  while (i < text.length) {
    const c = text[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") i++;
    else break;
  }
  return i;
}

function value(text: string, i: number): number {
  if (i >= text.length) throw new Stop(i, "unexpected end of input: expected a value");
  const c = text[i]!;
  if (c === "{") return object(text, i);
  if (c === "[") return array(text, i);
  if (c === '"') return string(text, i);
  if (c === "-" || (c >= "0" && c <= "9")) return number(text, i);
  for (const word of ["true", "false", "null"]) {
    if (text.startsWith(word, i)) return i + word.length;
  }
  throw new Stop(i, `unexpected ${describe(text, i)}: expected a value`);
}

function object(text: string, i: number): number {
  i = ws(text, i + 1);
  if (text[i] === "}") return i + 1;
  for (;;) {
    if (text[i] !== '"') throw new Stop(i, `unexpected ${describe(text, i)}: expected a double-quoted property name`);
    i = ws(text, string(text, i));
    if (text[i] !== ":") throw new Stop(i, `unexpected ${describe(text, i)}: expected ':' after a property name`);
    i = ws(text, value(text, ws(text, i + 1)));
    if (text[i] === ",") i = ws(text, i + 1);
    else if (text[i] === "}") return i + 1;
    else throw new Stop(i, `unexpected ${describe(text, i)}: expected ',' or '}' after a property value`);
  }
}

function array(text: string, i: number): number {
  i = ws(text, i + 1);
  if (text[i] === "]") return i + 1;
  for (;;) {
    i = ws(text, value(text, i));
    if (text[i] === ",") i = ws(text, i + 1);
    else if (text[i] === "]") return i + 1;
    else throw new Stop(i, `unexpected ${describe(text, i)}: expected ',' or ']' after an array element`);
  }
}

function string(text: string, i: number): number {
  const start = i;
  i++;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 34) return i + 1;
    if (code < 32) throw new Stop(i, "control character in a string (escape it)");
    if (code === 92) {
      const e = text[i + 1];
      if (e === "u") {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new Stop(i, "bad \\u escape in a string");
        i += 6;
      } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
      else throw new Stop(i, "bad escape in a string");
    } else i++;
  }
  throw new Stop(start, "unterminated string");
}

/** JSON's number syntax, matched in place (sticky), so a number of any length is scanned whole. */
const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

function number(text: string, i: number): number {
  NUMBER.lastIndex = i;
  const m = NUMBER.exec(text);
  if (m === null) throw new Stop(i, "malformed number");
  return i + m[0].length;
}
