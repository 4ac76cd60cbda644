#!/usr/bin/env bash
# Renders the app icon from its source, assets/icon.svg, into assets/icons/:
#   gsprov-{16,32,48,64,128,256,512}.png  Linux (hicolor theme, AppImage), cargo-packager
#   gsprov.ico                             Windows (16..256 in one file)
#   gsprov.icns                            macOS (16..512 in one file)
# The results are committed, so packaging needs none of these tools; run this after
# editing the SVG. Needs rsvg-convert (librsvg2-bin), icotool (icoutils) and png2icns
# (icnsutils), all Debian packages:
#   apt-get install librsvg2-bin icoutils icnsutils
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in rsvg-convert icotool png2icns; do
  command -v "$tool" >/dev/null || { echo "icons.sh: $tool is missing (apt-get install librsvg2-bin icoutils icnsutils)" >&2; exit 1; }
done

out=assets/icons
mkdir -p "$out"
for size in 16 32 48 64 128 256 512; do
  rsvg-convert --width "$size" --height "$size" assets/icon.svg --output "$out/gsprov-$size.png"
done
icotool --create --output "$out/gsprov.ico" "$out"/gsprov-{16,32,48,64,128}.png --raw="$out/gsprov-256.png"
# png2icns picks the icon type from each PNG's size; 64 has no ICNS slot.
png2icns "$out/gsprov.icns" "$out"/gsprov-{16,32,48,128,256,512}.png >/dev/null
ls -l "$out"
