// JSON whose numbers stay exact. JSON.parse turns every number into a double, so 2^64-1 and
// 2^64 arrive as the same value and 1.0 looks like an integer; Go's decoder (runc's) sees the
// literal. Number tokens a double cannot hold as a plain integer are kept as JsonNumber (their
// text), and the integer checks below decide from that text.
export class JsonNumber {
  // How many exist in this process: while none does, toJson has nothing to keep exact.
  static made = 0;
  constructor(readonly text: string) {
    JsonNumber.made++;
  }
  // For JSON.stringify elsewhere (hook state, logs): the nearest double. toJson keeps the text.
  toJSON(): number {
    return Number(this.text);
  }
}

export type IntRange = readonly [bigint, bigint];
export const U16: IntRange = [0n, 2n ** 16n - 1n];
export const I32: IntRange = [-(2n ** 31n), 2n ** 31n - 1n];
export const U32: IntRange = [0n, 2n ** 32n - 1n];
export const I64: IntRange = [-(2n ** 63n), 2n ** 63n - 1n];
export const U64: IntRange = [0n, 2n ** 64n - 1n];

const PLAIN_INT = /^-?(0|[1-9]\d*)$/;
const NUMBER_TOKEN = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

// A marker no document holds by chance (crypto would cost every command its load time, and
// a crafted collision gains nothing: the string becomes a number that is checked as one).
function freshTag(): string {
  return `\u0001${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}:`;
}

function plainSafe(token: string): boolean {
  return PLAIN_INT.test(token) && Number.isSafeInteger(Number(token));
}

// With its strings removed (one native regex), a JSON text holds a number a double could
// change only if some number has a fraction, an exponent or 16 digits. Most texts (state.json,
// a config without 64-bit values) have none, and skip the scan below, which the interpreter
// runs character by character.
const STRINGS = /"(?:[^"\\]|\\.)*"/g;
const MAYBE_INEXACT = /\d[.eE]|\d{16}/;
const mayBeInexact = (text: string) => MAYBE_INEXACT.test(text.replace(STRINGS, '""'));

// The offsets of the number tokens outside strings whose value a double would change.
function inexactTokens(text: string): [number, number][] {
  const found: [number, number][] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) { // a string: skip to its closing quote
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      NUMBER_TOKEN.lastIndex = i;
      const m = NUMBER_TOKEN.exec(text);
      if (!m) continue;
      if (!plainSafe(m[0])) found.push([i, i + m[0].length]);
      i += m[0].length - 1;
    }
  }
  return found;
}

// JSON.parse, but with JsonNumber where a double would not be the literal. Throws what
// JSON.parse throws for the text as given.
export function parseJson(text: string): unknown {
  const plain = JSON.parse(text);
  const tokens = mayBeInexact(text) ? inexactTokens(text) : [];
  if (tokens.length === 0) return plain;
  // Each such token becomes a string that starts with a fresh tag, which the reviver turns
  // back into a JsonNumber.
  const tag = freshTag();
  let out = '';
  let at = 0;
  for (const [start, end] of tokens) {
    out += text.slice(at, start) + JSON.stringify(tag + text.slice(start, end));
    at = end;
  }
  out += text.slice(at);
  return JSON.parse(out, (_k, v) => (typeof v === 'string' && v.startsWith(tag) ? new JsonNumber(v.slice(tag.length)) : v));
}

// JSON.stringify with bigints and JsonNumbers written as their exact digits.
export function toJson(v: unknown, indent?: number): string {
  // No JsonNumber anywhere: JSON.stringify as it is, unless it meets a bigint (a TypeError).
  if (JsonNumber.made === 0) {
    try {
      return JSON.stringify(v, null, indent);
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
    }
  }
  const tag = freshTag();
  const text = JSON.stringify(v, function (this: Record<string, unknown>, k, x) {
    const own = this[k];
    if (typeof own === 'bigint') return tag + own.toString();
    if (own instanceof JsonNumber) return tag + own.text;
    return x;
  }, indent);
  const opening = JSON.stringify(tag).slice(0, -1).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  return text.replace(new RegExp(`${opening}([^"]*)"`, 'g'), '$1');
}

// The integer a JSON value holds, exactly: a safe-integer number, or a JsonNumber written as
// a plain integer. null for anything else: other types, fractions, exponents, and doubles
// past 2^53 (already rounded, the literal lost).
export function exactInteger(v: unknown): bigint | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : null;
  if (v instanceof JsonNumber && PLAIN_INT.test(v.text)) return BigInt(v.text);
  return null;
}

// Why v is not an integer in `range` (undefined when it is). Unless `wide` (the caller keeps
// the value as a bigint), it must also fit a double exactly: it is used as a JS number.
export function integerProblem(v: unknown, [min, max]: IntRange, wide = false): string | undefined {
  const n = exactInteger(v);
  if (n === null) {
    if (v instanceof JsonNumber) return `must be an integer, not ${v.text}`;
    if (typeof v === 'number' && Number.isInteger(v)) return `${v} cannot be represented exactly`;
    return 'must be an integer';
  }
  if (n < min || n > max) return `must be between ${min} and ${max}, not ${n}`;
  if (!wide && (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)))
    return `${n} cannot be represented exactly (skiff takes at most 2^53-1 here)`;
  return undefined;
}
