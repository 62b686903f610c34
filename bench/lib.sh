# Shared by the bench/*.sh scripts that compare ishannot with a peer (source it; it expects
# load_max, wait_max and libdir to be set by the caller).
load1() { cut -d' ' -f1 /proc/loadavg; }
# Waits until the 1-minute load average is below load_max (checks every 60 s, at most wait_max
# seconds); prints the load the run starts at, with '!' when it never got quiet.
wait_quiet() {
  local waited=0
  while awk -v l="$(load1)" -v m="$load_max" 'BEGIN{exit !(l >= m)}'; do
    if ((waited >= wait_max)); then echo "$(load1)!"; return; fi
    sleep 60; waited=$((waited + 60))
  done
  load1
}
# LD_LIBRARY_PATH selecting libblas.so.3: Debian's reference BLAS or OpenBLAS (pthread).
blas_path() {
  case "$1" in
    reference) echo "$libdir/blas:$libdir/lapack" ;;
    openblas) echo "$libdir/openblas-pthread" ;;
    *) echo "unknown BLAS $1" >&2; exit 2 ;;
  esac
}
median() { sort -g | awk '{v[NR]=$1} END{print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
