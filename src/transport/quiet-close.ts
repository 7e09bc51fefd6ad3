// A normal WebSocket close without throwaway error objects.
//
// On a normal close `ws` ends streams that are already finished: the close
// frame ends a connection's Receiver (a Writable), then the socket's 'end'
// listener ends that Receiver again and ends the socket's writable side,
// which `ws` ended after its own close frame, and the socket's 'close'
// listener ends the Receiver a third time. `Writable#end` on a finished
// stream builds an ERR_STREAM_ALREADY_FINISHED error, stack trace included,
// and drops it when no callback was given: three error objects per
// connection, six per handshake, a few percent of the server's CPU in
// profiles. What follows does what `ws` does there, minus the ends that have
// nothing left to end; behaviour is otherwise unchanged.

import type { Duplex } from 'node:stream';
import * as wsModule from 'ws';
import type { WebSocket } from 'ws';

/** The parts of a stream that ending touches. */
interface Ending {
  end(...args: unknown[]): unknown;
  readonly writableFinished: boolean;
}

/** What `ws` keeps on a WebSocket that its 'end' listener uses. */
interface WsInternals {
  _readyState: number;
  readonly _receiver: Ending;
}

const QUIET = Symbol('sigver.quietEnds');

/**
 * Once per process: an argument-less `end()` of a finished `ws` Receiver
 * returns at once (it builds an error and drops it otherwise). Every other
 * call is `ws`'s own, so other users of `ws` in the process see no change.
 */
export function quietReceiverEnds(): void {
  const Receiver = (wsModule as unknown as { Receiver?: { prototype: Ending & { [QUIET]?: true } } }).Receiver;
  const prototype = Receiver?.prototype;
  if (prototype === undefined || prototype[QUIET] === true) return;
  const end = prototype.end;
  prototype.end = function (this: Ending, ...args: unknown[]) {
    if (args.length === 0 && this.writableFinished) return this;
    return end.apply(this, args);
  };
  prototype[QUIET] = true;
}

/**
 * Removes `ws`'s 'end' listener from `tcp`, the socket under a `ws`
 * WebSocket, and returns true; the caller then calls {@link socketEnded}
 * from a listener of its own. False, and `ws`'s listener kept, if it is not
 * found (another `ws` version): only the saving is lost.
 */
export function takeOverSocketEnd(tcp: Duplex): boolean {
  const wsOnEnd = tcp.listeners('end').find((listener) => listener.name === 'socketOnEnd');
  if (wsOnEnd === undefined) return false;
  tcp.removeListener('end', wsOnEnd as (...args: unknown[]) => void);
  return true;
}

/** The peer's FIN arrived on `tcp`: what `ws`'s own listener does, without ending what is finished. */
export function socketEnded(tcp: Duplex, ws: WebSocket): void {
  const internals = ws as unknown as WsInternals;
  internals._readyState = ws.CLOSING;
  internals._receiver.end();
  if (!tcp.writableFinished && !tcp.destroyed) tcp.end();
}
