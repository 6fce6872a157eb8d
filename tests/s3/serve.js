// The S3 server Vigil's S3 store tests start on loopback
// (tests/support/s3_server.h): @20minutes/s3rver, pinned in package.json,
// which verifies AWS Signature V4 (a request signed with the wrong secret
// gets 403 SignatureDoesNotMatch). Listens on 127.0.0.1 port 0, creates the
// buckets named on the command line, and prints "PORT <n>" on stdout once
// it accepts requests. Credentials: the server's built-in account,
// access key id S3RVER, secret S3RVER. Runs until killed.
//
//   node --openssl-legacy-provider serve.js DATA_DIR [BUCKET...]
//
// (--openssl-legacy-provider: the server encrypts its ListObjectsV2
// continuation tokens with DES, which OpenSSL 3 keeps in its legacy
// provider; without it every truncated listing is a 500.)
'use strict';

const S3rver = require('@20minutes/s3rver');

async function main() {
  const [directory, ...buckets] = process.argv.slice(2);
  if (!directory) {
    console.error('usage: node serve.js DATA_DIR [BUCKET...]');
    process.exit(2);
  }
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  const { port } = await server.run();
  process.stdout.write(`PORT ${port}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
