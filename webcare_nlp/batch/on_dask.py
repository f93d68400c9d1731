"""Scoring on Dask (dask.distributed): a dask DataFrame in, a scored one out, or `score` chunks as tasks.

Each Dask worker process loads the engine once (a worker plugin warms the per-process cache); tasks
carry only the settings, a few strings, never the engine.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict
from typing import Any

from webcare_nlp.batch.chunks import Item, ScoreSettings, cached_engine, score_items, score_on_dask, settle_worker
from webcare_nlp.errors import InputError, WebcareError

REJECT_COLUMN = "reject_reason"


def _require_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise InputError(
            "Scoring on Dask needs dask.distributed: pip install -e '.[dask]' in the project's folder."
        ) from exc
    return distributed


class EnginePlugin:
    """A Dask worker plugin that loads the engine when a worker starts, so the first task does not wait."""

    def __init__(self, settings: ScoreSettings) -> None:
        self.settings = settings
        # The same name for the same settings from any client, so registering again replaces it.
        digest = hashlib.sha256(repr(settings.engine_key()).encode()).hexdigest()[:12]
        self.name = f"webcare-engine-{digest}"

    def setup(self, worker: Any) -> None:
        # A bad model or library: the first task raises the same error, which reaches the client.
        with suppress(WebcareError):
            cached_engine(self.settings)

    def teardown(self, worker: Any) -> None:
        pass


def warm_workers(client: Any, settings: ScoreSettings) -> None:
    """Load the engine on every worker now, and on every worker that joins later."""
    distributed = _require_distributed()
    plugin = type("WebcareEnginePlugin", (EnginePlugin, distributed.WorkerPlugin), {})(settings)
    client.register_plugin(plugin, name=plugin.name)


@contextmanager
def dask_client(scheduler: str | None, *, workers: int, settings: ScoreSettings) -> Iterator[Any]:
    """A client of the cluster at `scheduler`, or of a LocalCluster of `workers` single-thread processes."""
    distributed = _require_distributed()
    if scheduler:
        client = _connect(distributed, scheduler)
        with client:
            warm_workers(client, settings)
            yield client
        return
    with (
        distributed.LocalCluster(
            # The scheduler's HTTP server binds 8787 even without a dashboard, and warns when something else
            # has it: any free port will do for a cluster that lives as long as one run.
            n_workers=max(1, workers),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        warm_workers(client, settings)
        client.run(settle_worker)  # this cluster is ours and only scores: settle its workers as our own
        yield client


# A scheduler address: protocol, host (a name, IPv4 or [IPv6]) and port.
_ADDRESS = re.compile(r"(tcp|tls|ws|wss|ucx|inproc)://(\[[0-9a-fA-F:.]+\]|[^\s/:\[\]]+):(\d{1,5})")


def _connect(distributed: Any, scheduler: str, seconds: float = 30.0) -> Any:
    """A client of the scheduler at `scheduler`, or an InputError saying why there is none.

    Dask's own timeout covers the TCP connection only: a port where something else listens accepts it and
    never answers. So the whole connection is given `seconds`, in a thread that is left behind if it hangs.
    """
    match = _ADDRESS.fullmatch(scheduler.strip())
    if match is None or not 0 < int(match.group(3)) < 65536:
        raise InputError(f"{scheduler!r} is not a Dask scheduler address; give one such as tcp://10.0.0.5:8786.")
    outcome: dict[str, Any] = {}

    def connect() -> None:
        try:
            outcome["client"] = distributed.Client(scheduler.strip(), timeout=f"{seconds - 5:.0f}s")
        except Exception as exc:  # every way a connection fails is told the same way
            outcome["error"] = exc

    thread = threading.Thread(target=connect, name="dask-connect", daemon=True)
    thread.start()
    thread.join(seconds)
    if "client" in outcome:
        return outcome["client"]
    reason = outcome.get("error") or f"no Dask scheduler answered within {seconds:.0f} s"
    raise InputError(f"Cannot reach the Dask scheduler at {scheduler}: {reason}")


def dask_submitter(client: Any, settings: ScoreSettings) -> tuple[Callable[[list[Item]], Any], int]:
    """A function submitting one chunk as a task, and how many chunks to keep in flight."""
    threads = max(1, sum(client.nthreads().values()))
    return (lambda items: client.submit(score_on_dask, items, settings, pure=False)), 2 * threads


# -- dask DataFrames ----------------------------------------------------------------------------------
def _score_partition(frame: Any, settings: ScoreSettings, columns: list[str], dtypes: dict[str, str]) -> Any:
    import pandas as pd

    items: list[Item] = []
    ids: list[str] = []  # each row's id, which a rejected row keeps too
    kept: list[dict[str, Any]] = []  # and its kept fields
    for position, (index, record) in enumerate(zip(frame.index, frame.to_dict(orient="records"), strict=True)):
        message = {k: v for k, v in record.items() if not _missing(v)}
        message.setdefault("id", str(index))
        ids.append(str(message["id"]))
        kept.append({name: message.get(name) for name in settings.fields})
        items.append((position, None, message))
    chunk = score_items(cached_engine(settings), items, settings)
    rejects = {r["line"]: r["reason"] for r in chunk.rejects}
    scored = iter(zip(*chunk.columns.values(), strict=True)) if chunk.columns else iter(())
    rows: list[dict[str, Any]] = []
    for position, _, _ in items:
        if position in rejects:  # its id and kept fields stay, so the row can be found and fixed
            rows.append({**kept[position], "id": ids[position], REJECT_COLUMN: rejects[position]})
        else:
            rows.append({**dict(zip(chunk.columns, next(scored), strict=True)), REJECT_COLUMN: None})
    return pd.DataFrame(rows, index=frame.index, columns=columns, dtype=object).astype(dtypes)


# The typed columns of the table output; every other column of the contract is text. Nullable types, as a
# rejected row has no labels.
_TYPES = {
    "reactive_probability": "Float64",
    "reactive": "boolean",
    "platform_inferred": "boolean",
    "reply_expected": "boolean",
    "needs_review": "boolean",
}


def _dtypes(columns: list[str], frame: Any, fields: tuple[str, ...]) -> dict[str, str]:
    """Each output column's pandas type, declared up front so that the result can be written to Parquet: a
    kept field keeps its input type (made nullable), the contract's columns are text, booleans or floats."""
    nullable = {"int64": "Int64", "int32": "Int64", "bool": "boolean", "float64": "Float64", "float32": "Float64"}
    types = {}
    for name in columns:
        if name in fields and name in frame.columns:
            kind = str(frame.dtypes[name])
            types[name] = nullable.get(kind, kind if kind in {"Int64", "boolean", "Float64"} else "string")
        else:
            types[name] = _TYPES.get(name, "string")
    return types


def _missing(value: Any) -> bool:
    try:
        return bool(value is None or value != value)  # None or NaN
    except (TypeError, ValueError):
        return False


def score_dataframe(
    frame: Any, *, settings: ScoreSettings | None = None, client: Any = None, fields: tuple[str, ...] = ()
) -> Any:
    """Score a dask DataFrame with a `text` column; returns a lazy dask DataFrame of scored rows.

    Rows keep their index and order. A row that cannot be scored (no text, a wrong type) keeps its place
    with `reject_reason` set and the labels empty, so nothing is lost. The columns are those of the
    CSV and Parquet output (formats.md): no score dicts, `suggestions` and `entities` as JSON strings.
    The index should be unique: a message without `id` gets its index as id.

    Example:
        >>> import dask.dataframe as dd  # doctest: +SKIP
        >>> scored = score_dataframe(dd.read_parquet("mentions/"), client=client)  # doctest: +SKIP
        >>> scored.to_parquet("scored/")  # doctest: +SKIP
    """
    if not hasattr(frame, "map_partitions"):  # a pandas DataFrame, say: Dask needs its own
        raise InputError(
            f"score_dataframe takes a dask DataFrame, not {type(frame).__name__}: wrap a pandas one with "
            "dask.dataframe.from_pandas(frame, npartitions=...), or use score_file for a file."
        )
    if "text" not in frame.columns:
        raise InputError(f"The DataFrame has no 'text' column (columns: {', '.join(map(str, frame.columns))}).")
    settings = ScoreSettings(**{**asdict(settings or ScoreSettings()), "table": True, "fields": fields})
    if client is not None:
        warm_workers(client, settings)
    columns = _output_columns(settings, client)
    dtypes = _dtypes(columns, frame, fields)
    meta = {name: dtypes[name] for name in columns}
    return frame.map_partitions(_score_partition, settings, columns, dtypes, meta=meta)


def probe_columns(settings: ScoreSettings) -> list[str]:
    """The table columns, from scoring one message (cheap, and always in step with the engine)."""
    probe: dict[str, Any] = {"text": "Waar blijft mijn pakket?", "id": "probe"}
    chunk = score_items(cached_engine(settings), [(1, None, probe)], settings)
    return [*chunk.columns, REJECT_COLUMN]


def _output_columns(settings: ScoreSettings, client: Any) -> list[str]:
    if client is None:
        return probe_columns(settings)
    columns: list[str] = client.submit(probe_columns, settings, pure=False).result()
    return columns


__all__ = ["EnginePlugin", "dask_client", "score_dataframe", "warm_workers"]
