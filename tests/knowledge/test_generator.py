"""The generator turns knowledge/ into Rasa training data and responses."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

import generate
import knowledge_loader as knowledge

REPO = Path(__file__).resolve().parents[2]


def test_generated_files_are_current():
    assert generate.main(["--check"]) == 0, "run `make generate` and commit the result"


def test_outputs_say_they_are_generated(tmp_path: Path):
    k = knowledge.load()
    for path, text in generate.outputs(k, tmp_path).items():
        first = text.splitlines()[0]
        if path.suffix == ".json":
            assert "Generated from knowledge/" in json.loads(text)["_generated"]
        else:
            assert first.startswith("# Generated from knowledge/"), path


def test_every_topic_becomes_an_intent_with_its_examples(tmp_path: Path):
    k = knowledge.load()
    out = generate.outputs(k, tmp_path)
    nlu = yaml.safe_load(out[tmp_path / "bot/data/nlu/faq.yml"])["nlu"]
    by_intent = {item["intent"]: item["examples"] for item in nlu}
    assert set(by_intent) == {f"faq_{t}" for t in k.topics}
    lines = [l[2:] for l in by_intent["faq_bygglov"].splitlines()]
    assert lines == [" ".join(e.split()) for e in k.topics["bygglov"].examples]


def test_every_topic_intent_is_answered_by_the_faq_action(tmp_path: Path):
    k = knowledge.load()
    out = generate.outputs(k, tmp_path)
    rules = yaml.safe_load(out[tmp_path / "bot/data/rules/faq.yml"])["rules"]
    answered = {rule["steps"][0]["intent"] for rule in rules
                if rule["steps"][1] == {"action": "action_answer_faq"}}
    assert answered == {f"faq_{t}" for t in k.topics} | {"choose_topic"}


def test_answers_live_in_the_catalogue_not_in_the_model(tmp_path: Path):
    """An edited answer changes no training input, so it needs no new model."""
    k = knowledge.load()
    out = generate.outputs(k, tmp_path)
    domain = yaml.safe_load(out[tmp_path / "bot/domain/generated.yml"])
    assert not any(name.startswith("utter_faq") for name in domain["responses"])
    assert k.topics["bygglov"].answer not in out[tmp_path / "bot/domain/generated.yml"]
    catalogue = json.loads(out[tmp_path / "bot/actions/catalogue.json"])
    assert catalogue["topics"]["bygglov"]["answer"] == k.topics["bygglov"].answer
    assert catalogue["topics"]["bygglov"]["links"] == k.topics["bygglov"].links
    assert domain["responses"]["utter_greet"][0]["metadata"]["topic"] == "greet"
    assert "faq_bygglov" in domain["intents"] and "handover_request" in domain["intents"]


def test_check_reports_stale_files_and_changes_nothing(tmp_path: Path, capsys):
    import shutil

    shutil.copytree(REPO / "knowledge", tmp_path / "knowledge")
    assert generate.main([], repo=tmp_path) == 0
    assert generate.main(["--check"], repo=tmp_path) == 0
    (tmp_path / "bot/data/nlu/faq.yml").write_text("# edited by hand\n", encoding="utf-8")
    assert generate.main(["--check"], repo=tmp_path) == 1
    assert "bot/data/nlu/faq.yml" in capsys.readouterr().err
    assert (tmp_path / "bot/data/nlu/faq.yml").read_text() == "# edited by hand\n"


def test_generate_refuses_invalid_knowledge(tmp_path: Path, capsys):
    import shutil

    shutil.copytree(REPO / "knowledge", tmp_path / "knowledge")
    (tmp_path / "knowledge/skolmat.yml").unlink()
    assert generate.main([], repo=tmp_path) == 1
    assert "knowledge/skolmat.yml: missing" in capsys.readouterr().err
    assert not (tmp_path / "bot/data/nlu/faq.yml").exists()
