// Per-connection rate limit: a token bucket, decided on plain numbers that
// each session carries inline (no object per connection).

/** The state of one token bucket. */
export interface Bucket {
  tokens: number;
  /** When the bucket was last refilled, ms. */
  refilledAt: number;
}

/**
 * A token-bucket rule: at most `burst` tokens, refilled at `perSecond`.
 * Each message takes one token (each byte, for a byte budget); with too few
 * left it is refused.
 */
export class RateLimit {
  constructor(
    readonly perSecond: number,
    readonly burst: number,
  ) {}

  /**
   * Takes `cost` tokens from `bucket` if they are available at time `now`
   * (ms). A cost over the burst is allowed from a full bucket, which it
   * leaves in debt.
   */
  take(bucket: Bucket, now: number, cost = 1): boolean {
    if (now > bucket.refilledAt) {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.refilledAt) * this.perSecond) / 1000);
      bucket.refilledAt = now;
    }
    if (bucket.tokens < Math.min(cost, this.burst)) return false;
    bucket.tokens -= cost;
    return true;
  }
}
