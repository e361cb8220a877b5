/**
 * Every scenario the suite runs, in the order `npm run bench` runs them and the docs list them.
 * Adding a scenario: write `src/scenarios/<name>.ts` exporting a `ScenarioDefinition`, and add
 * one line here.
 */
import type { ScenarioDefinition } from './scenario.js';
import { channelScenario } from './scenarios/channel.js';
import { httpScenario } from './scenarios/http.js';
import { loggerScenario } from './scenarios/logger.js';
import { sourcesScenario } from './scenarios/sources.js';
import { spillScenario } from './scenarios/spill.js';
import { transformScenario } from './scenarios/transform.js';

export const scenarios: readonly ScenarioDefinition[] = [
  channelScenario,
  spillScenario,
  sourcesScenario,
  transformScenario,
  httpScenario,
  loggerScenario,
];
