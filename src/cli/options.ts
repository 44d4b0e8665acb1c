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

/** `--at <layer|auto>` (intervene, bias): a layer in range, or 'auto' for the emergence layer. */
export function atFlag(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const parsed = parseInRange(RANGES.at, value);
  if ('error' in parsed) throw new InvalidArgumentError(`${parsed.error.replace(/, got/, " or 'auto', got")}`);
  return parsed.value;
}
