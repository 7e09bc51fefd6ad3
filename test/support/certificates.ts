// Makes a throwaway certificate chain for TLS tests with the openssl
// command: a root CA, an intermediate CA, and a certificate for localhost
// and 127.0.0.1 signed by the intermediate. Nothing leaves the machine.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Paths of the PEM files, and the root a client must trust. */
export interface TestCertificates {
  readonly dir: string;
  /** The leaf certificate (localhost, 127.0.0.1). */
  readonly cert: string;
  readonly key: string;
  /** The intermediate CA certificate that signed `cert`. */
  readonly intermediate: string;
  /** The root CA certificate, PEM text: what clients trust. */
  readonly rootPem: string;
  /** Writes a fresh leaf certificate and key over `cert` and `key` (a renewal). Returns its PEM text. */
  renew(): string;
  remove(): void;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function newKeyAndRequest(dir: string, name: string, subject: string): void {
  openssl(
    dir,
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  );
}

function sign(dir: string, name: string, ca: string, extensions: string): void {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  const serial = `0x${Date.now().toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`;
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-set_serial',
    serial,
    '-days',
    '2',
    '-out',
    `${name}.pem`,
    '-extfile',
    `${name}.ext`,
  );
}

/** Creates the chain in a new temporary directory. */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'sigver-tls-'));
  const ca = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n';
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'root.key',
    '-out',
    'root.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Sigver Test Root',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  newKeyAndRequest(dir, 'intermediate', '/CN=Sigver Test Intermediate');
  sign(dir, 'intermediate', 'root', ca);
  const renew = (): string => {
    newKeyAndRequest(dir, 'leaf', '/CN=localhost');
    sign(dir, 'leaf', 'intermediate', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    return readFileSync(join(dir, 'leaf.pem'), 'utf8');
  };
  renew();
  return {
    dir,
    cert: join(dir, 'leaf.pem'),
    key: join(dir, 'leaf.key'),
    intermediate: join(dir, 'intermediate.pem'),
    rootPem: readFileSync(join(dir, 'root.pem'), 'utf8'),
    renew,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
