import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { describe, it } from 'node:test';
import { PeerLink, sdpHasCandidates } from '../../src/client/peer-link.js';
import type { IceCandidateInit, SessionDescriptionInit } from '../../src/client/rtc-like.js';
import { FakePeerConnection } from './fake-peer-connection.js';

function recordingLink(pc: FakePeerConnection, trickle: boolean) {
  const sent: unknown[] = [];
  const link = new PeerLink(pc, {
    trickle,
    sendDescription: async (description: SessionDescriptionInit) => {
      sent.push(description);
    },
    sendCandidate: async (candidate: IceCandidateInit | null) => {
      sent.push(candidate === null ? null : candidate.candidate);
    },
    onSendError: (error) => assert.fail(String(error)),
    gatherTimeoutMs: 1_000,
  });
  return { link, sent };
}

describe('PeerLink', () => {
  it('sends local candidates only after the description they belong to', async () => {
    const pc = new FakePeerConnection();
    pc.onSetLocal = () => pc.gather('candidate:early');
    const { link, sent } = recordingLink(pc, true);
    await link.offer();
    pc.gather('candidate:late');
    pc.gather(null);
    assert.deepEqual(sent, [
      { type: 'offer', sdp: pc.localDescription?.sdp },
      'candidate:early',
      'candidate:late',
      null,
    ]);
  });

  it('holds remote candidates that overtake the remote description', async () => {
    const pc = new FakePeerConnection();
    const { link } = recordingLink(pc, true);
    await link.offer();
    await link.addRemoteCandidate({ candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 });
    await link.addRemoteCandidate(null);
    assert.deepEqual(pc.added, []);
    await link.acceptAnswer({ type: 'answer', sdp: 'remote' });
    assert.deepEqual(pc.added, [{ candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 }, null]);
  });

  it('without trickle waits for gathering and sends one complete description', async () => {
    const pc = new FakePeerConnection();
    pc.onSetLocal = () => {
      pc.iceGatheringState = 'gathering';
      pc.gather('candidate:not-trickled');
      setImmediate(() => pc.completeGathering('a=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n'));
    };
    const { link, sent } = recordingLink(pc, false);
    await link.offer();
    assert.equal(sent.length, 1);
    assert.ok(sdpHasCandidates(sent[0]));
  });

  it('answers an offer and refuses payloads that are not descriptions', async () => {
    const pc = new FakePeerConnection();
    const { link, sent } = recordingLink(pc, true);
    await link.answerOffer({ type: 'offer', sdp: 'remote-offer' });
    assert.deepEqual(sent, [{ type: 'answer', sdp: 'answer-to-remote-offer' }]);
    for (const bad of [null, 'sdp', { type: 'answer', sdp: 'x' }, { type: 'offer' }]) {
      await assert.rejects(link.answerOffer(bad), { code: 'BAD_PAYLOAD' });
    }
    await assert.rejects(link.addRemoteCandidate({ sdpMid: '0' }), { code: 'BAD_PAYLOAD' });
  });

  it('renegotiates one offer at a time, each resolving once its answer is applied', async () => {
    const pc = new FakePeerConnection();
    const offers: SessionDescriptionInit[] = [];
    const sending = new EventEmitter();
    const link = new PeerLink(pc, {
      trickle: true,
      sendDescription: async (description) => {
        offers.push(description);
        sending.emit('offer');
      },
      sendCandidate: async () => {},
      onSendError: (error) => assert.fail(String(error)),
      gatherTimeoutMs: 1_000,
    });
    let settled = 0;
    let offered = once(sending, 'offer');
    const first = link.renegotiate().then(() => (settled += 1));
    const second = link.renegotiate().then(() => (settled += 1));
    await offered;
    assert.equal(offers.length, 1, 'the second offer waits for the first answer');
    offered = once(sending, 'offer');
    await link.acceptAnswer({ type: 'answer', sdp: 'answer-1' });
    await first;
    assert.equal(settled, 1);
    await offered;
    await link.acceptAnswer({ type: 'answer', sdp: 'answer-2' });
    await second;
    assert.equal(settled, 2);
  });

  it('rejects a renegotiation whose answer does not come in time', async () => {
    const pc = new FakePeerConnection();
    const { link } = recordingLink(pc, true);
    await assert.rejects(link.renegotiate({ timeoutMs: 20 }), { code: 'TIMEOUT' });
  });
});
