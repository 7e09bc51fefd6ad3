// A defect met while handling one client's message (here planted: an
// observer that throws) ends that connection alone, 1011, with an error log
// line; the process and every other session carry on.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryLog } from '../support/memory-log.js';
import { startServer } from '../support/server.js';

test('a message whose handling throws closes its connection 1011 and nothing else', async (t) => {
  const log = memoryLog('warn');
  const { connect } = await startServer(t, {
    logger: log.logger,
    observer: {
      refused(_conn, _dialect, code) {
        if (code === 'INVALID_KEY') throw new Error('planted defect');
      },
    },
  });
  const host = await connect('v1');
  host.send({ key: 'carries-on' });
  assert.deepEqual(((await host.next()) as { registered: string }).registered, 'carries-on');

  const victim = await connect('v1');
  victim.send({ key: '' });
  assert.deepEqual(await victim.waitClose(), { code: 1011, reason: 'Internal error' });

  const joiner = await connect('v1');
  joiner.send({ joinkey: 'carries-on' });
  assert.deepEqual(await joiner.next(), { reachable: 'true' });
  assert.deepEqual(await host.next(), { join: 1 });
  joiner.send({ offer: 'o' });
  assert.deepEqual(await host.next(), { offer: 'o', id: 1 });

  const line = log.lines.find((l) => l.event === 'internal-error');
  assert.ok(line, 'an error line');
  assert.equal(line.level, 'error');
  assert.match(JSON.stringify(line.err), /planted defect/);
});
