// The dashboard benchmark, spandb beside DuckDB on the same generated spans.
//
// For each statement of benchmarks/sql/dashboard.sql (spandb's SQL, with DuckDB's dialect in
// "-- duckdb:" comment lines): run it on spandb through `spandb bench --query NAME --format
// jsonl` (in-process timing: median of --runs after --warmup, process start-up excluded),
// then on DuckDB in this process (same warm-up and runs, wall time around runAndReadAll),
// interleaved query by query so both see the same machine load. Then compare the results
// (numbers to 1e-9 relative, sketch quantiles to 3%), print one table with the ratio
// DuckDB ms / spandb ms and the geometric means, and write it as markdown with --out.
//
// Data (made when missing, under --work): spandb-<rows>/ from `spandb gen | spandb import --compact -`,
// duckdb-<rows>.db from `spandb gen --format csv` loaded by load.mjs (read_csv with explicit
// types, TIMESTAMP_NS).
//
// usage: node run.mjs [--spandb PATH] [--work DIR] [--rows N] [--days D] [--seed S]
//                     [--runs N] [--warmup N] [--threads N] [--sql FILE] [--only NAME,...]
//                     [--query-memory BYTES (spandb's per-query bound)] [--out FILE.md]
import { DuckDBInstance } from '@duckdb/node-api';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

function parseArgs(argv) {
  const o = {
    spandb: path.join(root, 'build-release', 'tools', 'spandb'),
    work: path.join(root, 'benchmarks', 'work'),
    rows: 10000000, days: 7, seed: 1, runs: 5, warmup: 1, threads: 2,
    sql: path.join(root, 'benchmarks', 'sql', 'dashboard.sql'),
    only: null, out: null, 'query-memory': null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    const key = a.replace(/^--/, '');
    if (!a.startsWith('--') || v === undefined || !(key in o)) {
      console.error(`run.mjs: unknown or incomplete option '${a}' (see the header of run.mjs)`);
      process.exit(2);
    }
    i++;
    if (['rows', 'days', 'seed', 'runs', 'warmup', 'threads'].includes(key)) {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) {
        console.error(`run.mjs: --${key} takes a whole number, not '${v}'`);
        process.exit(2);
      }
      o[key] = n;
    } else if (key === 'query-memory') {
      o[key] = v;
    } else if (key === 'only') {
      o.only = new Set(v.split(','));
    } else {
      o[key] = path.resolve(v);
    }
  }
  if (o.runs < 1) o.runs = 1;
  return o;
}

// The statements of a benchmark file: {name, core, approx:Set, spandb, duckdb}.
export function parseBench(text) {
  const out = [];
  let cur = { name: null, core: false, approx: new Set(), duckdb: [], sql: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    const m = /^\s*--\s?(.*)$/.exec(line);
    if (m) {
      const c = m[1];
      let mm;
      if ((mm = /^name:\s*(\S+)/.exec(c))) cur.name = mm[1];
      else if (/^core\b/.test(c)) cur.core = true;
      else if ((mm = /^approx:\s*(.*)$/.exec(c))) mm[1].split(/\s+/).filter(Boolean).forEach((x) => cur.approx.add(x));
      else if ((mm = /^duckdb:\s?(.*)$/.exec(c))) cur.duckdb.push(mm[1]);
      continue;
    }
    if (line.trim() === '' && cur.sql.length === 0) continue;
    cur.sql.push(line);
    if (/;\s*$/.test(line)) {
      const sql = cur.sql.join('\n').replace(/;\s*$/, '').trim();
      out.push({
        name: cur.name ?? `q${out.length + 1}`, core: cur.core, approx: cur.approx,
        spandb: sql, duckdb: cur.duckdb.join('\n').trim() || null,
      });
      cur = { name: null, core: false, approx: new Set(), duckdb: [], sql: [] };
    }
  }
  return out;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 30, encoding: 'utf8', ...opts });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || '').slice(0, 2000)}`);
  }
  return r.stdout;
}

function ensureData(o) {
  fs.mkdirSync(o.work, { recursive: true });
  const tag = o.rows % 1000000 === 0 ? `${o.rows / 1000000}m` : String(o.rows);
  const sdir = path.join(o.work, `spandb-${tag}`);
  const ddb = path.join(o.work, `duckdb-${tag}.db`);
  const gen = ['gen', '--rows', String(o.rows), '--days', String(o.days), '--seed', String(o.seed)];
  if (!fs.existsSync(path.join(sdir, 'MANIFEST'))) {
    console.error(`making ${sdir} (spandb ${gen.join(' ')} | spandb import --compact)`);
    run('sh', ['-c', `"$0" ${gen.join(' ')} | "$0" import --compact --data "$1" -`, o.spandb, sdir],
      { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  if (!fs.existsSync(ddb)) {
    const csv = path.join(o.work, `spans-${tag}.csv`);
    console.error(`making ${ddb} from ${csv}`);
    run('sh', ['-c', `"$0" ${gen.join(' ')} --format csv > "$1"`, o.spandb, csv],
      { stdio: ['ignore', 'inherit', 'inherit'] });
    run(process.execPath, [path.join(here, 'load.mjs'), csv, ddb, String(o.threads)],
      { stdio: ['ignore', 'inherit', 'inherit'] });
    fs.rmSync(csv);
  }
  return { sdir, ddb };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const geomean = (xs) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

// Results as rows of canonical values: timestamps as ns since the epoch (string), integers
// and floats as numbers, NULL as null.
const TS = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z?$/;
function tsNs(s) {
  const m = TS.exec(s);
  if (!m) return s;
  const sec = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000;
  return (BigInt(sec) * 1000000000n + BigInt((m[7] ?? '').padEnd(9, '0'))).toString();
}
function canonSpandb(cols, rows) {
  return rows.map((r) => r.map((v) => (typeof v === 'string' && TS.test(v) ? tsNs(v) : v)));
}
function canonDuckdb(reader) {
  const types = reader.columnTypes().map(String);
  return reader.getRowsJson().map((r) => r.map((v, i) => {
    if (v === null) return null;
    const t = types[i];
    if (t.startsWith('TIMESTAMP')) return tsNs(String(v));
    if (/INT|DECIMAL/.test(t)) return Number(v);
    return v;
  }));
}

// Compare two canonical results: a string naming the first difference, or {worst}: the largest
// relative difference of an approx column. Sketch quantiles are checked against DuckDB's exact
// quantile_cont at 3%: right at 10M rows (worst ~1.1%), too tight for small groups of small
// runs (--rows 200000), whose sparse tails put neighbouring ranks more than 3% apart.
function compare(names, a, b, approx) {
  if (a.length !== b.length) return `${a.length} rows vs ${b.length}`;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < names.length; j++) {
      const x = a[i][j], y = b[i][j];
      if (x === y) continue;
      if (typeof x === 'number' && typeof y === 'number') {
        const tol = approx.has(names[j]) ? 0.03 : 1e-9;
        const rel = Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y), 1e-300);
        if (rel <= tol) { worst = Math.max(worst, approx.has(names[j]) ? rel : 0); continue; }
      }
      return `row ${i + 1} ${names[j]}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`;
    }
  }
  return { worst };
}

// FNV-1a 64 of the result with numbers to 6 significant digits, approx columns left out.
// Numbers go through 12 digits first, so two sums that differ in the last bits (summation
// order) and straddle a 6-digit rounding boundary (7.208164999999999 / 7.208165000000001)
// still print the same.
function checksum(names, rows, approx) {
  let h = 0xcbf29ce484222325n;
  const text = rows.map((r) => r.map((v, j) => {
    if (approx.has(names[j])) return '~';
    if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Number(v.toPrecision(12)).toPrecision(6);
    return JSON.stringify(v);
  }).join('|')).join('\n');
  for (const ch of Buffer.from(text)) {
    h ^= BigInt(ch);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

function fmtMs(x) {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const stmts = parseBench(fs.readFileSync(o.sql, 'utf8')).filter((s) => !o.only || o.only.has(s.name));
  for (const s of stmts) if (!s.duckdb) throw new Error(`${s.name}: no "-- duckdb:" text`);
  const { sdir, ddb } = ensureData(o);

  const inst = await DuckDBInstance.create(ddb, { access_mode: 'READ_ONLY' });
  const conn = await inst.connect();
  await conn.run(`SET threads = ${o.threads}`);
  const duckVersion = (await conn.runAndReadAll('SELECT version()')).getRows()[0][0];
  const tableRows = Number((await conn.runAndReadAll('SELECT count(*) FROM spans')).getRows()[0][0]);
  let rev = '?';
  try { rev = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
  const load0 = os.loadavg();
  const started = new Date();

  const rowsOut = [];
  for (const s of stmts) {
    const sp = JSON.parse(run(o.spandb, ['bench', '--data', sdir, '--runs', String(o.runs),
      '--warmup', String(o.warmup), '--threads', String(o.threads), '--format', 'jsonl',
      ...(o['query-memory'] ? ['--query-memory', o['query-memory']] : []),
      '--query', s.name, o.sql]).trim().split('\n').pop());
    if (sp.error) throw new Error(`spandb ${s.name}: ${sp.error}`);
    let reader = null;
    const wall = [], cpu = [];
    for (let i = 0; i < o.warmup + o.runs; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      reader = await conn.runAndReadAll(s.duckdb);
      const t1 = performance.now();
      const c1 = process.cpuUsage(c0);
      if (i >= o.warmup) { wall.push(t1 - t0); cpu.push((c1.user + c1.system) / 1000); }
    }
    const names = sp.columns;
    const a = canonSpandb(names, sp.rows), b = canonDuckdb(reader);
    const cmp = compare(names, a, b, s.approx);
    const r = {
      name: s.name, core: s.core,
      sp_ms: sp.median_ms, sp_min: sp.min_ms, sp_cpu: sp.cpu_ms, scanned: sp.rows_scanned,
      dk_ms: median(wall), dk_min: Math.min(...wall), dk_cpu: median(cpu),
      same: typeof cmp === 'string' ? `NO: ${cmp}` : (s.approx.size ? `yes (~${(cmp.worst * 100).toFixed(2)}%)` : 'yes'),
      sum_sp: checksum(names, a, s.approx), sum_dk: checksum(names, b, s.approx), rows: a.length,
    };
    r.ratio = r.dk_ms / Math.max(r.sp_ms, 0.001);
    r.min_ratio = r.dk_min / Math.max(r.sp_min, 0.001);
    r.cpu_ratio = r.dk_cpu / Math.max(r.sp_cpu, 0.001);
    rowsOut.push(r);
    console.error(`${s.name}: spandb ${fmtMs(r.sp_ms)} ms, duckdb ${fmtMs(r.dk_ms)} ms, ${r.ratio.toFixed(2)}x, same: ${r.same}`);
  }
  conn.closeSync();
  inst.closeSync();
  const load1 = os.loadavg();

  const lines = [];
  const cpuModel = os.cpus()[0]?.model ?? '?';
  lines.push(`# Dashboard queries: spandb vs DuckDB, ${tableRows.toLocaleString('en-US')} spans`);
  lines.push('');
  lines.push(`- ${started.toISOString()}; spandb ${rev} (release build), ${duckVersion} via @duckdb/node-api; both ${o.threads} threads`);
  lines.push(`- machine: ${os.cpus().length} x ${cpuModel}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; load average ${load0[0].toFixed(2)} at start, ${load1[0].toFixed(2)} at end (shared machine: wall times are noisy, CPU times less so)`);
  lines.push(`- data: \`spandb gen --rows ${o.rows} --days ${o.days} --seed ${o.seed}\`; spandb imported the line protocol, DuckDB loaded the CSV (explicit types, TIMESTAMP_NS) into a database file`);
  lines.push(`- each query: ${o.warmup} warm-up run(s), then the median of ${o.runs}; spandb timed in-process by \`spandb bench\` (parse + plan + execute), DuckDB by runAndReadAll in Node; interleaved query by query`);
  lines.push(`- ratio = DuckDB ms / spandb ms of the medians (> 1: spandb faster); min ratio: of the fastest runs (least disturbed by other processes); CPU ratio: of the median CPU times (user + system, all threads); "same": results equal (numbers to 1e-9, sketch quantiles within 3%: worst difference shown); checksums: FNV-1a of the results, numbers to 6 digits, sketch columns left out`);
  lines.push('');
  lines.push('| query | spandb ms | min | CPU ms | rows scanned | Mrows/s | DuckDB ms | min | CPU ms | ratio | min ratio | CPU ratio | same | rows | checksum spandb / DuckDB |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|');
  for (const r of rowsOut) {
    const mrows = r.sp_ms > 0 ? r.scanned / r.sp_ms / 1000 : 0;
    lines.push(`| ${r.name}${r.core ? '' : ' (extra)'} | ${fmtMs(r.sp_ms)} | ${fmtMs(r.sp_min)} | ${fmtMs(r.sp_cpu)} | ${r.scanned.toLocaleString('en-US')} | ${mrows.toFixed(1)} | ${fmtMs(r.dk_ms)} | ${fmtMs(r.dk_min)} | ${fmtMs(r.dk_cpu)} | ${r.ratio.toFixed(2)} | ${r.min_ratio.toFixed(2)} | ${r.cpu_ratio.toFixed(2)} | ${r.same} | ${r.rows} | ${r.sum_sp}${r.sum_sp === r.sum_dk ? ' (equal)' : ' / ' + r.sum_dk} |`);
  }
  const core = rowsOut.filter((r) => r.core);
  const coreNoCount = core.filter((r) => r.name !== 'q01_count');
  const g = (rs, k) => (rs.length ? geomean(rs.map((r) => r[k])).toFixed(2) : '-');
  lines.push('');
  lines.push(`Geometric mean of the ratio (DuckDB ms / spandb ms): core queries ${g(core, 'ratio')}x (without q01_count, answered from block statistics: ${g(coreNoCount, 'ratio')}x); all ${rowsOut.length}: ${g(rowsOut, 'ratio')}x. By the fastest run: core ${g(core, 'min_ratio')}x (without q01 ${g(coreNoCount, 'min_ratio')}x), all ${g(rowsOut, 'min_ratio')}x. By CPU time: core ${g(core, 'cpu_ratio')}x (without q01 ${g(coreNoCount, 'cpu_ratio')}x), all ${g(rowsOut, 'cpu_ratio')}x.`);
  const slower = rowsOut.filter((r) => r.ratio < 1).map((r) => `${r.name} (${r.ratio.toFixed(2)}x)`);
  lines.push(`Queries where DuckDB was faster: ${slower.length ? slower.join(', ') : 'none'}. Results differ: ${rowsOut.filter((r) => !r.same.startsWith('yes')).map((r) => r.name).join(', ') || 'none'}.`);
  const text = lines.join('\n') + '\n';
  process.stdout.write(text);
  if (o.out) fs.writeFileSync(o.out, text);
}

await main();
