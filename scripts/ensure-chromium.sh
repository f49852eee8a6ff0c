#!/usr/bin/env bash
# Installs Debian's Chromium when it is missing (e2e tests, and its SwiftShader Vulkan driver for WebGPU in
# Node). Never downloads a browser of its own (no `npx playwright install`).
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -f /usr/lib/chromium/vk_swiftshader_icd.json ]; then
  exit 0
fi
echo "Chromium is missing: installing Debian's chromium package..."
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
