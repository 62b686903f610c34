#!/usr/bin/env bash
# The Slurm profile for real (issue 13): starts a one-node Slurm cluster on this machine (munged,
# slurmctld, slurmd, as root, with a minimal slurm.conf in a temp folder, private ports and a
# private munge socket), runs the tiny study through sbatch with workflow/profiles/slurm, checks
# that every job went through Slurm (Slurm's job-completion log: one COMPLETED record per job
# Snakemake submitted, named ishannot-<rule>; the sbatch logs) and that the results equal the
# local run's, then stops the daemons it started, by their pids.
# Where it cannot run (not root, packages missing, a daemon that does not start), it says exactly
# why and exits 0 (skipped). Run by .ci/run after tests/workflow/check_tiny.sh.
# Usage: tests/workflow/check_slurm.sh LOCAL_RUN   (the ishannot-tiny folder of a local run, e.g.
#        WORKDIR/local/ishannot-tiny from check_tiny.sh)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
reference="${1:?usage: check_slurm.sh LOCAL_RUN (the ishannot-tiny folder of a local run)}"
bin="${ISHANNOT_BINARY:-$repo/build/ishannot}"
log() { echo "[check_slurm $(date +%H:%M:%S)] $*" >&2; }
skip() { log "SKIPPED: $*"; exit 0; }
fail() { log "FAILED: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || skip "starting munged, slurmctld and slurmd needs root (running as $(id -un))"
for tool in munged munge unmunge slurmctld slurmd sbatch scontrol sinfo snakemake python3; do
  command -v "$tool" > /dev/null || skip "$tool is not installed (scripts/setup.sh installs slurm-wlm and munge)"
done
[[ -r /etc/munge/munge.key ]] || skip "no /etc/munge/munge.key (the munge package creates it)"
[[ -f "$reference/summary.tsv" ]] || fail "$reference/summary.tsv: no local run to compare with"

tmp="$(mktemp -d /tmp/ishannot-slurm.XXXXXX)"
pids=()
stop_daemons() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
}
trap stop_daemons EXIT
started() {  # NAME PID LOG: the daemon is still alive a moment after its start
  sleep 2
  kill -0 "$2" 2> /dev/null || skip "$1 did not start on this machine: $(tail -3 "$3" | tr '\n' ' ')"
}

# --- munge on a private socket --------------------------------------------------------------
munged --foreground --force --socket="$tmp/munge.socket" --pid-file="$tmp/munged.pid" \
  --log-file="$tmp/munged.log" --seed-file="$tmp/munged.seed" > "$tmp/munged.out" 2>&1 &
pids+=($!)
started munged "${pids[-1]}" "$tmp/munged.log"
munge -n -S "$tmp/munge.socket" | unmunge -S "$tmp/munge.socket" > /dev/null 2>&1 ||
  skip "munge credentials do not round-trip through $tmp/munge.socket"

# --- slurm.conf: one node with this machine's CPUs, state and spool in the temp folder -------
read -r ctld_port slurmd_port < <(python3 -c '
import socket
ports = []
for _ in range(2):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ports.append(s); 
print(*[s.getsockname()[1] for s in ports])')
host="$(hostname -s)"
cpus="$(nproc)"
memory=$(($(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) - 1024))
mkdir -p "$tmp/state" "$tmp/spool"
cat > "$tmp/slurm.conf" << CONF
ClusterName=ishannot-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$tmp/jobcomp.log
MinJobAge=3600
ReturnToService=2
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$tmp/slurm.conf"
slurmctld -D -i -f "$SLURM_CONF" > "$tmp/slurmctld.out" 2>&1 &
pids+=($!)
started slurmctld "${pids[-1]}" "$tmp/slurmctld.log"
slurmd -D -f "$SLURM_CONF" > "$tmp/slurmd.out" 2>&1 &
pids+=($!)
started slurmd "${pids[-1]}" "$tmp/slurmd.log"
for _ in $(seq 60); do
  state="$(sinfo -h -n "$host" -o %T 2> /dev/null || true)"
  [[ "$state" == idle* ]] && break
  sleep 1
done
[[ "$state" == idle* ]] || skip "node $host is '${state:-unknown}', not idle: $(tail -3 "$tmp/slurmd.log" | tr '\n' ' ')"
job=$(sbatch --parsable --wrap true -o /dev/null) || skip "sbatch --wrap true was refused"
log "Slurm up: node $host ($cpus CPUs, $memory MB), test job $job"

# --- the tiny study through sbatch -----------------------------------------------------------
run="$tmp/run"
mkdir -p "$run"
start=$(date +%s)
snakemake -s "$repo/workflow/Snakefile" --configfile "$repo/workflow/tiny.yaml" \
  --config "ishannot=$bin" -d "$run" --profile "$repo/workflow/profiles/slurm" \
  > "$run/snakemake.log" 2>&1 || { tail -30 "$run/snakemake.log"; fail "the workflow failed under Slurm ($run)"; }
log "workflow under Slurm: $(($(date +%s) - start)) s"

# Every job Snakemake submitted is in Slurm's completion log: completed, under its rule's name,
# with the CPUs, memory and time limit its rule declares in tiny.yaml.
submitted=$(grep -c "Submitted job .* with external jobid" "$run/snakemake.log" || true)
((submitted > 0)) || fail "Snakemake submitted no job to Slurm"
/usr/bin/python3 - "$tmp/jobcomp.log" "$repo/workflow/tiny.yaml" "$submitted" << 'PY' ||
import re, sys, yaml
log, config, submitted = sys.argv[1], sys.argv[2], int(sys.argv[3])
resources = yaml.safe_load(open(config))["resources"]
records = [dict(f.split("=", 1) for f in line.split() if "=" in f)
           for line in open(log) if "Name=ishannot-" in line]
rules = sorted({r["Name"][len("ishannot-"):] for r in records})
print(f"Slurm completion log: {len(records)} ishannot jobs for {submitted} submissions; rules: "
      + " ".join(rules), file=sys.stderr)
problems = [] if len(records) == submitted else ["record count"]
for r in records:
    rule = r["Name"][len("ishannot-"):]
    want = resources[rule.replace("_tl_mtl", "").replace("_tl", "")]
    tres = dict(t.split("=") for t in r["Tres"].split(","))
    got = (r["JobState"], r["TimeLimit"], tres["mem"], tres["cpu"])
    expected = ("COMPLETED", str(want["runtime"]), f"{want['mem_mb']}M", str(want["threads"]))
    if got != expected:
        problems.append(f"job {r['JobId']} ({rule}): {got}, expected {expected}")
for rule in ["synth", "extract_tl", "merge_tl", "finetune", "extract_tl_mtl", "merge_tl_mtl",
             "baseline", "evaluate"]:
    if rule not in rules:
        problems.append(f"no Slurm job ran rule {rule}")
print("\n".join(problems), file=sys.stderr)
sys.exit(1 if problems else 0)
PY
  fail "Slurm's completion log does not match the submitted jobs ($tmp/jobcomp.log)"
[[ $(ls "$run/slurm-logs" | wc -l) -eq $submitted ]] || fail "expected $submitted sbatch logs in $run/slurm-logs"

# Same results as the local run.
python3 "$repo/tests/workflow/compare_evaluations.py" "$reference" "$run/ishannot-tiny" ||
  fail "the results under Slurm differ from the local run's"
cmp "$reference/summary.tsv" "$run/ishannot-tiny/summary.tsv" || fail "summary.tsv differs"
stop_daemons
trap - EXIT
rm -rf "$tmp"
log "OK: $submitted jobs through Slurm, results equal to the local run's; daemons stopped"
