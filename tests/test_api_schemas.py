"""The published OpenAPI document names each schema once: two routers' schemas with the same
class name would overwrite each other there, and clients (and the fuzzer) would read the wrong
one."""

from __future__ import annotations

from collections import defaultdict

from ninja import Schema

import onething.api  # noqa: F401  (imports every router and its schemas)


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _subclasses(sub)
    return found


def test_every_api_schema_of_the_platform_has_its_own_name():
    by_name: dict[str, list[str]] = defaultdict(list)
    for schema in _subclasses(Schema):
        if schema.__module__.startswith("onething."):
            by_name[schema.__name__].append(schema.__module__)
    assert {name: modules for name, modules in by_name.items() if len(modules) > 1} == {}
