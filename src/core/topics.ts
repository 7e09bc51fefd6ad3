// Topics: the room shape where every member's publication reaches every
// other member (y-webrtc's mesh rooms of N peers). Each process keeps the
// subscribers among its own connections; a publication reaches the
// subscribers of other processes through the backplane, as one message that
// each process fans out to its own subscribers. Pure logic: sockets and
// other processes are reached through ports.

import type { ErrorCode } from '../protocol/index.js';
import type { Backplane, SignalingObserver, TopicPublication } from './ports.js';
import type { Session } from './session.js';

/** The limits of topics. */
export interface TopicLimits {
  /** Topics one connection may subscribe to. */
  readonly maxTopics: number;
  /** Subscribers of one topic on this process. */
  readonly maxTopicMembers: number;
  /** Largest publish frame, UTF-8 bytes. */
  readonly maxPublishBytes: number;
}

/** The defaults of {@link TopicLimits} (docs/PROTOCOL.md, y-webrtc). */
export const DEFAULT_TOPIC_LIMITS: TopicLimits = Object.freeze({
  maxTopics: 64,
  maxTopicMembers: 256,
  maxPublishBytes: 32_768,
});

/** What the hub needs from the process that keeps it. */
export interface TopicContext {
  readonly limits: TopicLimits;
  readonly backplane: Backplane;
  readonly observer: SignalingObserver;
  /** The frame every subscriber gets for a publication; `clients` counts the topic's subscribers. */
  frame(topic: string, data: string | undefined, clients: number): string;
  /** A request of `session` was refused (y-webrtc: counted and logged, nothing is sent). */
  refused(session: Session, code: ErrorCode): void;
}

/** The topics of one process and their subscribers among its connections. */
export class TopicHub {
  /** Subscribers of each topic with at least one here, in subscription order. */
  private readonly members = new Map<string, Set<Session>>();
  /** The topics of each connection that subscribed to any. */
  private readonly subscriptions = new Map<Session, Set<string>>();

  constructor(private readonly ctx: TopicContext) {}

  /** Topics with a subscriber here. */
  get topicCount(): number {
    return this.members.size;
  }

  /** Subscriptions of this process's connections, all topics together. */
  get subscriptionCount(): number {
    let count = 0;
    for (const members of this.members.values()) count += members.size;
    return count;
  }

  /** The topics `session` subscribed to. */
  topicsOf(session: Session): readonly string[] {
    return [...(this.subscriptions.get(session) ?? [])];
  }

  /**
   * Subscribes `session` to each topic. The first refusal (a topic its
   * access token does not allow, too many topics, a full topic) ends the
   * request: one refusal per frame, whatever the frame lists.
   */
  subscribe(session: Session, topics: readonly string[]): void {
    const { maxTopics, maxTopicMembers } = this.ctx.limits;
    let mine = this.subscriptions.get(session);
    for (const topic of topics) {
      if (mine?.has(topic) === true) continue;
      const allowed = session.grant.allowedKey;
      if (allowed !== null && allowed !== topic) return this.ctx.refused(session, 'KEY_FORBIDDEN');
      if ((mine?.size ?? 0) >= maxTopics) return this.ctx.refused(session, 'TOO_MANY_TOPICS');
      let members = this.members.get(topic);
      if (members !== undefined && members.size >= maxTopicMembers) return this.ctx.refused(session, 'TOPIC_FULL');
      if (members === undefined) {
        members = new Set();
        this.members.set(topic, members);
        void this.ctx.backplane.joinTopic(topic);
      }
      members.add(session);
      if (mine === undefined) {
        mine = new Set();
        this.subscriptions.set(session, mine);
      }
      mine.add(topic);
    }
  }

  /** Unsubscribes `session` from each topic; topics it is not subscribed to are skipped. */
  unsubscribe(session: Session, topics: readonly string[]): void {
    const mine = this.subscriptions.get(session);
    if (mine === undefined) return;
    for (const topic of topics) {
      if (mine.delete(topic)) this.removeMember(topic, session);
    }
    if (mine.size === 0) this.subscriptions.delete(session);
  }

  /** The connection is gone: it leaves every topic. */
  leaveAll(session: Session): void {
    const mine = this.subscriptions.get(session);
    if (mine === undefined) return;
    this.subscriptions.delete(session);
    for (const topic of mine) this.removeMember(topic, session);
  }

  /**
   * A publication of `session` to `topic`, `bytes` long: every other
   * subscriber here gets it at once, and the other processes with
   * subscribers get it through the backplane. Only a subscriber may publish.
   */
  publish(session: Session, topic: string, data: string | undefined, bytes: number): void {
    if (bytes > this.ctx.limits.maxPublishBytes) return this.ctx.refused(session, 'PUBLICATION_TOO_BIG');
    const members = this.members.get(topic);
    if (members === undefined || !members.has(session)) return this.ctx.refused(session, 'NOT_SUBSCRIBED');
    this.fanOut(members, session, topic, data, members.size);
    const publication: TopicPublication =
      data === undefined
        ? { to: 'topic', topic, process: this.ctx.backplane.processId, members: members.size }
        : { to: 'topic', topic, process: this.ctx.backplane.processId, members: members.size, data };
    this.ctx.backplane.publish(publication);
  }

  /**
   * A publication from another process. `clients` is its subscribers there
   * plus those here: exact with two processes, a lower bound with more.
   */
  delivered(publication: TopicPublication): void {
    if (publication.process === this.ctx.backplane.processId) return;
    const members = this.members.get(publication.topic);
    if (members === undefined) return;
    const clients = publication.members + members.size;
    this.fanOut(members, null, publication.topic, publication.data, clients);
  }

  private fanOut(
    members: ReadonlySet<Session>,
    from: Session | null,
    topic: string,
    data: string | undefined,
    clients: number,
  ): void {
    if (members.size === (from === null ? 0 : 1)) return;
    // One frame for every recipient; each socket batches its own writes, and
    // a recipient that does not read is closed alone (slow consumer).
    const frame = this.ctx.frame(topic, data, clients);
    for (const member of members) {
      if (member !== from) member.socket.send(frame);
    }
    this.ctx.observer.published?.(from === null ? members.size : members.size - 1);
  }

  private removeMember(topic: string, session: Session): void {
    const members = this.members.get(topic);
    if (members === undefined || !members.delete(session)) return;
    if (members.size > 0) return;
    this.members.delete(topic);
    this.ctx.backplane.leaveTopic(topic);
  }
}
