// Drives a running server through the Elastic Path JavaScript SDK's Integrations endpoint (integrations.md
// §2, W1-W9).
//
// Environment: PROMOFORGE_SDK_HOST (host:port), PROMOFORGE_SDK_CLIENT_ID, PROMOFORGE_SDK_CLIENT_SECRET and
// optionally PROMOFORGE_SDK_DEADLINE_SECONDS (how long to wait for the server's first delivery attempt).
// The store must have no integrations yet. The receiver's host is under `.invalid` (RFC 6761), which never
// resolves: it is accepted at save, and every delivery attempt fails without anything leaving the machine.
// On success prints one JSON line {"ok": true, "calls": [...], "results": {...}} and exits 0; on failure
// prints the error and exits 1.

import assert from 'node:assert/strict';
import process from 'node:process';

import { MemoryStorageFactory, gateway } from '@elasticpath/js-sdk';

const host = requireEnv('PROMOFORGE_SDK_HOST');
const clientId = requireEnv('PROMOFORGE_SDK_CLIENT_ID');
const clientSecret = requireEnv('PROMOFORGE_SDK_CLIENT_SECRET');
const attemptDeadlineMs = Number(process.env.PROMOFORGE_SDK_DEADLINE_SECONDS ?? '15') * 1000;

const RECEIVER = 'https://hooks.example.invalid/in';
const LOG_PAGE = 100;
// The attempt fails before anything is sent: the name does not resolve (or the resolver never answers).
const UNREACHABLE =
  /^(Could not connect: hooks\.example\.invalid does not resolve|No response within 10 seconds)/;

// A back end (client_credentials) and a storefront (implicit) client keep their tokens apart: the SDK
// would otherwise reuse one for the other, as both have the same client_id.
const adminStorage = new MemoryStorageFactory();
const shopStorage = new MemoryStorageFactory();
const calls = [];
// What each SDK call answered, summarised, for the test's report.
const results = {};
// The HTTP status of the last response the SDK received: the SDK resolves with the body only.
let lastStatus = null;

async function recordingFetch(url, init) {
  const response = await fetch(url, init);
  lastStatus = response.status;
  return response;
}

function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

function admin() {
  return gateway({
    client_id: clientId,
    client_secret: clientSecret,
    host,
    protocol: 'http',
    storage: adminStorage,
    disableCart: true,
    custom_fetch: recordingFetch,
  }).Integrations;
}

// A storefront: an implicit token only.
function shop() {
  return gateway({
    client_id: clientId,
    host,
    protocol: 'http',
    storage: shopStorage,
    disableCart: true,
    custom_fetch: recordingFetch,
  }).Integrations;
}

// Runs one SDK call on a fresh endpoint, checks the HTTP status and records the call's name.
async function call(name, status, run, client = admin) {
  const result = await run(client());
  assert.equal(lastStatus, status, `${name}: HTTP ${lastStatus}, expected ${status}: ${describe(result)}`);
  calls.push(name);
  return result;
}

async function rejects(name, status, run, client = admin) {
  let error = null;
  try {
    await run(client());
  } catch (caught) {
    error = caught;
  }
  assert.ok(error, `${name} should have failed with ${status}`);
  assert.ok(Array.isArray(error.errors), `${name}: errors array expected, got ${describe(error)}`);
  assert.equal(lastStatus, status, describe(error));
  assert.equal(Number(error.errors[0].status), status, describe(error));
  calls.push(`${name} (rejected ${status})`);
  results[name] = { status, error: error.errors[0] };
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

// The D-I10 envelope of W6-W9: flat meta, meta.page, meta.results, top-level results and links, 100 a page.
function assertLogEnvelope(name, page, total) {
  assert.ok(Array.isArray(page.data), `${name}: data array expected: ${describe(page)}`);
  assert.equal(page.meta.limit, LOG_PAGE, describe(page));
  assert.equal(page.meta.offset, 0);
  assert.equal(page.meta.page.limit, LOG_PAGE);
  assert.equal(page.meta.page.offset, 0);
  assert.equal(page.meta.results.total, total, describe(page));
  assert.equal(page.results.total, total, describe(page));
  assert.equal(page.data.length, total);
  assert.match(page.links.current, new RegExp(`page\\[limit\\]=${LOG_PAGE}`));
  assert.equal(page.links.next, null);
}

// A failed first attempt at the unreachable receiver, as W6, W7 and W9 show it (§4.8).
function assertFailedAttempt(log, integrationId, jobId) {
  assert.equal(log.type, 'integration-log');
  assert.match(log.id, /^[0-9a-f-]{36}$/);
  assert.equal(log.succeeded, false);
  assert.equal(log.attempt, 1);
  assert.equal(log.status_code, 0, 'no HTTP response');
  assert.equal(log.body, '');
  assert.match(log.error_detail, UNREACHABLE, describe(log));
  assert.equal(typeof log.processing_time, 'number');
  assert.deepEqual(log.relationships.integration.data, { type: 'integration', id: integrationId });
  assert.deepEqual(log.relationships.job.data, { type: 'integration-job', id: jobId });
  assert.ok(log.meta.timestamps.created_at, describe(log));
}

// Polls GetLogs until the server has logged the first delivery attempt or the deadline passes.
async function waitForFirstAttempt(integrationId) {
  const deadline = Date.now() + attemptDeadlineMs;
  let delay = 50;
  for (;;) {
    const page = await call('GetLogs (polled)', 200, (ep) => ep.GetLogs(integrationId));
    if (page.data.length > 0) {
      return page;
    }
    if (Date.now() > deadline) {
      throw new Error(`no delivery attempt logged after ${attemptDeadlineMs} ms: ${describe(page)}`);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 400);
  }
}

// The signing secret as responses other than W1 show it: `whsec_`, stars, the last 4 characters (§3.3).
function masked(secret) {
  return `whsec_${'*'.repeat(secret.length - 'whsec_'.length - 4)}${secret.slice(-4)}`;
}

async function main() {
  // Create: 201, enabled defaults to false, the generated signing secret shown in full this once.
  const created = await call('Create', 201, (ep) =>
    ep.Create({
      name: 'SDK webhook',
      description: 'Integration updates, to a receiver that never resolves',
      observes: ['integration.updated'],
      configuration: { url: RECEIVER, secret_key: 'sdk-shared-token' },
    }),
  );
  const integration = created.data;
  const id = integration.id;
  assert.equal(integration.type, 'integration');
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.equal(integration.name, 'SDK webhook');
  assert.equal(integration.enabled, false, 'enabled defaults to false');
  assert.equal(integration.integration_type, 'webhook');
  assert.deepEqual(integration.observes, ['integration.updated']);
  assert.equal(integration.configuration.url, RECEIVER);
  assert.equal(integration.configuration.secret_key, 'sdk-shared-token');
  const secret = integration.configuration.signing_secret;
  assert.match(secret, /^whsec_[A-Za-z0-9+/]+={0,2}$/, 'the signing secret in full');
  assert.ok(integration.links.self.endsWith(`/v2/integrations/${id}`), describe(integration));
  assert.equal(integration.meta.delivery.pending_jobs, 0);
  results.Create = {
    status: 201,
    enabled: integration.enabled,
    signing_secret: `${secret.slice(0, 10)}... (${secret.length} characters, in full)`,
  };

  // All: the one integration, its signing secret masked.
  const listed = await call('All', 200, (ep) => ep.All());
  assert.deepEqual(
    listed.data.map((item) => item.id),
    [id],
  );
  assert.equal(listed.results.total, 1, describe(listed));
  assert.equal(listed.meta.results.total, 1);
  assert.equal(listed.data[0].configuration.signing_secret, masked(secret));
  results.All = { ids: listed.data.map((item) => item.id), results_total: listed.results.total };

  // Get: as created, but the signing secret is masked from now on.
  const fetched = await call('Get', 200, (ep) => ep.Get(id));
  assert.equal(fetched.data.id, id);
  assert.equal(fetched.data.name, 'SDK webhook');
  assert.equal(fetched.data.enabled, false);
  assert.equal(fetched.data.configuration.url, RECEIVER);
  assert.equal(fetched.data.configuration.secret_key, 'sdk-shared-token');
  assert.equal(fetched.data.configuration.signing_secret, masked(secret));
  results.Get = { name: fetched.data.name, signing_secret: fetched.data.configuration.signing_secret };

  // Update is partial: only the name changes. The integration is disabled, so nothing is recorded.
  const renamed = await call('Update', 200, (ep) => ep.Update(id, { name: 'SDK webhook v2' }));
  assert.equal(renamed.data.id, id);
  assert.equal(renamed.data.name, 'SDK webhook v2');
  assert.equal(renamed.data.description, integration.description);
  assert.equal(renamed.data.enabled, false);
  assert.equal(renamed.data.integration_type, 'webhook');
  assert.deepEqual(renamed.data.observes, ['integration.updated']);
  assert.deepEqual(renamed.data.configuration, {
    url: RECEIVER,
    secret_key: 'sdk-shared-token',
    signing_secret: masked(secret),
  });
  assert.equal(renamed.data.meta.timestamps.created_at, integration.meta.timestamps.created_at);
  assert.ok(renamed.data.meta.timestamps.updated_at >= integration.meta.timestamps.updated_at);
  results.Update = { name: renamed.data.name, enabled: renamed.data.enabled };

  const noJobs = await call('GetJobs (disabled: none)', 200, (ep) => ep.GetJobs(id));
  assertLogEnvelope('GetJobs (disabled)', noJobs, 0);

  // Enabled, it observes its own update (§4.9): one integration.updated job, delivered at once.
  const enabled = await call('Update (enable)', 200, (ep) => ep.Update(id, { enabled: true }));
  assert.equal(enabled.data.enabled, true);
  assert.equal(enabled.data.name, 'SDK webhook v2');
  results['Update (enable)'] = { enabled: enabled.data.enabled };

  const firstLogs = await waitForFirstAttempt(id);
  const jobs = await call('GetJobs', 200, (ep) => ep.GetJobs(id));
  assertLogEnvelope('GetJobs', jobs, 1);
  const job = jobs.data[0];
  assert.equal(job.type, 'integration-job');
  assert.match(job.id, /^[0-9a-f-]{36}$/);
  assert.equal(job.triggered_by, 'integration.updated');
  // The first attempt failed, so a retry is scheduled (5 s later, ±20 %).
  assert.equal(job.status, 'pending', describe(job));
  assert.ok(job.attempts >= 1, describe(job));
  assert.ok(job.next_attempt_at > firstLogs.data[0].meta.timestamps.created_at, describe(job));
  assert.deepEqual(job.relationships.integration.data, { type: 'integration', id });
  results.GetJobs = {
    total: jobs.results.total,
    triggered_by: job.triggered_by,
    status: job.status,
    attempts: job.attempts,
  };

  // The logs of that attempt through W7, W6 and W9 (newest first: attempt 1 is the last entry).
  const logs = await call('GetLogs', 200, (ep) => ep.GetLogs(id));
  const total = logs.results.total;
  assert.ok(total >= 1, describe(logs));
  assertLogEnvelope('GetLogs', logs, total);
  assertFailedAttempt(logs.data[total - 1], id, job.id);
  results.GetLogs = {
    total,
    meta_limit: logs.meta.limit,
    succeeded: logs.data[total - 1].succeeded,
    status_code: logs.data[total - 1].status_code,
    error_detail: logs.data[total - 1].error_detail,
  };

  const storeLogs = await call('GetAllLogs', 200, (ep) => ep.GetAllLogs());
  assert.ok(storeLogs.results.total >= 1, describe(storeLogs));
  assertLogEnvelope('GetAllLogs', storeLogs, storeLogs.results.total);
  assertFailedAttempt(storeLogs.data[storeLogs.data.length - 1], id, job.id);
  results.GetAllLogs = { total: storeLogs.results.total, meta_limit: storeLogs.meta.limit };

  const jobLogs = await call('GetAllLogsForJob', 200, (ep) => ep.GetAllLogsForJob(id, job.id));
  assert.ok(jobLogs.results.total >= 1, describe(jobLogs));
  assertLogEnvelope('GetAllLogsForJob', jobLogs, jobLogs.results.total);
  for (const log of jobLogs.data) {
    assert.deepEqual(log.relationships.job.data, { type: 'integration-job', id: job.id });
  }
  assertFailedAttempt(jobLogs.data[jobLogs.data.length - 1], id, job.id);
  results.GetAllLogsForJob = { total: jobLogs.results.total, meta_limit: jobLogs.meta.limit };

  // A storefront's implicit token may not read integrations (D-I39).
  await rejects('All (implicit token)', 403, (ep) => ep.All(), shop);

  // Delete answers 200 naming what it deleted; then Get and the integration's lists are 404.
  const deleted = await call('Delete', 200, (ep) => ep.Delete(id));
  assert.deepEqual(deleted, { data: { type: 'integration', id } });
  results.Delete = deleted;
  const missing = await rejects('Get (deleted)', 404, (ep) => ep.Get(id));
  assert.equal(missing.errors[0].detail, 'The resource could not be found');
  await rejects('GetJobs (deleted)', 404, (ep) => ep.GetJobs(id));
  await rejects('GetLogs (deleted)', 404, (ep) => ep.GetLogs(id));
  await rejects('GetAllLogsForJob (deleted)', 404, (ep) => ep.GetAllLogsForJob(id, job.id));
  const afterDelete = await call('GetAllLogs (after Delete)', 200, (ep) => ep.GetAllLogs());
  assertLogEnvelope('GetAllLogs (after Delete)', afterDelete, 0);
  const none = await call('All (after Delete)', 200, (ep) => ep.All());
  assert.equal(none.data.length, 0);
  assert.equal(none.results.total, 0);

  process.stdout.write(`${JSON.stringify({ ok: true, calls, results })}\n`);
}

main().catch((error) => {
  process.stderr.write(`SDK run failed after ${JSON.stringify(calls)}:\n${describe(error)}\n`);
  if (error && error.actual !== undefined) {
    process.stderr.write(`actual: ${describe(error.actual)}\nexpected: ${describe(error.expected)}\n`);
  }
  process.exit(1);
});
