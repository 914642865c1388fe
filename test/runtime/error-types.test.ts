/**
 * The error types observers label with (metrics, spans, audit) are bounded: a backend that invents
 * JSON-RPC codes cannot grow a Prometheus label without bound.
 */
import { describe, expect, it } from 'vitest';
import { ERR, RpcError } from '../../runtime/jsonrpc.ts';
import { endingOf, rpcErrorType } from '../../runtime/observers.ts';

describe('endingOf', () => {
  it.each([
    [new RpcError(ERR.FORBIDDEN, 'no'), 'denied', 'forbidden'],
    [new RpcError(ERR.TIMEOUT, 'slow'), 'failure', 'timeout'],
    [new RpcError(ERR.CONNECTION_CLOSED, 'gone'), 'failure', 'connection'],
    [new RpcError(ERR.INVALID_PARAMS, 'bad'), 'error', 'rpc_32602'],
    [new RpcError(ERR.METHOD_NOT_FOUND, 'what'), 'error', 'rpc_32601'],
    [new RpcError(ERR.INTERNAL, 'oops'), 'failure', 'rpc_32603'],
    [new RpcError(-32002, 'no such resource'), 'failure', 'rpc_32002'],
    [new RpcError(-32042, 'open a URL'), 'failure', 'rpc_32042'],
    [new RpcError(-32077, 'custom server error'), 'failure', 'rpc_server_error'],
    [new RpcError(-1, 'made up'), 'failure', 'rpc_other'],
    [new RpcError(424242, 'made up'), 'failure', 'rpc_other'],
    [new Error('boom'), 'failure', 'internal'],
  ])('%s → %s, %s', (err, outcome, errorType) => {
    expect(endingOf(err)).toMatchObject({ outcome, errorType });
  });

  it('a thousand distinct backend codes give at most three error types outside the known ones', () => {
    const types = new Set<string>();
    for (let code = -40000; code < -39000; code++) types.add(rpcErrorType(code));
    for (let code = -32099; code <= -32000; code++) types.add(rpcErrorType(code));
    const unknown = [...types].filter((t) => !/^rpc_320\d\d$|^rpc_327\d\d$|^rpc_326\d\d$/.test(t));
    expect(unknown.sort()).toEqual(['rpc_other', 'rpc_server_error']);
  });
});
