/** An SQL identifier (table or column name read from a store's own schema), quoted. */
export function quoteId(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
