"""The one canonical form of an OpenAPI document: the same document, the same bytes.

Paths, methods, answers and components are sorted, and schemas and headers that
nothing refers to are dropped. The monolith's document and the gateway's merge of the
services' documents, both put in this form, can then be compared byte for byte.
"""

from collections.abc import Iterator
from typing import Any

Document = dict[str, Any]

METHOD_ORDER = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def canonical(document: Document) -> Document:
    """Paths, methods, answers and components sorted; schemas and headers nothing uses dropped."""
    paths = {
        path: {
            method: _with_sorted_responses(operation)
            for method, operation in sorted(item.items(), key=lambda pair: _method_rank(pair[0]))
        }
        for path, item in sorted(document.get("paths", {}).items())
    }
    components: dict[str, Any] = document.get("components", {})
    used = _reachable(paths, components)
    kept = {
        section: {
            name: value
            for name, value in sorted(entries.items())
            if section not in ("schemas", "headers") or f"#/components/{section}/{name}" in used
        }
        for section, entries in sorted(components.items())
    }
    form: Document = {"openapi": document["openapi"], "info": document["info"], "paths": paths}
    if any(kept.values()):
        form["components"] = {section: entries for section, entries in kept.items() if entries}
    return form


def _with_sorted_responses(operation: dict[str, Any]) -> dict[str, Any]:
    if "responses" not in operation:
        return operation
    return {**operation, "responses": dict(sorted(operation["responses"].items()))}


def operations(document: Document) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every ``(path, method, operation)`` of the document."""
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            yield path, method, operation


def _method_rank(method: str) -> int:
    return METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER)


def _reachable(paths: dict[str, Any], components: dict[str, Any]) -> set[str]:
    """Every component reference reachable from the paths, through components too."""
    seen: set[str] = set()
    pending = list(refs(paths))
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, section, name = ref.split("/", 3)
        pending.extend(refs(components.get(section, {}).get(name, {})))
    return seen


def refs(node: Any) -> Iterator[str]:
    """Every component reference (``#/components/...``) in ``node``, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/"):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)
