// The ready lines of the `sigver` command and the "did you mean" of a mistyped flag.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closestName, editDistance } from '../../src/cli/closest-name.js';
import { readyLines, testPageUrl } from '../../src/cli/ready-lines.js';

test('the test page is on the same port, over http or https, at localhost for a wildcard interface', () => {
  assert.equal(testPageUrl('ws://0.0.0.0:8000'), 'http://localhost:8000/');
  assert.equal(testPageUrl('ws://[::]:8000'), 'http://localhost:8000/');
  assert.equal(testPageUrl('wss://0.0.0.0:443'), 'https://localhost:443/');
  assert.equal(testPageUrl('ws://127.0.0.1:9000'), 'http://127.0.0.1:9000/');
  assert.equal(testPageUrl('ws://[::1]:9000'), 'http://[::1]:9000/');
  assert.equal(testPageUrl('wss://signal.example.com:8443'), 'https://signal.example.com:8443/');
});

test('the first ready line is the machine-readable one scripts wait for', () => {
  assert.deepEqual(readyLines('ws://0.0.0.0:8000'), [
    'sigver listening on ws://0.0.0.0:8000',
    'sigver test page at http://localhost:8000/',
  ]);
});

test('a mistyped flag finds the closest known one, and nothing when none is close', () => {
  const flags = ['port', 'host', 'metrics', 'no-metrics', 'max-connections', 'max-connections-per-address'];
  assert.equal(closestName('prot', flags), 'port');
  assert.equal(closestName('hots', flags), 'host');
  assert.equal(closestName('max-conections', flags), 'max-connections');
  assert.equal(closestName('metric', flags), 'metrics');
  assert.equal(closestName('colour', flags), undefined);
  assert.equal(closestName('', flags), undefined);
});

test('edit distance counts a swap of neighbours as one edit', () => {
  assert.equal(editDistance('prot', 'port'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('same', 'same'), 0);
});
