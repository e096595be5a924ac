#!/bin/sh
# Regenerates samples/hidden-avps.pcap (our encoder, reproducible) and samples/xl2tpd-lac-lns.pcap (a real
# capture of xl2tpd on loopback: needs root, xl2tpd and tshark). See scripts/make-samples.ts.
#   scripts/make-samples.sh [hidden|xl2tpd|all] [OUTDIR]
# There is no TypeScript loader here: compile the script (and the src/ files it imports) into dist/, where
# the package's "type": "module" applies, then run it.
set -eu
cd "$(dirname "$0")/.."
npx tsc --outDir dist --rootDir . --target ES2022 --module NodeNext --moduleResolution NodeNext \
  --strict --noUncheckedIndexedAccess --types node --skipLibCheck scripts/make-samples.ts
exec node dist/scripts/make-samples.js "$@"
