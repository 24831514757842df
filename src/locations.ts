import type { DayKey } from './domain.js';

/** The placeholders a location may hold. */
const PLACEHOLDER = /\{([A-Za-z]+)\}/g;
const KNOWN = new Set(['date', 'yyyy', 'MM', 'dd']);

export interface ParsedLocation {
  scheme: 'file' | 'gs';
  /** For gs: the bucket. For file: empty. */
  bucket: string;
  /** For gs: the object prefix template. For file: the absolute path template. */
  template: string;
  /** True when the template holds a date placeholder: one folder or prefix per day. */
  dated: boolean;
  /** Where the location is in the config (`tiers.proxy.locations[0]`), for messages; absent when made in code. */
  keyPath?: string;
}

/** Placeholders in `location` that are not known, for the config validator. */
export function unknownPlaceholders(location: string): string[] {
  return [...location.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '').filter((p) => !KNOWN.has(p));
}

/** Fills the placeholders of a template for one day. */
export function expandTemplate(template: string, day: DayKey): string {
  const [yyyy, MM, dd] = day.split('-') as [string, string, string];
  const values: Record<string, string> = { date: day, yyyy, MM, dd };
  return template.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
}

/** The part of a template before its first placeholder, cut back to the last `/`: it must exist. */
export function fixedPart(template: string): string {
  const i = template.search(PLACEHOLDER);
  if (i < 0) return template;
  return template.slice(0, template.lastIndexOf('/', i) + 1);
}

export function isDated(template: string): boolean {
  return /\{(date|yyyy|MM|dd)\}/.test(template);
}

/**
 * Whether the objects listed for `location` on some day may include those in the folder `folder` (at or below a
 * folder the location names): where the per-object cache lives inside a data location, a tier would read the
 * cache's own manifests as records. Placeholders match any value of their form. Pure.
 */
export function listsFolder(location: ParsedLocation, folder: ParsedLocation): boolean {
  if (location.scheme !== folder.scheme || location.bucket !== folder.bucket) return false;
  const asFolder = (t: string) => (t === '' || t.endsWith('/') ? t : `${t}/`);
  const forms: Record<string, string> = { date: '\\d{4}-\\d{2}-\\d{2}', yyyy: '\\d{4}', MM: '\\d{2}', dd: '\\d{2}' };
  const pattern = asFolder(location.template)
    .split(PLACEHOLDER)
    .map((part, i) => (i % 2 === 1 ? (forms[part] ?? '[^/]*') : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${pattern}`).test(asFolder(folder.template));
}
