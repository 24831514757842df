import { resolveDays } from '../../src/args.js';
import { explainBadDay } from '../../src/dates.js';
import { UsageError } from '../../src/errors.js';

describe('explainBadDay', () => {
  it('says nothing about a real day, leap days included', () => {
    expect(explainBadDay('2025-03-09')).toBeNull();
    expect(explainBadDay('2024-02-29')).toBeNull();
  });

  it('names the month length when the format is right but the day is past the month end', () => {
    expect(explainBadDay('2025-02-30')).toBe('"2025-02-30" is not a date: February 2025 has 28 days');
    expect(explainBadDay('2024-02-30')).toBe('"2024-02-30" is not a date: February 2024 has 29 days');
    expect(explainBadDay('2025-04-31')).toBe('"2025-04-31" is not a date: April 2025 has 30 days');
  });

  it('names a month that does not exist and a day zero', () => {
    expect(explainBadDay('2025-13-01')).toMatch(/there is no month 13/);
    expect(explainBadDay('2025-00-10')).toMatch(/there is no month 0/);
    expect(explainBadDay('2025-03-00')).toMatch(/days start at 01/);
  });

  it('asks for the format when the text is not YYYY-MM-DD', () => {
    expect(explainBadDay('9/3/2025')).toMatch(/use YYYY-MM-DD/);
    expect(explainBadDay('2025-3-9')).toMatch(/use YYYY-MM-DD/);
  });
});

describe('resolveDays', () => {
  it('throws a UsageError naming the flag with the month length', () => {
    expect(() => resolveDays({ from: '2025-02-27', to: '2025-02-30' })).toThrow(UsageError);
    expect(() => resolveDays({ from: '2025-02-27', to: '2025-02-30' })).toThrow(
      '--to: "2025-02-30" is not a date: February 2025 has 28 days',
    );
  });
});
