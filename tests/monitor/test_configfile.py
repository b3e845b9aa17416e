"""Operators' YAML files: every loader names the file, the entry and the field alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor.calendar import CalendarError, parse_year_file
from monitor.config import ConfigError, ConfigFiles, load_catalog
from monitor.configfile import Where, parse_mapping, read_mapping
from monitor.limits import parse_limit

CATALOG = "items:\n  - {code: A, name: 甲, department: m, promised: 10wd, statutory: 20wd}\n"
YEAR = "calendar: cn\nyear: 2027\nsource: 通知\nholidays: []\nworkdays: []\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_an_entry_is_named_with_its_code() -> None:
    where = Where.entry(ConfigError, "catalog.yaml", "items[3]", {"code": "FOOD"})
    error = where.error("promised", "is required")
    assert isinstance(error, ConfigError)
    assert str(error) == "catalog.yaml: items[3] (FOOD): promised: is required"


@pytest.mark.parametrize("raw", [{}, {"code": "  "}, {"code": 83}])
def test_an_entry_without_a_usable_code_is_named_by_position(raw: dict[str, Any]) -> None:
    where = Where.entry(CalendarError, "c.yaml", "items[0]", raw)
    assert str(where.error("name", "is required")) == "c.yaml: items[0]: name: is required"


def test_an_entry_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^c\.yaml: items\[1\]: must be a mapping of fields$"):
        Where.entry(ConfigError, "c.yaml", "items[1]", ["A"])


def test_a_file_level_place_names_the_file_alone() -> None:
    assert str(Where(CalendarError, "2027.yaml").error("year", "bad")) == "2027.yaml: year: bad"


def test_fields_are_parsed_with_the_rule_of_their_parser() -> None:
    where = Where(ConfigError, "f.yaml", "items[0]")
    assert where.get({"p": "5wd"}, "p", parse_limit) == parse_limit("5wd")
    assert where.get({}, "p", parse_limit, optional=True) is None
    with pytest.raises(ConfigError, match=r"^f\.yaml: items\[0\]: p: is required$"):
        where.get({}, "p", parse_limit)
    with pytest.raises(ConfigError, match=r"^f\.yaml: items\[0\]: p: 'x' is not a limit"):
        where.get({"p": "x"}, "p", parse_limit)


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ({}, "is required"),
        ({"code": " "}, "must not be empty"),
        ({"code": True}, "must be a string, but YAML read True; write the code in quotes"),
    ],
)
def test_text_fields(raw: dict[str, Any], rule: str) -> None:
    where = Where(ConfigError, "f.yaml")
    assert where.text({}, "code", optional=True) == ""
    with pytest.raises(ConfigError) as error:
        where.text(raw, "code")
    assert str(error.value) == f"f.yaml: code: {rule}"


def test_unknown_fields_are_named_first_in_sorted_order() -> None:
    with pytest.raises(ConfigError) as error:
        Where(ConfigError, "f.yaml").only({"zz": 1, "colour": 2, "a": 3}, {"a", "b"})
    assert str(error.value) == "f.yaml: colour: unknown field; expected one of a, b"


def test_a_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as error:
        read_mapping(missing, ConfigError)
    assert str(error.value) == f"{missing}: cannot be read: No such file or directory"


def test_a_document_must_be_a_mapping() -> None:
    with pytest.raises(CalendarError, match=r"^y\.yaml: must be a YAML mapping$"):
        parse_mapping("y.yaml", "- 1\n", CalendarError)
    with pytest.raises(CalendarError, match=r"^y\.yaml: must be a YAML mapping with a, b$"):
        parse_mapping("y.yaml", "7\n", CalendarError, ("a", "b"))


# -- every loader, through the same helpers -----------------------------------------------------


def test_a_missing_calendar_year_file_is_a_config_error(tmp_path: Path) -> None:
    catalog = write(tmp_path, "catalog.yaml", CATALOG)
    missing = tmp_path / "cn-2027.yaml"
    with pytest.raises(ConfigError) as error:
        ConfigFiles(catalog, calendars=[missing]).load()
    assert str(error.value) == f"{missing}: cannot be read: No such file or directory"


@pytest.mark.parametrize("kind", ["catalog", "year"])
def test_invalid_yaml_is_named_by_every_loader(tmp_path: Path, kind: str) -> None:
    path = write(tmp_path, f"{kind}.yaml", "items: [\n")
    with pytest.raises((ConfigError, CalendarError)) as error:
        if kind == "catalog":
            load_catalog(path)
        else:
            parse_year_file(str(path), path.read_text("utf-8"), origin=str(path))
    assert str(error.value).startswith(f"{path}: not valid YAML: ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[2027]\n", "must be a YAML mapping with calendar, year, source, holidays, workdays"),
        (
            YEAR + "holiday: []\n",
            "holiday: unknown field; expected one of calendar, holidays, source, workdays, year",
        ),
        (YEAR.replace("year: 2027", "year: '2027'"), "year: must be a whole number from 2000"),
        (YEAR.replace("source: 通知", "source: ' '"), "source: must name the notice"),
        (YEAR.replace("holidays: []", "holidays: 2027-01-01"), "holidays: must be a list of"),
        (
            YEAR.replace("holidays: []", "holidays: ['2027-01-01', '2027-13-01']"),
            "holidays[1]: '2027-13-01' is not a YYYY-MM-DD date",
        ),
        (
            YEAR.replace("workdays: []", "workdays: ['2026-12-27']"),
            "workdays[0]: 2026-12-27 is not in 2027",
        ),
        (
            YEAR.replace("workdays: []", "workdays: ['2027-02-01']"),
            "workdays: 2027-02-01 is a Monday; make-up working days are weekend days",
        ),
        (
            YEAR.replace("holidays: []", "holidays: ['2027-02-06']").replace(
                "workdays: []", "workdays: ['2027-02-06']"
            ),
            "2027-02-06 is listed in both holidays and workdays",
        ),
    ],
)
def test_year_file_errors_name_the_file_and_the_field(text: str, message: str) -> None:
    with pytest.raises(CalendarError) as error:
        parse_year_file("cn-2027.yaml", text, origin="operator")
    assert str(error.value).startswith(f"cn-2027.yaml: {message}")


def test_a_year_file_is_refused_with_every_error_at_once() -> None:
    text = (
        "calendar: cn\nyear: 2027\nholiday: []\n"
        "holidays: ['2027-01-01', '2026-12-31', '2027-02-30', '2027-02-06']\n"
        "workdays: ['2027-02-01', '2027-02-06', '2027-10-05']\n"
    )
    with pytest.raises(CalendarError) as error:
        parse_year_file("cn-2027.yaml", text, origin="operator")
    assert error.value.problems == [
        "cn-2027.yaml: holiday: unknown field; expected one of calendar, holidays, source, "
        "workdays, year",
        "cn-2027.yaml: source: must name the notice the schedule comes from",
        "cn-2027.yaml: holidays[1]: 2026-12-31 is not in 2027",
        "cn-2027.yaml: holidays[2]: '2027-02-30' is not a YYYY-MM-DD date",
        "cn-2027.yaml: workdays: 2027-02-01 is a Monday; make-up working days are weekend days",
        "cn-2027.yaml: workdays: 2027-10-05 is a Tuesday; make-up working days are weekend days",
        "cn-2027.yaml: 2027-02-06 is listed in both holidays and workdays",
    ]
    assert str(error.value).startswith("7 problems:\n- cn-2027.yaml: holiday: unknown field")


def test_a_year_file_with_a_wrong_year_still_reports_its_bad_dates() -> None:
    text = YEAR.replace("year: 2027", "year: '2027'").replace(
        "holidays: []", "holidays: ['2027-13-01']"
    )
    with pytest.raises(CalendarError) as error:
        parse_year_file("cn-2027.yaml", text, origin="operator")
    assert error.value.problems == [
        "cn-2027.yaml: year: must be a whole number from 2000 to 2199",
        "cn-2027.yaml: holidays[0]: '2027-13-01' is not a YYYY-MM-DD date",
    ]
