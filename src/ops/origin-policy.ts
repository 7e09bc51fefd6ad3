// Which browser origins may connect: exact origins and subdomain wildcards,
// checked against the Origin header of WebSocket upgrades and HTTP requests.

const WILDCARD = /^([a-z][a-z0-9+.-]*):\/\/\*\.((?:[a-z0-9-]+\.)*[a-z0-9-]+)(?::(\d{1,5}))?$/;

/** Ports a browser leaves out of an origin. */
const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: '80', https: '443', ws: '80', wss: '443' };

interface WildcardRule {
  readonly scheme: string;
  /** `.example.com` for `*.example.com`. */
  readonly suffix: string;
  /** Empty for the scheme's default port. */
  readonly port: string;
}

/**
 * Says why an `--allow-origin` entry is not valid, or `undefined` when it is.
 * Valid: `*`, `null`, an origin (`https://app.example.com`,
 * `http://localhost:5173`) or a subdomain wildcard (`https://*.example.com`).
 */
export function originPatternProblem(entry: string): string | undefined {
  if (entry === '*' || entry === 'null') return undefined;
  if (entry.includes('*')) {
    return WILDCARD.test(entry.toLowerCase())
      ? undefined
      : `"${entry}" is not a valid wildcard origin (write it like https://*.example.com)`;
  }
  const origin = parseOrigin(entry);
  if (origin === undefined) return `"${entry}" is not an origin (write it like https://app.example.com, no path)`;
  return undefined;
}

/**
 * A set of allowed browser origins. An empty list allows every origin.
 *
 * @example
 * const policy = new OriginPolicy(['https://app.example.com', 'https://*.example.org']);
 * policy.allows('https://a.b.example.org') // true
 * policy.allows('https://example.org')     // false: a wildcard needs a subdomain
 */
export class OriginPolicy {
  private readonly any: boolean;
  private readonly exact = new Set<string>();
  private readonly wildcards: WildcardRule[] = [];

  /** Builds the policy; each entry must pass {@link originPatternProblem}. */
  constructor(entries: readonly string[]) {
    this.any = entries.length === 0 || entries.includes('*');
    for (const entry of entries) {
      if (entry === '*') continue;
      if (entry === 'null') {
        this.exact.add('null');
        continue;
      }
      const match = WILDCARD.exec(entry.toLowerCase());
      if (match !== null) {
        const scheme = match[1]!;
        const port = match[3] ?? '';
        this.wildcards.push({ scheme, suffix: `.${match[2]!}`, port: port === DEFAULT_PORTS[scheme] ? '' : port });
        continue;
      }
      const origin = parseOrigin(entry);
      if (origin !== undefined) this.exact.add(origin);
    }
  }

  /** True when every origin is allowed (no list, or `*`). */
  get allowsAny(): boolean {
    return this.any;
  }

  /** Whether a request with this Origin header may go on. No header (not a browser): yes. */
  allows(origin: string | undefined): boolean {
    if (origin === undefined || this.any) return true;
    // Browsers send serialized origins, so the exact set usually answers at once.
    if (this.exact.has(origin)) return true;
    const parsed = parseOrigin(origin);
    if (parsed === undefined) return false;
    if (this.exact.has(parsed)) return true;
    const url = new URL(parsed);
    const scheme = url.protocol.slice(0, -1);
    return this.wildcards.some(
      (rule) =>
        rule.scheme === scheme &&
        rule.port === url.port &&
        url.hostname.length > rule.suffix.length &&
        url.hostname.endsWith(rule.suffix),
    );
  }
}

/** The serialized origin of `text` when `text` is exactly an origin (no path, query or credentials). */
function parseOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.host === '' || url.username !== '' || url.password !== '') return undefined;
  if (url.search !== '' || url.hash !== '' || (url.pathname !== '/' && url.pathname !== '')) return undefined;
  if (text.endsWith('/')) return undefined;
  // URL gives non-special schemes (chrome-extension:, say) an opaque "null" origin; browsers send scheme://host.
  return url.origin === 'null' ? `${url.protocol}//${url.host}` : url.origin;
}
