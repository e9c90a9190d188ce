"""`onething hotline train` and `corrections`, run in-process as a user would."""

from __future__ import annotations

import csv
import io
import re

from onething.audit.models import AuditRecord
from onething.cli import main
from onething.complaints import classifier, services
from onething.complaints.models import CategoryCorrection, Channel
from onething.complaints.services import Intake
from tests.complaints.test_classifier import ACCURACY_FLOOR, TEXTS


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


def test_hotline_train_writes_where_the_server_reads_the_model_by_default(
    tmp_path, settings, capsys
):
    data = _small_data(tmp_path / "small.csv", per_category=10)
    settings.ONETHING_HOTLINE_MODEL = tmp_path / "served" / "model.joblib"
    (tmp_path / "served").mkdir()
    assert main(["hotline", "train", "--data", str(data)]) == 0
    path = tmp_path / "served" / "model.joblib"
    assert str(path) in capsys.readouterr().out
    assert classifier.load(path).data_sha256 == classifier.read_samples(data).sha256


def test_hotline_train_on_a_missing_file_exits_1_with_a_message(tmp_path, capsys):
    assert main(["hotline", "train", "--data", str(tmp_path / "none.csv")]) == 1
    assert "none.csv" in capsys.readouterr().err


# --- the whole shipped data set, as an operator runs it -------------------------------------------


def test_hotline_train_on_the_shipped_data_meets_the_floor_and_saves_what_it_measured(
    tmp_path, capsys, trained
):
    out = tmp_path / "model.joblib"
    assert main(["hotline", "train", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    accuracy = float(re.search(r"^held-out accuracy: (\d\.\d{3})$", printed, re.M)[1])
    majority = float(re.search(r"^majority-class rate: (\d\.\d{3})$", printed, re.M)[1])
    assert accuracy >= ACCURACY_FLOOR
    assert accuracy >= majority + 0.5
    shipped = classifier.read_samples(classifier.DEFAULT_DATA)
    assert f"({len(shipped.samples)} samples" in printed
    loaded = classifier.load(out)
    assert f"{loaded.accuracy:.3f}" == f"{accuracy:.3f}"
    assert loaded.data_sha256 == shipped.sha256 and loaded.corrections == 0
    # Training is deterministic: the saved model answers as the one trained in this process.
    assert [loaded.top(text, 3) for text in TEXTS] == [trained.top(text, 3) for text in TEXTS]
    assert loaded.evaluation == trained.evaluation


# --- the agents' corrections ----------------------------------------------------------------------

# Traffic signals are the traffic police's (交通管理), but the shipped data's street-light
# complaints pull this text towards street lights: the shipped model gets it wrong.
SIGNALS = "路口红绿灯坏了"
SIGNALS_WITH_PHONE = "红绿灯不亮了，回电13959211234"
ZHONGHUA = "厦门市思明区中华街道中山路128号"


def _phoned(hotline, text: str, category: str):
    return services.ticket_receive(
        actor=hotline["agent"],
        channel=Channel.PHONE,
        intake=Intake(
            description=text, address=ZHONGHUA, category=category, contact_phone="13959211234"
        ),
    )


def test_corrections_retrain_the_classifier_to_what_the_agents_chose(
    hotline, trained, tmp_path, capsys
):
    assert trained.predict(SIGNALS)[0] != "traffic"
    # Two calls with the same text, both corrected to traffic: one sample.
    _phoned(hotline, SIGNALS, "traffic")
    _phoned(hotline, SIGNALS, "traffic")
    # Corrected twice: its last correction counts.
    third = _phoned(hotline, SIGNALS_WITH_PHONE, "parking")
    services.ticket_correct_category(actor=hotline["agent"], ticket=third, category="traffic")
    assert CategoryCorrection.objects.count() == 4

    out = tmp_path / "corrected.joblib"
    assert main(["hotline", "train", "--with-corrections", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "corrections used: 2 corrected texts (from 3 corrected tickets" in printed
    # The held-out split is the shipped data's, so the figure compares with the plain model's.
    assert f"held-out: {trained.evaluation.test_size} samples" in printed
    accuracy = float(re.search(r"^held-out accuracy: (\d\.\d{3})$", printed, re.M)[1])
    assert accuracy >= ACCURACY_FLOOR
    corrected = classifier.load(out)
    assert corrected.corrections == 2
    assert corrected.evaluation.test_size == trained.evaluation.test_size
    assert corrected.predict(SIGNALS)[0] == "traffic"
    # Texts nobody corrected keep their category.
    assert [corrected.predict(t)[0] for t in TEXTS] == [trained.predict(t)[0] for t in TEXTS]
    assert AuditRecord.objects.filter(action="hotline.corrections_read_for_training").exists()


def test_the_corrections_export_masks_numbers_and_neutralises_formulas(hotline, tmp_path, capsys):
    formula = _phoned(hotline, '=HYPERLINK("http://x.test")路灯不亮', "street_lights")
    services.ticket_correct_category(actor=hotline["agent"], ticket=formula, category="traffic")
    with_phone = _phoned(hotline, SIGNALS_WITH_PHONE, "traffic")
    if with_phone.suggested_category == "traffic":  # no correction was needed: make one
        services.ticket_correct_category(
            actor=hotline["agent"], ticket=with_phone, category="parking"
        )
    out = tmp_path / "corrections.csv"
    assert main(["hotline", "corrections", "--csv", str(out)]) == 0
    rows_written = CategoryCorrection.objects.count()
    assert f"{rows_written} category corrections written to {out}" in capsys.readouterr().out
    raw = out.read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["reference", "corrected_at", "suggested", "chosen", "text"]
    assert len(rows) == rows_written + 1
    by_ticket = {}
    for reference, _at, suggested, chosen, text in rows[1:]:
        by_ticket.setdefault(reference, []).append((suggested, chosen, text))
    formula_rows = by_ticket[formula.reference]
    assert formula_rows[-1][1] == "traffic"
    assert all(text.startswith("'=HYPERLINK(") for _, _, text in formula_rows)
    phone_text = by_ticket[with_phone.reference][-1][2]
    assert "13959211234" not in raw.decode("utf-8-sig")
    assert phone_text.startswith("红绿灯不亮了，回电") and "*" in phone_text
    assert AuditRecord.objects.filter(action="hotline.corrections_exported").count() == 1


def test_the_corrections_export_to_a_folder_that_does_not_exist_exits_1(db, tmp_path, capsys):
    assert main(["hotline", "corrections", "--csv", str(tmp_path / "no" / "such.csv")]) == 1
    assert "such.csv" in capsys.readouterr().err
