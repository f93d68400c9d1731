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
from typer.testing import CliRunner

from webcare_nlp.batch import score_file
from webcare_nlp.batch.run import state_path
from webcare_nlp.batch.writers import part_path
from webcare_nlp.cli import app
from webcare_nlp.errors import InputError

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


def _descendants(pid: int) -> set[int]:
    """The processes started under `pid`, read from /proc (the fork server and the workers it forked)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _gone(pids: set[int], timeout: float = 15.0) -> set[int]:
    """Which of `pids` are still alive after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = {pid for pid in alive if Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)}
    return alive


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_run_leaves_no_worker_behind(tmp_path, stop):
    source = tmp_path / "big.jsonl"
    _archive(source, 3000)
    output = tmp_path / "scored.jsonl"
    args = [str(source), "--output", str(output), "--chunk-size", "20", "--workers", "2", "--no-progress"]
    process = subprocess.Popen(_webcare(*args), stderr=subprocess.PIPE, cwd=Path(__file__).parents[1])
    try:
        _wait_for_progress(process, output, lines=200)
        workers = _descendants(process.pid)
        assert len(workers) >= 3  # the fork server and its two workers, each with an engine loaded
        os.kill(process.pid, stop)
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    # Each worker, some hundreds of MB, ends with its run, however the run was stopped.
    assert _gone(workers) == set()
    if stop == signal.SIGTERM:  # handled as Ctrl-C: the finished chunks stay for --resume
        assert code == 143 and b"run again with --resume" in (process.stderr.read() if process.stderr else b"")
        assert state_path(output).exists()


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


# -- working files and state that cannot be trusted are refused, not resumed from ------------------------
def _interrupted(tmp_path: Path, engine) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    """An input and the output of a run stopped after a few checkpoints, its working files left behind."""
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _archive(source, 40)

    def stop(position, summary):  # type: ignore[no-untyped-def]
        if summary.lines > 25:
            raise Interrupt

    with pytest.raises(Interrupt):
        score_file(str(source), str(output), engine=engine, chunk_size=10, progress=stop)
    return source, output


def _working_files(output: Path) -> dict[Path, bytes]:
    files = [part_path(output), part_path(Path(f"{output}.rejects.jsonl")), state_path(output)]
    return {path: path.read_bytes() for path in files if path.exists()}


def _resume_refused(source: Path, output: Path, engine, match: str) -> str:  # type: ignore[no-untyped-def]
    before = _working_files(output)
    with pytest.raises(InputError, match=match) as refused:
        score_file(str(source), str(output), engine=engine, chunk_size=10, resume=True)
    message = str(refused.value)
    assert "\n" not in message and "--overwrite" in message
    assert _working_files(output) == before and not output.exists()  # nothing cut, padded or moved
    return message


def test_resuming_with_other_options_names_what_changed(tmp_path, engine):
    from webcare_nlp.batch.chunks import ScoreSettings

    source, output = _interrupted(tmp_path, engine)
    before = _working_files(output)
    with pytest.raises(InputError, match="used other settings") as refused:
        score_file(str(source), str(output), engine=engine, chunk_size=10, resume=True, settings=ScoreSettings(top_k=5))
    assert "top_k 3 then, 5 now" in str(refused.value) and "{" not in str(refused.value)
    assert _working_files(output) == before


def test_a_part_file_shorter_than_its_checkpoint_is_refused(tmp_path, engine):
    source, output = _interrupted(tmp_path, engine)
    checkpoint = json.loads(state_path(output).read_text())["output"]["bytes"]
    with part_path(output).open("r+b") as part:
        part.truncate(checkpoint // 2)  # lines the checkpoint counts as written are gone
    message = _resume_refused(source, output, engine, "fewer than")
    assert f"{checkpoint // 2:,} bytes" in message and f"{checkpoint:,}" in message
    assert b"\0" not in part_path(output).read_bytes()


def test_the_cli_refuses_a_cut_short_part_file_with_exit_code_2(tmp_path, engine):
    source, output = _interrupted(tmp_path, engine)
    part_path(output).write_bytes(b"")
    result = CliRunner().invoke(app, ["score", str(source), "--output", str(output), "--resume", "--no-progress"])
    assert result.exit_code == 2
    assert result.output.startswith("error: Cannot resume") and "Traceback" not in result.output
    assert part_path(output).stat().st_size == 0 and not output.exists()


def test_a_part_file_longer_than_its_checkpoint_is_cut_back_and_resumed(tmp_path, engine):
    source, output = _interrupted(tmp_path, engine)
    with part_path(output).open("ab") as part:
        part.write(b'{"id": "written after the last checkpoint"')  # what a kill leaves behind
    score_file(str(source), str(output), engine=engine, chunk_size=10, resume=True)
    clean = tmp_path / "clean.jsonl"
    score_file(str(source), str(clean), engine=engine, chunk_size=10)
    assert output.read_bytes() == clean.read_bytes()


@pytest.mark.parametrize("rejects", [False, True], ids=["output", "rejects"])
def test_a_deleted_part_file_is_refused(tmp_path, engine, rejects):
    source, output = _interrupted(tmp_path, engine)
    gone = part_path(Path(f"{output}.rejects.jsonl") if rejects else output)
    gone.unlink()
    message = _resume_refused(source, output, engine, "is gone")
    assert str(gone) in message and not gone.exists()


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda state: json.dumps([state]).encode(), "not a JSON object"),
        (lambda state: json.dumps({k: v for k, v in state.items() if k != "position"}).encode(), "position missing"),
        (lambda state: json.dumps({**state, "output": {}}).encode(), "output.bytes missing"),
        (lambda state: json.dumps(state).encode("utf-16"), "Cannot read"),
        (lambda state: json.dumps(state).encode()[:-20], "Cannot read"),
    ],
    ids=["list", "no-position", "no-output-bytes", "not-utf8", "cut-short"],
)
def test_a_damaged_state_file_is_refused(tmp_path, engine, damage, match):
    source, output = _interrupted(tmp_path, engine)
    state_path(output).write_bytes(damage(json.loads(state_path(output).read_text())))
    message = _resume_refused(source, output, engine, match)
    assert str(state_path(output)) in message


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_a_resumed_run_counts_the_ids_repeated_across_the_interruption(tmp_path, engine, suffix):
    source, output, clean = tmp_path / f"in{suffix}", tmp_path / "out.jsonl", tmp_path / "clean.jsonl"
    ids = [f"m{i % 15}" for i in range(40)]  # 25 lines repeat an id, before and after the interruption
    texts = [f"{TEXTS[n % len(TEXTS)]} #{n}" for n in range(len(ids))]
    if suffix == ".csv":
        rows = [f'{i},"{text}"' for i, text in zip(ids, texts, strict=True)]
        broken, header = "m0,te,veel,velden", "id,text\n"
    else:
        rows = [json.dumps({"id": i, "text": text}) for i, text in zip(ids, texts, strict=True)]
        broken, header = '{"id": "m0", "kapot', ""
    source.write_text(header + "\n".join([*rows[:20], broken, *rows[20:]]) + "\n", encoding="utf-8")

    def stop(position, summary):  # type: ignore[no-untyped-def]
        if summary.lines > 25:
            raise Interrupt

    with pytest.raises(Interrupt):
        score_file(str(source), str(output), engine=engine, chunk_size=10, progress=stop)
    resumed = score_file(str(source), str(output), engine=engine, chunk_size=10, resume=True)
    whole = score_file(str(source), str(clean), engine=engine, chunk_size=10)
    assert 0 < resumed.resumed_at < resumed.lines and resumed.rejected == 1
    assert resumed.repeated_ids == whole.repeated_ids == 25  # the rejected line's m0 repeats nothing
    assert resumed.repeated_id_lines == whole.repeated_id_lines
