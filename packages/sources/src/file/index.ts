export { type Checkpoint, CheckpointStore, type FileIdentity } from './checkpoints.js';
export { checkpointPath, type FileSourceOptions, file } from './file-source.js';
export type { LongLinePolicy } from './reader.js';
