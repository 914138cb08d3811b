"""Fails when any `run:` script of an action.yml or workflow contains `${{`.

Expressions inside run: scripts are GitHub's script-injection hole: everything must reach the
script through `env:` (DESIGN.md, "The action/CLI contract").
"""
import pathlib
import sys

from ruamel.yaml import YAML


def runs(node, path):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "run" and isinstance(value, str):
                yield path, value
            else:
                yield from runs(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from runs(item, f"{path}[{index}]")


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    files = [root / "action.yml", *root.glob("actions/*/action.yml")]
    files += [*root.glob(".github/workflows/*.yml"), *root.glob("examples/workflows/*.yml")]
    yaml = YAML(typ="safe")
    bad = []
    for file in files:
        if not file.exists():
            continue
        for where, script in runs(yaml.load(file.read_text()), ""):
            if "${{" in script:
                bad.append(f"{file.relative_to(root)}:{where}: `${{{{` inside a run: script; pass it through env:")
    for line in bad:
        print(line)
    print(f"checked {len(files)} files: {'no' if not bad else len(bad)} expressions in run: scripts")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
