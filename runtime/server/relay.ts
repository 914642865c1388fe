/**
 * Relays between replicas. A client's answer to a server→client request (2025: a POST carrying a
 * JSON-RPC response; 2026: a retry carrying `requestState`) may reach another replica than the one
 * holding the call, when a load balancer spreads requests. Ids and requestStates name the holding
 * replica in a tag only replicas can open (session-keys.ts), so the receiving replica forwards the
 * request there as it came (the client's Authorization included; the holder authenticates it again)
 * and streams the answer back. A relayed request is never relayed again.
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { GatewayCore } from '../gateway.ts';
import { ERR } from '../jsonrpc.ts';
import type { JsonRpcMessage } from '../plugins.ts';
import { sendJsonError } from './respond.ts';

/** Marks a relayed request: the receiving replica serves it itself. */
export const RELAYED_HEADER = 'x-vmcp-relayed';

/** Hop-by-hop headers, and the ones the relayed request sets itself (the holder checks Host as its own). */
const DROP: ReadonlySet<string> = new Set([
  'host',
  'origin',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
]);

/** Forwards the POST `body` to the replica at `target` and streams its answer to `res`. */
export function relay(
  core: GatewayCore,
  target: string,
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  msg: JsonRpcMessage,
): void {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !DROP.has(k)) headers[k] = v;
  headers[RELAYED_HEADER] = '1';
  headers['content-length'] = String(Buffer.byteLength(body));
  const url = new URL(target);
  const up = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'POST', headers });
  up.on('response', (answer) => {
    core.relays.ok++;
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && !DROP.has(k)) out[k] = v;
    res.writeHead(answer.statusCode ?? 502, out);
    answer.pipe(res);
  });
  up.on('error', (err: Error) => {
    core.relays.failed++;
    core.log.warn(
      { replica: url.host, error: err.message },
      "could not relay a client's answer to the replica holding its call",
    );
    sendJsonError(
      res,
      502,
      ERR.CONNECTION_CLOSED,
      'Bad Gateway: the gateway replica holding this call cannot be reached (it may have stopped); retry the call',
      msg.method === undefined ? null : (msg.id ?? null),
    );
  });
  // The client went away: so does the relayed request (the holder sees its stream close).
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  up.end(body);
}
