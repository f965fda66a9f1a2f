#!/bin/bash
# kafka-keystore.sh SECRET_DIR KEYSTORE: writes Kafka's PEM keystore (ssl.keystore.type=PEM), the
# private key of a kubernetes.io/tls Secret followed by its certificate chain.
#
# Kafka reads only PKCS#8 keys ("BEGIN PRIVATE KEY"), while Helm's genSignedCert and many issuers
# write RSA keys as PKCS#1 ("BEGIN RSA PRIVATE KEY"). A PKCS#8 PrivateKeyInfo (RFC 5208) holding an
# RSA key is the PKCS#1 DER behind a fixed header, so the wrapping needs only bash and coreutils (or
# busybox), which both the apache/kafka image and its stand-in have; no openssl, no Java tool.
set -euo pipefail
secret=${1:?usage: kafka-keystore.sh SECRET_DIR KEYSTORE}
keystore=${2:?usage: kafka-keystore.sh SECRET_DIR KEYSTORE}

# A DER length in hex: short form below 128, else 0x81/0x82 and the length's bytes.
der_length() {
  if (( $1 < 128 )); then printf '%02x' "$1"
  elif (( $1 < 256 )); then printf '81%02x' "$1"
  elif (( $1 < 65536 )); then printf '82%04x' "$1"
  else echo "kafka-keystore: a key of $1 bytes is too long" >&2; return 1
  fi
}

pkcs8_from_pkcs1() {
  local pkcs1 version_and_algorithm octets body
  pkcs1=$(sed '/^-----/d' "$1" | base64 -d | od -An -v -tx1 | tr -d ' \n')
  # INTEGER 0, then AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }
  version_and_algorithm=020100300d06092a864886f70d0101010500
  octets="04$(der_length $(( ${#pkcs1} / 2 )))$pkcs1"
  body="$version_and_algorithm$octets"
  echo "-----BEGIN PRIVATE KEY-----"
  printf '%b' "$(printf '30%s%s' "$(der_length $(( ${#body} / 2 )))" "$body" | sed 's/../\\x&/g')" | base64 -w 64
  echo "-----END PRIVATE KEY-----"
}

umask 077  # the keystore holds the private key
case "$(head -n 1 "$secret/tls.key")" in
  "-----BEGIN PRIVATE KEY-----") cat "$secret/tls.key" > "$keystore.partial" ;;
  "-----BEGIN RSA PRIVATE KEY-----") pkcs8_from_pkcs1 "$secret/tls.key" > "$keystore.partial" ;;
  *) echo "kafka-keystore: $secret/tls.key is neither an unencrypted PKCS#8 key nor a PKCS#1 RSA key;" \
          "give Kafka a PKCS#8 key (cert-manager: privateKey.encoding PKCS8)" >&2
     exit 1 ;;
esac
cat "$secret/tls.crt" >> "$keystore.partial"
mv "$keystore.partial" "$keystore"
echo "kafka-keystore: wrote $keystore from $secret"
