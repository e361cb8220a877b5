#!/usr/bin/env node
/**
 * The `spillway` executable. Everything is in `commands/program.ts`; this file only hands it
 * the command line and turns its answer into the exit code.
 */
import { main } from './commands/program.js';

const code = await main(process.argv);
process.exitCode = code;
// The process ends by itself once nothing is left running. Should a library keep a handle
// open after the pipeline stopped (a keep-alive socket, a timer), the exit code is still
// the command's, a moment later; the timer itself keeps nothing alive.
setTimeout(() => process.exit(code), 2000).unref();
