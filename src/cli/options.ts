/** Flag parsers shared by commands: each checks the flag's range from options/ranges.ts and names the flag. */
import { InvalidArgumentError } from 'commander';
import { parseInRange, RANGES, type RangeName } from '../contracts/ranges.js';

/** A commander parse function for the numeric option `name` (commander prefixes the flag to the message). */
export function rangeFlag(name: RangeName): (value: string) => number {
  return (value) => {
    const parsed = parseInRange(RANGES[name], value);
    if ('error' in parsed) throw new InvalidArgumentError(parsed.error);
    return parsed.value;
  };
}
