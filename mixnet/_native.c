/* Variable-time ristretto255 arithmetic for PUBLIC data only: decoding, encoding and multi-scalar
 * multiplication over points and scalars that everybody can see (proof checks). Nothing here is
 * constant-time; secrets never come here (mixnet/group.py is the only caller and keeps every operation on
 * a secret on libsodium).
 *
 * Field elements mod p = 2^255 - 19 are five 51-bit limbs in 64-bit words, multiplied with 128-bit
 * products. Points are extended twisted Edwards coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z, on
 * -x^2 + y^2 = 1 + d x^2 y^2; ristretto255 decoding and encoding follow RFC 9496 section 4.3.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

typedef unsigned __int128 u128;
typedef struct { uint64_t v[5]; } fe;
typedef struct { fe X, Y, Z, T; } point;              /* extended coordinates */
typedef struct { fe ypx, ymx, t2d; } affine_cached;   /* (y+x, y-x, 2d·x·y) of a point with Z = 1 */
typedef struct { fe ypx, ymx, z2, t2d; } cached;      /* (Y+X, Y-X, 2Z, 2d·T) */

#define MASK51 ((uint64_t)0x7ffffffffffff)

/* ---------------------------------------------------------------------------------------- field */

static uint64_t load64(const uint8_t *s) {
    uint64_t r = 0;
    for (int i = 7; i >= 0; i--) r = (r << 8) | s[i];
    return r;
}

static void store64(uint8_t *s, uint64_t v) {
    for (int i = 0; i < 8; i++) { s[i] = (uint8_t)v; v >>= 8; }
}

/* The low 255 bits of s, not reduced (a value in [p, 2^255) stays as it is until fe_tobytes). */
static void fe_frombytes(fe *h, const uint8_t *s) {
    h->v[0] = load64(s) & MASK51;
    h->v[1] = (load64(s + 6) >> 3) & MASK51;
    h->v[2] = (load64(s + 12) >> 6) & MASK51;
    h->v[3] = (load64(s + 19) >> 1) & MASK51;
    h->v[4] = (load64(s + 24) >> 12) & MASK51;
}

static void fe_carry(fe *h) {
    uint64_t c;
    c = h->v[0] >> 51; h->v[0] &= MASK51; h->v[1] += c;
    c = h->v[1] >> 51; h->v[1] &= MASK51; h->v[2] += c;
    c = h->v[2] >> 51; h->v[2] &= MASK51; h->v[3] += c;
    c = h->v[3] >> 51; h->v[3] &= MASK51; h->v[4] += c;
    c = h->v[4] >> 51; h->v[4] &= MASK51; h->v[0] += 19 * c;
}

/* The canonical 32-byte little-endian encoding of h mod p. */
static void fe_tobytes(uint8_t *s, const fe *f) {
    fe h = *f;
    fe_carry(&h);
    fe_carry(&h);  /* now every limb < 2^51, value < 2^255 */
    uint64_t q = (h.v[0] + 19) >> 51;
    q = (h.v[1] + q) >> 51;
    q = (h.v[2] + q) >> 51;
    q = (h.v[3] + q) >> 51;
    q = (h.v[4] + q) >> 51;  /* 1 iff h >= p */
    h.v[0] += 19 * q;
    uint64_t c;
    c = h.v[0] >> 51; h.v[0] &= MASK51; h.v[1] += c;
    c = h.v[1] >> 51; h.v[1] &= MASK51; h.v[2] += c;
    c = h.v[2] >> 51; h.v[2] &= MASK51; h.v[3] += c;
    c = h.v[3] >> 51; h.v[3] &= MASK51; h.v[4] += c;
    h.v[4] &= MASK51;  /* drops 2^255, completing the subtraction of p */
    store64(s, h.v[0] | (h.v[1] << 51));
    store64(s + 8, (h.v[1] >> 13) | (h.v[2] << 38));
    store64(s + 16, (h.v[2] >> 26) | (h.v[3] << 25));
    store64(s + 24, (h.v[3] >> 39) | (h.v[4] << 12));
}

static void fe_0(fe *h) { memset(h, 0, sizeof *h); }
static void fe_1(fe *h) { memset(h, 0, sizeof *h); h->v[0] = 1; }

static void fe_add(fe *h, const fe *f, const fe *g) {
    for (int i = 0; i < 5; i++) h->v[i] = f->v[i] + g->v[i];
    fe_carry(h);
}

/* f - g, with 4p added so no limb goes negative (g's limbs are below 2^53 everywhere it is called). */
static void fe_sub(fe *h, const fe *f, const fe *g) {
    h->v[0] = f->v[0] + 0x1fffffffffffb4ULL - g->v[0];
    for (int i = 1; i < 5; i++) h->v[i] = f->v[i] + 0x1ffffffffffffcULL - g->v[i];
    fe_carry(h);
}

static void fe_neg(fe *h, const fe *f) {
    fe zero;
    fe_0(&zero);
    fe_sub(h, &zero, f);
}

/* fe_mul and fe_sq stay out of line: inlined at -O3 into the long chains of squarings and multiplications
 * (inversion, square roots, the point formulas) GCC 12's code ran a decoding about 35 % slower, and the
 * multi-scalar multiplication about 10 % slower, than with one call each (measured on x86-64). */
#define FIELD_OP __attribute__((noinline))

FIELD_OP static void fe_mul(fe *h, const fe *f, const fe *g) {
    const uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
    const uint64_t g0 = g->v[0], g1 = g->v[1], g2 = g->v[2], g3 = g->v[3], g4 = g->v[4];
    const uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
    u128 r0 = (u128)f0 * g0 + (u128)f1 * g4_19 + (u128)f2 * g3_19 + (u128)f3 * g2_19 + (u128)f4 * g1_19;
    u128 r1 = (u128)f0 * g1 + (u128)f1 * g0 + (u128)f2 * g4_19 + (u128)f3 * g3_19 + (u128)f4 * g2_19;
    u128 r2 = (u128)f0 * g2 + (u128)f1 * g1 + (u128)f2 * g0 + (u128)f3 * g4_19 + (u128)f4 * g3_19;
    u128 r3 = (u128)f0 * g3 + (u128)f1 * g2 + (u128)f2 * g1 + (u128)f3 * g0 + (u128)f4 * g4_19;
    u128 r4 = (u128)f0 * g4 + (u128)f1 * g3 + (u128)f2 * g2 + (u128)f3 * g1 + (u128)f4 * g0;
    r1 += (uint64_t)(r0 >> 51);
    r2 += (uint64_t)(r1 >> 51);
    r3 += (uint64_t)(r2 >> 51);
    r4 += (uint64_t)(r3 >> 51);
    uint64_t c = (uint64_t)(r4 >> 51);
    uint64_t h0 = ((uint64_t)r0 & MASK51) + 19 * c;  /* c < 2^59 here, so 19c fits */
    h->v[1] = ((uint64_t)r1 & MASK51) + (h0 >> 51);
    h->v[0] = h0 & MASK51;
    h->v[2] = (uint64_t)r2 & MASK51;
    h->v[3] = (uint64_t)r3 & MASK51;
    h->v[4] = (uint64_t)r4 & MASK51;
}

FIELD_OP static void fe_sq(fe *h, const fe *f) {
    const uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
    const uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1;
    const uint64_t f1_38 = 38 * f1, f2_38 = 38 * f2, f3_38 = 38 * f3, f3_19 = 19 * f3, f4_19 = 19 * f4;
    u128 r0 = (u128)f0 * f0 + (u128)f1_38 * f4 + (u128)f2_38 * f3;
    u128 r1 = (u128)f0_2 * f1 + (u128)f2_38 * f4 + (u128)f3_19 * f3;
    u128 r2 = (u128)f0_2 * f2 + (u128)f1 * f1 + (u128)f3_38 * f4;
    u128 r3 = (u128)f0_2 * f3 + (u128)f1_2 * f2 + (u128)f4_19 * f4;
    u128 r4 = (u128)f0_2 * f4 + (u128)f1_2 * f3 + (u128)f2 * f2;
    r1 += (uint64_t)(r0 >> 51);
    r2 += (uint64_t)(r1 >> 51);
    r3 += (uint64_t)(r2 >> 51);
    r4 += (uint64_t)(r3 >> 51);
    uint64_t c = (uint64_t)(r4 >> 51);
    uint64_t h0 = ((uint64_t)r0 & MASK51) + 19 * c;
    h->v[1] = ((uint64_t)r1 & MASK51) + (h0 >> 51);
    h->v[0] = h0 & MASK51;
    h->v[2] = (uint64_t)r2 & MASK51;
    h->v[3] = (uint64_t)r3 & MASK51;
    h->v[4] = (uint64_t)r4 & MASK51;
}

static void fe_sqn(fe *h, const fe *f, int n) {
    fe_sq(h, f);
    while (--n > 0) fe_sq(h, h);
}

static int fe_iszero(const fe *f) {
    uint8_t s[32];
    fe_tobytes(s, f);
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++) acc |= s[i];
    return acc == 0;
}

static int fe_isneg(const fe *f) {  /* RFC 9496 IS_NEGATIVE: the canonical value is odd */
    uint8_t s[32];
    fe_tobytes(s, f);
    return s[0] & 1;
}

static int fe_eq(const fe *f, const fe *g) {
    fe d;
    fe_sub(&d, f, g);
    return fe_iszero(&d);
}

static void fe_abs(fe *h, const fe *f) {
    if (fe_isneg(f)) fe_neg(h, f); else *h = *f;
}

/* z^(2^250 - 1) and z^11, the common part of inversion and of the square-root exponent. */
static void fe_pow_250(fe *z250, fe *z11, const fe *z) {
    fe z2, z9, t, z5_0, z10_0, z20_0, z40_0, z50_0, z100_0, z200_0;
    fe_sq(&z2, z);
    fe_sqn(&t, &z2, 2);
    fe_mul(&z9, &t, z);
    fe_mul(z11, &z2, &z9);
    fe_sq(&t, z11);
    fe_mul(&z5_0, &t, &z9);                                   /* 2^5 - 1 */
    fe_sqn(&t, &z5_0, 5);   fe_mul(&z10_0, &t, &z5_0);        /* 2^10 - 1 */
    fe_sqn(&t, &z10_0, 10); fe_mul(&z20_0, &t, &z10_0);       /* 2^20 - 1 */
    fe_sqn(&t, &z20_0, 20); fe_mul(&z40_0, &t, &z20_0);       /* 2^40 - 1 */
    fe_sqn(&t, &z40_0, 10); fe_mul(&z50_0, &t, &z10_0);       /* 2^50 - 1 */
    fe_sqn(&t, &z50_0, 50); fe_mul(&z100_0, &t, &z50_0);      /* 2^100 - 1 */
    fe_sqn(&t, &z100_0, 100); fe_mul(&z200_0, &t, &z100_0);   /* 2^200 - 1 */
    fe_sqn(&t, &z200_0, 50); fe_mul(z250, &t, &z50_0);        /* 2^250 - 1 */
}

static void fe_pow22523(fe *h, const fe *z) {  /* z^((p-5)/8) = z^(2^252 - 3) */
    fe z250, z11, t;
    fe_pow_250(&z250, &z11, z);
    fe_sqn(&t, &z250, 2);
    fe_mul(h, &t, z);
}

static void fe_invert(fe *h, const fe *z) {  /* z^(p-2) = z^(2^255 - 21) */
    fe z250, z11, t;
    fe_pow_250(&z250, &z11, z);
    fe_sqn(&t, &z250, 5);
    fe_mul(h, &t, &z11);
}

static const uint8_t D_BYTES[32] = {
    0xa3,0x78,0x59,0x13,0xca,0x4d,0xeb,0x75,0xab,0xd8,0x41,0x41,0x4d,0x0a,0x70,0x00,
    0x98,0xe8,0x79,0x77,0x79,0x40,0xc7,0x8c,0x73,0xfe,0x6f,0x2b,0xee,0x6c,0x03,0x52};
static const uint8_t D2_BYTES[32] = {
    0x59,0xf1,0xb2,0x26,0x94,0x9b,0xd6,0xeb,0x56,0xb1,0x83,0x82,0x9a,0x14,0xe0,0x00,
    0x30,0xd1,0xf3,0xee,0xf2,0x80,0x8e,0x19,0xe7,0xfc,0xdf,0x56,0xdc,0xd9,0x06,0x24};
static const uint8_t SQRT_M1_BYTES[32] = {
    0xb0,0xa0,0x0e,0x4a,0x27,0x1b,0xee,0xc4,0x78,0xe4,0x2f,0xad,0x06,0x18,0x43,0x2f,
    0xa7,0xd7,0xfb,0x3d,0x99,0x00,0x4d,0x2b,0x0b,0xdf,0xc1,0x4f,0x80,0x24,0x83,0x2b};
static const uint8_t INVSQRT_A_MINUS_D_BYTES[32] = {
    0xea,0x40,0x5d,0x80,0xaa,0xfd,0xc8,0x99,0xbe,0x72,0x41,0x5a,0x17,0x16,0x2f,0x9d,
    0x40,0xd8,0x01,0xfe,0x91,0x7b,0xc2,0x16,0xa2,0xfc,0xaf,0xcf,0x05,0x89,0x6c,0x78};

static fe FE_D, FE_D2, FE_SQRT_M1, FE_INVSQRT_A_MINUS_D;

/* RFC 9496 SQRT_RATIO_M1(u, v): (1, +sqrt(u/v)) if u/v is square, else (0, +sqrt(i·u/v)). */
static int sqrt_ratio_m1(fe *r, const fe *u, const fe *v) {
    fe v3, v7, t, check, neg_u, neg_u_i;
    fe_sq(&t, v);
    fe_mul(&v3, &t, v);
    fe_sq(&t, &v3);
    fe_mul(&v7, &t, v);
    fe_mul(&t, u, &v7);
    fe_pow22523(&t, &t);
    fe_mul(&t, &t, &v3);
    fe_mul(r, &t, u);
    fe_sq(&t, r);
    fe_mul(&check, v, &t);
    fe_neg(&neg_u, u);
    fe_mul(&neg_u_i, &neg_u, &FE_SQRT_M1);
    int correct = fe_eq(&check, u);
    int flipped = fe_eq(&check, &neg_u);
    int flipped_i = fe_eq(&check, &neg_u_i);
    if (flipped || flipped_i) fe_mul(r, r, &FE_SQRT_M1);
    fe_abs(r, r);
    return correct || flipped;
}

/* ------------------------------------------------------------------------------- ristretto255 */

static void point_identity(point *p) {
    fe_0(&p->X); fe_1(&p->Y); fe_1(&p->Z); fe_0(&p->T);
}

/* RFC 9496 4.3.1. Returns 0 for a non-canonical, negative or invalid encoding; the result has Z = 1. */
static int ristretto_decode(point *p, const uint8_t *in) {
    fe s, ss, u1, u2, u2_sqr, v, t, invsqrt, den_x, den_y, one;
    uint8_t check[32];
    fe_frombytes(&s, in);
    fe_tobytes(check, &s);
    if (memcmp(check, in, 32) != 0 || (in[0] & 1)) return 0;
    fe_1(&one);
    fe_sq(&ss, &s);
    fe_sub(&u1, &one, &ss);
    fe_add(&u2, &one, &ss);
    fe_sq(&u2_sqr, &u2);
    fe_sq(&t, &u1);
    fe_mul(&t, &t, &FE_D);
    fe_neg(&t, &t);
    fe_sub(&v, &t, &u2_sqr);               /* v = -(D·u1²) - u2² */
    fe_mul(&t, &v, &u2_sqr);
    int was_square = sqrt_ratio_m1(&invsqrt, &one, &t);
    fe_mul(&den_x, &invsqrt, &u2);
    fe_mul(&den_y, &invsqrt, &den_x);
    fe_mul(&den_y, &den_y, &v);
    fe_add(&t, &s, &s);
    fe_mul(&t, &t, &den_x);
    fe_abs(&p->X, &t);
    fe_mul(&p->Y, &u1, &den_y);
    fe_1(&p->Z);
    fe_mul(&p->T, &p->X, &p->Y);
    if (!was_square || fe_isneg(&p->T) || fe_iszero(&p->Y)) return 0;
    return 1;
}

/* RFC 9496 4.3.2. */
/* The end of RFC 9496 4.3.2 given u1 = (Z+Y)(Z-Y), u2 = XY and invsqrt = ±1/sqrt(u1·u2²). The sign of
 * invsqrt does not matter: it flips den1, den2 and den_inv together, z_inv not at all, and the final
 * CT_ABS removes it. */
static void encode_finish(uint8_t *out, const point *p, const fe *u1, const fe *u2, const fe *invsqrt) {
    fe t, den1, den2, z_inv, ix, iy, enchanted, x, y, den_inv;
    fe_mul(&den1, invsqrt, u1);
    fe_mul(&den2, invsqrt, u2);
    fe_mul(&z_inv, &den1, &den2);
    fe_mul(&z_inv, &z_inv, &p->T);
    fe_mul(&ix, &p->X, &FE_SQRT_M1);
    fe_mul(&iy, &p->Y, &FE_SQRT_M1);
    fe_mul(&enchanted, &den1, &FE_INVSQRT_A_MINUS_D);
    fe_mul(&t, &p->T, &z_inv);
    if (fe_isneg(&t)) {
        x = iy; y = ix; den_inv = enchanted;
    } else {
        x = p->X; y = p->Y; den_inv = den2;
    }
    fe_mul(&t, &x, &z_inv);
    if (fe_isneg(&t)) fe_neg(&y, &y);
    fe_sub(&t, &p->Z, &y);
    fe_mul(&t, &den_inv, &t);
    fe_abs(&t, &t);
    fe_tobytes(out, &t);
}

static void encode_u(fe *u1, fe *u2, const point *p) {
    fe t;
    fe_add(&t, &p->Z, &p->Y);
    fe_sub(u1, &p->Z, &p->Y);
    fe_mul(u1, u1, &t);                    /* (Z+Y)(Z-Y) */
    fe_mul(u2, &p->X, &p->Y);
}

/* RFC 9496 4.3.2. */
static void ristretto_encode(uint8_t *out, const point *p) {
    fe u1, u2, t, invsqrt, one;
    encode_u(&u1, &u2, p);
    fe_sq(&t, &u2);
    fe_mul(&t, &t, &u1);
    fe_1(&one);
    sqrt_ratio_m1(&invsqrt, &one, &t);
    encode_finish(out, p, &u1, &u2, &invsqrt);
}

/* ------------------------------------------------------------------------------ point formulas */

static void to_affine_cached(affine_cached *c, const point *p) {  /* p must have Z = 1 */
    fe_add(&c->ypx, &p->Y, &p->X);
    fe_sub(&c->ymx, &p->Y, &p->X);
    fe_mul(&c->t2d, &p->T, &FE_D2);
}

static void to_cached(cached *c, const point *p) {
    fe_add(&c->ypx, &p->Y, &p->X);
    fe_sub(&c->ymx, &p->Y, &p->X);
    fe_add(&c->z2, &p->Z, &p->Z);
    fe_mul(&c->t2d, &p->T, &FE_D2);
}

/* The completed sum (E, F, G, H) -> extended: X = EF, Y = GH, Z = FG, T = EH. */
static void finish(point *r, const fe *e, const fe *f, const fe *g, const fe *h) {
    fe_mul(&r->X, e, f);
    fe_mul(&r->Y, g, h);
    fe_mul(&r->Z, f, g);
    fe_mul(&r->T, e, h);
}

/* r = p + q, or p - q when negate (unified formulas for a = -1, complete since d is not a square). */
static void add_cached(point *r, const point *p, const cached *q, int negate) {
    fe a, b, c, d, e, f, g, h, t;
    fe_sub(&t, &p->Y, &p->X);
    fe_mul(&a, &t, negate ? &q->ypx : &q->ymx);
    fe_add(&t, &p->Y, &p->X);
    fe_mul(&b, &t, negate ? &q->ymx : &q->ypx);
    fe_mul(&c, &p->T, &q->t2d);
    fe_mul(&d, &p->Z, &q->z2);
    fe_sub(&e, &b, &a);
    fe_add(&h, &b, &a);
    if (negate) { fe_add(&f, &d, &c); fe_sub(&g, &d, &c); }
    else { fe_sub(&f, &d, &c); fe_add(&g, &d, &c); }
    finish(r, &e, &f, &g, &h);
}

static void add_affine(point *r, const point *p, const affine_cached *q, int negate) {
    fe a, b, c, d, e, f, g, h, t;
    fe_sub(&t, &p->Y, &p->X);
    fe_mul(&a, &t, negate ? &q->ypx : &q->ymx);
    fe_add(&t, &p->Y, &p->X);
    fe_mul(&b, &t, negate ? &q->ymx : &q->ypx);
    fe_mul(&c, &p->T, &q->t2d);
    fe_add(&d, &p->Z, &p->Z);
    fe_sub(&e, &b, &a);
    fe_add(&h, &b, &a);
    if (negate) { fe_add(&f, &d, &c); fe_sub(&g, &d, &c); }
    else { fe_sub(&f, &d, &c); fe_add(&g, &d, &c); }
    finish(r, &e, &f, &g, &h);
}

static void add_points(point *r, const point *p, const point *q) {
    cached c;
    to_cached(&c, q);
    add_cached(r, p, &c, 0);
}

/* r = 2p (dedicated doubling for a = -1). */
static void dbl(point *r, const point *p) {
    fe a, b, c, e, f, g, h, t;
    fe_sq(&a, &p->X);
    fe_sq(&b, &p->Y);
    fe_sq(&c, &p->Z);
    fe_add(&c, &c, &c);
    fe_add(&t, &p->X, &p->Y);
    fe_sq(&t, &t);
    fe_add(&h, &a, &b);
    fe_sub(&e, &h, &t);      /* -(2XY) */
    fe_sub(&g, &a, &b);      /* a·X² - Y² with a = -1, negated: X² - Y² */
    fe_add(&f, &c, &g);
    /* With E' = -e, G' = -g, H' = -h, F' = -f the standard result is (E'F', G'H', F'G', E'H'): the signs
     * cancel pairwise. */
    finish(r, &e, &f, &g, &h);
}

/* Encodings of 2·P_i for many points with ONE field inversion instead of one inverse square root each.
 *
 * Doubling P = (X:Y:Z:T) gives Q = (EF : GH : FG : EH) with E = 2XY, G = Y² - X², F = G - 2Z²,
 * H = -(X² + Y²) (dbl above computes their negatives, which changes none of the products below). Encoding Q
 * needs 1/sqrt(u1·u2²) with u1 = Z_Q² - Y_Q² = G²(F² - H²) and u2 = X_Q·Y_Q = EFGH. Here
 * F² - H² = (F - H)(F + H) = -4(Y² - Z²)(X² + Z²), and on the curve (Y² - Z²)(X² + Z²) = (1 + d)X²Y², so
 * F² - H² = (a - d)·E² with a = -1. Hence u1·u2² = (a - d)·(E²·F·G²·H)², whose inverse square root is
 * ±INVSQRT_A_MINUS_D / (E²·F·G²·H): a plain inverse, and many of those cost one inversion together
 * (Montgomery's trick). A point where that product is 0 (a double that is the identity) is encoded the
 * ordinary way. */
static void encode_doubles(uint8_t *out, const point *ps, size_t n, fe *dens, fe *prefix, point *qs) {
    fe acc, inv, t;
    fe_1(&acc);
    for (size_t i = 0; i < n; i++) {
        fe a, b, c, e, f, g, h, x;
        const point *p = &ps[i];
        fe_sq(&a, &p->X);
        fe_sq(&b, &p->Y);
        fe_sq(&c, &p->Z);
        fe_add(&c, &c, &c);
        fe_add(&x, &p->X, &p->Y);
        fe_sq(&x, &x);
        fe_add(&h, &a, &b);
        fe_sub(&e, &h, &x);
        fe_sub(&g, &a, &b);
        fe_add(&f, &c, &g);
        finish(&qs[i], &e, &f, &g, &h);
        fe_sq(&t, &e);
        fe_mul(&t, &t, &f);
        fe_mul(&t, &t, &h);
        fe_sq(&x, &g);
        fe_mul(&dens[i], &t, &x);
        if (fe_iszero(&dens[i])) fe_1(&dens[i]);  /* encoded the ordinary way below */
        prefix[i] = acc;
        fe_mul(&acc, &acc, &dens[i]);
    }
    fe_invert(&inv, &acc);                         /* 1 / (den_0 ... den_{n-1}) */
    for (size_t i = n; i-- > 0;) {
        fe inv_i, invsqrt, u1, u2;
        fe_mul(&inv_i, &inv, &prefix[i]);          /* 1 / den_i */
        fe_mul(&inv, &inv, &dens[i]);              /* 1 / (den_0 ... den_{i-1}) */
        encode_u(&u1, &u2, &qs[i]);
        fe_sq(&t, &u2);
        fe_mul(&t, &t, &u1);
        if (fe_iszero(&t)) {
            ristretto_encode(out + 32 * i, &qs[i]);
            continue;
        }
        fe_mul(&invsqrt, &inv_i, &FE_INVSQRT_A_MINUS_D);
        encode_finish(out + 32 * i, &qs[i], &u1, &u2, &invsqrt);
    }
}

/* ------------------------------------------------------------------------------------------ MSM */

/* Signed digits of a scalar < 2^253 in radix 2^c: sum d_j 2^(cj), |d_j| <= 2^(c-1). */
static void signed_digits(int32_t *digits, int windows, const uint8_t *scalar, int c) {
    uint64_t w[5];
    for (int i = 0; i < 4; i++) w[i] = load64(scalar + 8 * i);
    w[4] = 0;
    int64_t carry = 0;
    const int64_t radix = (int64_t)1 << c, half = radix >> 1;
    for (int j = 0; j < windows; j++) {
        int bit = j * c;
        int64_t val = 0;
        if (bit < 256) {
            int word = bit >> 6, off = bit & 63;
            uint64_t chunk = w[word] >> off;
            if (off + c > 64 && word < 4) chunk |= w[word + 1] << (64 - off);
            val = (int64_t)(chunk & (uint64_t)(radix - 1));
        }
        val += carry;
        if (val > half) { val -= radix; carry = 1; } else carry = 0;
        digits[j] = (int32_t)val;
    }
}

/* Width-5 NAF of a scalar < 2^253: odd digits in [-15, 15]; returns the number of positions. */
static int wnaf5(int8_t *naf, const uint8_t *scalar) {
    uint64_t w[5];
    for (int i = 0; i < 4; i++) w[i] = load64(scalar + 8 * i);
    w[4] = 0;
    memset(naf, 0, 257);
    int pos = 0;
    while (w[0] | w[1] | w[2] | w[3] | w[4]) {
        if (w[0] & 1) {
            int d = (int)(w[0] & 31);
            if (d > 16) d -= 32;
            naf[pos] = (int8_t)d;
            if (d > 0) {  /* w -= d */
                uint64_t borrow = (uint64_t)d;
                for (int i = 0; i < 5 && borrow; i++) { uint64_t old = w[i]; w[i] -= borrow; borrow = old < borrow; }
            } else {      /* w += -d */
                uint64_t add = (uint64_t)(-d);
                for (int i = 0; i < 5 && add; i++) { w[i] += add; add = w[i] < add; }
            }
        }
        for (int i = 0; i < 4; i++) w[i] = (w[i] >> 1) | (w[i + 1] << 63);
        w[4] >>= 1;
        pos++;
    }
    return pos;
}

static int straus(point *result, const uint8_t *scalars, const point *points, size_t n) {
    cached (*tables)[8] = malloc(n * sizeof *tables);
    int8_t (*nafs)[257] = malloc(n * sizeof *nafs);
    if (!tables || !nafs) { free(tables); free(nafs); return 0; }
    int top = 0;
    for (size_t i = 0; i < n; i++) {
        point twice, cur = points[i];
        dbl(&twice, &points[i]);
        cached twice_c;
        to_cached(&twice_c, &twice);
        for (int k = 0; k < 8; k++) {  /* P, 3P, ..., 15P */
            to_cached(&tables[i][k], &cur);
            if (k < 7) add_cached(&cur, &cur, &twice_c, 0);
        }
        int len = wnaf5(nafs[i], scalars + 32 * i);
        if (len > top) top = len;
    }
    point acc;
    point_identity(&acc);
    for (int pos = top - 1; pos >= 0; pos--) {
        dbl(&acc, &acc);
        for (size_t i = 0; i < n; i++) {
            int d = nafs[i][pos];
            if (d > 0) add_cached(&acc, &acc, &tables[i][d >> 1], 0);
            else if (d < 0) add_cached(&acc, &acc, &tables[i][(-d) >> 1], 1);
        }
    }
    *result = acc;
    free(tables);
    free(nafs);
    return 1;
}

static int pippenger_window(size_t n) {
    int best = 4;
    double best_cost = 1e300;
    for (int c = 4; c <= 16; c++) {
        double windows = 253 / c + 1;
        double cost = windows * ((double)n + (double)(1 << c));
        if (cost < best_cost) { best_cost = cost; best = c; }
    }
    return best;
}

static int pippenger(point *result, const uint8_t *scalars, const point *points, size_t n) {
    const int c = pippenger_window(n);
    const int windows = 253 / c + 1;
    const size_t buckets_n = (size_t)1 << (c - 1);
    affine_cached *pts = malloc(n * sizeof *pts);
    int32_t *digits = malloc(n * windows * sizeof *digits);
    point *buckets = malloc(buckets_n * sizeof *buckets);
    if (!pts || !digits || !buckets) { free(pts); free(digits); free(buckets); return 0; }
    for (size_t i = 0; i < n; i++) {
        to_affine_cached(&pts[i], &points[i]);
        signed_digits(digits + i * windows, windows, scalars + 32 * i, c);
    }
    point acc;
    point_identity(&acc);
    for (int j = windows - 1; j >= 0; j--) {
        for (int k = 0; k < c; k++) dbl(&acc, &acc);
        for (size_t b = 0; b < buckets_n; b++) point_identity(&buckets[b]);
        for (size_t i = 0; i < n; i++) {
            int32_t d = digits[i * windows + j];
            if (d > 0) add_affine(&buckets[d - 1], &buckets[d - 1], &pts[i], 0);
            else if (d < 0) add_affine(&buckets[-d - 1], &buckets[-d - 1], &pts[i], 1);
        }
        /* sum_b (b+1)·bucket_b as running sums from the top bucket down */
        point running, total;
        point_identity(&running);
        point_identity(&total);
        for (size_t b = buckets_n; b-- > 0;) {
            add_points(&running, &running, &buckets[b]);
            add_points(&total, &total, &running);
        }
        add_points(&acc, &acc, &total);
    }
    *result = acc;
    free(pts);
    free(digits);
    free(buckets);
    return 1;
}

#define STRAUS_MAX 48

/* The group order l and (l - 1)/2, little-endian 64-bit words. */
static const uint64_t ORDER_WORDS[4] = {0x5812631a5cf5d3edULL, 0x14def9dea2f79cd6ULL, 0, 0x1000000000000000ULL};
static const uint64_t HALF_ORDER_WORDS[4] = {0x2c09318d2e7ae9f6ULL, 0x0a6f7cef517bce6bULL, 0, 0x0800000000000000ULL};

static int words_greater(const uint64_t *a, const uint64_t *b) {
    for (int i = 3; i >= 0; i--)
        if (a[i] != b[i]) return a[i] > b[i];
    return 0;
}

/* k·P = (l - k)·(-P): a scalar in (l/2, l) becomes l - k on the negated point, so a term weighted -w (a random
 * 128-bit w, as every combined check has) costs what a 128-bit scalar costs: its high digits are zero and
 * the products skip them. k is rewritten in place. */
static void shorten_term(uint8_t *k, point *p) {
    uint64_t w[4], r[4];
    for (int i = 0; i < 4; i++) w[i] = load64(k + 8 * i);
    if (!words_greater(w, HALF_ORDER_WORDS) || !words_greater(ORDER_WORDS, w)) return;
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t d = ORDER_WORDS[i] - w[i];
        uint64_t b2 = ORDER_WORDS[i] < w[i];
        r[i] = d - borrow;
        borrow = b2 | (d < borrow);
    }
    for (int i = 0; i < 4; i++) store64(k + 8 * i, r[i]);
    fe_neg(&p->X, &p->X);
    fe_neg(&p->T, &p->T);
}

/* Recently decoded points, keyed by their full encoding: a verifier validates each list it reads and then
 * uses the same points in one or two products (a stage's outputs are the next stage's inputs; the
 * generators recur in every stage), so many decodings are repeats. Sets of 4 slots, the oldest entry of a
 * full set replaced, fixed in size (21 MB, pages touched only as slots fill); only valid encodings are kept
 * and a hit needs the whole encoding to match, so it gives exactly what decoding would.
 *
 * The table is a shared anonymous mapping made when the module loads, so the pool workers a verifier forks
 * share it with their parent and with each other: a point one worker decoded is a hit in the next job
 * whichever worker runs it (a spawned process has its own). Every slot is guarded by a sequence number
 * (a seqlock), so neither threads nor processes wait for each other: a writer makes it odd, writes and makes
 * it even again, and gives up if another writer holds the slot; a reader copies the slot and keeps the copy
 * only if the number was even and unchanged across the copy. A process that dies mid-write leaves its slot
 * odd, which only makes that slot a miss for ever. Only public encodings and their points are kept. */
#define CACHE_SLOTS ((size_t)1 << 17)
#define CACHE_WAYS 4
/* seq 0: empty; odd: being written. stamp: the table's insertion count when it was written (age = now - stamp). */
typedef struct { uint32_t seq, stamp; uint8_t key[32]; fe x, y, t; } cache_slot;
static cache_slot *cache;  /* CACHE_SLOTS slots, then one more whose stamp is the table's insertion count */

static size_t cache_set(const uint8_t *in) {
    uint64_t h = load64(in) ^ (load64(in + 8) * 0x9e3779b97f4a7c15ULL) ^ load64(in + 16) ^ load64(in + 24);
    return (size_t)(h ^ (h >> 29)) & (CACHE_SLOTS - CACHE_WAYS);
}

static int cache_get(point *p, const uint8_t *in, size_t i) {
    cache_slot *slot = &cache[i];
    uint32_t before = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
    if (before == 0 || (before & 1)) return 0;
    cache_slot copy;
    memcpy(&copy, slot, sizeof copy);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);  /* the copy is read before the number is read again */
    if (__atomic_load_n(&slot->seq, __ATOMIC_RELAXED) != before || memcmp(copy.key, in, 32) != 0) return 0;
    p->X = copy.x; p->Y = copy.y; p->T = copy.t;
    fe_1(&p->Z);
    return 1;
}

static int cache_find(point *p, const uint8_t *in) {
    size_t set = cache_set(in);
    for (size_t w = 0; w < CACHE_WAYS; w++)
        if (cache_get(p, in, set + w)) return 1;
    return 0;
}

static void cache_put(const point *p, const uint8_t *in) {
    size_t set = cache_set(in), victim = CACHE_SLOTS;
    uint32_t now = __atomic_fetch_add(&cache[CACHE_SLOTS].stamp, 1, __ATOMIC_RELAXED), oldest = 0;
    for (size_t w = 0; w < CACHE_WAYS; w++) {  /* an empty slot, else the oldest (a racy read only picks worse) */
        cache_slot *slot = &cache[set + w];
        uint32_t seq = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);
        if (seq == 0) { victim = set + w; break; }
        /* an odd slot is being written, or was left so by a process that died: picked as the oldest for ever,
         * it would keep the rest of its set from ever being replaced */
        if (seq & 1) continue;
        uint32_t age = now - __atomic_load_n(&slot->stamp, __ATOMIC_RELAXED);
        if (victim == CACHE_SLOTS || age > oldest) { oldest = age; victim = set + w; }
    }
    if (victim == CACHE_SLOTS) return;  /* every slot of the set is being written */
    cache_slot *slot = &cache[victim];
    uint32_t seq = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);
    if ((seq & 1) || !__atomic_compare_exchange_n(&slot->seq, &seq, seq + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return;  /* another writer has the slot: leave it to them */
    /* The odd number must be seen before any of the writes below: the compare-exchange's acquire half does
     * not keep later stores after its own store on a weakly ordered CPU (ARM64, POWER), where a reader could
     * otherwise copy the new key with part of the old point and find the number even and unchanged. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    slot->stamp = now;
    memcpy(slot->key, in, 32);
    slot->x = p->X; slot->y = p->Y; slot->t = p->T;
    __atomic_store_n(&slot->seq, seq + 2 == 0 ? 2 : seq + 2, __ATOMIC_RELEASE);
}

static int decode_cached(point *p, const uint8_t *in) {
    if (cache && cache_find(p, in)) return 1;
    if (!ristretto_decode(p, in)) return 0;
    if (cache) cache_put(p, in);
    return 1;
}

static void cache_open(void) {
    void *table = mmap(NULL, (CACHE_SLOTS + 1) * sizeof(cache_slot), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cache = table == MAP_FAILED ? NULL : table;  /* no cache (only slower) if that fails */
}

/* Decode n points; the index of the first invalid one, or -1. */
static Py_ssize_t decode_all(point *out, const uint8_t *data, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!decode_cached(&out[i], data + 32 * i)) return (Py_ssize_t)i;
    return -1;
}

/* ---------------------------------------------------------------------------------- Python API */

static PyObject *InvalidPoint;  /* ValueError subclass; args: (message, index) */

static int check_len(Py_buffer *b, const char *what) {
    if (b->len % 32 != 0) {
        PyErr_Format(PyExc_ValueError, "%s must be a multiple of 32 bytes", what);
        return 0;
    }
    return 1;
}

static PyObject *raise_invalid(Py_ssize_t index) {
    PyObject *args = Py_BuildValue("(sn)", "not a canonical ristretto255 encoding", index);
    if (args) { PyErr_SetObject(InvalidPoint, args); Py_DECREF(args); }
    return NULL;
}

/* msm(scalars, points) -> 32 bytes: sum k_i·P_i. scalars: 32-byte little-endian values < 2^253 (the
 * caller reduces mod the group order); points: 32-byte encodings, each decoded and validated. */
static PyObject *py_msm(PyObject *self, PyObject *args) {
    Py_buffer sb, pb;
    if (!PyArg_ParseTuple(args, "y*y*", &sb, &pb)) return NULL;
    PyObject *ret = NULL;
    if (!check_len(&sb, "scalars") || !check_len(&pb, "points")) goto done;
    if (sb.len != pb.len) { PyErr_SetString(PyExc_ValueError, "as many scalars as points"); goto done; }
    size_t n = (size_t)pb.len / 32;
    const uint8_t *s = sb.buf;
    for (size_t i = 0; i < n; i++)
        if (s[32 * i + 31] & 0xe0) { PyErr_SetString(PyExc_ValueError, "scalar not reduced"); goto done; }
    point *pts = malloc((n ? n : 1) * sizeof *pts);
    uint8_t *ks = malloc(n ? 32 * n : 1);
    if (!pts || !ks) { free(pts); free(ks); PyErr_NoMemory(); goto done; }
    Py_ssize_t bad;
    int ok = 1;
    point result;
    uint8_t out[32];
    Py_BEGIN_ALLOW_THREADS
    bad = decode_all(pts, pb.buf, n);
    if (bad < 0) {
        memcpy(ks, s, 32 * n);
        for (size_t i = 0; i < n; i++) shorten_term(ks + 32 * i, &pts[i]);
        s = ks;
        if (n == 0) point_identity(&result);
        else if (n <= STRAUS_MAX) ok = straus(&result, s, pts, n);
        else ok = pippenger(&result, s, pts, n);
        if (ok) ristretto_encode(out, &result);
    }
    Py_END_ALLOW_THREADS
    free(pts);
    free(ks);
    if (bad >= 0) raise_invalid(bad);
    else if (!ok) PyErr_NoMemory();
    else ret = PyBytes_FromStringAndSize((const char *)out, 32);
done:
    PyBuffer_Release(&sb);
    PyBuffer_Release(&pb);
    return ret;
}

static PyObject *py_is_valid(PyObject *self, PyObject *arg) {
    Py_buffer b;
    if (PyObject_GetBuffer(arg, &b, PyBUF_SIMPLE) < 0) return NULL;
    point p;
    int ok = b.len == 32 && decode_cached(&p, b.buf);
    PyBuffer_Release(&b);
    return PyBool_FromLong(ok);
}

/* cached(encoding) -> whether the decoded-point cache holds this encoding now (for tests: what a forked
 * worker decodes, its parent and siblings find). */
static PyObject *py_cached(PyObject *self, PyObject *arg) {
    Py_buffer b;
    if (PyObject_GetBuffer(arg, &b, PyBUF_SIMPLE) < 0) return NULL;
    point p;
    int hit = cache && b.len == 32 && cache_find(&p, b.buf);
    PyBuffer_Release(&b);
    return PyBool_FromLong(hit);
}

/* add(a, b) -> a + b; both decoded and validated. */
static PyObject *py_add(PyObject *self, PyObject *args) {
    Py_buffer ab, bb;
    if (!PyArg_ParseTuple(args, "y*y*", &ab, &bb)) return NULL;
    PyObject *ret = NULL;
    point p, q, r;
    uint8_t out[32];
    if (ab.len != 32 || bb.len != 32) PyErr_SetString(PyExc_ValueError, "points are 32 bytes");
    else if (!ristretto_decode(&p, ab.buf)) raise_invalid(0);
    else if (!ristretto_decode(&q, bb.buf)) raise_invalid(1);
    else {
        add_points(&r, &p, &q);
        ristretto_encode(out, &r);
        ret = PyBytes_FromStringAndSize((const char *)out, 32);
    }
    PyBuffer_Release(&ab);
    PyBuffer_Release(&bb);
    return ret;
}

/* encode_many(points, doublings) -> the encodings of 2^doublings·P_i, concatenated. The points are
 * decoded and re-encoded with projective coordinates (doublings > 0 exercises Z != 1). */
static PyObject *py_encode_many(PyObject *self, PyObject *args) {
    Py_buffer pb;
    int doublings;
    if (!PyArg_ParseTuple(args, "y*i", &pb, &doublings)) return NULL;
    PyObject *ret = NULL;
    if (!check_len(&pb, "points")) goto done;
    size_t n = (size_t)pb.len / 32;
    ret = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)pb.len);
    if (!ret) goto done;
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(ret);
    for (size_t i = 0; i < n; i++) {
        point p;
        if (!ristretto_decode(&p, (const uint8_t *)pb.buf + 32 * i)) {
            Py_CLEAR(ret);
            raise_invalid((Py_ssize_t)i);
            goto done;
        }
        for (int k = 0; k < doublings; k++) dbl(&p, &p);
        ristretto_encode(out + 32 * i, &p);
    }
done:
    PyBuffer_Release(&pb);
    return ret;
}

/* double_rows(scalars, points) -> for every row i of points (as many per row as scalars), the encoding of
 * 2·sum_j k_j·P_ij. The caller passes k_j = (its scalar)/2 mod the group order, so the result is the product
 * it wants, and the doubling lets encode_doubles encode all rows with one inversion. Same scalars for
 * every row: their NAFs are computed once. */
static PyObject *py_double_rows(PyObject *self, PyObject *args) {
    Py_buffer sb, pb;
    if (!PyArg_ParseTuple(args, "y*y*", &sb, &pb)) return NULL;
    PyObject *ret = NULL;
    point *row_pts = NULL, *sums = NULL, *qs = NULL;
    cached (*tables)[8] = NULL;
    int8_t (*nafs)[257] = NULL;
    fe *dens = NULL, *prefix = NULL;
    if (!check_len(&sb, "scalars") || !check_len(&pb, "points")) goto done;
    size_t k = (size_t)sb.len / 32, total = (size_t)pb.len / 32;
    if (k == 0 || total % k != 0) { PyErr_SetString(PyExc_ValueError, "points must fill whole rows"); goto done; }
    size_t rows = total / k;
    const uint8_t *s = sb.buf, *pts = pb.buf;
    for (size_t j = 0; j < k; j++)
        if (s[32 * j + 31] & 0xe0) { PyErr_SetString(PyExc_ValueError, "scalar not reduced"); goto done; }
    row_pts = malloc(k * sizeof *row_pts);
    tables = malloc(k * sizeof *tables);
    nafs = malloc(k * sizeof *nafs);
    sums = malloc((rows ? rows : 1) * sizeof *sums);
    qs = malloc((rows ? rows : 1) * sizeof *qs);
    dens = malloc((rows ? rows : 1) * sizeof *dens);
    prefix = malloc((rows ? rows : 1) * sizeof *prefix);
    if (!row_pts || !tables || !nafs || !sums || !qs || !dens || !prefix) { PyErr_NoMemory(); goto done; }
    ret = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(32 * rows));
    if (!ret) goto done;
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(ret);
    Py_ssize_t bad = -1;
    Py_BEGIN_ALLOW_THREADS
    int top = 0;
    for (size_t j = 0; j < k; j++) {
        int len = wnaf5(nafs[j], s + 32 * j);
        if (len > top) top = len;
    }
    for (size_t r = 0; r < rows && bad < 0; r++) {
        Py_ssize_t where = decode_all(row_pts, pts + 32 * k * r, k);
        if (where >= 0) { bad = (Py_ssize_t)(k * r) + where; break; }
        for (size_t j = 0; j < k; j++) {
            point twice, cur = row_pts[j];
            cached twice_c;
            dbl(&twice, &row_pts[j]);
            to_cached(&twice_c, &twice);
            for (int m = 0; m < 8; m++) {
                to_cached(&tables[j][m], &cur);
                if (m < 7) add_cached(&cur, &cur, &twice_c, 0);
            }
        }
        point acc;
        point_identity(&acc);
        for (int pos = top - 1; pos >= 0; pos--) {
            dbl(&acc, &acc);
            for (size_t j = 0; j < k; j++) {
                int d = nafs[j][pos];
                if (d > 0) add_cached(&acc, &acc, &tables[j][d >> 1], 0);
                else if (d < 0) add_cached(&acc, &acc, &tables[j][(-d) >> 1], 1);
            }
        }
        sums[r] = acc;
    }
    if (bad < 0 && rows) encode_doubles(out, sums, rows, dens, prefix, qs);
    Py_END_ALLOW_THREADS
    if (bad >= 0) { Py_CLEAR(ret); raise_invalid(bad); }
done:
    free(row_pts); free(tables); free(nafs); free(sums); free(qs); free(dens); free(prefix);
    PyBuffer_Release(&sb);
    PyBuffer_Release(&pb);
    return ret;
}

static PyMethodDef methods[] = {
    {"msm", py_msm, METH_VARARGS, "msm(scalars, points) -> sum of k_i*P_i (32-byte encodings)"},
    {"is_valid", py_is_valid, METH_O, "is_valid(encoding) -> whether it decodes (RFC 9496 4.3.1)"},
    {"cached", py_cached, METH_O, "cached(encoding) -> whether the decoded-point cache holds it"},
    {"add", py_add, METH_VARARGS, "add(a, b) -> a + b"},
    {"encode_many", py_encode_many, METH_VARARGS, "encode_many(points, doublings) -> encodings of 2^k*P"},
    {"double_rows", py_double_rows, METH_VARARGS, "double_rows(scalars, points) -> per row, 2*sum k_j*P_ij"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "mixnet._native",
    "Variable-time ristretto255 arithmetic for public data (proof checks).", -1, methods,
};

PyMODINIT_FUNC PyInit__native(void) {
    fe_frombytes(&FE_D, D_BYTES);
    fe_frombytes(&FE_D2, D2_BYTES);
    fe_frombytes(&FE_SQRT_M1, SQRT_M1_BYTES);
    fe_frombytes(&FE_INVSQRT_A_MINUS_D, INVSQRT_A_MINUS_D_BYTES);
    PyObject *m = PyModule_Create(&moduledef);
    if (!m) return NULL;
    cache_open();
    InvalidPoint = PyErr_NewException("mixnet._native.InvalidPoint", PyExc_ValueError, NULL);
    if (!InvalidPoint || PyModule_AddObject(m, "InvalidPoint", InvalidPoint) < 0) {
        Py_XDECREF(InvalidPoint);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(InvalidPoint);
    return m;
}
