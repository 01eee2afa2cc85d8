#!/usr/bin/env bash
# Builds gpu-bundle/ (git-ignored): what `scripts/gpu/gpu_check.sh` needs on a bare NVIDIA
# machine that has Python and a CUDA PyTorch but no Deno, no npm packages, no Vulkan loader and
# no network. Run it here, where Deno (set-up's .tools/), the npm registry and apt-get work:
#
#   deno.xz        this tree's Deno binary, xz-compressed (unpacked by Python's lzma there)
#   npm.tar.xz     a DENO_DIR holding only the npm packages the check's module graph imports
#                  (scripts/gpu/config.json), without source maps, type declarations and tests
#   debs/          Debian's Vulkan loader (libvulkan1), from `apt-get download`
#   vulkan/        the same package unpacked (libvulkan.so.1), so no dpkg is needed there
#   MANIFEST.txt   sizes and SHA-256 sums
#
# The whole bundle must stay under 64 MiB (the budget of what travels with the working tree);
# the script fails if it does not.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/gpu-bundle"
DENO="$ROOT/.tools/node_modules/.bin/deno"
BUDGET=$((64 * 1024 * 1024))
say() { printf '[gpu-bundle] %s\n' "$*" >&2; }
die() { printf '[gpu-bundle] ERROR: %s\n' "$*" >&2; exit 1; }

[ -x "$DENO" ] || die "no Deno at $DENO: run scripts/setup.sh first"
command -v xz >/dev/null || die "xz is needed (Debian: apt-get install xz-utils)"
command -v apt-get >/dev/null || die "apt-get is needed to download the Vulkan loader"
DENO_BIN="$(readlink -f "$("$DENO" eval 'console.log(Deno.execPath())')")"

rm -rf "$OUT"
mkdir -p "$OUT/debs" "$OUT/vulkan"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

say "compressing Deno $("$DENO" --version | head -1 | cut -d' ' -f2) ($DENO_BIN)"
xz -6 -T2 -c "$DENO_BIN" >"$OUT/deno.xz"

say "caching the check's npm packages into a fresh DENO_DIR (npm registry)"
DENO_DIR="$TMP/deno_dir" "$DENO" cache --quiet --no-lock --config "$ROOT/scripts/gpu/config.json" \
  "$ROOT/scripts/gpu/check.ts" "$ROOT/lib/backend.ts"
# Files Deno never reads at run time (no type check, no source maps): about 330 -> 95 MB.
find "$TMP/deno_dir/npm" -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' \
  -o -name '*.d.cts' -o -name '*.min.js.html' -o -name '*_test.js' -o -name '*.tsbuildinfo' \) -delete
find "$TMP/deno_dir/npm" -type d -name miniprogram -prune -exec rm -rf {} +
tar -C "$TMP/deno_dir" -cf - npm | xz -6 -T2 >"$OUT/npm.tar.xz"

say "downloading the Vulkan loader (apt-get download libvulkan1)"
(cd "$OUT/debs" && apt-get download -qq libvulkan1) || die "apt-get download libvulkan1 failed"
for deb in "$OUT"/debs/*.deb; do dpkg-deb -x "$deb" "$OUT/vulkan"; done
rm -rf "$OUT/vulkan/usr/share/doc"

(cd "$OUT" && find . -type f ! -name MANIFEST.txt -printf '%s %p\n' | sort -k2 >MANIFEST.txt &&
  find . -type f ! -name MANIFEST.txt -exec sha256sum {} + | sort -k2 >>MANIFEST.txt)
size=$(du -sb "$OUT" | cut -f1)
[ "$size" -le "$BUDGET" ] || die "bundle is $((size / 1048576)) MiB, over the 64 MiB budget"
say "gpu-bundle/: $((size / 1048576)) MiB of 64 ($(ls "$OUT" | tr '\n' ' '))"
