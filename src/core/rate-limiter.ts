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
 * Each message takes one token; with none left the message is refused.
 */
export class RateLimit {
  constructor(
    readonly perSecond: number,
    readonly burst: number,
  ) {}

  /** Takes a token from `bucket` if one is available at time `now` (ms). */
  take(bucket: Bucket, now: number): boolean {
    if (now > bucket.refilledAt) {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.refilledAt) * this.perSecond) / 1000);
      bucket.refilledAt = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
