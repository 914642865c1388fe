/**
 * The shared store on Redis (`sessionStorage.provider: redis`), through ioredis. Bundled only for
 * configs that name it. It holds two things:
 * - **ended sessions**: a DELETE on any replica writes `revoked:<sid>` (expiring with the id) and
 *   publishes it; every replica drops the session and refuses the id from then on. A replica that
 *   restores a session from its signed id checks the key first.
 * - **rate-limit buckets**: one Lua script takes a token from every bucket of a call atomically, on
 *   Redis's clock, so N replicas allow exactly what one would.
 *
 * When Redis cannot answer, nothing waits for it (no offline queue, a short command timeout):
 * - a session restore proceeds (the id's signature and expiry still hold; only a DELETE on another
 *   replica during the outage goes unseen), and a DELETE still ends the session here;
 * - a rate-limited call follows `rateLimiting.onStoreError`: allow (ToolHive's choice) or deny.
 * Each outage is logged once when it starts and once when it ends, and counted in /metrics.
 */
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { CompiledRateLimits, CompiledSharedStore } from '../compiled-gateway.ts';
import type { Logger } from '../log.ts';
import type { SharedStore, SharedStoreFactory } from '../plugins.ts';
import { bucketsFor, retryAfterSeconds, type RateLimiter, type Refusal } from './rate-limit.ts';

/** A command that takes longer than this counts as a store failure. */
const COMMAND_TIMEOUT_MS = 500;
/** Longest wait between reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * Takes one token from each bucket, or from none. KEYS: the buckets. ARGV: maxTokens and refill
 * period (ms) per bucket. Returns {0} when allowed, else {index of the refusing bucket (1-based),
 * its tokens as a string} (Lua numbers would be truncated to integers on the way out).
 */
const TAKE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local levels = {}
local refused = 0
for i = 1, #KEYS do
  local max = tonumber(ARGV[2 * i - 1])
  local refill = tonumber(ARGV[2 * i])
  local s = redis.call('HMGET', KEYS[i], 't', 'at')
  local tokens = tonumber(s[1])
  if tokens == nil then
    levels[i] = max
  else
    levels[i] = math.min(max, tokens + math.max(0, now - tonumber(s[2])) * max / refill)
  end
  if refused == 0 and levels[i] < 1 then refused = i end
end
local take = 1
if refused ~= 0 then take = 0 end
for i = 1, #KEYS do
  redis.call('HSET', KEYS[i], 't', tostring(levels[i] - take), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[i], math.ceil(tonumber(ARGV[2 * i])) + 1000)
end
if refused == 0 then return {0} end
return {refused, tostring(levels[refused])}
`;

type TakeCommand = (numKeys: number, ...args: Array<string | number>) => Promise<[number, string?]>;

export const redisStore: SharedStoreFactory = (cfg, { gateway, log, env }) => new RedisStore(cfg, gateway, log, env);

class RedisStore implements SharedStore {
  private readonly client: Redis;
  private readonly subscriber: Redis;
  /** `{gateway}` is a hash tag: every key of one gateway lands on one cluster slot (the script needs that). */
  private readonly prefix: string;
  private readonly channel: string;
  private readonly listeners: Array<(sid: string, exp: number) => void> = [];
  private errors = 0;
  private down = false;
  private readonly log: Logger;

  constructor(cfg: CompiledSharedStore, gateway: string, log: Logger, env: NodeJS.ProcessEnv) {
    this.log = log.child({ store: 'redis' });
    this.prefix = `${cfg.keyPrefix}vmcp:{${gateway}}:`;
    this.channel = `${this.prefix}revoked`;
    const password = env[cfg.passwordEnv] || undefined;
    const options: RedisOptions = {
      host: cfg.host,
      port: cfg.port,
      db: cfg.db,
      ...(password ? { password } : {}),
      ...(cfg.tls ? { tls: {} } : {}),
      connectionName: `vmcp-${gateway}`,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(100 * attempt, MAX_RECONNECT_DELAY_MS),
    };
    this.client = new Redis(options);
    this.client.defineCommand('vmcpTake', { lua: TAKE_SCRIPT });
    // Subscriptions wait for the connection (offline queue on), and come back after a reconnect.
    this.subscriber = new Redis({ ...options, enableOfflineQueue: true, commandTimeout: undefined });
    const where = `${cfg.host}:${cfg.port}`;
    this.client.on('ready', () => {
      if (this.down) this.log.info({ redis: where }, 'shared store reachable again');
      else this.log.info({ redis: where }, 'shared store connected');
      this.down = false;
    });
    this.client.on('error', (err: Error) => this.failed(err, where, cfg.passwordEnv));
    this.subscriber.on('error', () => {}); // the client's handler reports outages once
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const [sid, exp] = message.split(' ');
      if (sid) for (const l of this.listeners) l(sid, Number(exp) || 0);
    });
    this.subscriber.subscribe(this.channel).catch(() => {});
  }

  /** Logs the first failure of an outage (with the fix when it is authentication), counts every one. */
  private failed(err: Error, where: string, passwordEnv: string): void {
    this.errors++;
    if (this.down) return;
    this.down = true;
    const auth = /NOAUTH|WRONGPASS|invalid password/i.test(err.message);
    this.log.warn(
      { redis: where, error: err.message },
      auth
        ? `shared store refused the connection: set the Redis password in ${passwordEnv}`
        : 'shared store unreachable: session revocations are not shared and rate limits follow onStoreError until it is back',
    );
  }

  /** A command failed: counted, and reported like a connection error (once per outage). */
  private commandFailed(err: unknown): void {
    this.errors++;
    if (this.down) return;
    this.down = true;
    this.log.warn(
      { error: err instanceof Error ? err.message : String(err) },
      'shared store did not answer: session revocations are not shared and rate limits follow onStoreError until it is back',
    );
  }

  /** A command answered: an outage noticed through commands (a timeout) is over. */
  private succeeded(): void {
    if (!this.down) return;
    this.down = false;
    this.log.info({}, 'shared store answering again');
  }

  rateLimiter(limits: CompiledRateLimits): RateLimiter {
    const take = (this.client as unknown as { vmcpTake: TakeCommand }).vmcpTake.bind(this.client);
    const deny = limits.onStoreError === 'deny';
    return {
      take: async (tool, userKey): Promise<Refusal | undefined> => {
        // Keys name callers by a hash: no identity in Redis, and no delimiter inside a key.
        const user = userKey === undefined ? undefined : createHash('sha256').update(userKey).digest('base64url');
        const buckets = bucketsFor(limits, tool, user);
        if (buckets.length === 0) return undefined;
        try {
          const args: Array<string | number> = buckets.map((b) => this.prefix + 'rl:' + b.key);
          for (const b of buckets) args.push(b.spec.maxTokens, b.spec.refillMs);
          const [refused, tokens] = await take(buckets.length, ...args);
          this.succeeded();
          if (!refused) return undefined;
          const b = buckets[refused - 1];
          return { retryAfterSeconds: retryAfterSeconds(Number(tokens), b.spec), scope: b.scope };
        } catch (err) {
          this.commandFailed(err);
          return deny ? { retryAfterSeconds: 1, scope: 'store' } : undefined;
        }
      },
    };
  }

  async revoke(sid: string, exp: number): Promise<void> {
    try {
      await this.client
        .multi()
        .set(`${this.prefix}revoked:${sid}`, '1', 'EXAT', exp)
        .publish(this.channel, `${sid} ${exp}`)
        .exec();
      this.succeeded();
    } catch (err) {
      this.commandFailed(err);
      throw err;
    }
  }

  async isRevoked(sid: string): Promise<boolean> {
    try {
      const n = await this.client.exists(`${this.prefix}revoked:${sid}`);
      this.succeeded();
      return n === 1;
    } catch (err) {
      this.commandFailed(err);
      throw err;
    }
  }

  onRevoked(listener: (sid: string, exp: number) => void): void {
    this.listeners.push(listener);
  }

  status(): { provider: string; connected: boolean; errors: number } {
    return { provider: 'redis', connected: this.client.status === 'ready', errors: this.errors };
  }

  async close(): Promise<void> {
    this.client.disconnect();
    this.subscriber.disconnect();
  }
}
