"""Generate Rasa training data and responses from the knowledge folder.

Output (all generated, never edited by hand):
  bot/data/nlu/faq.yml         one intent faq_<topic_id> per knowledge topic
  bot/data/nlu/behaviour.yml   behaviour and helper intents
  bot/data/rules/faq.yml       every faq_<topic_id> intent is answered by action_answer_faq
  bot/domain/generated.yml     the intents, and responses utter_<behaviour>
  bot/actions/catalogue.json   topic titles, kinds, answers and links for the actions

Answers and links are not in the domain: the action reads them from the
catalogue, so an edited answer changes no training input and needs no new model.

`--check` exits non-zero when the files on disk differ from what the knowledge
folder would generate, so a forgotten `make generate` is caught by the tests.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from knowledge_loader import REPO, Knowledge, KnowledgeError, load  # noqa: E402
from mjolby.knowledge_store.rules import GENERATED_NOTE, build_catalogue, catalogue_json, print_problems  # noqa: E402

HEADER = f"# {GENERATED_NOTE}\n"


def _examples_block(examples: list[str]) -> str:
    lines = []
    for example in examples:
        text = " ".join(example.split())
        lines.append(f"      - {text}")
    return "\n".join(lines)


def nlu_faq(k: Knowledge) -> str:
    parts = [HEADER, 'version: "3.1"\n', "nlu:\n"]
    for topic in sorted(k.topics.values(), key=lambda t: t.id):
        parts.append(f"  - intent: {faq_intent(topic.id)}\n    examples: |\n{_examples_block(topic.examples)}\n")
    return "".join(parts)


def faq_intent(topic_id: str) -> str:
    return f"faq_{topic_id}"


def rules_faq(k: Knowledge) -> str:
    parts = [HEADER, 'version: "3.1"\n', "rules:\n",
             "  - rule: answer a topic the citizen picked from \"Menade du ...?\"\n"
             "    steps:\n      - intent: choose_topic\n      - action: action_answer_faq\n"]
    for topic in sorted(k.topics.values(), key=lambda t: t.id):
        parts.append(f"  - rule: answer {topic.id}\n    steps:\n"
                     f"      - intent: {faq_intent(topic.id)}\n      - action: action_answer_faq\n")
    return "".join(parts)


def nlu_behaviour(k: Knowledge) -> str:
    parts = [HEADER, 'version: "3.1"\n', "nlu:\n"]
    for topic in sorted(k.behaviours.values(), key=lambda t: t.id):
        parts.append(f"  - intent: {topic.id}\n    examples: |\n{_examples_block(topic.examples)}\n")
    for helper in sorted(k.helpers.values(), key=lambda h: h.intent):
        parts.append(f"  - intent: {helper.intent}\n    examples: |\n{_examples_block(helper.examples)}\n")
    return "".join(parts)


def domain(k: Knowledge) -> str:
    intents = [*(faq_intent(t) for t in sorted(k.topics)), *sorted(k.behaviours), *sorted(k.helpers)]
    responses: dict[str, list[dict]] = {}
    for topic in sorted(k.behaviours.values(), key=lambda t: t.id):
        if topic.answer:
            responses[f"utter_{topic.id}"] = [
                {"text": topic.answer, "metadata": {"topic": topic.id, "links": []}}
            ]
    body = yaml.safe_dump(
        {"version": "3.1", "intents": intents, "responses": responses},
        allow_unicode=True,
        sort_keys=False,
        width=100000,
    )
    return HEADER + body


def catalogue(k: Knowledge, repo: Path = REPO, knowledge_dir: Path | None = None) -> str:
    organisation_file = (knowledge_dir or repo / "knowledge") / "organisation.yml"
    organisation = (yaml.safe_load(organisation_file.read_text(encoding="utf-8"))
                    if organisation_file.exists() else {})
    return catalogue_json(build_catalogue(k, organisation))


def outputs(k: Knowledge, repo: Path = REPO, knowledge_dir: Path | None = None) -> dict[Path, str]:
    return {
        repo / "bot/data/nlu/faq.yml": nlu_faq(k),
        repo / "bot/data/nlu/behaviour.yml": nlu_behaviour(k),
        repo / "bot/data/rules/faq.yml": rules_faq(k),
        repo / "bot/domain/generated.yml": domain(k),
        repo / "bot/actions/catalogue.json": catalogue(k, repo, knowledge_dir),
    }


def main(argv: list[str] | None = None, repo: Path = REPO) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if generated files are stale")
    parser.add_argument("--knowledge", type=Path, help="read this folder instead of knowledge/")
    parser.add_argument("--out", type=Path, help="write bot/... under this folder instead of the repository")
    args = parser.parse_args(argv)
    knowledge_dir = args.knowledge.resolve() if args.knowledge else repo / "knowledge"
    if args.out:
        repo = args.out.resolve()
    try:
        k = load(knowledge_dir)
    except KnowledgeError as exc:
        print_problems(exc, "Cannot generate: the knowledge folder has")
        return 1
    stale = []
    for path, text in outputs(k, repo, knowledge_dir).items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(str(path.relative_to(repo)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(repo)}")
    if stale:
        print("Generated files are out of date with knowledge/: " + ", ".join(stale)
              + ". Run `make generate`.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
