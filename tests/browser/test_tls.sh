#!/usr/bin/env bash
# Browser over HTTPS: the node serves the demo page, the API and the WebSocket with a certificate
# of a test CA (made here with openssl) for 127.0.0.1. Chromium trusts exactly that certificate's
# key (--ignore-certificate-errors-spki-list with its SPKI hash, not a blanket
# --ignore-certificate-errors); without the pin it refuses the page. Two pages join a call over
# wss and receive Opus and VP8 (tls.test.mjs).
# Environment (set by ctest): SB_BUILD_DIR, SB_SOURCE_DIR; SB_KEEP_LOGS=1 keeps the server log.
set -euo pipefail
. "$(dirname "$0")/common.sh"

certs=$(mktemp -d /tmp/sb-browser-tls-certs.XXXXXX)
sb_on_cleanup "rm -rf '$certs'"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$certs/ca.key" -out "$certs/ca.pem" -days 2 \
  -subj "/CN=switchboard test CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$certs/node.key" -out "$certs/node.csr" \
  -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
  >"$certs/ext"
openssl x509 -req -in "$certs/node.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" \
  -set_serial 0x2001 -days 2 -extfile "$certs/ext" -out "$certs/node.pem" 2>/dev/null
spki=$(openssl x509 -in "$certs/node.pem" -pubkey -noout | openssl pkey -pubin -outform der |
  openssl dgst -sha256 -binary | base64)

# node's own fetch (demo users, tokens) trusts the test CA.
SB_BROWSER_SCHEME=https
SB_TEST_ENV=(SB_SPKI="$spki" NODE_EXTRA_CA_CERTS="$certs/ca.pem")
sb_browser_run tls.test.mjs --tls-cert "$certs/node.pem" --tls-key "$certs/node.key"
