#!/usr/bin/env bash
# Makes the TLS material of a Vigil deployment with the openssl CLI:
#   - a private CA (ca.key, ca.crt): signs the coordinator's certificate and
#     the workers' client certificates; clients verify the coordinator with
#     ca.crt and the coordinator verifies workers with it (--tls-client-ca);
#   - the coordinator's server certificate (coordinator.key/.crt) with the
#     names clients use to reach it as subjectAltNames;
#   - one client certificate per worker (worker-NAME.key/.crt).
#
#   deploy/make-certs.sh DIR COORDINATOR_NAME [WORKER_NAME...]
#
# COORDINATOR_NAME: the DNS name (or IP address) workers and the CLI use,
# e.g. coord.example.net. localhost and 127.0.0.1 are always added; more
# names with VIGIL_CERT_SANS="DNS:other.example.net,IP:10.0.0.5".
# An existing CA in DIR is reused (to add workers later); existing
# certificates are never overwritten. Keys are ECDSA P-256, mode 0600.
# Validity: CA 10 years, certificates VIGIL_CERT_DAYS (default 825) days.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 DIR COORDINATOR_NAME [WORKER_NAME...]" >&2
  exit 2
fi
dir=$1
coordinator=$2
shift 2
days=${VIGIL_CERT_DAYS:-825}
name_re='^[A-Za-z0-9][A-Za-z0-9.-]*$'
for n in "$coordinator" "$@"; do
  if ! [[ $n =~ $name_re ]]; then
    echo "make-certs: '$n' is not a host or worker name (letters, digits, '.', '-')" >&2
    exit 2
  fi
done
command -v openssl >/dev/null || { echo "make-certs: openssl not found" >&2; exit 2; }

mkdir -p "$dir"
umask 077
cd "$dir"

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [[ ! -f ca.crt ]]; then
  newkey ca.key
  openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/O=Vigil/CN=Vigil CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt
  echo "make-certs: CA: $dir/ca.crt"
fi

# sign NAME SUBJECT_CN EXTENSIONS
sign() {
  local name=$1 cn=$2 ext=$3
  if [[ -f $name.crt ]]; then
    echo "make-certs: $dir/$name.crt exists, kept"
    return
  fi
  newkey "$name.key"
  openssl req -new -key "$name.key" -subj "/O=Vigil/CN=$cn" -out "$name.csr"
  printf '%s\n' "$ext" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 \
    -days "$days" -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
  openssl verify -CAfile ca.crt "$name.crt" >/dev/null
  echo "make-certs: $dir/$name.crt"
}

if [[ $coordinator =~ ^[0-9.]+$ ]]; then san="IP:$coordinator"; else san="DNS:$coordinator"; fi
san="$san,DNS:localhost,IP:127.0.0.1${VIGIL_CERT_SANS:+,$VIGIL_CERT_SANS}"
sign coordinator "$coordinator" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san"

for w in "$@"; do
  sign "worker-$w" "worker $w" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
subjectAltName=DNS:$w"
done
chmod 600 ./*.key
chmod 644 ./*.crt
