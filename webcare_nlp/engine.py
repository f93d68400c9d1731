"""The engine: the composition of text pipeline, features and models that labels a message."""

from __future__ import annotations

import os
from collections.abc import Sequence
from itertools import repeat
from pathlib import Path
from typing import Any, cast

import numpy as np

from webcare_nlp import persist, schema
from webcare_nlp.classify.fast import fast_predict_proba
from webcare_nlp.classify.pairs import joint_marginals
from webcare_nlp.classify.reply import decide_platform, decide_reply
from webcare_nlp.errors import InputError, ModelError
from webcare_nlp.features.vectorize import MessageVectorizer, Observation
from webcare_nlp.rank.index import Query
from webcare_nlp.rank.library import Library
from webcare_nlp.rank.ranker import RankerSet
from webcare_nlp.rank.suggest import Request, Suggester
from webcare_nlp.rank.tuning import MIN_OWN_HISTORY, adapt_rankers
from webcare_nlp.text.pipeline import TextPipeline
from webcare_nlp.topics.discover import FAQ_INTENTS
from webcare_nlp.topics.learned import TopicSpace
from webcare_nlp.topics.model import TopicModel

LABEL_MODELS = ("intent", "sentiment", "reactive", "platform")


def _scores(classes: Sequence[str], row: list[float]) -> dict[str, float]:
    return dict(zip(classes, map(round, row, repeat(4)), strict=True))


class Engine:
    """Labels messages: intent, sentiment, reactive, platform and the reply decision.

    Build one with `Engine.load()` (the shipped model) or with `webcare_nlp.training.train`.

    Example:
        >>> engine = Engine.load()  # doctest: +SKIP
        >>> engine.analyze("@SkyHop mijn koffer is kwijt!!")["intent"]  # doctest: +SKIP
        'complaint'
    """

    def __init__(
        self,
        *,
        text_pipeline: TextPipeline,
        vectorizer: MessageVectorizer,
        models: dict[str, Any],
        review_margin: float = 0.1,
        label_pairs: np.ndarray | None = None,
        manifest: dict[str, Any] | None = None,
        rankers: RankerSet | None = None,
        library: Library | None = None,
        feedback_db: str | Path | None = None,
        agent_initials: str = "",
        topic_model: TopicModel | None = None,
        topic_space: TopicSpace | None = None,
        adapt: bool = True,
    ) -> None:
        self.text_pipeline = text_pipeline
        self.vectorizer = vectorizer
        self.models = models
        self.review_margin = review_margin
        # Intent x sentiment weights (classify.pairs); None decides the two apart, as models before them did.
        self.label_pairs = label_pairs
        shape = (len(models["intent"].classes_), len(models["sentiment"].classes_))
        if label_pairs is not None and np.shape(label_pairs) != shape:
            raise ModelError(
                f"This model's intent x sentiment weights are {np.shape(label_pairs)}, its label models "
                f"{shape}: the artefact is inconsistent; retrain it with `webcare train`."
            )
        self.manifest = manifest or {}
        self.rankers = rankers
        self.library = library
        self.feedback_db = feedback_db
        # It goes into every reply: no control bytes or half characters (a mistyped option, a bad terminal).
        self.agent_initials = schema.check_field("initials", agent_initials) if agent_initials else agent_initials
        self.topic_model = topic_model
        # What makes two questions one FAQ topic, learned from the training data's labelled topics.
        self.topic_space = topic_space
        self.adapt = adapt
        self._suggester: Suggester | None = None
        self._store: Any = None
        self._feedback_seen = 0
        # Class names and columns are looked up once here, not for every message.
        self._classes = {name: [str(c) for c in models[name].classes_] for name in ("intent", "sentiment")}
        self._reactive_column = list(models["reactive"].classes_).index(True)
        self._consumer_column = list(models["platform"].classes_).index("consumer")
        # The label models' probabilities in plain NumPy where that gives scikit-learn's own to the bit.
        # The platform model never saw the platform columns (it predicts them): it leaves them out itself.
        self._predict_proba = {
            name: fast_predict_proba(
                models[name],
                vectorizer.n_features_out_,
                ignore=vectorizer.platform_columns_ if name == "platform" else (),
            )
            for name in LABEL_MODELS
        }

    # -- persistence -------------------------------------------------------------------------------
    def components(self) -> dict[str, Any]:
        return {
            "text_pipeline": self.text_pipeline,
            "vectorizer": self.vectorizer,
            **{name: self.models[name] for name in LABEL_MODELS},
            "settings": {
                "review_margin": self.review_margin,
                **({"label_pairs": self.label_pairs} if self.label_pairs is not None else {}),
            },
            **({"rankers": self.rankers} if self.rankers is not None else {}),
            **({"topic_model": self.topic_model} if self.topic_model is not None else {}),
            **({"topic_space": self.topic_space} if self.topic_space is not None else {}),
        }

    @classmethod
    def load(
        cls,
        model: str | Path | None = None,
        *,
        library: Library | None = None,
        feedback_db: str | Path | None = None,
        agent_initials: str = "",
        adapt: bool = True,
    ) -> Engine:
        """Load a verified model folder (default: the current model under models/).

        Args:
            model: a model folder or a name under models/.
            library: the templates, articles and history to suggest from (default: `training_data/`'s).
            feedback_db: an SQLite feedback store whose used and rejected suggestions join the history.
            agent_initials: the signature filled into `{initialen}`.
            adapt: let a given library's own history re-weight the ranker (see `rank.tuning.adapt_rankers`).
        """
        if model is not None and not isinstance(model, (str, os.PathLike)):
            raise InputError(f"The model must be a folder or a name under models/, not {type(model).__name__}.")
        if library is not None and not isinstance(library, Library):
            raise InputError(
                f"library must be a Library, not {type(library).__name__}: load one with "
                "Library.load(templates=..., articles=..., history=...)."
            )
        directory = persist.resolve_model_dir(model)
        components, manifest = persist.load_artefact(directory)
        manifest["path"] = str(directory)
        return cls(
            text_pipeline=components["text_pipeline"],
            vectorizer=components["vectorizer"],
            models={name: components[name] for name in LABEL_MODELS},
            review_margin=components["settings"]["review_margin"],
            label_pairs=components["settings"].get("label_pairs"),
            manifest=manifest,
            rankers=components.get("rankers"),
            library=library,
            feedback_db=feedback_db,
            agent_initials=agent_initials,
            topic_model=components.get("topic_model"),
            topic_space=components.get("topic_space"),
            adapt=adapt,
        )

    # -- suggestions -------------------------------------------------------------------------------
    @property
    def suggester(self) -> Suggester:
        """The ranker over the library (built on first use: indexing costs a moment)."""
        if self._suggester is None:
            self._suggester = self._build_suggester()
        return self._suggester

    def refresh_suggester(self) -> None:
        """Rebuild the ranker over the library and what the feedback store holds now, then swap it in.

        A long-running server calls this (off its request thread) after an agent's feedback, so that later
        rankings take it in; requests meanwhile keep the suggester they had, and the swap is one assignment.
        """
        self._suggester = self._build_suggester()

    def feedback_changed(self) -> bool:
        """Whether the feedback store holds rows that the suggester in use has not taken in (recorded by this
        process or another: the server's other workers, `webcare feedback`)."""
        if self.feedback_db is None or self._suggester is None:
            return False
        return self._feedback_store().last_id() != self._feedback_seen

    def _feedback_store(self) -> Any:
        if self._store is None:
            from webcare_nlp.rank.feedback import FeedbackStore

            self._store = FeedbackStore(cast(str | Path, self.feedback_db))
        return self._store

    def _build_suggester(self) -> Suggester:
        if self.rankers is None:
            raise ModelError("This model has no ranker for suggestions; retrain it with `webcare train`.")
        library = self.library or Library.load()
        if self.feedback_db is not None:
            store = self._feedback_store()
            self._feedback_seen = store.last_id()  # read first: a row added meanwhile asks for one more rebuild
            library = library.with_history(store.history(), source=str(self.feedback_db))
        rankers = self.rankers
        if self.adapt and library.own_history >= MIN_OWN_HISTORY:
            # A team's own history (files or feedback): what its agents sent re-weights the ranker
            # (cross-validated on that history; the shipped weights stay when they rank it better). The
            # default history is not re-fitted: the shipped weights were chosen on it by `webcare train`,
            # so the CLI, the API and `webcare score` rank the default library alike.
            rankers = adapt_rankers(library, self.history_queries(library), self.rankers)
        return Suggester(library, rankers, initials=self.agent_initials, history_topics=self._history_topics(library))

    def _history_topics(self, library: Library) -> list[str | None] | None:
        """The saved topic model's topic of each past message (None without a topic model), so that a new
        message's history vote can lean on what agents sent for its topic."""
        if self.topic_model is None or not library.history:
            return None
        processed = self.text_pipeline.process_many([entry.text for entry in library.history])
        return self.topic_model.predict(processed, companies=[entry.company for entry in library.history])

    def history_queries(self, library: Library) -> list[Query]:
        """What the label models say of each past message in `library.history`, in order (for ranking)."""
        messages = [
            schema.check_message({"text": entry.text, "company": entry.company}, default_id=entry.id)
            for entry in library.history
        ]
        return [
            Query(
                text=result["masked_text"],
                company=schema.company_key(message.get("company")),
                lang=result["lang"],
                intent_scores=result["intent_scores"],
                sentiment_scores=result["sentiment_scores"],
            )
            for message, result in zip(messages, self.analyze_many(messages), strict=True)
        ]

    def suggest(
        self,
        text: str,
        *,
        top_k: int = 3,
        always: bool = False,
        abstain: bool = True,
        explain: bool = False,
        **fields: Any,
    ) -> dict[str, Any]:
        """Label one message and suggest templates and articles (fields: author, company, channel, ...).

        Example:
            >>> engine.suggest("@SkyHop koffer kwijt", author="Sanne", company="skyhop")  # doctest: +SKIP
        """
        message = schema.check_message({"text": text, **fields}, default_id=str(fields.get("id") or "1"))
        return self.suggest_many([message], top_k=top_k, always=always, abstain=abstain, explain=explain)[0]

    def suggest_many(
        self,
        messages: Sequence[dict[str, Any]],
        *,
        top_k: int = 3,
        always: bool = False,
        abstain: bool = True,
        explain: bool = False,
    ) -> list[dict[str, Any]]:
        """Analyse messages and add suggestions where a reply is expected (or `always`).

        With `abstain` (the default) a kind gets no suggestion when even its best scores below the
        threshold learned on held-out history; without it, the ranking is returned as it is. With
        `explain`, each suggestion's reasons come as data too (`why_parts`, `advice_parts`).
        """
        top_k = schema.check_top_k(top_k)
        messages = schema.check_messages(messages)
        results = self.analyze_many(messages)
        wanted = [i for i, r in enumerate(results) if always or r["reply_expected"]]
        if not wanted or top_k < 1:
            return results
        requests = [
            Request(
                query=Query(
                    text=results[i]["masked_text"],
                    company=schema.company_key(messages[i].get("company")),
                    lang=results[i]["lang"],
                    channel=messages[i].get("channel"),
                    intent_scores=results[i]["intent_scores"],
                    sentiment_scores=results[i]["sentiment_scores"],
                    topic=results[i].get("topic"),
                ),
                author=messages[i].get("author") or messages[i].get("name"),
                entities=results[i]["entities"],
                intent=results[i]["intent"],
                initials=messages[i].get("initials"),
            )
            for i in wanted
        ]
        for i, suggestions in zip(
            wanted, self.suggester.suggest_many(requests, top_k=top_k, abstain=abstain, explain=explain), strict=True
        ):
            results[i]["suggestions"] = suggestions
        return results

    # -- topics ------------------------------------------------------------------------------------
    def topics(self) -> list[dict[str, Any]]:
        """The saved topic model's topics (id, label, key terms, size, stale), or [] without one."""
        return [t.as_dict() for t in self.topic_model.topics_] if self.topic_model is not None else []

    # -- analysis ----------------------------------------------------------------------------------
    def analyze(self, text: str, **fields: Any) -> dict[str, Any]:
        """Label one message; `fields` are optional message fields (channel, platform, lang, id...)."""
        message = schema.check_message({"text": text, **fields}, default_id=str(fields.get("id") or "1"))
        return self.analyze_many([message])[0]

    def analyze_many(self, messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Label messages in one batch, in order.

        Raw dicts are fine: each is checked as `schema.check_messages` does (one without an `id` gets its
        position, from 1), and a bad one raises an InputError that names it.
        """
        messages = schema.check_messages(messages)
        if not messages:
            return []
        processed = self.text_pipeline.process_many(
            [m["text"] for m in messages], langs=[m.get("lang") for m in messages]
        )
        observations = [
            Observation(p, m.get("channel"), m.get("platform")) for p, m in zip(processed, messages, strict=True)
        ]
        matrix = self.vectorizer.transform(observations)
        predict = self._predict_proba
        probabilities = {name: predict[name](matrix) for name in ("intent", "sentiment")}
        if self.label_pairs is not None:
            probabilities["intent"], probabilities["sentiment"] = joint_marginals(
                probabilities["intent"], probabilities["sentiment"], self.label_pairs
            )
        reactive = predict["reactive"](matrix)[:, self._reactive_column].tolist()
        need_platform = [i for i, m in enumerate(messages) if not m.get("platform")]
        consumer = np.zeros(len(messages))
        if need_platform:
            rows = matrix if len(need_platform) == len(messages) else matrix[need_platform]
            consumer[need_platform] = predict["platform"](rows)[:, self._consumer_column]
        consumer_probabilities = consumer.tolist()
        # Whole-batch argmax and lists: NumPy per row and per value is the slow part of a small result.
        best = {name: p.argmax(axis=1).tolist() for name, p in probabilities.items()}
        rows = {name: p.tolist() for name, p in probabilities.items()}
        results = [
            self._result(
                message,
                item,
                reactive[i],
                consumer_probabilities[i],
                {name: rows[name][i] for name in rows},
                {name: best[name][i] for name in best},
            )
            for i, (message, item) in enumerate(zip(messages, processed, strict=True))
        ]
        if self.topic_model is not None:
            # The saved topic model (`webcare topics --save`); a message far from every topic keeps None.
            # Only the intents the topics were found among get one (questions, requests and complaints unless
            # `topics --all-intents`): small talk that shares a word with a topic ("wat een dag vandaag") is no FAQ.
            clustered = getattr(self.topic_model, "intents_", FAQ_INTENTS)
            asks = [clustered is None or r["intent"] in clustered for r in results]
            topics = self.topic_model.predict(
                [p for p, ask in zip(processed, asks, strict=True) if ask],
                companies=[m.get("company") for m, ask in zip(messages, asks, strict=True) if ask],
            )
            labels = self.topic_model.labels()
            found = iter(topics)
            for result, ask in zip(results, asks, strict=True):
                topic = next(found) if ask else None
                result["topic"], result["topic_label"] = topic, labels.get(topic) if topic else None
        return results

    def _result(
        self,
        message: dict[str, Any],
        processed: Any,
        reactive_probability: float,
        consumer_probability: float,
        rows: dict[str, list[float]],
        best: dict[str, int],
    ) -> dict[str, Any]:
        intent_classes, sentiment_classes = self._classes["intent"], self._classes["sentiment"]
        intent = intent_classes[best["intent"]]
        sentiment = sentiment_classes[best["sentiment"]]
        platform = decide_platform(
            given=message.get("platform"), channel=message.get("channel"), consumer_probability=consumer_probability
        )
        decision = decide_reply(
            intent=intent,
            reactive_probability=reactive_probability,
            platform=platform,
            review_margin=self.review_margin,
        )
        return {
            "id": message["id"],
            "lang": processed.lang,
            "intent": intent,
            "intent_scores": _scores(intent_classes, rows["intent"]),
            "sentiment": sentiment,
            "sentiment_scores": _scores(sentiment_classes, rows["sentiment"]),
            "reactive": reactive_probability >= 0.5,
            "reactive_probability": round(reactive_probability, 4),
            "platform": platform.platform,
            "platform_inferred": platform.inferred,
            "reply_expected": decision.reply_expected,
            "reply_reason": decision.reason,
            "needs_review": decision.needs_review,
            "topic": None,
            "topic_label": None,
            "suggestions": [],
            "masked_text": processed.masked,
            "entities": [{"kind": e.kind, "text": e.text} for e in processed.entities],
        }
