/** Small helpers around AbortSignal for sources that wait for their stop. */

/** Resolves when any of the signals aborts (at once if one already has). Never rejects. */
export function whenAborted(...signals: AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    if (signals.some((s) => s.aborted)) return resolve();
    const done = () => {
      for (const s of signals) s.removeEventListener('abort', done);
      resolve();
    };
    for (const s of signals) s.addEventListener('abort', done, { once: true });
  });
}
