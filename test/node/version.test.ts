import { readFile } from 'node:fs/promises';

import { expect } from 'chai';

import { i18nextVersion } from './i18next.js';
import { LEGS, onLeg } from './legs.js';

// The guard of the Node matrix: a leg that silently ran on another Node (an npx cache gone wrong,
// a PATH that wins over the binary asked for) or with the other i18next fails here, by name.
describe('the Node under test', () => {
  const leg = process.env['KOA_MESSAGES_NODE'];

  it('is the one the matrix leg asked for, or one that package.json supports', async () => {
    if (leg !== undefined) {
      expect(
        LEGS.map((l) => l.node),
        'KOA_MESSAGES_NODE names a leg',
      ).to.include(leg);
      expect(
        { leg, version: process.version, onLeg: onLeg(process.version, leg) },
        `the ${leg} leg runs on ${process.version}`,
      ).to.deep.equal({ leg, version: process.version, onLeg: true });
      return;
    }
    const { engines } = JSON.parse(
      await readFile(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { engines: { node: string } };
    // The range docs/node.md explains: require(esm) without a flag, and no warning after 22.12.
    expect(engines.node).to.equal('^20.19.0 || >=22.12.0');
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    expect(
      (major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major > 22,
      `Node ${process.version} is outside ${engines.node}`,
    ).to.equal(true);
  });

  it('loads the i18next major the leg asked for', () => {
    const wanted = LEGS.find((l) => l.node === leg)?.i18next ?? '26';
    expect(process.env['KOA_MESSAGES_I18NEXT'] ?? '26', 'KOA_MESSAGES_I18NEXT').to.equal(wanted);
    expect(i18nextVersion.split('.')[0]).to.equal(wanted);
  });
});
