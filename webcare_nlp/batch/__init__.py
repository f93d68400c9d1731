"""Batch scoring of message files and data frames: streaming, ordered, resumable, nothing lost.

`score_file` reads JSONL, CSV or Parquet in chunks, scores them here, in worker processes or on Dask,
and writes every line to the output or to `OUT.rejects.jsonl`; `score_dataframe` scores a dask DataFrame.
"""

from typing import Any

from webcare_nlp.batch.chunks import ScoreSettings
from webcare_nlp.batch.run import rejects_path, score_file, total_for_progress
from webcare_nlp.batch.summary import ScoreSummary


def score_dataframe(frame: Any, **kwargs: Any) -> Any:
    """Score a dask DataFrame; see `webcare_nlp.batch.on_dask.score_dataframe` (needs the [dask] extra)."""
    from webcare_nlp.batch.on_dask import score_dataframe as score

    return score(frame, **kwargs)


__all__ = ["ScoreSettings", "ScoreSummary", "rejects_path", "score_dataframe", "score_file", "total_for_progress"]
