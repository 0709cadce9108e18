"""ElGamal over ristretto255: keys, encryption, re-encryption, decryption, and choice encoding.

A ciphertext encrypting element M under public key Y = x·G is (a, b) = (r·G, M + r·Y). Re-encryption
adds an encryption of the identity; decryption computes b − x·a.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from mixscope.mixnet import group


class Ciphertext(NamedTuple):
    a: bytes  # r·G
    b: bytes  # M + r·Y

    def to_json(self) -> list[str]:
        return [self.a.hex(), self.b.hex()]

    @classmethod
    def from_json(cls, value: object, validate: bool = True) -> "Ciphertext":
        """validate=False: see group.from_hex (for lists that only the shuffle verifier's kernels use)."""
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise group.InvalidElement("ciphertext must be a pair of elements")
        parse = group.decode if validate else group.from_hex
        return cls(parse(value[0]), parse(value[1]))

    @classmethod
    def list_from_json(cls, values: list[Any], validate: bool = True) -> list["Ciphertext"]:
        """[from_json(v, validate) for v in values], with the same first error; without validation a list of
        hex pairs is decoded in one pass (group.from_hex_list)."""
        if validate or not all(type(v) is list and len(v) == 2 for v in values):
            return [cls.from_json(v, validate) for v in values]
        halves = group.from_hex_list([half for pair in values for half in pair])
        return [cls(halves[i], halves[i + 1]) for i in range(0, len(halves), 2)]


@dataclass(frozen=True)
class KeyPair:
    secret: int = field(repr=False)  # never in a log or a traceback
    public: bytes

    @classmethod
    def generate(cls) -> "KeyPair":
        x = group.random_scalar()
        return cls(x, group.base_mul(x))


def encrypt(public: bytes, message: bytes, r: int | None = None) -> Ciphertext:
    r = group.random_scalar() if r is None else r
    return Ciphertext(group.base_mul(r), group.add(message, group.mul(r, public)))


def reencrypt(public: bytes, ct: Ciphertext, r: int | None = None) -> Ciphertext:
    r = group.random_scalar() if r is None else r
    return Ciphertext(group.add(ct.a, group.base_mul(r)), group.add(ct.b, group.mul(r, public)))


def decrypt(secret: int, ct: Ciphertext) -> bytes:
    return group.sub(ct.b, group.mul(secret, ct.a))


def encode_choice(index: int) -> bytes:
    """Choice i (0-based) as the element (i+1)·G: never the identity, and decodable by a table lookup."""
    if index < 0:
        raise ValueError("choice index must be non-negative")
    return group.base_mul(index + 1)


def decode_choice(element: bytes, candidates: int) -> int:
    """Inverse of encode_choice for a ballot of `candidates` choices; ValueError if none matches."""
    table = choice_table(candidates)
    try:
        return table[element]
    except KeyError:
        raise ValueError("plaintext is not a valid choice") from None


def choice_table(candidates: int) -> dict[bytes, int]:
    return {encode_choice(i): i for i in range(candidates)}
