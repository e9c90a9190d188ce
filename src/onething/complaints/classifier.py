"""Suggests a hotline category for a complaint's text (pure: no Django).

The model is TF-IDF over jieba word tokens (unigrams and bigrams) fed to a logistic regression
(adding character 1–3-grams measured no better on the shipped data and took twice as long).
`train` measures accuracy on a stratified held-out split (fixed seed), then refits on every sample,
so the stored model uses all the data and carries the held-out figures.

Keyword rules override the model: `rules` is a list of `(category, [keywords])`, checked in order
before the model; the first rule with a keyword contained in the text (case-insensitive) wins, with
confidence 1.0. Use them for what must never be missed or what the data set does not yet cover
(e.g. `("food_safety", ["食物中毒"])`). They are stored with the model.

Agents' corrections of the suggested category can be trained on beside the labelled data
(`train(..., corrections=...)`): a correction overrides the data set's label only for its own
text, one text keeps its last correction, and the held-out split is drawn from the data set alone
(with its own labels, and no correction of a held-out text trained on before the measurement), so
the accuracy stays comparable with a model trained without corrections.

Model files are pickles (joblib): load only files this platform wrote.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import joblib
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_fscore_support
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

with warnings.catch_warnings():
    # jieba 0.42 has regexes with invalid escapes; the warning is about its code, not ours.
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", SyntaxWarning)
    import jieba

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_DATA = DATA_DIR / "complaints.csv"
MODEL_FILENAME = "complaints-classifier.joblib"
FILE_FORMAT = 1
SEED = 12345
HELD_OUT = 0.2

jieba.setLogLevel(logging.WARNING)
# jieba gives its logger a handler of its own, which would bypass the platform's handlers (and
# their masking of personal numbers): its messages go through ours instead.
jieba.default_logger.handlers.clear()
jieba.default_logger.propagate = True

Rules = Sequence[tuple[str, Sequence[str]]]


@dataclass(frozen=True)
class Sample:
    text: str
    category: str


@dataclass(frozen=True)
class DataSet:
    samples: list[Sample]
    sha256: str


@dataclass(frozen=True)
class CategoryScore:
    precision: float
    recall: float
    support: int  # held-out samples of this category


@dataclass(frozen=True)
class Evaluation:
    """How the model did on the held-out split it was not trained on."""

    accuracy: float
    majority_rate: float  # accuracy of always answering the most frequent category
    train_size: int
    test_size: int
    counts: dict[str, int]  # samples per category in the whole data set
    per_category: dict[str, CategoryScore]


@dataclass(frozen=True)
class Suggestion:
    """The suggested category, the confidence in it (0–1), and the keyword of the rule that
    decided it ("" when the model did)."""

    category: str
    confidence: float
    rule: str = ""


@dataclass
class Model:
    pipeline: Pipeline
    evaluation: Evaluation
    data_sha256: str
    trained_at: datetime
    rules: list[tuple[str, list[str]]] = field(default_factory=list)
    sklearn_version: str = sklearn.__version__
    corrections: int = 0  # distinct corrected texts trained on beside the data set

    @property
    def categories(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    @property
    def accuracy(self) -> float:
        return self.evaluation.accuracy

    def rule_for(self, text: str) -> tuple[str, str] | None:
        """The (category, keyword) of the first rule whose keyword is in the text, if any."""
        lowered = _checked(text).lower()
        for category, keywords in self.rules:
            for keyword in keywords:
                if keyword.lower() in lowered:
                    return category, keyword
        return None

    def _ranked(self, text: str) -> list[tuple[str, float]]:
        """Every category by the model's probability, best first."""
        probabilities = self.pipeline.predict_proba([_checked(text)])[0]
        ranked = sorted(zip(self.categories, probabilities, strict=True), key=lambda p: -p[1])
        return [(category, float(p)) for category, p in ranked]

    def top(self, text: str, n: int = 3) -> list[tuple[str, float]]:
        """The n likeliest categories, best first; a matching rule's category comes first at 1.0."""
        if n < 1:
            raise ValueError(f"n: must be at least 1, got {n}")
        ruled = self.rule_for(text)
        result = self._ranked(text)
        if ruled is not None:
            result = [(ruled[0], 1.0)] + [pair for pair in result if pair[0] != ruled[0]]
        return result[:n]

    def suggest(self, text: str) -> Suggestion:
        """The suggested category with its confidence and deciding keyword; the rules are
        checked once, and a matching rule wins at 1.0 without asking the model."""
        ruled = self.rule_for(text)
        if ruled is not None:
            return Suggestion(category=ruled[0], confidence=1.0, rule=ruled[1])
        category, confidence = self._ranked(text)[0]
        return Suggestion(category=category, confidence=confidence)

    def predict(self, text: str) -> tuple[str, float]:
        """The suggested category and the confidence in it (0–1)."""
        suggestion = self.suggest(text)
        return suggestion.category, suggestion.confidence


def _checked(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text: is empty or only whitespace; there is nothing to classify")
    return text


def tokenize(text: str) -> list[str]:
    """jieba words without whitespace and punctuation-only tokens."""
    return [word for word in jieba.lcut(text) if word.strip() and any(c.isalnum() for c in word)]


def _pipeline(seed: int) -> Pipeline:
    words = TfidfVectorizer(
        tokenizer=tokenize,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, 2),
        sublinear_tf=True,
    )
    model = LogisticRegression(C=10.0, solver="newton-cg", max_iter=200, random_state=seed)
    return Pipeline([("words", words), ("model", model)])


def _check_rules(rules: Rules) -> list[tuple[str, list[str]]]:
    checked = []
    for index, (category, keywords) in enumerate(rules):
        words = [str(k) for k in keywords]
        if not category or not words or not all(w.strip() for w in words):
            raise ValueError(f"rules[{index}]: needs a category and non-empty keywords")
        checked.append((str(category), words))
    return checked


def samples_sha256(samples: Iterable[Sample]) -> str:
    """A digest of the samples themselves, for data that did not come from a file."""
    digest = hashlib.sha256()
    for sample in samples:
        digest.update(f"{sample.text}\t{sample.category}\n".encode())
    return digest.hexdigest()


def read_samples(path: Path | str) -> DataSet:
    """The rows of a `text,category` CSV file (UTF-8, with a header) and the file's SHA-256."""
    path = Path(path)
    raw = path.read_bytes()
    reader = csv.DictReader(raw.decode("utf-8-sig").splitlines())
    if reader.fieldnames is None or not {"text", "category"} <= set(reader.fieldnames):
        raise ValueError(f"{path}: expected the columns text,category")
    samples = []
    for line, row in enumerate(reader, start=2):
        text, category = (row.get("text") or "").strip(), (row.get("category") or "").strip()
        if not text or not category:
            raise ValueError(f"{path}: line {line}: text and category are both required")
        samples.append(Sample(text, category))
    return DataSet(samples, hashlib.sha256(raw).hexdigest())


def latest_by_text(corrections: Iterable[Sample]) -> dict[str, str]:
    """text → category of the last correction of each text (oldest first in, last one wins)."""
    latest: dict[str, str] = {}
    for correction in corrections:
        text, category = correction.text.strip(), correction.category.strip()
        if not text or not category:
            raise ValueError("corrections: text and category are both required")
        latest.pop(text, None)  # keep the order of the last correction
        latest[text] = category
    return latest


def with_corrections(samples: Sequence[Sample], corrections: Mapping[str, str]) -> list[Sample]:
    """The samples with each corrected text's label replaced, then the corrected texts the
    samples do not hold; one sample per corrected text."""
    merged, seen = [], set()
    for sample in samples:
        if sample.text in corrections:
            if sample.text in seen:
                continue
            seen.add(sample.text)
            merged.append(Sample(sample.text, corrections[sample.text]))
        else:
            merged.append(sample)
    merged.extend(
        Sample(text, category) for text, category in corrections.items() if text not in seen
    )
    return merged


def train(
    samples: Sequence[Sample],
    *,
    corrections: Iterable[Sample] = (),
    rules: Rules = (),
    data_sha256: str | None = None,
    seed: int = SEED,
    held_out: float = HELD_OUT,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Model:
    """Evaluate on a stratified held-out split of `samples`, then fit on every sample and
    every correction (oldest first; see the module's docstring for how they combine).

    Every category needs at least two samples, so that each side of the split holds one.
    """
    counts = Counter(sample.category for sample in samples)
    if len(counts) < 2:
        raise ValueError("samples: need at least two categories")
    scarce = sorted(category for category, n in counts.items() if n < 2)
    if scarce:
        raise ValueError(f"samples: categories with fewer than 2 samples: {', '.join(scarce)}")
    texts = [sample.text for sample in samples]
    labels = [sample.category for sample in samples]
    train_x, test_x, train_y, test_y = train_test_split(
        texts, labels, test_size=held_out, stratify=labels, random_state=seed
    )
    corrected = latest_by_text(corrections)
    held_out_texts = set(test_x)
    measured = with_corrections(
        [Sample(x, y) for x, y in zip(train_x, train_y, strict=True)],
        {text: c for text, c in corrected.items() if text not in held_out_texts},
    )
    evaluated = _pipeline(seed).fit([s.text for s in measured], [s.category for s in measured])
    predicted = evaluated.predict(test_x)
    categories = sorted(counts)
    precision, recall, _, support = precision_recall_fscore_support(
        test_y, predicted, labels=categories, zero_division=0
    )
    test_counts = Counter(test_y)
    evaluation = Evaluation(
        accuracy=sum(p == y for p, y in zip(predicted, test_y, strict=True)) / len(test_y),
        majority_rate=max(test_counts.values()) / len(test_y),
        train_size=len(train_y),
        test_size=len(test_y),
        counts=dict(sorted(counts.items())),
        per_category={
            category: CategoryScore(float(p), float(r), int(s))
            for category, p, r, s in zip(categories, precision, recall, support, strict=True)
        },
    )
    everything = with_corrections(samples, corrected)
    return Model(
        pipeline=_pipeline(seed).fit(
            [s.text for s in everything], [s.category for s in everything]
        ),
        evaluation=evaluation,
        data_sha256=data_sha256 or samples_sha256(samples),
        trained_at=now(),
        rules=_check_rules(rules),
        corrections=len(corrected),
    )


def save(model: Model, path: Path | str) -> Path:
    """Write the model with its accuracy, categories, training date and data set digest."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(
        {
            "format": FILE_FORMAT,
            "pipeline": model.pipeline,
            "evaluation": model.evaluation,
            "accuracy": model.accuracy,
            "categories": model.categories,
            "data_sha256": model.data_sha256,
            "trained_at": model.trained_at.isoformat(),
            "rules": model.rules,
            "sklearn_version": model.sklearn_version,
            "corrections": model.corrections,
        },
        path,
    )
    return path


def load(path: Path | str, *, rules: Rules | None = None) -> Model:
    """A model written by `save`; `rules`, when given, replace the stored ones."""
    stored = joblib.load(Path(path))
    if not isinstance(stored, dict) or stored.get("format") != FILE_FORMAT:
        raise ValueError(f"{path}: not a complaints classifier model (format {FILE_FORMAT})")
    return Model(
        pipeline=stored["pipeline"],
        evaluation=stored["evaluation"],
        data_sha256=stored["data_sha256"],
        trained_at=datetime.fromisoformat(stored["trained_at"]),
        rules=_check_rules(stored["rules"] if rules is None else rules),
        sklearn_version=stored["sklearn_version"],
        corrections=int(stored.get("corrections", 0)),  # files written before corrections
    )
