import type { z } from 'zod';
import { KAFKA_EXPIRED_COLUMN, PARITY_HEADER, regionColumn } from '../domain.js';

/**
 * tiers.kafka.clusters as a whole: each cluster is a column (kafka_<name lower-cased>) and a region of its
 * own, so two names of one column, a name that is a column of the report or the history already, or two
 * clusters on one broker (every message counted twice, each id a cross-region duplicate) are refused.
 */
export function refineClusters(
  clusters: Record<string, { brokers: string[] }>,
  ctx: z.core.$RefinementCtx<Record<string, { brokers: string[] }>>,
): void {
  const columns = new Map<string, string>();
  const brokers = new Map<string, string>();
  for (const [name, cluster] of Object.entries(clusters)) {
    const column = regionColumn(name);
    const other = columns.get(column);
    if (other !== undefined)
      ctx.addIssue({ code: 'custom', path: [name], message: `"${other}" and "${name}" are both column ${column}` });
    if ((PARITY_HEADER as readonly string[]).includes(column))
      ctx.addIssue({ code: 'custom', path: [name], message: `${column} is a column of the report already` });
    if (column === KAFKA_EXPIRED_COLUMN)
      ctx.addIssue({ code: 'custom', path: [name], message: `${column} is a column of the history already` });
    columns.set(column, name);
    for (const broker of cluster.brokers) {
      const at = brokers.get(broker.toLowerCase());
      if (at !== undefined && at !== name)
        ctx.addIssue({
          code: 'custom',
          path: [name, 'brokers'],
          message: `${broker} is also a broker of "${at}": each cluster is a region of its own`,
        });
      brokers.set(broker.toLowerCase(), name);
    }
  }
}
