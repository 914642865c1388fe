/** A per-backend circuit breaker: closed → open after N infrastructure failures → half-open trial. */

/** Circuit states, as reported in /status. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Circuit breaker settings from `operational.circuitBreaker`. */
export interface CircuitConfig {
  enabled: boolean;
  failureThreshold: number;
  timeoutMs: number;
}

/** Counts consecutive infrastructure failures (timeouts, lost connections), not backend tool errors. */
export class Circuit {
  state: CircuitState = 'closed';
  failures = 0;
  private openedAt = 0;
  private trialInFlight = false;

  constructor(
    private readonly cfg: CircuitConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when a call may go out; in half-open state exactly one trial call is let through. */
  allow(): boolean {
    if (!this.cfg.enabled || this.state === 'closed') return true;
    if (this.state === 'open') {
      if (this.now() - this.openedAt < this.cfg.timeoutMs) return false;
      this.state = 'half-open';
      this.trialInFlight = false;
    }
    if (this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  /** Milliseconds until an open circuit lets a trial through. */
  retryInMs(): number {
    return Math.max(0, this.cfg.timeoutMs - (this.now() - this.openedAt));
  }

  /** Records a successful call: the circuit closes. */
  success(): void {
    this.failures = 0;
    this.state = 'closed';
    this.trialInFlight = false;
  }

  /** Records an infrastructure failure; opens the circuit at the threshold or after a failed trial. */
  failure(): void {
    this.failures++;
    this.trialInFlight = false;
    if (!this.cfg.enabled) return;
    if (this.state === 'half-open' || this.failures >= this.cfg.failureThreshold) {
      this.state = 'open';
      this.openedAt = this.now();
    }
  }
}
