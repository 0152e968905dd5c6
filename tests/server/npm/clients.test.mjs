// Real third-party clients against `spandb serve`: @influxdata/influxdb-client writes
// through /api/v2/write, @questdb/nodejs-client streams rows over the TCP line protocol
// and over HTTP /write. Every value is read back with SQL and compared.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(join(process.env.NODE_CLIENTS, 'package.json'));
const { InfluxDB, Point } = require('@influxdata/influxdb-client');
const { Sender } = require('@questdb/nodejs-client');

const TOKEN = 'node-test-token';
let server, dir, tcpPort, httpPort;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spandb-npm-'));
  server = spawn(process.env.SPANDB_BIN, ['serve', '--data', dir, '--listen', '127.0.0.1:0',
    '--http', '127.0.0.1:0', '--token', TOKEN], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((resolve, reject) => {
    let log = '';
    server.stderr.on('data', (d) => {
      log += d.toString();
      const m = /tcp=127\.0\.0\.1:(\d+) http=127\.0\.0\.1:(\d+)/.exec(log);
      if (m && !tcpPort) {
        tcpPort = Number(m[1]);
        httpPort = Number(m[2]);
        resolve();
      }
    });
    server.on('exit', (code) => reject(new Error(`spandb serve exited ${code}: ${log}`)));
  });
});

after(async () => {
  server.kill('SIGTERM');
  await new Promise((r) => server.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
});

async function sql(q) {
  const r = await fetch(`http://127.0.0.1:${httpPort}/query?format=json&q=${encodeURIComponent(q)}`,
    { headers: { Authorization: `Bearer ${TOKEN}` } });
  const body = await r.json();
  assert.equal(r.status, 200, JSON.stringify(body));
  return body;
}

// Poll until the table has n rows (a TCP sender's rows land when its connection ends).
async function waitRows(table, n) {
  for (let i = 0; i < 100; i++) {
    try {
      const r = await sql(`SELECT count(*) FROM ${table}`);
      if (r.rows[0][0] === n) return;
    } catch (e) { /* table not there yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${table} never reached ${n} rows`);
}

function expected(n, base) {
  const rows = [];
  for (let i = 0; i < n; i++) {
    rows.push({
      t: base + BigInt(i) * 1000000n,
      model: ['gpt-4o', 'claude 3', 'llama,3'][i % 3],
      dur: i * 1.25 + 0.5,
      tokens: i * 7,
      ok: i % 2 === 0,
      note: `span "${i}" \\ done`,
    });
  }
  return rows;
}

// "2023-11-14T22:16:40.001Z" -> nanoseconds since the epoch
function nsOf(iso) {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  assert.ok(m, `not an ISO time: ${iso}`);
  const sec = BigInt(Date.parse(m[1] + 'Z')) / 1000n;
  return sec * 1000000000n + BigInt((m[2] || '').padEnd(9, '0'));
}

function compare(body, rows) {
  assert.deepEqual(body.columns.map((c) => c[0]), ['time', 'model', 'dur', 'tokens', 'ok', 'note']);
  assert.equal(body.rows.length, rows.length);
  body.rows.forEach((got, i) => {
    const want = rows[i];
    assert.equal(nsOf(got[0]), want.t, `row ${i} time`);
    assert.equal(got[1], want.model, `row ${i} model`);
    assert.equal(got[2], want.dur, `row ${i} dur`);
    assert.equal(got[3], want.tokens, `row ${i} tokens`);
    assert.equal(got[4], want.ok, `row ${i} ok`);
    assert.equal(got[5], want.note, `row ${i} note`);
  });
}

test('influxdb-client writes through /api/v2/write', async () => {
  const rows = expected(300, 1700000000000000000n);
  const api = new InfluxDB({ url: `http://127.0.0.1:${httpPort}`, token: TOKEN })
    .getWriteApi('org', 'influx_spans', 'ns', { batchSize: 128, maxRetries: 0 });
  for (const r of rows) {
    api.writePoint(new Point('ignored').tag('model', r.model).floatField('dur', r.dur)
      .intField('tokens', r.tokens).booleanField('ok', r.ok).stringField('note', r.note)
      .timestamp(r.t.toString()));
  }
  await api.close();
  compare(await sql('SELECT time, model, dur, tokens, ok, note FROM influx_spans ORDER BY time'), rows);
});

async function questdb(conf, table, rows) {
  const sender = await Sender.fromConfig(conf);
  if (conf.startsWith('tcp::')) await sender.connect();
  for (const r of rows) {
    await sender.table(table).symbol('model', r.model).floatColumn('dur', r.dur)
      .intColumn('tokens', r.tokens).booleanColumn('ok', r.ok).stringColumn('note', r.note)
      .at(r.t, 'ns');
  }
  await sender.flush();
  await sender.close();
}

test('questdb nodejs-client streams over the TCP line protocol', async () => {
  const rows = expected(500, 1700000100000000000n);
  // the TCP sender cannot authenticate with a bearer token: a tokenless server is used
  const plain = spawn(process.env.SPANDB_BIN, ['serve', '--data', join(dir, 'plain'), '--listen',
    '127.0.0.1:0', '--http', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ports = await new Promise((resolve) => {
    let log = '';
    plain.stderr.on('data', (d) => {
      log += d.toString();
      const m = /tcp=127\.0\.0\.1:(\d+) http=127\.0\.0\.1:(\d+)/.exec(log);
      if (m) resolve([Number(m[1]), Number(m[2])]);
    });
  });
  try {
    await questdb(`tcp::addr=127.0.0.1:${ports[0]};protocol_version=1;auto_flush_rows=100`, 'qdb_tcp', rows);
    const q = async (s) => (await fetch(`http://127.0.0.1:${ports[1]}/query?q=${encodeURIComponent(s)}`)).json();
    for (let i = 0; i < 100; i++) {
      const c = await q('SELECT count(*) FROM qdb_tcp');
      if (c.rows && c.rows[0][0] === rows.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    compare(await q('SELECT time, model, dur, tokens, ok, note FROM qdb_tcp ORDER BY time'), rows);
  } finally {
    plain.kill('SIGTERM');
    await new Promise((r) => plain.on('exit', r));
  }
});

test('questdb nodejs-client writes over HTTP /write with a token', async () => {
  const rows = expected(400, 1700000200000000000n);
  await questdb(`http::addr=127.0.0.1:${httpPort};token=${TOKEN};protocol_version=1;auto_flush_rows=150`,
    'qdb_http', rows);
  await waitRows('qdb_http', rows.length);
  compare(await sql('SELECT time, model, dur, tokens, ok, note FROM qdb_http ORDER BY time'), rows);
});
