"""Soak test (not in CI): kill `fou-review run` and a score writer at random moments, many times.

    .venv/bin/python bench/soak_publish.py                 # 200 runs killed, 200 score writers killed
    .venv/bin/python bench/soak_publish.py --runs 20 --writers 20 --seed 1

Works in a scratch project in /tmp: params/, data/, notebooks/ and the package (`code/fou_review`,
first on PYTHONPATH) as committed in `--tree` (default HEAD), so that edits to the working tree
during the soak do not change the records it makes. Each round starts
`fou-review run 2022 --supersede` and kills it (SIGKILL, no clean-up) at a random moment of a full
run, or, one round in three, at a random publishing step through the `FOU_REVIEW_FAULT` hook (a
random moment rarely hits the instant of the swap). After every kill it checks:

* no half record: `reports/2022/` holds exactly the record's files, `superseded/1..n` each hold
  exactly them, every manifest is JSON, each record's `supersedes` names the one before it by its
  hash, and a superseded record, once seen, never changes;
* no leftover published: nothing whose name starts with a dot inside a record folder;
* every tenth round a run is left to finish: it must exit 0, remove every leftover and leave no
  hidden entry in `reports/`; `verify` must exit 0.

Then each score-writer round starts a process that saves random scores through
`fou_review.workbook.scorestore.ScoreStore` as fast as it can, kills it at a random moment, and opens
the store again: no change may be on disk that the log never saw (`recovery.unresolved` empty),
and after opening, the file must hold the last logged value of every logged cell.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FAULT_ENV = "FOU_REVIEW_FAULT"
YEAR = "2022"
REVIEWER = "ledamot-a"
WRITER = f"""
import random, sys
from fou_review.core.load import load_params
from fou_review.workbook.scorestore import ScoreStore
root = sys.argv[1]
params = load_params(root, {YEAR})
store = ScoreStore(root, params, {REVIEWER!r})
apps = sorted({{k[0] for k in store.read().scores}})
codes = list(params.criterion_codes())
lo, hi = params.scale.minimum, params.scale.maximum
rng = random.Random(int(sys.argv[2]))
print("ready", flush=True)
while True:
    store.set_score(rng.choice(apps), rng.choice(codes), rng.choice([None, *range(lo, hi + 1)]))
"""


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Soak:
    def __init__(self, root: Path, seed: int) -> None:
        self.root = root
        self.reports = root / "reports"
        self.rng = random.Random(seed)
        self.seen: dict[str, dict[str, bytes]] = {}  # superseded/<n> -> its files, first time seen
        self.problems: list[str] = []
        self.counts: Counter[str] = Counter()
        self.env = {k: v for k, v in os.environ.items() if k != FAULT_ENV} | {
            "TMPDIR": str(root / "tmp"), "PYTHONPATH": str(root / "code")}
        from fou_review.yearly.publish import RECORD_FILES, STEPS

        self.record_files, self.steps = set(RECORD_FILES), STEPS

    def cli(self, *args: str, fault: str | None = None) -> subprocess.Popen[str]:
        env = self.env | ({FAULT_ENV: fault} if fault else {})
        return subprocess.Popen([sys.executable, "-m", "fou_review", "--root", str(self.root), *args], env=env,
                                cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def finish(self, *args: str) -> subprocess.CompletedProcess[str]:
        process = self.cli(*args)
        out, err = process.communicate()
        return subprocess.CompletedProcess(args, process.returncode, out, err)

    def problem(self, text: str) -> None:
        self.problems.append(text)
        print(f"  PROBLEM: {text}", flush=True)

    # -- the record ----------------------------------------------------------------------------
    def check_record(self, when: str) -> None:
        target = self.reports / YEAR
        if not target.is_dir():
            self.problem(f"{when}: reports/{YEAR} is missing")
            return
        hidden = [p.relative_to(target).as_posix() for p in target.rglob(".*")]
        if hidden:
            self.problem(f"{when}: hidden entries inside the record: {hidden}")
        top = {p.name for p in target.iterdir()}
        numbers = sorted(int(p.name) for p in (target / "superseded").iterdir()) if "superseded" in top else []
        if numbers != list(range(1, len(numbers) + 1)):
            self.problem(f"{when}: superseded records {numbers}")
        previous = None
        for folder in [*(target / "superseded" / str(n) for n in numbers), target]:
            names = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
                     if p.is_file() and not p.relative_to(folder).as_posix().startswith("superseded/")}
            if not self.record_files <= names <= self.record_files | {"data/followup.csv"}:
                self.problem(f"{when}: {folder.relative_to(self.root)} holds {sorted(names)}")
                return
            try:
                manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            except ValueError:
                self.problem(f"{when}: {folder.relative_to(self.root)}/manifest.json is not JSON")
                return
            supersedes = manifest.get("supersedes")
            expected = None if previous is None else sha((previous / "allocation.html").read_bytes())
            if (supersedes or {}).get("sha256") != expected:
                self.problem(f"{when}: {folder.relative_to(self.root)} supersedes {supersedes}, expected {expected}")
            previous = folder
        for n in numbers:
            key = str(n)
            files = {p.relative_to(target).as_posix(): p.read_bytes()
                     for p in (target / "superseded" / key).rglob("*") if p.is_file()}
            if self.seen.setdefault(key, files) != files:
                self.problem(f"{when}: superseded/{key} changed after it was published")

    def kill_run(self, full: float) -> None:
        if self.rng.random() < 1 / 3:
            step = self.rng.choice(self.steps)
            self.counts[f"run stopped at step {step}"] += 1
            process = self.cli("run", YEAR, "--supersede", "--quiet", fault=step)
            process.communicate()
        else:
            self.counts["run killed at a random moment"] += 1
            process = self.cli("run", YEAR, "--supersede", "--quiet")
            time.sleep(self.rng.uniform(0, full * 1.1))
            process.send_signal(signal.SIGKILL)
            process.communicate()
            if process.returncode == 0:
                self.counts["  ... (it had finished)"] += 1

    def clean_run(self, when: str) -> None:
        done = self.finish("run", YEAR, "--supersede", "--quiet")
        if done.returncode != 0:
            self.problem(f"{when}: a run left alone exited {done.returncode}: {done.stderr.strip()}")
        hidden = [p.relative_to(self.reports).as_posix() for p in self.reports.rglob(".*")]
        if hidden:
            self.problem(f"{when}: after a finished run, still hidden in reports/: {hidden}")
        self.check_record(when)
        checked = self.finish("verify", YEAR, "--quiet")
        if checked.returncode != 0:
            self.problem(f"{when}: verify exited {checked.returncode}: {checked.stderr.strip()}")
        self.counts["runs left to finish, verified"] += 1

    # -- the score writer ---------------------------------------------------------------------
    def kill_writer(self, i: int) -> None:
        process = subprocess.Popen([sys.executable, "-c", WRITER, str(self.root), str(i)], env=self.env,
                                   cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            self.problem(f"writer {i}: did not start: {process.communicate()[1]}")
            return
        time.sleep(self.rng.uniform(0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.communicate()
        from fou_review.core.load import load_params
        from fou_review.workbook.scorestore import ScoreStore, read_log

        params = load_params(self.root, int(YEAR))
        store = ScoreStore(self.root, params, REVIEWER)
        recovery = store.recovery
        self.counts["score writers killed"] += 1
        self.counts["  ... the next open repaired a logged change"] += bool(recovery.repaired)
        self.counts["  ... the next open removed a torn log line"] += recovery.torn_line_removed
        if recovery.unresolved:
            self.problem(f"writer {i}: a change on disk the log never saw: {recovery.unresolved}")
        last: dict[tuple[str, str], object] = {}
        for entry in read_log(self.root, int(YEAR), REVIEWER):
            last[(str(entry["application_id"]), str(entry["criterion"]))] = entry.get("new")
        saved = store.read().scores
        wrong = [k for k, v in last.items() if saved.get(k) != v]
        if wrong:
            self.problem(f"writer {i}: after opening, the file lacks logged values for {wrong[:5]}")


def main(argv: list[str]) -> int:
    """Run the soak; exit 1 when any check failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--writers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20220606)
    parser.add_argument("--tree", default="HEAD", help="the commit whose code and inputs are soaked")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="soak-", dir="/tmp"))
    (root / "code").mkdir()
    (root / "tmp").mkdir()
    # the committed state (`--tree`), not the working tree, which others may be editing meanwhile
    archive = subprocess.run(["git", "-C", str(REPO), "archive", args.tree, "params", "data", "notebooks",
                              "fou_review"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    shutil.move(root / "fou_review", root / "code" / "fou_review")
    sys.path.insert(0, str(root / "code"))
    soak = Soak(root, args.seed)
    started = time.monotonic()
    first = soak.finish("run", YEAR, "--quiet")
    if first.returncode != 0:
        print(first.stderr, file=sys.stderr)
        return 1
    timed = time.monotonic()
    second = soak.finish("run", YEAR, "--quiet")  # warm: the time a killed run gets at most
    full = time.monotonic() - timed
    if second.returncode != 0:
        print(second.stderr, file=sys.stderr)
        return 1
    print(f"scratch project {root}; a full run takes {full:.1f} s", flush=True)
    for i in range(1, args.runs + 1):
        soak.kill_run(full)
        soak.check_record(f"round {i}")
        if i % 10 == 0:
            soak.clean_run(f"round {i}")
            print(f"round {i}/{args.runs}: {len(soak.seen)} superseded records, {len(soak.problems)} problems",
                  flush=True)
    for i in range(1, args.writers + 1):
        soak.kill_writer(i)
        if i % 50 == 0:
            print(f"writer {i}/{args.writers}: {len(soak.problems)} problems", flush=True)
    stale = [p.name for p in (root / "tmp").iterdir()]
    kernels = [name for name in stale if name.startswith(("fou-review-kernel-", "fou-review-pdf-"))]
    print(f"\nsummary after {time.monotonic() - started:.0f} s (seed {args.seed}):")
    for what, n in soak.counts.items():
        print(f"  {what}: {n}")
    print(f"  run folders (kernel sockets, workspaces, PDF fonts) left in TMPDIR at the end: {len(kernels)}")
    print(f"  other entries left in TMPDIR at the end: {len(stale) - len(kernels)} "
          f"{sorted({name.split('-')[0] for name in stale if name not in kernels})}")
    print(f"  problems: {len(soak.problems)}")
    for text in soak.problems[:20]:
        print(f"    {text}")
    if not soak.problems:
        shutil.rmtree(root)
    return 1 if soak.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
