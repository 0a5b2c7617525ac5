import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** What the README's snippets assume the host already has. */
const PRELUDE = `
declare const stripe: {
  balance: { retrieve(): Promise<unknown> };
  charges: { create(params: ChargeParams): Promise<{ id: string }> };
};
type ChargeParams = { amount: number; currency: string; source: string };
export {};
`;

function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

describe('README', () => {
  const blocks = codeBlocks(readFileSync('README.md', 'utf8'));

  it('has TypeScript examples', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  it('has examples that type-check against the package', () => {
    const dir = mkdtempSync(join(resolve('test'), '.readme-'));
    try {
      const files = blocks.map((block, index) => {
        const file = join(dir, `block-${index}.ts`);
        const source = block.replaceAll(`from 'm28-ops'`, `from '../../src/index.js'`);
        writeFileSync(file, `${PRELUDE}\n${source}`);

        return file;
      });
      const config = ts.readConfigFile('tsconfig.json', ts.sys.readFile);
      const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, resolve('.'));
      const program = ts.createProgram(files, { ...options, noEmit: true });
      const problems = ts
        .getPreEmitDiagnostics(program)
        .filter((diagnostic) => diagnostic.file && files.includes(diagnostic.file.fileName))
        .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));

      expect(problems).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
