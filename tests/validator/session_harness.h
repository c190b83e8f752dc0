/*
 * Scaffolding shared by the session tests (test_pop3_session.c,
 * test_smtp_session.c), the way tests/test_harness.h serves the parser
 * tests: static inline functions and macros, one copy per test.
 *
 * - Conversations: a table of steps (client chunk C(), server chunk S(),
 *   TLS, TLSD, GAPC(n), GAPS(n), CLOSEC, CLOSES, SUBMISSION), ended by END;
 *   SCRIPT(...) builds one in place.
 * - Findings: collect() records every finding into a struct flog and checks
 *   the invariants of every finding (session name, default severity, side,
 *   protocol, direction); run_mode() feeds a conversation whole, byte by
 *   byte or with one chunk split in two, and checks that the count agrees
 *   and that no finding lies inside a gap.
 * - Expectations: WANT(W(RULE, off), ...) / NONE, assert_log(), has().
 * - Split invariance: check_split_invariance() compares the findings of the
 *   whole run with byte-by-byte feeding and with every split of every chunk.
 * - One trigger per rule: struct trigger / T(), check_rule_triggers() and
 *   check_rule_coverage().
 * - Golden transcripts: check_golden_split_invariance() loads every
 *   single-session transcript of tests/data/<proto> and checks split invariance.
 *
 * Before including it, a test defines:
 *   SESSION_PROTO       the protocol every finding must carry
 *   SESSION_RULE_PROTO  (optional) the protocol every finding's rule must
 *                       belong to
 *   SESSION_NEXT_CUT(k, len)  (optional) the split position after k in a
 *                       chunk of len octets; default every position (k + 1).
 *                       session_cut_sampled() samples long chunks.
 * and includes <cmocka.h> and "session/session.h".
 */
#ifndef MC_TEST_SESSION_HARNESS_H
#define MC_TEST_SESSION_HARNESS_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session/session.h"
#include "transcript/transcript.h"

#ifndef SESSION_PROTO
#error "define SESSION_PROTO before including session_harness.h"
#endif
#ifndef SESSION_NEXT_CUT
#define SESSION_NEXT_CUT(k, len) ((k) + 1)
#endif

/* ---- conversations ----------------------------------------------------- */

enum step_kind {
    K_END = 0,
    K_C,        /* client chunk */
    K_S,        /* server chunk */
    K_TLS,      /* '! tls' */
    K_TLSD,     /* '! tls decrypted' */
    K_GAPC,     /* '! gap C n' */
    K_GAPS,     /* '! gap S n' */
    K_CLOSEC,   /* '! close C' */
    K_CLOSES,   /* '! close S' */
    K_SUB,      /* '@ protocol submission' (before any data) */
};

struct step {
    enum step_kind kind;
    const char *buf;
    size_t len;
    uint64_t n;
};

#define C(s) {K_C, (s), sizeof(s) - 1, 0}
#define S(s) {K_S, (s), sizeof(s) - 1, 0}
#define TLS {K_TLS, NULL, 0, 0}
#define TLSD {K_TLSD, NULL, 0, 0}
#define GAPC(k) {K_GAPC, NULL, 0, (k)}
#define GAPS(k) {K_GAPS, NULL, 0, (k)}
#define CLOSEC {K_CLOSEC, NULL, 0, 0}
#define CLOSES {K_CLOSES, NULL, 0, 0}
#define SUBMISSION {K_SUB, NULL, 0, 0}
#define END {K_END, NULL, 0, 0}
#define SCRIPT(...) ((const struct step[]){__VA_ARGS__, END})

/* ---- findings ---------------------------------------------------------- */

struct rec {
    enum mc_rule rule;
    uint64_t off;
    enum mc_side side;
    enum mc_dir dir;
    uint64_t line;
    char excerpt[MC_EXCERPT_MAX];
    char message[MC_MESSAGE_MAX];
};

#define RECS_MAX 128

struct flog {
    struct rec r[RECS_MAX];
    size_t n;
    size_t overflow;
    /* gaps seen, per direction, for the "nothing inside a gap" invariant */
    struct { uint64_t a, b; } gap[2][16];
    unsigned ngap[2];
    /* session state at the end */
    enum mc_proto proto;
    bool in_tls, validated;
    uint64_t counted;
};

static inline void collect(void *ctx, const struct mc_finding *f)
{
    struct flog *l = ctx;
    const struct mc_rule_info *ri = mc_rule_info(f->rule);
    struct rec *r;

    /* invariants of every finding */
    assert_non_null(ri);
    assert_non_null(f->session);
    assert_string_equal(f->session, "test-session");
    assert_int_equal(f->severity, ri->severity);
    assert_int_equal(f->side, ri->side);
    assert_int_equal(f->proto, SESSION_PROTO);
#ifdef SESSION_RULE_PROTO
    assert_int_equal(ri->proto, SESSION_RULE_PROTO);
#endif
    assert_int_equal(f->dir, f->side == MC_SIDE_CLIENT ? MC_DIR_C2S : MC_DIR_S2C);
    assert_true(memchr(f->excerpt, '\0', sizeof(f->excerpt)) != NULL);
    assert_true(memchr(f->message, '\0', sizeof(f->message)) != NULL);
    assert_true(f->message[0] != '\0');

    if (l->n == RECS_MAX) {
        l->overflow++;
        return;
    }
    r = &l->r[l->n++];
    r->rule = f->rule;
    r->off = f->offset;
    r->side = f->side;
    r->dir = f->dir;
    r->line = f->origin.line;
    memcpy(r->excerpt, f->excerpt, sizeof(r->excerpt));
    memcpy(r->message, f->message, sizeof(r->message));
}

enum mode { M_WHOLE, M_BYTES, M_SPLIT };

/* Runs one conversation. M_SPLIT cuts chunk number split_step at split_at
 * into two chunks with the same origin; M_BYTES feeds every chunk one octet
 * at a time. */
static inline void run_mode(const struct step *sc, enum mc_proto proto, enum mode mode,
                            size_t split_step, size_t split_at, struct flog *l)
{
    struct mc_session *s;
    uint64_t pos[2] = {0, 0};

    memset(l, 0, sizeof(*l));
    s = mc_session_new("test-session", proto, collect, l);
    assert_non_null(s);
    for (size_t i = 0; sc[i].kind != K_END; i++) {
        const struct step *st = &sc[i];
        struct mc_origin o = {0, i + 1};
        enum mc_dir d = MC_DIR_C2S;
        switch (st->kind) {
        case K_S:
            d = MC_DIR_S2C;
            /* fall through */
        case K_C: {
            const uint8_t *b = (const uint8_t *)st->buf;
            if (mode == M_BYTES) {
                for (size_t k = 0; k < st->len; k++)
                    mc_session_data(s, d, b + k, 1, &o);
            } else if (mode == M_SPLIT && split_step == i && split_at > 0 && split_at < st->len) {
                mc_session_data(s, d, b, split_at, &o);
                mc_session_data(s, d, b + split_at, st->len - split_at, &o);
            } else {
                mc_session_data(s, d, b, st->len, &o);
            }
            pos[d] += st->len;
            break;
        }
        case K_TLS:
        case K_TLSD:
            mc_session_tls(s, st->kind == K_TLSD, &o);
            break;
        case K_GAPS:
            d = MC_DIR_S2C;
            /* fall through */
        case K_GAPC:
            assert_true(l->ngap[d] < 16);
            l->gap[d][l->ngap[d]].a = pos[d];
            l->gap[d][l->ngap[d]].b = pos[d] + st->n;
            l->ngap[d]++;
            mc_session_gap(s, d, st->n, &o);
            pos[d] += st->n;
            break;
        case K_CLOSES:
            d = MC_DIR_S2C;
            /* fall through */
        case K_CLOSEC:
            mc_session_close(s, d, &o);
            break;
        case K_SUB:
            mc_session_set_submission(s);
            break;
        case K_END:
            break;
        }
    }
    mc_session_finish(s);
    l->proto = mc_session_proto(s);
    l->in_tls = mc_session_in_tls(s);
    l->validated = mc_session_validated(s);
    l->counted = mc_session_findings(s);
    mc_session_free(s);

    assert_int_equal(l->overflow, 0);
    assert_int_equal(l->counted, l->n);
    for (size_t i = 0; i < l->n; i++) {
        const struct rec *r = &l->r[i];
        for (unsigned g = 0; g < l->ngap[r->dir]; g++) {
            if (r->off >= l->gap[r->dir][g].a && r->off < l->gap[r->dir][g].b) {
                print_error("%s at offset %llu lies inside a gap [%llu, %llu)\n",
                            mc_rule_info(r->rule)->id, (unsigned long long)r->off,
                            (unsigned long long)l->gap[r->dir][g].a,
                            (unsigned long long)l->gap[r->dir][g].b);
                fail();
            }
        }
    }
}

static inline void run(const struct step *sc, enum mc_proto proto, struct flog *l)
{
    run_mode(sc, proto, M_WHOLE, 0, 0, l);
}

static inline void print_log(const char *title, const struct flog *l)
{
    print_error("%s (%zu findings):\n", title, l->n);
    for (size_t i = 0; i < l->n; i++)
        print_error("  %s@%llu  side=%s line=%llu  excerpt='%s'  message='%s'\n",
                    mc_rule_info(l->r[i].rule)->id, (unsigned long long)l->r[i].off,
                    mc_side_name(l->r[i].side), (unsigned long long)l->r[i].line, l->r[i].excerpt,
                    l->r[i].message);
}

/* ---- expectations ------------------------------------------------------ */

struct want {
    enum mc_rule rule;
    uint64_t off;
};
#define W(rule, off) {MC_R_##rule, (off)}
#define NONE ((const struct want[]){{MC_RULE_COUNT, 0}})
#define WANT(...) ((const struct want[]){__VA_ARGS__, {MC_RULE_COUNT, 0}})
#define WANT_NONE ((const struct want[]){{MC_RULE_COUNT, 0}})

static inline bool log_matches(const struct flog *l, const struct want *w)
{
    size_t n = 0;
    while (w[n].rule != MC_RULE_COUNT)
        n++;
    if (n != l->n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (l->r[i].rule != w[i].rule || l->r[i].off != w[i].off)
            return false;
    return true;
}

static inline void assert_log(const struct flog *l, const struct want *w)
{
    if (!log_matches(l, w)) {
        print_log("got", l);
        print_error("want:\n");
        for (size_t i = 0; w[i].rule != MC_RULE_COUNT; i++)
            print_error("  %s@%llu\n", mc_rule_info(w[i].rule)->id, (unsigned long long)w[i].off);
        fail();
    }
}


static inline bool has(const struct flog *l, enum mc_rule r, uint64_t off)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->r[i].rule == r && l->r[i].off == off)
            return true;
    return false;
}

/* ---- split invariance -------------------------------------------------- */

static inline bool same_findings(const struct flog *a, const struct flog *b, bool excerpts)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        if (a->r[i].rule != b->r[i].rule || a->r[i].off != b->r[i].off ||
            a->r[i].side != b->r[i].side || a->r[i].dir != b->r[i].dir)
            return false;
        if (excerpts && (strcmp(a->r[i].excerpt, b->r[i].excerpt) != 0 ||
                         strcmp(a->r[i].message, b->r[i].message) != 0))
            return false;
    }
    return true;
}

/* The next position to cut a chunk of len octets at: every position in
 * short chunks; in long ones the first and last 64 and about 64 between. */
static inline size_t session_cut_sampled(size_t k, size_t len)
{
    size_t step = len / 64;
    if (len <= 256 || k < 64 || k + 64 >= len || step < 2)
        return k + 1;
    return k + step < len - 64 ? k + step : len - 64;
}

/* Whole vs byte by byte vs every split of every chunk. */
static inline void check_split_invariance(const char *name, const struct step *sc,
                                          enum mc_proto proto, bool excerpts)
{
    /* static: a failing assertion longjmps out; nothing to leak */
    static struct flog whole_store, other_store;
    struct flog *whole = &whole_store, *other = &other_store;
    run_mode(sc, proto, M_WHOLE, 0, 0, whole);
    run_mode(sc, proto, M_BYTES, 0, 0, other);
    if (!same_findings(whole, other, excerpts)) {
        print_error("%s: byte-by-byte feeding changes the findings\n", name);
        print_log("whole", whole);
        print_log("byte by byte", other);
        fail();
    }
    for (size_t i = 0; sc[i].kind != K_END; i++) {
        for (size_t k = 1; k < sc[i].len; k = SESSION_NEXT_CUT(k, sc[i].len)) {
            run_mode(sc, proto, M_SPLIT, i, k, other);
            if (!same_findings(whole, other, excerpts)) {
                print_error("%s: splitting chunk %zu at %zu changes the findings\n", name, i + 1, k);
                print_log("whole", whole);
                print_log("split", other);
                fail();
            }
        }
    }
}

/* ---- one trigger per rule ------------------------------------------------ */

struct trigger {
    enum mc_rule rule;
    uint64_t off;
    enum mc_proto proto;
    const struct step *sc;
};

#define T(rule, off, ...) {MC_R_##rule, (off), SESSION_PROTO, SCRIPT(__VA_ARGS__)}

/* Every trigger's conversation reports its rule at its offset. */
static inline void check_rule_triggers(const struct trigger *t, size_t n)
{
    static struct flog l_store;
    struct flog *l = &l_store;
    for (size_t i = 0; i < n; i++) {
        run(t[i].sc, t[i].proto, l);
        if (!has(l, t[i].rule, t[i].off)) {
            print_error("trigger for %s@%llu:\n", mc_rule_info(t[i].rule)->id,
                        (unsigned long long)t[i].off);
            print_log("got", l);
            fail();
        }
    }
}

/* Every rule of proto in the catalogue has a trigger in t (file: where). */
static inline void check_rule_coverage(const struct trigger *t, size_t n, enum mc_proto proto,
                                       const char *file)
{
    for (unsigned r = 0; r < MC_RULE_COUNT; r++) {
        const struct mc_rule_info *ri = mc_rule_info((enum mc_rule)r);
        bool found = false;
        if (ri->proto != proto)
            continue;
        for (size_t i = 0; i < n && !found; i++)
            found = t[i].rule == (enum mc_rule)r;
        if (!found) {
            print_error("rule %s has no trigger in %s\n", ri->id, file);
            fail();
        }
    }
}

/* ---- the golden transcripts, split ------------------------------------------ */

/* A transcript read into a step table (single-session files only). */
struct loaded {
    struct step *st;
    size_t n, cap;
    bool multi;
};

static inline void loaded_add(struct loaded *ld, struct step s)
{
    if (ld->n + 2 > ld->cap) {
        ld->cap = ld->cap ? ld->cap * 2 : 64;
        ld->st = realloc(ld->st, ld->cap * sizeof(ld->st[0]));
        assert_non_null(ld->st);
    }
    ld->st[ld->n++] = s;
    ld->st[ld->n].kind = K_END;
}

static inline void ld_directive(void *ctx, const char *key, const char *value, uint64_t line)
{
    struct loaded *ld = ctx;
    (void)line;
    if (strcmp(key, "session") == 0)
        ld->multi = true;
    if (strcmp(key, "protocol") == 0 && strcmp(value, "submission") == 0)
        loaded_add(ld, (struct step)SUBMISSION);
}

static inline void ld_data(void *ctx, enum mc_dir dir, const uint8_t *buf, size_t len,
                           uint64_t line)
{
    char *copy = malloc(len ? len : 1);
    (void)line;
    assert_non_null(copy);
    memcpy(copy, buf, len);
    loaded_add(ctx, (struct step){dir == MC_DIR_C2S ? K_C : K_S, copy, len, 0});
}

static inline void ld_tls(void *ctx, bool decrypted, uint64_t line)
{
    (void)line;
    loaded_add(ctx, (struct step){decrypted ? K_TLSD : K_TLS, NULL, 0, 0});
}

static inline void ld_gap(void *ctx, enum mc_dir dir, uint64_t n, uint64_t line)
{
    (void)line;
    loaded_add(ctx, (struct step){dir == MC_DIR_C2S ? K_GAPC : K_GAPS, NULL, 0, n});
}

static inline void ld_close(void *ctx, enum mc_dir dir, uint64_t line)
{
    (void)line;
    loaded_add(ctx, (struct step){dir == MC_DIR_C2S ? K_CLOSEC : K_CLOSES, NULL, 0, 0});
}

static inline void ld_error(void *ctx, uint64_t line, uint64_t col, const char *msg)
{
    (void)ctx;
    print_error("transcript error at %llu:%llu: %s\n", (unsigned long long)line,
                (unsigned long long)col, msg);
    fail();
}

/* Every single-session transcript of tests/data/<subdir> (found from the
 * test's own path, self = __FILE__) passes check_split_invariance(); at
 * least min of them. */
static inline void check_golden_split_invariance(const char *self, const char *subdir,
                                                 enum mc_proto proto, unsigned min)
{
    char dir[4096], path[4096 + 256];
    const char *cut = strstr(self, "tests/validator/");
    DIR *d;
    struct dirent *de;
    unsigned checked = 0;
    assert_non_null(cut);
    snprintf(dir, sizeof(dir), "%.*stests/data/%s", (int)(cut - self), self, subdir);
    d = opendir(dir);
    if (!d) {
        print_error("cannot open %s\n", dir);
        fail();
    }
    while ((de = readdir(d)) != NULL) {
        size_t nl = strlen(de->d_name);
        struct loaded ld = {0};
        struct mc_transcript_handler h = {&ld, ld_directive, ld_data, ld_tls, ld_gap, ld_close,
                                          ld_error, NULL};
        FILE *f;
        if (nl < 5 || strcmp(de->d_name + nl - 4, ".mct") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        f = fopen(path, "rb");
        assert_non_null(f);
        assert_int_equal(mc_transcript_read(f, &h), 0);
        fclose(f);
        if (!ld.multi && ld.n > 0) {
            check_split_invariance(de->d_name, ld.st, proto, false);
            checked++;
        }
        for (size_t i = 0; i < ld.n; i++)
            free((void *)ld.st[i].buf);
        free(ld.st);
    }
    closedir(d);
    assert_true(checked >= min);
}

#endif
