#!/usr/bin/env bash
# `npm test`: lint (layering included), type check, unit and kernel tests (WebGPU kernels for real on
# SwiftShader), then the browser end-to-end tests. Ends with one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-chromium.sh || exit 1
mkdir -p .cache/reports
status=0
npx eslint . || status=1
npx tsc -p tsconfig.json --noEmit || status=1
REQUIRE_WEBGPU=1 bash scripts/with-swiftshader.sh npx vitest run --reporter=default --reporter=json --outputFile.json=.cache/reports/vitest.json || status=1
PLAYWRIGHT_JSON_OUTPUT_NAME=.cache/reports/playwright.json bash scripts/with-swiftshader.sh npx playwright test --reporter=list,json || status=1
node scripts/summarize-tests.mjs .cache/reports/vitest.json .cache/reports/playwright.json || status=1
exit $status
