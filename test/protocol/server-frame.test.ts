// The frames the server builds (server-message.ts) read back by the client
// SDK's parser (server-frame.ts) as what they mean: one wire contract, both sides.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ERRORS,
  HOST_LEFT_FRAME,
  REACHABLE_FRAME,
  errorFrame,
  joinFrame,
  leaveFrame,
  parseServerFrame,
  pongFrame,
  registeredFrame,
  relayFrame,
  type ErrorCode,
  type ServerFrame,
} from '../../src/protocol/index.js';

const rows: Array<[what: string, frame: string, parsed: ServerFrame]> = [
  ['reachable', REACHABLE_FRAME, { type: 'reachable' }],
  ['host left (v1 joiner)', HOST_LEFT_FRAME, { type: 'leave', id: 0 }],
  ['registered', registeredFrame('k "1"', 'tok'), { type: 'registered', key: 'k "1"', token: 'tok' }],
  ['join', joinFrame(7), { type: 'join', id: 7 }],
  ['leave', leaveFrame(7), { type: 'leave', id: 7 }],
  ['pong', pongFrame('{"n":[1,2]}'), { type: 'pong', data: { n: [1, 2] } }],
  ['pong without data', pongFrame('null'), { type: 'pong', data: null }],
  ['offer (v0 shape)', relayFrame('offer', '"sdp"'), { type: 'offer', data: 'sdp', id: undefined }],
  ['answer with id', relayFrame('answer', '{"sdp":"a"}', 3), { type: 'answer', data: { sdp: 'a' }, id: 3 }],
  ['end of candidates', relayFrame('candidate', 'null', 2), { type: 'candidate', data: null, id: 2 }],
  ...(Object.keys(ERRORS) as ErrorCode[]).map((code): [string, string, ServerFrame] => [
    `error ${code}`,
    errorFrame(code),
    { type: 'error', code, message: ERRORS[code].message },
  ]),
];

for (const [what, frame, parsed] of rows) {
  test(`round trip: ${what}`, () => {
    assert.deepEqual(parseServerFrame(frame), parsed);
  });
}
