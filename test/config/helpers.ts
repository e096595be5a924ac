/** Shared helpers for the config tests. */
import { expect } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/index.js';
import type { Config, ConfigIssue, ConfigOverrides } from '../../src/config/index.js';

export const FILE = 'test.yaml';

/** Joins lines, so tests can count lines exactly. */
export const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

export function load(text: string, overrides?: ConfigOverrides): Config {
  return parseConfig(text, FILE, overrides);
}

/** The issues a text is refused with; fails the test when it is accepted. */
export function issuesOf(text: string, overrides?: ConfigOverrides): readonly ConfigIssue[] {
  try {
    parseConfig(text, FILE, overrides);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues;
  }
  expect.fail('configuration was accepted');
}

/** The single issue at `path`; fails when there is none or several. */
export function issueAt(text: string, path: string): ConfigIssue {
  const all = issuesOf(text);
  const at = all.filter((i) => i.path === path);
  expect(at, `issues: ${JSON.stringify(all, null, 1)}`).toHaveLength(1);
  return at[0] as ConfigIssue;
}

/** 1-based line and column of the first occurrence of `needle` in `text`. */
export function positionOf(text: string, needle: string, occurrence = 1): { line: number; column: number } {
  let index = -1;
  for (let n = 0; n < occurrence; n++) {
    index = text.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`"${needle}" not in text`);
  }
  const before = text.slice(0, index).split('\n');
  return { line: before.length, column: (before.at(-1) as string).length + 1 };
}
