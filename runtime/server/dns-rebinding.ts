/** Host and Origin checks against DNS rebinding (like the SDK's localhost host/origin validation). */

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** True for hosts that only accept local connections. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

/** The hostname part of a Host header (`127.0.0.1:4483` → `127.0.0.1`, `[::1]:80` → `[::1]`). */
function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1).toLowerCase();
  const colon = hostHeader.indexOf(':');
  return (colon < 0 ? hostHeader : hostHeader.slice(0, colon)).toLowerCase();
}

/** When bound to loopback, the Host header must name a loopback host. */
export function hostAllowed(host: string | undefined, loopback: boolean): boolean {
  if (!loopback) return true;
  if (!host) return false;
  return isLoopbackHost(hostnameOf(host));
}

/** A browser Origin must be loopback (loopback bind) or match the Host header (other binds). */
export function originAllowed(origin: string | undefined, host: string | undefined, loopback: boolean): boolean {
  if (origin === undefined) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  const hostname = parsed.hostname.toLowerCase();
  if (loopback) return isLoopbackHost(hostname) || hostname === '[::1]';
  return host !== undefined && parsed.host.toLowerCase() === host.toLowerCase();
}
