/**
 * A run ended at once (a second Ctrl-C or SIGTERM while it stops): the synchronous, best-effort steps it
 * still takes, such as removing a lease file that would otherwise hold the output folder, and the short
 * sections it is not ended inside (a day's files renamed into place, which take milliseconds): the exit
 * waits for them to end. Everything else a killed run leaves (temporary reports, scratch) the next run sweeps.
 */
const steps = new Set<() => void>();
let holding = 0;
let pendingExit: (() => void) | null = null;

/** Registers `step` for a forced exit; returns its removal (call it once the step is done the normal way). */
export function onForcedExit(step: () => void): () => void {
  steps.add(step);
  return () => void steps.delete(step);
}

/** Runs `section` so that a forced exit asked for meanwhile happens only once it has ended. */
export async function holdingForcedExit<T>(section: () => Promise<T>): Promise<T> {
  holding++;
  try {
    return await section();
  } finally {
    holding--;
    if (holding === 0 && pendingExit) pendingExit();
  }
}

/**
 * Ends the process through `exit` once no held section runs (at once when none does), after every
 * registered step, each on its own: one that throws does not stop the others.
 */
export function forceExit(exit: () => void): void {
  pendingExit = () => {
    for (const step of [...steps]) {
      steps.delete(step);
      try {
        step();
      } catch {
        // best effort: the next run meets what is left (a lease of a gone pid is taken over at once)
      }
    }
    exit();
  };
  if (holding === 0) pendingExit();
}
