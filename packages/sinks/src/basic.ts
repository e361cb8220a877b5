/** The basic sinks: a file with rotation, standard output, and the blackhole. */
export * from './blackhole.js';
export * from './file/file-sink.js';
export * from './stdout.js';
