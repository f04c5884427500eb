import random

from connectors_factories import BSNS, bsn_with_check_digit, iban_with_check_digits
from hypothesis import given
from hypothesis import strategies as st

from connectors.pii import is_valid_bsn, is_valid_iban

digits = st.text(alphabet="0123456789", min_size=8, max_size=8)
upper_alnum = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1)


def test_known_bsns_pass_the_eleven_test() -> None:
    assert all(is_valid_bsn(bsn) for bsn in BSNS)


def test_bsn_accepts_eight_digits_and_separators() -> None:
    assert is_valid_bsn("12345672")  # 012345672 stored as a number
    assert is_valid_bsn("1112.22.333")
    assert is_valid_bsn(" 111 222 333 ")


def test_bsn_refuses_wrong_shapes() -> None:
    for value in ["000000000", "00000000", "111222334", "1234567", "1234567890", "abcdefghi", ""]:
        assert not is_valid_bsn(value), value


@given(digits.map(bsn_with_check_digit).filter(lambda bsn: bsn is not None))
def test_generated_bsns_are_valid(bsn: str | None) -> None:
    assert bsn is not None
    assert is_valid_bsn(bsn)


@given(digits.map(bsn_with_check_digit).filter(lambda bsn: bsn is not None), st.data())
def test_changing_one_digit_breaks_the_eleven_test(bsn: str | None, data: st.DataObject) -> None:
    assert bsn is not None
    position = data.draw(st.integers(0, 8))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != bsn[position]]))
    assert not is_valid_bsn(bsn[:position] + digit + bsn[position + 1 :])


def test_random_nine_digit_strings_mostly_fail() -> None:
    rng = random.Random(22)
    values = [f"{rng.randrange(10**9):09d}" for _ in range(5000)]
    share = sum(map(is_valid_bsn, values)) / len(values)
    assert 0.05 < share < 0.13  # about 1 in 11


def test_known_ibans() -> None:
    for iban in [
        "NL91ABNA0417164300",
        "NL91 ABNA 0417 1643 00",
        "nl91abna0417164300",
        "DE89370400440532013000",
        "GB82WEST12345698765432",
        "BE68539007547034",
    ]:
        assert is_valid_iban(iban), iban


def test_iban_refusals() -> None:
    for value in [
        "NL92ABNA0417164300",
        "NL91ABNA041716430",
        "NL91",
        "123456782",
        "",
        "NL91ABNA04171643001",
    ]:
        assert not is_valid_iban(value), value


@given(
    st.sampled_from(["NL", "BE", "DE"]).flatmap(
        lambda country: st.tuples(
            st.just(country),
            st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=4, max_size=4).map(
                lambda bank: bank if country == "NL" else ""
            ),
            st.text(
                alphabet="0123456789",
                min_size={"NL": 10, "BE": 12, "DE": 18}[country],
                max_size={"NL": 10, "BE": 12, "DE": 18}[country],
            ),
        )
    )
)
def test_generated_ibans_are_valid(parts: tuple[str, str, str]) -> None:
    country, bank, account = parts
    assert is_valid_iban(iban_with_check_digits(country, bank + account))


@given(st.sampled_from(["FR", "XX", "ZZ"]), upper_alnum.filter(lambda s: 11 <= len(s) <= 30))
def test_ibans_of_other_countries_follow_mod_97(country: str, bban: str) -> None:
    iban = iban_with_check_digits(country, bban)
    expected = country != "FR" or len(bban) == 23
    assert is_valid_iban(iban) is expected
