// Configuration: a JSON config file, then environment variables, then
// flags; every bad field reported on its own line; --print-config.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCommandLine, printConfig, type Command } from '../../src/cli/arguments.js';
import { DEFAULT_SETTINGS, SettingError, type Settings } from '../../src/options.js';
import { runCli } from '../support/cli.js';

/** Parses a command line with these config files available. */
function parse(argv: string[], env: Record<string, string> = {}, files: Record<string, string> = {}): Command {
  return parseCommandLine(argv, env, (path) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return text;
  });
}

function settingsOf(command: Command): Settings {
  assert.ok(command.kind === 'serve' || command.kind === 'print-config');
  return command.settings;
}

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof SettingError);
    return error.problems;
  }
  assert.fail('expected a SettingError');
}

test('merges the config file, then the environment, then flags', () => {
  const file = JSON.stringify({
    port: 1000,
    host: '127.0.0.1',
    maxJoiners: 5,
    allowOrigin: ['https://file.example'],
    trustProxy: true,
    metrics: false,
  });
  const settings = settingsOf(
    parse(
      [
        '--config',
        'sigver.json',
        '--port',
        '3000',
        '--allow-origin',
        'https://flag.example',
        '--allow-origin',
        'https://*.flag.example',
      ],
      {
        SIGVER_PORT: '2000',
        SIGVER_MAX_JOINERS: '6',
        SIGVER_ALLOW_ORIGIN: 'https://env.example, https://env2.example',
        SIGVER_METRICS: 'yes',
      },
      { 'sigver.json': file },
    ),
  );
  assert.equal(settings.port, 3000, 'a flag wins');
  assert.equal(settings.maxJoiners, 6, 'the environment wins over the file');
  assert.equal(settings.host, '127.0.0.1', 'the file wins over defaults');
  assert.equal(settings.trustProxy, true);
  assert.equal(settings.metrics, true);
  assert.deepEqual(
    settings.allowOrigin,
    ['https://flag.example', 'https://*.flag.example'],
    'a later list replaces an earlier one',
  );
  assert.equal(settings.rateLimit, DEFAULT_SETTINGS.rateLimit);
  const fromEnvList = settingsOf(parse([], { SIGVER_ALLOW_ORIGIN: 'https://env.example, https://env2.example' }));
  assert.deepEqual(fromEnvList.allowOrigin, ['https://env.example', 'https://env2.example']);
});

test('finds the config file through SIGVER_CONFIG, and --config wins over it', () => {
  const files = { 'a.json': '{"port": 1111}', 'b.json': '{"port": 2222}' };
  assert.equal(settingsOf(parse([], { SIGVER_CONFIG: 'a.json' }, files)).port, 1111);
  assert.equal(settingsOf(parse(['--config', 'b.json'], { SIGVER_CONFIG: 'a.json' }, files)).port, 2222);
});

test('turns boolean settings on and off with --flag and --no-flag', () => {
  assert.equal(settingsOf(parse(['--no-metrics'])).metrics, false);
  assert.equal(settingsOf(parse(['--trust-proxy'], {}, {})).trustProxy, true);
  assert.equal(settingsOf(parse(['--no-trust-proxy'], { SIGVER_TRUST_PROXY: 'true' })).trustProxy, false);
  assert.deepEqual(
    problemsOf(() => parse(['--metrics', '--no-metrics'])),
    ['--metrics and --no-metrics contradict each other'],
  );
});

test('reports every bad field, one line each, naming where it came from: the file first, then settings in table order', () => {
  const file = JSON.stringify({
    port: 'eighty',
    nope: 1,
    allowOrigin: 'https://a.example',
    tlsKey: 'key.pem',
    authSecret: 'short',
  });
  const problems = problemsOf(() =>
    parse(
      [
        '--config',
        'bad.json',
        '--max-joiners',
        'many',
        '--log-level',
        'loud',
        '--allow-origin',
        'https://x.example/path',
      ],
      { SIGVER_RATE_LIMIT: '0' },
      {
        'bad.json': file,
      },
    ),
  );
  assert.deepEqual(problems, [
    'config file bad.json: port must be an integer >= 0, got "eighty"',
    'config file bad.json: unknown setting "nope" (names as in sigver --print-config)',
    'config file bad.json: allowOrigin must be a list of strings',
    'config file bad.json: authSecret must be at least 32 bytes long (openssl rand -base64 32 makes one)',
    '--max-joiners must be a whole number, got "many"',
    'SIGVER_RATE_LIMIT must be an integer >= 1, got 0',
    '--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    '--allow-origin: "https://x.example/path" is not an origin (write it like https://app.example.com, no path)',
    '--tls-cert and --tls-key go together: set both or neither',
  ]);
});

test('reports a config file that is missing, not JSON, or not an object', () => {
  assert.deepEqual(
    problemsOf(() => parse(['--config', 'missing.json'])),
    ['config file missing.json: cannot read it (ENOENT)'],
  );
  assert.match(
    problemsOf(() => parse(['--config', 'x.json'], {}, { 'x.json': '{port: 1}' }))[0]!,
    /^config file x\.json: not valid JSON \(/,
  );
  assert.deepEqual(
    problemsOf(() => parse(['--config', 'x.json'], {}, { 'x.json': '[1]' })),
    ['config file x.json: must be a JSON object of settings, like {"port": 8000}'],
  );
});

test('--print-config shows every setting, secrets only as set, and its output reads back as a config file', () => {
  const command = parse(['--print-config', '--port', '9000', '--turn-url', 'turn:t.example.com'], {
    SIGVER_AUTH_SECRET: 'a'.repeat(40),
    SIGVER_TURN_SECRET: 'turn-secret',
  });
  assert.equal(command.kind, 'print-config');
  const printed = JSON.parse(printConfig(settingsOf(command))) as Record<string, unknown>;
  assert.deepEqual(Object.keys(printed), Object.keys(DEFAULT_SETTINGS));
  assert.equal(printed.port, 9000);
  assert.equal(printed.authSecret, '<redacted>');
  assert.equal(printed.turnSecret, '<redacted>');
  assert.equal(printed.tlsCert, '');
  const unset = JSON.parse(printConfig(DEFAULT_SETTINGS)) as Record<string, unknown>;
  assert.deepEqual(
    settingsOf(parse(['--config', 'p.json'], {}, { 'p.json': JSON.stringify(unset) })),
    DEFAULT_SETTINGS,
  );
});

test('the command prints the merged configuration and exits 0, or lists each problem and exits 1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sigver-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify({ port: 7000, maxConnectionsPerAddress: 20, trustProxy: true }));
  const printed = runCli(t, ['--config', good, '--print-config'], { SIGVER_PORT: '7100' });
  assert.equal((await printed.exit()).code, 0);
  const config = JSON.parse(printed.stdoutLines.join('\n')) as Settings;
  assert.equal(config.port, 7100);
  assert.equal(config.maxConnectionsPerAddress, 20);
  assert.equal(config.trustProxy, true);

  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ port: -1, maxJoiners: 0 }));
  const failed = runCli(t, ['--config', bad, '--rate-limit', 'x']);
  assert.equal((await failed.exit()).code, 1);
  assert.deepEqual(failed.stderrLines, [
    `sigver: config file ${bad}: port must be an integer >= 0, got -1`,
    `sigver: config file ${bad}: maxJoiners must be an integer >= 1, got 0`,
    'sigver: --rate-limit must be a whole number, got "x"',
  ]);
  assert.deepEqual(failed.stdoutLines, []);
});

test('--log-level silent: the command writes nothing on stderr, and a bad level is refused', async (t) => {
  const quiet = runCli(t, ['--host', '127.0.0.1', '--port', '0', '--log-level', 'silent']);
  await quiet.listening();
  quiet.child.kill('SIGTERM');
  assert.equal((await quiet.exit()).code, 0);
  assert.deepEqual(quiet.stderrLines, []);
  const loud = runCli(t, ['--log-level', 'loud'], {});
  assert.equal((await loud.exit()).code, 1);
  assert.equal(loud.stderrLines.length, 1);
});
