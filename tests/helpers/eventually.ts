import { expect } from 'vitest';

/** expect.poll with room for a real network, a real browser and a loaded machine (its default gives up after 1 s). */
export const eventually = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 10_000, interval: 50 });
