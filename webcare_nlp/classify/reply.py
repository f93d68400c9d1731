"""The reply decision of seed 002, with platform inference and abstention near the boundary."""

from __future__ import annotations

from dataclasses import dataclass

from webcare_nlp.schema import reply_rule

# Channels whose platform follows from the channel itself: a DM inbox is the brand's own,
# a review site never is. Twitter, Facebook, Instagram and forums can be either.
CHANNEL_PLATFORM = {
    "whatsapp": "brand",
    "messenger": "brand",
    "email": "brand",
    "blog_comment": "brand",
    "review": "consumer",
}


@dataclass(frozen=True)
class PlatformDecision:
    platform: str
    inferred: bool
    how: str
    # The platform model's probability of "consumer", when the platform was inferred from the text.
    consumer_probability: float | None = None


@dataclass(frozen=True)
class ReplyDecision:
    reply_expected: bool
    reason: str
    needs_review: bool


def decide_platform(*, given: str | None, channel: str | None, consumer_probability: float) -> PlatformDecision:
    """Use the given platform; else the channel's own; else the platform model's prediction."""
    if given:
        return PlatformDecision(given, False, "given")
    if channel in CHANNEL_PLATFORM:
        return PlatformDecision(CHANNEL_PLATFORM[channel], True, f"inferred from channel '{channel}'")
    platform = "consumer" if consumer_probability >= 0.5 else "brand"
    confidence = max(consumer_probability, 1 - consumer_probability)
    return PlatformDecision(
        platform, True, f"inferred from the text (p={confidence:.2f})", consumer_probability=consumer_probability
    )


def decide_reply(
    *, intent: str, reactive_probability: float, platform: PlatformDecision, review_margin: float
) -> ReplyDecision:
    """Apply the rule and explain it; flag a decision that hangs on a reactive probability near 0.5.

    Example:
        >>> p = PlatformDecision("consumer", False, "given")
        >>> decide_reply(intent="complaint", reactive_probability=0.9, platform=p, review_margin=0.1).reason
        'reactive message on a consumer platform: reply'
    """
    reactive = reactive_probability >= 0.5
    expected = reply_rule(intent=intent, reactive=reactive, platform=platform.platform)
    if intent == "other":
        reason = "not a customer-care message (intent 'other': spam or unrelated): no reply"
    else:
        kind = "reactive" if reactive else "proactive"
        reason = f"{kind} message on a {platform.platform} platform: {'reply' if expected else 'no reply'}"
    if intent == "other":  # neither reactive nor platform played a part
        return ReplyDecision(expected, reason, False)
    if platform.inferred:
        reason += f"; platform {platform.how}"
    # The reactive probability only matters where it can flip the decision: a consumer platform.
    borderline = abs(reactive_probability - 0.5) < review_margin
    needs_review = borderline and platform.platform == "consumer"
    if needs_review:
        reason += f"; reactive probability {reactive_probability:.2f} is close to 0.5, so check by hand"
    # And the platform only where the message is proactive: a guess from the text near 0.5 decides it then.
    # (With both near even, either may flip: a reactive message on a brand platform guessed near even too.)
    guess = platform.consumer_probability
    if (not reactive or borderline) and guess is not None and abs(guess - 0.5) < review_margin:
        needs_review = True
        reason += f"; the platform guess ({max(guess, 1 - guess):.2f}) is close to even, so check by hand"
    return ReplyDecision(expected, reason, needs_review)
