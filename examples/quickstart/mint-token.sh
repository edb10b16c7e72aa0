#!/usr/bin/env sh
# Mints a demo ES256 token signed with the quickstart's demo key (never use this key elsewhere).
# Usage: ./mint-token.sh [--sub alice] [--roles admin,dev] [--scope "orders:write"] [--ttl 3600]
here=$(cd "$(dirname "$0")" && pwd)
exec cargo run --quiet --release --manifest-path "$here/../../Cargo.toml" -p warden-cli --example mint_token -- \
  --key "$here/keys/demo-private.pem" --kid demo-es256 --iss https://idp.example --aud api "$@"
