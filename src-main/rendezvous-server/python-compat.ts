// The reference rendezvous server is written in Python. To be indistinguishable from it on the
// wire we reproduce the few Python behaviours a client can observe: `json.dumps` formatting,
// `json.loads` accepting NaN/Infinity, `int()` coercion, `len()` and `str()` of parsed JSON values.

/** A JSON value as Python's `json.loads` produces it (NaN and ±Infinity included). */
export type PyValue = null | boolean | number | string | PyValue[] | { [key: string]: PyValue };

const NON_FINITE_MARK = '\u0000chatp2p-nonfinite:';

/**
 * Python's json decoder recurses once per nested array or object and raises RecursionError past
 * its recursion limit (1000 by default). Our own readers of the parsed value (`str()`, the log)
 * recurse too, so a deeper value is refused here as Python refuses it.
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * `json.loads`: standard JSON plus the bare literals NaN, Infinity and -Infinity.
 * Returns undefined where Python would raise.
 */
export function pyJsonLoads(text: string): PyValue | undefined {
  if (jsonDepth(text) > MAX_JSON_DEPTH) return undefined;
  try {
    return JSON.parse(text) as PyValue;
  } catch {
    if (!/NaN|Infinity/.test(text)) return undefined;
  }
  const marked = markNonFiniteLiterals(text);
  if (marked === undefined) return undefined;
  try {
    return JSON.parse(marked, (_key, value: unknown) =>
      typeof value === 'string' && value.startsWith(NON_FINITE_MARK)
        ? Number(value.slice(NON_FINITE_MARK.length))
        : value,
    ) as PyValue;
  } catch {
    return undefined;
  }
}

/** Rewrites NaN/Infinity/-Infinity outside string literals as marked strings JSON.parse accepts. */
function markNonFiniteLiterals(text: string): string | undefined {
  if (text.includes(NON_FINITE_MARK)) return undefined;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') {
      const end = endOfStringLiteral(text, i);
      out += text.slice(i, end);
      i = end;
      continue;
    }
    const literal = ['-Infinity', 'Infinity', 'NaN'].find((l) => text.startsWith(l, i));
    if (literal) {
      out += JSON.stringify(NON_FINITE_MARK + literal);
      i += literal.length;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

/** The deepest nesting of arrays and objects in JSON text, brackets inside strings not counted. */
function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) i = endOfStringLiteral(text, i) - 1;
    else if (ch === 0x5b || ch === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return deepest;
}

function endOfStringLiteral(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === '\\') i += 2;
    else if (text[i] === '"') return i + 1;
    else i++;
  }
  return text.length;
}

/** How Python writes scalars in one of its two notations; containers are written alike. */
interface PyNotation {
  none: string;
  true: string;
  false: string;
  number: (n: number) => string;
  string: (s: string) => string;
}

function pyFormat(value: PyValue | bigint, n: PyNotation): string {
  if (value === null) return n.none;
  if (value === true) return n.true;
  if (value === false) return n.false;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return n.number(value);
  if (typeof value === 'string') return n.string(value);
  if (Array.isArray(value)) return '[' + value.map((v) => pyFormat(v, n)).join(', ') + ']';
  return '{' + Object.entries(value).map(([k, v]) => n.string(k) + ': ' + pyFormat(v, n)).join(', ') + '}';
}

const JSON_NOTATION: PyNotation = {
  none: 'null',
  true: 'true',
  false: 'false',
  number: (v) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : String(v)),
  string: (s) => pyJsonString(s),
};

const REPR_NOTATION: PyNotation = {
  none: 'None',
  true: 'True',
  false: 'False',
  number: (v) => (Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v)),
  string: (s) => pyStrRepr(s),
};

/** `json.dumps(value)` with Python's defaults: ", " and ": " separators, ensure_ascii=True. */
export function pyJsonDumps(value: PyValue): string {
  return pyFormat(value, JSON_NOTATION);
}

const JSON_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** A JSON string literal as Python writes it: everything outside printable ASCII as \uXXXX. */
export function pyJsonString(s: string): string {
  // Fast path: printable ASCII without quote or backslash needs no escaping.
  if (/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/.test(s)) return '"' + s + '"';
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const code = s.charCodeAt(i);
    const escape = JSON_ESCAPES[ch];
    if (escape) out += escape;
    else if (code < 0x20 || code > 0x7e) out += '\\u' + code.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/**
 * Python's `int(value)` for a parsed JSON value: integers and booleans as they are, floats
 * truncated, strings in base 10 with optional sign, surrounding whitespace and `_` between
 * digits. Undefined where Python raises (ValueError, TypeError, OverflowError).
 */
export function pyInt(value: PyValue | undefined): bigint | undefined {
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (typeof value === 'number') return Number.isFinite(value) ? BigInt(Math.trunc(value)) : undefined;
  if (typeof value === 'string') {
    const m = /^\s*([+-]?)(\d+(?:_\d+)*)\s*$/.exec(value);
    if (!m) return undefined;
    const digits = BigInt(m[2]!.replaceAll('_', ''));
    return m[1] === '-' ? -digits : digits;
  }
  return undefined;
}

/** Python's `len()` of a parsed JSON value; undefined where Python raises TypeError. */
export function pyLen(value: PyValue): number | undefined {
  if (typeof value === 'string') return codePointLength(value);
  if (Array.isArray(value)) return value.length;
  if (value !== null && typeof value === 'object') return Object.keys(value).length;
  return undefined;
}

/** Length in Unicode code points, as Python counts a str. */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** Python's `str(value)`, used where the reference formats a client's value into a message. */
export function pyStr(value: PyValue | bigint): string {
  return typeof value === 'string' ? value : pyFormat(value, REPR_NOTATION);
}

function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + quote;
}
