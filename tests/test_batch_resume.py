"""A run killed with SIGKILL mid-way resumes without a lost or duplicated line, equal to a clean run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from webcare_nlp.batch import score_file
from webcare_nlp.batch.run import state_path

TEXTS = [
    "Waar blijft mijn pakket? Al een week niks gehoord",
    "Top geholpen door Ilse ^IB, dank jullie!",
    "Kunnen jullie mijn abonnement opzeggen per 1 juni?",
    "Mijn koffer is kapot teruggekomen 😡",
    "Tip: zet de gate ook in de app",
]


def _webcare(*args: str) -> list[str]:
    return [sys.executable, "-c", "from webcare_nlp.cli import app; app()", "score", *args]


def _wait_for_progress(process: subprocess.Popen, output: Path, *, lines: int, timeout: float = 180) -> int:
    """The checkpointed line once it passes `lines`; the run must still be going."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else "exited early"
        try:
            reached = json.loads(state_path(output).read_text())["position"]["line"]
        except (OSError, ValueError, KeyError):
            reached = 0
        if reached >= lines:
            return int(reached)
        time.sleep(0.05)
    raise AssertionError("the run made no progress")


def _archive(path: Path, n: int) -> list[str]:
    lines = []
    for i in range(n):
        lines.append(json.dumps({"id": f"m{i}", "text": f"{TEXTS[i % len(TEXTS)]} #{i}"}))
        if i % 97 == 0:
            lines.append("kapotte regel")  # rejects must not be lost or doubled either
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


@pytest.mark.slow
def test_a_killed_run_resumes_without_loss_or_duplicates(tmp_path, engine):
    n, suffix = 3000, ".jsonl"
    source = tmp_path / "big.jsonl"
    lines = _archive(source, n)
    output = tmp_path / f"scored{suffix}"
    args = [str(source), "--output", str(output), "--chunk-size", "20", "--no-progress"]
    process = subprocess.Popen(_webcare(*args), stderr=subprocess.PIPE, cwd=Path(__file__).parents[1])
    try:
        killed_at = _wait_for_progress(process, output, lines=300)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert killed_at < len(lines) and not output.exists()  # a killed run leaves no output that looks complete

    resumed = subprocess.run(_webcare(*args, "--resume"), capture_output=True, cwd=Path(__file__).parents[1])
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert b"resumed at line" in resumed.stderr
    assert not state_path(output).exists()

    clean = tmp_path / f"clean{suffix}"
    summary = score_file(str(source), str(clean), engine=engine, chunk_size=20)
    assert output.read_bytes() == clean.read_bytes()
    rejects = Path(f"{output}.rejects.jsonl").read_bytes()
    assert rejects == Path(f"{clean}.rejects.jsonl").read_bytes()
    assert summary.scored == n and summary.rejected == len(lines) - n


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_an_interrupted_table_output_resumes(tmp_path, engine, monkeypatch, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
        monkeypatch.setattr("webcare_nlp.batch.writers.PARQUET_PART_ROWS", 45)  # a checkpoint every 3 chunks
    source = tmp_path / "in.jsonl"
    lines = _archive(source, 300)
    output, clean = tmp_path / f"out{suffix}", tmp_path / f"clean{suffix}"

    def stop(position, summary):  # type: ignore[no-untyped-def]
        if summary.lines > 160:
            raise Interrupt

    with pytest.raises(Interrupt):
        score_file(str(source), str(output), engine=engine, chunk_size=15, progress=stop)
    assert not output.exists() and state_path(output).exists()
    summary = score_file(str(source), str(output), engine=engine, chunk_size=15, resume=True)
    assert 0 < summary.resumed_at < len(lines)
    assert summary.lines == summary.scored + summary.rejected == len(lines)
    score_file(str(source), str(clean), engine=engine, chunk_size=15)
    if suffix == ".csv":
        assert output.read_bytes() == clean.read_bytes()
    else:
        import pyarrow.parquet as pq

        assert pq.read_table(output).equals(pq.read_table(clean))
    assert Path(f"{output}.rejects.jsonl").read_bytes() == Path(f"{clean}.rejects.jsonl").read_bytes()


def test_a_script_without_a_main_guard_is_told_why_its_workers_died(tmp_path: Path) -> None:
    # Worker processes import the calling script again; without the guard they would score it again.
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS), encoding="utf-8")
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from webcare_nlp.batch import score_file\n"
        f"score_file({str(source)!r}, {str(tmp_path / 'out.jsonl')!r}, workers=2, overwrite=True)\n",
        encoding="utf-8",
    )
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert 'if __name__ == "__main__":' in run.stderr.splitlines()[-1]
    assert not (tmp_path / "out.jsonl").exists()
