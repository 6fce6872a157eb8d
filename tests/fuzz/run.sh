#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz/ (ASan + UBSan,
# coverage on the libraries under test) and runs each one for a while.
#
#   tests/fuzz/run.sh                 every target, 20 s each
#   FUZZ_SECONDS=300 tests/fuzz/run.sh fuzz_records
#
# Corpora are kept in build-fuzz/corpus/<target>/ (seeded below), crashes in
# build-fuzz/artifacts/<target>/. Exit code 0 only if no target found a crash.
# The repository keeps a small minimised corpus per format target in
# tests/fuzz/corpus/<target>/ (read as a second corpus directory, never
# written); refresh it after a long run with
#   build-fuzz/fuzz/T -merge=1 tests/fuzz/corpus/T build-fuzz/corpus/T
set -euo pipefail
cd "$(dirname "$0")/../.."

BUILD_DIR=${BUILD_DIR:-build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-20}
JOBS=${VIGIL_JOBS:-2}
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(fuzz_entry_key fuzz_hash_key fuzz_records fuzz_parse_duration fuzz_restic_parsers
           fuzz_contract_yaml fuzz_merkle_verify fuzz_report_html fuzz_s3_credentials fuzz_s3_list_xml
           fuzz_observation_batch fuzz_point_tally)
fi

CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVIGIL_BUILD_FUZZERS=ON -DVIGIL_BUILD_TESTS=OFF -DVIGIL_BUILD_BENCHMARKS=OFF \
  "-DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
  >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" --target "${TARGETS[@]}"

# A few well-formed inputs per target, so that the fuzzers start from the
# interesting part of the input space.
seed() {  # seed TARGET NAME PRINTF-FORMAT
  mkdir -p "$BUILD_DIR/corpus/$1"
  printf "$3" >"$BUILD_DIR/corpus/$1/seed-$2"
}
# EntryKey("t", "b\0x", 0, "a/b") and ("", "", -1, "d/.x/y").
seed fuzz_entry_key 1 't\x00\x01b\x00\xffx\x00\x01\x80\x00\x00\x00\x00\x00\x00\x00a\x00b'
seed fuzz_entry_key 2 '\x00\x01\x00\x01\x7f\xff\xff\xff\xff\xff\xff\xffd\x00.x\x00y'
# XXH3-128 and SHA-1 hash keys with an entry key.
seed fuzz_hash_key 1 '\x01\x06\xb0\x5a\xb6\x73\x3a\x61\x85\x78\xaf\x5f\x94\x89\x2f\x39\x50t\x00\x01b\x00\x01\x80\x00\x00\x00\x00\x00\x00\x00f'
seed fuzz_hash_key 2 '\x04\xa9\x99\x3e\x36\x47\x06\x81\x6a\xba\x3e\x25\x71\x78\x50\xc2\x6c\x9c\xd0\xd8\x9d'
# A file EntryRecord (MD5 digest), a symlink EntryRecord, a modified VerifyRecord.
seed fuzz_records 1 '\x01\x01\xac\x02\x02\x01\x05\x90\x01\x50\x98\x3c\xd2\x4f\xb0\xd6\x96\x3f\x7d\x28\xe1\x7f\x72'
seed fuzz_records 2 '\x01\x02\x03\x04\x06\x00\x03a/b'
seed fuzz_records 3 '\x01\x01\x14\x28\x05\x90\x01\x50\x98\x3c\xd2\x4f\xb0\xd6\x96\x3f\x7d\x28\xe1\x7f\x72\x00\x63\x03abc'
# A file EntryRecord of version 2: seed 1 with a content sample (pdf, entropy 64).
seed fuzz_records 4 '\x02\x01\xac\x02\x02\x01\x05\x90\x01\x50\x98\x3c\xd2\x4f\xb0\xd6\x96\x3f\x7d\x28\xe1\x7f\x72\x02\x40'
# Durations, including the largest representable number of seconds' digits.
seed fuzz_parse_duration 1 '90s'
seed fuzz_parse_duration 2 '1d12h30m'
seed fuzz_parse_duration 3 '2w'
seed fuzz_parse_duration 4 '9223372036s'
seed fuzz_parse_duration 5 '922337203685477580s'
# restic: selector byte, then a pack header entry (a 37-byte data entry), an
# index, a snapshot, a key file, config JSON, a format-2 0x02 + zstd frame.
seed fuzz_restic_parsers 1 '\x00\x01\x10\x00\x00\x0000000000000000000000000000000000'
seed fuzz_restic_parsers 2 '\x01{"packs":[{"id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","blobs":[{"id":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","type":"data","offset":0,"length":5,"uncompressed_length":9}]}]}'
seed fuzz_restic_parsers 3 '\x02{"time":"2024-01-01T00:00:00Z","tree":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","paths":["/x"],"hostname":"h","tags":["t"]}'
seed fuzz_restic_parsers 4 '\x03{"kdf":"scrypt","N":16,"r":1,"p":1,"salt":"c2FsdA==","data":"AAAA"}'
seed fuzz_restic_parsers 5 '\x04{"version":2,"id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","chunker_polynomial":"3dea92648f6e83"}'
seed fuzz_restic_parsers 6 '\x05\x02\x28\xb5\x2f\xfd\x20\x02\x11\x00\x00{}'
# Contract manifests: the examples, and a contract split over two files.
mkdir -p "$BUILD_DIR/corpus/fuzz_contract_yaml"
cp deploy/examples/*.yaml "$BUILD_DIR/corpus/fuzz_contract_yaml/"
seed fuzz_contract_yaml 1 'apiVersion: vigil/v1\nkind: Location\nname: nas2\nsite: s\n#--8<--\napiVersion: vigil/v1\nkind: Contract\ntenant: acme\neffectiveFrom: 2026-01-01T00:00:00.5+01:00\nassets:\n  - name: fs\n    backupSets:\n      - {name: a, location: nas2, path: x/y, layout: dated-files, pattern: "*.gz"}\n      - {name: b, location: vault, path: x, format: restic}\ncommitments:\n  - rpo: 1d12h\n  - copies: {min: 2, offsite: 1}\n    assets: [fs]\n  - integrity: {reverifyWithin: 2w, sample: 10}\noutOfScope: []\n'
# BagIt: mode byte (encoding = mode % 5, 0x08 = tag manifest, mode >> 4 =
# algorithm), then a manifest; bag-info.txt after an encoding byte.
seed fuzz_bagit_manifest 1 '\x30e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  data/a%%25b.txt\r\nd41d8cd98f00b204e9800998ecf8427e *data/sub/x\n'
seed fuzz_bagit_manifest 2 '\x08da39a3ee5e6b4b0d3255bfef95601890afd80709 bagit.txt\n'
seed fuzz_bagit_manifest 3 '\x01\xff\xfe0\x00 \x00d\x00a\x00t\x00a\x00/\x00\xe9\x00\n\x00'
seed fuzz_bagit_baginfo 1 '\x00Bagging-Date: 2024-06-01\nPayload-Oxum: 3006.3\nContact-Name: A\n  continued\nbag-size: 3 KB\n'
seed fuzz_bagit_baginfo 2 '\x04Source-Organization: Caf\xe9\r\nPAYLOAD-OXUM: 1.1\r\n'
# Checksum files: name selector byte, then GNU, escaped and --tag lines.
seed fuzz_sumfile 1 '\x00e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a.txt\n\\e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 *b\\\\c\\nd\n# comment\n'
seed fuzz_sumfile 2 '\x06SHA256 (x y) = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nMD5 (z) = d41d8cd98f00b204e9800998ecf8427e\n'
seed fuzz_sumfile 3 '\x01d41d8cd98f00b204e9800998ecf8427e a\n'
# S3 credentials files (--secrets/LOCATION.s3): AWS's example keys.
seed fuzz_s3_credentials 1 '[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n'
seed fuzz_s3_credentials 2 '# Wasabi\r\naws_access_key_id=K\r\naws_secret_access_key=S\r\naws_session_token = T\r\n'
# S3 listings: chunk-size byte, then a ListObjectsV2 page; an error document.
seed fuzz_s3_list_xml 1 '\x07<?xml version="1.0"?><ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>p/a b</Key><LastModified>2026-12-06T14:21:16.250Z</LastModified><ETag>&quot;5d41402abc4b2a76b9719d911017c592&quot;</ETag><Size>5</Size><ChecksumSHA256>LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=</ChecksumSHA256></Contents><CommonPrefixes><Prefix>p/d/</Prefix></CommonPrefixes><NextContinuationToken>t</NextContinuationToken></ListBucketResult>'
seed fuzz_s3_list_xml 2 '\x40<Error><Code>NoSuchBucket</Code><Message>m</Message></Error>'
seed fuzz_s3_list_xml 3 '\x01<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Suspended</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>'
seed fuzz_s3_list_xml 4 '\x02<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>30</Days></DefaultRetention></Rule></ObjectLockConfiguration>'
# Inclusion proofs: leaf 1 of a 3-leaf tree (valid shape), and one of size 1.
seed fuzz_merkle_verify 1 '{"index":1,"tree_size":3,"leaf":"000000016100000000000000010000","path":["022a6979e6dab7aa5ae4c3e5e45f7e977112a7e63593820dbec1ec738a24f93c","e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],"root":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}'
seed fuzz_merkle_verify 2 '{"index":0,"tree_size":1,"leaf":"","path":[],"root":"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"}'
# Reports: the test fixture (every section filled).
mkdir -p "$BUILD_DIR/corpus/fuzz_report_html"
cp tests/services/reports/testdata/*.json "$BUILD_DIR/corpus/fuzz_report_html/"

failed=()
for t in "${TARGETS[@]}"; do
  mkdir -p "$BUILD_DIR/corpus/$t" "$BUILD_DIR/artifacts/$t"
  echo "=== $t (${SECONDS_EACH}s)"
  kept=()
  [ -d "tests/fuzz/corpus/$t" ] && kept=("tests/fuzz/corpus/$t")
  if ! "$BUILD_DIR/fuzz/$t" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
      -artifact_prefix="$BUILD_DIR/artifacts/$t/" "$BUILD_DIR/corpus/$t" "${kept[@]}"; then
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "crashes found by: ${failed[*]} (inputs in $BUILD_DIR/artifacts/)" >&2
  exit 1
fi
echo "no crash found"
