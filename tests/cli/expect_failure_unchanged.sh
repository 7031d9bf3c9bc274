#!/bin/sh
# expect_failure_unchanged.sh DIR REGEX COMMAND...: expect_failure.sh REGEX COMMAND... passes, and DIR
# is exactly as before: the same paths with the same contents, or still absent. The lock file of a
# run or grid folder (.gantry.lock) records the pid of its latest holder and is left out.
dir="$1"; shift
here=$(dirname "$0")
snapshot() {
  if [ ! -e "$dir" ]; then echo "(absent)"; return; fi
  (cd "$dir" && find . ! -name .gantry.lock | LC_ALL=C sort | while read -r f; do
    if [ -f "$f" ]; then echo "$f $(cksum < "$f")"; else echo "$f"; fi
  done)
}
before=$(snapshot)
sh "$here/expect_failure.sh" "$@" || exit 1
after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "FAIL: '$dir' changed"
  printf '%s\n' "$before" > "${TMPDIR:-/tmp}/unchanged.before.$$"
  printf '%s\n' "$after" | diff "${TMPDIR:-/tmp}/unchanged.before.$$" - 
  rm -f "${TMPDIR:-/tmp}/unchanged.before.$$"
  exit 1
fi
echo "'$dir' unchanged"
exit 0
