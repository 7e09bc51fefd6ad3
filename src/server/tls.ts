// The TLS certificate and key of `--tls-cert`/`--tls-key`, read and checked
// at start-up (and again on reload), so that a bad file is one clear error.

import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { SettingError, type Settings } from '../options.js';

/** The TLS settings alone. */
export type TlsFiles = Pick<Settings, 'tlsCert' | 'tlsKey' | 'tlsCa'>;

/** Reads the PEM files named by the TLS settings; throws a `SettingError` naming the flag at fault. */
export function readTls(files: TlsFiles): SecureContextOptions {
  const read = (file: string, flag: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new SettingError(`${flag}: cannot read "${file}" (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  const options: SecureContextOptions = {
    cert: read(files.tlsCert, '--tls-cert'),
    key: read(files.tlsKey, '--tls-key'),
  };
  if (files.tlsCa !== '') options.ca = read(files.tlsCa, '--tls-ca');
  try {
    // Parse now, so a bad file is one clear error at start-up rather than a failed handshake later.
    createSecureContext(options);
  } catch (error) {
    throw new SettingError(`--tls-cert/--tls-key: ${(error as Error).message}`);
  }
  return options;
}
