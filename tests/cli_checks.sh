# Shared by the command-line test scripts (source it after setting $work, a scratch folder):
# check, expect_error and quiet count failures in $fails; wait_for polls a log.
fails=0
check() {  # check NAME COMMAND...: the command succeeds
  local name=$1; shift
  if "$@"; then echo "ok: $name"; else echo "FAILED: $name"; fails=$((fails + 1)); fi
}
expect_error() {  # expect_error NAME PATTERN COMMAND...: non-zero exit (not a timeout), PATTERN in the output
  local name=$1 pattern=$2; shift 2
  local out rc=0
  out=$(timeout 120 "$@" 2>&1) || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q -- "$pattern" <<<"$out"; then echo "ok: $name"
  else echo "FAILED: $name (exit $rc): $out"; fails=$((fails + 1)); fi
}
quiet() {  # quiet COMMAND...: its output only when it fails
  "$@" >"$work/quiet.log" 2>&1 || { tail -8 "$work/quiet.log"; return 1; }
}
wait_for() {  # wait_for FILE PATTERN: up to 60 s
  for _ in $(seq 1 600); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
