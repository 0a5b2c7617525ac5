import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { sql } from 'drizzle-orm';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

import type { M28Store } from '../src/index.js';
import { backends, useDatabase } from './support/databases.js';

/** What the README's snippets assume the host already has. */
const PRELUDE = `
declare const stripe: {
  balance: { retrieve(): Promise<unknown> };
  charges: { create(params: ChargeParams): Promise<{ id: string }> };
};
type ChargeParams = { amount: number; currency: string; source: string };
export {};
`;

/** The README's top-level sections, in the order issue #7 sets. */
const SECTIONS = [
  'Install',
  'Quick start',
  'Concepts',
  'Reference',
  'Operations runbook',
  'Security model',
  'Benchmarks',
  'FAQ and troubleshooting',
];

/** The fenced code blocks of a language; every block of the README must be one of these. */
const LANGUAGES = ['ts', 'sh', 'sql'];

interface CodeBlock {
  readonly language: string;
  readonly code: string;
}

function codeBlocks(markdown: string): CodeBlock[] {
  return [...markdown.matchAll(/^```(\S*)\n([\s\S]*?)^```$/gm)].map((match) => ({
    language: match[1] ?? '',
    code: match[2] ?? '',
  }));
}

/** The text of every heading outside code blocks, with its level. */
function headings(markdown: string): { level: number; text: string }[] {
  const found: { level: number; text: string }[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) {
      fenced = !fenced;
      continue;
    }

    const heading = fenced ? null : /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      found.push({ level: heading[1]!.length, text: heading[2]!.trim() });
    }
  }

  return found;
}

/**
 * The names a heading documents: each code span's leading identifier, so that
 * `` `createOps(options)` `` documents `createOps`.
 */
function namesIn(heading: string): string[] {
  return [...heading.matchAll(/`([^`]+)`/g)]
    .map((match) => /^[A-Za-z_$][\w$]*/.exec(match[1] ?? '')?.[0])
    .filter((name): name is string => name !== undefined);
}

/**
 * Every name a module exports, runtime values and types alike: `export { a, b } from`,
 * `export type { ... }`, `export * as ns`, and exported declarations. A bare `export *`
 * cannot be listed from the file alone, so it is refused rather than skipped.
 */
function exportedNames(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const names: string[] = [];
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      const clause = statement.exportClause;
      if (!clause) {
        throw new Error(`${file}: list the names of "${statement.getText(source)}"`);
      }
      if (ts.isNamespaceExport(clause)) {
        names.push(clause.name.text);
      } else {
        names.push(...clause.elements.map((element) => element.name.text));
      }
      continue;
    }

    const exported = ts.canHaveModifiers(statement)
      ? ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
      : false;
    if (exported && ts.isVariableStatement(statement)) {
      names.push(...statement.declarationList.declarations.map((d) => d.name.getText(source)));
    } else if (exported) {
      const name = (statement as { name?: ts.Identifier }).name;
      names.push(name?.text ?? 'default');
    } else if (ts.isExportAssignment(statement)) {
      names.push('default');
    }
  }

  return [...new Set(names)];
}

/** The SQL statements of a block, split at the semicolons that end a line. */
function statements(block: string): string[] {
  return block
    .split(/;\s*$/m)
    .map((statement) => statement.trim())
    .filter((statement) => statement.replace(/--[^\n]*/g, '').trim() !== '');
}

/** Carries a block's outcome out of a transaction rolled back on purpose. */
class RolledBack extends Error {
  constructor() {
    super('rolled back on purpose');
  }
}

/**
 * What the runbook's SQL expects to find: Stripe's restricted `secret_key` with a previous
 * version to roll back to, and an open Stripe breaker.
 */
async function seed(store: M28Store, tx: Parameters<M28Store['query']>[1]): Promise<void> {
  await store.query(
    sql`insert into m28.secrets_config (scope, key_name, key_type, current_version,
        current_fingerprint, previous_version, previous_fingerprint, last_rotated_at)
      values ('stripe', 'secret_key', 'secret_key', 'v2', ${`sha256:${'a'.repeat(64)}`},
        'v1', ${`sha256:${'b'.repeat(64)}`}, now() - interval '30 days')`,
    tx,
  );
  await store.query(
    sql`insert into m28.provider_health_status (provider_name, service_type, status,
        circuit_breaker_state, circuit_breaker_failures, circuit_breaker_opened_at,
        circuit_breaker_next_attempt, last_health_check)
      values ('stripe', 'payment', 'unhealthy', 'open', 5, now() - interval '1 minute',
        now() + interval '4 minutes', now() - interval '1 minute')`,
    tx,
  );
}

describe('README', () => {
  const readme = readFileSync('README.md', 'utf8');
  const blocks = codeBlocks(readme);
  const of = (language: string) => blocks.filter((b) => b.language === language);

  it('has TypeScript examples', () => {
    expect(of('ts').length).toBeGreaterThan(0);
  });

  it('has only code blocks the suite checks', () => {
    expect(blocks.map((block) => block.language).filter((l) => !LANGUAGES.includes(l))).toEqual([]);
  });

  it('has its sections in the order of issue #7', () => {
    const top = headings(readme).filter((heading) => heading.level <= 2);

    expect(top[0]).toEqual({ level: 1, text: 'm28-ops' });
    expect(top.slice(1).map((heading) => heading.text)).toEqual(SECTIONS);
  });

  it('has a heading for every export of the package', () => {
    const exported = exportedNames('src/index.ts');
    const documented = new Set(headings(readme).flatMap((heading) => namesIn(heading.text)));
    const missing = exported.filter((name) => !documented.has(name));

    // The parser itself: value and type exports, lists, and the schema namespace.
    expect(exported.length).toBeGreaterThan(100);
    expect(exported).toEqual(expect.arrayContaining(['createOps', 'BreakerState', 'schema']));
    expect(missing, `README headings lack: ${missing.join(', ')}`).toEqual([]);
  });

  it('runs only npm scripts that exist', () => {
    const scripts = Object.keys(
      (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: object }).scripts,
    );
    const used = of('sh').flatMap((block) =>
      [...block.code.matchAll(/^npm run (\S+)/gm)].map((match) => match[1] ?? ''),
    );

    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((script) => !scripts.includes(script))).toEqual([]);
  });

  it('has examples that type-check against the package', () => {
    const dir = mkdtempSync(join(resolve('test'), '.readme-'));
    try {
      const files = of('ts').map((block, index) => {
        const file = join(dir, `block-${index}.ts`);
        const source = block.code.replaceAll(`from 'm28-ops'`, `from '../../src/index.js'`);
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

  describe.each(backends)('runbook SQL on %s', (backend) => {
    const database = useDatabase(backend);

    it.each(of('sql').map((block, index) => [index, block.code] as const))(
      'runs block %i as m28_superadmin',
      async (_index, block) => {
        const { store } = database();
        const run = store.db.transaction(async (tx) => {
          await seed(store, tx);
          await store.query(sql`set local role m28_superadmin`, tx);
          for (const statement of statements(block)) {
            await store.query(sql.raw(statement), tx);
          }
          throw new RolledBack();
        });

        await expect(run).rejects.toBeInstanceOf(RolledBack);
      },
    );
  });
});
