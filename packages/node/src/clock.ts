/** Injected time source: block timestamps come from here, never from Date inside execution. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
