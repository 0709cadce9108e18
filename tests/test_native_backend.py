"""The native backend (mixnet/_native.c) against libsodium: the same acceptance of encodings (RFC 9496 A.1 and
A.2, non-canonical and negative encodings, random bytes), the same sums (Straus and Pippenger, edge scalars,
the identity), the same verifier check lists on honest and tampered records, and the rule that no
secret-carrying operation ever reaches the native module."""

import copy
import dataclasses
import secrets

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixscope.mixnet import ballots, elgamal, group, proofs, shuffle, simulate, trustees
from mixscope.mixnet.verifier import verify_record
from test_mixnet_group import INVALID, MULTIPLES

native = group._native  # None where the extension was not built: every test here is then skipped (not uncollected)
pytestmark = pytest.mark.skipif(native is None, reason="the native backend is not built in this install")

P = 2**255 - 19
ORDER = group.ORDER
EDGE_SCALARS = [0, 1, 2, ORDER - 1, ORDER - 2, ORDER // 2, ORDER // 2 + 1, ORDER - 2**128, 2**128, 2**252]


def sodium_valid(data: bytes) -> bool:
    """libsodium's decoder, plus RFC 9496's refusal of a set top bit, which the bundled libsodium ignores."""
    return bool(group._sodium.crypto_core_ristretto255_is_valid_point(data)) and data[31] < 0x80


def sodium_sum(scalars, points) -> bytes:
    return group.multi_mul_part(("sodium", 0, list(scalars), list(points)))


def native_sum(scalars, points) -> bytes:
    return group.multi_mul_part(("native", 0, list(scalars), list(points)))


def random_point() -> bytes:
    return group.base_mul(group.random_scalar())


# --- decoding and encoding ------------------------------------------------------------------------------


@pytest.mark.parametrize("k", range(16))
def test_rfc9496_a1_multiples_decode_encode_and_multiply(k):
    encoding = bytes.fromhex(MULTIPLES[k])
    assert native.is_valid(encoding)
    assert native.encode_many(encoding, 0) == encoding  # decode, then encode from Z = 1
    assert native.msm(k.to_bytes(32, "little"), group.GENERATOR) == encoding
    if 4 * k < 16:
        assert native.encode_many(encoding, 2) == bytes.fromhex(MULTIPLES[4 * k])


def test_rfc9496_a1_encoding_from_projective_coordinates_matches_sodium():
    points = b"".join(bytes.fromhex(m) for m in MULTIPLES)
    for doublings in (1, 3, 7):
        expected = b"".join(group.mul(2**doublings, bytes.fromhex(m)) if m != MULTIPLES[0] else bytes(32)
                            for m in MULTIPLES)
        assert native.encode_many(points, doublings) == expected


@pytest.mark.parametrize("encoding", INVALID)
def test_rfc9496_a2_invalid_encodings_are_refused_like_libsodium(encoding, backend):
    data = bytes.fromhex(encoding)
    assert not native.is_valid(data) and not sodium_valid(data)
    with pytest.raises(group.InvalidElement):
        group.decode(data)
    with pytest.raises(group.InvalidElement) as caught:
        group.multi_mul([3, 5, 7], [group.GENERATOR, data, data])
    assert caught.value.index == 1


def non_canonical_variants(encoding: bytes) -> list[bytes]:
    s = int.from_bytes(encoding, "little")
    out = [(s | (1 << 255)).to_bytes(32, "little")]  # the top bit set
    if s + P < 2**256:
        out.append((s + P).to_bytes(32, "little"))  # s + p: the same field element, not reduced
    if s:
        out.append((P - s).to_bytes(32, "little"))  # -s: odd, so negative
    return out


@pytest.mark.parametrize("k", range(16))
def test_non_canonical_and_negative_encodings_are_refused(k):
    for bad in non_canonical_variants(bytes.fromhex(MULTIPLES[k])):
        assert native.is_valid(bad) is False and not sodium_valid(bad), bad.hex()


def test_a_set_top_bit_is_refused_on_both_backends_though_libsodium_ignores_it(backend):
    with_top_bit = bytes(31) + b"\x80"  # the identity's encoding with bit 255 set
    assert group._sodium.crypto_core_ristretto255_is_valid_point(with_top_bit) == 1  # the bundled libsodium
    assert not native.is_valid(with_top_bit)
    with pytest.raises(group.InvalidElement):
        group.decode(with_top_bit)
    with pytest.raises(group.InvalidElement):
        group.multi_mul([2], [(int.from_bytes(group.GENERATOR, "little") | 1 << 255).to_bytes(32, "little")])


def test_a_shuffle_proof_element_with_its_top_bit_set_fails_on_both_backends(backend):
    keys = elgamal.KeyPair.generate()
    inputs = [elgamal.encrypt(keys.public, elgamal.encode_choice(i)) for i in range(4)]
    outputs, proof = shuffle.shuffle_and_prove(keys.public, inputs, b"ctx")
    chain = list(proof.chain)
    chain[1] = bytes(chain[1][:31]) + bytes([chain[1][31] | 0x80])
    with pytest.raises(shuffle.ProofError, match="not a canonical encoding|check failed"):
        shuffle.verify(keys.public, inputs, outputs, dataclasses.replace(proof, chain=chain), b"ctx")


def test_decoding_a_point_first_changes_nothing_for_its_non_canonical_variants():
    """The native decoder keeps recently decoded points: a lookup must match the whole encoding."""
    for _ in range(100):
        point = random_point()
        assert native.is_valid(point) and native.is_valid(point)
        assert native.msm((1).to_bytes(32, "little"), point) == point
        for bad in non_canonical_variants(point):
            assert not native.is_valid(bad)
            with pytest.raises(group.InvalidElement):
                group.multi_mul_part(("native", 0, [1], [bad]))


def test_non_canonical_encodings_of_random_points_are_refused():
    for _ in range(300):
        for bad in non_canonical_variants(random_point()):
            assert native.is_valid(bad) is False and not sodium_valid(bad), bad.hex()


@pytest.mark.slow
@settings(max_examples=5000, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_random_bytes_are_accepted_exactly_when_libsodium_accepts_them(data):
    assert native.is_valid(data) == sodium_valid(data)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(st.integers(0, ORDER - 1), st.integers(0, 255))
def test_valid_points_and_their_bit_flips_are_accepted_like_libsodium(k, bit):
    point = group.base_mul(k) if k else group.IDENTITY
    flipped = (int.from_bytes(point, "little") ^ (1 << bit)).to_bytes(32, "little")
    assert native.is_valid(point) and sodium_valid(point)
    assert native.is_valid(flipped) == sodium_valid(flipped)
    if native.is_valid(flipped):
        assert native.encode_many(flipped, 0) == flipped


@pytest.mark.slow
@settings(max_examples=2000, deadline=None)
@given(st.integers(0, ORDER - 1), st.integers(0, ORDER - 1))
def test_addition_matches_libsodium(j, k):
    a, b = group.base_mul(j) if j else group.IDENTITY, group.base_mul(k) if k else group.IDENTITY
    assert native.add(a, b) == group.add(a, b)


# --- multi-scalar multiplication ------------------------------------------------------------------------

scalars = st.one_of(st.sampled_from(EDGE_SCALARS), st.integers(0, ORDER - 1), st.integers(0, 2**64))
points = st.one_of(st.just(group.IDENTITY), st.just(group.GENERATOR),
                   st.integers(1, ORDER - 1).map(group.base_mul))


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(scalars, points), max_size=6))
def test_short_products_match_libsodium(terms):
    ks, ps = [k for k, _ in terms], [p for _, p in terms]
    assert native_sum(ks, ps) == sodium_sum(ks, ps)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.tuples(scalars, points), min_size=40, max_size=140))
def test_products_across_the_straus_pippenger_switch_match_libsodium(terms):
    ks, ps = [k for k, _ in terms], [p for _, p in terms]
    assert native_sum(ks, ps) == sodium_sum(ks, ps)


@pytest.mark.parametrize("n", [0, 1, 2, 47, 48, 49, 50, 64, 257, 1000])
def test_random_products_of_each_size_match_libsodium(n):
    ks = [secrets.randbelow(ORDER) for _ in range(n)]
    ps = [random_point() for _ in range(n)]
    assert native_sum(ks, ps) == sodium_sum(ks, ps)


@pytest.mark.parametrize("k", [0, 1, ORDER - 1])
@pytest.mark.parametrize("n", [1, 3, 100])
def test_edge_scalars_on_every_term(k, n):
    ps = [random_point() for _ in range(n)]
    assert native_sum([k] * n, ps) == sodium_sum([k] * n, ps)


def test_a_sum_that_cancels_is_the_identity():
    p = random_point()
    for n in (2, 60):
        ks = [1, ORDER - 1] * (n // 2)
        assert native_sum(ks, [p] * n) == group.IDENTITY == sodium_sum(ks, [p] * n)


def test_scalars_are_taken_mod_the_order_and_may_be_negative():
    p = random_point()
    assert group.multi_mul([ORDER + 5, -3], [p, p]) == group.mul(2, p)


@pytest.mark.slow
def test_a_long_product_in_parts_over_map_fn_matches_one_product():
    n = 3 * group._MULTI_MUL_MIN_PART
    base = [random_point() for _ in range(64)]
    ps = [base[i % 64] for i in range(n)]
    ks = [secrets.randbelow(ORDER) for _ in range(n)]
    whole = native_sum(ks, ps)
    calls = []

    def recording_map(fn, jobs):
        jobs = list(jobs)
        calls.append(len(jobs))
        return map(fn, jobs)

    assert group.multi_mul(ks, ps, recording_map) == whole
    assert calls and calls[0] > 1
    # the same sum from libsodium, summed per base point to keep the test short
    folded = [sum(ks[i] for i in range(j, n, 64)) % ORDER for j in range(64)]
    assert sodium_sum(folded, base) == whole


def test_a_product_longer_than_one_native_call_is_split_and_summed(monkeypatch):
    monkeypatch.setattr(group, "_NATIVE_MAX_TERMS", 50)
    ks = [secrets.randbelow(ORDER) for _ in range(130)]
    ps = [random_point() for _ in range(130)]
    assert native_sum(ks, ps) == sodium_sum(ks, ps)
    ps[117] = bytes.fromhex(INVALID[3])
    with pytest.raises(group.InvalidElement) as caught:
        native_sum(ks, ps)
    assert caught.value.index == 117


@pytest.mark.parametrize("position", [0, 5, 60])
def test_the_first_invalid_point_is_reported_the_same_way(position):
    ps = [random_point() for _ in range(64)]
    ps[position] = bytes.fromhex(INVALID[0])
    ps[-1] = bytes.fromhex(INVALID[-1])
    ks = [secrets.randbelow(ORDER) for _ in range(64)]
    errors = []
    for name in group.BACKENDS:
        with pytest.raises(group.InvalidElement) as caught:
            group.multi_mul_part((name, 10, ks, ps))
        errors.append((caught.value.index, str(caught.value)))
    assert errors[0] == errors[1] == (10 + position, "not a canonical ristretto255 encoding")


def test_wrong_shapes_are_invalid_elements_on_both_backends():
    for name in group.BACKENDS:
        with pytest.raises(group.InvalidElement):
            group.multi_mul_part((name, 0, [1, 2], [group.GENERATOR, b"short"]))
    with pytest.raises(ValueError):
        group.multi_mul([1], [])


# --- the same checks on every record --------------------------------------------------------------------


@pytest.fixture(scope="module")
def record():
    return simulate.run_election([0, 2, 1, 1], ["ann", "bob", "cy"], 2, 3, 2, election_id="native-1")


def _flip(value: str) -> str:
    return ("0" if value[0] != "0" else "1") + value[1:]


TAMPERS = {
    "honest": lambda d: None,
    "ballot response": lambda d: d["ballots"][1]["randomness_proof"].update(
        response=group.scalar_hex(group.decode_scalar(d["ballots"][1]["randomness_proof"]["response"]) + 1)),
    "ballot commitment": lambda d: d["ballots"][2]["randomness_proof"].update(commitment=group.GENERATOR.hex()),
    "stage output": lambda d: d["mix"][0]["response"]["outputs"].__setitem__(0, d["mix"][0]["response"]["outputs"][1]),
    "stage t_hat": lambda d: d["mix"][1]["response"]["proof"]["t_hat"].__setitem__(2, group.GENERATOR.hex()),
    "stage s_prime": lambda d: d["mix"][0]["response"]["proof"]["s_prime"].__setitem__(0, group.scalar_hex(7)),
    "stage t3 not an element": lambda d: d["mix"][0]["response"]["proof"].update(t3=INVALID[8]),
    "share factor": lambda d: d["decryption"]["partials"][0]["partials"].__setitem__(1, group.GENERATOR.hex()),
    "share factor not an element": lambda d: d["decryption"]["partials"][1]["partials"].__setitem__(0, INVALID[9]),
    "share response": lambda d: d["decryption"]["partials"][0]["proof"].update(response=group.scalar_hex(3)),
    "trustee key proof": lambda d: d["trustees"][0]["proof"].update(response=group.scalar_hex(5)),
    "plaintext": lambda d: d["plaintexts"].__setitem__(0, (d["plaintexts"][0] + 1) % 3),
}


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_both_backends_give_the_same_check_list(record, tamper):
    doc = copy.deepcopy(record)
    TAMPERS[tamper](doc)
    lists = {}
    previous = group.backend()
    try:
        for name in group.BACKENDS:
            group.use_backend(name)
            lists[name] = verify_record(copy.deepcopy(doc))
    finally:
        group.use_backend(previous)
    assert lists["native"] == lists["sodium"]
    failed = [c for c in lists["native"] if not c.ok]
    assert bool(failed) == (tamper != "honest"), failed


# --- secrets stay on libsodium --------------------------------------------------------------------------


class _Tripwire:
    """Stands in for the native module: records every call, and fails it while `armed`."""

    def __init__(self, real):
        self.real, self.calls, self.armed = real, [], False
        self.InvalidPoint = real.InvalidPoint

    def __getattr__(self, name):
        def call(*args):
            self.calls.append(name)
            if self.armed:
                raise AssertionError(f"a secret-carrying operation reached the native module ({name})")
            return getattr(self.real, name)(*args)

        return call


def test_secret_carrying_operations_never_reach_the_native_module(monkeypatch):
    wire = _Tripwire(native)
    monkeypatch.setattr(group, "_native", wire)
    monkeypatch.setattr(group, "_backend", "native")
    context = b"tripwire"
    parties = [trustees.Trustee(i, 2, 3, context, b"labels") for i in range(1, 4)]
    wire.armed = True
    deals = [party.deal() for party in parties]  # key generation: the polynomial, its commitments and proof
    for dealing, shares in deals:
        for party in parties:
            trustees.verify_share(dealing, party.index, shares[party.index])  # checking a secret share
    wire.armed = False
    for dealing, shares in deals:  # receiving also checks the dealer's public key proof: native may do that
        for party in parties:
            party.receive(dealing, shares[party.index])
    dealings = [d for d, _ in deals]
    public = trustees.joint_public_key(dealings)
    wire.calls.clear()
    wire.armed = True
    ballot = ballots.cast(public, "e", "voter-1", 3, 1)  # encryption and its proof of randomness
    inputs = [ballot.ciphertext] + [elgamal.encrypt(public, elgamal.encode_choice(i % 3)) for i in range(6)]
    outputs, witness = shuffle.shuffle(public, inputs)  # shuffling and re-encryption
    proof = shuffle.prove(public, inputs, outputs, witness, context)  # proving with the witness
    partials = [p.partial_decrypt(outputs) for p in parties[:2]]  # decryption factors and their proof
    proofs.schnorr_prove(group.random_scalar(), context)
    proofs.chaum_pedersen_prove(group.random_scalar(), group.GENERATOR, random_point(), context)
    elgamal.reencrypt(public, inputs[0])
    assert wire.calls == []
    # ...while checking the same public data does use it, so the tripwire is really in the path
    wire.armed = False
    shuffle.verify(public, inputs, outputs, proof, context)
    trustees.verify_partial(trustees.verification_key(dealings, 1), outputs, partials[0], context)
    assert "msm" in wire.calls


# --- rows of products with shared scalars, encoded with one inversion ------------------------------------


def sodium_rows(scalars, rows):
    return [sodium_sum(scalars, row) for row in rows]


def native_rows(scalars, rows):
    previous = group.backend()
    group.use_backend("native")
    try:
        return group.multi_mul_rows(scalars, rows)
    finally:
        group.use_backend(previous)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(scalars, min_size=1, max_size=3).flatmap(
    lambda ks: st.tuples(st.just(ks), st.lists(st.lists(points, min_size=len(ks), max_size=len(ks)), max_size=4))))
@pytest.mark.slow
def test_rows_with_shared_scalars_match_libsodium(case):
    ks, rows = case
    assert native_rows(ks, rows) == sodium_rows(ks, rows)


def test_rows_of_identities_and_cancellations_encode_like_libsodium():
    p = random_point()
    rows = [(p, p), (group.IDENTITY, group.IDENTITY), (group.GENERATOR, group.IDENTITY), (p, group.GENERATOR)]
    for ks in ([1, ORDER - 1], [0, 0], [1, 1], [ORDER - 1, 2]):
        assert native_rows(ks, rows) == sodium_rows(ks, rows)


def test_many_rows_share_one_inversion_and_match_libsodium():
    ks = [1, secrets.randbelow(ORDER), secrets.randbelow(ORDER)]
    rows = [tuple(random_point() for _ in range(3)) for _ in range(300)]
    assert native_rows(ks, rows) == sodium_rows(ks, rows)


def test_an_invalid_point_in_a_row_is_reported_at_its_flat_position():
    rows = [tuple(random_point() for _ in range(3)) for _ in range(4)]
    rows[2] = (rows[2][0], bytes.fromhex(INVALID[12]), rows[2][2])
    for name in group.BACKENDS:
        previous = group.backend()
        group.use_backend(name)
        try:
            with pytest.raises(group.InvalidElement) as caught:
                group.multi_mul_rows([1, 2, 3], rows)
        finally:
            group.use_backend(previous)
        assert caught.value.index == 7


def test_threads_sharing_the_decoded_point_cache_get_the_same_sums():
    """msm releases the GIL; its cache of decoded points is shared by every thread of the process."""
    import threading

    ps = [random_point() for _ in range(120)]
    ks = [secrets.randbelow(ORDER) for _ in range(120)]
    expected = sodium_sum(ks, ps)
    results = []

    def work():
        results.extend(native_sum(ks, ps) for _ in range(10))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 40 and set(results) == {expected}


def _decode_in_child(encoding: bytes) -> bool:
    return native.is_valid(encoding)


def _native_sum_job(job):
    ks, ps = job
    return native_sum(ks, ps)


def test_a_point_a_forked_worker_decodes_is_in_its_parents_cache():
    """The cache is one shared mapping: what a forked pool worker decodes, the parent (and every sibling) finds."""
    import concurrent.futures
    import multiprocessing

    fresh, bad = random_point(), bytes.fromhex(INVALID[12])
    assert not native.cached(fresh)
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        assert pool.submit(_decode_in_child, fresh).result() is True
        assert pool.submit(_decode_in_child, bad).result() is False
    assert native.cached(fresh)
    assert not native.cached(bad)  # only valid encodings are kept
    assert not native.cached(fresh[:31] + bytes([fresh[31] ^ 1]))  # a hit needs the whole encoding


def test_forked_workers_sharing_the_cache_get_the_same_sums():
    """Several processes reading and filling the shared cache at once (its slots are seqlocked) still get
    exactly libsodium's sums."""
    import concurrent.futures
    import multiprocessing

    ps = [random_point() for _ in range(300)]
    jobs = []
    for start in range(0, 240, 20):  # overlapping windows of the same points, some of them twice
        ks = [secrets.randbelow(ORDER) for _ in range(60)]
        jobs.append((ks, ps[start:start + 60]))
    with concurrent.futures.ProcessPoolExecutor(3, mp_context=multiprocessing.get_context("fork")) as pool:
        sums = list(pool.map(_native_sum_job, jobs * 3))
    assert sums == [sodium_sum(ks, points) for ks, points in jobs * 3]


def _cached_after_a_while(encoding: bytes) -> tuple[int, bool]:
    import os
    import time

    time.sleep(0.5)  # holds this worker, so the job beside it runs in the other one
    return os.getpid(), native.cached(encoding)


def test_the_server_pool_workers_share_one_cache():
    """The server's pool is a fork server's: it loads the crypto core before forking, so a point one worker
    decoded (judging a stage) is a hit in its sibling (judging the next)."""
    import os

    from mixscope.server.executors import process_pool

    if (os.cpu_count() or 1) < 2:
        pytest.skip("the server's pool has one worker on one core")
    fresh = random_point()
    with process_pool() as pool:
        assert pool.submit(_decode_in_child, fresh).result() is True
        seen = [f.result() for f in [pool.submit(_cached_after_a_while, fresh) for _ in range(2)]]
    assert len({pid for pid, _ in seen}) == 2 and all(hit for _, hit in seen)
    assert not native.cached(fresh)  # this process is no child of the fork server: its cache is its own


# The cache's layout in mixnet/_native.c: 2^17 slots of {u32 seq, u32 stamp, key[32], three 40-byte field
# elements}, then one more slot whose stamp is the table's insertion count; sets of 4 consecutive slots.
_SLOT, _SLOTS, _WAYS = 160, 1 << 17, 4


def _cache_table():
    """(address, bytes) of this process's decoded-point cache: the shared anonymous mapping of its size."""
    import os

    size = (_SLOTS + 1) * _SLOT
    pages = -(-size // os.sysconf("SC_PAGE_SIZE")) * os.sysconf("SC_PAGE_SIZE")
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if end - start == pages and fields[1].endswith("s") and "/dev/zero" in line:
                return start, size
    pytest.skip("the cache's mapping is not found in /proc/self/maps")


def test_a_slot_left_mid_write_does_not_freeze_its_set():
    """A process that dies while writing a slot leaves its sequence number odd: that slot is never read again,
    and the other slots of its set are still replaced (it must not be picked as the oldest, and so the one to
    overwrite, for ever)."""
    import ctypes
    import struct
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("finds the mapping through /proc")
    base, size = _cache_table()
    fresh = random_point()
    assert native.is_valid(fresh) and native.cached(fresh)
    table = ctypes.string_at(base, size)
    at = next(i for i in range(8, size, _SLOT) if table[i:i + 32] == fresh) - 8  # the slot that holds it
    first = at // _SLOT // _WAYS * _WAYS * _SLOT  # its set
    saved = ctypes.string_at(base + first, _WAYS * _SLOT)
    (now,) = struct.unpack_from("<I", table, _SLOTS * _SLOT + 4)
    try:
        # the set: its oldest slot left odd by a writer that died, three slots of other (never asked) keys
        for way in range(_WAYS):
            seq, stamp = (1, (now - 1000) % 2**32) if way == 0 else (2, (now - 10 + way) % 2**32)
            key = bytes([0xFF] * 31 + [0xF0 + way])  # top bit set: no valid encoding, never looked up
            ctypes.memmove(base + first + way * _SLOT, struct.pack("<II", seq, stamp) + key + bytes(120), _SLOT)
        assert not native.cached(fresh)
        assert native.is_valid(fresh)  # decoded again, and kept in the set's oldest slot that is not odd
        assert native.cached(fresh)
        assert struct.unpack_from("<I", ctypes.string_at(base + first, 4))[0] == 1  # the odd slot left alone
    finally:
        ctypes.memmove(base + first, saved, len(saved))


def test_a_proof_over_an_element_that_does_not_decode_is_a_proof_error_on_both_backends(backend):
    context = b"ctx"
    proof = proofs.schnorr_prove(group.random_scalar(), context)
    bad = bytes.fromhex(INVALID[10])
    with pytest.raises(proofs.ProofError):
        proofs.schnorr_verify(bad, proof, context)
    with pytest.raises(proofs.ProofError):
        proofs.schnorr_verify(random_point(), proofs.SchnorrProof(bad, proof.response), context)
