#!/usr/bin/env python3
"""Snakemake --cluster-status for Slurm: prints running, success or failed for one job id
(`sbatch --parsable` output: "ID" or "ID;CLUSTER"). Asks sacct (accounting), then scontrol
(the controller's memory, which keeps finished jobs for MinJobAge seconds)."""
import subprocess
import sys
import time

RUNNING = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED",
           "REQUEUE_FED", "REQUEUE_HOLD", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED"}
SUCCESS = {"COMPLETED"}


def query(command):
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout
    except (subprocess.SubprocessError, OSError):
        return ""


def state_of(job, cluster):
    where = ["-M", cluster] if cluster else []
    lines = query(["sacct", *where, "-j", job, "-X", "-n", "-P", "-o", "State"]).split()
    if lines:
        return lines[0].split()[0].rstrip("+")  # "CANCELLED by 123" -> CANCELLED
    for field in query(["scontrol", *where, "show", "job", job, "-o"]).split():
        if field.startswith("JobState="):
            return field.split("=", 1)[1]
    return ""


def main():
    job, _, cluster = sys.argv[1].partition(";")
    for attempt in range(5):  # a busy controller may not answer at once
        state = state_of(job, cluster)
        if state:
            break
        time.sleep(2 * (attempt + 1))
    if state in RUNNING:
        print("running")
    elif state in SUCCESS:
        print("success")
    else:
        if not state:
            print(f"status.py: Slurm knows no job {job} (neither sacct nor scontrol)",
                  file=sys.stderr)
        print("failed")


if __name__ == "__main__":
    main()
