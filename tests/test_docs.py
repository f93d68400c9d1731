"""The repository's copy of the shared contract stays the contract."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_SPEC = ROOT.parent / "shared" / "spec"


@pytest.mark.parametrize("name", ["formats.md", "labels.md"])
def test_the_copy_of_the_contract_is_the_shared_one(name: str) -> None:
    copy = ROOT / "docs" / "spec" / name
    assert copy.is_file()
    if not (SHARED_SPEC / name).is_file():
        pytest.skip("../shared/spec is not beside this checkout")
    assert copy.read_bytes() == (SHARED_SPEC / name).read_bytes()
