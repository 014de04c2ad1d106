/*
 * Coverage-guided differential fuzzer: native/ed25519/verify.c against libsodium's
 * crypto_sign_verify_detached (ADR 0004, ADR 0010). abort()s on any disagreement.
 *
 * verify.c is #included (VERIFY_C, default "../verify.c") so its static functions are reachable;
 * its Node-API glue is linked against aborting stubs below and never runs. Every input is checked
 * on both of verify.c's paths:
 *   single: verify_one (per-key table cache; a key seen before hits the cache, others miss and may
 *           evict), as the addon's verify();
 *   batch:  verify_compute + finish_group with a second, valid item in the group (Montgomery's
 *           trick over two Z coordinates), as the addon's verifyPacked().
 * The cache persists across inputs, as the per-thread cache does in a verify worker.
 *
 * Input: byte 0 selects a mode (mod 4); the rest is mode-specific.
 *   0 raw:        pk 32 | sig 64 | msg rest.
 *   1 signed:     seed 32 | n ops x 3 bytes (n = byte 33 % 9) | msg rest. libsodium derives the key
 *                 from the seed and signs msg; then each op mutates: flip a bit of R/S/A/msg,
 *                 S += k*L, S = an edge scalar, R or A = an edge encoding, R or A += a torsion point,
 *                 flip a sign bit, S = L - S, truncate msg.
 *   2 torsion:    seed 32 | ta | tr | flags | ops... | msg. A = [a]B + T[ta], R = [r]B + T[tr],
 *                 S = r + k*a (optionally searching r so that the cofactorless equation holds for a
 *                 mixed-order key; or r = 0, R = T[tr] of small order), then mode 1's ops. Probes
 *                 the cofactorless-vs-cofactored edge and the small-order-R rule.
 *   3 edges:      ia | ir | is | pkbytes 32 | sbytes 32 | msg: A, R and S from tables of edge
 *                 encodings (small-order points, non-canonical y >= p, sign-bit variants, S around
 *                 0, L, 2^252, 2^255, 2^256) or from the input bytes.
 *
 * CI proves the harness reports a disagreement by building it against a mutant of verify.c (the
 * small-order-R check removed; scripts/fuzz-ed25519.mjs --mutant r), which it must catch.
 */
#ifndef VERIFY_C
#define VERIFY_C "../verify.c"
#endif
#include VERIFY_C

#include <sodium.h>
#include <stdio.h>

/* ---- Node-API stubs: verify.c's glue is compiled but never called here. ---- */
#define HL_STUB(name, ...)                                                                                   \
  napi_status name(__VA_ARGS__) {                                                                            \
    fprintf(stderr, "fuzz_verify: unexpected Node-API call %s\n", #name);                                   \
    abort();                                                                                                 \
  }
HL_STUB(napi_is_exception_pending, napi_env e, bool *r)
HL_STUB(napi_throw_error, napi_env e, const char *c, const char *m)
HL_STUB(napi_throw_range_error, napi_env e, const char *c, const char *m)
HL_STUB(napi_is_typedarray, napi_env e, napi_value v, bool *r)
HL_STUB(napi_get_typedarray_info, napi_env e, napi_value v, napi_typedarray_type *t, size_t *l, void **d,
        napi_value *b, size_t *o)
HL_STUB(napi_is_arraybuffer, napi_env e, napi_value v, bool *r)
HL_STUB(napi_get_arraybuffer_info, napi_env e, napi_value v, void **d, size_t *l)
HL_STUB(napi_get_cb_info, napi_env e, napi_callback_info i, size_t *c, napi_value *a, napi_value *t, void **d)
HL_STUB(napi_create_arraybuffer, napi_env e, size_t l, void **d, napi_value *r)
HL_STUB(napi_create_typedarray, napi_env e, napi_typedarray_type t, size_t l, napi_value b, size_t o,
        napi_value *r)
HL_STUB(napi_get_boolean, napi_env e, bool v, napi_value *r)
HL_STUB(napi_create_object, napi_env e, napi_value *r)
HL_STUB(napi_create_double, napi_env e, double v, napi_value *r)
HL_STUB(napi_set_named_property, napi_env e, napi_value o, const char *n, napi_value v)
HL_STUB(napi_set_instance_data, napi_env e, void *d, napi_finalize f, void *h)
HL_STUB(napi_get_instance_data, napi_env e, void **d)
HL_STUB(napi_define_properties, napi_env e, napi_value o, size_t n, const napi_property_descriptor *p)

/* ---- Constants and tables. ---- */

static const uint8_t L_BYTES[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                    0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                    0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
static const uint8_t ORDER8[32] = {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
                                   0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
                                   0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05};
static const uint8_t BASE[32] = {0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66};

static uint8_t torsion[8][32]; /* torsion[j] = [j] ORDER8, canonical; torsion[0] = identity */
#define EDGE_POINTS 64
static uint8_t edge_points[EDGE_POINTS][32];
static int n_edge_points;
#define EDGE_SCALARS 16
static uint8_t edge_scalars[EDGE_SCALARS][32];

static key_cache *cache;
static uint8_t filler_pk[32], filler_sig[64];
static const uint8_t filler_msg[] = "healthledger fuzz filler";

static void add_edge_point(const uint8_t p[32]) {
  if (n_edge_points < EDGE_POINTS) memcpy(edge_points[n_edge_points++], p, 32);
}

/* 256-bit little-endian z = x + y (mod 2^256). */
static void add256(uint8_t z[32], const uint8_t x[32], const uint8_t y[32]) {
  unsigned carry = 0;
  for (int i = 0; i < 32; i++) {
    carry += (unsigned)x[i] + y[i];
    z[i] = (uint8_t)carry;
    carry >>= 8;
  }
}

static void sub256(uint8_t z[32], const uint8_t x[32], const uint8_t y[32]) {
  int borrow = 0;
  for (int i = 0; i < 32; i++) {
    int d = (int)x[i] - y[i] - borrow;
    borrow = d < 0;
    z[i] = (uint8_t)(d & 0xff);
  }
}

static void init_tables(void) {
  if (sodium_init() < 0) abort();
  pthread_once(&base_once, build_base_table);
  cache = calloc(1, sizeof(key_cache));
  if (!cache) abort();

  memset(torsion[0], 0, 32);
  torsion[0][0] = 1;
  memcpy(torsion[1], ORDER8, 32);
  for (int j = 2; j < 8; j++)
    if (crypto_core_ed25519_add(torsion[j], torsion[j - 1], ORDER8) != 0) abort();
  uint8_t eight[32];
  if (crypto_core_ed25519_add(eight, torsion[7], ORDER8) != 0 || memcmp(eight, torsion[0], 32) != 0) abort();

  /* The 8 small-order points, their sign-bit variants (x = 0 gives "negative zero" encodings). */
  for (int j = 0; j < 8; j++) {
    uint8_t p[32];
    memcpy(p, torsion[j], 32);
    add_edge_point(p);
    p[31] ^= 0x80;
    add_edge_point(p);
  }
  /* y = p + i for i = 0..18 (non-canonical; y = p, p + 1 are small order), both signs. */
  for (int i = 0; i < 19; i++) {
    uint8_t p[32];
    memset(p, 0xff, 32);
    p[0] = (uint8_t)(0xed + i);
    p[31] = 0x7f;
    add_edge_point(p);
    p[31] = 0xff;
    add_edge_point(p);
  }
  /* The base point and its negation; y = 0 .. 2 and y = p - 1 without the small-order ones. */
  uint8_t p[32];
  memcpy(p, BASE, 32);
  add_edge_point(p);
  p[31] ^= 0x80;
  add_edge_point(p);
  memset(p, 0, 32);
  p[0] = 2;
  add_edge_point(p); /* y = 2: not on the curve? either way an edge */
  memset(p, 0xff, 32);
  add_edge_point(p); /* 2^256 - 1 */
  memset(p, 0, 32);
  p[0] = 3;
  add_edge_point(p);
  memset(p, 0xff, 32);
  p[0] = 0xeb;
  p[31] = 0x7f; /* y = p - 2 */
  add_edge_point(p);

  /* Edge scalars: 0, 1, L - 1, L, L + 1, 2L, 2^252, 2^253 - 1, 2^255 - 1, 2^256 - 1, 8L - 1, 15L,
     L - 8, 16 L mod 2^256, 2^255, L + 2^252. */
  memset(edge_scalars, 0, sizeof edge_scalars);
  uint8_t one[32] = {1}, t[32];
  edge_scalars[1][0] = 1;
  sub256(edge_scalars[2], L_BYTES, one);
  memcpy(edge_scalars[3], L_BYTES, 32);
  add256(edge_scalars[4], L_BYTES, one);
  add256(edge_scalars[5], L_BYTES, L_BYTES);
  edge_scalars[6][31] = 0x10;
  memset(edge_scalars[7], 0xff, 32);
  edge_scalars[7][31] = 0x1f;
  memset(edge_scalars[8], 0xff, 32);
  edge_scalars[8][31] = 0x7f;
  memset(edge_scalars[9], 0xff, 32);
  memset(t, 0, 32);
  for (int i = 0; i < 8; i++) add256(t, t, L_BYTES);
  sub256(edge_scalars[10], t, one);
  for (int i = 8; i < 15; i++) add256(t, t, L_BYTES);
  memcpy(edge_scalars[11], t, 32);
  uint8_t eight_s[32] = {8};
  sub256(edge_scalars[12], L_BYTES, eight_s);
  add256(edge_scalars[13], t, L_BYTES);
  edge_scalars[14][31] = 0x80;
  add256(edge_scalars[15], L_BYTES, edge_scalars[6]);

  /* A valid signature for the batch path's second item. */
  uint8_t seed[32] = {0x42}, sk[64];
  crypto_sign_seed_keypair(filler_pk, sk, seed);
  crypto_sign_detached(filler_sig, NULL, filler_msg, sizeof filler_msg, sk);
}

/* ---- Input reader: bytes run out as zeros. ---- */

typedef struct {
  const uint8_t *data;
  size_t size, pos;
} reader;

static uint8_t rd_byte(reader *r) { return r->pos < r->size ? r->data[r->pos++] : 0; }
static void rd_bytes(reader *r, uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = rd_byte(r);
}

/* ---- Mutations (modes 1 and 2). ---- */

#define MAX_MSG 4096
typedef struct {
  uint8_t pk[32], sig[64], msg[MAX_MSG];
  size_t msg_len;
} case_t;

static void apply_ops(case_t *c, reader *r, int n_ops) {
  for (int i = 0; i < n_ops; i++) {
    const uint8_t op = rd_byte(r), a = rd_byte(r), b = rd_byte(r);
    uint8_t tmp[32];
    switch (op % 12) {
    case 0: { /* flip a bit of R, S or A */
      const unsigned bit = ((unsigned)a << 8 | b) % (96 * 8);
      uint8_t *buf = bit < 512 ? c->sig : c->pk;
      const unsigned off = bit < 512 ? bit : bit - 512;
      buf[off / 8] ^= (uint8_t)(1u << (off % 8));
      break;
    }
    case 1: /* S += k L (mod 2^256), k = 1..16 */
      for (int k = 0; k <= a % 16; k++) add256(c->sig + 32, c->sig + 32, L_BYTES);
      break;
    case 2: /* S = edge scalar, or S = edge scalar +- small */
      memcpy(c->sig + 32, edge_scalars[a % EDGE_SCALARS], 32);
      if (b & 1) {
        memset(tmp, 0, 32);
        tmp[0] = b >> 1;
        (b & 0x80 ? sub256 : add256)(c->sig + 32, c->sig + 32, tmp);
      }
      break;
    case 3: /* R = edge point */
      memcpy(c->sig, edge_points[a % n_edge_points], 32);
      break;
    case 4: /* A = edge point */
      memcpy(c->pk, edge_points[a % n_edge_points], 32);
      break;
    case 5: /* R += torsion point (libsodium refuses points it cannot decode: then unchanged) */
      if (crypto_core_ed25519_add(tmp, c->sig, torsion[a % 8]) == 0) memcpy(c->sig, tmp, 32);
      break;
    case 6: /* A += torsion point */
      if (crypto_core_ed25519_add(tmp, c->pk, torsion[a % 8]) == 0) memcpy(c->pk, tmp, 32);
      break;
    case 7: /* flip the sign bit of R or A */
      (a & 1 ? c->pk : c->sig)[31] ^= 0x80;
      break;
    case 8: /* S = L - S (mod 2^256) */
      sub256(c->sig + 32, L_BYTES, c->sig + 32);
      break;
    case 9: /* truncate the message */
      c->msg_len = c->msg_len ? ((size_t)a << 8 | b) % (c->msg_len + 1) : 0;
      break;
    case 10: /* flip a bit of the message */
      if (c->msg_len) {
        const size_t bit = ((size_t)a << 8 | b) % (c->msg_len * 8);
        c->msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      }
      break;
    case 11: /* set the top bits of S (2^253..2^255 region) */
      c->sig[63] = (uint8_t)((c->sig[63] & 0x1f) | (a & 0xe0));
      break;
    }
  }
}

static void read_msg(case_t *c, reader *r) {
  c->msg_len = r->size - r->pos;
  if (c->msg_len > MAX_MSG) c->msg_len = MAX_MSG;
  rd_bytes(r, c->msg, c->msg_len);
}

/* Ed25519 secret scalar a (clamped SHA-512(seed)[0..32], reduced mod L) and prefix. */
static void secret_scalar(uint8_t a[32], uint8_t prefix[32], const uint8_t seed[32]) {
  uint8_t h[64], wide[64] = {0};
  crypto_hash_sha512(h, seed, 32);
  h[0] &= 248;
  h[31] &= 127;
  h[31] |= 64;
  memcpy(wide, h, 32);
  crypto_core_ed25519_scalar_reduce(a, wide);
  memcpy(prefix, h + 32, 32);
}

static void hram(uint8_t k[32], const uint8_t R[32], const uint8_t A[32], const uint8_t *m, size_t n) {
  uint8_t h[64];
  crypto_hash_sha512_state st;
  crypto_hash_sha512_init(&st);
  crypto_hash_sha512_update(&st, R, 32);
  crypto_hash_sha512_update(&st, A, 32);
  crypto_hash_sha512_update(&st, m, n);
  crypto_hash_sha512_final(&st, h);
  crypto_core_ed25519_scalar_reduce(k, h);
}

/* Mode 2: A = [a]B + T[ta], R = [r]B + T[tr], S = r + k a. */
static int build_torsion(case_t *c, reader *r) {
  uint8_t seed[32], a[32], prefix[32], aB[32];
  rd_bytes(r, seed, 32);
  const uint8_t ta = rd_byte(r) % 8, tr0 = rd_byte(r) % 8, flags = rd_byte(r);
  const int n_ops = rd_byte(r) % 5;
  const size_t ops_at = r->pos;
  r->pos += 3 * (size_t)n_ops;
  if (r->pos > r->size) r->pos = r->size;
  read_msg(c, r);
  secret_scalar(a, prefix, seed);
  if (crypto_scalarmult_ed25519_base_noclamp(aB, a) != 0) return 0;
  if (crypto_core_ed25519_add(c->pk, aB, torsion[ta]) != 0) return 0;
  /* flags & 2: r = 0, so R = T[tr] has small order and [S]B - [k]A = -[k] T[ta] (the
     small-order-R rule is then all that rejects it when the equation holds).
     flags & 1: search nonces for one where -[k] T[ta] == T[tr] (the cofactorless equation
     holds for a mixed-order key); otherwise T[tr] is taken from the input. */
  const int tries = flags & 1 ? 16 : 1;
  uint8_t rs[32], k[32], rB[32];
  for (int attempt = 0; attempt < tries; attempt++) {
    uint8_t h[64];
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, prefix, 32);
    crypto_hash_sha512_update(&st, &flags, 1);
    crypto_hash_sha512_update(&st, (const uint8_t *)&attempt, sizeof attempt);
    crypto_hash_sha512_update(&st, c->msg, c->msg_len);
    crypto_hash_sha512_final(&st, h);
    crypto_core_ed25519_scalar_reduce(rs, h);
    if (flags & 2) { /* r = 0: R = T[tr] itself, of small order (libsodium must refuse it) */
      memset(rs, 0, 32);
      memset(rB, 0, 32);
      rB[0] = 1;
    } else if (crypto_scalarmult_ed25519_base_noclamp(rB, rs) != 0) {
      return 0;
    }
    unsigned tr = tr0;
    if (flags & 1) {
      /* Need T[tr] = -[k] T[ta], i.e. tr = -k ta mod 8 - but k depends on R. Guess tr from
         the attempt number and keep the nonce for which k agrees. */
      tr = (unsigned)attempt % 8;
    }
    if (flags & 2)
      memcpy(c->sig, torsion[tr], 32);
    else if (crypto_core_ed25519_add(c->sig, rB, torsion[tr]) != 0)
      return 0;
    hram(k, c->sig, c->pk, c->msg, c->msg_len);
    if (!(flags & 1) || (tr + (unsigned)k[0] * ta) % 8 == 0) break;
  }
  uint8_t ka[32];
  crypto_core_ed25519_scalar_mul(ka, k, a);
  crypto_core_ed25519_scalar_add(c->sig + 32, rs, ka);
  reader ops = {r->data, r->size, ops_at};
  apply_ops(c, &ops, n_ops);
  return 1;
}

/* ---- The differential check. ---- */

static void report(const char *what, const case_t *c, int sodium, int single, int batch) {
  fprintf(stderr, "\nfuzz_verify: DISAGREEMENT (%s): libsodium=%s single=%d batch=%d\npk  ", what,
          sodium == 0 ? "valid" : "invalid", single, batch);
  for (int i = 0; i < 32; i++) fprintf(stderr, "%02x", c->pk[i]);
  fprintf(stderr, "\nsig ");
  for (int i = 0; i < 64; i++) fprintf(stderr, "%02x", c->sig[i]);
  fprintf(stderr, "\nmsg (%zu bytes) ", c->msg_len);
  for (size_t i = 0; i < c->msg_len && i < 128; i++) fprintf(stderr, "%02x", c->msg[i]);
  fprintf(stderr, "\n");
  abort();
}

#ifdef HL_FUZZ_STATS
/* -DHL_FUZZ_STATS: count inputs by mode and libsodium's verdict, printed at exit (for
   docs/fuzzing.md: how often each mode reaches an accepted signature). */
static unsigned long stats[4][2];
static int stats_mode;
static void print_stats(void) {
  for (int m = 0; m < 4; m++)
    fprintf(stderr, "fuzz_verify stats: mode %d: %lu valid, %lu invalid\n", m, stats[m][1], stats[m][0]);
}
#endif

static void check(const case_t *c) {
  const int sodium = crypto_sign_verify_detached(c->sig, c->msg, c->msg_len, c->pk); /* 0 valid, -1 not */
  const int expected = sodium == 0;
#ifdef HL_FUZZ_STATS
  stats[stats_mode][expected]++;
#endif

  const int single = verify_one(cache, c->sig, c->msg, c->msg_len, c->pk);

  pending_check group[2];
  uint8_t flags[2] = {0xaa, 0xaa};
  int grouped = 0;
  if (verify_compute(cache, &group[grouped].r, filler_sig, filler_msg, sizeof filler_msg, filler_pk) != 1) abort();
  group[grouped].sig = filler_sig;
  group[grouped++].index = 0;
  flags[1] = 0;
  const int computed = verify_compute(cache, &group[grouped].r, c->sig, c->msg, c->msg_len, c->pk);
  if (computed == 1) {
    group[grouped].sig = c->sig;
    group[grouped++].index = 1;
  }
  finish_group(group, grouped, flags);
  const int batch = computed < 0 ? -1 : flags[1];

  if (flags[0] != 1) report("batch filler", c, sodium, single, batch);
  if (single != expected) report("single path", c, sodium, single, batch);
  if (batch != expected) report("batch path", c, sodium, single, batch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  if (!ready) {
    init_tables();
#ifdef HL_FUZZ_STATS
    atexit(print_stats);
#endif
    ready = 1;
  }
  if (size == 0) return 0;
  static case_t c;
  reader r = {data, size, 1};
#ifdef HL_FUZZ_STATS
  stats_mode = data[0] % 4;
#endif
  switch (data[0] % 4) {
  case 0:
    rd_bytes(&r, c.pk, 32);
    rd_bytes(&r, c.sig, 64);
    read_msg(&c, &r);
    break;
  case 1: {
    uint8_t seed[32], sk[64];
    rd_bytes(&r, seed, 32);
    const int n_ops = rd_byte(&r) % 9;
    const size_t ops_at = r.pos;
    r.pos += 3 * (size_t)n_ops;
    if (r.pos > r.size) r.pos = r.size;
    read_msg(&c, &r);
    crypto_sign_seed_keypair(c.pk, sk, seed);
    crypto_sign_detached(c.sig, NULL, c.msg, c.msg_len, sk);
    reader ops = {data, size, ops_at};
    apply_ops(&c, &ops, n_ops);
    break;
  }
  case 2:
    if (!build_torsion(&c, &r)) return 0;
    break;
  case 3: {
    const uint8_t ia = rd_byte(&r), ir = rd_byte(&r), is = rd_byte(&r);
    uint8_t pkbytes[32], sbytes[32];
    rd_bytes(&r, pkbytes, 32);
    rd_bytes(&r, sbytes, 32);
    read_msg(&c, &r);
    /* index >= 2 * n: take the input bytes instead of the table. */
    memcpy(c.pk, ia % 128 < n_edge_points ? edge_points[ia % 128] : pkbytes, 32);
    memcpy(c.sig, ir % 128 < n_edge_points ? edge_points[ir % 128] : pkbytes, 32);
    memcpy(c.sig + 32, is % 32 < EDGE_SCALARS ? edge_scalars[is % 32] : sbytes, 32);
    break;
  }
  }
  check(&c);
  return 0;
}
