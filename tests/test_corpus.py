"""The extractor's score on ../shared/corpus, through the documented command (skips without ../shared)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .conftest import shared_dir

ROOT = Path(__file__).resolve().parent.parent


def _score() -> str:
    shared = shared_dir()
    yibao = Path(sys.executable).parent / "yibao"
    cmd = f"{yibao} extract --json"
    done = subprocess.run([sys.executable, str(shared / "tools/score_facts.py"), "--gold", str(shared / "corpus/gold"),
                           "--pages", str(shared / "corpus/pages"), "--cmd", cmd], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _f1(table: str, row: str) -> float:
    m = re.search(rf"^= {row}\s+\d+\s+\d+\s+\d+\s+[\d.]+\s+[\d.]+\s+([\d.]+)$", table, re.M)
    assert m, table
    return float(m.group(1))


def test_corpus_core_and_all_metric_f1():
    table = _score()
    assert _f1(table, "core") >= 0.95, table
    assert _f1(table, "all") >= 0.90, table


def test_holdout_set_scores():
    """Pages written for evaluation by someone who never saw the extractor (tests/data/holdout)."""
    shared = shared_dir()
    holdout = ROOT / "tests" / "data" / "holdout"
    yibao = Path(sys.executable).parent / "yibao"
    done = subprocess.run([sys.executable, str(shared / "tools/score_facts.py"), "--gold", str(holdout / "gold"),
                           "--pages", str(holdout / "pages"), "--cmd", f"{yibao} extract --json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _f1(done.stdout, "core") >= 0.95, done.stdout
    assert _f1(done.stdout, "all") >= 0.93, done.stdout
