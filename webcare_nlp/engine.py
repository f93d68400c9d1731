"""The engine: the composition of text pipeline, features and models that labels a message."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from webcare_nlp import persist, schema
from webcare_nlp.classify.reply import decide_platform, decide_reply
from webcare_nlp.features.vectorize import MessageVectorizer, Observation
from webcare_nlp.text.pipeline import TextPipeline

LABEL_MODELS = ("intent", "sentiment", "reactive", "platform")


def _scores(classes: Sequence[Any], row: np.ndarray) -> dict[str, float]:
    return {str(label): round(float(p), 4) for label, p in zip(classes, row, strict=True)}


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
        manifest: dict[str, Any] | None = None,
    ) -> None:
        self.text_pipeline = text_pipeline
        self.vectorizer = vectorizer
        self.models = models
        self.review_margin = review_margin
        self.manifest = manifest or {}
        # Class names and columns are looked up once here, not for every message.
        self._classes = {name: [str(c) for c in models[name].classes_] for name in ("intent", "sentiment")}
        self._reactive_column = list(models["reactive"].classes_).index(True)
        self._consumer_column = list(models["platform"].classes_).index("consumer")

    # -- persistence -------------------------------------------------------------------------------
    def components(self) -> dict[str, Any]:
        return {
            "text_pipeline": self.text_pipeline,
            "vectorizer": self.vectorizer,
            **{name: self.models[name] for name in LABEL_MODELS},
            "settings": {"review_margin": self.review_margin},
        }

    @classmethod
    def load(cls, model: str | Path | None = None) -> Engine:
        """Load a verified model folder (default: the current model under models/)."""
        directory = persist.resolve_model_dir(model)
        components, manifest = persist.load_artefact(directory)
        manifest["path"] = str(directory)
        return cls(
            text_pipeline=components["text_pipeline"],
            vectorizer=components["vectorizer"],
            models={name: components[name] for name in LABEL_MODELS},
            review_margin=components["settings"]["review_margin"],
            manifest=manifest,
        )

    # -- analysis ----------------------------------------------------------------------------------
    def analyze(self, text: str, **fields: Any) -> dict[str, Any]:
        """Label one message; `fields` are optional message fields (channel, platform, lang, id...)."""
        message = schema.check_message({"text": text, **fields}, default_id=str(fields.get("id") or "1"))
        return self.analyze_many([message])[0]

    def analyze_many(self, messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Label validated messages (see `schema.check_message`) in one batch, in order."""
        if not messages:
            return []
        processed = self.text_pipeline.process_many(
            [m["text"] for m in messages], langs=[m.get("lang") for m in messages]
        )
        observations = [
            Observation(p, m.get("channel"), m.get("platform")) for p, m in zip(processed, messages, strict=True)
        ]
        matrix = self.vectorizer.transform(observations)
        probabilities = {name: self.models[name].predict_proba(matrix) for name in ("intent", "sentiment")}
        reactive = self.models["reactive"].predict_proba(matrix)[:, self._reactive_column]
        need_platform = [i for i, m in enumerate(messages) if not m.get("platform")]
        consumer = np.zeros(len(messages))
        if need_platform:
            rows = self.vectorizer.without_platform(matrix[need_platform])
            consumer[need_platform] = self.models["platform"].predict_proba(rows)[:, self._consumer_column]
        return [
            self._result(message, item, float(reactive[i]), consumer[i], {k: v[i] for k, v in probabilities.items()})
            for i, (message, item) in enumerate(zip(messages, processed, strict=True))
        ]

    def _result(
        self,
        message: dict[str, Any],
        processed: Any,
        reactive_probability: float,
        consumer_probability: float,
        rows: dict[str, np.ndarray],
    ) -> dict[str, Any]:
        intent_classes, sentiment_classes = self._classes["intent"], self._classes["sentiment"]
        intent = intent_classes[int(np.argmax(rows["intent"]))]
        sentiment = sentiment_classes[int(np.argmax(rows["sentiment"]))]
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
