/**
 * A transform that hands each batch on untouched, runnable in workers: the dispatch measurement
 * of the `transform` scenario times the hop itself, not any work done on the other side.
 */
import { defineTransform } from '@spillway/core';

export const passThrough = defineTransform<Record<string, never>>({
  type: 'passThrough',
  module: import.meta.url,
  build: () => ({ process: (batch) => batch }),
});
