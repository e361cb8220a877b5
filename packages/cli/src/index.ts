/**
 * @spillway/cli: the `spillway` command, and what it is made of for programs that want the same
 * behaviour — loading and validating configs (YAML, JSON, TypeScript) with `file:line:col`
 * problems, the registry of stage types a config file can name, and each command as a
 * function resolving with its exit code.
 */
export { configReference } from './commands/config-reference.js';
export { type DlqReplayOptions, dlqReplayCommand } from './commands/dlq.js';
export { type CliIo, processIo } from './commands/io.js';
export { createProgram, main } from './commands/program.js';
export { DEFAULT_DEADLINE_MS, type RunCommandOptions, runCommand } from './commands/run.js';
export { validateCommand } from './commands/validate.js';
export { ConfigDocument, type ConfigPath, type Environment } from './config/document.js';
export * from './config/errors.js';
export {
  CONFIG_EXTENSIONS,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
} from './config/load.js';
export type { OptionDoc, OptionTable } from './config/option-docs.js';
export * from './config/registry.js';
export { describePipeline } from './config/summary.js';
export { type Dashboard, type DashboardOptions, startDashboard } from './dashboard/dashboard.js';
export {
  type MetricsServer,
  type MetricsServerOptions,
  startMetricsServer,
} from './metrics/server.js';
