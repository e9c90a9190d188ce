"""The hotline's loaded data: the dispatch catalogue, the areas, the classifier and its rules.

Each is read once per process (the files ship with the code); the classifier is trained into the
data folder on first use when `onething hotline train` has not been run, so a fresh demo works.
"""

from __future__ import annotations

import logging
import os
import threading
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from django.conf import settings

from onething.complaints.dispatch import CATEGORIES_FILE, Dispatch, load

if TYPE_CHECKING:
    from onething.complaints import classifier

logger = logging.getLogger("onething.complaints")
_model_lock = threading.Lock()
_model: tuple[float, classifier.Model] | None = None


def dispatch_catalogue() -> Dispatch:
    """The checked dispatch catalogue against the loaded catalog's regions and departments."""
    from onething.catalog.models import Department, Region

    return _dispatch_for(
        frozenset(Region.objects.values_list("code", flat=True)),
        frozenset(Department.objects.values_list("code", flat=True)),
    )


@lru_cache(maxsize=4)
def _dispatch_for(regions: frozenset[str], departments: frozenset[str]) -> Dispatch:
    return load(regions=regions, departments=departments)


@cache
def categories() -> dict[str, dict[str, str]]:
    """code → {"zh": …, "en": …}, in the file's order."""
    raw = yaml.safe_load(Path(CATEGORIES_FILE).read_text(encoding="utf-8"))
    return {str(c["code"]): {"zh": c["zh"], "en": c["en"]} for c in raw["categories"]}


@cache
def keyword_rules() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Keyword rules that override the model (categories.yaml `rules`), in order."""
    raw = yaml.safe_load(Path(CATEGORIES_FILE).read_text(encoding="utf-8"))
    return tuple(
        (str(rule["category"]), tuple(str(k) for k in rule["keywords"]))
        for rule in raw.get("rules", [])
    )


def model_path() -> Path:
    return Path(settings.ONETHING_HOTLINE_MODEL)


def suggestion_model() -> classifier.Model:
    """The trained classifier with the current keyword rules; reloaded when the file changes."""
    # Imported here: scikit-learn and jieba take seconds to import, and every process that
    # loads Django (the worker, the CLI) would pay for them without ever classifying a text.
    from onething.complaints import classifier

    global _model
    path = model_path()
    with _model_lock:
        if not path.exists():
            logger.info("no hotline classifier at %s: training one on the shipped data", path)
            dataset = classifier.read_samples(classifier.DEFAULT_DATA)
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written beside and moved into place: another process never reads half a file.
            partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
            classifier.save(classifier.train(dataset.samples, data_sha256=dataset.sha256), partial)
            os.replace(partial, path)
        stamp = path.stat().st_mtime
        if _model is None or _model[0] != stamp:
            _model = (stamp, classifier.load(path, rules=keyword_rules()))
        return _model[1]
