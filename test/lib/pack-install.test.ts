import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, stopAllRedis } from '../helpers/redis-server.js';

/**
 * The package as a library: `npm pack` ships a .d.ts for every entry of package.json "exports";
 * the tarball installs into an empty folder without the network (the dependencies it needs are
 * copied into that folder's node_modules from this checkout first, so npm finds them satisfied;
 * --ignore-scripts, and copies rather than links, so nothing here is touched); then every entry
 * point is imported from JavaScript (node) and TypeScript (tsc), and the README's two examples are
 * compiled and run against a fixture RDB and a real redis-server.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string>; exports: Record<string, string | { types: string; import: string }> };
const ENTRIES = Object.entries(PKG.exports).filter((e): e is [string, { types: string; import: string }] => typeof e[1] === 'object');
const work = mkdtempSync(join(tmpdir(), 'tsredis-pack-'));
const app = join(work, 'app');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

function sh(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, npm_config_update_notifier: 'false' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The packages the dependencies need, transitively, as this checkout's node_modules resolves them. */
function dependencyClosure(): string[] {
  const seen = new Set<string>();
  const queue = Object.keys(PKG.dependencies);
  while (queue.length > 0) {
    const name = queue.pop()!;
    const pj = join(ROOT, 'node_modules', name, 'package.json');
    if (seen.has(name) || !existsSync(pj)) continue;
    seen.add(name);
    const d = JSON.parse(readFileSync(pj, 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    queue.push(...Object.keys(d.dependencies ?? {}), ...Object.keys(d.optionalDependencies ?? {}));
  }
  return [...seen];
}

/** The code block under `<!-- example: name -->` in README.md. */
function readmeExample(name: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = new RegExp(`<!-- example: ${name} -->\\n\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!m) throw new Error(`README.md has no example "${name}"`);
  return m[1]!;
}

let tarball = '';
beforeAll(() => {
  const r = sh('npm', ['pack', '--pack-destination', work, '--json'], ROOT);
  expect(r.code, r.err).toBe(0);
  tarball = join(work, (JSON.parse(r.out) as Array<{ filename: string }>)[0]!.filename);
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
  copyModules(dependencyClosure());
}, 120_000);

/** Copies packages of this checkout's node_modules into the app's (copies: npm must not touch ours). */
function copyModules(names: string[]): void {
  for (const dep of names) {
    const from = join(ROOT, 'node_modules', dep);
    if (!existsSync(from)) continue;
    mkdirSync(dirname(join(app, 'node_modules', dep)), { recursive: true });
    cpSync(from, join(app, 'node_modules', dep), { recursive: true, verbatimSymlinks: true });
  }
}
afterAll(async () => {
  await stopAllRedis();
  rmSync(work, { recursive: true, force: true });
});

describe('the packed library', () => {
  it('ships a .d.ts and the module of every entry of "exports"', () => {
    const r = sh('npm', ['pack', '--dry-run', '--json'], ROOT);
    expect(r.code, r.err).toBe(0);
    const files = new Set((JSON.parse(r.out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path));
    expect(ENTRIES.map(([k]) => k).sort()).toEqual(['.', './aof', './backup-store', './dump', './rdb', './replica', './resp']);
    for (const [entry, t] of ENTRIES) {
      expect(files.has(t.types.replace(/^\.\//, '')), `${entry}: ${t.types}`).toBe(true);
      expect(files.has(t.import.replace(/^\.\//, '')), `${entry}: ${t.import}`).toBe(true);
    }
    expect([...files].some((f) => f.startsWith('test/') || f.startsWith('src/'))).toBe(false);
  });

  it('installs from the tarball into an empty folder without the network', () => {
    const r = sh('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', '--ignore-scripts', tarball], app);
    expect(r.code, r.err + r.out).toBe(0);
    expect(existsSync(join(app, 'node_modules/tsredis-ops/dist/lib/rdb.d.ts'))).toBe(true);
    expect(JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')).dependencies['tsredis-ops']).toMatch(/\.tgz$/);
  }, 120_000);

  it('every entry point imports from JavaScript', () => {
    const probes: Record<string, string[]> = {
      'tsredis-ops': ['readRdb', 'RdbDecoder', 'readAof', 'RespReader', 'encodeDump', 'followMaster'],
      'tsredis-ops/rdb': ['readRdb', 'RdbDecoder', 'RdbWriter', 'writeRdbFile', 'ByteSource', 'crc64', 'FormatError', 'NewerVersionError'],
      'tsredis-ops/aof': ['readAof', 'scanAofResp', 'AofWriter', 'parseManifest'],
      'tsredis-ops/resp': ['RespReader', 'parseOne', 'encodeCommand'],
      'tsredis-ops/dump': ['encodeDump', 'decodeDump'],
      'tsredis-ops/replica': ['followMaster', 'Replica', 'parseRedisUrl'],
      'tsredis-ops/backup-store': ['openStore', 'LocalStore'],
    };
    const js = Object.entries(probes)
      .map(([m, names], i) => `import * as m${i} from '${m}';\nfor (const n of ${JSON.stringify(names)}) if (typeof m${i}[n] !== 'function') throw new Error('${m}: ' + n + ' is ' + typeof m${i}[n]);`)
      .join('\n');
    writeFileSync(join(app, 'check.mjs'), `${js}\nconsole.log('imported ${Object.keys(probes).length} entry points');\n`);
    const r = sh(process.execPath, ['check.mjs'], app);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('imported 7 entry points');
  });

  it('every entry point typechecks from TypeScript, and the README examples compile', () => {
    writeFileSync(
      join(app, 'check.ts'),
      `import { readRdb, RdbDecoder, ByteSource, type RdbRecord, type RedisValue, type ArrayValue, type ReadRdbOptions } from 'tsredis-ops/rdb';
import { readAof, AofWriter, type AofItem } from 'tsredis-ops/aof';
import { RespReader, encodeCommand, type RespValue } from 'tsredis-ops/resp';
import { encodeDump, decodeDump, type DecodedDump } from 'tsredis-ops/dump';
import { followMaster, Replica, type FollowOptions, type ReplicaOptions } from 'tsredis-ops/replica';
import { openStore, type BackupStore, type ObjectInfo } from 'tsredis-ops/backup-store';
import * as all from 'tsredis-ops';
const opts: ReadRdbOptions = { allowNewer: true };
export async function keys(path: string): Promise<number> {
  let n = 0;
  for await (const r of readRdb(ByteSource.fromFile(path), opts)) if ((r satisfies RdbRecord).kind === 'key') n++;
  return n;
}
export const v: RedisValue = { type: 'string', value: Buffer.from('x') };
export const a: ArrayValue = { insertIdx: null, elements: [{ index: 0n, tag: 0, value: Buffer.from('y') }] };
export const payload: Buffer = encodeDump(v, 10);
export const decoded: Promise<DecodedDump> = decodeDump(payload);
export const frame: Buffer = encodeCommand(['SET', 'k', 1]);
export type T = [AofItem, RespValue, FollowOptions, ReplicaOptions, BackupStore, ObjectInfo, typeof RdbDecoder, typeof AofWriter, typeof RespReader, typeof Replica];
export const fns = [readAof, followMaster, openStore, all.readRdb, all.decodeDump] as const;
`,
    );
    // Node's types for the compiler (a dev dependency of the app; npm install pruned what it did not declare).
    copyModules(['@types/node', 'undici-types']);
    mkdirSync(join(app, 'examples'), { recursive: true });
    writeFileSync(join(app, 'examples/stream-keys.ts'), readmeExample('stream-keys'));
    writeFileSync(join(app, 'examples/follow-master.ts'), readmeExample('follow-master'));
    const base = { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: ['node'], skipLibCheck: false };
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...base, noEmit: true }, files: ['check.ts'] }));
    const check = sh(process.execPath, [TSC, '-p', 'tsconfig.json'], app);
    expect(check.code, check.out + check.err).toBe(0);
    writeFileSync(join(app, 'tsconfig.examples.json'), JSON.stringify({ compilerOptions: { ...base, outDir: 'out' }, include: ['examples/*.ts'] }));
    const build = sh(process.execPath, [TSC, '-p', 'tsconfig.examples.json'], app);
    expect(build.code, build.out + build.err).toBe(0);
    expect(existsSync(join(app, 'out/stream-keys.js'))).toBe(true);
  }, 120_000);

  it('README example: stream the keys of an RDB', () => {
    const r = sh(process.execPath, ['out/stream-keys.js', join(ROOT, 'fixtures/rdb-new/hash_template_v15.rdb')], app);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(['0 user:1 hash', '0 user:2 hash', '0 geo:1 hash', '0 self:lp hash', '0 self:arr hash', ''].join('\n'));
  });

  it('README example: follow a master\'s write stream (real redis-server), stopped by SIGINT', async () => {
    // No 5 s wait before a diskless transfer (the default would only slow the test).
    const master = await startRedis({ config: { 'repl-diskless-sync-delay': 0 } });
    const c = await master.client();
    await c.call('SET', 'before', '1');
    const child = spawn(process.execPath, ['out/follow-master.js'], { cwd: app, env: { ...process.env, REDIS_URL: master.url } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // The replica is online once the master lists it; then the writes reach it.
    for (let i = 0; i < 200 && !/connected_slaves:1/.test(String(await c.call('INFO', 'replication'))); i++) await new Promise((r) => setTimeout(r, 50));
    await c.call('SELECT', '3');
    await c.call('SET', 'k', 'v one');
    await c.call('HSET', 'h', 'f', 'x');
    for (let i = 0; i < 200 && !out.includes('3 HSET h f x'); i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    expect(await exited, err).toBe(0);
    expect(out).toContain('3 SET k v one\n');
    expect(out).toContain('3 HSET h f x\n');
    expect(out).not.toContain('before');
    c.close();
  }, 60_000);
});
