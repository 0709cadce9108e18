"""ElGamal over ristretto255: round trips, re-encryption, homomorphism, choice encoding, JSON validation."""

import pytest

from mixscope.mixnet import elgamal, group


@pytest.fixture(scope="module")
def keys():
    return elgamal.KeyPair.generate()


def test_encrypt_decrypt_round_trip(keys):
    m = elgamal.encode_choice(3)
    ct = elgamal.encrypt(keys.public, m)
    assert elgamal.decrypt(keys.secret, ct) == m
    assert elgamal.decrypt(keys.secret + 1, ct) != m  # the wrong key does not decrypt


def test_encryption_is_randomised_and_reencryption_preserves_plaintext(keys):
    m = elgamal.encode_choice(0)
    c1, c2 = elgamal.encrypt(keys.public, m), elgamal.encrypt(keys.public, m)
    assert c1 != c2
    c3 = elgamal.reencrypt(keys.public, c1)
    assert c3.a != c1.a and c3.b != c1.b
    assert elgamal.decrypt(keys.secret, c3) == m


def test_explicit_randomness_is_exact(keys):
    m = elgamal.encode_choice(1)
    ct = elgamal.encrypt(keys.public, m, r=5)
    assert ct.a == group.base_mul(5)
    assert ct.b == group.add(m, group.mul(5, keys.public))
    re = elgamal.reencrypt(keys.public, ct, r=7)
    assert re == elgamal.encrypt(keys.public, m, r=12)


def test_additive_homomorphism(keys):
    c1 = elgamal.encrypt(keys.public, elgamal.encode_choice(1))  # 2·G
    c2 = elgamal.encrypt(keys.public, elgamal.encode_choice(2))  # 3·G
    total = elgamal.Ciphertext(group.add(c1.a, c2.a), group.add(c1.b, c2.b))
    assert elgamal.decrypt(keys.secret, total) == group.base_mul(5)


def test_choice_encoding():
    assert elgamal.encode_choice(0) == group.GENERATOR  # never the identity
    table = elgamal.choice_table(5)
    assert len(table) == 5 and all(elgamal.decode_choice(e, 5) == i for e, i in table.items())
    with pytest.raises(ValueError):
        elgamal.decode_choice(elgamal.encode_choice(5), 5)
    with pytest.raises(ValueError):
        elgamal.encode_choice(-1)


def test_ciphertext_json_round_trip_and_validation(keys):
    ct = elgamal.encrypt(keys.public, elgamal.encode_choice(2))
    assert elgamal.Ciphertext.from_json(ct.to_json()) == ct
    for bad in (None, [], [ct.a.hex()], [ct.a.hex(), ct.b.hex(), ct.a.hex()], ["00" * 31, ct.b.hex()],
                [ct.a.hex(), "ff" * 32]):
        with pytest.raises(group.InvalidElement):
            elgamal.Ciphertext.from_json(bad)
