// The cluster backplane over Redis: keys claimed atomically with an owner and
// a time-to-live, one pub/sub channel per process, and process liveness.
// The only module that imports the Redis client.

import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type {
  Backplane,
  BackplaneHandler,
  Clock,
  DeliveryFailure,
  Envelope,
  PeerIdAddress,
  RoomAddress,
  Timer,
  TopicPublication,
} from '../core/ports.js';
import { systemClock } from '../runtime/system-clock.js';
import { CLAIM, HEARTBEAT, KEEP, LOCATE, RELEASE } from './redis-scripts.js';

/** How often things happen, in milliseconds. The defaults bound failure detection well under 10 s. */
export interface RedisBackplaneTimings {
  /** How often this process renews its liveness key and checks the processes it deals with. Default 2 000 ms. */
  readonly livenessIntervalMs: number;
  /**
   * Lifetime of a liveness key. A process whose key lapsed is dead to the
   * others: they tell its peers' partners, and its keys may be claimed.
   * Default 5 000 ms; detection takes at most `processTtlMs + livenessIntervalMs`.
   */
  readonly processTtlMs: number;
  /** Lifetime of a claimed key unless its owner renews it. Default 10 000 ms. */
  readonly keyTtlMs: number;
  /** How often an owner renews its keys. Default 3 000 ms. */
  readonly keyRefreshMs: number;
  /** How long a Redis command may take before it fails. Default 2 000 ms. */
  readonly commandTimeoutMs: number;
}

/** The default timings. */
export const DEFAULT_REDIS_TIMINGS: RedisBackplaneTimings = Object.freeze({
  livenessIntervalMs: 2_000,
  processTtlMs: 5_000,
  keyTtlMs: 10_000,
  keyRefreshMs: 3_000,
  commandTimeoutMs: 2_000,
});

/** What the backplane reports, for logs. Every method is optional. */
export interface RedisBackplaneEvents {
  /** The connection to Redis dropped: new keys are refused until it is back. */
  disconnected?(reason: string): void;
  /** Connected again: the channel is subscribed and liveness and keys are renewed. */
  reconnected?(): void;
  /** Redis came back empty (restarted without persistence): this process claims its keys again. */
  restarted?(): void;
  /** Another process stopped answering: its peers' partners here were told. */
  processLost?(processId: string): void;
  /** Another process took a key this one held (its claim had lapsed): its room here ended. */
  keyLost?(key: string): void;
  /** A command failed while connected. */
  error?(error: Error): void;
}

/** Options of {@link RedisBackplane}. */
export interface RedisBackplaneOptions extends Partial<RedisBackplaneTimings> {
  /** `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS. Needed unless `createClient` is given. */
  readonly url?: string;
  /**
   * Makes one connection to Redis (it is called twice: commands, and the
   * subscription). It must pass `options` on to the client: they make
   * commands fail at once, instead of queueing, while Redis is unreachable.
   */
  readonly createClient?: (options: RedisOptions) => Redis;
  /** Prefix of every Redis key and channel, so that clusters can share a Redis. Default `sigver:`. */
  readonly keyPrefix?: string;
  /** This process's id, unique in the cluster. Default: 72 random bits. */
  readonly processId?: string;
  /** Hooks for logs. */
  readonly events?: RedisBackplaneEvents;
  /** Time for liveness and renewals (the core's port): tests pass a manual one. Default: the system clock. */
  readonly clock?: Clock;
}

/** A bad option, or Redis unreachable at start. */
export class RedisBackplaneError extends Error {
  constructor(
    readonly code: 'SIGVER_INVALID_REDIS_OPTION' | 'SIGVER_REDIS_UNAVAILABLE',
    message: string,
  ) {
    super(message);
    this.name = 'RedisBackplaneError';
  }
}

/** Keys renewed per script call. */
const REFRESH_BATCH = 256;

// The scripts (src/cluster/redis-scripts.ts) read a key's owner from its
// value, the JSON of its RoomAddress, set by the claim itself.

/** How long a dead process's tombstone stays, ms: it tells the process, should it come back, that it was declared dead. */
const TOMBSTONE_TTL_MS = 3_600_000;

/**
 * The backplane of a cluster of Sigver processes sharing one Redis.
 *
 * Each key is a Redis key claimed atomically by the process that registers
 * it, with a time-to-live that its owner renews while the room lives. Each
 * process listens on its own pub/sub channel, on a connection of its own.
 * Each process renews a liveness key; a process that stops doing so (killed,
 * cut off) is reported to the core with `processLost` by the processes that
 * deal with it, and its keys can be claimed again.
 *
 * @example
 * const backplane = await RedisBackplane.connect({ url: 'redis://127.0.0.1:6379' });
 * const server = createSigverServer({ backplane });
 * await server.listen();
 * // ...
 * await server.close();
 * await backplane.close();
 */
export class RedisBackplane implements Backplane {
  readonly processId: string;
  private readonly timings: RedisBackplaneTimings;
  private readonly prefix: string;
  private readonly where: string;
  private readonly events: RedisBackplaneEvents;
  private readonly clock: Clock;
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private handler: BackplaneHandler | undefined;
  /** Keys this process holds, with the value it last wrote. */
  private readonly owned = new Map<string, string>();
  /** Keys whose claim is on its way. */
  private readonly claiming = new Set<string>();
  /** PeerJS ids this process holds (by name), with the value it last wrote; and those being claimed. */
  private readonly ownedPeerIds = new Map<string, string>();
  private readonly claimingPeerIds = new Set<string>();
  /** Topics with a subscriber in this process: their channels are subscribed. */
  private readonly topics = new Set<string>();
  /** Processes this process has sent to: the ones whose death concerns it. */
  private readonly watched = new Set<string>();
  /** Envelopes posted by the current callback, by addressed process, until {@link flush}. */
  private readonly outbox = new Map<string, Envelope[]>();
  private flushing = false;
  private epoch: string | undefined;
  /** When this process may judge others again (clock time). */
  private judgeFrom = 0;
  /** When the last heartbeat was answered (clock time). */
  private lastBeat = 0;
  private lastError: Error | undefined;
  private readonly timers = new Set<Timer>();
  private state: 'new' | 'started' | 'closed' = 'new';
  private down = false;
  private beating = false;
  private recovering = false;

  constructor(options: RedisBackplaneOptions) {
    this.timings = checkTimings({ ...DEFAULT_REDIS_TIMINGS, ...definedOnly(options) });
    this.prefix = options.keyPrefix ?? 'sigver:';
    this.processId = options.processId ?? randomBytes(9).toString('base64url');
    this.events = options.events ?? {};
    this.clock = options.clock ?? systemClock;
    const { url, createClient } = options;
    this.where = url === undefined ? 'Redis' : redactUrl(url);
    let create: (options: RedisOptions) => Redis;
    if (createClient !== undefined) create = createClient;
    else if (url !== undefined)
      create = (clientOptions) => new Redis(url, { ...clientOptions, replyMapping: 'legacy' });
    else throw new RedisBackplaneError('SIGVER_INVALID_REDIS_OPTION', 'a Redis URL (or a client factory) is needed');
    const clientOptions: RedisOptions = {
      lazyConnect: true,
      // Fail at once while Redis is unreachable: a registration is refused
      // rather than left waiting, and nothing piles up.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: this.timings.commandTimeoutMs,
      // A command with no reply for this long means a dead socket: reconnect.
      socketTimeout: this.timings.commandTimeoutMs,
      connectTimeout: 5_000,
      // How long a closing socket may linger before it is destroyed.
      disconnectTimeout: 500,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
      connectionName: `sigver:${this.processId}`,
    };
    // Commands of one event-loop turn (the publishes of a burst of relayed
    // frames, say) leave in one write and their replies come in one read.
    this.commands = create({ ...clientOptions, enableAutoPipelining: true });
    this.subscriber = create(clientOptions);
    for (const client of [this.commands, this.subscriber]) {
      client.on('error', (error: Error) => {
        this.lastError = error;
      });
      client.on('close', () => this.connectionClosed());
      client.on('ready', () => void this.recover());
    }
    this.subscriber.on('message', (_channel: string, text: string) => this.received(text));
  }

  /** Builds a backplane and starts it; rejects with one readable line when Redis cannot be reached. */
  static async connect(options: RedisBackplaneOptions): Promise<RedisBackplane> {
    const backplane = new RedisBackplane(options);
    await backplane.start();
    return backplane;
  }

  /**
   * Connects to Redis, subscribes to this process's channel and announces
   * this process. Rejects with a {@link RedisBackplaneError} when Redis cannot be reached.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('RedisBackplane.start() may be called once');
    try {
      await Promise.all([this.commands.connect(), this.subscriber.connect()]);
      await this.subscriber.subscribe(this.channelOf(this.processId));
      await this.beat();
    } catch (error) {
      this.state = 'closed';
      this.disconnect();
      const cause = this.lastError ?? (error as Error);
      throw new RedisBackplaneError(
        'SIGVER_REDIS_UNAVAILABLE',
        `cannot reach Redis at ${this.where}: ${cause.message}`,
      );
    }
    this.state = 'started';
    this.every(this.timings.livenessIntervalMs, () => (this.down ? this.recover() : this.beat()));
    this.every(this.timings.keyRefreshMs, () => this.refreshKeys());
  }

  /**
   * Runs `task` every `ms`, counted from the start of each run, never two
   * runs at once: the next timer is set when a run is over (at once if it
   * took longer than `ms`). A test on a manual clock sees the timer set
   * again once the run's Redis round trips are over.
   */
  private every(ms: number, task: () => Promise<void>): void {
    const arm = (delay: number): void => {
      if (this.state !== 'started') return;
      const timer = this.clock.setTimer(delay, () => {
        this.timers.delete(timer);
        const started = this.clock.now();
        void task()
          .catch((error: unknown) => this.failed(error))
          .finally(() => arm(Math.max(0, started + ms - this.clock.now())));
      });
      this.timers.add(timer);
    };
    arm(ms);
  }

  /**
   * Stops: frees the keys this process still holds and its liveness key, so
   * that the others need not wait for them to lapse, then disconnects. Close
   * the server first, so that its peers' partners are told.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasStarted = this.state === 'started';
    this.flush();
    this.state = 'closed';
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
    if (wasStarted && this.commands.status === 'ready') {
      const keys = [...this.owned.keys()].map((key) => this.keyOf(key));
      keys.push(...[...this.ownedPeerIds.keys()].map((name) => this.peerIdKeyOf(name)));
      this.owned.clear();
      this.ownedPeerIds.clear();
      await Promise.all([
        ...keys.map((key) => RELEASE.run(this.flushed(), [key], [this.processId])),
        this.flushed().del(this.processKeyOf(this.processId)),
      ]).catch(() => {});
      await this.commands.quit().catch(() => {});
    }
    this.disconnect();
  }

  private disconnect(): void {
    for (const client of [this.commands, this.subscriber]) {
      if (client.status !== 'end') client.disconnect();
    }
  }

  attach(handler: BackplaneHandler): void {
    this.handler = handler;
  }

  async claim(room: RoomAddress): Promise<boolean> {
    const { key } = room;
    // A key this process holds, or is claiming, is taken: Redis cannot tell
    // this process's live room from a leftover of it.
    if (this.owned.has(key) || this.claiming.has(key)) return false;
    this.claiming.add(key);
    try {
      const value = JSON.stringify({ key, process: this.processId, room: room.room });
      const claimed = await this.runClaim(this.keyOf(key), value);
      if (!claimed) return false;
      this.owned.set(key, value);
      return true;
    } finally {
      this.claiming.delete(key);
    }
  }

  /** Runs the claim script for one Redis key (a room's key, or a PeerJS id's). */
  private async runClaim(redisKey: string, value: string): Promise<boolean> {
    const claimed = await CLAIM.run(
      this.flushed(),
      [redisKey, ...this.epochKeys()],
      [
        value,
        this.timings.keyTtlMs,
        this.processKeyOf(''),
        this.processId,
        this.epoch ?? '',
        newEpoch(),
        this.timings.processTtlMs,
      ],
    );
    if (claimed === -1) {
      // Redis restarted: learn its new epoch (and claim this process's keys again) at once.
      void this.beat().catch((error: unknown) => this.failed(error));
      throw new Error('Redis is settling after a restart');
    }
    return claimed === 1;
  }

  release(key: string): void {
    if (!this.owned.delete(key)) return;
    RELEASE.run(this.flushed(), [this.keyOf(key)], [this.processId]).catch((error: unknown) => this.failed(error));
  }

  async locate(key: string): Promise<RoomAddress | undefined> {
    const value = await LOCATE.run(this.flushed(), [this.keyOf(key), this.settlingKey()], [this.processKeyOf('')]);
    if (value === -1) throw new Error('Redis is settling after a restart');
    return typeof value === 'string' ? parseRoom(value) : undefined;
  }

  // A PeerJS id is claimed like a key, under a key name of its own: the
  // same scripts, owner checks, renewals and liveness rules.
  async claimPeerId(peer: PeerIdAddress): Promise<boolean> {
    const { name } = peer;
    if (this.ownedPeerIds.has(name) || this.claimingPeerIds.has(name)) return false;
    this.claimingPeerIds.add(name);
    try {
      const value = JSON.stringify({ name, process: this.processId, conn: peer.conn });
      if (!(await this.runClaim(this.peerIdKeyOf(name), value))) return false;
      this.ownedPeerIds.set(name, value);
      return true;
    } finally {
      this.claimingPeerIds.delete(name);
    }
  }

  releasePeerId(name: string): void {
    if (!this.ownedPeerIds.delete(name)) return;
    RELEASE.run(this.flushed(), [this.peerIdKeyOf(name)], [this.processId]).catch((error: unknown) =>
      this.failed(error),
    );
  }

  async locatePeerId(name: string): Promise<PeerIdAddress | undefined> {
    const value = await LOCATE.run(
      this.flushed(),
      [this.peerIdKeyOf(name), this.settlingKey()],
      [this.processKeyOf('')],
    );
    if (value === -1) throw new Error('Redis is settling after a restart');
    return typeof value === 'string' ? parsePeerId(value) : undefined;
  }

  /** SCANs the ids of `realm` (at most 100 rounds): discovery is off by default, and costly on a large Redis. */
  async peerIds(realm: string, limit: number): Promise<string[]> {
    const prefix = this.peerIdKeyOf(`${realm}/`);
    const match = `${globEscape(prefix)}*`;
    const ids: string[] = [];
    let cursor = '0';
    for (let round = 0; round < 100 && ids.length < limit; round += 1) {
      const [next, keys] = await this.flushed().scan(cursor, 'MATCH', match, 'COUNT', 1_000);
      for (const key of keys) {
        const id = key.slice(prefix.length);
        if (!id.includes('/') && ids.length < limit) ids.push(id);
      }
      cursor = next;
      if (cursor === '0') break;
    }
    return ids;
  }

  post(processId: string, envelope: Envelope): void {
    if (processId !== this.processId) this.watched.add(processId);
    if (this.commands.status !== 'ready') {
      queueMicrotask(() => this.undelivered(envelope, 'backplane-down'));
      return;
    }
    let batch = this.outbox.get(processId);
    if (batch === undefined) {
      batch = [];
      this.outbox.set(processId, batch);
    }
    batch.push(envelope);
    if (batch.length >= MAX_BATCH) this.send(processId);
    else if (!this.flushing) {
      // At the end of the current callback (a socket read, say, whose frames
      // all post here), not of the whole loop turn: ioredis already holds the
      // publish until the turn's end to write it with the turn's other
      // commands, and waiting twice cost latency.
      this.flushing = true;
      queueMicrotask(() => this.flush());
    }
  }

  /**
   * The commands connection, once the envelopes posted so far are published:
   * every other command goes through it, so that Redis sees a publish and a
   * later claim, lookup or release in the order they were made.
   */
  private flushed(): Redis {
    this.flush();
    return this.commands;
  }

  /** Publishes what was posted: one `PUBLISH` per addressed process. */
  private flush(): void {
    this.flushing = false;
    if (this.outbox.size === 0) return;
    for (const processId of [...this.outbox.keys()]) this.send(processId);
  }

  /**
   * One message carries the envelopes posted to one process by one callback, in
   * the order posted: a lone envelope as its JSON, several as a JSON array.
   */
  private send(processId: string): void {
    const batch = this.outbox.get(processId);
    if (batch === undefined) return;
    this.outbox.delete(processId);
    if (this.commands.status !== 'ready') {
      for (const envelope of batch) this.undelivered(envelope, 'backplane-down');
      return;
    }
    const text = JSON.stringify(batch.length === 1 ? batch[0] : batch);
    this.commands.publish(this.channelOf(processId), text).then(
      (receivers) => {
        if (receivers === 0) for (const envelope of batch) this.undelivered(envelope, 'process-gone');
      },
      (error: unknown) => this.failed(error),
    );
  }

  // A topic is a channel: a publication is one PUBLISH, and Redis hands it to
  // each process that subscribed, whatever the number of subscribers there.
  async joinTopic(topic: string): Promise<void> {
    this.topics.add(topic);
    if (this.subscriber.status !== 'ready') return;
    // While Redis is unreachable this fails; recover() subscribes every topic again.
    await this.subscriber.subscribe(this.topicChannelOf(topic)).catch(() => {});
  }

  leaveTopic(topic: string): void {
    if (!this.topics.delete(topic)) return;
    if (this.subscriber.status === 'ready') this.subscriber.unsubscribe(this.topicChannelOf(topic)).catch(() => {});
  }

  publish(publication: TopicPublication): void {
    // Publications sent while Redis is unreachable are lost, as y-webrtc's
    // messages are when its server restarts: its clients announce themselves again.
    if (this.commands.status !== 'ready') return;
    this.flushed()
      .publish(this.topicChannelOf(publication.topic), JSON.stringify(publication))
      .catch((error: unknown) => this.failed(error));
  }

  /**
   * Renews this process's liveness and checks the processes it deals with.
   * Nobody is judged while Redis is unreachable, nor for one liveness
   * period after this process reconnected, after Redis lost its data or
   * after a stall: the others need time to announce themselves again.
   */
  private async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      const watched = [...this.watched];
      // Also ping the subscription, so that a dead socket there is noticed (socketTimeout).
      this.subscriber.ping().catch(() => {});
      const judge = this.epoch !== undefined && this.clock.now() >= this.judgeFrom;
      const reply = await HEARTBEAT.run(
        this.flushed(),
        [
          this.epochKey(),
          this.processKeyOf(this.processId),
          this.tombstoneKeyOf(this.processId),
          this.settlingKey(),
          this.noticedKey(),
          ...watched.map((p) => this.processKeyOf(p)),
        ],
        [
          newEpoch(),
          this.timings.processTtlMs,
          this.epoch ?? '',
          judge ? '1' : '0',
          2 * this.timings.livenessIntervalMs,
          TOMBSTONE_TTL_MS,
          ...watched.map((p) => this.tombstoneKeyOf(p)),
        ],
      );
      if (!Array.isArray(reply)) throw new Error(`unexpected heartbeat reply ${JSON.stringify(reply)}`);
      const [epoch, existed, declared, judged, ...alive] = reply as unknown[];
      const now = this.clock.now();
      const lastBeat = this.lastBeat;
      this.lastBeat = now;
      if (epoch !== this.epoch) {
        const restarted = this.epoch !== undefined;
        this.epoch = String(epoch);
        this.judgeFrom = now + this.timings.processTtlMs;
        if (restarted) {
          this.events.restarted?.();
          await this.refreshKeys();
        }
        return;
      }
      if (declared === 1 || (existed === 0 && now - lastBeat > TOMBSTONE_TTL_MS)) {
        // Other processes declared this one dead (it was cut off, or stalled,
        // for longer than processTtlMs) and dropped their side of every pair
        // with it: drop this side too, then claim the keys again (those
        // taken meanwhile end their rooms).
        for (const peer of watched) this.lose(peer);
        await this.refreshKeys();
        return;
      }
      if (judged !== 1) {
        // Not judged although allowed: this process's own beat was stale. Wait one liveness period.
        if (judge) this.judgeFrom = now + this.timings.processTtlMs;
        return;
      }
      watched.forEach((peer, i) => {
        if (alive[i] === 0) this.lose(peer);
      });
    } finally {
      this.beating = false;
    }
  }

  private lose(processId: string): void {
    if (!this.watched.delete(processId)) return;
    this.events.processLost?.(processId);
    this.handler?.processLost(processId);
  }

  /** Renews every key this process holds, in batches. */
  private async refreshKeys(): Promise<void> {
    const keys = [...this.owned.keys()];
    for (let i = 0; i < keys.length; i += REFRESH_BATCH) {
      // Read values now, not earlier: a key released meanwhile must not be written back.
      const batch: Array<[string, string]> = [];
      for (const key of keys.slice(i, i + REFRESH_BATCH)) {
        const value = this.owned.get(key);
        if (value !== undefined) batch.push([key, value]);
      }
      if (batch.length > 0) await this.keep(batch);
    }
    await this.refreshPeerIds();
  }

  /** Renews every PeerJS id this process holds, as {@link refreshKeys} does keys. */
  private async refreshPeerIds(): Promise<void> {
    const names = [...this.ownedPeerIds.keys()];
    for (let i = 0; i < names.length; i += REFRESH_BATCH) {
      const batch: Array<[string, string]> = [];
      for (const name of names.slice(i, i + REFRESH_BATCH)) {
        const value = this.ownedPeerIds.get(name);
        if (value !== undefined) batch.push([name, value]);
      }
      if (batch.length === 0) continue;
      const reply = await KEEP.run(
        this.flushed(),
        batch.map(([name]) => this.peerIdKeyOf(name)),
        [this.processId, this.timings.keyTtlMs, ...batch.map(([, value]) => value)],
      );
      if (!Array.isArray(reply)) throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
      batch.forEach(([name, value], j) => {
        if (reply[j] !== 0 || this.ownedPeerIds.get(name) !== value) return;
        this.ownedPeerIds.delete(name);
        this.handler?.peerIdLost(name);
      });
    }
  }

  private async keep(entries: ReadonlyArray<readonly [string, string]>): Promise<void> {
    const reply = await KEEP.run(
      this.flushed(),
      entries.map(([key]) => this.keyOf(key)),
      [this.processId, this.timings.keyTtlMs, ...entries.map(([, value]) => value)],
    );
    if (!Array.isArray(reply)) throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
    entries.forEach(([key, value], i) => {
      if (reply[i] !== 0 || this.owned.get(key) !== value) return;
      this.owned.delete(key);
      this.events.keyLost?.(key);
      this.handler?.keyLost(key);
    });
  }

  private received(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return this.failed(new Error('dropped a message that is not JSON'));
    }
    if (!Array.isArray(value)) return this.deliver(value);
    for (const envelope of value.slice(0, MAX_BATCH)) this.deliver(envelope);
  }

  private deliver(envelope: unknown): void {
    if (!isEnvelope(envelope)) return this.failed(new Error('dropped a message that is not an envelope'));
    this.handler?.deliver(envelope);
  }

  /** An envelope reached nobody: the core answers what waits for an answer. */
  private undelivered(envelope: Envelope, why: DeliveryFailure): void {
    if (this.state === 'started') this.handler?.undelivered(envelope, why);
  }

  private connectionClosed(): void {
    if (this.state !== 'started' || this.down) return;
    this.down = true;
    this.events.disconnected?.(this.lastError?.message ?? 'connection closed');
  }

  /** Once both connections are back: renew liveness and keys, then report. */
  private async recover(): Promise<void> {
    if (this.recovering) return;
    this.recovering = true;
    try {
      while (
        this.state === 'started' &&
        this.down &&
        this.commands.status === 'ready' &&
        this.subscriber.status === 'ready'
      ) {
        // Others may have been cut off too: give them one liveness period to announce themselves again.
        this.judgeFrom = this.clock.now() + this.timings.processTtlMs;
        // Answered after the resubscription that the client sends on reconnect.
        await this.subscriber.ping();
        await this.subscribeTopics();
        await this.beat();
        await this.refreshKeys();
        this.down = false;
        this.events.reconnected?.();
      }
    } catch (error) {
      this.failed(error);
    } finally {
      this.recovering = false;
    }
  }

  /** Subscribes the channel of every topic with a subscriber here (again), in batches. */
  private async subscribeTopics(): Promise<void> {
    const channels = [...this.topics].map((topic) => this.topicChannelOf(topic));
    for (let i = 0; i < channels.length; i += REFRESH_BATCH) {
      await this.subscriber.subscribe(...channels.slice(i, i + REFRESH_BATCH));
    }
  }

  private failed(error: unknown): void {
    if (this.state !== 'started' || this.down) return;
    this.events.error?.(error instanceof Error ? error : new Error(String(error)));
  }

  private keyOf(key: string): string {
    return `${this.prefix}key:${key}`;
  }

  private peerIdKeyOf(name: string): string {
    return `${this.prefix}peer-id:${name}`;
  }

  private processKeyOf(processId: string): string {
    return `${this.prefix}process:${processId}`;
  }

  private tombstoneKeyOf(processId: string): string {
    return `${this.prefix}dead:${processId}`;
  }

  private channelOf(processId: string): string {
    return `${this.prefix}process:${processId}`;
  }

  private topicChannelOf(topic: string): string {
    return `${this.prefix}topic:${topic}`;
  }

  private epochKey(): string {
    return `${this.prefix}epoch`;
  }

  /** Exists while Redis settles after a restart: free keys may not be claimed. */
  private settlingKey(): string {
    return `${this.prefix}settling`;
  }

  /** The epoch whose settling period was started: it starts once per epoch. */
  private noticedKey(): string {
    return `${this.prefix}noticed`;
  }

  /** The keys that CURRENT_EPOCH reads, in its order. */
  private epochKeys(): string[] {
    return [this.epochKey(), this.settlingKey(), this.noticedKey()];
  }
}

function newEpoch(): string {
  return randomBytes(9).toString('base64url');
}

function definedOnly(options: RedisBackplaneOptions): Partial<RedisBackplaneTimings> {
  const out: Partial<Record<keyof RedisBackplaneTimings, number>> = {};
  for (const name of Object.keys(DEFAULT_REDIS_TIMINGS) as Array<keyof RedisBackplaneTimings>) {
    const value = options[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function checkTimings(timings: RedisBackplaneTimings): RedisBackplaneTimings {
  for (const [name, value] of Object.entries(timings)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RedisBackplaneError('SIGVER_INVALID_REDIS_OPTION', `${name} must be a positive integer, got ${value}`);
    }
  }
  if (timings.livenessIntervalMs >= timings.processTtlMs) {
    throw new RedisBackplaneError(
      'SIGVER_INVALID_REDIS_OPTION',
      'livenessIntervalMs must be shorter than processTtlMs',
    );
  }
  if (timings.keyRefreshMs >= timings.keyTtlMs) {
    throw new RedisBackplaneError('SIGVER_INVALID_REDIS_OPTION', 'keyRefreshMs must be shorter than keyTtlMs');
  }
  return Object.freeze(timings);
}

/** The URL without its password, for messages. */
function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RedisBackplaneError(
      'SIGVER_INVALID_REDIS_OPTION',
      `not a Redis URL: "${url}" (expected redis://HOST:PORT)`,
    );
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new RedisBackplaneError(
      'SIGVER_INVALID_REDIS_OPTION',
      `not a Redis URL: "${url}" (expected redis://HOST:PORT)`,
    );
  }
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}

function parseRoom(value: string): RoomAddress | undefined {
  const parsed = JSON.parse(value) as { key?: unknown; process?: unknown; room?: unknown };
  const { key, process: processId, room } = parsed;
  if (typeof key !== 'string' || typeof processId !== 'string' || typeof room !== 'number' || room < 1)
    return undefined;
  return { key, process: processId, room };
}

function parsePeerId(value: string): PeerIdAddress | undefined {
  const parsed = JSON.parse(value) as { name?: unknown; process?: unknown; conn?: unknown };
  const { name, process: processId, conn } = parsed;
  if (typeof name !== 'string' || typeof processId !== 'string' || typeof conn !== 'number') return undefined;
  return { name, process: processId, conn };
}

/** `text` matched literally by a Redis glob pattern. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** Envelopes at most in one message between processes (a turn that posts more sends more messages). */
const MAX_BATCH = 64;

const PEER_ID_KINDS: ReadonlySet<unknown> = new Set(['OFFER', 'ANSWER', 'CANDIDATE', 'LEAVE', 'EXPIRE']);

function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null) return false;
  const { to } = value as { to?: unknown };
  if (to === 'peer-id') {
    // Its text goes to a socket as it is: check every field.
    const { realm, src, dst, kind, text, hops } = value as Record<string, unknown>;
    return (
      typeof realm === 'string' &&
      typeof src === 'string' &&
      typeof dst === 'string' &&
      PEER_ID_KINDS.has(kind) &&
      typeof text === 'string' &&
      Number.isSafeInteger(hops)
    );
  }
  if (to === 'topic') {
    // Its fields go into frames as they are: check them.
    const { topic, process: processId, members, data } = value as Record<string, unknown>;
    return (
      typeof topic === 'string' &&
      typeof processId === 'string' &&
      Number.isSafeInteger(members) &&
      (data === undefined || typeof data === 'string')
    );
  }
  return to === 'room' || to === 'peer';
}
