"""jsontext.dumps writes the bytes the standard library's compact, non-ASCII encoder writes."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from monitor import jsontext

# what Redline writes: views, alerts, snapshots, footprints (text of any script, integers of
# any size a timestamp or a count reaches, no floats)
values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(values)
def test_the_same_bytes_as_the_standard_library(value: object) -> None:
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    assert jsontext.dumps(value) == expected


def test_chinese_text_stays_as_it_is() -> None:
    assert jsontext.dumps({"步骤": "审查"}) == '{"步骤":"审查"}'.encode()
