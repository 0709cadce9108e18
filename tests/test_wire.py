"""The wire package's one canonical JSON and one list hash: what a node signs is what the board stores, and every
side hashes a ciphertext list the same way."""

import math

import nacl.signing
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mixscope.mixnet import elgamal, group, submission
from mixscope.mixnet.stages import list_hash
from mixscope.server.board import BoardInputError, content_hash
from mixscope.wire import signing
from mixscope.wire.canonical import canonical_json

# The values mixnet.submission.canonical (the record verifier's RFC 8785 subset) accepts.
subset = st.recursive(
    st.one_of(st.text(), st.integers(-2**80, 2**80)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(alphabet=st.characters(max_codepoint=127)), inner, max_size=4)),
    max_leaves=20,
)


@pytest.mark.slow
@given(subset)
def test_the_verifiers_subset_has_the_same_bytes(value):
    try:
        expected = canonical_json(value).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 form either way
        with pytest.raises(submission.SubmissionError):
            submission.canonical(value)
        return
    assert submission.canonical(value) == expected


def _subset_fault_one_by_one(value, where="message"):
    """The subset check item by item (what submission.check_canonical_subset did before it skipped flat lists)."""
    stack = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str) or (isinstance(item, int) and not isinstance(item, bool)):
            continue
        if isinstance(item, list):
            stack.extend((v, path) for v in item)
        elif isinstance(item, dict):
            for k, v in item.items():
                if not isinstance(k, str) or not k.isascii():
                    return f"{path}: object keys must be ASCII strings"
                stack.append((v, f"{path}.{k}"))
        else:
            return f"{path}: {type(item).__name__} values have no canonical form (strings and integers only)"
    return None


anything = st.recursive(
    st.one_of(st.text(max_size=3), st.integers(), st.booleans(), st.none(), st.floats(), st.binary(max_size=2)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner),
                            st.dictionaries(st.one_of(st.text(max_size=2), st.integers()), inner, max_size=3)),
    max_leaves=20,
)


@pytest.mark.slow
@given(anything)
def test_the_subset_check_refuses_the_same_first_value_as_item_by_item(value):
    try:
        submission.check_canonical_subset(value)
        fault = None
    except submission.SubmissionError as exc:
        fault = str(exc)
    assert fault == _subset_fault_one_by_one(value)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_have_no_canonical_form_anywhere(bad):
    with pytest.raises(ValueError):
        canonical_json({"x": bad})
    with pytest.raises(ValueError):  # a node cannot sign it ...
        signing.sign({"type": "progress", "x": bad}, nacl.signing.SigningKey.generate(), 1)
    with pytest.raises(BoardInputError):  # ... nor the board store or hash it
        content_hash({"x": bad})


def test_a_signed_body_is_the_text_the_board_stores():
    key = nacl.signing.SigningKey.generate()
    message = signing.sign({"type": "seat", "election_id": "e", "manifest_hash": "ab", "note": ["é", 1]}, key, 7)
    signed_bytes = signing.SIGNING_DOMAIN + canonical_json({**message, "signed": {"key": message["signed"]["key"],
                                                                                   "seq": 7}}).encode()
    key.verify_key.verify(signed_bytes, bytes.fromhex(message["signed"]["sig"]))
    assert submission.verify(message) == signing.verify(message)  # the record's check agrees with the server's


def test_list_hash_reads_bytes_and_hex_alike_and_refuses_anything_else():
    public = group.base_mul(group.random_scalar())
    cts = [elgamal.encrypt(public, group.base_mul(group.random_scalar())) for _ in range(3)]
    as_hex = [[ct.a.hex(), ct.b.hex()] for ct in cts]
    assert list_hash(cts) == list_hash(as_hex) == list_hash([tuple(bytes.fromhex(h) for h in p) for p in as_hex])
    for bad in ([["aa", "bb"]], [[as_hex[0][0]]], ["x"], [[1, 2]]):
        with pytest.raises(ValueError):
            list_hash(bad)


def test_a_channel_says_whether_any_subscription_takes_a_kind():
    from mixscope.wire.events import EventChannel

    channel = EventChannel()
    assert not channel.wanted("message")  # nobody listens: the hub makes no traffic text
    progress = channel.subscribe(kinds=["election.progress"])
    assert channel.wanted("election.progress") and not channel.wanted("message")
    everything = channel.subscribe()
    assert channel.wanted("message")
    everything.close()
    assert not channel.wanted("message")
    progress.close()
