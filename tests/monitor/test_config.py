"""Operators' files: validated with errors naming file, entry and field; reloadable."""

from __future__ import annotations

import re
import tempfile
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.config import ConfigError, ConfigFiles, load_catalog, load_centers, load_policy

ITEM = (
    "  - code: A\n    name: 甲\n    department: market\n    promised: 10wd\n    statutory: 20wd\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (ITEM.replace("10wd", "10 days"), "items[0] (A): promised: '10 days' is not a limit"),
        (ITEM.replace("    statutory: 20wd\n", ""), "items[0] (A): statutory: is required"),
        (ITEM + "    yellow_at: 1.5\n", "items[0] (A): yellow_at: 1.5 must be more than 0"),
        (ITEM + "    colour: red\n", "items[0] (A): colour: unknown field"),
        (ITEM + ITEM, "items[1] (A): code: 'A' appears twice"),
        (ITEM.replace("    name: 甲\n", ""), "items[0] (A): name: is required"),
    ],
)
def test_catalog_errors_name_file_entry_and_field(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, "catalog.yaml", "items:\n" + body)
    with pytest.raises(ConfigError) as error:
        load_catalog(path)
    assert str(error.value) == f"{path}: {message}" or str(error.value).startswith(
        f"{path}: {message}"
    )


def test_catalog_defaults(tmp_path: Path) -> None:
    item = load_catalog(write(tmp_path, "catalog.yaml", "items:\n" + ITEM))["A"]
    assert str(item.intake) == "5wd" and item.yellow_at is None and item.extension_max is None


def test_not_yaml_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "catalog.yaml", "items: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_catalog(path)


def test_centers_validate_the_time_zone(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "centres.yaml",
        "centers:\n  - code: GZ\n    name: 广州\n    timezone: Mars/Olympus\n",
    )
    with pytest.raises(ConfigError, match=r"centers\[0\] \(GZ\): timezone: 'Mars/Olympus'"):
        load_centers(path)


def test_a_center_lists_the_sources_that_may_write_to_its_cases(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "centres.yaml",
        "centers:\n  - code: GZ\n    name: 广州\n    sources: [desk, approval]\n"
        "  - code: SZ\n    name: 深圳\n",
    )
    centers = load_centers(path)
    assert centers["GZ"].sources == {"desk", "approval"} and centers["SZ"].sources == set()


@pytest.mark.parametrize(
    ("sources", "rule"),
    [
        ("desk", "must be a list of source ids"),
        ("[desk, 12]", "12 is not a source id"),
        ('["a\\tb"]', "'a\\tb' is not a source id"),
    ],
)
def test_a_center_sources_entry_is_checked(tmp_path: Path, sources: str, rule: str) -> None:
    path = write(
        tmp_path,
        "centres.yaml",
        f"centers:\n  - code: GZ\n    name: 广州\n    sources: {sources}\n",
    )
    with pytest.raises(ConfigError) as error:
        load_centers(path)
    assert str(error.value).startswith(f"{path}: centers[0] (GZ): sources: {rule}")


def test_policy_most_specific_threshold_wins(tmp_path: Path) -> None:
    catalog = load_catalog(
        write(
            tmp_path,
            "catalog.yaml",
            "items:\n" + ITEM + ITEM.replace("code: A", "code: B") + "    yellow_at: 0.9\n",
        )
    )
    policy = load_policy(
        write(
            tmp_path,
            "policy.yaml",
            "yellow_at:\n  default: 0.7\n  centers: {GZ: 0.6}\n"
            "  departments: {market: 0.5}\n  items: {A: 0.75}\n",
        )
    )
    assert policy.yellow_at(catalog["A"], "GZ", "market") == Fraction(3, 4)  # policy item
    assert policy.yellow_at(catalog["B"], "GZ", "market") == Fraction(9, 10)  # catalog item
    assert policy.yellow_at(catalog["B"], "SZ", "other") == Fraction(9, 10)
    plain = load_catalog(write(tmp_path, "c2.yaml", "items:\n" + ITEM))["A"]
    scoped = load_policy(
        write(
            tmp_path,
            "p2.yaml",
            "yellow_at:\n  default: 0.7\n  centers: {GZ: 0.6}\n  departments: {market: 0.5}\n",
        )
    )
    assert scoped.yellow_at(plain, "GZ", "market") == Fraction(1, 2)  # department over centre
    assert scoped.yellow_at(plain, "GZ", "health") == Fraction(3, 5)  # centre over default
    assert scoped.yellow_at(plain, "SZ", "health") == Fraction(7, 10)  # default


def test_unknown_center_gets_the_defaults(tmp_path: Path) -> None:
    config = ConfigFiles(write(tmp_path, "catalog.yaml", "items:\n" + ITEM)).load()
    center = config.center("NOWHERE")
    assert (center.timezone, center.calendar) == ("Asia/Shanghai", "cn")


def test_load_again_is_a_reload(tmp_path: Path) -> None:
    path = write(tmp_path, "catalog.yaml", "items:\n" + ITEM)
    files = ConfigFiles(path)
    assert str(files.load().catalog["A"].promised) == "10wd"
    path.write_text("items:\n" + ITEM.replace("10wd", "12wd"), "utf-8")
    assert str(files.load().catalog["A"].promised) == "12wd"


def test_an_unquoted_numeric_code_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "catalog.yaml", "items:\n" + ITEM.replace("code: A", "code: 0123"))
    with pytest.raises(ConfigError, match=r"items\[0\]: code: must be a string, but YAML read 83"):
        load_catalog(path)  # YAML would read 0123 as the number 83


def test_a_misspelled_top_level_key_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "centres.yaml", "centres:\n  - code: GZ\n    name: 广州\n")
    with pytest.raises(ConfigError, match="centres: unknown top-level key; the file has centers:"):
        load_centers(path)


def test_a_center_on_an_unknown_calendar_is_refused(tmp_path: Path) -> None:
    catalog = write(tmp_path, "catalog.yaml", "items:\n" + ITEM)
    centers = write(
        tmp_path, "centres.yaml", "centers:\n  - code: GZ\n    name: 广州\n    calendar: CN\n"
    )
    with pytest.raises(ConfigError) as error:
        ConfigFiles(catalog, centers).load()
    assert str(error.value) == (
        f"{centers}: centers[0] (GZ): calendar: 'CN' is not a known "
        "calendar id; known: cn (add its year files with --calendar)"
    )


def test_policy_codes_must_be_strings(tmp_path: Path) -> None:
    path = write(tmp_path, "policy.yaml", "yellow_at:\n  items: {0123: 0.5}\n")
    with pytest.raises(ConfigError, match=r"yellow_at.items: 83: codes must be strings"):
        load_policy(path)


def test_policy_lets_the_escalation_keys_through_and_refuses_others(tmp_path: Path) -> None:
    escalation = "people: {}\nreceivers: {}\nroutes: []\nescalation: {repeat_every: 2h}\n"
    path = write(tmp_path, "policy.yaml", "yellow_at: {default: 0.7}\n" + escalation)
    assert load_policy(path).default_yellow_at == Fraction(7, 10)  # read by alerts.policy
    path = write(tmp_path, "policy.yaml", escalation + "escalations: {}\n")
    with pytest.raises(ConfigError) as error:
        load_policy(path)
    assert str(error.value) == (
        f"{path}: policy: escalations: unknown field; expected one of escalation, people, "
        "receivers, routes, yellow_at"
    )


def test_every_problem_of_every_file_is_reported_at_once(tmp_path: Path) -> None:
    broken = (
        ITEM.replace("10wd", "ten").replace("    name: 甲\n", "")  # two fields of one item
        + ITEM.replace("code: A", "code: B").replace("statutory: 20wd", "statutory: 5wd")
        + ITEM  # A again
    )
    files = ConfigFiles(
        catalog=write(tmp_path, "catalog.yaml", "items:\n" + broken),
        centers=write(
            tmp_path,
            "centres.yaml",
            "centers:\n  - code: X\n    name: 中心\n    timezone: Mars/Olympus\n"
            "  - code: Y\n    name: 另一\n    calendar: hk\n",
        ),
        calendars=[write(tmp_path, "2027.yaml", "calendar: cn\nyear: twenty\n")],
    )
    with pytest.raises(ConfigError) as refused:
        files.load()
    problems = refused.value.problems
    expected = [
        "2027.yaml: year:",
        "2027.yaml: source: must name the notice",
        "centres.yaml: centers[0] (X): timezone: 'Mars/Olympus' is not a tz database name",
        "catalog.yaml: items[0] (A): name: is required",
        "catalog.yaml: items[0] (A): promised: 'ten' is not a limit",
        "catalog.yaml: items[1] (B): promised: 10wd is longer than statutory 5wd",
        "catalog.yaml: items[2] (A): code: 'A' appears twice",
    ]
    for fragment in expected:
        assert any(fragment in problem for problem in problems), (fragment, problems)
    assert len(problems) == len(expected), problems  # the unknown calendar waits for the years
    assert str(refused.value).startswith(f"{len(problems)} problems:\n- ")


@pytest.mark.parametrize(
    ("promised", "statutory", "extension", "rule"),
    [
        ("21wd", "20wd", None, "21wd is longer than statutory 20wd"),
        ("15wd", "14d", None, "15wd is longer than statutory 14d"),
        ("48h", "20wd", None, "of one family, days (wd, d) or hours (h): promised 48h"),
        ("10wd", "20wd", "24h", "extension_max 24h"),
    ],
)
def test_the_limits_of_an_item_must_agree(
    tmp_path: Path, promised: str, statutory: str, extension: str | None, rule: str
) -> None:
    item = ITEM.replace("10wd", promised).replace("20wd", statutory)
    if extension is not None:
        item += f"    extension_max: {extension}\n"
    with pytest.raises(ConfigError, match=re.escape(rule)):
        load_catalog(write(tmp_path, "catalog.yaml", "items:\n" + item))


@given(
    st.integers(0, 200),
    st.integers(0, 200),
    st.sampled_from(["wd", "d", "h"]),
)
def test_a_promise_within_the_law_in_one_unit_is_always_taken(
    promised: int, statutory: int, unit: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        item = (
            "  - code: A\n    name: 甲\n    department: market\n"
            f"    promised: {promised}{unit}\n    statutory: {statutory}{unit}\n"
        )
        path = write(Path(tmp), "catalog.yaml", "items:\n" + item)
        if promised <= statutory:
            assert load_catalog(path)["A"].promised.amount == promised
        else:
            with pytest.raises(ConfigError, match="is longer than statutory"):
                load_catalog(path)


def test_natural_days_against_working_days_are_not_judged(tmp_path: Path) -> None:
    # 12 natural days may be shorter or longer than 10 working days: it depends on the calendar
    item = ITEM.replace("10wd", "12d").replace("20wd", "10wd")
    assert (
        str(load_catalog(write(tmp_path, "catalog.yaml", "items:\n" + item))["A"].promised) == "12d"
    )
