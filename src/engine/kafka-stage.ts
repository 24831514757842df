import type { TimedStreamedRow } from '../domain.js';
import { loadQuery } from '../queries.js';

/** Where Kafka's messages wait, with `compare`, before their tags are taken (kafka-tags.sql). */
const STAGE = 'stage_kafka';
/**
 * Kafka's values staged before their tags are taken: past this, the staged messages go on to raw_kafka with their
 * tags and without their values, so that a day's values are never held whole (60 messages of 2 MB ran the engine
 * out of its 512MiB). Taking tags parses a vector of values at once, about ten times their size: at 32M characters
 * 16 such messages ran 256MiB out, at 8M they pass. A day whose values stay below it is aggregated from the stage
 * as before, values and all; 500,000 messages of 230 bytes take 14 passes, the engine's part 1.9 s -> 2.4 s.
 */
const STAGE_TAKE_CHARS = 8 * 1024 * 1024;

/** With `compare`, Kafka's rows on their way to the engine's aggregation (src/engine/duckdb-engine.ts). */
export class KafkaTagStage {
  private chars = 0;
  private taken = false;

  constructor(
    private readonly run: (sql: string) => Promise<void>,
    private readonly append: (table: string, rows: readonly TimedStreamedRow[]) => Promise<void>,
    /** The payload's tags as a SQL expression (compare-sql.ts duckdbPayloadTags). */
    private readonly tags: string,
    /** raw_kafka, made by streamed-raw.sql with its tags column. */
    private readonly raw: string,
  ) {}

  async begin(): Promise<void> {
    await this.run(loadQuery('duckdb', 'streamed-raw', { raw_table: STAGE }));
    [this.chars, this.taken] = [0, false];
  }

  async add(rows: readonly TimedStreamedRow[]): Promise<void> {
    await this.append(STAGE, rows);
    for (const r of rows) this.chars += r.payload?.length ?? 0;
    if (this.chars >= STAGE_TAKE_CHARS) await this.take();
  }

  /** The table the aggregation reads and its tags: the stage itself when nothing was taken, else raw_kafka. */
  async finish(): Promise<{ table: string; tags: string }> {
    if (!this.taken) return { table: STAGE, tags: this.tags };
    await this.take();
    return { table: this.raw, tags: 'tags' };
  }

  async drop(): Promise<void> {
    await this.run(`DROP TABLE IF EXISTS ${STAGE}`);
  }

  /** The staged messages go on with their tags, without their values; the stage is made anew (DELETE kept blocks). */
  private async take(): Promise<void> {
    await this.run(loadQuery('duckdb', 'kafka-tags', { raw_table: this.raw, stage_table: STAGE, tags: this.tags }));
    await this.run(loadQuery('duckdb', 'streamed-raw', { raw_table: STAGE }));
    [this.chars, this.taken] = [0, true];
  }
}
