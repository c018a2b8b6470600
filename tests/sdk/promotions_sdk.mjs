// Drives a running server through the Elastic Path JavaScript SDK's Promotions endpoint.
//
// Environment: PROMOFORGE_SDK_HOST (host:port, e.g. 127.0.0.1:8123), PROMOFORGE_SDK_CLIENT_ID,
// PROMOFORGE_SDK_CLIENT_SECRET and optionally PROMOFORGE_SDK_DEADLINE_SECONDS (how long to wait for a job).
// On success prints one JSON line {"ok": true, "calls": [...]} and exits 0; on failure prints the error and
// exits 1. The store must have no promotions yet (each run of the test creates a new one).

import assert from 'node:assert/strict';
import process from 'node:process';

import { MemoryStorageFactory, gateway } from '@elasticpath/js-sdk';

const host = requireEnv('PROMOFORGE_SDK_HOST');
const clientId = requireEnv('PROMOFORGE_SDK_CLIENT_ID');
const clientSecret = requireEnv('PROMOFORGE_SDK_CLIENT_SECRET');
const jobDeadlineMs = Number(process.env.PROMOFORGE_SDK_DEADLINE_SECONDS ?? '15') * 1000;

const CSV_HEADER = 'code,uses,max_uses,consume_unit,user,created_by,created_at';
const GENERATED = 25;
// Prefix, then 8 random characters in groups of four, from the service's look-alike-free alphabet.
const GENERATED_CODE = /^sdk-[23456789abcdefghjkmnpqrstuvwxyz]{4}-[23456789abcdefghjkmnpqrstuvwxyz]{4}$/;

// One token store for every client built below, so the SDK authenticates once.
const storage = new MemoryStorageFactory();
const calls = [];

function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

// The SDK keeps Filter/Limit/Offset on the endpoint object and, for History and PromotionJobs, never clears
// them; a fresh endpoint per call keeps one call's query from leaking into the next.
function promotions() {
  const client = gateway({
    client_id: clientId,
    client_secret: clientSecret,
    host,
    protocol: 'http',
    storage,
    disableCart: true,
  });
  return client.Promotions;
}

// Runs one SDK call and records its name.
async function call(name, run) {
  const result = await run(promotions());
  calls.push(name);
  return result;
}

// Expects an SDK call to reject with an EP error document of the given HTTP status.
async function rejects(name, status, run) {
  let error = null;
  try {
    await run(promotions());
  } catch (caught) {
    error = caught;
  }
  assert.ok(error, `${name} should have failed with ${status}`);
  assert.ok(Array.isArray(error.errors), `${name}: errors array expected, got ${describe(error)}`);
  assert.equal(Number(error.errors[0].status), status, describe(error));
  calls.push(`${name} (rejected ${status})`);
  return error;
}

function describe(value) {
  if (value instanceof Error) {
    return value.stack ?? String(value);
  }
  return JSON.stringify(value);
}

function sleep(ms) {
  return new Promise((resolve) => {
    setTimeout(resolve, ms);
  });
}

// Polls PromotionJobs until the job leaves pending/processing or the deadline passes.
async function waitForJob(promotionId, jobId) {
  const deadline = Date.now() + jobDeadlineMs;
  let delay = 50;
  for (;;) {
    const page = await promotions().PromotionJobs(promotionId);
    const job = page.data.find((item) => item.id === jobId);
    assert.ok(job, `job ${jobId} missing from ${describe(page)}`);
    if (!['pending', 'processing'].includes(job.status)) {
      calls.push('PromotionJobs (polled)');
      return job;
    }
    if (Date.now() > deadline) {
      throw new Error(`job ${jobId} still ${job.status} after ${jobDeadlineMs} ms: ${describe(job)}`);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 400);
  }
}

// Parses RFC 4180 CSV text into rows of fields.
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') {
        quoted = false;
      } else {
        field += char;
      }
    } else if (char === '"') {
      quoted = true;
    } else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') {
        i += 1;
      }
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += char;
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return { header: rows[0].join(','), rows: rows.slice(1) };
}

async function main() {
  // Attributes: the promotion's fields, with which of them are required.
  const attributes = await call('Attributes', (p) => p.Attributes());
  const required = attributes.data.filter((a) => a.required).map((a) => a.value);
  assert.ok(required.includes('promotion_type') && required.includes('schema'), describe(attributes));

  // Create: date-only start and "YYYY-MM-DD HH:MM" end come back as RFC 3339 UTC.
  const created = await call('Create', (p) =>
    p.Create({
      name: 'SDK promotion',
      description: '$5 off the cart',
      enabled: true,
      automatic: false,
      promotion_type: 'fixed_discount',
      schema: { currencies: [{ currency: 'USD', amount: 500 }] },
      min_cart_value: [{ currency: 'USD', amount: 1000 }],
      start: '2024-01-01',
      end: '2099-12-31 18:30',
    }),
  );
  const promotion = created.data;
  assert.equal(promotion.type, 'promotion');
  assert.match(promotion.id, /^[0-9a-f-]{36}$/);
  assert.equal(promotion.start, '2024-01-01T00:00:00Z');
  assert.equal(promotion.end, '2099-12-31T18:30:00Z');
  assert.deepEqual(promotion.min_cart_value, [{ currency: 'USD', amount: 1000 }]);
  const id = promotion.id;

  const other = await call('Create (second promotion)', (p) =>
    p.Create({
      name: 'SDK other promotion',
      description: '10% off',
      enabled: false,
      automatic: false,
      promotion_type: 'percent_discount',
      schema: { currencies: [{ currency: 'USD', percentage: 10 }] },
      start: '2024-01-01T00:00:00Z',
      end: '2099-01-01T00:00:00Z',
    }),
  );
  const otherId = other.data.id;

  const fetched = await call('Get', (p) => p.Get(id));
  assert.equal(fetched.data.id, id);
  assert.equal(fetched.data.name, 'SDK promotion');
  assert.equal(fetched.data.promotion_type, 'fixed_discount');

  // AddCodes answers with the promotion, not the codes.
  const added = await call('AddCodes', (p) =>
    p.AddCodes(id, [
      { code: 'SDK-Alpha', uses: 3 },
      { code: 'sdk-beta', consume_unit: 'per_item' },
      { code: 'SDK-Gamma' },
      { code: 'SDK-Delta', uses: 1 },
    ]),
  );
  assert.equal(added.data.type, 'promotion');
  assert.equal(added.data.id, id);

  // All: paging and the eq(code,...) filter, which matches codes case-insensitively.
  const everything = await call('All', (p) => p.All());
  const listedIds = everything.data.map((item) => item.id).sort();
  assert.deepEqual(listedIds, [id, otherId].sort());
  assert.equal(everything.meta.results.total, 2);

  const secondPage = await call('All.Limit.Offset', (p) => p.Limit(1).Offset(1).All());
  assert.equal(secondPage.data.length, 1);
  assert.equal(secondPage.meta.page.limit, 1);
  assert.equal(secondPage.meta.page.offset, 1);
  assert.equal(secondPage.meta.results.total, 2);
  const firstPage = await call('All.Limit', (p) => p.Limit(1).All());
  assert.equal(firstPage.data.length, 1);
  assert.notEqual(firstPage.data[0].id, secondPage.data[0].id);

  const owner = await call('All.Filter(eq code)', (p) => p.Filter({ eq: { code: 'sdk-alpha' } }).All());
  assert.deepEqual(
    owner.data.map((item) => item.id),
    [id],
  );
  const nobody = await call('All.Filter(eq code, unknown)', (p) =>
    p.Filter({ eq: { code: 'no-such-code' } }).All(),
  );
  assert.equal(nobody.data.length, 0);
  assert.equal(nobody.meta.results.total, 0);

  // Update is partial: only the name changes.
  const updated = await call('Update', (p) => p.Update(id, { name: 'SDK promotion v2' }));
  assert.equal(updated.data.id, id);
  assert.equal(updated.data.name, 'SDK promotion v2');
  assert.equal(updated.data.description, '$5 off the cart');
  assert.equal(updated.data.start, '2024-01-01T00:00:00Z');
  assert.equal(updated.data.end, '2099-12-31T18:30:00Z');

  const history = await call('History', (p) => p.History(id));
  assert.equal(history.data.length, 2);
  assert.equal(history.meta.results.total, 2);
  assert.deepEqual(
    history.data.map((version) => [version.name, version.current]),
    [
      ['SDK promotion v2', true],
      ['SDK promotion', false],
    ],
  );
  for (const version of history.data) {
    assert.equal(version.type, 'promotion');
    assert.equal(version.parent_id, id);
  }
  const newest = await call('History.Limit', (p) => p.Limit(1).History(id));
  assert.equal(newest.data.length, 1);
  assert.equal(newest.data[0].name, 'SDK promotion v2');
  assert.equal(newest.meta.results.total, 2);
  const oldest = await call('History.Limit.Offset', (p) => p.Limit(1).Offset(1).History(id));
  assert.equal(oldest.data.length, 1);
  assert.equal(oldest.data[0].name, 'SDK promotion');
  assert.equal(oldest.data[0].current, false);

  // Codes: `max_uses` is the limit, `uses` what is left; unlimited codes carry neither.
  const codes = await call('Codes', (p) => p.Codes(id));
  assert.equal(codes.meta.results.total, 4);
  const byCode = new Map(codes.data.map((item) => [item.code, item]));
  assert.deepEqual([...byCode.keys()].sort(), ['SDK-Alpha', 'SDK-Delta', 'SDK-Gamma', 'sdk-beta']);
  for (const item of codes.data) {
    assert.equal(item.type, 'promotion_codes');
    assert.match(item.id, /^[0-9a-f-]{36}$/);
    assert.ok(item.meta.timestamps.created_at, describe(item));
  }
  const alpha = byCode.get('SDK-Alpha');
  assert.equal(alpha.uses, 3);
  assert.equal(alpha.max_uses, 3);
  assert.equal(alpha.consume_unit, 'per_cart');
  const beta = byCode.get('sdk-beta');
  assert.equal(beta.uses ?? null, null);
  assert.equal(beta.max_uses ?? null, null);
  assert.equal(beta.consume_unit, 'per_item');
  assert.equal(byCode.get('SDK-Delta').max_uses, 1);

  const found = await call('Codes.Filter(eq code)', (p) => p.Filter({ eq: { code: 'SDK-BETA' } }).Codes(id));
  assert.equal(found.data.length, 1);
  assert.equal(found.data[0].code, 'sdk-beta');
  assert.equal(found.meta.results.total, 1);

  const paged = await call('Codes.Limit.Offset', (p) => p.Limit(3).Offset(3).Codes(id));
  assert.equal(paged.data.length, 1);
  assert.equal(paged.meta.results.total, 4);

  // DeleteCode by the code's id, DeleteCodes by text (unknown codes are ignored).
  await call('DeleteCode', (p) => p.DeleteCode(id, byCode.get('SDK-Gamma').id));
  await call('DeleteCodes', (p) => p.DeleteCodes(id, [{ code: 'sdk-delta' }, { code: 'never-existed' }]));
  const remaining = await call('Codes (after deletes)', (p) => p.Codes(id));
  assert.deepEqual(remaining.data.map((item) => item.code).sort(), ['SDK-Alpha', 'sdk-beta']);
  await rejects('DeleteCode (already deleted)', 404, (p) => p.DeleteCode(id, byCode.get('SDK-Gamma').id));

  // AddCodesJob code_generate, then PromotionJobs until it has finished.
  const generate = await call('AddCodesJob (code_generate)', (p) =>
    p.AddCodesJob(id, {
      type: 'promotion_job',
      job_type: 'code_generate',
      name: 'SDK generation',
      parameters: { number_of_codes: GENERATED, code_prefix: 'sdk' },
    }),
  );
  assert.equal(generate.data.type, 'promotion_job');
  assert.equal(generate.data.job_type, 'code_generate');
  assert.equal(generate.data.promotion_id, id);
  assert.equal(generate.data.name, 'SDK generation');
  assert.equal(generate.data.parameters.number_of_codes, GENERATED);
  assert.ok(['pending', 'processing'].includes(generate.data.status), describe(generate));
  const generated = await waitForJob(id, generate.data.id);
  assert.equal(generated.status, 'completed', describe(generated));
  assert.equal(generated.result.generated, GENERATED);

  const allCodes = await call('Codes.Limit (after generation)', (p) => p.Limit(100).Codes(id));
  assert.equal(allCodes.meta.results.total, GENERATED + 2);
  assert.equal(allCodes.data.length, GENERATED + 2);
  const generatedCodes = allCodes.data.map((item) => item.code).filter((code) => code.startsWith('sdk-'));
  assert.equal(generatedCodes.length, GENERATED + 1, 'sdk-beta plus the generated codes');
  for (const code of generatedCodes.filter((text) => text !== 'sdk-beta')) {
    assert.match(code, GENERATED_CODE);
  }
  const aGenerated = generatedCodes.find((text) => text !== 'sdk-beta');
  const ownerOfGenerated = await call('All.Filter(eq code, generated)', (p) =>
    p.Filter({ eq: { code: aGenerated.toUpperCase() } }).All(),
  );
  assert.deepEqual(
    ownerOfGenerated.data.map((item) => item.id),
    [id],
  );

  // AddCodesJob code_export, then GetCodeExportFile and the CSV behind its href.
  const exportJob = await call('AddCodesJob (code_export)', (p) =>
    p.AddCodesJob(id, { type: 'promotion_job', job_type: 'code_export' }),
  );
  assert.equal(exportJob.data.job_type, 'code_export');
  const exported = await waitForJob(id, exportJob.data.id);
  assert.equal(exported.status, 'completed', describe(exported));
  assert.equal(exported.parameters, undefined, 'export jobs carry no parameters');
  assert.equal(exported.result, undefined, 'export jobs carry no result');

  const file = await call('GetCodeExportFile', (p) => p.GetCodeExportFile(id, exportJob.data.id));
  assert.equal(typeof file.href, 'string', describe(file));
  assert.deepEqual(Object.keys(file), ['href']);
  const download = await fetch(file.href);
  assert.equal(download.status, 200);
  assert.match(download.headers.get('content-type') ?? '', /^text\/csv/);
  const csv = parseCsv(await download.text());
  assert.equal(csv.header, CSV_HEADER);
  assert.equal(csv.rows.length, GENERATED + 2);
  assert.deepEqual(
    csv.rows.map((row) => row[0]).sort(),
    allCodes.data.map((item) => item.code).sort(),
  );
  const alphaRow = csv.rows.find((row) => row[0] === 'SDK-Alpha');
  assert.deepEqual(alphaRow.slice(1, 4), ['3', '3', 'per_cart']);
  calls.push('GET export href');

  // PromotionJobs: unfiltered, then filtered by job_type and by status.
  const jobs = await call('PromotionJobs', (p) => p.PromotionJobs(id));
  assert.deepEqual(
    jobs.data.map((job) => job.id),
    [exportJob.data.id, generate.data.id],
    'jobs are listed newest first',
  );
  assert.equal(jobs.meta.results.total, 2);
  const generateJobs = await call('PromotionJobs.Filter(eq job_type)', (p) =>
    p.Filter({ eq: { job_type: 'code_generate' } }).PromotionJobs(id),
  );
  assert.deepEqual(
    generateJobs.data.map((job) => [job.id, job.job_type]),
    [[generate.data.id, 'code_generate']],
  );
  assert.equal(generateJobs.meta.results.total, 1);
  const exportJobs = await call('PromotionJobs.Filter(eq job_type, status)', (p) =>
    p.Filter({ eq: { job_type: 'code_export', status: 'completed' } }).PromotionJobs(id),
  );
  assert.deepEqual(
    exportJobs.data.map((job) => job.id),
    [exportJob.data.id],
  );
  const failedJobs = await call('PromotionJobs.Filter(eq status)', (p) =>
    p.Filter({ eq: { status: 'failed' } }).PromotionJobs(id),
  );
  assert.equal(failedJobs.data.length, 0);

  // Delete, then Get rejects with a 404 errors array.
  await call('Delete', (p) => p.Delete(id));
  const missing = await rejects('Get (deleted)', 404, (p) => p.Get(id));
  assert.equal(typeof missing.errors[0].title, 'string');
  await rejects('Codes (deleted promotion)', 404, (p) => p.Codes(id));
  await call('Delete (second promotion)', (p) => p.Delete(otherId));
  const none = await call('All (after deletes)', (p) => p.All());
  assert.equal(none.data.length, 0);

  process.stdout.write(`${JSON.stringify({ ok: true, calls })}\n`);
}

main().catch((error) => {
  process.stderr.write(`SDK run failed after ${JSON.stringify(calls)}:\n${describe(error)}\n`);
  if (error && error.actual !== undefined) {
    process.stderr.write(`actual: ${describe(error.actual)}\nexpected: ${describe(error.expected)}\n`);
  }
  process.exit(1);
});
