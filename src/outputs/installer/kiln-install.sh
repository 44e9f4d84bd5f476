#!/bin/bash
# kiln's installer, run by kiln-installer.service from an installer ISO: writes the raw disk image
# the ISO carries onto a disk of this machine, checks what the disk returns against the block
# map's sha256 sums, grows the last partition if the recipe asks, then powers off or reboots.
# Everything it needs (bash, coreutils, util-linux; with grow, the growroot layer's kiln-growpart
# and resize2fs) is in the image's own tree, which the ISO boots. Sourced (by kiln's tests), it only defines its functions.
set -euo pipefail

DIR=${KILN_INSTALL_DIR:-/kiln-install}
MiB=$((1024 * 1024))
# Writes and checks go in pieces of this many bytes, so progress shows on the console.
CHUNK=$((64 * MiB))

# Messages go to stderr (the console, under the service); stdout carries the functions' results.
say() { printf 'kiln-installer: %s\n' "$*" >&2; }
fail() { say "$*"; say 'nothing was installed; this machine stays up (log in to look around).'; exit 1; }
mib() { echo $(($1 / MiB)); }

# The disk the installer booted from (a CD drive or the USB stick): never a target.
boot_disk() {
  local source
  source=$(findmnt -n -o SOURCE /run/live/medium 2>/dev/null || true)
  [ -n "$source" ] || return 0
  lsblk -n -o PKNAME "$source" 2>/dev/null | head -n1 | grep . || basename "$source"
}

# Disks that could take the image, one per line: "NAME SIZE" (bytes). stdin: `lsblk -dnb -o
# NAME,SIZE,RM,RO,TYPE`; $1: the boot disk. Removable, read-only, zero-sized and non-disk
# devices (loop, rom, zram) never qualify.
candidates() {
  local boot=$1 name size rm ro type
  while read -r name size rm ro type || [ -n "$name" ]; do
    [ "$type" = disk ] && [ "$rm" = 0 ] && [ "$ro" = 0 ] && [ "$size" -gt 0 ] || continue
    [ "$name" != "$boot" ] && [[ $name != zram* ]] || continue
    echo "$name $size"
  done
}

# auto: the largest candidate; none, or two of the largest size, is a refusal. stdin: candidates.
pick_auto() {
  local list first second
  list=$(sort -k2,2nr -k1,1)
  [ -n "$list" ] || fail 'found no disk to install on (removable disks and the installer medium do not count); set installer.target in the recipe'
  first=$(sed -n 1p <<<"$list")
  second=$(sed -n 2p <<<"$list")
  if [ -n "$second" ] && [ "${first#* }" = "${second#* }" ]; then
    fail "$(printf 'more than one disk could be the target (%s): set installer.target in the recipe, or installer.confirm: true to choose here' "$(awk '{printf "%s%s %d MiB", (NR>1?", ":""), $1, $2/1048576}' <<<"$list")")"
  fi
  echo "/dev/${first%% *}"
}

# confirm: true. Lists the disks with size and model, reads the choice from the console.
ask_target() {
  local suggested=$1 answer
  say 'disks on this machine:'
  lsblk -d -o NAME,SIZE,MODEL,TRAN,RM | sed 's/^/  /' >&2
  say "every byte on the chosen disk will be replaced by the image $IMAGE ($(mib "$IMAGE_SIZE") MiB)."
  printf 'kiln-installer: type a disk name to install on%s, or nothing to cancel: ' "${suggested:+ (e.g. ${suggested#/dev/})}" >&2
  read -r answer || answer=
  [ -n "$answer" ] || fail 'canceled at the console'
  [[ $answer == /dev/* ]] || answer=/dev/$answer
  echo "$answer"
}

# A disk that cannot take the image is refused before a byte is written.
check_target() {
  local target=$1 size
  [ -e "$target" ] || fail "$target does not exist on this machine"
  size=$(device_size "$target")
  if [ "$size" -lt "$IMAGE_SIZE" ]; then
    fail "$target has $(mib "$size") MiB, less than the image's $(mib "$IMAGE_SIZE") MiB"
  fi
}

device_size() {
  if [ -b "$1" ]; then blockdev --getsize64 "$1"; else stat -c %s "$1"; fi
}

# The block map's ranges ($DIR/ranges: "FIRST LAST SHA256", in blocks of BLOCK_SIZE) are the
# image's data; the rest of the image is holes, never read by its file systems.
# The last block may be cut short by the image's end.
each_range() {
  local first last sum offset length
  while read -r first last sum; do
    offset=$((first * BLOCK_SIZE))
    length=$(((last - first + 1) * BLOCK_SIZE))
    if [ $((offset + length)) -gt "$IMAGE_SIZE" ]; then length=$((IMAGE_SIZE - offset)); fi
    "$@" "$offset" "$length" "$sum"
  done <"$DIR/ranges"
}

# One line per percent at most: the image's first ranges are many and small.
DONE=0
SHOWN=-1
progress() {
  local percent
  DONE=$((DONE + $1))
  percent=$((DONE * 100 / MAPPED))
  [ "$percent" != "$SHOWN" ] || return 0
  SHOWN=$percent
  say "$2 $percent% ($(mib "$DONE") of $(mib "$MAPPED") MiB)"
}

write_range() {
  local offset=$1 length=$2 at n
  for ((at = 0; at < length; at += CHUNK)); do
    n=$((length - at < CHUNK ? length - at : CHUNK))
    dd if="$DIR/$IMAGE" of="$TARGET" bs=4M iflag=skip_bytes,count_bytes oflag=seek_bytes \
      skip=$((offset + at)) seek=$((offset + at)) count=$n conv=notrunc status=none
    progress "$n" writing
  done
}

VERIFY_FAILED=
# One sha256 per range, read in pieces; the loop runs in a pipeline (a subshell), so the
# progress it shows is added to DONE again here.
verify_range() {
  local offset=$1 length=$2 sum=$3 got at n
  got=$(for ((at = 0; at < length; at += CHUNK)); do
    n=$((length - at < CHUNK ? length - at : CHUNK))
    dd if="$TARGET" bs=4M iflag=skip_bytes,count_bytes skip=$((offset + at)) count=$n status=none
    progress "$n" checking
  done | sha256sum)
  [ "${got%% *}" = "$sum" ] || VERIFY_FAILED="$VERIFY_FAILED $((offset / BLOCK_SIZE))+$((length / BLOCK_SIZE))"
  DONE=$((DONE + length))
  SHOWN=$((DONE * 100 / MAPPED))
}

# Writes the image's data, then reads it back from the disk (not the page cache) and compares.
install_image() {
  local size
  size=$(device_size "$TARGET")
  # An old GPT's backup header at the end of a larger disk would contradict the new table.
  if [ "$size" -gt "$IMAGE_SIZE" ] && [ "$size" -ge $((2 * MiB)) ]; then
    dd if=/dev/zero of="$TARGET" bs=1M seek=$((size / MiB - 1)) count=1 conv=notrunc status=none
  fi
  DONE=0 SHOWN=-1
  each_range write_range
  sync
  if [ -b "$TARGET" ]; then blockdev --flushbufs "$TARGET"; fi
  DONE=0 SHOWN=-1
  each_range verify_range
  [ -z "$VERIFY_FAILED" ] || fail "the disk returned other data than was written (blocks+count:$VERIFY_FAILED); the disk may be failing, do not boot it"
}

# The last partition and its ext4 file system take the rest of the disk (grow: true).
grow() {
  local part
  [ -n "${GROW_PARTITION:-}" ] && [ -b "$TARGET" ] || return 0
  say "growing partition $GROW_PARTITION to the end of $TARGET"
  # Exit status 1 is "nothing to grow" (a disk exactly the image's size).
  kiln-growpart "$TARGET" "$GROW_PARTITION" >&2 || [ $? -eq 1 ] || fail "kiln-growpart could not grow partition $GROW_PARTITION"
  partx -u "$TARGET" 2>/dev/null || true
  udevadm settle
  part=$(lsblk -nrp -o NAME,PARTN "$TARGET" | awk -v n="$GROW_PARTITION" '$2 == n { print $1 }')
  [ -b "$part" ] || fail "partition $GROW_PARTITION of $TARGET did not appear after growing"
  if [ "${GROW_FS:-}" = ext4 ]; then
    # resize2fs wants a freshly checked file system; e2fsck's status 1 is "corrected", still fine.
    e2fsck -f -p "$part" >&2 || [ $? -le 1 ] || fail "e2fsck found errors on $part"
    resize2fs "$part" >&2 || fail "resize2fs could not grow $part"
  fi
}

main() {
  # shellcheck source=/dev/null
  . "$DIR/installer.conf"
  say "installing $IMAGE_NAME ($(mib "$IMAGE_SIZE") MiB, $(mib "$MAPPED") MiB of data)"
  udevadm settle || true
  local boot suggested=
  boot=$(boot_disk)
  if [ "$TARGET" = auto ]; then
    if [ "$CONFIRM" = 1 ]; then
      suggested=$(lsblk -dnb -o NAME,SIZE,RM,RO,TYPE | candidates "$boot" | (pick_auto 2>/dev/null || true) | tail -n1)
    else
      TARGET=$(lsblk -dnb -o NAME,SIZE,RM,RO,TYPE | candidates "$boot" | pick_auto) || exit 1
    fi
  fi
  if [ "$CONFIRM" = 1 ]; then
    TARGET=$(ask_target "${TARGET/auto/$suggested}") || exit 1
  fi
  TARGET=$(readlink -f "$TARGET")
  [ "$(basename "$TARGET")" != "$boot" ] || fail "$TARGET is the installer's own medium"
  check_target "$TARGET"
  say "writing $IMAGE onto $TARGET"
  local started=$SECONDS
  install_image
  grow
  sync
  say "installed $IMAGE_NAME onto $TARGET in $((SECONDS - started)) s, checked against the image's sha256 sums"
  if [ "$POWEROFF" = 1 ]; then
    say 'powering off: remove the installer medium, then start the machine'
    systemctl --no-block poweroff
  else
    say 'rebooting into the installed system'
    systemctl --no-block reboot
  fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
