/**
 * "Did you mean …?" for names an operator typed: the closest known name, when it is close
 * enough that it is more likely a typo than a different word.
 */

/** The known name nearest to `typed`, or undefined when none is near. */
export function closest(typed: string, known: Iterable<string>): string | undefined {
  const lower = typed.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const name of known) {
    // Case alone (`parsejson`) is always a typo.
    const d = name.toLowerCase() === lower ? 0 : distance(lower, name.toLowerCase());
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  // One edit in four characters, at least one and at most three: `htpp` → `http`,
  // but not `tcp` → `udp`.
  const allowed = Math.min(3, Math.max(1, Math.floor(typed.length / 4)));
  return bestDistance <= allowed ? best : undefined;
}

/** `; did you mean "x"?` or nothing. */
export function didYouMean(typed: string, known: Iterable<string>): string {
  const near = closest(typed, known);
  return near === undefined ? '' : ` (did you mean "${near}"?)`;
}

/** Levenshtein distance, with a transposition counted as one edit. */
function distance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = value;
    }
  }
  return d[a.length]![b.length]!;
}
