import { createWriteStream, type WriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { createGzip, type Gzip } from 'node:zlib';
import { dayOf } from '../dates.js';
import { ensureDir } from '../folders.js';
import {
  formatRecord,
  type KafkaMessage,
  type LandedCopy,
  prng,
  type ProxyLine,
  type ScenarioGenerator,
} from './generator.js';

/** Lines a part file takes before the next part starts, as a sink rolls its files. */
const LINES_PER_PART = 200_000;
/** Characters buffered per open file before a write. */
const FLUSH_CHARS = 256 * 1024;

export interface WrittenScenario {
  root: string;
  proxyLocation: string;
  landedLocations: string[];
  files: number;
  proxyLines: number;
  landedLines: number;
}

interface Part {
  out: WriteStream;
  gz: Gzip | null;
  buffer: string[];
  chars: number;
  lines: number;
}

/** Writes files the way the pipeline lays them out: proxy logs per UTC day, one bucket per site. */
class PartWriter {
  private readonly parts = new Map<string, Part>();
  private readonly partIndex = new Map<string, number>();
  files = 0;
  constructor(
    private readonly gzipShare: number,
    private readonly seed: number,
  ) {}

  async write(dir: string, stem: string, line: string): Promise<void> {
    const key = `${dir}/${stem}`;
    let part = this.parts.get(key);
    if (part && part.lines >= LINES_PER_PART) {
      await this.close(part);
      this.parts.delete(key);
      part = undefined;
    }
    if (!part) {
      const index = (this.partIndex.get(key) ?? -1) + 1;
      this.partIndex.set(key, index);
      await ensureDir(dir);
      const gzip = prng(this.seed + hash(`${key}-${index}`))() < this.gzipShare;
      const file = path.join(dir, `${stem}-${String(index).padStart(4, '0')}.jsonl${gzip ? '.gz' : ''}`);
      const out = createWriteStream(file);
      const gz = gzip ? createGzip({ level: 6 }) : null;
      if (gz) gz.pipe(out);
      part = { out, gz, buffer: [], chars: 0, lines: 0 };
      this.parts.set(key, part);
      this.files++;
    }
    part.buffer.push(line, '\n');
    part.chars += line.length + 1;
    part.lines++;
    if (part.chars >= FLUSH_CHARS) await this.flush(part);
  }

  private async flush(part: Part): Promise<void> {
    const data = part.buffer.join('');
    part.buffer = [];
    part.chars = 0;
    const target = part.gz ?? part.out;
    if (!target.write(data)) await once(target, 'drain');
  }

  private async close(part: Part): Promise<void> {
    await this.flush(part);
    const done = once(part.out, 'close');
    if (part.gz) part.gz.end();
    else part.out.end();
    await done;
  }

  async closeAll(): Promise<void> {
    for (const part of this.parts.values()) await this.close(part);
    this.parts.clear();
  }
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export interface WriteScenarioOptions {
  /** The share of part files written gzipped. Default 0.4. */
  gzipShare?: number;
  /** Kafka's messages (no files are written for them). */
  onKafka?: (messages: KafkaMessage[]) => Promise<void> | void;
  /** Each landed copy, as also written to files: for loading a table of the same records. */
  onLanded?: (copies: LandedCopy[]) => Promise<void> | void;
  /** Each proxy line, as also written to files (malformed text lines excepted). */
  onProxy?: (lines: ProxyLine[]) => Promise<void> | void;
}

/** Streams every day of a scenario into `root`; holds one buffer per open file, never a day. */
export async function writeScenario(
  gen: ScenarioGenerator,
  root: string,
  options: WriteScenarioOptions = {},
): Promise<WrittenScenario> {
  const { gzipShare = 0.4, onKafka, onLanded, onProxy } = options;
  const writer = new PartWriter(gzipShare, gen.options.seed);
  const rand = prng(gen.options.seed ^ 0x5eed);
  const bucket = (site: string) => `audit-api-logs-${site.toLowerCase()}-prod`;
  let proxyLines = 0;
  let landedLines = 0;
  for (const day of gen.options.days) {
    for (const event of gen.events(day)) {
      for (const line of event.proxy) {
        await writer.write(
          path.join(root, 'proxy', `dt=${dayOf(line.ts, 'UTC')}`),
          `proxy-${line.region.toLowerCase()}`,
          formatRecord(line, rand),
        );
        proxyLines++;
      }
      if (onProxy && event.proxy.length > 0) await onProxy(event.proxy);
      if (onKafka && event.kafka.length > 0) await onKafka(event.kafka);
      if (onLanded && event.landed.length > 0) await onLanded(event.landed);
      for (const copy of event.landed) {
        await writer.write(
          path.join(root, 'landed', bucket(copy.bucketSite), `dt=${copy.folderDay}`),
          `part-${copy.region.toLowerCase()}`,
          formatRecord(copy, rand),
        );
        landedLines++;
      }
    }
    if (onKafka) await onKafka(gen.kafkaMalformed(day));
    for (const m of gen.malformed(day)) {
      const dir =
        m.tier === 'proxy'
          ? path.join(root, 'proxy', `dt=${m.folderDay}`)
          : path.join(root, 'landed', bucket(m.bucketSite), `dt=${m.folderDay}`);
      await writer.write(dir, 'malformed', m.text);
      if (m.tier === 'proxy') proxyLines++;
      else landedLines++;
    }
  }
  await writer.closeAll();
  const sites = new Set(['US', ...gen.options.sites]);
  const landedLocations = [...sites].map((s) => `landed/${bucket(s)}/dt={date}/`);
  for (const s of sites) await ensureDir(path.join(root, 'landed', bucket(s)));
  await ensureDir(path.join(root, 'proxy'));
  return { root, proxyLocation: 'proxy/dt={date}/', landedLocations, files: writer.files, proxyLines, landedLines };
}

/** A config file for a written scenario, locations relative to it. */
export async function writeScenarioConfig(
  file: string,
  gen: ScenarioGenerator,
  written: WrittenScenario,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const config = {
    timezone: gen.options.timezone,
    sites: gen.options.sites,
    thresholds: { warnPct: 99.9, failPct: 99.0 },
    tiers: {
      proxy: { locations: [written.proxyLocation] },
      gcs: { locations: written.landedLocations },
    },
    ...extra,
  };
  await writeFile(file, JSON.stringify(config, null, 2) + '\n');
}
