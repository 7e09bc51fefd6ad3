import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelayMs, DEFAULT_RECONNECT } from '../../src/client/backoff.js';
import { fromBase64Url, randomKey, toBase64Url } from '../../src/client/base64url.js';
import { errorFromClose } from '../../src/client/client-error.js';
import { parseServerFrame } from '../../src/protocol/server-frame.js';
import { settleOnce } from '../../src/client/waits.js';

describe('backoffDelayMs', () => {
  const options = { ...DEFAULT_RECONNECT, initialDelayMs: 100, maxDelayMs: 1_000 };
  it('doubles the base each attempt up to the cap, and draws from [base/2, base]', () => {
    const table: [number, number, number][] = [
      [1, 0, 50],
      [1, 0.999_999, 100],
      [2, 0, 100],
      [3, 0.5, 300],
      [4, 0, 400],
      [5, 0, 500],
      [40, 0.999_999, 1_000],
    ];
    for (const [attempt, random, expected] of table) {
      assert.equal(
        backoffDelayMs(attempt, options, () => random),
        expected,
        `attempt ${attempt}, random ${random}`,
      );
    }
  });
});

describe('base64url', () => {
  it('round-trips bytes without padding', () => {
    for (const length of [0, 1, 2, 3, 16, 31]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 97 + 251) % 256);
      const text = toBase64Url(bytes);
      assert.match(text, /^[A-Za-z0-9_-]*$/);
      assert.deepEqual(fromBase64Url(text), bytes);
    }
  });
  it('refuses text that is not base64url', () => {
    for (const text of ['a+b/', 'abc=', 'a', '$$$$']) assert.equal(fromBase64Url(text), undefined, text);
  });
  it('draws distinct 22-character keys', () => {
    const keys = new Set(Array.from({ length: 100 }, randomKey));
    assert.equal(keys.size, 100);
    for (const key of keys) assert.match(key, /^[A-Za-z0-9_-]{22}$/);
  });
});

describe('errorFromClose', () => {
  it('maps the v0 closes of the contract onto error codes', () => {
    const table: [number, string, string][] = [
      [1008, 'The key already exists', 'KEY_TAKEN'],
      [1008, 'The key does not exist', 'KEY_UNKNOWN'],
      [1008, 'Too many joiners', 'KEY_FULL'],
      [1008, 'Role already set', 'ROLE_SET'],
      [1008, 'Invalid key', 'INVALID_KEY'],
      [1008, 'Joinkey request has not been sent', 'NOT_JOINED'],
      [1008, 'Key request has not been sent', 'NOT_HOST'],
      [1007, 'Unsupported message format', 'UNSUPPORTED'],
      [1008, 'The peer is no longer available', 'PEER_GONE'],
      [4001, 'Replaced by a new connection', 'REPLACED'],
      [1001, 'Server shutting down', 'CLOSED'],
      [1006, '', 'CLOSED'],
    ];
    for (const [code, reason, expected] of table) {
      const error = errorFromClose(code, reason);
      assert.equal(error.code, expected, `${code} ${reason}`);
      assert.equal(error.closeCode, code);
      assert.equal(error.closeReason, reason);
    }
  });
});

describe('parseServerFrame', () => {
  it('reads every server message and ignores the rest', () => {
    const table: [string, unknown][] = [
      ['{"registered":"k","token":"t"}', { type: 'registered', key: 'k', token: 't' }],
      ['{"registered":"k"}', { type: 'registered', key: 'k', token: undefined }],
      ['{"reachable":"true"}', { type: 'reachable' }],
      ['{"join":3}', { type: 'join', id: 3 }],
      ['{"leave":0}', { type: 'leave', id: 0 }],
      ['{"offer":{"sdp":"x"},"id":2}', { type: 'offer', data: { sdp: 'x' }, id: 2 }],
      ['{"answer":null}', { type: 'answer', data: null, id: undefined }],
      ['{"candidate":null,"id":"2"}', { type: 'candidate', data: null, id: undefined }],
      ['{"pong":7}', { type: 'pong', data: 7 }],
      ['{"error":{"code":"KEY_TAKEN","message":"m"}}', { type: 'error', code: 'KEY_TAKEN', message: 'm' }],
      ['{"join":-1}', undefined],
      ['{"reachable":"false"}', undefined],
      ['[1]', undefined],
      ['nope', undefined],
      ['{"error":"x"}', undefined],
    ];
    for (const [text, expected] of table) assert.deepEqual(parseServerFrame(text), expected, text);
  });
});

describe('settleOnce', () => {
  it('unsubscribes when it settles, times out or is aborted', async () => {
    let subscribed = 0;
    const start = (resolve: (value: number) => void): (() => void) => {
      subscribed += 1;
      queueMicrotask(() => resolve(1));
      return () => {
        subscribed -= 1;
      };
    };
    assert.equal(await settleOnce(start, {}, 'x'), 1);
    assert.equal(subscribed, 0);
    await assert.rejects(
      settleOnce(() => () => (subscribed -= 1), { timeoutMs: 1 }, 'y'),
      { code: 'TIMEOUT' },
    );
    assert.equal(subscribed, -1);
    const controller = new AbortController();
    const waiting = settleOnce(() => () => (subscribed += 1), { signal: controller.signal }, 'z');
    controller.abort('stop');
    await assert.rejects(waiting, (reason) => reason === 'stop');
    assert.equal(subscribed, 0);
  });
});
