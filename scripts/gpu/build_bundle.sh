#!/usr/bin/env bash
# Builds gpu-bundle/ (git-ignored): what `scripts/gpu/gpu_check.sh` needs on a bare NVIDIA
# machine that has Python and a CUDA PyTorch but no Deno, no npm packages, no Vulkan loader and
# no network. Run it here, where Deno (set-up's .tools/), the npm registry and apt-get work:
#
#   deno.xz        this tree's Deno binary, xz-compressed (unpacked by Python's lzma there)
#   npm.tar.xz     a DENO_DIR holding only the npm packages the check's module graph imports
#                  (scripts/gpu/config.json), without source maps, type declarations and tests
#   debs/          from `apt-get download`: Debian's Vulkan loader (libvulkan1), and OpenBLAS
#                  (libopenblas0-pthread, with libgfortran5) for wasm's products, unpacked there
#                  by Python (a .deb is an ar archive holding a tar)
#   vulkan/        the Vulkan loader unpacked (libvulkan.so.1), plain files
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

say "downloading the Vulkan loader and OpenBLAS (apt-get download)"
(cd "$OUT/debs" && apt-get download -qq libvulkan1 libopenblas0-pthread libgfortran5) ||
  die "apt-get download libvulkan1 libopenblas0-pthread libgfortran5 failed"
for deb in "$OUT"/debs/libvulkan1_*.deb; do dpkg-deb -x "$deb" "$OUT/vulkan"; done
rm -rf "$OUT/vulkan/usr/share/doc"
# Symbolic links do not travel with a working tree copied file by file: keep plain files only.
find "$OUT/vulkan" -type l | while read -r link; do
  cp --remove-destination "$(readlink -f "$link")" "$link"
done

(cd "$OUT" && find . -type f ! -name MANIFEST.txt -printf '%s %p\n' | sort -k2 >MANIFEST.txt &&
  find . -type f ! -name MANIFEST.txt -exec sha256sum {} + | sort -k2 >>MANIFEST.txt)
size=$(du -sb "$OUT" | cut -f1)
[ "$size" -le "$BUDGET" ] || die "bundle is $((size / 1048576)) MiB, over the 64 MiB budget"
say "gpu-bundle/: $((size / 1048576)) MiB of 64 ($(ls "$OUT" | tr '\n' ' '))"
