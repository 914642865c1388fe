/** SEP-2243 standard request headers for 2026-07-28: MCP-Protocol-Version, Mcp-Method, Mcp-Name. */
import type { IncomingHttpHeaders } from 'node:http';
import { ERR, RpcError } from '../jsonrpc.ts';
import type { JsonRpcMessage } from '../plugins.ts';
import { META } from './envelope.ts';

const NAME_SOURCE: Record<string, string> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

function mismatch(message: string, header: string, body: string): RpcError {
  return new RpcError(ERR.HEADER_MISMATCH, `Bad Request: the request headers and body disagree: ${message}`, {
    mismatch: { header, body },
  });
}

/** Decodes an `Mcp-Name` value, including the `=?base64?…?=` sentinel; undefined when malformed. */
export function decodeMcpName(value: string): string | undefined {
  const m = /^=\?base64\?(.*)\?=$/i.exec(value);
  if (!m) return value;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(m[1])) return undefined;
  return Buffer.from(m[1], 'base64').toString('utf8');
}

/** Throws a -32020 RpcError when a required header is missing or disagrees with the body. */
export function checkModernHeaders(headers: IncomingHttpHeaders, msg: JsonRpcMessage): void {
  const method = msg.method as string;
  const claimed = msg.params._meta[META.protocolVersion];
  const version = (headers['mcp-protocol-version'] as string | undefined)?.trim();
  if (version === undefined)
    throw mismatch(
      `the body envelope names protocol version ${claimed} but the required MCP-Protocol-Version header is absent`,
      '(missing)',
      claimed,
    );
  if (version !== claimed)
    throw mismatch(
      `the body envelope names protocol version ${claimed} but the MCP-Protocol-Version header names ${version}`,
      version,
      claimed,
    );
  const mcpMethod = (headers['mcp-method'] as string | undefined)?.trim();
  if (mcpMethod === undefined)
    throw mismatch(`the body names method ${method} but the required Mcp-Method header is absent`, '(missing)', method);
  if (mcpMethod !== method)
    throw mismatch(`the body names method ${method} but the Mcp-Method header names ${mcpMethod}`, mcpMethod, method);
  const field = NAME_SOURCE[method];
  if (field === undefined) return;
  const bodyValue = msg.params?.[field];
  if (typeof bodyValue !== 'string') return;
  const raw = (headers['mcp-name'] as string | undefined)?.trim();
  if (raw === undefined)
    throw mismatch(
      `the body carries params.${field}="${bodyValue}" but the required Mcp-Name header is absent`,
      '(missing)',
      bodyValue,
    );
  const decoded = decodeMcpName(raw);
  if (decoded === undefined)
    throw mismatch('the Mcp-Name header carries an invalid Base64 sentinel value', raw, bodyValue);
  if (decoded !== bodyValue)
    throw mismatch(
      `the body carries params.${field}="${bodyValue}" but the Mcp-Name header names "${decoded}"`,
      raw,
      bodyValue,
    );
}
