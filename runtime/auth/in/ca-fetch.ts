/**
 * A `fetch` for the identity provider's endpoints (discovery, JWKS, introspection) that trusts a
 * `caBundlePath` agent: global fetch (undici) takes no CA option, so these few small requests go
 * through node:https. Redirects are not followed (the default path refuses them too). The compiler
 * uses it as well, to list an HTTPS backend behind a private CA.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';

/** What the OIDC code passes: the subset of RequestInit it uses. */
export interface IdpRequest {
  method?: string;
  headers?: Record<string, string> | Headers;
  body?: string;
  signal?: AbortSignal;
}

/** A fetch-shaped function over `agent` (https) or plain node:http (loopback http issuers). */
export type IdpFetch = (url: string | URL, init?: IdpRequest) => Promise<Response>;

/** Builds the fetch for an identity provider behind a private CA. */
export function caFetch(agent: https.Agent): IdpFetch {
  return (input, init = {}) =>
    new Promise((resolve, reject) => {
      const url = new URL(String(input));
      const mod = url.protocol === 'https:' ? https : http;
      const headers: Record<string, string | number> = Object.fromEntries(new Headers(init.headers));
      if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
      const req = mod.request(
        url,
        { method: init.method ?? 'GET', headers, signal: init.signal, ...(url.protocol === 'https:' ? { agent } : {}) },
        (res) => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, String(v));
          const status = res.statusCode ?? 0;
          // Streamed, so an event stream works too; the callers' timeouts bound the wait.
          const body = status === 204 || status === 304 ? null : (Readable.toWeb(res) as ReadableStream);
          resolve(new Response(body, { status, headers: h }));
        },
      );
      req.on('error', reject);
      req.end(init.body);
    });
}
