// What the `sigver` command prints on stdout once it listens: first the
// machine-readable `sigver listening on URL` line that scripts wait for,
// then where a person opens the test page.

/** Interfaces that mean "every address": a browser cannot open them, this machine's name can. */
const ANY_ADDRESS = new Set(['0.0.0.0', '[::]', '[::0]']);

/**
 * The stdout lines of a listening server whose WebSocket address is `url`
 * (`ws://HOST:PORT` or `wss://HOST:PORT`, as `listen()` resolves it).
 */
export function readyLines(url: string): [string, string] {
  return [`sigver listening on ${url}`, `sigver test page at ${testPageUrl(url)}`];
}

/** The test page's address: http(s) on the same port, `localhost` for a wildcard interface. */
export function testPageUrl(url: string): string {
  const match = /^(wss?):\/\/(.+):(\d+)$/.exec(url);
  if (match === null) throw new Error(`not a listening address: ${url}`);
  const [, scheme, host, port] = match as unknown as [string, string, string, string];
  const browsable = ANY_ADDRESS.has(host) ? 'localhost' : host;
  return `${scheme === 'wss' ? 'https' : 'http'}://${browsable}:${port}/`;
}
