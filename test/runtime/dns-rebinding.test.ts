/** DNS-rebinding protection: Host and Origin must name loopback literally on a loopback bind. */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostAllowed, isLoopbackHost, originAllowed } from '../../runtime/server/dns-rebinding.ts';
import { ECHO, startGatewayOver, type RunningGateway } from './harness.ts';

/** Host headers a browser may send for a page on a name that resolves (or rebinds) to 127.0.0.1. */
const HOSTS: Array<[string, boolean]> = [
  ['127.0.0.1:4483', true],
  ['127.0.0.1', true],
  ['127.1.2.3:80', true],
  ['127.255.255.255', true],
  ['localhost:4483', true],
  ['LOCALHOST', true],
  ['[::1]:4483', true],
  ['[::1]', true],
  // Rebinding names: DNS names an attacker controls that merely start like a loopback address.
  ['127.0.0.1.rebind.attacker.example', false],
  ['127.0.0.1.rebind.attacker.example:4483', false],
  ['127.attacker.example', false],
  ['127.0.0.1.nip.io', false],
  ['localhost.attacker.example', false],
  ['localhost.', false],
  ['127.0.0.256', false],
  ['127.0.0', false],
  ['127.00.0.1', false],
  ['0x7f.0.0.1', false],
  ['[::1].attacker.example', false],
  ['[::1]x', false],
  ['127.0.0.1:80@attacker.example', false],
  ['127.0.0.1:abc', false],
  ['evil.example.com', false],
  ['10.0.0.1', false],
  ['', false],
];

/** Origins: a loopback-bound gateway accepts only loopback origins. */
const ORIGINS: Array<[string, boolean]> = [
  ['http://127.0.0.1:4483', true],
  ['http://localhost:3000', true],
  ['https://[::1]:8443', true],
  ['http://127.0.0.1.rebind.attacker.example', false],
  ['http://127.0.0.1.rebind.attacker.example:4483', false],
  ['http://localhost.attacker.example', false],
  ['http://evil.example.com', false],
  ['null', false],
  ['file://', false],
  ['chrome-extension://abc', false],
];

describe('Host and Origin rules (loopback bind)', () => {
  it.each(HOSTS)('Host %j → %s', (host, want) => expect(hostAllowed(host, true)).toBe(want));
  it.each(ORIGINS)('Origin %j → %s', (origin, want) =>
    expect(originAllowed(origin, '127.0.0.1:4483', true)).toBe(want),
  );
  it('a missing Host is refused on loopback, anything goes on a public bind (auth protects it)', () => {
    expect(hostAllowed(undefined, true)).toBe(false);
    expect(hostAllowed('gateway.example.com', false)).toBe(true);
  });
  it('on a public bind, a browser Origin must match the Host', () => {
    expect(originAllowed('https://gateway.example.com', 'gateway.example.com', false)).toBe(true);
    expect(originAllowed('https://evil.example.com', 'gateway.example.com', false)).toBe(false);
  });
  it.each([
    ['127.0.0.1', true],
    ['::1', true],
    ['0.0.0.0', false],
    ['127.0.0.1.example', false],
  ])('the bind address %j is loopback: %s', (host, want) => expect(isLoopbackHost(host)).toBe(want));
});

describe('a running gateway refuses rebinding names (the conformance suite sends a foreign Host)', () => {
  let g: RunningGateway;
  beforeAll(async () => {
    g = await startGatewayOver([{ name: 'echo', args: [ECHO] }]);
  });
  afterAll(async () => {
    await g?.stop();
  });

  const INIT = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  });
  const post = (headers: Record<string, string>, path = '/mcp', method = 'POST'): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: g.port,
          path,
          method,
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(method === 'POST' ? INIT : undefined);
    });

  it.each([
    ['127.0.0.1.rebind.attacker.example', undefined],
    ['127.0.0.1.rebind.attacker.example:4483', 'http://127.0.0.1.rebind.attacker.example:4483'],
    ['localhost.attacker.example', undefined],
    ['127.0.0.1', 'http://127.0.0.1.rebind.attacker.example'],
    ['evil.example.com', 'http://evil.example.com'],
  ])('Host %j, Origin %j → 403 on /mcp and on the ops endpoints', async (host, origin) => {
    const headers: Record<string, string> = { host };
    if (origin) headers.origin = origin;
    expect(await post(headers)).toBe(403);
    expect(await post(headers, '/status', 'GET')).toBe(403);
  });

  it('the loopback names themselves still work', async () => {
    expect(await post({ host: `127.0.0.1:${g.port}` })).toBe(200);
    expect(await post({ host: `localhost:${g.port}`, origin: 'http://localhost:5173' })).toBe(200);
  });
});
