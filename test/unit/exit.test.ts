import { EXIT, exitCodeFor } from '../../src/exit.js';

describe('exitCodeFor', () => {
  it('exits 0 when every row is PASS or WARN, and when there are no rows', () => {
    expect(exitCodeFor(['PASS', 'WARN', 'PASS'])).toBe(EXIT.ok);
    expect(exitCodeFor([])).toBe(EXIT.ok);
  });

  it('exits 1 for a FAIL row, and for a NO_DATA row on its own', () => {
    expect(exitCodeFor(['PASS', 'FAIL', 'WARN'])).toBe(EXIT.fail);
    expect(exitCodeFor(['NO_DATA', 'PASS'])).toBe(EXIT.fail);
  });

  it('exits 3 for an ERROR row, whatever else the run holds', () => {
    expect(exitCodeFor(['FAIL', 'ERROR', 'NO_DATA'])).toBe(EXIT.tier);
    expect(exitCodeFor(new Set(['ERROR'] as const))).toBe(3);
  });

  it("keeps the contract's numbers", () => {
    expect([EXIT.ok, EXIT.fail, EXIT.usage, EXIT.tier]).toEqual([0, 1, 2, 3]);
  });
});
