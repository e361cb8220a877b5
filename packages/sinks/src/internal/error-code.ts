/** A short, stable name for an error in a reason or a counter: its `code`, else its class. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.name : 'unknown';
}
