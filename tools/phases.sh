# Sourced by `make test` and `make check-all` (bash): make targets run as timed phases.
#
#   phase TARGET        make TARGET; prints its wall time and its CPU time (user + sys of
#                       every process it started: kernels, Chromium, TeX; tools/cputime.py),
#                       which other programs on a shared machine disturb less than the wall
#                       time
#   lanes "A B" "C D"   two lanes side by side, one per core: A then B, and C then D; a lane
#                       stops at its first failure. Each lane's output is printed when both
#                       end, then the lanes' wall times. An item "@X" waits until the other
#                       lane has passed phase X (and fails if X failed or never ran there)
#   fail NAME           print that NAME failed, exit 1
#
# MAKE_CMD is the make to run (the Makefile passes "$(MAKE) --no-print-directory").

MAKE_CMD=${MAKE_CMD:-make --no-print-directory}

phase() {
  local target=$1 times rc=0 wall user sys
  times=$(mktemp)
  echo; echo "==> make $target"
  # tools/cputime.py: wall, user and sys of make and of every process it started (Chromium's
  # helpers included, which bash's time would miss)
  python3 tools/cputime.py "$times" $MAKE_CMD "$target" || rc=$?
  read -r wall user sys < "$times"
  rm -f "$times"
  local cpu
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.0f", u + s }')
  wall=$(awk -v w="$wall" 'BEGIN { printf "%.0f", w }')
  if [ "$rc" -eq 0 ]; then
    echo "==> make $target: passed in $wall s (CPU $cpu s)"
    [ -z "${LANES_DIR:-}" ] || touch "$LANES_DIR/passed-$target"
  else
    echo "==> make $target: FAILED after $wall s (CPU $cpu s)"
  fi
  return "$rc"
}

# after X: wait (in a lane) until the other lane has passed phase X
after() {
  local target=$1 start=$SECONDS
  while [ ! -e "$LANES_DIR/passed-$target" ]; do
    if [ -e "$LANES_DIR/end-$OTHER_LANE" ]; then
      echo; echo "==> waited for make $target in the other lane: it did not pass"
      return 1
    fi
    sleep 1
  done
  echo; echo "==> waited $(( SECONDS - start )) s for make $target in the other lane"
}

_lane() {  # _lane N "TARGETS": lane N's phases in order, stopping at the first failure
  local n=$1 t s=$SECONDS
  trap "touch '$LANES_DIR/end-$n'" EXIT
  OTHER_LANE=$(( 3 - n ))
  for t in $2; do
    if [ "${t#@}" != "$t" ]; then after "${t#@}" || exit 1; else phase "$t" || exit 1; fi
  done
  echo "$(( SECONDS - s ))" > "$LANES_DIR/t$n"
}

lanes() {
  local logs start=$SECONDS
  logs=$(mktemp -d)
  echo; echo "==> side by side: [$1] and [$2] (each lane's output follows when both end)"
  ( LANES_DIR=$logs; _lane 1 "$1" ) > "$logs/1" 2>&1 & local p1=$!
  ( LANES_DIR=$logs; _lane 2 "$2" ) > "$logs/2" 2>&1 & local p2=$!
  local rc1=0 rc2=0
  wait "$p1" || rc1=$?
  wait "$p2" || rc2=$?
  cat "$logs/1" "$logs/2"
  echo
  echo "==> lane [$1]: $( [ $rc1 -eq 0 ] && echo "passed in $(cat "$logs/t1") s" || echo FAILED )," \
       "lane [$2]: $( [ $rc2 -eq 0 ] && echo "passed in $(cat "$logs/t2") s" || echo FAILED );" \
       "both in $(( SECONDS - start )) s"
  rm -rf "$logs"
  [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ]
}

fail() { echo; echo "==> make $1: FAILED"; exit 1; }
