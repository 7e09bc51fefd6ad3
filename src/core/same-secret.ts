// Comparing a secret a client sent with the one the server holds, in a time
// that does not depend on where they differ. node:crypto's timingSafeEqual
// would do it, but the core imports no node: module; this is the same loop.

/**
 * Whether `given` equals `expected`. Every character of `expected` is
 * compared, whatever the first difference: the time depends only on the
 * length of `expected` (which is no secret: resume tokens all have one).
 */
export function sameSecret(given: string, expected: string): boolean {
  let difference = given.length === expected.length ? 0 : 1;
  for (let i = 0; i < expected.length; i += 1) {
    // Past the end of `given`, charCodeAt is NaN, which `^` reads as 0: still no early exit.
    difference |= given.charCodeAt(i) ^ expected.charCodeAt(i);
  }
  return difference === 0;
}
