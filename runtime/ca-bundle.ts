/**
 * `caBundlePath`: a PEM bundle added to the trusted roots (ToolHive: "added to the trust store").
 * Read once at start-up, never at compile time, so a bundle runs unchanged wherever the path holds
 * that environment's CA; a file that is missing or holds no certificate stops the start-up.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { StartupError } from './env.ts';

/** The system roots plus the certificates in `path`; `what` names the setting in errors. */
export function readCaBundle(path: string, what: string): string[] {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new StartupError(
      `${what}: cannot read the CA bundle ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!certs) throw new StartupError(`${what}: ${path} holds no PEM certificate`);
  return [...rootCertificates, ...certs];
}

/** A keep-alive https agent that trusts the system roots plus the bundle at `path`. */
export function caAgent(path: string, what: string): Agent {
  return new Agent({ keepAlive: true, maxSockets: 256, ca: readCaBundle(path, what) });
}
