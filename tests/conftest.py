"""Shared fixtures. Real data comes from ../shared/data; in CI its absence is a failure, not a skip."""
from __future__ import annotations

import os
import uuid

import pytest

from myovox.data.recordings import shared_data_dir

if os.environ.get("CI"):
    # CI installs the dev and train extras and llama.cpp: a missing one must fail the run, not quietly skip its tests.
    import llama_cpp  # noqa: F401
    import onnx  # noqa: F401
    import pytestqt  # noqa: F401
    import torch  # noqa: F401


@pytest.fixture(scope="session")
def shared_data():
    root = shared_data_dir()
    if root is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have ../shared/data beside the checkout (or $MYOVOX_SHARED_DATA)")
        pytest.skip("../shared/data is not beside this checkout; these tests run in CI, where it is")
    return root


@pytest.fixture
def stream_name():
    """A unique LSL stream name, so concurrent tests (and other engineers' runs) never cross streams."""
    return f"myovox-test-{uuid.uuid4().hex[:10]}"
