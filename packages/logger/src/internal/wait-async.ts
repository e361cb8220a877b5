/**
 * `Atomics.waitAsync` (Node ≥ 16), which the ES2023 library this project compiles with does
 * not declare: a worker waits on a shared word without blocking its event loop.
 */
interface WaitAsync {
  waitAsync(
    array: Int32Array,
    index: number,
    value: number,
    timeoutMs?: number,
  ):
    | { async: false; value: 'not-equal' | 'timed-out' }
    | { async: true; value: Promise<'ok' | 'timed-out'> };
}

/** Resolves when `array[index]` is no longer `value` (or was not), or after `timeoutMs`. */
export async function waitAsync(
  array: Int32Array,
  index: number,
  value: number,
  timeoutMs?: number,
): Promise<void> {
  const result = (Atomics as unknown as WaitAsync).waitAsync(array, index, value, timeoutMs);
  if (result.async) await result.value;
}
