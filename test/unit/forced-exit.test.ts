import { forceExit, holdingForcedExit, onForcedExit } from '../../src/forced-exit.js';

describe('a forced exit (a second Ctrl-C)', () => {
  it('waits for a held section (a day being renamed into place) to end, then runs the steps and exits', async () => {
    const seen: string[] = [];
    onForcedExit(() => seen.push('lease removed'));
    const removed = onForcedExit(() => seen.push('never: removed before the exit'));
    removed();
    onForcedExit(() => {
      throw new Error('a step that fails does not stop the others');
    });
    onForcedExit(() => seen.push('second step'));
    let release!: () => void;
    const section = holdingForcedExit(async () => {
      await new Promise<void>((r) => (release = r));
      seen.push('section ended');
    });
    forceExit(() => seen.push('exit'));
    expect(seen).toEqual([]); // held: nothing yet
    release();
    await section;
    expect(seen).toEqual(['section ended', 'lease removed', 'second step', 'exit']);
  });
});
