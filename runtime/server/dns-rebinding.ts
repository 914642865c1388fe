/**
 * Host and Origin checks against DNS rebinding (like the SDK's localhost host/origin validation).
 *
 * A loopback-bound gateway only answers requests whose Host (and Origin, when a browser sends one)
 * names loopback *literally*: `localhost`, an IPv4 literal in 127.0.0.0/8, or `[::1]`. A prefix
 * match is not enough: `127.0.0.1.rebind.attacker.example` is a DNS name an attacker controls, and
 * a page on it could otherwise call every tool of an anonymous gateway.
 */

/** Four decimal octets (no leading zeros, each 0-255) whose first is 127. */
const IPV4_LOOPBACK = /^127(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** True for a host name or IP literal that only accepts local connections (bracketed or bare IPv6). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || h === '[::1]' || IPV4_LOOPBACK.test(h);
}

/** The hostname part of a Host header (`127.0.0.1:4483` → `127.0.0.1`, `[::1]:80` → `[::1]`); undefined when malformed. */
function hostnameOf(hostHeader: string): string | undefined {
  if (hostHeader.startsWith('[')) {
    const close = hostHeader.indexOf(']');
    if (close < 0) return undefined;
    const rest = hostHeader.slice(close + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    return hostHeader.slice(0, close + 1).toLowerCase();
  }
  const colon = hostHeader.indexOf(':');
  if (colon >= 0 && !/^\d{1,5}$/.test(hostHeader.slice(colon + 1))) return undefined;
  return (colon < 0 ? hostHeader : hostHeader.slice(0, colon)).toLowerCase();
}

/** When bound to loopback, the Host header must name a loopback host. */
export function hostAllowed(host: string | undefined, loopback: boolean): boolean {
  if (!loopback) return true;
  if (!host) return false;
  const name = hostnameOf(host);
  return name !== undefined && isLoopbackHost(name);
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
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  if (loopback) return isLoopbackHost(parsed.hostname);
  return host !== undefined && parsed.host.toLowerCase() === host.toLowerCase();
}
