// Loads generated spans from CSV into a DuckDB database file (benchmarks/sql/duckdb_load.sql),
// then CHECKPOINTs so the file holds everything. Usage: node load.mjs CSV DB [threads]
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [csv, db, threads = '2'] = process.argv.slice(2);
if (!csv || !db) {
  console.error('usage: node load.mjs CSV DB [threads]');
  process.exit(2);
}
const sql = fs.readFileSync(path.join(here, '..', 'sql', 'duckdb_load.sql'), 'utf8')
  .replaceAll('${CSV}', csv.replaceAll("'", "''"));
const inst = await DuckDBInstance.create(db);
const c = await inst.connect();
await c.run(`SET threads = ${Number(threads)}`);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
await c.run(sql);
await c.run('CHECKPOINT');
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const rows = Number((await c.runAndReadAll('SELECT count(*) FROM spans')).getRows()[0][0]);
c.closeSync();
inst.closeSync();
const bytes = fs.statSync(db).size;
const out = { rows, ms, cpu_ms: (cpu.user + cpu.system) / 1000, bytes, bytes_per_row: bytes / rows };
console.log(JSON.stringify(out));
