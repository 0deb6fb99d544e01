/**
 * Randomness for the emulator: a seeded stream (mulberry32), so that the same seed and the same sequence of calls
 * give the same faults and events, and random-looking ids spelled in an id's alphabet.
 */

/** A stream of numbers in [0, 1). */
export type Random = () => number;

/** The mulberry32 stream of `seed`. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One character of `alphabet` per byte: an id's spelling of random or derived bytes (`o-…`, `ASIA…`). */
export function idChars(bytes: Buffer, alphabet: string): string {
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}
