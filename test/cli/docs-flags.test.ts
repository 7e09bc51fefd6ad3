// docs/CONFIGURATION.md lists every flag as `sigver --help` does: its table
// is generated from the settings table, and this fails when it is stale.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SETTINGS } from '../../src/options.js';
import { helpText } from '../../src/cli/arguments.js';
import { CONFIGURATION_DOC, withFlagTable } from '../../scripts/docs-flags.js';

test('the flag table of docs/CONFIGURATION.md is the one generated from src/options.ts (else: npm run docs:flags)', () => {
  const doc = readFileSync(CONFIGURATION_DOC, 'utf8');
  assert.equal(withFlagTable(doc), doc, 'docs/CONFIGURATION.md is stale: run npm run docs:flags');
});

test('--help and docs/CONFIGURATION.md name every setting flag and its environment variable', () => {
  const doc = readFileSync(CONFIGURATION_DOC, 'utf8');
  const help = helpText();
  for (const spec of Object.values(SETTINGS)) {
    for (const text of [help, doc]) {
      assert.match(text, new RegExp(`(--|\\])${spec.flag}(?![\\w-])`), `--${spec.flag} is listed`);
      assert.ok(text.includes(spec.env), `${spec.env} is listed`);
    }
  }
  assert.ok(doc.includes('`--redis <value>`'));
});
