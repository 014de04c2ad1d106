/*
 * Ed25519 verification with per-public-key precomputed tables (Node-API addon).
 *
 * Why: verifying a signature is the node's largest CPU cost (libsodium: ~60-75 us on the
 * reference machine), and in a permissioned ledger the same few thousand enrolled keys sign
 * everything. libsodium computes [S]B - [k]A with a sliding-window double-scalar
 * multiplication (~253 doublings). Here both B and -A have a fixed-base table (radix 16, 32
 * rows x 8 multiples, the layout RFC 8032 §5.1.4's reference code uses for B), so the
 * multiplication is 128 table additions and 4 doublings. A key's table costs about two
 * verifications to build and is kept in a per-thread cache.
 *
 * Accept/reject rules are libsodium's crypto_sign_verify_detached, bit for bit (ADR 0004,
 * ADR 0010): lengths exact (checked by the caller), S < L, R and A not of small order
 * (blocklist, any sign bit, including non-canonical encodings), A canonical (y < p) and on the
 * curve, then the cofactorless equation, compared as encodings: encode([S]B - [k]A) == R.
 * The group element computed is the same as libsodium's, only the algorithm differs, so
 * mixed-order keys and every other edge case get the same answer (the tests cross-check
 * against libsodium on Wycheproof, the edge cases of ed25519-native.test.ts and random
 * tampering).
 *
 * Nothing here is constant-time: verification handles public data only.
 */
#define NAPI_VERSION 8
#include <node_api.h>
/* SHA512_* are deprecated in OpenSSL 3 in favour of EVP, whose per-call context allocation costs more here. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;
typedef uint64_t fe[5]; /* GF(2^255 - 19), radix 2^51, limbs < 2^54 on input to mul/sq */

#define MASK51 ((UINT64_C(1) << 51) - 1)

static const fe FE_D = {0x34dca135978a3ULL, 0x1a8283b156ebdULL, 0x5e7a26001c029ULL, 0x739c663a03cbbULL,
                        0x52036cee2b6ffULL};
static const fe FE_D2 = {0x69b9426b2f159ULL, 0x35050762add7aULL, 0x3cf44c0038052ULL, 0x6738cc7407977ULL,
                         0x2406d9dc56dffULL};
static const fe FE_SQRTM1 = {0x61b274a0ea0b0ULL, 0xd5a5fc8f189dULL, 0x7ef5e9cbd0c60ULL, 0x78595a6804c9eULL,
                             0x2b8324804fc1dULL};

static inline void fe_copy(fe h, const fe f) { memcpy(h, f, sizeof(fe)); }
static inline void fe_0(fe h) { memset(h, 0, sizeof(fe)); }
static inline void fe_1(fe h) {
  fe_0(h);
  h[0] = 1;
}

/* Weak reduction: limbs back below 2^51 + 2^13 (value unchanged mod p). */
static inline void fe_carry(fe h) {
  uint64_t c;
  c = h[0] >> 51; h[0] &= MASK51; h[1] += c;
  c = h[1] >> 51; h[1] &= MASK51; h[2] += c;
  c = h[2] >> 51; h[2] &= MASK51; h[3] += c;
  c = h[3] >> 51; h[3] &= MASK51; h[4] += c;
  c = h[4] >> 51; h[4] &= MASK51; h[0] += c * 19;
}

static inline void fe_add(fe h, const fe f, const fe g) {
  for (int i = 0; i < 5; i++) h[i] = f[i] + g[i];
  fe_carry(h);
}

/* f - g + 4p: limbs stay non-negative for g < 2^53. */
static inline void fe_sub(fe h, const fe f, const fe g) {
  h[0] = f[0] + UINT64_C(0x1fffffffffffb4) - g[0];
  for (int i = 1; i < 5; i++) h[i] = f[i] + UINT64_C(0x1ffffffffffffc) - g[i];
  fe_carry(h);
}

static inline void fe_neg(fe h, const fe f) {
  fe z;
  fe_0(z);
  fe_sub(h, z, f);
}

static inline void fe_mul(fe h, const fe f, const fe g) {
  const uint64_t f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
  const uint64_t g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3], g4 = g[4];
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
  uint64_t h0 = (uint64_t)r0 & MASK51, h1 = (uint64_t)r1 & MASK51;
  h0 += (uint64_t)(r4 >> 51) * 19;
  h1 += h0 >> 51;
  h[0] = h0 & MASK51;
  h[1] = h1;
  h[2] = (uint64_t)r2 & MASK51;
  h[3] = (uint64_t)r3 & MASK51;
  h[4] = (uint64_t)r4 & MASK51;
}

static inline void fe_sq(fe h, const fe f) { fe_mul(h, f, f); }

static void fe_sqn(fe h, const fe f, int n) {
  fe_sq(h, f);
  while (--n > 0) fe_sq(h, h);
}

/* z^(2^250 - 1) and z^11, shared by inversion and the square root (RFC 8032 §5.1.3). */
static void fe_pow2_250_1(fe out, fe z11, const fe z) {
  fe t0, t1, t2, t3;
  fe_sq(t0, z);        /* 2 */
  fe_sqn(t1, t0, 2);   /* 8 */
  fe_mul(t1, z, t1);   /* 9 */
  fe_mul(t0, t0, t1);  /* 11 */
  fe_copy(z11, t0);
  fe_sq(t2, t0);       /* 22 */
  fe_mul(t1, t1, t2);  /* 2^5 - 1 */
  fe_sqn(t2, t1, 5);
  fe_mul(t1, t2, t1);  /* 2^10 - 1 */
  fe_sqn(t2, t1, 10);
  fe_mul(t2, t2, t1);  /* 2^20 - 1 */
  fe_sqn(t3, t2, 20);
  fe_mul(t2, t3, t2);  /* 2^40 - 1 */
  fe_sqn(t2, t2, 10);
  fe_mul(t1, t2, t1);  /* 2^50 - 1 */
  fe_sqn(t2, t1, 50);
  fe_mul(t2, t2, t1);  /* 2^100 - 1 */
  fe_sqn(t3, t2, 100);
  fe_mul(t2, t3, t2);  /* 2^200 - 1 */
  fe_sqn(t2, t2, 50);
  fe_mul(out, t2, t1); /* 2^250 - 1 */
}

/* z^(p - 2) = z^(2^255 - 21). */
static void fe_invert(fe out, const fe z) {
  fe t, z11;
  fe_pow2_250_1(t, z11, z);
  fe_sqn(t, t, 5); /* 2^255 - 32 */
  fe_mul(out, t, z11);
}

/* z^((p - 5) / 8) = z^(2^252 - 3). */
static void fe_pow22523(fe out, const fe z) {
  fe t, z11;
  fe_pow2_250_1(t, z11, z);
  fe_sqn(t, t, 2); /* 2^252 - 4 */
  fe_mul(out, t, z);
}

/* Fully reduced little-endian encoding (value mod p, < p). */
static void fe_tobytes(uint8_t s[32], const fe f) {
  fe h;
  fe_copy(h, f);
  fe_carry(h);
  fe_carry(h);
  /* h < 2^255 + small; q = 1 iff h >= p. */
  uint64_t q = (h[0] + 19) >> 51;
  q = (h[1] + q) >> 51;
  q = (h[2] + q) >> 51;
  q = (h[3] + q) >> 51;
  q = (h[4] + q) >> 51;
  h[0] += 19 * q;
  h[1] += h[0] >> 51; h[0] &= MASK51;
  h[2] += h[1] >> 51; h[1] &= MASK51;
  h[3] += h[2] >> 51; h[2] &= MASK51;
  h[4] += h[3] >> 51; h[3] &= MASK51;
  h[4] &= MASK51;
  const uint64_t w0 = h[0] | (h[1] << 51);
  const uint64_t w1 = (h[1] >> 13) | (h[2] << 38);
  const uint64_t w2 = (h[2] >> 26) | (h[3] << 25);
  const uint64_t w3 = (h[3] >> 39) | (h[4] << 12);
  for (int i = 0; i < 8; i++) {
    s[i] = (uint8_t)(w0 >> (8 * i));
    s[8 + i] = (uint8_t)(w1 >> (8 * i));
    s[16 + i] = (uint8_t)(w2 >> (8 * i));
    s[24 + i] = (uint8_t)(w3 >> (8 * i));
  }
}

static inline uint64_t load64(const uint8_t *s) {
  uint64_t r = 0;
  for (int i = 7; i >= 0; i--) r = (r << 8) | s[i];
  return r;
}

/* Loads 255 bits (the top bit is ignored): any value below 2^255, not reduced. */
static void fe_frombytes(fe h, const uint8_t s[32]) {
  h[0] = load64(s) & MASK51;
  h[1] = (load64(s + 6) >> 3) & MASK51;
  h[2] = (load64(s + 12) >> 6) & MASK51;
  h[3] = (load64(s + 19) >> 1) & MASK51;
  h[4] = (load64(s + 24) >> 12) & MASK51;
}

static int fe_iszero(const fe f) {
  uint8_t s[32];
  fe_tobytes(s, f);
  uint8_t acc = 0;
  for (int i = 0; i < 32; i++) acc |= s[i];
  return acc == 0;
}

static int fe_isnegative(const fe f) {
  uint8_t s[32];
  fe_tobytes(s, f);
  return s[0] & 1;
}

/* ---- Group: twisted Edwards -x^2 + y^2 = 1 + d x^2 y^2, extended coordinates. ---- */

typedef struct {
  fe X, Y, Z, T; /* x = X/Z, y = Y/Z, xy = T/Z */
} ge_p3;

typedef struct {
  fe ypx, ymx, xy2d; /* affine: y + x, y - x, 2dxy */
} ge_precomp;

static void ge_identity(ge_p3 *h) {
  fe_0(h->X);
  fe_1(h->Y);
  fe_1(h->Z);
  fe_0(h->T);
}

/* Unified addition (Hisil-Wong-Carter-Dawson 2008, "add-2008-hwcd-3", a = -1). */
static void ge_add(ge_p3 *r, const ge_p3 *p, const ge_p3 *q) {
  fe a, b, c, d, e, f, g, h, t;
  fe_sub(a, p->Y, p->X);
  fe_sub(t, q->Y, q->X);
  fe_mul(a, a, t);
  fe_add(b, p->Y, p->X);
  fe_add(t, q->Y, q->X);
  fe_mul(b, b, t);
  fe_mul(c, p->T, q->T);
  fe_mul(c, c, FE_D2);
  fe_mul(d, p->Z, q->Z);
  fe_add(d, d, d);
  fe_sub(e, b, a);
  fe_sub(f, d, c);
  fe_add(g, d, c);
  fe_add(h, b, a);
  fe_mul(r->X, e, f);
  fe_mul(r->Y, g, h);
  fe_mul(r->T, e, h);
  fe_mul(r->Z, f, g);
}

/* Doubling ("dbl-2008-hwcd", a = -1); ignores p->T. */
static void ge_dbl(ge_p3 *r, const ge_p3 *p) {
  fe a, b, c, e, f, g, h, t;
  fe_sq(a, p->X);
  fe_sq(b, p->Y);
  fe_sq(c, p->Z);
  fe_add(c, c, c);
  fe_add(t, p->X, p->Y);
  fe_sq(t, t);
  fe_add(h, a, b);  /* A + B */
  fe_sub(e, t, h);  /* E = (X+Y)^2 - A - B = 2XY */
  fe_sub(g, b, a);  /* G = B - A (a = -1: D + B) */
  fe_sub(f, g, c);  /* F = G - C */
  fe_neg(h, h);     /* H = -A - B */
  fe_mul(r->X, e, f);
  fe_mul(r->Y, g, h);
  fe_mul(r->T, e, h);
  fe_mul(r->Z, f, g);
}

/* r = p + q (negate = 0) or p - q (negate = 1), q affine (mixed addition, 7M). */
static inline void ge_madd(ge_p3 *r, const ge_p3 *p, const ge_precomp *q, int negate) {
  fe a, b, c, d, e, f, g, h;
  fe_sub(a, p->Y, p->X);
  fe_mul(a, a, negate ? q->ypx : q->ymx);
  fe_add(b, p->Y, p->X);
  fe_mul(b, b, negate ? q->ymx : q->ypx);
  fe_mul(c, p->T, q->xy2d);
  fe_add(d, p->Z, p->Z);
  fe_sub(e, b, a);
  fe_add(h, b, a);
  if (negate) {
    fe_add(f, d, c);
    fe_sub(g, d, c);
  } else {
    fe_sub(f, d, c);
    fe_add(g, d, c);
  }
  fe_mul(r->X, e, f);
  fe_mul(r->Y, g, h);
  fe_mul(r->T, e, h);
  fe_mul(r->Z, f, g);
}

static void ge_tobytes(uint8_t s[32], const ge_p3 *h) {
  fe recip, x, y;
  fe_invert(recip, h->Z);
  fe_mul(x, h->X, recip);
  fe_mul(y, h->Y, recip);
  fe_tobytes(s, y);
  s[31] ^= (uint8_t)(fe_isnegative(x) << 7);
}

/*
 * RFC 8032 §5.1.3 decoding, returning the point or (negate = 1) its negation. The caller has
 * checked that y < p. Returns 0 if no x exists (not on the curve).
 */
static int ge_frombytes(ge_p3 *h, const uint8_t s[32], int negate) {
  fe u, v, v3, vxx, check;
  fe_frombytes(h->Y, s);
  fe_1(h->Z);
  fe_sq(u, h->Y);
  fe_mul(v, u, FE_D);
  fe_sub(u, u, h->Z); /* u = y^2 - 1 */
  fe_add(v, v, h->Z); /* v = d y^2 + 1 */
  fe_sq(v3, v);
  fe_mul(v3, v3, v); /* v^3 */
  fe_sq(h->X, v3);
  fe_mul(h->X, h->X, v);
  fe_mul(h->X, h->X, u); /* u v^7 */
  fe_pow22523(h->X, h->X);
  fe_mul(h->X, h->X, v3);
  fe_mul(h->X, h->X, u); /* x = u v^3 (u v^7)^((p-5)/8) */
  fe_sq(vxx, h->X);
  fe_mul(vxx, vxx, v);
  fe_sub(check, vxx, u);
  if (!fe_iszero(check)) {
    fe_add(check, vxx, u);
    if (!fe_iszero(check)) return 0;
    fe_mul(h->X, h->X, FE_SQRTM1);
  }
  /* libsodium does not reject x = 0 with the sign bit set here; such points have small
     order and are refused by the blocklist before decoding. */
  if (fe_isnegative(h->X) != ((s[31] >> 7) ^ (negate ? 1 : 0))) fe_neg(h->X, h->X);
  fe_mul(h->T, h->X, h->Y);
  return 1;
}

/* ---- Fixed-base tables: row i holds j * 256^i * P for j = 1..8, affine. ---- */

#define TABLE_ROWS 32
#define TABLE_COLS 8

typedef struct {
  ge_precomp p[TABLE_ROWS][TABLE_COLS];
} ge_table;

/* Scratch for ge_table_build: per thread, so building a table allocates nothing and cannot fail. */
static _Thread_local ge_p3 build_points[TABLE_ROWS * TABLE_COLS];
static _Thread_local fe build_zinv[TABLE_ROWS * TABLE_COLS];

static void ge_table_build(ge_table *table, const ge_p3 *point) {
  ge_p3 *all = build_points;
  fe *zinv = build_zinv;
  ge_p3 base = *point;
  for (int i = 0; i < TABLE_ROWS; i++) {
    ge_p3 *row = all + i * TABLE_COLS;
    row[0] = base;
    for (int j = 1; j < TABLE_COLS; j++) ge_add(&row[j], &row[j - 1], &base);
    /* next row's base: 256 * base = 2^5 * (8 * base); ge_dbl keeps T = XY/Z valid. */
    ge_dbl(&base, &row[TABLE_COLS - 1]);
    for (int k = 0; k < 4; k++) ge_dbl(&base, &base);
  }
  /* Batch inversion of every Z (Montgomery's trick). */
  const int n = TABLE_ROWS * TABLE_COLS;
  fe acc;
  fe_1(acc);
  for (int i = 0; i < n; i++) {
    fe_copy(zinv[i], acc);
    fe_mul(acc, acc, all[i].Z);
  }
  fe_invert(acc, acc);
  for (int i = n - 1; i >= 0; i--) {
    fe t;
    fe_mul(t, acc, zinv[i]); /* 1 / Z_i */
    fe_mul(acc, acc, all[i].Z);
    fe x, y, xy;
    fe_mul(x, all[i].X, t);
    fe_mul(y, all[i].Y, t);
    ge_precomp *out = &table->p[i / TABLE_COLS][i % TABLE_COLS];
    fe_add(out->ypx, y, x);
    fe_sub(out->ymx, y, x);
    fe_mul(xy, x, y);
    fe_mul(out->xy2d, xy, FE_D2);
  }
}

/* Signed radix-16 digits e[0..63] in [-8, 8] with a = sum e[i] 16^i; requires a < 2^255. */
static void scalar_digits(int8_t e[64], const uint8_t a[32]) {
  for (int i = 0; i < 32; i++) {
    e[2 * i] = a[i] & 15;
    e[2 * i + 1] = (a[i] >> 4) & 15;
  }
  int8_t carry = 0;
  for (int i = 0; i < 63; i++) {
    e[i] += carry;
    carry = (int8_t)((e[i] + 8) >> 4);
    e[i] -= (int8_t)(carry * 16);
  }
  e[63] += carry;
}

static inline void add_digit(ge_p3 *acc, const ge_table *table, int row, int8_t digit) {
  if (digit > 0) ge_madd(acc, acc, &table->p[row][digit - 1], 0);
  else if (digit < 0) ge_madd(acc, acc, &table->p[row][-digit - 1], 1);
}

/* [a]P + [b]Q with fixed-base tables for P and Q. */
static void ge_double_scalarmult_tables(ge_p3 *r, const uint8_t a[32], const ge_table *ta, const uint8_t b[32],
                                        const ge_table *tb) {
  int8_t ea[64], eb[64];
  scalar_digits(ea, a);
  scalar_digits(eb, b);
  ge_identity(r);
  for (int i = 1; i < 64; i += 2) {
    add_digit(r, ta, i / 2, ea[i]);
    add_digit(r, tb, i / 2, eb[i]);
  }
  for (int k = 0; k < 4; k++) ge_dbl(r, r);
  for (int i = 0; i < 64; i += 2) {
    add_digit(r, ta, i / 2, ea[i]);
    add_digit(r, tb, i / 2, eb[i]);
  }
}

/* ---- Scalars mod L = 2^252 + 27742317777372353535851937790883648493. ---- */

static const uint64_t SC_L[4] = {0x5812631a5cf5d3edULL, 0x14def9dea2f79cd6ULL, 0x0ULL, 0x1000000000000000ULL};
/* floor(2^512 / L), for Barrett reduction (HAC 14.42, b = 2^64, k = 4). */
static const uint64_t SC_MU[5] = {0xed9ce5a30a2c131bULL, 0x2106215d086329a7ULL, 0xffffffffffffffebULL,
                                  0xffffffffffffffffULL, 0xfULL};

/* S < L (RFC 8032 §5.1.7 step 1), S little-endian. */
static int sc_is_canonical(const uint8_t s[32]) {
  for (int i = 3; i >= 0; i--) {
    const uint64_t w = load64(s + 8 * i);
    if (w < SC_L[i]) return 1;
    if (w > SC_L[i]) return 0;
  }
  return 0; /* S == L */
}

/* 64-byte little-endian x mod L into 32 bytes. */
static void sc_reduce64(uint8_t out[32], const uint8_t in[64]) {
  uint64_t x[8];
  for (int i = 0; i < 8; i++) x[i] = load64(in + 8 * i);
  /* q1 = x >> 192 (5 limbs); q3 = (q1 * mu) >> 320 (5 limbs). */
  const uint64_t *q1 = x + 3;
  uint64_t q2[10] = {0};
  for (int i = 0; i < 5; i++) {
    u128 carry = 0;
    for (int j = 0; j < 5; j++) {
      u128 t = (u128)q1[i] * SC_MU[j] + q2[i + j] + carry;
      q2[i + j] = (uint64_t)t;
      carry = t >> 64;
    }
    q2[i + 5] = (uint64_t)carry;
  }
  const uint64_t *q3 = q2 + 5;
  /* r2 = (q3 * L) mod 2^320. */
  uint64_t r2[5] = {0};
  for (int i = 0; i < 5; i++) {
    u128 carry = 0;
    for (int j = 0; i + j < 5; j++) {
      const uint64_t lj = j < 4 ? SC_L[j] : 0;
      u128 t = (u128)q3[i] * lj + r2[i + j] + carry;
      r2[i + j] = (uint64_t)t;
      carry = t >> 64;
    }
  }
  /* r = (x mod 2^320) - r2 mod 2^320; then at most two subtractions of L. */
  uint64_t r[5];
  uint64_t borrow = 0;
  for (int i = 0; i < 5; i++) {
    u128 t = (u128)x[i] - r2[i] - borrow;
    r[i] = (uint64_t)t;
    borrow = (uint64_t)(t >> 64) & 1;
  }
  for (int round = 0; round < 3; round++) {
    /* r >= L ? */
    int ge = r[4] != 0;
    if (!ge) {
      ge = 1;
      for (int i = 3; i >= 0; i--) {
        if (r[i] > SC_L[i]) break;
        if (r[i] < SC_L[i]) { ge = 0; break; }
      }
    }
    if (!ge) break;
    borrow = 0;
    for (int i = 0; i < 5; i++) {
      u128 t = (u128)r[i] - (i < 4 ? SC_L[i] : 0) - borrow;
      r[i] = (uint64_t)t;
      borrow = (uint64_t)(t >> 64) & 1;
    }
  }
  for (int i = 0; i < 4; i++)
    for (int b = 0; b < 8; b++) out[8 * i + b] = (uint8_t)(r[i] >> (8 * b));
}

/* ---- libsodium's encoding checks. ---- */

/* y-coordinates of the points of order 1, 2, 4, 8 incl. non-canonical y = p, p + 1
   (libsodium ge25519_has_small_order); compared with the sign bit masked. */
static const uint8_t SMALL_ORDER[7][32] = {
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
    {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
     0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
     0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

static int has_small_order(const uint8_t s[32]) {
  for (int k = 0; k < 7; k++) {
    if (memcmp(s, SMALL_ORDER[k], 31) == 0 && (s[31] & 0x7f) == SMALL_ORDER[k][31]) return 1;
  }
  return 0;
}

/* y < p with the sign bit masked (libsodium ge25519_is_canonical). */
static int is_canonical_point(const uint8_t s[32]) {
  if ((s[31] & 0x7f) != 0x7f) return 1;
  for (int i = 30; i > 0; i--)
    if (s[i] != 0xff) return 1;
  return s[0] < 0xed;
}

/* ---- Base table (built once per process) and the per-thread key cache. ---- */

static ge_table base_table;
static pthread_once_t base_once = PTHREAD_ONCE_INIT;

static void build_base_table(void) {
  static const uint8_t B[32] = {0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66};
  ge_p3 b;
  ge_frombytes(&b, B, 0);
  ge_table_build(&base_table, &b);
}

#define CACHE_SLOTS 1024 /* power of two; ~30 KiB per cached key */
#define CACHE_PROBE 8

typedef struct {
  uint8_t key[32];
  int used;
  ge_table *table; /* of -A */
} cache_slot;

typedef struct {
  cache_slot slots[CACHE_SLOTS];
  uint32_t victim;
  uint64_t hits, misses;
} key_cache;

/*
 * The table of -A for an already checked public key, building and caching it if needed.
 * Returns 1 (found or built), 0 (A is not on the curve: reject) or -1 (out of memory: the caller
 * must raise an error, never answer "invalid" for a signature it could not check).
 */
static int key_table(key_cache *cache, const uint8_t pk[32], const ge_table **out) {
  const uint32_t h = (uint32_t)load64(pk) & (CACHE_SLOTS - 1);
  int empty = -1;
  for (int i = 0; i < CACHE_PROBE; i++) {
    cache_slot *slot = &cache->slots[(h + i) & (CACHE_SLOTS - 1)];
    if (!slot->used) {
      if (empty < 0) empty = (int)((h + i) & (CACHE_SLOTS - 1));
      continue;
    }
    if (memcmp(slot->key, pk, 32) == 0) {
      cache->hits++;
      *out = slot->table;
      return 1;
    }
  }
  ge_p3 negA;
  if (!ge_frombytes(&negA, pk, 1)) return 0;
  cache->misses++;
  const int index = empty >= 0 ? empty : (int)((h + (cache->victim++ % CACHE_PROBE)) & (CACHE_SLOTS - 1));
  cache_slot *slot = &cache->slots[index];
  if (!slot->table) {
    slot->table = malloc(sizeof(ge_table));
    if (!slot->table) return -1;
  }
  ge_table_build(slot->table, &negA);
  memcpy(slot->key, pk, 32);
  slot->used = 1;
  *out = slot->table;
  return 1;
}

/*
 * Everything of libsodium's crypto_sign_verify_detached but the final comparison: the encoding
 * checks, then r = [S]B - [k]A. Returns 1 (r computed), 0 (the signature is already rejected) or
 * -1 (out of memory). Lengths are checked by the caller.
 */
static int verify_compute(key_cache *cache, ge_p3 *r, const uint8_t sig[64], const uint8_t *msg, size_t msg_len,
                          const uint8_t pk[32]) {
  if (!sc_is_canonical(sig + 32) || has_small_order(sig)) return 0;
  if (!is_canonical_point(pk) || has_small_order(pk)) return 0;
  const ge_table *neg_a = NULL;
  const int found = key_table(cache, pk, &neg_a);
  if (found != 1) return found; /* 0: not on the curve; -1: out of memory */
  uint8_t hram[64], k[32];
  SHA512_CTX ctx;
  SHA512_Init(&ctx);
  SHA512_Update(&ctx, sig, 32);
  SHA512_Update(&ctx, pk, 32);
  SHA512_Update(&ctx, msg, msg_len);
  SHA512_Final(hram, &ctx);
  sc_reduce64(k, hram);
  ge_double_scalarmult_tables(r, sig + 32, &base_table, k, neg_a);
  return 1;
}

/* libsodium crypto_sign_verify_detached semantics (1 valid, 0 invalid, -1 out of memory). */
static int verify_one(key_cache *cache, const uint8_t sig[64], const uint8_t *msg, size_t msg_len,
                      const uint8_t pk[32]) {
  ge_p3 r;
  uint8_t check[32];
  const int computed = verify_compute(cache, &r, sig, msg, msg_len, pk);
  if (computed != 1) return computed;
  ge_tobytes(check, &r);
  return memcmp(check, sig, 32) == 0;
}

/*
 * The final step for a group of computed points: encode(r_i) == R_i. The encodings need 1/Z; one
 * field inversion serves the whole group (Montgomery's trick), where verify_one pays one per
 * signature (~20% of its field work). Z is never zero for a curve point (the addition law is
 * complete), but a zero product falls back to one inversion each rather than poison the group.
 */
#define GROUP 64

typedef struct {
  ge_p3 r;
  const uint8_t *sig;
  uint32_t index;
} pending_check;

static void finish_group(const pending_check *items, int n, uint8_t *flags) {
  if (n == 0) return;
  fe acc[GROUP];
  fe_copy(acc[0], items[0].r.Z);
  for (int i = 1; i < n; i++) fe_mul(acc[i], acc[i - 1], items[i].r.Z);
  if (fe_iszero(acc[n - 1])) {
    for (int i = 0; i < n; i++) {
      uint8_t check[32];
      ge_tobytes(check, &items[i].r);
      flags[items[i].index] = memcmp(check, items[i].sig, 32) == 0;
    }
    return;
  }
  fe inv;
  fe_invert(inv, acc[n - 1]);
  for (int i = n - 1; i >= 0; i--) {
    fe zinv, x, y;
    if (i > 0) {
      fe_mul(zinv, inv, acc[i - 1]); /* 1 / Z_i */
      fe_mul(inv, inv, items[i].r.Z);  /* 1 / (Z_0 ... Z_{i-1}) */
    } else {
      fe_copy(zinv, inv);
    }
    uint8_t check[32];
    fe_mul(x, items[i].r.X, zinv);
    fe_mul(y, items[i].r.Y, zinv);
    fe_tobytes(check, y);
    check[31] ^= (uint8_t)(fe_isnegative(x) << 7);
    flags[items[i].index] = memcmp(check, items[i].sig, 32) == 0;
  }
}

/* ---- Node-API surface. ---- */

static void cache_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  key_cache *cache = data;
  for (int i = 0; i < CACHE_SLOTS; i++) free(cache->slots[i].table);
  free(cache);
}

static key_cache *instance_cache(napi_env env) {
  void *data = NULL;
  napi_get_instance_data(env, &data);
  return data;
}

/*
 * Every napi_value a function returns goes through here: a failed call (e.g. while the worker's
 * environment is being torn down by terminate()) must return NULL — "no value, maybe an
 * exception" — never an uninitialized handle, which V8 would dereference.
 */
/* (Call the Node-API function first, then pass its status and output: C leaves the order in which
   arguments are evaluated unspecified.) */
static napi_value checked(napi_env env, napi_status status, napi_value value) {
  if (status == napi_ok) return value;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending && status != napi_cannot_run_js) napi_throw_error(env, NULL, "hl_ed25519: Node-API call failed");
  return NULL;
}

static napi_value throw_range(napi_env env, const char *message) {
  napi_throw_range_error(env, NULL, message);
  return NULL;
}

static int get_bytes(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  bool is_typed = false;
  napi_is_typedarray(env, value, &is_typed);
  if (is_typed) {
    napi_typedarray_type type;
    napi_value buffer;
    size_t offset;
    void *base;
    if (napi_get_typedarray_info(env, value, &type, length, &base, &buffer, &offset) != napi_ok) return 0;
    if (type != napi_uint8_array) return 0;
    *data = base;
    return 1;
  }
  bool is_ab = false;
  napi_is_arraybuffer(env, value, &is_ab);
  if (!is_ab) return 0;
  void *base;
  if (napi_get_arraybuffer_info(env, value, &base, length) != napi_ok) return 0;
  *data = base;
  return 1;
}

static uint32_t load32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/*
 * verifyPacked(buffer): the verify pool's chunk layout, little-endian:
 * u32 count, (u32 sigLen, u32 msgLen, u32 pkLen) x count, (sig || msg || pk) x count.
 * Returns a Uint8Array of flags (1 valid, 0 invalid). Throws RangeError on a malformed chunk.
 */
static napi_value verify_packed(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *bytes;
  size_t length;
  if (argc < 1 || !get_bytes(env, argv[0], &bytes, &length)) return throw_range(env, "verify chunk: not bytes");
  if (length < 4) return throw_range(env, "verify chunk: truncated header");
  const uint32_t count = load32(bytes);
  const uint64_t header = 4 + 12 * (uint64_t)count;
  if (header > length) return throw_range(env, "verify chunk: truncated header");
  napi_value out_buffer = NULL, out = NULL;
  void *out_data = NULL;
  const napi_status created = napi_create_arraybuffer(env, count, &out_data, &out_buffer);
  if (created != napi_ok) return checked(env, created, NULL);
  uint8_t *flags = out_data;
  key_cache *cache = instance_cache(env);
  pending_check group[GROUP];
  int grouped = 0;
  uint64_t offset = header;
  for (uint32_t i = 0; i < count; i++) {
    const uint8_t *h = bytes + 4 + 12 * (uint64_t)i;
    const uint64_t sig_len = load32(h), msg_len = load32(h + 4), pk_len = load32(h + 8);
    const uint64_t end = offset + sig_len + msg_len + pk_len;
    if (end > length) return throw_range(env, "verify chunk: item overruns buffer");
    const uint8_t *sig = bytes + offset, *msg = sig + sig_len, *pk = msg + msg_len;
    flags[i] = 0;
    const int computed =
        sig_len == 64 && pk_len == 32 ? verify_compute(cache, &group[grouped].r, sig, msg, msg_len, pk) : 0;
    if (computed < 0) {
      napi_throw_error(env, NULL, "hl_ed25519: out of memory for a key table");
      return NULL;
    }
    if (computed == 1) {
      group[grouped].sig = sig;
      group[grouped].index = i;
      if (++grouped == GROUP) {
        finish_group(group, grouped, flags);
        grouped = 0;
      }
    }
    offset = end;
  }
  if (offset != length) return throw_range(env, "verify chunk: trailing bytes");
  finish_group(group, grouped, flags);
  const napi_status typed = napi_create_typedarray(env, napi_uint8_array, count, out_buffer, 0, &out);
  return checked(env, typed, out);
}

/* verify(signature, message, publicKey) -> boolean; never throws for wrong lengths. */
static napi_value verify_single(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *sig, *msg, *pk;
  size_t sig_len, msg_len, pk_len;
  if (argc < 3 || !get_bytes(env, argv[0], &sig, &sig_len) || !get_bytes(env, argv[1], &msg, &msg_len) ||
      !get_bytes(env, argv[2], &pk, &pk_len))
    return throw_range(env, "verify: arguments must be Uint8Arrays");
  const int ok = sig_len == 64 && pk_len == 32 ? verify_one(instance_cache(env), sig, msg, msg_len, pk) : 0;
  if (ok < 0) {
    napi_throw_error(env, NULL, "hl_ed25519: out of memory for a key table");
    return NULL;
  }
  napi_value result = NULL;
  const napi_status status = napi_get_boolean(env, ok, &result);
  return checked(env, status, result);
}

/* scalarMultBase(scalar32) -> encoding of [scalar]B (scalar < 2^255); for tests of the tables. */
static napi_value scalar_mult_base(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *scalar;
  size_t len;
  if (argc < 1 || !get_bytes(env, argv[0], &scalar, &len) || len != 32 || (scalar[31] & 0x80))
    return throw_range(env, "scalarMultBase: 32-byte scalar below 2^255 required");
  static const uint8_t zero[32] = {0};
  ge_p3 r;
  /* b = 0: every digit is zero, so the second table is never read. */
  ge_double_scalarmult_tables(&r, scalar, &base_table, zero, &base_table);
  napi_value out_buffer = NULL, out = NULL;
  void *out_data = NULL;
  const napi_status created = napi_create_arraybuffer(env, 32, &out_data, &out_buffer);
  if (created != napi_ok) return checked(env, created, NULL);
  ge_tobytes(out_data, &r);
  const napi_status typed = napi_create_typedarray(env, napi_uint8_array, 32, out_buffer, 0, &out);
  return checked(env, typed, out);
}

/* cacheStats() -> { hits, misses }. */
static napi_value cache_stats(napi_env env, napi_callback_info info) {
  (void)info;
  key_cache *cache = instance_cache(env);
  napi_value result = NULL, hits = NULL, misses = NULL;
  napi_status status = napi_create_object(env, &result);
  if (status == napi_ok) status = napi_create_double(env, (double)cache->hits, &hits);
  if (status == napi_ok) status = napi_create_double(env, (double)cache->misses, &misses);
  if (status == napi_ok) status = napi_set_named_property(env, result, "hits", hits);
  if (status == napi_ok) status = napi_set_named_property(env, result, "misses", misses);
  return checked(env, status, result);
}

NAPI_MODULE_INIT() {
  pthread_once(&base_once, build_base_table);
  key_cache *cache = calloc(1, sizeof(key_cache));
  if (!cache || napi_set_instance_data(env, cache, cache_finalize, NULL) != napi_ok) {
    free(cache);
    napi_throw_error(env, NULL, "hl_ed25519: out of memory");
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"verifyPacked", NULL, verify_packed, NULL, NULL, NULL, napi_enumerable, NULL},
      {"verify", NULL, verify_single, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scalarMultBase", NULL, scalar_mult_base, NULL, NULL, NULL, napi_enumerable, NULL},
      {"cacheStats", NULL, cache_stats, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
