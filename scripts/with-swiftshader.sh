#!/usr/bin/env bash
# Runs a command with Chromium's SwiftShader Vulkan driver visible to Dawn (the `webgpu` npm package), so
# WebGPU kernels run for real in Node on a machine without a GPU. A real GPU's driver, if any, still wins.
if [ -f /usr/lib/chromium/vk_swiftshader_icd.json ] && [ -z "${VK_ICD_FILENAMES:-}" ]; then
  export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
  export LD_LIBRARY_PATH="/usr/lib/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
exec "$@"
