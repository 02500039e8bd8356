"""Links beyond exact spelling: the normaliser, the strength of each kind of link, and the casebook
that files leads by them (symmetry, exact links always found, blocking loses nothing)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tearline.agencies import Casebook, lead_link, name_form
from tearline.model import Grading, Identifier, Indicator, Lead

T0 = 1893456000
DAY = 86400


def ident(kind: str, value: str, where: str | None = None) -> Identifier:
    return Identifier.model_validate({"kind": kind, "value": value, "where": where})


def lead(
    lead_id: str, *identifiers: Identifier, grading: str = "B2", indicators: tuple[Indicator, ...] = ()
) -> Lead:
    return Lead(
        id=lead_id,
        origin="AA",
        observed_at=T0,
        identifiers=identifiers,
        indicators=indicators,
        grading=Grading(reliability=grading[0], credibility=int(grading[1])),  # type: ignore[arg-type]
    )


class TestNormaliser:
    def test_case_diacritics_and_punctuation_are_set_aside(self) -> None:
        """Ismaël Omar Mostefaï and ISMAEL OMAR MOSTEFAI have one normal form."""
        assert name_form("Ismaël Omar Mostefaï") == name_form("ISMAEL  omar mostefai")

    def test_particles_join_the_next_word(self) -> None:
        """al-Husseini, al Husseini and Alhusseini agree."""
        assert name_form("al-Husseini") == name_form("al Husseini") == name_form("Alhusseini")

    def test_common_transliteration_variants_agree(self) -> None:
        """Abaaoud/Abaoud, Youssef/Yusef, Qasab/Kasab, Abdelhamid/Abdulhamid spell one name."""
        assert name_form("Abdelhamid Abaaoud") == name_form("Abdulhamid Abaoud")
        assert name_form("Youssef") == name_form("Yusef")
        assert name_form("Qasab") == name_form("Kasab")


class TestStrengths:
    def test_identical_identifiers_link_at_one(self) -> None:
        """An identical identifier is the surest link: strength 1, why 'exact'."""
        link = lead_link(lead("a", ident("person", "Karim Vale")), lead("b", ident("person", "karim  vale")))
        assert (link.strength, link.why) == (1.0, "exact")

    def test_each_kind_of_link_has_its_strength(self) -> None:
        """Spelling 0.9 > transliteration 0.7 > partial name 0.4 > surname 0.3; numbers and documents
        written differently still link; unrelated names do not."""
        cases = [
            (ident("person", "Ismaël Mostefaï"), ident("alias", "Ismael Mostefai"), 0.9, "spelling"),
            (ident("person", "Mohammed Kasab"), ident("person", "Muhammad Qasab"), 0.7, "transliteration"),
            (ident("person", "Abaaoud"), ident("person", "Abdelhamid Abaaoud"), 0.4, "partial-name"),
            (ident("person", "Salah Abdeslam"), ident("person", "Brahim Abdeslam"), 0.3, "surname"),
            (ident("phone", "+32 475 12 34 56"), ident("phone", "0032-475-123456"), 0.95, "document"),
            (ident("phone", "+32 475 123 456"), ident("phone", "0475 123 456"), 0.8, "number-prefix"),
            (ident("phone", "3456"), ident("phone", "+32 475 123 456"), 0.4, "number-suffix"),
            (ident("passport", "ab 12-34 56"), ident("passport", "AB123456"), 0.95, "document"),
            (ident("venue", "Café Bataclan"), ident("address", "cafe bataclan"), 0.9, "spelling"),
            (ident("person", "Karim Vale"), ident("person", "Olaf Berg"), 0.0, ""),
            (ident("person", "Karim Vale"), ident("phone", "Karim Vale"), 0.0, ""),
        ]
        for x, y, strength, why in cases:
            link = lead_link(lead("a", x), lead("b", y))
            assert (link.strength, link.why) == (strength, why), (x, y)

    def test_co_travel_links_weakly(self) -> None:
        """Two leads placing travel in one country in overlapping windows link at 0.3."""

        def travel(start: int) -> tuple[Indicator, ...]:
            return (
                Indicator.model_validate(
                    {"kind": "travel", "window": {"from": start, "to": start + 5 * DAY}}
                ),
            )

        a = lead("a", ident("address", "somewhere", "SY"), indicators=travel(T0))
        b = lead("b", ident("address", "elsewhere", "SY"), indicators=travel(T0 + 3 * DAY))
        c = lead("c", ident("address", "elsewhere", "SY"), indicators=travel(T0 + 9 * DAY))
        assert (lead_link(a, b).strength, lead_link(a, b).why) == (0.3, "co-travel")
        assert lead_link(a, c).strength == 0.0


NAMES = st.sampled_from(
    ["karim vale", "kerim vale", "kareem wale", "vale", "salah abdeslam", "brahim abdeslam", "abdeslam",
     "al-husseini", "alhusseini", "ismaël mostefaï", "ismael mostefai", "olaf berg"]
)  # fmt: skip
NUMBERS = st.sampled_from(
    ["+32 475 123 456", "0475123456", "123456", "3456", "+91 98200 12345", "98200 12345"]
)


@st.composite
def identifiers(draw: st.DrawFn) -> Identifier:
    kind = draw(st.sampled_from(["person", "alias", "phone", "venue", "address", "passport"]))
    if kind in ("person", "alias"):
        return ident(kind, draw(NAMES))
    if kind == "phone":
        return ident(kind, draw(NUMBERS))
    if kind == "passport":
        return ident(kind, draw(st.sampled_from(["AB 123456", "ab123456", "XS-99"])))
    return ident(kind, draw(st.sampled_from(["Grand Meridian", "grand  meridian", "Bataclan"])), "XN")


@st.composite
def leads(draw: st.DrawFn, n: int) -> list[Lead]:
    return [
        lead(
            f"l{k}",
            *draw(st.lists(identifiers(), min_size=1, max_size=3)),
            grading=draw(st.sampled_from(["B2", "C3", "A1"])),
        )
        for k in range(n)
    ]


PROPS = settings(max_examples=80, deadline=None, database=None)


class TestLinkProperties:
    @PROPS
    @given(a=leads(1), b=leads(1))
    def test_linking_is_symmetric(self, a: list[Lead], b: list[Lead]) -> None:
        """link(a, b) equals link(b, a): strength, reason and the identifiers named."""
        assert lead_link(a[0], b[0]) == lead_link(b[0], a[0])

    @PROPS
    @given(ls=leads(6), threshold=st.sampled_from([1.0, 0.9, 0.7, 0.4, 0.3]))
    def test_an_exact_link_is_always_found(self, ls: list[Lead], threshold: float) -> None:
        """Two leads sharing an identifier always end in one case, whatever the threshold."""
        book = Casebook("AA", threshold)
        for x in ls:
            book.add(x)
        for x in ls:
            for y in ls:
                if {i.key for i in x.identifiers} & {i.key for i in y.identifiers}:
                    assert book.case_of(x.id) is book.case_of(y.id)

    @PROPS
    @given(ls=leads(5), threshold=st.sampled_from([0.9, 0.7, 0.4, 0.3]))
    def test_blocking_loses_no_link(self, ls: list[Lead], threshold: float) -> None:
        """The casebook (comparing only identifiers that share a block) finds exactly the links that
        comparing every pair of leads finds, at the threshold."""
        book = Casebook("AA", threshold)
        for k, x in enumerate(ls):
            found = book.links(x)
            expected = {y.id: lead_link(x, y) for y in ls[:k] if lead_link(x, y).strength >= threshold}
            assert found == expected
            book.add(x)

    @PROPS
    @given(ls=leads(5))
    def test_strength_one_cases_score_as_before(self, ls: list[Lead]) -> None:
        """With identical identifiers only, every lead belongs at 1 and the score is 1 − Π(1 − wᵢ)."""
        book = Casebook("AA", 1.0)
        for x in ls:
            case = book.add(x)
            assert set(case.strengths().values()) == {1.0}
            miss = 1.0
            for held in case.leads.values():
                miss *= 1 - held.grading.weight
            assert case.score() == round(1 - miss, 6)


class TestCasebook:
    def test_a_weak_link_weighs_less(self) -> None:
        """A lead joined by transliteration (0.7) adds 0.7 × its weight to the corroboration."""
        book = Casebook("AA", 0.5)
        book.add(lead("a", ident("person", "Mohammed Kasab"), grading="B2"))
        case = book.add(lead("b", ident("person", "Muhammad Qasab"), grading="B2"))
        assert case.strengths() == {"a": 1.0, "b": 0.7}
        assert case.score() == round(1 - (1 - 0.64) * (1 - 0.64 * 0.7), 6)

    def test_a_link_below_the_threshold_is_not_made(self) -> None:
        """At threshold 0.5 a shared surname (0.3) does not join two people's leads."""
        book = Casebook("AA", 0.5)
        book.add(lead("a", ident("person", "Salah Abdeslam")))
        book.add(lead("b", ident("person", "Brahim Abdeslam")))
        assert len(book) == 2

    def test_a_watchlist_file_joins_the_case_it_is_hit_by(self) -> None:
        """A lead hitting a watchlist file brings the file into its case; the file is reported as such."""
        file = lead("AA-w1", ident("person", "Kerim Vale"), grading="C4")
        book = Casebook("AA", 0.5, [file])
        case, made = book.file(lead("a", ident("person", "Karim Vale")))
        assert set(case.leads) == {"a", "AA-w1"}
        assert [(m.other, m.link.why, m.file) for m in made] == [("AA-w1", "transliteration", True)]

    def test_a_closed_case_links_no_more(self) -> None:
        """After a case lapses, a new lead about the same person opens a new case."""
        book = Casebook("AA")
        first = book.add(lead("a", ident("person", "Karim Vale")))
        book.close(first.id)
        second = book.add(lead("b", ident("person", "Karim Vale")))
        assert second.id != first.id and set(second.leads) == {"b"}


class TestPlacement:
    """Where a case places the people it names: only where a report names him, or one of his own
    numbers or accounts, at a place; never through another person, nor from a compiled assessment."""

    def test_a_report_places_only_whom_it_names_there(self) -> None:
        book = Casebook("AA")
        book.add(lead("source", ident("person", "Abel"), ident("person", "Boris")))
        book.add(lead("raid", ident("person", "Abel"), ident("address", "Flat 1", "AA")))
        book.add(lead("calls", ident("person", "Boris"), ident("phone", "+99 1")))
        case = book.add(lead("trace", ident("phone", "+99 1"), ident("venue", "Harbour", "BB")))
        assert dict(case.placed()) == {"person:abel": ("AA",), "person:boris": ("BB",)}

    def test_an_assessment_of_several_leads_places_no_one(self) -> None:
        book = Casebook("AA")
        compiled = lead("AA-a1", ident("person", "Boris"), ident("address", "Flat 1", "AA"))
        book.add(compiled.model_copy(update={"derived_from": ("x", "y")}))
        case = book.add(lead("x", ident("person", "Boris")))
        assert dict(case.placed()) == {"person:boris": ()}

    def test_an_assessment_of_one_person_ties_his_numbers_to_him(self) -> None:
        """A partner's assessment naming one man and an e-mail address says the address is his: a
        report of the agency's own that places the address then places him. Naming two men, it says
        nothing of whose the address is."""
        for people, placed in (
            ((ident("person", "Karim Vale"),), ("XN",)),
            ((ident("person", "Karim Vale"), ident("person", "Ali")), ()),
        ):
            book = Casebook("AA")
            assessment = lead(
                "SFS-a1", *people, ident("email", "kv@example.net"), ident("venue", "Hotel", "XN")
            )
            book.add(assessment.model_copy(update={"derived_from": ("who", "what")}))
            case = book.add(lead("what", ident("email", "kv@example.net"), ident("venue", "Hotel", "XN")))
            assert dict(case.placed())["person:karim vale"] == placed

    def test_a_name_taken_for_another_shares_its_places(self) -> None:
        """A transliteration the linker accepts is one person: the booking under one spelling places
        the man named under the other."""
        book = Casebook("AA", 0.7)
        book.add(lead("who", ident("person", "Karim Vale")))
        case = book.add(
            lead("booking", ident("person", "Kerim Vale"), ident("venue", "Grand Meridian", "BB"))
        )
        assert dict(case.placed())["person:karim vale"] == ("BB",)
