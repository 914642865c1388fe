/** `--stdio`: the same gateway over stdin/stdout; stdout carries only protocol messages. */
import { LOG_LEVELS, cancelCall, type CallContext } from '../call-context.ts';
import type { GatewayCore } from '../gateway.ts';
import { ERR, errorJson, notificationJson, resultJson, toRpcError } from '../jsonrpc.ts';
import type { JsonRpcMessage } from '../plugins.ts';
import type { Json } from '../raw-json.ts';
import { cancelModern, checkEnvelope, isModernMessage, serveModern, type Exchange } from '../protocol/modern.ts';
import { Session } from '../protocol/session.ts';

/** Serves one client on stdio until stdin ends; resolves then. */
export function serveStdio(core: GatewayCore): Promise<void> {
  const out = (json: Json) => {
    if (typeof json === 'string') return void process.stdout.write(`${json}\n`);
    for (const s of json.segments) process.stdout.write(s);
    process.stdout.write('\n');
  };
  let session: Session | undefined;
  // One client per pipe: its 2026 calls are its own to cancel by request id.
  const exchange: Exchange = { write: out, end: out, abandon: () => {}, cancelScope: 'stdio' };

  const onMessage = async (msg: JsonRpcMessage) => {
    if (msg.id === undefined && msg.method === 'notifications/cancelled') {
      // Whatever the era of the notification: every call on this pipe is the client's own.
      cancelCall(session?.inflight.get(msg.params?.requestId));
      return cancelModern(core, undefined, msg.params?.requestId, exchange.cancelScope);
    }
    if (isModernMessage(msg) && msg.method !== undefined && msg.id !== undefined) {
      try {
        checkEnvelope(msg);
      } catch (err) {
        return out(errorJson(msg.id, toRpcError(err)));
      }
      return serveModern(core, msg, exchange, () => {});
    }
    if (msg.method === 'initialize' && msg.id !== undefined) {
      if (session) core.closeSession(session.id);
      session = new Session('stdio', '', msg.params?.capabilities ?? {}, core.timers);
      session.push = out;
      core.sessions.set(session.id, session);
      core.observeInitialize(session, msg);
      return out(resultJson(msg.id, core.initializeResult(msg.params?.protocolVersion)));
    }
    const s = session;
    if (msg.method === undefined) return void s?.resolveClient(msg);
    if (msg.id === undefined || msg.id === null) {
      if (msg.method === 'notifications/cancelled') cancelCall(s?.inflight.get(msg.params?.requestId));
      return;
    }
    if (msg.method === 'logging/setLevel' && s) {
      const level = LOG_LEVELS.indexOf(msg.params?.level);
      if (level < 0)
        return out(errorJson(msg.id, { code: ERR.INVALID_PARAMS, message: `Invalid log level: ${msg.params?.level}` }));
      s.logLevel = level;
      core.updateLogLevels();
      return out(resultJson(msg.id, '{}'));
    }
    const ctx: CallContext = {
      notify: (method, params) => out(notificationJson(method, params)),
      request: s ? (method, params) => s.request(method, params, out) : undefined,
      clientCapabilities: s?.clientCapabilities,
      sessionId: s?.id,
      requestId: msg.id,
    };
    s?.inflight.set(msg.id, ctx);
    try {
      out(resultJson(msg.id, await core.router.dispatch(msg.method, msg.params, ctx, false)));
    } catch (err) {
      if (!ctx.cancelled) out(errorJson(msg.id, toRpcError(err)));
    } finally {
      s?.inflight.delete(msg.id);
    }
  };

  return new Promise((resolve) => {
    let buffer = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      buffer += chunk;
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf('\n');
        if (!line) continue;
        let msg: JsonRpcMessage;
        try {
          msg = JSON.parse(line);
        } catch {
          out(errorJson(null, { code: ERR.PARSE, message: 'Parse error' }));
          continue;
        }
        onMessage(msg).catch((err) => core.log.error({ error: (err as Error).message }, 'stdio handler failed'));
      }
    });
    process.stdin.on('end', () => resolve());
    process.stdin.on('close', () => resolve());
  });
}
