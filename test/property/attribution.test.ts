import path from 'node:path';
import { runReconcile } from '../../jobs/reconcile.js';
import { loadConfig } from '../../src/config.js';
import { daysInRange } from '../../src/dates.js';
import {
  type CauseMix,
  DEFAULT_MIX,
  type KafkaMessage,
  type LandedCopy,
  ScenarioGenerator,
} from '../../src/demo/generator.js';
import { writeScenario, writeScenarioConfig } from '../../src/demo/write-scenario.js';
import { formatParity, identityViolations } from '../../src/reconcile/attribute.js';
import type { ParityRow } from '../../src/report/columns.js';
import { expectReportsMatch } from '../support/expect-report.js';
import { tempDir } from '../support/files.js';
import { MemoryBigqueryReader, MemoryKafkaReader } from '../support/memory-kafka.js';

const MIXES: Record<string, CauseMix> = {
  default: DEFAULT_MIX,
  'heavy 413 before the limit was raised': { ...DEFAULT_MIX, rejected413: 0.07 },
  'every cause at 5%': {
    rejected413: 0.05,
    rejected502: 0.05,
    retried502: 0.05,
    rejectedOther: 0.05,
    lostUnexplained: 0.05,
    lostBeforeKafka: 0.05,
    inFlight: 0.05,
    landedAfterReject: 0.05,
    landedWithoutProxy: 0.05,
    duplicate: 0.05,
    crossRegion: 0.05,
    late: 0.05,
    unroutableHeader: 0.05,
    missingHeader: 0.05,
    messyHeader: 0.05,
  },
  'no losses at all': {
    rejected413: 0,
    rejected502: 0,
    retried502: 0,
    rejectedOther: 0,
    lostUnexplained: 0,
    lostBeforeKafka: 0,
    inFlight: 0,
    landedAfterReject: 0,
    landedWithoutProxy: 0,
    duplicate: 0,
    crossRegion: 0,
    late: 0,
    unroutableHeader: 0,
    missingHeader: 0,
    messyHeader: 0,
  },
  'duplicates and late arrivals only': {
    ...DEFAULT_MIX,
    rejected413: 0,
    rejected502: 0,
    lostUnexplained: 0,
    duplicate: 0.3,
    late: 0.3,
  },
  'surplus landed ids, nothing lost': {
    rejected413: 0.05,
    rejected502: 0,
    retried502: 0.05,
    rejectedOther: 0,
    lostUnexplained: 0,
    lostBeforeKafka: 0,
    inFlight: 0,
    landedAfterReject: 0.1,
    landedWithoutProxy: 0.1,
    duplicate: 0.05,
    crossRegion: 0,
    late: 0.05,
    unroutableHeader: 0,
    missingHeader: 0.05,
    messyHeader: 0.05,
  },
};

/** Parity is stated from the loss side: what a row's own ids say it must be, whatever else landed. */
function expectParityFromLossSide(row: ParityRow): void {
  const accepted = row.accepted_distinct as number;
  const missing = row.missing as number;
  expect({ site: row.site, parity_pct: row.parity_pct }).toEqual({
    site: row.site,
    parity_pct: formatParity(accepted - missing, accepted),
  });
  if (row.parity_pct === null) return;
  expect(Number(row.parity_pct)).toBeLessThanOrEqual(100);
  expect({ site: row.site, full: row.parity_pct === '100.0000' }).toEqual({
    site: row.site,
    full: missing === 0 || accepted / missing > 2_000_000,
  });
}

const CASES = Object.entries(MIXES).flatMap(([name, mix], i) =>
  [1, 2, 3].map((k) => ({
    name,
    mix,
    seed: 1000 * (i + 1) + k,
    timezone: k === 1 ? 'America/Chicago' : i % 2 ? 'Asia/Kolkata' : 'UTC',
    kafka: k !== 2,
    bigquery: k === 3,
  })),
);

describe('attribution returns exactly the injected causes', () => {
  it.each(CASES)(
    '$name, seed $seed, zone $timezone, kafka $kafka, bigquery $bigquery',
    async ({ mix, seed, timezone, kafka, bigquery }) => {
      const dir = await tempDir();
      const days = daysInRange('2025-03-08', '2025-03-10');
      const regions = ['EUS2', 'SCUS'];
      const gen = new ScenarioGenerator({
        seed,
        days,
        timezone,
        // BR and GB are among the generator's unroutable headers: configured, they are routable (and not injected).
        sites: kafka ? ['US', 'CA', 'MX'] : ['US', 'CA', 'MX', 'BR', 'GB'],
        eventsPerDay: 600,
        mix,
        malformedPerDay: 2,
        regions,
        kafka,
      });
      const messages: KafkaMessage[] = [];
      const landed: LandedCopy[] = [];
      const written = await writeScenario(gen, dir, {
        gzipShare: 0.5,
        onKafka: (m) => void messages.push(...m),
        onLanded: (c) => void landed.push(...c),
      });
      const configFile = path.join(dir, 'config.json');
      await writeScenarioConfig(configFile, gen, written, { engine: { batchDays: 2 } });
      const out = path.join(dir, 'out');
      const reader = kafka ? new MemoryKafkaReader(regions, messages) : undefined;
      const result = await runReconcile({
        config: await loadConfig(configFile),
        days,
        outDir: out,
        ...(reader ? { kafka: reader } : {}),
        ...(bigquery ? { bigquery: new MemoryBigqueryReader(landed) } : {}),
      });
      await expectReportsMatch(gen, out, days, { kafka: kafka ? regions : null, bigquery });
      for (const summary of result.days) {
        for (const row of summary.rows) {
          expect(identityViolations(row)).toEqual([]);
          expectParityFromLossSide(row);
          // Every configured site holds data every day in a generated scenario: none may be NO_DATA.
          expect({ site: row.site, status: row.status }).not.toEqual({ site: row.site, status: 'NO_DATA' });
        }
      }
    },
  );
});
