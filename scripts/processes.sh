# Starting and stopping the local stand-ins, for scripts/demo.sh and cli/tests/e2e.sh (sourced).
#
# The sourcing script defines `die` and the array `started_pids`, and appends the PID of every
# process it starts. On exit, error, Ctrl-C or TERM, `cleanup` stops exactly those processes and
# their descendants (the function instance cargo-lambda spawns runs in its own process group, so
# it is found by parentage, not by group): TERM first (cargo-lambda stops its instance on TERM),
# KILL after 5 s, never anything the script did not start.

# Direct and indirect children of a PID.
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}

# Whether a PID is running (a zombie is not).
alive() {
  local state
  state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [[ "$state" != Z* ]]
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "${#started_pids[@]}" -gt 0 ]; then
    local pid all=() i
    for pid in "${started_pids[@]}"; do
      all+=("$pid")
      while read -r i; do [ -n "$i" ] && all+=("$i"); done < <(descendants "$pid")
    done
    kill -TERM "${started_pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 50); do
      local left=0
      for pid in "${all[@]}"; do alive "$pid" && left=1; done
      [ "$left" -eq 0 ] && break
      sleep 0.1
    done
    for pid in "${all[@]}"; do
      if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
    for pid in "${started_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Waits until 127.0.0.1:PORT accepts a TCP connection, or dies if PID exits or SECONDS pass,
# showing the end of LOG: wait_for_port PORT PID SECONDS WHAT LOG.
wait_for_port() {
  local port=$1 pid=$2 seconds=$3 what=$4 log=$5 start=$SECONDS
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if ! alive "$pid"; then
      tail -n 20 "$log" >&2 || true
      die "$what exited before it listened on port $port (log: $log)"
    fi
    if [ $((SECONDS - start)) -ge "$seconds" ]; then
      tail -n 20 "$log" >&2 || true
      die "$what did not listen on port $port within ${seconds}s (log: $log)"
    fi
    sleep 0.05
  done
}
