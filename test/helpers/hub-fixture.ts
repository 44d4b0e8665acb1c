/**
 * The hub look-alike (hub-server.ts) serving the fixture repos, for one test file: started once, its
 * request log and faults cleared and a fresh work folder (models/ and cache/) for every test.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { tempDir } from './env.js';
import { fixtureRepos } from './hub-repos.js';
import { noFaults, startHub, type HubServer } from './hub-server.js';

export interface FixtureHub {
  /** The running server (valid inside tests and hooks). */
  readonly hub: HubServer;
  /** This test's fresh folder, and the models folder and download cache in it. */
  work(): string;
  models(): string;
  cache(): string;
}

export function useFixtureHub(prefix: string): FixtureHub {
  let hub: HubServer | undefined;
  let work = '';
  beforeAll(async () => {
    hub = await startHub(fixtureRepos());
  });
  afterAll(async () => hub?.close());
  beforeEach(() => {
    hub!.log.length = 0;
    Object.assign(hub!.faults, noFaults());
    work = tempDir(prefix);
  });
  return {
    get hub() {
      return hub!;
    },
    work: () => work,
    models: () => join(work, 'models'),
    cache: () => join(work, 'cache'),
  };
}

/** Every file under a folder, relative, sorted ([] when it does not exist). */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}
