// Joins several observers into one, so the core calls a single hook per event.

import type { SignalingObserver } from '../core/ports.js';

type Hook = keyof SignalingObserver;

// An object rather than an array so the compiler notices a hook added to SignalingObserver and missing here.
const HOOK_SET = {
  opened: true,
  recognised: true,
  ended: true,
  refused: true,
  relayed: true,
  published: true,
  keyRegistered: true,
  keyReleased: true,
  handshake: true,
  rateLimited: true,
  slowConsumer: true,
  mailboxFull: true,
} as const satisfies Record<Hook, true>;
const HOOKS = Object.keys(HOOK_SET) as Hook[];

/**
 * One observer that calls every given observer's hooks, in order. A hook no
 * observer has stays absent, so the core skips it at no cost.
 */
export function combineObservers(observers: readonly (SignalingObserver | undefined)[]): SignalingObserver {
  const present = observers.filter((o): o is SignalingObserver => o !== undefined);
  if (present.length === 1) return present[0]!;
  const combined: Record<string, (...args: never[]) => void> = {};
  for (const hook of HOOKS) {
    const fns = present.map((o) => o[hook]?.bind(o)).filter((fn) => fn !== undefined) as ((...args: never[]) => void)[];
    if (fns.length === 1) combined[hook] = fns[0]!;
    else if (fns.length > 1) {
      combined[hook] = (...args: never[]) => {
        for (const fn of fns) fn(...args);
      };
    }
  }
  return combined as SignalingObserver;
}
