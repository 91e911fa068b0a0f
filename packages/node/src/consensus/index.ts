/** Tendermint consensus core (spec/consensus.md): pure, not yet wired into the node. */
export * from "./machine.js";
export * from "./proposer.js";
export * from "./tally.js";
export type * from "./types.js";
