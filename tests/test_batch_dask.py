"""Scoring on Dask: a LocalCluster of two worker processes gives the local engine's results."""

from __future__ import annotations

import json

import pytest

from tests.test_batch_resume import TEXTS as RESUME_TEXTS
from webcare_nlp.batch import score_file

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

TEXTS = [*RESUME_TEXTS, ""]  # the empty text is kept in place, marked as a reject


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture
def dataset(tmp_path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "mentions"
    folder.mkdir()
    for part in range(3):
        rows = [
            {"id": f"p{part}-{i}", "text": TEXTS[(part + i) % len(TEXTS)], "channel": "twitter", "likes": i}
            for i in range(8)
        ]
        pd.DataFrame(rows).to_parquet(folder / f"part-{part}.parquet")
    return folder


@pytest.mark.slow
def test_a_dask_dataframe_scores_like_the_local_engine(client, dataset, tmp_path, engine):
    from webcare_nlp.batch import score_dataframe

    frame = dd.read_parquet(dataset)
    assert frame.npartitions == 3
    scored = score_dataframe(frame, client=client).compute()
    score_file(str(dataset), str(tmp_path / "local.csv"), engine=engine)
    local = pd.read_csv(tmp_path / "local.csv", dtype=str)
    kept = scored[scored["reject_reason"].isna()]
    empty = sum(TEXTS[(part + i) % len(TEXTS)] == "" for part in range(3) for i in range(8))
    assert len(scored) == 24 and len(kept) == len(local) == 24 - empty  # every row is there, rejects included
    assert kept["id"].tolist() == local["id"].tolist()
    for column in ("intent", "sentiment", "reply_reason", "masked_text", "suggestions"):
        assert kept[column].tolist() == local[column].tolist(), column
    assert kept["reactive_probability"].round(4).tolist() == local["reactive_probability"].astype(float).tolist()
    assert scored["reject_reason"].notna().sum() == empty
    assert scored["id"].notna().all()  # a rejected row keeps its id, to be found and fixed
    # one engine per worker process, loaded by the plugin and reused by every partition
    loaded = client.run(lambda: len(__import__("webcare_nlp.batch.chunks", fromlist=["_ENGINES"])._ENGINES))
    assert list(loaded.values()) == [1, 1]
    # As the README shows: written straight to Parquet, kept fields with their type, a rejected row's too.
    score_dataframe(frame, client=client, fields=("likes",)).to_parquet(tmp_path / "scored")
    written = pd.read_parquet(tmp_path / "scored").sort_values("id")
    assert len(written) == 24 and written["likes"].notna().all() and str(written["likes"].dtype) == "Int64"
    assert str(written["reply_expected"].dtype) == "boolean"


@pytest.mark.slow
def test_score_command_on_a_dask_scheduler(client, dataset, tmp_path, engine):
    from typer.testing import CliRunner

    from webcare_nlp.cli import app

    output = tmp_path / "dask.jsonl"
    args = ["score", str(dataset), "--output", str(output), "--engine", "dask", "--chunk-size", "5"]
    result = CliRunner().invoke(app, [*args, "--scheduler", client.scheduler.address])
    assert result.exit_code == 0, result.output
    score_file(str(dataset), str(tmp_path / "local.jsonl"), engine=engine)
    assert output.read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    rejects = [json.loads(line) for line in (tmp_path / "dask.jsonl.rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == 3 and all("empty" in r["reason"] for r in rejects)


def test_an_unreachable_scheduler_is_a_clear_error(dataset, tmp_path):
    from typer.testing import CliRunner

    from webcare_nlp.cli import app

    args = ["score", str(dataset), "--output", str(tmp_path / "o.jsonl"), "--engine", "dask"]
    result = CliRunner().invoke(app, [*args, "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2 and "Cannot reach the Dask scheduler" in result.output
