// The constant-time comparison of resume tokens.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sameSecret } from '../../src/core/same-secret.js';

test('sameSecret is string equality', () => {
  const token = 'Zx8_kQ2-vB9mN4pL7rT1wA';
  const cases: Array<[string, string, boolean]> = [
    [token, token, true],
    ['', '', true],
    [`${token}`.slice(0, 21) + 'B', token, false],
    ['B' + token.slice(1), token, false],
    [token.slice(0, 21), token, false],
    [`${token}A`, token, false],
    ['', token, false],
    [token, '', false],
    ['\u0000', '', false],
    ['', '\u0000', false],
    ['a\u0000', 'a', false],
    ['é', 'e', false],
    ['😀', '😀', true],
    ['😀', '😁', false],
  ];
  for (const [given, expected, equal] of cases) {
    assert.equal(sameSecret(given, expected), equal, `${JSON.stringify(given)} vs ${JSON.stringify(expected)}`);
    assert.equal(sameSecret(given, expected), given === expected);
  }
});

test('sameSecret reads every character of the expected secret, wherever the first difference is', () => {
  // A string whose reads are counted: an early exit would read fewer of them.
  const counting = (text: string): { value: string; reads: () => number } => {
    let reads = 0;
    const value = new Proxy(new String(text), {
      get(target, property) {
        if (property === 'charCodeAt') {
          return (index: number) => {
            reads += 1;
            return target.charCodeAt(index);
          };
        }
        const member = Reflect.get(target, property) as unknown;
        return typeof member === 'function' ? (member as () => unknown).bind(target) : member;
      },
    }) as unknown as string;
    return { value, reads: () => reads };
  };
  const expected = 'Zx8_kQ2-vB9mN4pL7rT1wA';
  for (const given of ['Ax8_kQ2-vB9mN4pL7rT1wA', 'Zx8_kQ2-vB9mN4pL7rT1wB', expected, 'Z', '']) {
    const secret = counting(expected);
    sameSecret(given, secret.value);
    assert.equal(secret.reads(), expected.length, given);
  }
});
