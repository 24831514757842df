/**
 * Where a day's read of one partition stops, decided message by message (pure: no client, no clock).
 *
 * Kafka's lookup by timestamp answers the first offset stamped at or after an instant, so one message
 * stamped ahead (a producer whose clock is ahead; brokers take up to log.message.timestamp.after.max.ms ahead)
 * makes it answer that message's offset for every instant up to its stamp: a day's read would end there
 * and miss the rest of the day, and every later day's range would be empty until retention removed it.
 * So the offset the lookup gives (the first stamped `outOfOrderMs` past the day's end) is only a
 * candidate: the read goes on over the `confirm` offsets after it, and a message among them stamped
 * before the day's end shows that the candidate does not end the day. The read then goes on to the next
 * message stamped `outOfOrderMs` past the day's end, and checks that one the same way. A message of an
 * earlier day counts as such a sign too: after a message stamped ahead, the next day's lookup lands on
 * it as well, and the records after it are the earlier day's before they are the day's own.
 *
 * What no read counts, a message of a day lying more than `confirm` offsets past the end its own day's
 * read confirmed, is noticed by a later read that reaches it when it is stamped before that read's day
 * and lies after `confirm` + 1 messages in a row all stamped `outOfOrderMs` past that day's start: those
 * confirmed a stop of every earlier day's read (each day ends at that start or earlier) before it. So
 * what is named is certainly missed; a message missed before any such run is not named.
 */

/** How many offsets after a stop must hold no message stamped before the day's end for the read to end there. */
export const KAFKA_STOP_CONFIRM_OFFSETS = 2000;

/** The stops of one partition's read that did not hold: the first, how many, and what lay past them. */
export interface BrokenStop {
  partition: number;
  /** The first candidate's offset, and its timestamp (null when that offset held no message: a gap or a control record). */
  offset: string;
  stampMs: number | null;
  /** How many candidates did not hold (a producer whose clock stays ahead breaks one with each message). */
  stops: number;
  /** Messages of the day found past them, counted. */
  counted: number;
}

/** Messages of earlier days that no read counts (see above): how many, and the first. */
export interface MissedMessages {
  partition: number;
  offset: string;
  stampMs: number;
  count: number;
}

export interface PartitionReadInit {
  partition: number;
  /** The first offset to read: the lookup of the day's start. */
  start: bigint;
  /** The lookup of the day's end plus the allowance: the first stop candidate (== high when there is none). */
  stop: bigint;
  /** The partition's high watermark when the offsets were looked up: the read never goes past it. */
  high: bigint;
}

export class PartitionRead {
  readonly partition: number;
  readonly start: bigint;
  private readonly high: bigint;
  /** The current stop candidate; null while the read looks for one. */
  private stop: bigint | null;
  private stopStamp: number | null = null;
  /** The read ends before this offset (exclusive): the candidate and its confirming offsets, or the high watermark. */
  private until: bigint;
  /** How many messages in a row, up to the last one read, are stamped outOfOrderMs past the day's start. */
  private run = 0;
  /**
   * Whether `confirm` + 1 such messages in a row were read: every earlier day's read then stopped before
   * the last of them (see above), so each message stamped before the day that lies after them is missed.
   */
  private pastEarlierDays = false;
  broken: BrokenStop | null = null;
  missed: MissedMessages | null = null;

  constructor(
    init: PartitionReadInit,
    private readonly day: { startMs: number; endMs: number; marginMs: number; confirm: number },
  ) {
    this.partition = init.partition;
    this.start = init.start;
    this.high = init.high;
    this.stop = init.stop < init.high ? init.stop : null;
    this.until = this.stop === null ? init.high : this.confirmEnd(this.stop);
  }

  /** The first offset not to read, as it stands now: it moves when a stop does not hold. */
  get end(): bigint {
    return this.until;
  }

  /** Whether the read has reached its end once `lastOffset` is consumed. */
  doneAt(lastOffset: bigint): boolean {
    return lastOffset >= this.until - 1n;
  }

  /**
   * One message, in offset order: whether it counts on the day. Offsets outside [start, end) are the
   * caller's to skip before asking.
   */
  counts(offset: bigint, stampMs: number): boolean {
    const { startMs, endMs, marginMs, confirm } = this.day;
    const inDay = stampMs >= startMs && stampMs < endMs;
    if (stampMs < startMs && this.pastEarlierDays) this.miss(offset, stampMs);
    this.run = stampMs >= startMs + marginMs ? this.run + 1 : 0;
    if (this.run > confirm) this.pastEarlierDays = true;
    if (this.stop !== null && offset === this.stop) this.stopStamp = stampMs;
    if (this.stop !== null && offset > this.stop && stampMs < endMs) {
      // Stamped before the day's end, yet past the stop: the stop does not end the day.
      if (this.broken) this.broken.stops++;
      else {
        const offset = this.stop.toString();
        this.broken = { partition: this.partition, offset, stampMs: this.stopStamp, stops: 1, counted: 0 };
      }
      this.stop = null;
      this.stopStamp = null;
      this.until = this.high;
    } else if (this.stop === null && stampMs >= endMs + marginMs) {
      // The next candidate (with no stop from the lookup, none lies below the high watermark).
      this.stop = offset;
      this.stopStamp = stampMs;
      this.until = this.confirmEnd(offset);
    }
    // Found only because a stop did not hold.
    if (inDay && this.broken && this.stop === null) this.broken.counted++;
    return inDay;
  }

  private miss(offset: bigint, stampMs: number): void {
    if (this.missed) this.missed.count++;
    else this.missed = { partition: this.partition, offset: offset.toString(), stampMs, count: 1 };
  }

  private confirmEnd(stop: bigint): bigint {
    const end = stop + 1n + BigInt(this.day.confirm);
    return end < this.high ? end : this.high;
  }
}
