"""The exception root: errors in Swedish and English, errors that survive pickling, texts in the catalogue."""

from __future__ import annotations

import csv
import io
import pickle
import re
from pathlib import Path

import pytest

from fou_review import errors
from fou_review.core.load import load_year, parse_overrides_from_string
from fou_review.core.tables import parse_csv_from_string
from fou_review.errors import FouReviewError, InputError, Msg, ParameterError, Problem, PublishError, RunError
from fou_review.texts.catalog import t
from fou_review.yearly.notebook_params import DECLARED

APPS = "data/2022/applications.csv"
SOURCES = ("fou_review/errors.py", "fou_review/core/params.py", "fou_review/core/load.py",
           "fou_review/core/tables.py", "fou_review/core/yamlinput.py",
           "fou_review/yearly/notebook_params.py", "fou_review/texts/catalog.py",
           "fou_review/core/followup.py", "fou_review/core/cycle.py")


def _subclasses(cls: type[FouReviewError]) -> list[type[FouReviewError]]:
    out = [cls]
    for sub in cls.__subclasses__():
        out += _subclasses(sub)
    return out


def _example(cls: type[FouReviewError]) -> FouReviewError:
    if issubclass(cls, InputError):
        return cls([Problem.of("data/2022/applications.csv", "apps.no_title", row=i + 2, column="title")
                    for i in range(29)])
    if issubclass(cls, PublishError):
        return cls.of("reports/2022", "disk_full", "No space left on device")
    if issubclass(cls, RunError):
        return cls(Msg.of("yaml.missing"), "en text på svenska", cell_index=3, ename="KeyError", evalue="'x'")
    return cls(Msg.of("apps.unknown_fund", fund="'MULL'", funds="LUM, MUL"), "och en del till")


ALL_ERRORS = _subclasses(FouReviewError)


def test_every_error_class_is_under_the_root_in_errors_py() -> None:
    names = {cls.__name__ for cls in ALL_ERRORS}
    assert {"InputError", "ParameterError", "RunError", "SaveError", "ManifestError", "TieError",
            "PublishError"} <= names
    for name in ("SaveError", "ManifestError", "PublishError"):
        assert issubclass(getattr(errors, name), FouReviewError)


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_every_error_survives_pickling(cls: type[FouReviewError]) -> None:
    err = _example(cls)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert back == err and hash(back) == hash(err)
    assert str(back) == str(err) and back.message("en") == err.message("en")
    assert vars(back) == vars(err)
    if isinstance(err, InputError):
        assert isinstance(back, InputError)
        assert back.problems == err.problems and len(back.problems) == 29
        assert str(back) == "data/2022/applications.csv, rad 2, kolumn 'title': titeln (projekt eller ort) saknas " \
                            "(och 28 till)"
        assert back.message("en") == "data/2022/applications.csv, row 2, column 'title': the title (project or " \
                                     "place) is missing (and 28 more)"


def test_errors_compare_by_content() -> None:
    assert ParameterError("a") == ParameterError("a") and ParameterError("a") != ParameterError("b")
    assert ParameterError("a") != RunError("a")
    assert RunError("a", cell_index=1) != RunError("a", cell_index=2)


def test_a_plain_string_message_reads_the_same_in_both_languages() -> None:
    err = RunError("kunde inte publicera x")
    assert str(err) == err.message("sv") == err.message("en") == "kunde inte publicera x"
    assert str(Problem("f.csv", "fel", row=2)) == Problem("f.csv", "fel", row=2).text("en").replace("row", "rad")


def test_a_bad_language_is_a_parameter_error() -> None:
    problem = Problem.of("f.csv", "apps.none")
    with pytest.raises(ParameterError, match="okänt språk 'de': välj ett av sv, en"):
        problem.text("de")
    with pytest.raises(ParameterError):
        InputError([problem]).message("xx")
    with pytest.raises(ParameterError):
        RunError("text").message("fr")
    with pytest.raises(ParameterError) as caught:
        Msg.of("apps.none").text("de")
    assert caught.value.message("en") == "unknown language 'de': choose one of sv, en"


def _rewrite(root: Path, app_id: str, column: str, value: str) -> None:
    path = root / APPS
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        if row["id"] == app_id:
            row[column] = value
        writer.writerow(row)
    path.write_text(buf.getvalue(), encoding="utf-8")


def test_a_bad_application_row_in_english(year_2022_copy: Path) -> None:
    _rewrite(year_2022_copy, "LUM-02", "requested_kr", "abc")
    _rewrite(year_2022_copy, "MUL-05", "applicants", "Farstaa")
    with pytest.raises(InputError) as caught:
        load_year(year_2022_copy, 2022)
    texts = [p.text("en") for p in caught.value.problems]
    assert texts == [
        f"{APPS}, row 3, column 'requested_kr': expected a whole number of kronor (e.g. 25000), got 'abc'",
        f"{APPS}, row 16, column 'applicants': unknown administration 'Farstaa'; did you mean 'Farsta'?"]
    assert [str(p) for p in caught.value.problems] == [
        f"{APPS}, rad 3, kolumn 'requested_kr': förväntade ett helt antal kronor (t.ex. 25000), fick 'abc'",
        f"{APPS}, rad 16, kolumn 'applicants': okänd förvaltning 'Farstaa'; menade du 'Farsta'?"]
    assert caught.value.message("en").endswith("got 'abc' (and 1 more)")


def test_a_params_problem_in_english_names_line_and_key(year_2022_copy: Path) -> None:
    path = year_2022_copy / "params/2022.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    budget_kr: 4000000", "    budget_kr: fyra miljoner", 1), encoding="utf-8")
    line = next(i for i, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "fyra miljoner" in row)
    with pytest.raises(InputError) as caught:
        load_year(year_2022_copy, 2022)
    (problem,) = caught.value.problems
    assert problem.text("en") == (f"params/2022.yaml, line {line}, key funds.LUM.budget_kr: expected an integer, "
                                  "got text 'fyra miljoner'")
    assert str(problem) == (f"params/2022.yaml, rad {line}, nyckel funds.LUM.budget_kr: förväntade ett heltal, "
                            "fick text 'fyra miljoner'")


def test_overrides_name_line_and_key() -> None:
    import pandas as pd

    apps = pd.DataFrame({"id": ["A-1", "A-2"], "requested_kr": [100, 200]})
    text = ("overrides:\n"
            "  - id: A-1\n    granted_kr: 50\n    reason: 'Nämnden beslutade så'\n"
            "  - id: A-2\n    granted_kr: 50\n    reson: 'stavfel'\n")
    with pytest.raises(InputError) as caught:
        parse_overrides_from_string(text, "data/2022/overrides.yaml", apps)
    assert [(p.row, p.key, p.message) for p in caught.value.problems] == [
        (5, "overrides[1].reason", "saknas"),
        (7, "overrides[1].reson", "okänd nyckel; tillåtna är id, granted_kr, reason")]
    assert parse_overrides_from_string("", "o.yaml", apps) == ()


# --- the fault: a leading tab in a CSV cell ------------------------------------------------------------------

def test_a_leading_tab_in_a_csv_cell_is_kept() -> None:
    table = parse_csv_from_string('id,title\nA-1,"\tPå väg hem"\nA-2,  Mitt emellan  \n', "a.csv")
    assert [v["title"] for _, v in table.rows] == ["\tPå väg hem", "Mitt emellan"]


def test_a_title_starting_with_a_tab_loads_as_written(year_2022_copy: Path) -> None:
    _rewrite(year_2022_copy, "LUM-02", "title", "\tEn titel som börjar med tabb")
    apps = load_year(year_2022_copy, 2022).applications
    assert apps.loc[apps["id"] == "LUM-02", "title"].item() == "\tEn titel som börjar med tabb"


def test_a_title_of_only_blanks_is_still_missing(year_2022_copy: Path) -> None:
    _rewrite(year_2022_copy, "LUM-02", "title", "\t ")
    with pytest.raises(InputError) as caught:
        load_year(year_2022_copy, 2022)
    assert [(p.row, p.column, p.message) for p in caught.value.problems] == [
        (3, "title", "titeln (projekt eller ort) saknas")]


def test_every_ragged_csv_row_is_reported_at_once() -> None:
    with pytest.raises(InputError) as caught:
        parse_csv_from_string("a,b\n1,2\n1\n1,2,3\n", "x.csv")
    assert [(p.row, p.message) for p in caught.value.problems] == [
        (3, "raden har 1 fält men rubriken har 2; kontrollera kommatecken och citattecken"),
        (4, "raden har 3 fält men rubriken har 2; kontrollera kommatecken och citattecken")]


# --- the catalogue ---------------------------------------------------------------------------------------------

_ID = re.compile(r"""["']((?:where|input|kind|file|yaml|expected|params|overrides|table|apps|scores|conflicts|"""
                 r"""notebook|error)\.[a-z_.0-9]+)["']""")


def _used_ids(repo_root: Path) -> set[str]:
    found: set[str] = set()
    for rel in SOURCES:
        found |= set(_ID.findall((repo_root / rel).read_text(encoding="utf-8")))
    found = {i for i in found if not i.endswith((".py", ".csv", ".yaml"))}  # file names, not message ids
    found |= {f"kind.{k}" for k in ("mapping", "list", "text", "int", "float", "bool", "none", "date")}
    found |= {f"notebook.help.{d.name}" for d in DECLARED}
    return found


def test_every_message_id_used_is_in_both_catalogues(repo_root: Path) -> None:
    used = _used_ids(repo_root)
    assert len(used) > 80
    for msgid in sorted(used):
        fields = {}
        for lang in ("sv", "en"):
            text = t(lang, "errors", msgid)  # KeyError if missing
            fields[lang] = set(re.findall(r"\{([a-z_]+)\}", text))
        assert fields["sv"] == fields["en"], msgid


def test_the_catalogue_holds_no_unused_message(repo_root: Path) -> None:
    used = _used_ids(repo_root)
    po = (repo_root / "fou_review/texts/locale/sv/LC_MESSAGES/errors.po").read_text(encoding="utf-8")
    defined = {i for i in re.findall(r'^msgid "(.+)"$', po, flags=re.MULTILINE) if _ID.fullmatch(f'"{i}"')}
    assert defined <= used, sorted(defined - used)
