# Helpers of the workflow's rules (workflow/Snakefile): how a job runs ishannot, the inputs and
# arguments that depend on the config.
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(workflow.basedir, "scripts"))
import summarise  # noqa: E402  (the summary rule's writer)


def run_ishannot(args, threads, log, folder=None):
    """Runs `ishannot GLOBAL --threads T ARGS...`; stdout is dropped, the command line and stderr
    (progress, and the one-line error naming the file) go to the log; a failure fails the job.
    With `folder`, the command writes partial(folder), moved into place once complete."""
    command = ISHANNOT + ["--threads", str(threads)] + [str(a) for a in args]
    if folder:
        shutil.rmtree(partial(folder), ignore_errors=True)
    with open(log[0], "w") as err:
        err.write(f"$ {' '.join(command)}\n")
        err.flush()
        status = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=err).returncode
    if status != 0:
        with open(log[0]) as err:
            last = (err.read().strip().splitlines() or [""])[-1]
        raise RuntimeError(f"ishannot {args[0]} exited with {status}: {last} (log: {log[0]})")
    if folder:
        os.replace(partial(folder), folder)


def write_summary(input, output):
    """The summary rule: every evaluation's summary in one TSV and one Table-2 style markdown."""
    summarise.write_summary(list(input), output.tsv, output.md)


def partial(path):
    return f"{path}.partial"


def words(text):
    """A config string of extra options ("--lr 0.01 --hidden 512") as arguments."""
    return str(text).split()


def data_input(wildcards):
    """The synthetic manifest when the workflow makes the data; a user's data is not a job."""
    return [] if config["data"] else [DATA]


def shard_or_whole(store, shard_pattern):
    """The path a job extracts into: the store itself, or one shard of it when shards > 1."""
    return store if SHARDS == 1 else shard_pattern


def shard_args(wildcards):
    return ["--shard", f"{wildcards.shard}/{SHARDS}"] if SHARDS > 1 else []


def resources_of(rule_name):
    return {k: RES[rule_name][k] for k in ("mem_mb", "runtime")}


def evaluate_inputs(wildcards):
    if wildcards.method == "tl":
        return [f"{OUT}/tl/features.h5"]
    if wildcards.method == "sc":
        return [f"{OUT}/sc/features.h5"]
    return expand(f"{OUT}/tl-mtl/{wildcards.stage}/features{{fold}}.h5", fold=range(FOLDS))


def evaluate_args(wildcards, output):
    if wildcards.method == "tl":
        features = ["--features", f"{OUT}/tl/features.h5", "--method", "TL"]
    elif wildcards.method == "sc":
        features = ["--features", f"{OUT}/sc/features.h5", "--layers", SC["layer"], "--method", "SC"]
    else:  # one store per outer fold; evaluate fills in {stage} and {fold}
        features = ["--fold-features", f"{OUT}/tl-mtl/{{stage}}/features{{fold}}.h5",
                    "--method", "TL+MTL"]
    return ["evaluate", "--data", DATA, *features, "--stages", wildcards.stage, "--folds", FOLDS,
            *TERMS, *words(config["evaluate"]["args"]), "--out", partial(output[0])]
