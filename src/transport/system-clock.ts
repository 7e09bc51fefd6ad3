// The real clock and the real source of secrets, for the core's ports.

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Clock, SecretSource } from '../core/ports.js';

/** Monotonic time and Node timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const timer = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};

/** 128 random bits, base64url: 22 characters. */
export const randomSecret: SecretSource = () => randomBytes(16).toString('base64url');
