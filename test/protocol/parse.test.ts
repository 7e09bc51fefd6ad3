// Table-driven tests of the wire contract's pure pieces: keys, parsing, frames.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ERRORS,
  errorFrame,
  normalizeKey,
  parseClientMessage,
  readJoinerId,
  registeredFrame,
  relayFrame,
  type Dialect,
} from '../../src/protocol/index.js';

test('normalizeKey accepts strings of 1 to 256 code points and safe integers', () => {
  const cases: Array<[unknown, string | undefined]> = [
    ['a', 'a'],
    ['', undefined],
    ['x'.repeat(256), 'x'.repeat(256)],
    ['x'.repeat(257), undefined],
    ['😀'.repeat(256), '😀'.repeat(256)],
    ['😀'.repeat(257), undefined],
    ['\ud800', undefined],
    ['a\udc00b', undefined],
    [42, '42'],
    [42.0, '42'],
    [-0, '0'],
    [-7, '-7'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [-Number.MAX_SAFE_INTEGER, '-9007199254740991'],
    [Number.MAX_SAFE_INTEGER + 1, undefined],
    [1.5, undefined],
    [Number.NaN, undefined],
    [Infinity, undefined],
    [null, undefined],
    [true, undefined],
    [['a'], undefined],
    [{ a: 1 }, undefined],
  ];
  for (const [input, expected] of cases) assert.equal(normalizeKey(input), expected, `normalizeKey(${String(input)})`);
});

test('parseClientMessage picks the first known field in protocol order', () => {
  const cases: Array<[string, Dialect, unknown]> = [
    ['{"answer":1,"offer":2,"joinkey":3,"key":4}', 'v0', { type: 'key', key: 4, token: undefined }],
    ['{"answer":1,"offer":2,"joinkey":3}', 'v0', { type: 'joinkey', key: 3 }],
    ['{"answer":1,"offer":2}', 'v0', { type: 'offer', data: 2, id: undefined }],
    ['{"answer":1,"id":3}', 'v1', { type: 'answer', data: 1, id: 3 }],
    ['{"ping":1,"candidate":null}', 'v1', { type: 'candidate', data: null, id: undefined }],
    ['{"ping":{"x":1}}', 'v1', { type: 'ping', data: { x: 1 } }],
    ['{"key":null,"token":"t"}', 'v1', { type: 'key', key: null, token: 't' }],
    ['{"offer":null}', 'v0', { type: 'offer', data: null, id: undefined }],
    ['{"candidate":1}', 'v0', 'unsupported'],
    ['{"ping":1}', 'v0', 'unsupported'],
    ['{"__proto__":{"key":1}}', 'v1', 'unsupported'],
    ['{}', 'v1', 'unsupported'],
    ['[]', 'v1', 'unsupported'],
    ['"key"', 'v1', 'unsupported'],
    ['42', 'v0', 'unsupported'],
    ['null', 'v0', 'unsupported'],
    ['', 'v0', 'not-json'],
    ['{', 'v1', 'not-json'],
    ["{'key':1}", 'v1', 'not-json'],
  ];
  for (const [text, dialect, expected] of cases) {
    assert.deepEqual(parseClientMessage(text, dialect), expected, `${dialect} ${text}`);
  }
});

test('readJoinerId: absent or null is no id; anything but a positive integer is NaN', () => {
  assert.equal(readJoinerId(undefined), undefined);
  assert.equal(readJoinerId(null), undefined);
  assert.equal(readJoinerId(3), 3);
  for (const bad of [0, -1, 1.5, '1', true, {}, Number.MAX_SAFE_INTEGER + 1]) {
    assert.ok(Number.isNaN(readJoinerId(bad)), `readJoinerId(${JSON.stringify(bad)})`);
  }
});

test('server frames have the documented shapes', () => {
  assert.equal(relayFrame('offer', '{"sdp":"x"}'), '{"offer":{"sdp":"x"}}');
  assert.equal(relayFrame('candidate', 'null', 2), '{"candidate":null,"id":2}');
  assert.deepEqual(JSON.parse(registeredFrame('k"1', 't')), { registered: 'k"1', token: 't' });
  for (const code of Object.keys(ERRORS) as Array<keyof typeof ERRORS>) {
    assert.deepEqual(JSON.parse(errorFrame(code)), { error: { code, message: ERRORS[code].message } });
  }
});
