// The local S3 server of scripts/lib/services.sh: @20minutes/s3rver (pinned in
// package.json), started with the project's bucket and CORS rules, and patched
// at start time (node_modules stays untouched) where the project relies on
// S3 behaviour that s3rver 4.0.4 lacks:
//
// - CompleteMultipartUpload checks the part list as S3 does: parts ascending
//   (400 InvalidPartOrder), each one uploaded with the ETag given (400
//   InvalidPart; s3rver crashed into a 500 ENOENT for a missing part and
//   never compared ETags), every part but the last at least 5 MiB (400
//   EntityTooSmall), an upload that exists for this key (404 NoSuchUpload).
// - AbortMultipartUpload (DELETE /bucket/key?uploadId=ID), which s3rver
//   refuses with 405: 204 and the upload's parts removed; 404 NoSuchUpload
//   for an unknown upload.
// - CORS preflights carry Access-Control-Max-Age (s3rver left it out).
// - UploadPart into an unknown (e.g. aborted) upload: 404 NoSuchUpload.
//
// All run inside s3rver's router, after its CORS, signature and bucket checks.
//
// Usage: node s3rver.js MODULE_DIR DATA_DIR PORT BUCKET
// Prints "s3rver listening on HOST:PORT" once bound; exits 1 if it cannot bind.
'use strict';

const fs = require('fs');
const path = require('path');
const { Readable } = require('stream');

const [moduleDir, dataDir, port, bucket] = process.argv.slice(2);
const lib = (p) => require(path.join(moduleDir, 'lib', p));
const S3rver = require(moduleDir);
const S3Error = lib('models/error');
const objectCtrl = lib('controllers/object');
const router = lib('routes');
const { XMLParser } = require(require.resolve('fast-xml-parser', { paths: [moduleDir] }));

const MIN_PART_BYTES = 5 * 1024 * 1024;
const CORS_MAX_AGE_S = 3600;

// Browsers on the app's origin upload with presigned PUTs and read the ETag
// of each part; the player GETs with Range.
const CORS = `<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>${CORS_MAX_AGE_S}</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`;

function noSuchUpload(ctx) {
  return new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may ' +
      'have been aborted or completed.',
    { UploadId: String(ctx.query.uploadId) },
  );
}

// The directory of the upload named by ?uploadId, if it exists and is an
// upload of this key; NoSuchUpload otherwise.
async function findUpload(ctx) {
  const id = ctx.query.uploadId;
  if (typeof id !== 'string' || !/^[A-Za-z0-9_-]+$/.test(id)) throw noSuchUpload(ctx);
  const dir = path.join(ctx.store.getResourcePath(ctx.params.bucket, undefined, 'uploads'), id);
  let key;
  try {
    key = await fs.promises.readFile(path.join(dir, 'key'), 'utf8');
  } catch (err) {
    if (err.code === 'ENOENT') throw noSuchUpload(ctx);
    throw err;
  }
  if (key !== ctx.params.key) throw noSuchUpload(ctx);
  return dir;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function readOrNull(file) {
  try {
    return await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    if (err.code === 'ENOENT') return null;
    throw err;
  }
}

const completeMultipartUpload = objectCtrl.completeMultipartUpload;
objectCtrl.completeMultipartUpload = async function checkedCompleteMultipartUpload(ctx) {
  const raw = await readBody(ctx.req);
  ctx.req = Readable.from([raw]); // s3rver's own parser reads it again
  const dir = await findUpload(ctx);

  let doc;
  try {
    doc = new XMLParser().parse(raw.toString('utf8'));
  } catch {
    doc = null;
  }
  const list = doc && doc.CompleteMultipartUpload && doc.CompleteMultipartUpload.Part;
  if (!list) return completeMultipartUpload(ctx); // s3rver answers MalformedXML
  const parts = [].concat(list).map((p) => ({
    number: Number(p.PartNumber),
    etag: String(p.ETag ?? '').replace(/"/g, ''), // S3 ignores the quotes
  }));

  for (let i = 0; i < parts.length; i++) {
    if (!Number.isInteger(parts[i].number) || (i > 0 && parts[i].number <= parts[i - 1].number))
      throw new S3Error(
        'InvalidPartOrder',
        'The list of parts was not in ascending order. Parts must be ordered by part number.',
        { UploadId: ctx.query.uploadId },
      );
  }
  for (let i = 0; i < parts.length; i++) {
    const { number, etag } = parts[i];
    const partFile = path.join(dir, String(number));
    const md5 = await readOrNull(`${partFile}.md5`);
    if (md5 === null || md5.trim() !== etag)
      throw new S3Error(
        'InvalidPart',
        'One or more of the specified parts could not be found. The part may not have been ' +
          "uploaded, or the specified entity tag may not match the part's entity tag.",
        { UploadId: ctx.query.uploadId, PartNumber: number, ETag: etag },
      );
    const { size } = await fs.promises.stat(partFile);
    if (i < parts.length - 1 && size < MIN_PART_BYTES)
      throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum ' +
        'allowed object size.', { ProposedSize: size, MinSizeAllowed: MIN_PART_BYTES, PartNumber: number });
  }
  return completeMultipartUpload(ctx);
};

// UploadPart into an upload that does not exist (aborted, completed, never
// created) is 404 NoSuchUpload, as on S3; s3rver stored the part anyway.
const uploadPart = objectCtrl.uploadPart;
objectCtrl.uploadPart = async function checkedUploadPart(ctx) {
  await findUpload(ctx);
  return uploadPart(ctx);
};

// AbortMultipartUpload, placed before s3rver's DELETE handler of objects
// (which refuses ?uploadId with 405) and after the middleware that matches
// the same path: CORS, signature check, bucket check, query method.
async function abortMultipartUpload(ctx, next) {
  if (ctx.params.queryMethod !== 'uploadId') return next();
  const dir = await findUpload(ctx);
  await fs.promises.rm(dir, { recursive: true, force: true });
  ctx.status = 204;
}
router.delete('/:bucket/:key+', abortMultipartUpload);
{
  const layer = router.stack.pop();
  const at = router.stack.findIndex(
    (l) => l.path === '/:bucket/:key+' && l.methods.includes('DELETE'),
  );
  if (at < 0) throw new Error("s3rver.js: s3rver's DELETE route not found (another version?)");
  router.stack.splice(at, 0, layer);
}

const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory: dataDir,
  silent: false,
  configureBuckets: [{ name: bucket, configs: [CORS] }],
});
// s3rver sends the rule's MaxAgeSeconds on simple answers only; S3 sends it
// on preflights, which is where browsers use it (one preflight per upload,
// not one per part). First in the chain, so it sees the final answer.
server.middleware.unshift(async function preflightMaxAge(ctx, next) {
  await next();
  if (ctx.method === 'OPTIONS' && ctx.status === 200 && ctx.response.get('Access-Control-Allow-Origin'))
    ctx.set('Access-Control-Max-Age', String(CORS_MAX_AGE_S));
});
server
  .run()
  .then(({ address, port }) => console.log('s3rver listening on %s:%d', address, port))
  .catch((e) => {
    console.error('s3rver: %s', e.message);
    process.exit(1);
  });
