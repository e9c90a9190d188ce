from __future__ import annotations

import pytest

from onething.complaints import classifier


@pytest.fixture(scope="session")
def shipped_data() -> classifier.DataSet:
    return classifier.read_samples(classifier.DEFAULT_DATA)


@pytest.fixture(scope="session")
def trained(shipped_data) -> classifier.Model:
    """The classifier trained once per test session on the shipped data set."""
    return classifier.train(shipped_data.samples, data_sha256=shipped_data.sha256)
