// What happens when an envelope cannot reach its addressee: a room that ended
// in this process, or another process that a backplane could not reach. The
// one table of those answers, so that a session is told the same thing
// whichever way its request got lost (docs/PROTOCOL.md, "Several servers").

import type { DeliveryFailure, Envelope, PeerAddress, PeerEffect, RoomAddress, RoomCommand } from './ports.js';

/** Why an envelope reached nobody: its room or connection ended here, or a backplane's {@link DeliveryFailure}. */
export type Undelivered = 'ended' | DeliveryFailure;

/**
 * The envelope that answers an undelivered one, or null when nothing waits
 * for an answer (the message is lost, as a relay to a peer that just left).
 */
export function answerToUndelivered(envelope: Envelope, why: Undelivered): Envelope | null {
  switch (envelope.to) {
    case 'room':
      return toSender(envelope.command, why);
    case 'peer':
      return toRoom(envelope.peer, envelope.effect, why);
    case 'topic':
      // Publications are fire-and-forget, as with y-webrtc's own server.
      return null;
    case 'peer-id':
      // A PeerJS message to a process that is gone is lost, as one to a `peer` server that restarted.
      return null;
  }
}

/** A command that did not reach its room: its sender is refused if it waits for an answer. */
function toSender(command: RoomCommand, why: Undelivered): Envelope | null {
  switch (command.type) {
    case 'join':
      // A key whose room is gone is unknown, as on a single process. Only a
      // backplane that reaches nobody cannot say: try again later.
      return refusal(command.from, why === 'backplane-down' ? 'UNAVAILABLE' : 'KEY_UNKNOWN');
    case 'resume':
      // A room that ended here leaves its key free: KEY_UNKNOWN makes the
      // session register it afresh. A dead process holds its keys until its
      // liveness lapses, so registering now would be refused (KEY_TAKEN, a
      // final answer to a client): try again later.
      return refusal(command.from, why === 'ended' ? 'KEY_UNKNOWN' : 'UNAVAILABLE');
    case 'from-joiner':
      // A joiner's message that crossed its host's departure is refused as
      // one sent a moment later. When the host's process is gone, the joiner
      // hears it from processLost (leave, or the v0 close) instead.
      return why === 'ended' ? refusal(command.from, 'HOST_AWAY') : null;
    case 'from-host':
    case 'joiner-gone':
    case 'host-gone':
      return null;
  }
}

/** An effect that did not reach its peer: a room that attached the peer lets it go again. */
function toRoom(peer: PeerAddress, effect: PeerEffect, why: Undelivered): Envelope | null {
  switch (effect.type) {
    case 'joined':
      return roomCommand(effect.room, { type: 'joiner-gone', from: peer, id: effect.id });
    case 'hosting':
      // A host cut off with its process did not leave on purpose: it keeps
      // its resume grace. One that left here while being attached has none.
      return roomCommand(effect.room, { type: 'host-gone', from: peer, abrupt: why !== 'ended' });
    case 'send':
    case 'answer':
    case 'refuse':
    case 'released':
    case 'orphaned':
      return null;
  }
}

function refusal(peer: PeerAddress, code: 'KEY_UNKNOWN' | 'UNAVAILABLE' | 'HOST_AWAY'): Envelope {
  return { to: 'peer', peer, effect: { type: 'refuse', code } };
}

function roomCommand(room: RoomAddress, command: RoomCommand): Envelope {
  return { to: 'room', room, command };
}
