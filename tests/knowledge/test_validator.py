"""The validator tells editors exactly what is wrong with a knowledge file."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

import knowledge_loader as knowledge
from knowledge_loader import KnowledgeError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def kdir(tmp_path: Path) -> Path:
    """A copy of the real knowledge folder that a test may break."""
    target = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", target)
    return target


def edit(path: Path, **changes) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def problems(kdir: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as err:
        knowledge.load(kdir)
    return err.value.problems


def test_real_knowledge_folder_is_valid():
    k = knowledge.load()
    kinds = {t["kind"] for t in k.catalogue.values()}
    assert {"answer", "sensitive", "referral", "behaviour"} <= kinds
    for topic_id, entry in k.catalogue.items():
        if entry["kind"] in knowledge.TOPIC_KINDS:
            topic = k.topics[topic_id]
            assert len(topic.examples) >= knowledge.MIN_EXAMPLES
            assert topic.links and all(l["url"].startswith("https://") for l in topic.links)
            sentences = [s for s in topic.answer.replace("!", ".").replace("?", ".").split(". ") if s.strip()]
            assert 2 <= len(sentences) <= 8, f"{topic_id}: answer should be 2-6 sentences"


def test_no_answer_gives_the_retired_main_number():
    k = knowledge.load()
    for topic in k.topics.values():
        assert "0142-850 00" not in topic.answer, topic.id


def test_unknown_topic_id(kdir: Path):
    (kdir / "bygglov.yml").rename(kdir / "bygglovet.yml")
    edit(kdir / "bygglovet.yml", id="bygglovet")
    found = problems(kdir)
    assert any("unknown topic id 'bygglovet'" in p for p in found)
    assert any("knowledge/bygglov.yml: missing" in p for p in found)


def test_missing_field_is_named(kdir: Path):
    edit(kdir / "skolmat.yml", owner=None, reviewed=None)
    found = problems(kdir)
    assert any(p.startswith("knowledge/skolmat.yml: missing field(s): owner, reviewed") for p in found)


@pytest.mark.parametrize("url", ["http://www.mjolby.se/", "www.mjolby.se/bygglov", "https://www.mjolby.se/a b", "mailto:x@mjolby.se"])
def test_malformed_link(kdir: Path, url: str):
    edit(kdir / "bygglov.yml", links=[{"title": "Bygglov", "url": url}])
    found = problems(kdir)
    assert any("knowledge/bygglov.yml: link 1 has a malformed url" in p for p in found)


def test_link_without_title(kdir: Path):
    edit(kdir / "bygglov.yml", links=[{"url": "https://www.mjolby.se/"}])
    assert any("link 1 needs both 'title' and 'url'" in p for p in problems(kdir))


def test_too_few_examples(kdir: Path):
    edit(kdir / "simhall.yml", examples=[f"simhall fråga {i}" for i in range(19)])
    found = problems(kdir)
    assert any("knowledge/simhall.yml: has 19 examples; at least 20 are needed" in p for p in found)


def test_same_example_under_two_topics(kdir: Path):
    data = yaml.safe_load((kdir / "bibliotek.yml").read_text(encoding="utf-8"))
    stolen = data["examples"][0]
    other = yaml.safe_load((kdir / "simhall.yml").read_text(encoding="utf-8"))
    edit(kdir / "simhall.yml", examples=other["examples"] + ["  " + stolen.upper() + " "])
    found = problems(kdir)
    assert any("is also an example of 'bibliotek'" in p for p in found), found


def test_entity_markup_in_example_is_rejected(kdir: Path):
    data = yaml.safe_load((kdir / "skolmat.yml").read_text(encoding="utf-8"))
    edit(kdir / "skolmat.yml", examples=data["examples"] + ["vad blir det för mat [idag]"])
    assert any("contains [ ] { }" in p for p in problems(kdir))


def test_behaviour_topic_cannot_be_a_knowledge_file(kdir: Path):
    (kdir / "greet.yml").write_text(
        (kdir / "bygglov.yml").read_text(encoding="utf-8").replace("id: bygglov", "id: greet"),
        encoding="utf-8",
    )
    assert any("'greet' is a behaviour topic" in p for p in problems(kdir))


def test_invalid_yaml_is_reported_with_the_file(kdir: Path):
    (kdir / "skolmat.yml").write_text("id: skolmat\nexamples: [unclosed\n", encoding="utf-8")
    assert any(p.startswith("knowledge/skolmat.yml: is not valid YAML") for p in problems(kdir))


def test_cli_prints_problems_and_fails(kdir: Path, capsys):
    edit(kdir / "skolmat.yml", answer=None)
    assert knowledge.main(kdir) == 1
    err = capsys.readouterr().err
    assert "The knowledge folder has 1 problem(s):" in err
    assert "knowledge/skolmat.yml: missing field(s): answer" in err
