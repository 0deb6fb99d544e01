// CHANGELOG.md and the docs agree with package.json's version: one Unreleased section (a release renames it), no
// other section calling itself unreleased, no released version newer than the package, and no doc speaking of a
// version ("before 0.2") that does not exist yet.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../deploy/template.ts';

const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const version = JSON.parse(read('package.json')).version as string;
const parts = (v: string) => v.split('.').map(Number);
const newer = (a: string, b: string) => {
  const [x, y] = [parts(a), parts(b)];
  const i = x.findIndex((n, k) => n !== y[k]);
  return i !== -1 && (x[i] ?? 0) > (y[i] ?? 0);
};

describe('CHANGELOG.md and the version', () => {
  const changelog = read('CHANGELOG.md');
  const sections = [...changelog.matchAll(/^## (.*)$/gm)].map((m) => m[1] ?? '');

  it('has one Unreleased section, first, and no other section called unreleased', () => {
    expect(sections[0]).toBe('[Unreleased]');
    expect(sections.filter((s) => /unreleased/i.test(s))).toEqual(['[Unreleased]']);
  });

  it('has one sub-section of each kind under Unreleased', () => {
    const unreleased = changelog.split(/^## /m)[1] ?? '';
    const kinds = [...unreleased.matchAll(/^### (.*)$/gm)].map((m) => m[1]);
    expect(kinds.length).toBeGreaterThan(0);
    expect(new Set(kinds).size).toBe(kinds.length);
  });

  it('releases no version newer than package.json', () => {
    for (const s of sections.slice(1)) {
      const v = /^\[(\d+\.\d+\.\d+)\]/.exec(s)?.[1];
      expect(v, s).toBeDefined();
      expect(newer(v as string, version), s).toBe(false);
    }
  });

  it('the docs name no version newer than package.json', () => {
    for (const file of ['docs/DEPLOY.md', 'docs/CLI.md', 'README.md']) {
      for (const m of read(file).matchAll(
        /\b(?:before|since|until|version) (\d+\.\d+(?:\.\d+)?)(?![\d.×])/g,
      )) {
        const v = (m[1] as string).split('.').length === 2 ? `${m[1]}.0` : (m[1] as string);
        expect(newer(v, version), `${file}: "${m[0]}"`).toBe(false);
      }
    }
  });
});
