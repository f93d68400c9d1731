"""Training: cross-validated model selection per label, calibration, and a saved, verified artefact.

The trainer builds an Engine; the engine never imports the trainer (SetFit keeps them apart too).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import logging
import math
import os
import shutil
import time
import tomllib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from webcare_nlp import persist, schema, versions
from webcare_nlp.classify.models import SOFT_VOTE, TASKS, ModelFamily, final_model, model_families, soft_vote
from webcare_nlp.classify.pairs import label_pair_weights
from webcare_nlp.dataset import (
    TRAINING_DATA,
    Sources,
    data_hash,
    load_labelled,
    refuse_problems,
    validate_labelled,
)
from webcare_nlp.engine import LABEL_MODELS, Engine
from webcare_nlp.errors import InputError
from webcare_nlp.features.vectorize import MessageVectorizer, Observation
from webcare_nlp.rank.library import Library
from webcare_nlp.rank.ranker import RankerSet
from webcare_nlp.rank.tuning import fit_rankers
from webcare_nlp.text.pipeline import TextPipeline
from webcare_nlp.topics.learned import fit_topic_space

log = logging.getLogger(__name__)


@dataclass
class TrainingConfig:
    """Settings of one training run; stored in the manifest so the run can be repeated."""

    seed: int = 13
    # Stratified folds of the model selection and of the calibration. Five gave CV figures within 0.006 of
    # three's on an earlier corpus, for 5/3 of the fits (`webcare train` on the full corpus: 516 s on two cores).
    folds: int = 3
    families: tuple[str, ...] = ("logreg", "linear_svc", "nb_svc", "complement_nb", "sgd", SOFT_VOTE)
    # Share of training rows whose channel / platform is hidden, so the models also work without them.
    metadata_dropout: float = 0.35
    review_margin: float = 0.1
    # Intent and sentiment decided together (classify.pairs); 0 decides them apart. 0.25 measured best of
    # 0.1, 0.25 and 0.5 in 5-fold CV on the corpus: intent kept, sentiment +0.004, calibration error halved.
    pair_strength: float = 0.25
    min_per_class: int = 10
    max_char_features: int = 60_000
    max_word_features: int = 30_000
    # The lemma n-grams weigh 1.4 times the character n-grams. 5-fold CV on the corpus of 12,501 messages,
    # two fold seeds, linear SVM at C 0.3: 1.0 -> 1.4 gave intent 0.820 -> 0.824, sentiment 0.832 -> 0.832,
    # reactive 0.918 -> 0.919 (0.7 and 2.0 worse); with 760 more messages in the training folds, intent
    # 0.819 -> 0.823 and sentiment 0.831 -> 0.833.
    word_weight: float = 1.4
    # The intent label set; empty means the standard six of labels.md. A team may add its own intents.
    intents: tuple[str, ...] = ()
    # The suggestion ranker is cross-validated on the reply history of the corpus folder (or of
    # training_data/ when the data has none); rank_folds 0 trains no ranker.
    rank_folds: int = 5
    n_jobs: int = field(default_factory=lambda: os.cpu_count() or 1)

    @classmethod
    def from_file(cls, path: Path | None, **overrides: Any) -> TrainingConfig:
        values: dict[str, Any] = {}
        if path is not None:
            try:
                document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise InputError(f"Cannot read the config {path} (TOML with a [train] table): {exc}") from exc
            # Settings outside [train] would be ignored without a word, and the run take the defaults.
            outside = sorted(set(document) - {"train"})
            if outside:
                raise InputError(f"The config {path} has {outside} outside its [train] table; put them under [train].")
            values = document.get("train", {})
            if not isinstance(values, dict):
                raise InputError(f"In the config {path}, train must be a table: [train] and the settings below it.")
        values.update({k: v for k, v in overrides.items() if v is not None})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(f"Unknown training settings {unknown}; known: {sorted(known)}.")
        for name in ("families", "intents"):
            if name in values:
                given = values[name]
                # A string would be read one letter at a time ("complement_nb" as c, o, m, ...).
                if not isinstance(given, list | tuple) or not all(isinstance(v, str) for v in given):
                    raise InputError(
                        f'Training setting {name} = {given!r} should be a list of names, such as ["a", "b"].'
                    )
                values[name] = tuple(given)
        defaults = cls()
        for name, value in values.items():
            want = type(getattr(defaults, name))
            fits = isinstance(value, want) and not (want is int and isinstance(value, bool))
            if not fits and not (want is float and isinstance(value, int) and not isinstance(value, bool)):
                raise InputError(f"Training setting {name} = {value!r} should be of type {want.__name__}.")
        return cls(**values)

    def vectorizer(self) -> MessageVectorizer:
        """A new, unfitted vectoriser with this run's feature settings."""
        return MessageVectorizer(
            max_char_features=self.max_char_features,
            max_word_features=self.max_word_features,
            word_weight=self.word_weight,
        )

    def __post_init__(self) -> None:
        unknown = sorted(set(self.families) - set(model_families(self.seed)) - {SOFT_VOTE})
        if unknown:
            raise InputError(f"Unknown model families {unknown}; known: {[*model_families(self.seed), SOFT_VOTE]}.")
        if SOFT_VOTE in self.families and len(set(self.families) - {SOFT_VOTE}) < 2:
            raise InputError(
                f"families {list(self.families)}: {SOFT_VOTE} averages the other families, so name at least two "
                f"besides it (or leave it out)."
            )
        if not set(self.families) - {SOFT_VOTE}:
            raise InputError("families is empty: name at least one model family.")
        if self.word_weight <= 0:
            raise InputError(f"word_weight must be above 0, not {self.word_weight}.")
        if self.folds < 2:
            raise InputError(
                f"folds must be 2 or more, not {self.folds}: model selection and calibration split the data."
            )
        # Each setting's range, so that a wrong value stops the run before training, with its name.
        ranges = {
            "seed": (0 <= self.seed < 2**32, "from 0 to 4294967295"),
            "n_jobs": (self.n_jobs >= 1, "1 or more"),
            "max_char_features": (self.max_char_features >= 1, "1 or more"),
            "max_word_features": (self.max_word_features >= 1, "1 or more"),
            "min_per_class": (self.min_per_class >= 1, "1 or more"),
            "rank_folds": (self.rank_folds == 0 or self.rank_folds >= 2, "0 (no ranker) or 2 or more"),
            "metadata_dropout": (0 <= self.metadata_dropout < 1, "from 0 up to (not including) 1"),
            "review_margin": (0 <= self.review_margin <= 0.5, "from 0 to 0.5"),
            "pair_strength": (0 <= self.pair_strength <= 1, "from 0 to 1"),
        }
        for name, (fits, allowed) in ranges.items():
            if not fits:
                raise InputError(f"Training setting {name} = {getattr(self, name)!r} must be {allowed}.")


@dataclass
class TaskReport:
    """What cross-validation measured for one label: every family, and the chosen one's predictions."""

    task: str
    chosen: str
    chosen_params: dict[str, Any]
    families: dict[str, dict[str, Any]] = field(default_factory=dict)
    y_true: list[Any] = field(default_factory=list)
    y_pred: list[Any] = field(default_factory=list)
    labels: list[Any] = field(default_factory=list)


@dataclass
class TrainingResult:
    engine: Engine
    reports: dict[str, TaskReport]
    n_messages: int
    seconds: float
    language_accuracy: float
    data_hash: str
    config: TrainingConfig
    # Where the training rows came from, e.g. {"files": 4365, "feedback": 12}; the model card shows it.
    sources: dict[str, int] = field(default_factory=dict)
    output: Path | None = None

    @property
    def intents(self) -> tuple[str, ...]:
        return self.config.intents or schema.INTENTS


def targets(records: list[dict[str, Any]], task: str) -> np.ndarray:
    return np.asarray([r[task] for r in records], dtype=object if task != "reactive" else bool)


def make_observations(
    processed: list[Any], records: list[dict[str, Any]], rng: np.random.Generator, dropout: float
) -> list[Observation]:
    """The models' inputs: each processed text with its channel and platform, each hidden at the rate
    `dropout`, so that the models also learn to label a message that comes without them."""
    hide_channel = rng.random(len(records)) < dropout
    hide_platform = rng.random(len(records)) < dropout
    return [
        Observation(p, None if hc else r.get("channel"), None if hp else r.get("platform"))
        for p, r, hc, hp in zip(processed, records, hide_channel, hide_platform, strict=True)
    ]


def cv_splits(records: list[dict[str, Any]], config: TrainingConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, validation) row indices of model selection's folds, stratified by intent."""
    folds = StratifiedKFold(n_splits=config.folds, shuffle=True, random_state=config.seed)
    return list(folds.split(np.zeros(len(records)), targets(records, "intent")))


def cross_validate(
    observations: list[Observation], records: list[dict[str, Any]], config: TrainingConfig
) -> dict[str, TaskReport]:
    """Pick the best family and hyper-parameters per label by stratified k-fold macro-F1.

    The vectoriser is refitted inside every fold, so no fold sees its validation texts' n-grams. With
    `soft_vote` among the families, the average of the others (each at its best grid point) is tried
    afterwards on the same folds.
    """
    families = model_families(config.seed)
    ys = {task: targets(records, task) for task in TASKS}
    singles = [name for name in config.families if name != SOFT_VOTE]
    # The slow families first, so that the last jobs to finish are short ones and no core idles long.
    candidates = [
        (task, name, index, candidate)
        for name in sorted(singles, key=lambda name: families[name].relative_cost, reverse=True)
        for task in TASKS
        for index, candidate in enumerate(families[name].candidates())
    ]

    def run(candidate: Any, x_train: Any, y_train: np.ndarray, x_val: Any) -> np.ndarray:
        return np.asarray(clone(candidate).fit(x_train, y_train).predict(x_val))

    # One pool for every fold: while the workers fit one fold's models (NumPy, SciPy and liblinear release
    # the GIL), this thread builds the next fold's features. Every fit is seeded and liblinear's fits take
    # turns, so the order in which the threads finish changes nothing.
    pending: list[tuple[str, str, int, np.ndarray, Future[np.ndarray]]] = []
    fold_matrices: list[tuple[np.ndarray, np.ndarray, dict[str, tuple[Any, Any]]]] = []
    with ThreadPoolExecutor(max_workers=config.n_jobs) as pool:
        for train_idx, val_idx in cv_splits(records, config):
            vectorizer = config.vectorizer().fit([observations[i] for i in train_idx])
            x_train = vectorizer.transform([observations[i] for i in train_idx])
            x_val = vectorizer.transform([observations[i] for i in val_idx])
            matrices = {
                task: (vectorizer.without_platform(x_train), vectorizer.without_platform(x_val))
                if task == "platform"
                else (x_train, x_val)
                for task in TASKS
            }
            fold_matrices.append((train_idx, val_idx, matrices))
            for task, name, index, candidate in candidates:
                xt, xv = matrices[task]
                future = pool.submit(run, candidate, xt, ys[task][train_idx], xv)
                pending.append((task, name, index, val_idx, future))
        # scores[task][(family, index)] = list of fold F1; oof[...] = out-of-fold predictions
        scores: dict[str, dict[tuple[str, int], list[float]]] = {t: {} for t in TASKS}
        oof: dict[str, dict[tuple[str, int], np.ndarray]] = {t: {} for t in TASKS}

        # Collected in a fixed order (task, family as configured, grid point, fold): ties break as they always did.
        order = {(task, name): i for i, (task, name) in enumerate((t, n) for t in TASKS for n in config.families)}

        def collect(jobs: list[tuple[str, str, int, np.ndarray, Future[np.ndarray]]]) -> None:
            for task, name, index, val_idx, future in sorted(jobs, key=lambda job: (order[job[0], job[1]], job[2])):
                predicted = future.result()
                key = (name, index)
                scores[task].setdefault(key, []).append(f1_score(ys[task][val_idx], predicted, average="macro"))
                oof[task].setdefault(key, np.empty(len(records), dtype=ys[task].dtype))[val_idx] = predicted

        collect(pending)
        best_of = {task: {name: _best_point(scores[task], name) for name in singles} for task in TASKS}
        members = {task: {name: _params(families[name], best_of[task][name]) for name in singles} for task in TASKS}
        if SOFT_VOTE in config.families:  # with two or more other families (TrainingConfig checks)
            votes = []
            for task in TASKS:
                voter = soft_vote(members[task], config.seed, folds=config.folds)
                for train_idx, val_idx, matrices in fold_matrices:
                    xt, xv = matrices[task]
                    votes.append((task, SOFT_VOTE, 0, val_idx, pool.submit(run, voter, xt, ys[task][train_idx], xv)))
            collect(votes)
            best_of = {task: {**best_of[task], SOFT_VOTE: (SOFT_VOTE, 0)} for task in TASKS}
    reports = {}
    for task in TASKS:
        best = max(scores[task], key=lambda key: (np.mean(scores[task][key]), -key[1]))
        per_family: dict[str, dict[str, Any]] = {}
        for name in config.families:
            top = best_of[task][name]
            per_family[name] = {
                "macro_f1": round(float(np.mean(scores[task][top])), 4),
                "macro_f1_std": round(float(np.std(scores[task][top])), 4),
                "accuracy": round(float(accuracy_score(ys[task], oof[task][top])), 4),
                "params": members[task] if name == SOFT_VOTE else members[task][name],
            }
        reports[task] = TaskReport(
            task=task,
            chosen=best[0],
            chosen_params=per_family[best[0]]["params"],
            families=per_family,
            y_true=list(ys[task]),
            y_pred=list(oof[task][best]),
            labels=list(TASKS[task]),
        )
    return reports


def _best_point(scores: dict[tuple[str, int], list[float]], name: str) -> tuple[str, int]:
    return max((key for key in scores if key[0] == name), key=lambda key: np.mean(scores[key]))


def _params(family: ModelFamily, key: tuple[str, int]) -> dict[str, Any]:
    return {p: getattr(family.candidates()[key[1]], p) for p in family.grid}


def fit_engine(
    processed: list[Any],
    records: list[dict[str, Any]],
    reports: dict[str, TaskReport],
    config: TrainingConfig,
    text_pipeline: TextPipeline,
) -> Engine:
    """Fit the vectoriser and the chosen, calibrated model of each label on all data."""
    rng = np.random.default_rng(config.seed)
    observations = make_observations(processed, records, rng, config.metadata_dropout)
    vectorizer = config.vectorizer().fit(observations)
    matrix = vectorizer.transform(observations)
    without_platform = vectorizer.without_platform(matrix)

    def fit(task: str) -> Any:
        report = reports[task]
        model = final_model(report.chosen, report.chosen_params, config.seed, folds=config.folds)
        x = without_platform if task == "platform" else matrix
        return model.fit(x, targets(records, task))

    # The four label models are independent and seeded: fitted side by side, they are the same models.
    with ThreadPoolExecutor(max_workers=config.n_jobs) as pool:
        models = dict(zip(LABEL_MODELS, pool.map(fit, LABEL_MODELS), strict=True))
    pairs = label_pair_weights(records, models["intent"], models["sentiment"], strength=config.pair_strength)
    return Engine(
        text_pipeline=text_pipeline,
        vectorizer=vectorizer,
        models=models,
        review_margin=config.review_margin,
        label_pairs=pairs,
    )


def ranking_library(data: Sources) -> Library:
    """The library whose history teaches the ranker: the corpus folder's own, else training_data/'s."""
    folder = Path(data) if isinstance(data, str | Path) else None
    if folder is not None and folder.is_dir() and (folder / "templates").is_dir() and (folder / "history").is_dir():
        articles = folder / "articles"
        return Library.load(
            templates=folder / "templates",
            articles=articles if articles.is_dir() else None,
            history=folder / "history",
        )
    return Library.load()


def fit_ranking(
    engine: Engine,
    records: list[dict[str, Any]],
    *,
    data: Sources,
    config: TrainingConfig,
    history: list[dict[str, Any]] | None = None,
) -> RankerSet:
    """Cross-validate and fit the suggestion ranker on the reply history (plus `history`, e.g. from feedback)."""
    library = ranking_library(data)
    if history:
        library = library.with_history(history, source="feedback")
    if not library.history:
        raise InputError("The reply history is empty, so the suggestion ranker cannot learn; set rank_folds = 0.")
    queries = engine.history_queries(library)
    folds = min(config.rank_folds, len(library.history))
    return fit_rankers(library, queries, labelled=records, folds=folds, seed=config.seed)


def check_training_data(records: list[dict[str, Any]], config: TrainingConfig) -> None:
    """Refuse bad rows (listed with file and line), classes with fewer than `min_per_class` examples, and
    classes too small for the calibration on `folds` folds (which would fail only after the slow fits)."""
    intents = config.intents or schema.INTENTS
    refuse_problems(validate_labelled(records, intents=intents), "The training data")
    for task in TASKS:
        counts: dict[str, int] = {}
        for record in records:
            counts[str(record[task])] = counts.get(str(record[task]), 0) + 1
        # A declared class without a single example is too small as well: a model that never saw it cannot
        # give it a probability, and the artefact would not match its own label set.
        declared = {
            "intent": intents,
            "sentiment": schema.SENTIMENTS,
            "reactive": ("True", "False"),
            "platform": schema.PLATFORMS,
        }.get(task, ())
        counts = {**dict.fromkeys(declared, 0), **counts}
        small = {label: n for label, n in counts.items() if n < config.min_per_class}
        if small and task != "platform":  # min_per_class is about the reported labels; platform needs calibration's
            raise InputError(
                f"Too few examples for {task} {small}: every class needs at least {config.min_per_class}. "
                "Add examples or lower min_per_class in the config."
            )
        check_calibration_sizes(task, counts, config)
    if SOFT_VOTE in config.families:
        check_soft_vote_folds(records, config)


def calibration_minimum(config: TrainingConfig) -> int:
    """The fewest examples of a class that calibration can split into `folds` parts.

    A soft vote calibrates its members again inside each calibration (and cross-validation) training part,
    where a class of n examples keeps n - ceil(n / folds) of them, and those must still make `folds` parts.
    """
    if SOFT_VOTE not in config.families:
        return config.folds
    n = config.folds
    while n - math.ceil(n / config.folds) < config.folds:
        n += 1
    return n


def check_calibration_sizes(task: str, counts: dict[str, int], config: TrainingConfig) -> None:
    """Refuse, before any fit, the class sizes that scikit-learn's calibration would fail on minutes later."""
    need = calibration_minimum(config)
    short = {label: n for label, n in counts.items() if n < need}
    if short:
        vote = f" and {SOFT_VOTE} among the families" if SOFT_VOTE in config.families else ""
        advice = f"Add examples, lower folds, or leave {SOFT_VOTE} out." if vote else "Add examples or lower folds."
        raise InputError(
            f"Too few examples for {task} {short}: with folds = {config.folds}{vote}, calibration needs at "
            f"least {need} per class. {advice}"
        )


def check_soft_vote_folds(records: list[dict[str, Any]], config: TrainingConfig) -> None:
    """Refuse a cross-validation training fold in which a soft vote's calibration could not split a class.

    The folds are stratified by intent only, so the other labels' classes are counted in the real folds.
    """
    ys = {task: targets(records, task).astype(str) for task in TASKS}
    for number, (train_idx, _) in enumerate(cv_splits(records, config), start=1):
        for task, y in ys.items():
            labels, counts = np.unique(y[train_idx], return_counts=True)
            short = {str(label): int(n) for label, n in zip(labels, counts, strict=True) if n < config.folds}
            if short:
                raise InputError(
                    f"Too few examples for {task} {short} in training fold {number} of {config.folds}: "
                    f"{SOFT_VOTE} calibrates its members on {config.folds} parts of each fold. "
                    f"Add examples, lower folds, or leave {SOFT_VOTE} out."
                )


def check_output(output: Path) -> None:
    """Refuse, before training, an output the model cannot be written to or would be mixed into.

    An existing model folder is written over, file by file, as before; any other folder must be empty.
    """
    if output.exists() and not output.is_dir():
        raise InputError(f"The output {output} is a file; give a folder for the model.")
    if output.is_dir() and not (output / persist.MANIFEST).is_file() and any(output.iterdir()):
        raise InputError(
            f"The output folder {output} holds other files and no model ({persist.MANIFEST}); "
            "give a new or empty folder, or an existing model folder to replace."
        )
    parent = next((p for p in output.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise InputError(f"Cannot create the output folder {output}: {parent} is a file.")


def train(
    *,
    data: Sources = TRAINING_DATA,
    output: Path | None = None,
    config: TrainingConfig | None = None,
    version: str | None = None,
    models_dir: Path | None = None,
    feedback: Path | None = None,
    base_model: str | Path | None = None,
) -> TrainingResult:
    """Train all label models on one or more labelled corpora and (with `output` or `version`) save the artefact.

    `data` is a corpus folder, a .jsonl or .csv file, or a list of them (the project's corpus plus a
    team's own file with a new intent, say). `version` saves to `models_dir/<version>-<date>-<hash>/`.
    `feedback` is an SQLite feedback store: the labels agents corrected join the data, de-duplicated,
    with the labels they left alone taken from `base_model` (default: the current model).

    Example:
        >>> result = train(output=Path("models/webcare-small"))  # doctest: +SKIP
        >>> result = train(data=[TRAINING_DATA, Path("orders.csv")], version="webcare")  # doctest: +SKIP
    """
    config = config or TrainingConfig()
    started = time.perf_counter()
    records = load_labelled(data)
    digest = data_hash(data)
    sources: dict[str, int] = {"files": len(records)}
    history: list[dict[str, Any]] = []
    if feedback is not None:
        records, digest, sources, history = _with_feedback(records, digest, feedback, base_model, config)
    if output is None and version is not None:
        output = (models_dir or persist.MODELS_DIR) / versions.version_name(
            version, data_sha256=digest, settings=_settings_for_hash(config)
        )
    if output is not None:
        check_output(Path(output))
    check_training_data(records, config)
    text_pipeline = TextPipeline()
    processed = text_pipeline.process_many([r["text"] for r in records])
    language_accuracy = float(
        np.mean([p.lang == r.get("lang", p.lang) for p, r in zip(processed, records, strict=True)])
    )
    rng = np.random.default_rng(config.seed)
    observations = make_observations(processed, records, rng, config.metadata_dropout)
    reports = cross_validate(observations, records, config)
    reports["intent"].labels = list(config.intents or schema.INTENTS)
    engine = fit_engine(processed, records, reports, config, text_pipeline)
    if config.rank_folds:
        engine.rankers = fit_ranking(engine, records, data=data, config=config, history=history)
    engine.topic_space = fit_topic_space(processed, records)
    result = TrainingResult(
        engine=engine,
        reports=reports,
        n_messages=len(records),
        seconds=time.perf_counter() - started,
        language_accuracy=language_accuracy,
        data_hash=digest,
        config=config,
        sources=sources,
    )
    if output is not None:
        result.output = Path(output)
        save_trained(result, result.output, records)
    return result


def _with_feedback(
    records: list[dict[str, Any]], digest: str, feedback: Path, base_model: str | Path | None, config: TrainingConfig
) -> tuple[list[dict[str, Any]], str, dict[str, int], list[dict[str, Any]]]:
    """The records with the store's corrections merged in, the data hash covering them, the counts, and the
    used suggestions as reply history for the ranker."""
    from webcare_nlp.corrections import merge_feedback, open_store

    merged = merge_feedback(
        records, open_store(feedback), engine=Engine.load(base_model), intents=config.intents or schema.INTENTS
    )
    for note in merged.skipped:
        log.warning("feedback left out: %s", note)
    sources = {
        "files": len(records),
        "feedback": merged.added,
        "feedback_corrected": merged.corrected,
        "feedback_skipped": len(merged.skipped),
        "feedback_history": len(merged.history),
    }
    return merged.records, hashlib.sha256((digest + merged.digest).encode()).hexdigest(), sources, merged.history


def intent_set(spec: str) -> tuple[str, ...]:
    """The intent labels of `--intents`: "a,b,c" is exactly those; "+order_status" adds to the standard six.

    Example:
        >>> intent_set("+order_status")[-2:]
        ('other', 'order_status')
    """
    extra = spec.strip().startswith("+")
    names = [name.strip() for name in spec.strip().lstrip("+").split(",") if name.strip()]
    bad = [name for name in names if not name.replace("_", "").replace("-", "").isalnum()]
    if not names or bad:
        raise InputError(f"--intents wants comma-separated label names like 'question,order_status', not {spec!r}.")
    labels = [*schema.INTENTS, *names] if extra else names
    if len(set(labels)) < 2:
        raise InputError("An intent label set needs at least two labels.")
    return tuple(dict.fromkeys(labels))


def save_trained(result: TrainingResult, output: Path, records: list[dict[str, Any]]) -> None:
    """Write the engine's components, the model card with its plots, and the manifest.

    They are written into a working folder beside `output` and moved into place at the end, so that a run
    stopped while saving leaves neither a half model nor a broken one where it was replacing a model.
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    work = output.parent / f".{output.name}.partial"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        _write_trained(result, work, output.name, records)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if output.exists():
        aside = output.parent / f".{output.name}.replaced"
        shutil.rmtree(aside, ignore_errors=True)
        output.rename(aside)
        work.rename(output)
        shutil.rmtree(aside)
    else:
        work.rename(output)


def _write_trained(result: TrainingResult, output: Path, name: str, records: list[dict[str, Any]]) -> None:
    from webcare_nlp.model_card import write_model_card

    extra = write_model_card(result, output, records, name=name)
    metrics = {
        task: {"chosen": r.chosen, "params": r.chosen_params, **r.families[r.chosen]}
        for task, r in result.reports.items()
    }
    manifest = {
        "name": name,
        "labels": {task: [str(label) for label in report.labels] for task, report in result.reports.items()},
        "training_data": {"sha256": result.data_hash, "messages": result.n_messages, "sources": result.sources},
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "training_config": dataclasses.asdict(result.config),
        "metrics_cv": metrics,
        "ranking_cv": result.engine.rankers.report if result.engine.rankers is not None else None,
    }
    result.engine.manifest = persist.save_artefact(output, result.engine.components(), manifest, extra)


def set_current(model_dir: Path) -> bool:
    """Point models/CURRENT at `model_dir` when it lives in the project's models/ folder; whether it moved."""
    return versions.set_current(model_dir)


def _settings_for_hash(config: TrainingConfig) -> dict[str, Any]:
    # n_jobs changes the speed, not the model, so it does not change the version's name.
    return {k: v for k, v in dataclasses.asdict(config).items() if k != "n_jobs"}
