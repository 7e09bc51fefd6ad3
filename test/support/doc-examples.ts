// Reads the examples of the README and docs/, so that tests run them as written.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The fenced block whose info string has `example=NAME`, in README.md or the given doc (a path from the repository root). */
export function docExample(name: string, doc?: string): string {
  const file = doc === undefined ? README : fileURLToPath(new URL(`../../${doc}`, import.meta.url));
  const text = readFileSync(file, 'utf8');
  const fence = new RegExp('^```[a-z]* example=' + name + '\\n([\\s\\S]*?)^```$', 'm');
  const match = fence.exec(text);
  if (match?.[1] === undefined) throw new Error(`${doc ?? 'README.md'} has no example=${name}`);
  return match[1];
}

/**
 * Points an example's bare imports at the working tree: the package's own
 * `sigver/client` at its source, and other packages at what the test gives.
 * Nothing else of the example changes.
 */
export function pointImports(source: string, targets: Readonly<Record<string, string>>): string {
  return source.replace(/from '([^']+)';/g, (whole, specifier: string) => {
    const target = targets[specifier];
    return target === undefined ? whole : `from '${target}';`;
  });
}
