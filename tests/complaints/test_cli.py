"""`onething hotline train`, run in-process as a user would."""

from __future__ import annotations

import csv

from onething.cli import main
from onething.complaints import classifier


def _small_data(path, per_category=40):
    """A slice of the shipped data, so the command runs in a second or two."""
    taken: dict[str, int] = {}
    rows = []
    for sample in classifier.read_samples(classifier.DEFAULT_DATA).samples:
        if taken.get(sample.category, 0) < per_category:
            taken[sample.category] = taken.get(sample.category, 0) + 1
            rows.append((sample.text, sample.category))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        writer.writerows(rows)
    return path


def test_hotline_train_prints_the_accuracy_and_writes_the_model(tmp_path, capsys):
    data = _small_data(tmp_path / "small.csv")
    out = tmp_path / "model.joblib"
    assert main(["hotline", "train", "--data", str(data), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    model = classifier.load(out)
    assert f"held-out accuracy: {model.accuracy:.3f}" in printed
    assert "majority-class rate: 0.0" in printed
    assert "unpaid_wages" in printed
    assert "precision" in printed
    assert "recall" in printed
    assert len(model.categories) >= 15


def test_hotline_train_writes_into_the_data_folder_by_default(tmp_path, monkeypatch, capsys):
    data = _small_data(tmp_path / "small.csv", per_category=10)
    monkeypatch.setenv("ONETHING_DATA_DIR", str(tmp_path / "var"))
    assert main(["hotline", "train", "--data", str(data)]) == 0
    path = tmp_path / "var" / classifier.MODEL_FILENAME
    assert str(path) in capsys.readouterr().out
    assert classifier.load(path).data_sha256 == classifier.read_samples(data).sha256


def test_hotline_train_on_a_missing_file_exits_1_with_a_message(tmp_path, capsys):
    assert main(["hotline", "train", "--data", str(tmp_path / "none.csv")]) == 1
    assert "none.csv" in capsys.readouterr().err
