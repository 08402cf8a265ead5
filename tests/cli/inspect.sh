#!/bin/sh
# inspect.sh — `vkti inspect` on a folder this test makes: BMPs written with printf, the demo
# PNGs, an exact copy (a duplicate), a caption, a text file named .png, a truncated image, a
# zero-byte file, notes and a subfolder. Checks the summary, the contact sheet file, the skip
# reasons, and the errors: a file that is no model or embedding, a missing path, an
# empty folder, a sheet inside the data folder, bad options. Exit codes: 0 usable folder, 1 bad input.
# usage: inspect.sh path/to/vkti   (VKTI_SOURCE_DIR set by ctest, for assets/demo)
VKTI=${1:?usage: inspect.sh path/to/vkti}
SRC=${VKTI_SOURCE_DIR:-$(dirname "$0")/../..}
. "$(dirname "$0")/lib/common.sh"

# bmp FILE W H R G B: a solid-colour 24-bit BMP written with printf (octal escapes)
oct() { printf '\\%03o' $(( $1 & 255 )); }
le32() { printf "$(oct $1)$(oct $(( $1 >> 8 )))$(oct $(( $1 >> 16 )))$(oct $(( $1 >> 24 )))"; }
le16() { printf "$(oct $1)$(oct $(( $1 >> 8 )))"; }
bmp() {
    w=$2; h=$3; stride=$(( (w * 3 + 3) / 4 * 4 ))
    { printf 'BM'; le32 $(( 54 + stride * h )); le32 0; le32 54; le32 40; le32 $w; le32 $h; le16 1; le16 24
      le32 0; le32 $(( stride * h )); le32 2835; le32 2835; le32 0; le32 0; } > "$1"
    px="$(oct $6)$(oct $5)$(oct $4)"; row=""
    i=0; while [ $i -lt $w ]; do row="$row$px"; i=$((i+1)); done
    i=$(( w * 3 )); while [ $i -lt $stride ]; do row="$row\\000"; i=$((i+1)); done
    i=0; while [ $i -lt $h ]; do printf "$row"; i=$((i+1)); done >> "$1"
}

data="$tmp/my data"
mkdir -p "$data/sub" "$tmp/empty" "$tmp/cwd"
bmp "$data/red.bmp" 40 30 220 30 30
bmp "$data/wide.bmp" 90 30 30 30 220
cp "$SRC/assets/demo/demo_00.png" "$data/ball.png"
cp "$SRC/assets/demo/demo_03.png" "$data/ball2.png"
cp "$SRC/assets/demo/demo_00.png" "$data/ball copy.png"
head -c 1500 "$SRC/assets/demo/demo_01.png" > "$data/broken.png"
printf 'a photo of <ball> on the grass\n' > "$data/ball2.txt"
printf 'just some text\n' > "$data/fake.png"
printf '# notes\n' > "$data/notes.md"
: > "$data/zero.jpg"

cd "$tmp/cwd" || exit 1
expect "inspect a folder" 0 ": 5 images, trained at 512x512" -- "$VKTI" inspect "$data"
cp "$tmp/log" "$tmp/first"
expect "... sizes" 0 "sizes: 40..128 wide, 30..128 high" -- cat "$tmp/first"
expect "... aspect ratios" 0 "aspect ratios (width/height): 1.00..3.00" -- "$VKTI" inspect "$data" --no-sheet
expect "... formats" 0 "formats: PNG 3 BMP 2" -- "$VKTI" inspect "$data" --no-sheet
expect "... enlarged" 0 "5 images smaller than the training size" -- "$VKTI" inspect "$data" --no-sheet
expect "... caption" 0 "ball2.png: a photo of <ball> on the grass" -- "$VKTI" inspect "$data" --no-sheet
expect "... exact duplicate" 0 "ball copy.png = 1 ball copy.png\|2 ball.png = 1 ball copy.png" -- "$VKTI" inspect "$data" --no-sheet
expect "... duplicate count" 0 "exact duplicates (same decoded pixels): 1" -- "$VKTI" inspect "$data" --no-sheet
expect "... near-duplicate threshold stated" 0 "Hamming distance <= 8 of 64" -- "$VKTI" inspect "$data" --no-sheet
expect "... truncated file skipped" 0 "broken.png: truncated PNG" -- "$VKTI" inspect "$data" --no-sheet
expect "... text named .png skipped" 0 "fake.png: not a JPEG, PNG or BMP" -- "$VKTI" inspect "$data" --no-sheet
expect "... notes skipped" 0 "notes.md: not an image" -- "$VKTI" inspect "$data" --no-sheet
expect "... subfolder skipped" 0 "sub: a folder" -- "$VKTI" inspect "$data" --no-sheet
expect "... zero-byte file skipped" 0 "zero.jpg: empty file (0 bytes)" -- "$VKTI" inspect "$data" --no-sheet
expect "... skipped count" 0 "skipped: 5 files" -- "$VKTI" inspect "$data" --no-sheet
rm -f "my data-contact-sheet.png"
expect "default contact sheet name" 0 "contact sheet: my data-contact-sheet.png" -- "$VKTI" inspect "$data/"
check "... the sheet is a PNG" sh -c 'head -c 8 "my data-contact-sheet.png" | od -A n -t x1 | grep -q "89 50 4e 47 0d 0a 1a 0a"'
check "... nothing written into the data folder" sh -c '[ $(ls "$1" | wc -l) -eq 11 ]' sh "$data"
expect "--out and --thumb" 0 "contact sheet: $tmp/cwd/s.png (.*thumbnails 64 px)" -- "$VKTI" inspect "$data" --out "$tmp/cwd/s.png" --thumb 64
expect "--no-sheet writes nothing" 0 "" -- "$VKTI" inspect "$data" --no-sheet --resolution 64
check "... no sheet" sh -c '! grep -q "contact sheet" "$1"' sh "$tmp/log"
expect "--buckets" 0 "aspect-ratio buckets" -- "$VKTI" inspect "$data" --buckets --out "$tmp/cwd/b.png"
expect "a file: neither model nor embedding" 1 "neither a model nor an embedding" -- "$VKTI" inspect "$data/red.bmp"
expect "a missing path" 1 "no such file or folder" -- "$VKTI" inspect "$tmp/nope"
expect "an empty folder" 1 "no usable images" -- "$VKTI" inspect "$tmp/empty"
expect "a sheet inside the data folder" 1 "image folder" -- "$VKTI" inspect "$data" --out "$data/sheet.png"
check "... not written" test ! -e "$data/sheet.png"
expect "a sheet not .png" 1 "must end in .png" -- "$VKTI" inspect "$data" --out "$tmp/cwd/s.jpg"
expect "--resolution not a multiple of 8" 1 "multiple of 8" -- "$VKTI" inspect "$data" --resolution 100
expect "--resolution without a number" 1 "positive number" -- "$VKTI" inspect "$data" --resolution big
expect "--thumb too small" 1 "thumbnail size 5: must be from 16 to 4096" -- "$VKTI" inspect "$data" --thumb 5
expect "unknown option" 1 "unknown option" -- "$VKTI" inspect "$data" --frob
expect "no path" 1 "give a folder" -- "$VKTI" inspect
expect "two paths" 1 "one PATH only" -- "$VKTI" inspect "$data" "$tmp/empty"
expect "inspect --help" 0 "usage: vkti inspect" -- "$VKTI" inspect --help
expect "vkti --help lists inspect" 0 "inspect DATADIR" -- "$VKTI" --help
"$VKTI" inspect "$data/red.bmp" >/dev/null 2>"$tmp/err"
check "the neither-model-nor-embedding message is one line" test "$(grep -c . "$tmp/err")" -eq 1

finish
