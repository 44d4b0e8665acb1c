/** Bounded, ordered concurrency: the decode stage runs ahead of inference without unbounded memory. */

/** Yields fn(item) in input order while keeping up to `ahead` calls in flight. */
export async function* mapOrdered<T, R>(items: Iterable<T>, ahead: number, fn: (item: T) => Promise<R>): AsyncGenerator<R> {
  const pending: Promise<R>[] = [];
  const it = items[Symbol.iterator]();
  let done = false;
  const fill = () => {
    while (!done && pending.length < ahead) {
      const next = it.next();
      if (next.done) done = true;
      else {
        const p = fn(next.value);
        p.catch(() => {}); // a failure surfaces when its turn comes (or not at all if the consumer stopped)
        pending.push(p);
      }
    }
  };
  fill();
  while (pending.length > 0) {
    const result = await pending.shift()!;
    fill();
    yield result;
  }
}
