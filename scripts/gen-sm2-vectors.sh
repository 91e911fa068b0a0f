#!/usr/bin/env bash
# Interoperability vectors for the sm2 suite (spec/crypto.md), made with OpenSSL, an implementation of
# GB/T 32918.2 independent of sm-crypto-v2:
#   1. OpenSSL generates an SM2 key and signs a few messages (SM3, user id 1234567812345678); the signatures,
#      converted from DER to raw r || s, are written to spec/test-vectors/sm2-openssl.json, which
#      packages/core/test/crypto.test.ts verifies with both Tally backends.
#   2. Tally's sm2 suite (node and web backends) signs the same messages with the same key, and OpenSSL must
#      verify every one of those signatures; the script fails otherwise.
# Needs OpenSSL >= 3.0 (SM2 and SM3 enabled), node and the repository's node_modules. Every run makes a new
# key, so the JSON changes; commit it only when the vectors themselves need to change.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/spec/test-vectors/sm2-openssl.json"
USER_ID="1234567812345678"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# name:hex pairs; the empty message and "message digest" (the GM/T 0003.5 example text) are required.
MESSAGES=(
  "empty:"
  "abc:$(printf 'abc' | xxd -p | tr -d '\n')"
  "message-digest:$(printf 'message digest' | xxd -p | tr -d '\n')"
  "abcd-x16:$(printf 'abcd%.0s' {1..16} | xxd -p | tr -d '\n')"
  "bytes-00-ff:$(for i in $(seq 0 255); do printf '%02x' "$i"; done)"
)

hex_of() { xxd -p | tr -d '\n'; }
write_bytes() { printf '%s' "$1" | xxd -r -p >"$2"; }
# OpenSSL prints INTEGERs in uppercase hex without leading zero bytes.
pad32() { printf '%064s' "$(printf '%s' "$1" | tr 'A-F' 'a-f')" | tr ' ' 0; }

# DER SM2Signature (SEQUENCE of two INTEGERs) -> 64 hex bytes r || s.
der_to_raw() {
  local ints
  ints="$(openssl asn1parse -inform DER -in "$1" | sed -n 's/.*prim: INTEGER *://p')"
  [ "$(printf '%s\n' "$ints" | wc -l)" -eq 2 ] || { echo "unexpected signature DER in $1" >&2; exit 1; }
  printf '%s%s' "$(pad32 "$(printf '%s\n' "$ints" | sed -n 1p)")" "$(pad32 "$(printf '%s\n' "$ints" | sed -n 2p)")"
}

# Raw r || s -> DER, encoded by OpenSSL itself so the check does not depend on our own encoder.
raw_to_der() {
  printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' "${1:0:64}" "${1:64:64}" >"$WORK/sig.conf"
  openssl asn1parse -genconf "$WORK/sig.conf" -out "$2" -noout
}

openssl_sign() {
  openssl pkeyutl -sign -rawin -digest sm3 -inkey "$WORK/key.pem" -pkeyopt "distid:$USER_ID" -in "$1" -out "$2"
}

openssl_verify() {
  openssl pkeyutl -verify -rawin -digest sm3 -pubin -inkey "$WORK/pub.pem" -pkeyopt "distid:$USER_ID" \
    -in "$1" -sigfile "$2" >/dev/null
}

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:SM2 -out "$WORK/key.pem"
openssl pkey -in "$WORK/key.pem" -pubout -out "$WORK/pub.pem"
PUBLIC_KEY="$(openssl pkey -pubin -in "$WORK/pub.pem" -outform DER | tail -c 65 | hex_of)"
PRIVATE_KEY="$(pad32 "$(openssl ec -in "$WORK/key.pem" -outform DER 2>/dev/null |
  openssl asn1parse -inform DER | sed -n 's/.*prim: OCTET STRING *\[HEX DUMP\]://p' | head -n 1)")"
[ "${#PUBLIC_KEY}" -eq 130 ] && [ "${PUBLIC_KEY:0:2}" = "04" ] || { echo "bad public key $PUBLIC_KEY" >&2; exit 1; }
[ "${#PRIVATE_KEY}" -eq 64 ] || { echo "bad private key" >&2; exit 1; }

# 1. OpenSSL signs; OpenSSL re-verifies its own signature as a sanity check.
entries=()
for entry in "${MESSAGES[@]}"; do
  name="${entry%%:*}"
  msg="${entry#*:}"
  write_bytes "$msg" "$WORK/msg.bin"
  openssl_sign "$WORK/msg.bin" "$WORK/sig.der"
  openssl_verify "$WORK/msg.bin" "$WORK/sig.der"
  sig="$(der_to_raw "$WORK/sig.der")"
  entries+=("$(printf '    { "name": "%s", "userId": "%s", "publicKey": "%s", "message": "%s", "signature": "%s" }' \
    "$name" "$USER_ID" "$PUBLIC_KEY" "$msg" "$sig")")
done

mkdir -p "$(dirname "$OUT")"
{
  printf '{\n'
  printf '  "description": "SM2 signatures (GB/T 32918.2, SM3, sm2p256v1) made by OpenSSL; hex: publicKey 0x04 || x || y, signature r || s (32 bytes each, big-endian). Regenerate with scripts/gen-sm2-vectors.sh.",\n'
  printf '  "generator": "%s",\n' "$(openssl version | head -n 1)"
  printf '  "privateKey": "%s",\n' "$PRIVATE_KEY"
  printf '  "vectors": [\n'
  for i in "${!entries[@]}"; do
    if [ "$i" -lt $((${#entries[@]} - 1)) ]; then printf '%s,\n' "${entries[$i]}"; else printf '%s\n' "${entries[$i]}"; fi
  done
  printf '  ]\n}\n'
} >"$OUT"
echo "wrote $OUT (${#entries[@]} vectors)"

# 2. Tally signs the same messages with the same key, in both backends; OpenSSL must accept every signature.
cat >"$WORK/tally-sign.mts" <<EOF
import { getSuite } from "$ROOT/packages/core/src/crypto/index.ts";
import { webSuites } from "$ROOT/packages/core/src/crypto/web-suites.ts";
import { fromHex, toHex } from "$ROOT/packages/core/src/bytes.ts";
const [privateKey, ...messages] = process.argv.slice(2) as [string, ...string[]];
for (const [backend, suite] of [["node", getSuite("sm2")], ["web", webSuites.sm2]] as const) {
  const key = suite.keyPairFromPrivate(fromHex(privateKey));
  if (toHex(key.publicKey) !== "$PUBLIC_KEY") throw new Error(backend + ": public key differs from OpenSSL's");
  messages.forEach((m, i) => console.log(backend, i, toHex(suite.sign(key.privateKey, fromHex(m.slice(1))))));
}
EOF
# Each message is passed with a leading "x" so that the empty one survives as an argument.
args=()
for entry in "${MESSAGES[@]}"; do args+=("x${entry#*:}"); done
checked=0
while read -r backend index sig; do
  msg="${MESSAGES[$index]#*:}"
  write_bytes "$msg" "$WORK/msg.bin"
  raw_to_der "$sig" "$WORK/ours.der"
  if ! openssl_verify "$WORK/msg.bin" "$WORK/ours.der"; then
    echo "OpenSSL rejects the $backend backend's signature of ${MESSAGES[$index]%%:*}" >&2
    exit 1
  fi
  checked=$((checked + 1))
done < <(cd "$ROOT" && node --conditions=@tally/source --import tsx "$WORK/tally-sign.mts" "$PRIVATE_KEY" "${args[@]}")
[ "$checked" -eq $((2 * ${#MESSAGES[@]})) ] || { echo "expected $((2 * ${#MESSAGES[@]})) signatures, checked $checked" >&2; exit 1; }
echo "OpenSSL verified $checked signatures made by Tally (node and web backends)"
