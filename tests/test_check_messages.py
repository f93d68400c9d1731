"""The writers' checker (scripts/check_messages.py) names every problem of a new message file with its line."""

import json
import subprocess
import sys

from webcare_nlp.dataset import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "check_messages.py"


def message(number: int, text: str, **labels):
    base = {
        "id": f"new-{number:04d}",
        "text": text,
        "channel": "review",
        "platform": "consumer",
        "lang": "nl",
        "company": "frietpaleis",
        "sector": "dining",
        "author": "Kevin D.",
        "created_at": "2026-02-01T19:00:00+01:00",
        "intent": "compliment",
        "sentiment": "positive",
        "reactive": False,
        "reply_expected": False,
    }
    return {**base, **labels}


def run(tmp_path, lines):
    corpus = tmp_path / "messages"
    corpus.mkdir()
    old = message(1, "De stoofvleessaus was zalig en de frietjes knapperig, wij komen zeker terug.", id="old-0001")
    (corpus / "old.jsonl").write_text(json.dumps(old) + "\n", encoding="utf-8")
    new = tmp_path / "new.jsonl"
    new.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(new), "--corpus", str(corpus)], capture_output=True, text=True, check=False
    )
    return done.returncode, done.stdout


def test_a_clean_file_passes_and_is_counted(tmp_path):
    lines = [
        json.dumps(
            message(1, "Bediening traag en nors, en de curryworst was lauw.", intent="complaint", sentiment="negative")
        ),
        json.dumps(message(2, "Amai, beste frietjes van Kortrijk!")),
    ]
    code, out = run(tmp_path, lines)
    assert code == 0, out
    assert "2 messages; 0 problem(s)" in out
    assert "sentiment: negative 1, positive 1" in out


def test_every_problem_is_named_with_its_line(tmp_path):
    lines = [
        # A byte-order mark, as Notepad writes one, is not part of the first line.
        "\ufeff" + json.dumps(message(1, "Prima frietjes, vriendelijke uitbaters.")),
        json.dumps(message(1, "Twee keer hetzelfde id, dat mag niet in een corpus.")),
        json.dumps(message(3, "Waarom is de frituur op maandag dicht?", intent="question", reactive=True)),
        json.dumps(message(4, "De stoofvleessaus was zalig en de frietjes knapperig, wij komen zeker terug!")),
        "{not json",
        json.dumps({k: v for k, v in message(6, "Geen auteur hier.").items() if k != "author"}),
        json.dumps(message(7, "Eten oké", id="old-0001", sentiment="neutral")),
    ]
    code, out = run(tmp_path, lines)
    assert code == 1
    assert "new.jsonl:2: duplicate id 'new-0001'" in out
    assert "new.jsonl:3: reply_expected is False, the rule says True" in out
    assert "new.jsonl:4: near-duplicate" in out and "of the corpus" in out
    assert "new.jsonl:5: not valid JSON" in out
    assert "new.jsonl:6: missing author" in out
    assert "new.jsonl:7: id 'old-0001' is already used in the corpus" in out
    assert "new.jsonl:1:" not in out
