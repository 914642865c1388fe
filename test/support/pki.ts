/**
 * A throwaway PKI for TLS tests and benchmarks, made with openssl: a CA, and a server certificate
 * for 127.0.0.1 and localhost signed by it, valid two days.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The CA and server files written into `dir` (ca.pem, server.key, server.pem), and their PEM text. */
export interface Pki {
  caPath: string;
  keyPath: string;
  certPath: string;
  ca: string;
  key: string;
  cert: string;
}

/** Writes a CA and a server certificate into `dir`. */
export function makePki(dir: string): Pki {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = ['-newkey', 'rsa:2048', '-nodes'];
  ssl('req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=vmcp test CA');
  ssl('req', ...key, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  const sign = ['-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf'];
  ssl('x509', '-req', '-in', 'server.csr', ...sign, '-out', 'server.pem');
  const path = (f: string) => join(dir, f);
  const read = (f: string) => readFileSync(path(f), 'utf8');
  return {
    caPath: path('ca.pem'),
    keyPath: path('server.key'),
    certPath: path('server.pem'),
    ca: read('ca.pem'),
    key: read('server.key'),
    cert: read('server.pem'),
  };
}
