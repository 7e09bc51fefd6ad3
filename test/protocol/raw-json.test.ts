// Table-driven tests of the raw-JSON scanner of the relay path: members found
// by their raw text, escapes, text JSON.parse would refuse, and the depth
// bound that keeps every walk off the stack.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MAX_JSON_DEPTH,
  nestsDeeperThan,
  parseClientMessage,
  parseYWebrtcFrame,
  isYWebrtcFrame,
  rawMember,
  relayText,
  survivesRoundTrip,
} from '../../src/protocol/index.js';

/** `[[[...]]]` nested `depth` levels deep around `inner`. */
function arrays(depth: number, inner = ''): string {
  return '['.repeat(depth) + inner + ']'.repeat(depth);
}

/** `{"a":{"a":...}}` nested `depth` levels deep around `inner`. */
function objects(depth: number, inner = '1'): string {
  return '{"a":'.repeat(depth) + inner + '}'.repeat(depth);
}

test('rawMember returns the raw text of a top-level member', () => {
  const cases: Array<[string, string, string | undefined]> = [
    ['{"offer":{"type":"offer","sdp":"v=0"}}', 'offer', '{"type":"offer","sdp":"v=0"}'],
    ['{"ping":1}', 'ping', '1'],
    ['{"ping":-1.5e3}', 'ping', '-1.5e3'],
    ['{"ping":true,"id":2}', 'ping', 'true'],
    ['{"ping":null}', 'ping', 'null'],
    ['{"ping":"x"}', 'ping', '"x"'],
    ['{"ping":[]}', 'ping', '[]'],
    ['{"ping":{}}', 'ping', '{}'],
    ['  { "ping" :\t[1, 2] ,\n"id": 3 }  ', 'ping', '[1, 2]'],
    ['{"id":3,"ping":7}', 'ping', '7'],
    ['{"id":3,"ping":7}', 'id', '3'],
    // The last occurrence wins, as in JSON.parse.
    ['{"ping":1,"ping":2}', 'ping', '2'],
    // Brackets and quotes inside strings are not structure.
    ['{"a":"}]","ping":"[{"}', 'ping', '"[{"'],
    ['{"a":{"b":"}"},"ping":0}', 'ping', '0'],
    ['{"a":["]",{"c":"{"}],"ping":0}', 'ping', '0'],
    // A nested member of the same name is not a top-level one.
    ['{"a":{"ping":1}}', 'ping', undefined],
    ['{"id":1}', 'ping', undefined],
    ['{}', 'ping', undefined],
  ];
  for (const [text, name, expected] of cases) {
    assert.doesNotThrow(() => JSON.parse(text), text);
    assert.equal(rawMember(text, name), expected, text);
  }
});

test('rawMember reads escapes in keys and strings', () => {
  const cases: Array<[string, string, string | undefined]> = [
    // Escaped quotes and backslashes inside a value.
    [String.raw`{"ping":"a\"b","id":1}`, 'ping', String.raw`"a\"b"`],
    [String.raw`{"ping":"a\\","id":1}`, 'ping', String.raw`"a\\"`],
    [String.raw`{"ping":"a\\\"b\\","id":1}`, 'ping', String.raw`"a\\\"b\\"`],
    [String.raw`{"a":"\\\\","ping":2}`, 'ping', '2'],
    [String.raw`{"ping":"\u0022}","id":1}`, 'ping', String.raw`"\u0022}"`],
    // A key written with escapes is compared by its value.
    [String.raw`{"\u0070ing":5}`, 'ping', '5'],
    [String.raw`{"p\"ing":5}`, 'ping', undefined],
    [String.raw`{"p\"ing":5}`, 'p"ing', '5'],
    [String.raw`{"ping\\":5}`, 'ping\\', '5'],
  ];
  for (const [text, name, expected] of cases) {
    assert.doesNotThrow(() => JSON.parse(text), text);
    assert.equal(rawMember(text, name), expected, text);
  }
});

test('rawMember answers, and never loops, on text that is not a JSON object', () => {
  const cases: string[] = [
    '',
    '[1]',
    '"ping"',
    '1',
    'null',
    '{',
    '{"ping"',
    '{"ping":',
    '{"ping":"x',
    '{"ping" 1}',
    '{ping:1}',
    '{"ping":[1',
    '{"ping":{"a":"x',
  ];
  for (const text of cases) {
    const raw = rawMember(text, 'ping');
    assert.ok(raw === undefined || typeof raw === 'string', text);
  }
  assert.equal(rawMember('[{"ping":1}]', 'ping'), undefined);
  assert.equal(rawMember('{"ping" 1}', 'ping'), undefined);
});

test('survivesRoundTrip is false only for numbers that JSON.stringify changes', () => {
  const cases: Array<[unknown, boolean]> = [
    [1, true],
    ['x', true],
    [null, true],
    [true, true],
    [-0, false],
    [Infinity, false],
    [JSON.parse('1e400'), false],
    [[1, [2, [3]]], true],
    [[1, [2, [-0]]], false],
    [{ a: { b: { c: 1 } } }, true],
    [{ a: { b: { c: JSON.parse('-1e400') } } }, false],
    [JSON.parse('{"__proto__":{"x":-0}}'), false],
  ];
  for (const [value, expected] of cases) assert.equal(survivesRoundTrip(value), expected, JSON.stringify(value));
});

test('survivesRoundTrip walks any depth without recursion', () => {
  for (const depth of [10_000, 200_000]) {
    assert.equal(survivesRoundTrip(JSON.parse(arrays(depth, '1'))), true);
    assert.equal(survivesRoundTrip(JSON.parse(arrays(depth, '-0'))), false);
    assert.equal(survivesRoundTrip(JSON.parse(objects(depth))), true);
  }
});

test('relayText keeps raw text, and re-serializes numbers that do not survive', () => {
  const cases: Array<[string, string, string]> = [
    ['{"ping":{"b":1,  "a":"\\u00e9"}}', 'ping', '{"b":1,  "a":"\\u00e9"}'],
    ['{"ping":-0}', 'ping', '0'],
    ['{"ping":[1e400]}', 'ping', '[null]'],
  ];
  for (const [text, name, expected] of cases) {
    const value = (JSON.parse(text) as Record<string, unknown>)[name];
    assert.equal(relayText(text, name, value), expected, text);
  }
});

test('nestsDeeperThan counts arrays and objects, not brackets in strings', () => {
  const max = MAX_JSON_DEPTH;
  assert.equal(max, 64);
  const cases: Array<[string, boolean]> = [
    ['1', false],
    ['"[[[["', false],
    ['{}', false],
    [arrays(max), false],
    [arrays(max + 1), true],
    [objects(max), false],
    [objects(max + 1), true],
    [`{"ping":${arrays(max - 1)}}`, false],
    [`{"ping":${arrays(max)}}`, true],
    // Siblings do not add up: depth is the deepest path.
    [`[${Array.from({ length: 1000 }, () => arrays(max - 1)).join(',')}]`, false],
    // Brackets inside strings, escaped quotes included.
    [`{"ping":"${'['.repeat(1000)}"}`, false],
    [`{"ping":"\\"${'['.repeat(1000)}"}`, false],
    [`{"ping":"\\\\",${'"a":['.repeat(1)}${arrays(max - 2)}]}`, false],
    [`{"ping":"\\\\","a":${arrays(max)}}`, true],
    // Mixed arrays and objects.
    [`{"offer":${'{"a":['.repeat(32)}1${']}'.repeat(32)}}`, true],
    [`{"offer":${'{"a":['.repeat(31)}1${']}'.repeat(31)}}`, false],
    // A few thousand levels, as an attacker sends them.
    [`{"ping":${arrays(5_000)}}`, true],
  ];
  for (const [text, expected] of cases) {
    assert.doesNotThrow(() => JSON.parse(text), text.slice(0, 40));
    assert.equal(nestsDeeperThan(text, max), expected, text.slice(0, 80));
  }
  // Text JSON.parse refuses still ends the scan.
  assert.equal(nestsDeeperThan('{"ping":"[[[', 1), false);
  assert.equal(nestsDeeperThan('[[[', 2), true);
});

test('the parsers refuse frames nested past the limit, in every field and dialect', () => {
  const deep = arrays(5_000);
  const justDeep = arrays(MAX_JSON_DEPTH);
  const fine = arrays(MAX_JSON_DEPTH - 1);
  for (const field of ['key', 'joinkey', 'offer', 'answer', 'candidate', 'ping', 'other']) {
    for (const dialect of ['v0', 'v1'] as const) {
      assert.equal(parseClientMessage(`{"${field}":${deep}}`, dialect), 'unsupported', `${field} ${dialect}`);
      assert.equal(parseClientMessage(`{"${field}":${justDeep}}`, dialect), 'unsupported', `${field} ${dialect}`);
      assert.equal(parseClientMessage(`{"${field}":${objects(5_000)}}`, dialect), 'unsupported');
    }
  }
  assert.deepEqual(parseClientMessage(`{"ping":${fine}}`, 'v1'), { type: 'ping', data: JSON.parse(fine) });
  assert.deepEqual(parseClientMessage(`{"offer":${fine},"id":1}`, 'v0'), {
    type: 'offer',
    data: JSON.parse(fine),
    id: 1,
  });

  const publish = (data: string): string => `{"type":"publish","topic":"t","data":${data}}`;
  assert.equal(parseYWebrtcFrame(publish(deep)), undefined);
  assert.equal(parseYWebrtcFrame(publish(justDeep)), undefined);
  assert.equal(parseYWebrtcFrame(`{"type":"subscribe","topics":["t"],"x":${deep}}`), undefined);
  assert.equal(isYWebrtcFrame(`{"type":"subscribe","topics":["t"],"x":${deep}}`), false);
  assert.deepEqual(parseYWebrtcFrame(publish(fine)), { type: 'publish', topic: 't', data: fine });
});
