// Node 20 ships the `using` declarations' symbols only behind a flag; Node 22+ has them natively.
// Define them once, the same way TypeScript's down-level helpers look them up, so
// `[Symbol.asyncDispose]` methods and `await using` work on both.
const symbols = Symbol as unknown as { asyncDispose?: symbol; dispose?: symbol };
symbols.asyncDispose ??= Symbol.for('Symbol.asyncDispose');
symbols.dispose ??= Symbol.for('Symbol.dispose');
