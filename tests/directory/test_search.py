"""The directory search: what matches, in which order, how many, and odd input."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.directory.helpers import add_directory_user, fake_id
from zoomadmin.directory.search import MAX_RESULTS, search
from zoomadmin.directory.text import fold, name_words

pytestmark = pytest.mark.django_db


def emails(query: str) -> list[str]:
    return [user.email for user in search(query).users]


@pytest.fixture
def priyas() -> None:
    add_directory_user("priya.sharma@globex.example.com", "Priya", "Sharma")
    add_directory_user("priya.sharma2@globex.example.com", "Priya", "Sharma")
    add_directory_user("p.iyer@globex.example.com", "Priya", "Iyer")
    add_directory_user("sharma.dev@globex.example.com", "Dev", "Sharma")
    add_directory_user("apriyanka@globex.example.com", "Anka", "Priyanka-Rao")
    add_directory_user("wei.li@globex.example.com", "Wei", "Li")


def test_exact_email_first_then_prefix_then_the_rest(priyas: None) -> None:
    assert emails("priya.sharma@globex.example.com") == ["priya.sharma@globex.example.com"]
    # Both start so; same name, so by email, bytewise on both databases ("2" < "@").
    assert emails("priya.sharma") == [
        "priya.sharma2@globex.example.com",
        "priya.sharma@globex.example.com",
    ]


def test_email_prefixes_rank_before_name_words(priyas: None) -> None:
    assert emails("priya") == [
        "priya.sharma2@globex.example.com",  # the email starts with it
        "priya.sharma@globex.example.com",
        "apriyanka@globex.example.com",  # a name word starts with it: "Priyanka"
        "p.iyer@globex.example.com",  # ... "Priya"; by name: "anka ..." < "priya ..."
    ]


def test_an_exact_email_outranks_an_email_prefix(priyas: None) -> None:
    add_directory_user("priya@globex.example.com", "Zara", "Zed")
    assert emails("priya@globex.example.com") == ["priya@globex.example.com"]
    add_directory_user("priya@globex.example.com.au", "Aaron", "Aa")
    assert emails("priya@globex.example.com") == [
        "priya@globex.example.com",  # exact, though "Zara Zed" sorts last by name
        "priya@globex.example.com.au",
    ]


def test_every_word_must_start_a_word_of_the_names(priyas: None) -> None:
    assert set(emails("priya sh")) == {
        "priya.sharma@globex.example.com",
        "priya.sharma2@globex.example.com",
    }
    assert emails("sharma dev") == ["sharma.dev@globex.example.com"]
    assert emails("dev sha") == ["sharma.dev@globex.example.com"]
    assert emails("iyer priya") == ["p.iyer@globex.example.com"]


def test_a_substring_needs_three_characters(priyas: None) -> None:
    assert emails("ank") == ["apriyanka@globex.example.com"]  # inside "apriyanka"
    assert emails("nk") == []


def test_the_email_domain_alone_matches_nobody_but_an_email_prefix_does(priyas: None) -> None:
    assert emails("globex") == []
    assert emails("wei.li@glo") == ["wei.li@globex.example.com"]


def test_an_exact_zoom_id_is_found_and_ranked_first(priyas: None) -> None:
    zoom_id = fake_id("wei.li@globex.example.com")
    assert emails(zoom_id) == ["wei.li@globex.example.com"]
    assert emails(zoom_id[:10]) == ["wei.li@globex.example.com"]  # an id prefix, from 8


def test_case_and_accents_do_not_matter() -> None:
    add_directory_user("soren@globex.example.com", "Søren", "Østergård")
    add_directory_user("jose@globex.example.com", "José", "Díaz-Ortega")
    add_directory_user("obrien@globex.example.com", "Liam", "O'Brien")

    assert emails("SØREN") == emails("soren") == ["soren@globex.example.com"]
    assert emails("ostergard") == ["soren@globex.example.com"]
    assert emails("jose diaz") == ["jose@globex.example.com"]
    assert emails("ortega") == ["jose@globex.example.com"]
    assert emails("diazortega") == ["jose@globex.example.com"]
    assert emails("o'brien") == emails("o brien") == ["obrien@globex.example.com"]
    assert emails("Liam O’Brien") == ["obrien@globex.example.com"]  # noqa: RUF001 - typographic


def test_percent_and_underscore_match_literally() -> None:
    add_directory_user("100%@globex.example.com", "Per", "Cent")
    add_directory_user("a_b@globex.example.com", "Under", "Score")
    add_directory_user("axb@globex.example.com", "Not", "Under")
    add_directory_user("1000@globex.example.com", "No", "Percent")

    assert emails("100%") == ["100%@globex.example.com"]  # not "100" + anything
    assert emails("a_b") == ["a_b@globex.example.com"]  # "_" is not LIKE's "any character"
    assert emails("%") == []
    assert emails("_") == []
    assert emails("a%b") == []


def test_quotes_unicode_and_sql_are_just_text() -> None:
    add_directory_user("chen@globex.example.com", "陈", "伟", display_name="陈伟")
    add_directory_user("quote@globex.example.com", 'Dwayne "The Rock"', "Johnson")

    assert emails("陈") == ["chen@globex.example.com"]
    assert emails('"the rock"') == ["quote@globex.example.com"]
    assert emails("'; DROP TABLE directory_directoryuser; --") == []
    assert emails("x" * 200) == []


def test_gone_users_are_not_found() -> None:
    add_directory_user("left@globex.example.com", "Left", "Company", gone=True)
    assert emails("left") == []


def test_at_most_25_results_with_a_count_of_the_others() -> None:
    for n in range(40):
        add_directory_user(f"sam.{n:02d}@globex.example.com", "Sam", f"Person{n:02d}")

    results = search("sam")

    assert len(results.users) == MAX_RESULTS == 25
    assert results.total == 40
    assert results.others == 15
    # By name within a rank: Person00 .. Person24.
    assert [u.last_name for u in results.users] == [f"Person{n:02d}" for n in range(25)]


def test_name_words_fold_and_join() -> None:
    assert name_words("Min-jun", "Kim", "Min-jun Kim") == ["min", "jun", "minjun", "kim"]
    assert fold("Ó Briain-Østergård") == "o briain-ostergard"


@pytest.mark.postgres
def test_postgres_has_the_trigram_and_pattern_indexes() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() == ("pg_trgm",)
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'directory_directoryuser'"
        )
        definitions = " ".join(row[0] for row in cursor.fetchall())
    assert "gin (search_text gin_trgm_ops)" in definitions
    assert "(email_key varchar_pattern_ops)" in definitions
    assert "(zoom_id varchar_pattern_ops)" in definitions
