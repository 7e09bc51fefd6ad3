// Which TCP peers may tell Sigver the client's address in X-Forwarded-For:
// none, any (the boolean form of --trust-proxy), or a list of addresses and
// CIDR ranges, IPv4 or IPv6, matched with node's BlockList.

import { BlockList, isIP } from 'node:net';

/** The value of the `trustProxy` setting: off, any peer, or these addresses and ranges. */
export type TrustProxySetting = boolean | readonly string[];

/** Says what is wrong with one entry of a `--trust-proxy` list (`source` names it), or `undefined`. */
export function proxyEntryProblem(entry: string, source: string): string | undefined {
  return parseEntry(entry) === undefined
    ? `${source}: "${entry}" is not an IP address or CIDR range (10.0.0.0/8, 127.0.0.1, fd00::/8)`
    : undefined;
}

interface Entry {
  readonly address: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly prefix: number | undefined;
}

function parseEntry(text: string): Entry | undefined {
  const slash = text.indexOf('/');
  const written = slash < 0 ? text : text.slice(0, slash);
  const address = unmapped(written);
  const version = isIP(address);
  if (version === 0) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (slash < 0) return { address, family, prefix: undefined };
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  // A range written IPv4-mapped (::ffff:127.0.0.0/104) is the IPv4 range of its last 32 bits.
  const prefix = written === address ? Number(prefixText) : Number(prefixText) - 96;
  if (prefix < 0 || prefix > (family === 'ipv4' ? 32 : 128)) return undefined;
  return { address, family, prefix };
}

/** An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) as IPv4; any other text as it is. */
export function unmapped(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** The peers trusted to report the client address. */
export class TrustedProxies {
  private readonly list: BlockList | undefined;

  /** `true`: any peer (one hop); `false`: none; a list: those addresses and ranges. */
  constructor(readonly setting: TrustProxySetting) {
    if (typeof setting === 'boolean') return;
    this.list = new BlockList();
    for (const text of setting) {
      const entry = parseEntry(text);
      if (entry === undefined) throw new Error(`not an IP address or CIDR range: ${text}`);
      if (entry.prefix === undefined) this.list.addAddress(entry.address, entry.family);
      else this.list.addSubnet(entry.address, entry.prefix, entry.family);
    }
  }

  /** Whether X-Forwarded-For is read at all. */
  get enabled(): boolean {
    return this.setting === true || (typeof this.setting !== 'boolean' && this.setting.length > 0);
  }

  /** Whether the boolean form: any peer is the one trusted proxy. */
  get any(): boolean {
    return this.setting === true;
  }

  /** Whether `address` (IPv4, IPv6 or IPv4-mapped IPv6) is a trusted proxy. */
  trusts(address: string): boolean {
    if (this.setting === true) return true;
    if (this.list === undefined) return false;
    const plain = unmapped(address);
    const version = isIP(plain);
    return version !== 0 && this.list.check(plain, version === 4 ? 'ipv4' : 'ipv6');
  }
}
