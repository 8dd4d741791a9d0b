#!/usr/bin/env bash
# Makes the credentials of the secure deployment with openssl, in the directory given (default:
# this script's directory):
#
#   pki/ca.pem, pki/ca.key          a certificate authority; in real use keep ca.key off the server
#   pki/server.pem, pki/server.key  the server's certificate, for the names in HEARTH_SERVER_NAMES
#                                   (default "DNS:localhost,IP:127.0.0.1")
#   pki/worker-1.pem, .key          a worker's client certificate (CN=worker-1): permission "worker"
#   pki/admin.pem, .key             an operator's client certificate (CN=admin): permission "admin"
#   secrets/ci.token                a full-access token for CI (read, write, execute)
#   secrets/dev.token               a read-only token for developers' machines
#   ci.bazelrc, dev.bazelrc         Bazel's --remote_header line with each token
#
#   ./make-credentials.sh [DIR]
#
# Existing files are kept, so running it again never replaces a credential in use; delete a file
# to make it anew (see README.md, "Rotating"). Keys are EC P-256 in PKCS#8 PEM, which Hearth reads.
# Tunables (environment): HEARTH_SERVER_NAMES, HEARTH_CERT_DAYS (leaf validity, default 365).
set -euo pipefail

script_path="${BASH_SOURCE[0]}"
[[ "$script_path" == */* ]] || script_path="./$script_path"
out="${1:-$(cd "${script_path%/*}" && pwd)}"
names="${HEARTH_SERVER_NAMES:-DNS:localhost,IP:127.0.0.1}"
days="${HEARTH_CERT_DAYS:-365}"

command -v openssl >/dev/null 2>&1 || {
  echo "make-credentials: needs openssl (apt-get install -y openssl)" >&2
  exit 1
}
mkdir -p "$out/pki" "$out/secrets"
umask 077 # keys and tokens readable by their owner only

made() { echo "made $1"; }

if [ ! -f "$out/pki/ca.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=Hearth example CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$out/pki/ca.key" -out "$out/pki/ca.pem" 2>/dev/null
  chmod 644 "$out/pki/ca.pem"
  made pki/ca.pem
fi

# leaf NAME SUBJECT EXTENSIONS: a key and a certificate signed by the CA.
leaf() {
  local name="$1" subject="$2" extensions="$3"
  [ -f "$out/pki/$name.pem" ] && return
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$subject" \
    -keyout "$out/pki/$name.key" -out "$out/pki/$name.csr" 2>/dev/null
  printf '%b' "$extensions" > "$out/pki/$name.ext"
  openssl x509 -req -in "$out/pki/$name.csr" -CA "$out/pki/ca.pem" -CAkey "$out/pki/ca.key" \
    -CAcreateserial -days "$days" -extfile "$out/pki/$name.ext" -out "$out/pki/$name.pem" 2>/dev/null
  rm -f "$out/pki/$name.csr" "$out/pki/$name.ext"
  chmod 644 "$out/pki/$name.pem"
  made "pki/$name.pem"
}
leaf server "/CN=hearth-server" "subjectAltName=$names\nextendedKeyUsage=serverAuth\n"
leaf worker-1 "/CN=worker-1" "extendedKeyUsage=clientAuth\n"
leaf admin "/CN=admin" "extendedKeyUsage=clientAuth\n"

# token NAME: 32 random bytes in hex, and the Bazel flag that sends it.
token() {
  local name="$1"
  if [ ! -f "$out/secrets/$name.token" ]; then
    openssl rand -hex 32 > "$out/secrets/$name.token"
    made "secrets/$name.token"
  fi
  echo "build --remote_header=\"authorization=Bearer $(cat "$out/secrets/$name.token")\"" \
    > "$out/$name.bazelrc"
}
token ci
token dev
