// What counts as a key, and its canonical string form.

/** Longest key, in Unicode code points. */
export const MAX_KEY_CODE_POINTS = 256;

/**
 * Returns the canonical form of a `key` or `joinkey` value, or `undefined`
 * when it is not a valid key: a string of 1 to 256 code points with no lone
 * surrogate, or an integer within ±(2^53−1), used as its decimal string
 * (`42`, `42.0` and `"42"` are the same key; `-0` is `"0"`).
 *
 * @example
 * normalizeKey(42) // "42"
 * normalizeKey('') // undefined
 */
export function normalizeKey(value: unknown): string | undefined {
  if (typeof value === 'string') return isValidKeyString(value) ? value : undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value === 0 ? 0 : value);
  return undefined;
}

function isValidKeyString(value: string): boolean {
  if (value.length === 0 || !value.isWellFormed()) return false;
  // Each code point takes one or two UTF-16 units, so only long strings need counting.
  if (value.length <= MAX_KEY_CODE_POINTS) return true;
  if (value.length > 2 * MAX_KEY_CODE_POINTS) return false;
  let codePoints = 0;
  for (const _ of value) codePoints += 1;
  return codePoints <= MAX_KEY_CODE_POINTS;
}
