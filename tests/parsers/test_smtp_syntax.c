/*
 * smtp_syntax: the stateless SMTP grammar helpers (RFC 5321 s4.1.2-s4.1.3,
 * RFC 6531 s3.3, RFC 3461 s4). Every case states the verdict and, for an
 * invalid input, the index of the first offending octet; each input is
 * copied onto a guard page so a read past its end faults.
 */
#include "test_harness.h"

#include "smtp/smtp_syntax.h"

#define ANY ((size_t)-1)

/* ---- domains, address literals, hosts, strings: one table ---- */

enum skind { DOMAIN, DOMAIN8, LITERAL, HOST, HOST8, STRING };

struct scase {
    enum skind kind;
    const char *in;
    size_t len;
    bool ok;
    size_t bad;   /* first offending octet when !ok; ANY: not checked */
};

static const struct scase simple[] = {
    /* Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str] */
    {DOMAIN, TH_IN("foo.com"), true},
    {DOMAIN, TH_IN("a"), true},
    {DOMAIN, TH_IN("1"), true},
    {DOMAIN, TH_IN("XYZ.COM"), true},
    {DOMAIN, TH_IN("a-b.c-d.e"), true},
    {DOMAIN, TH_IN("a--b"), true},
    {DOMAIN, TH_IN("123.example"), true},
    {DOMAIN, TH_IN("ymir.claremont.edu"), true},
    {DOMAIN, TH_IN(""), false, 0},
    {DOMAIN, TH_IN("."), false, 0},
    {DOMAIN, TH_IN(".foo"), false, 0},
    {DOMAIN, TH_IN("foo."), false, 3},
    {DOMAIN, TH_IN("foo..com"), false, 4},
    {DOMAIN, TH_IN("-foo"), false, 0},
    {DOMAIN, TH_IN("foo-"), false, 3},
    {DOMAIN, TH_IN("foo-.com"), false, 3},
    {DOMAIN, TH_IN("foo.-com"), false, 4},
    {DOMAIN, TH_IN("foo_bar.com"), false, 3},
    {DOMAIN, TH_IN("foo com"), false, 3},
    {DOMAIN, TH_IN("foo.com>"), false, 7},
    {DOMAIN, TH_IN("[1.2.3.4]"), false, 0},
    {DOMAIN, TH_IN("b\xc3\xbc" "cher.de"), false, 1},
    {DOMAIN, TH_IN("\xc3\xbc"), false, 0},
    {DOMAIN, TH_IN("a\0b"), false, 1},
    /* RFC 6531 s3.3: U-labels when utf8 is allowed */
    {DOMAIN8, TH_IN("b\xc3\xbc" "cher.de"), true},
    {DOMAIN8, TH_IN("\xc3\xbc"), true},
    {DOMAIN8, TH_IN("\xe4\xbe\x8b\xe5\xad\x90.\xe6\xb5\x8b\xe8\xaf\x95"), true},
    {DOMAIN8, TH_IN("\xc3\xbc-"), false, 2},
    {DOMAIN8, TH_IN("a_\xc3\xbc"), false, 1},
    {DOMAIN8, TH_IN("foo."), false, 3},

    /* address-literal = "[" ( IPv4 / "IPv6:" IPv6 / tag ":" 1*dcontent ) "]" */
    {LITERAL, TH_IN("[192.0.2.1]"), true},
    {LITERAL, TH_IN("[0.0.0.0]"), true},
    {LITERAL, TH_IN("[255.255.255.255]"), true},
    {LITERAL, TH_IN("[010.001.000.1]"), true},
    {LITERAL, TH_IN("[256.0.0.1]"), false, 4},
    {LITERAL, TH_IN("[1.2.3]"), false, 6},
    {LITERAL, TH_IN("[1.2.3.4.5]"), false, 8},
    {LITERAL, TH_IN("[1.2.3.]"), false, 7},
    {LITERAL, TH_IN("[1..2.3]"), false, 3},
    {LITERAL, TH_IN("[1234.1.1.1]"), false, 5},
    {LITERAL, TH_IN("[1.2.3.4"), false, 8},
    {LITERAL, TH_IN("1.2.3.4]"), false, 0},
    {LITERAL, TH_IN("[]"), false, 2},
    {LITERAL, TH_IN(""), false, 0},
    {LITERAL, TH_IN("["), false, 1},
    {LITERAL, TH_IN("[1.2.3.4 ]"), false, 8},
    {LITERAL, TH_IN("[IPv6:2001:db8::1]"), true},
    {LITERAL, TH_IN("[ipv6:2001:DB8::1]"), true},
    {LITERAL, TH_IN("[IPv6:::1]"), true},
    {LITERAL, TH_IN("[IPv6:::]"), true},
    {LITERAL, TH_IN("[IPv6:1:2:3:4:5:6:7:8]"), true},
    {LITERAL, TH_IN("[IPv6:::ffff:192.0.2.1]"), true},
    {LITERAL, TH_IN("[IPv6:1:2:3:4:5:6:192.0.2.1]"), true},
    /* RFC 5321 s4.1.3: "::" stands for two or more groups */
    {LITERAL, TH_IN("[IPv6:1:2:3:4:5:6::]"), true},
    {LITERAL, TH_IN("[IPv6:1::2:3:4:5:6]"), true},
    {LITERAL, TH_IN("[IPv6:1:2:3:4:5:6:7::]"), false, 6},
    {LITERAL, TH_IN("[IPv6:1::2:3:4:5:6:7]"), false, 6},
    {LITERAL, TH_IN("[IPv6:::2:3:4:5:6:7:8]"), false, 6},
    {LITERAL, TH_IN("[IPv6:1:2:3:4::192.0.2.1]"), true},
    {LITERAL, TH_IN("[IPv6:1:2:3:4:5::192.0.2.1]"), false, 6},
    {LITERAL, TH_IN("[IPv6:1:2:3:4:5:6:7:8:9]"), false, 6},
    {LITERAL, TH_IN("[IPv6:2001:db8:::1]"), false, 6},
    {LITERAL, TH_IN("[IPv6:12345::]"), false, 6},
    {LITERAL, TH_IN("[IPv6:g::1]"), false, 6},
    {LITERAL, TH_IN("[IPv6:]"), false, 6},
    {LITERAL, TH_IN("[IPv6:192.0.2.1]"), false, 6},
    {LITERAL, TH_IN("[IPv6:1::\0]"), false, 6},
    {LITERAL, TH_IN("[IPv6:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000]"),
     false, 6},
    /* General-address-literal = Standardized-tag ":" 1*dcontent */
    {LITERAL, TH_IN("[x-tag:abc]"), true},
    {LITERAL, TH_IN("[X400:C=us;A=;P=x]"), true},
    {LITERAL, TH_IN("[tag:!~]"), true},
    {LITERAL, TH_IN("[tag:]"), false, 4},
    {LITERAL, TH_IN("[tag]"), false, 4},
    {LITERAL, TH_IN("[:abc]"), false, 1},
    {LITERAL, TH_IN("[tag-:abc]"), false, 5},
    {LITERAL, TH_IN("[tag:a b]"), false, 6},
    {LITERAL, TH_IN("[tag:a[b]"), false, 6},
    {LITERAL, TH_IN("[tag:a\\b]"), false, 6},
    {LITERAL, TH_IN("[ta_g:ab]"), false, 3},
    {LITERAL, TH_IN("[tag:a\x80]"), false, 6},

    /* Domain or address literal; utf8 only matters for domains */
    {HOST, TH_IN("bar.com"), true},
    {HOST, TH_IN("[192.0.2.1]"), true},
    {HOST, TH_IN("[IPv6:::1]"), true},
    {HOST, TH_IN("[192.0.2.300]"), false, 12},
    {HOST, TH_IN("bar.com."), false, 7},
    {HOST, TH_IN(""), false, 0},
    {HOST, TH_IN("b\xc3\xbc.de"), false, 1},
    {HOST8, TH_IN("b\xc3\xbc.de"), true},
    {HOST8, TH_IN("[b\xc3\xbc]"), false, 2},

    /* String = Atom / Quoted-string */
    {STRING, TH_IN("Crispin"), true},
    {STRING, TH_IN("Admin.MRC"), false, 5},
    {STRING, TH_IN("a!#$%&'*+-/=?^_`{|}~z"), true},
    {STRING, TH_IN("\"Mark Crispin\""), true},
    {STRING, TH_IN("\"a\\\"b\""), true},
    {STRING, TH_IN("\"\""), true},
    {STRING, TH_IN(""), false, 0},
    {STRING, TH_IN("Mark Crispin"), false, 4},
    {STRING, TH_IN("\"unterminated"), false, 13},
    {STRING, TH_IN("\"a\"b"), false, 3},
    {STRING, TH_IN("\"a\\"), false, 3},
    {STRING, TH_IN("\"a\tb\""), false, 2},
    {STRING, TH_IN("\"a\\\x01\""), false, 3},
    {STRING, TH_IN("a(b)"), false, 1},
    {STRING, TH_IN("J\xc3\xb6rg"), true},
};

static const char *const kind_name[] = {"domain", "domain8", "literal", "host", "host8", "string"};

static void test_simple(void **state)
{
    struct th_guard g;
    int bad = 0;
    (void)state;
    th_guard_init(&g, 4096);
    for (size_t i = 0; i < TH_COUNT(simple); i++) {
        const struct scase *tc = &simple[i];
        const uint8_t *s = th_guard_put(&g, tc->in, tc->len);
        size_t at = 12345;
        bool ok = false;
        switch (tc->kind) {
        case DOMAIN:  ok = mc_smtp_domain_valid(s, tc->len, false, &at); break;
        case DOMAIN8: ok = mc_smtp_domain_valid(s, tc->len, true, &at); break;
        case LITERAL: ok = mc_smtp_addr_literal_valid(s, tc->len, &at); break;
        case HOST:    ok = mc_smtp_host_valid(s, tc->len, false, &at); break;
        case HOST8:   ok = mc_smtp_host_valid(s, tc->len, true, &at); break;
        case STRING:  ok = mc_smtp_string_valid(s, tc->len, &at); break;
        }
        if (ok != tc->ok || (!ok && tc->bad != ANY && at != tc->bad)) {
            char esc[128];
            mc_escape(esc, sizeof(esc), (const uint8_t *)tc->in, tc->len);
            print_error("%s '%s': want %s bad=%zu, got %s bad=%zu\n", kind_name[tc->kind], esc,
                        tc->ok ? "valid" : "invalid", tc->bad, ok ? "valid" : "invalid", at);
            bad++;
        }
    }
    th_guard_free(&g);
    assert_int_equal(bad, 0);
}

/* ---- paths ---- */

/* flags */
#define NUL_ (1u << 0)
#define SR (1u << 1)
#define E8 (1u << 2)
#define PM (1u << 3)

struct pcase {
    const char *in;
    size_t len;
    enum mc_anom anom;
    size_t bad;           /* with an anomaly: first offending octet */
    unsigned flags;
    const char *local;    /* expected local-part and domain (NULL: empty) */
    const char *domain;
    size_t plen;          /* out->len; 0: strlen(in) when valid */
};

#define L64 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd"
#define D63 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc"
#define A62 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijab"
/* 4 labels of 63 + "." * 3 = 255 octets */
#define D255 D63 "." D63 "." D63 "." D63
#define P(s) TH_IN(s)

static const struct pcase paths[] = {
    /* RFC 5321 Appendix D */
    {P("<Smith@bar.com>"), .local = "Smith", .domain = "bar.com"},
    {P("<Jones@XYZ.COM>"), .local = "Jones", .domain = "XYZ.COM"},
    {P("<Admin.MRC@foo.com>"), .local = "Admin.MRC", .domain = "foo.com"},
    /* null path and Postmaster */
    {P("<>"), .flags = NUL_, .plen = 2},
    {P("<> SIZE=10"), .flags = NUL_, .plen = 2},
    {P("<Postmaster>"), .flags = PM, .local = "Postmaster"},
    {P("<postMASTER>"), .flags = PM, .local = "postMASTER"},
    {P("<Postmaster@foo.com>"), .local = "Postmaster", .domain = "foo.com"},
    {P("<Postmaste>"), MC_ANOM_SMTP_PATH_SYNTAX, 10},
    {P("<@a:Postmaster>"), MC_ANOM_SMTP_PATH_SYNTAX, 14},
    /* what follows the '>' is the caller's */
    {P("<a@b> SIZE=1"), .local = "a", .domain = "b", .plen = 5},
    {P("<a@b>>"), .local = "a", .domain = "b", .plen = 5},
    /* source routes (RFC 5321 s4.1.2, Appendix C) */
    {P("<@a,@b:user@c>"), .flags = SR, .local = "user", .domain = "c"},
    {P("<@hosta.int,@jkl.org:userc@d.bar.org>"), .flags = SR, .local = "userc",
     .domain = "d.bar.org"},
    {P("<@a:u@c>"), .flags = SR, .local = "u", .domain = "c"},
    {P("<@a,b:u@c>"), MC_ANOM_SMTP_PATH_SYNTAX, 3},
    {P("<@a u@c>"), MC_ANOM_SMTP_PATH_SYNTAX, 3},
    {P("<@:u@c>"), MC_ANOM_SMTP_PATH_SYNTAX, 2},
    {P("<@a,@:u@c>"), MC_ANOM_SMTP_PATH_SYNTAX, 5},
    {P("<@a>"), MC_ANOM_SMTP_PATH_SYNTAX, 3},
    {P("<@a"), MC_ANOM_SMTP_PATH_SYNTAX, 3},
    /* quoted local parts */
    {P("<\"john doe\"@example.com>"), .local = "\"john doe\"", .domain = "example.com"},
    {P("<\"a\\\"b\"@x>"), .local = "\"a\\\"b\"", .domain = "x"},
    {P("<\"\"@x>"), .local = "\"\"", .domain = "x"},
    {P("<\"a\tb\"@x>"), MC_ANOM_SMTP_PATH_SYNTAX, 3},
    {P("<\"ab@x>"), MC_ANOM_SMTP_PATH_SYNTAX, 7},
    {P("<\"a\"b@x>"), MC_ANOM_SMTP_PATH_SYNTAX, 4},
    /* dot-strings */
    {P("<a.b.c@x>"), .local = "a.b.c", .domain = "x"},
    {P("<a+tag@x>"), .local = "a+tag", .domain = "x"},
    {P("<.a@x>"), MC_ANOM_SMTP_PATH_SYNTAX, 1},
    {P("<a.@x>"), MC_ANOM_SMTP_PATH_SYNTAX, 3},
    {P("<a..b@x>"), MC_ANOM_SMTP_PATH_SYNTAX, 3},
    {P("<a b@x>"), MC_ANOM_SMTP_PATH_SYNTAX, 2},
    {P("<a(b)@x>"), MC_ANOM_SMTP_PATH_SYNTAX, 2},
    {P("<@x>"), MC_ANOM_SMTP_PATH_SYNTAX, 3},
    /* domains and literals */
    {P("<a@[192.0.2.1]>"), .local = "a", .domain = "[192.0.2.1]"},
    {P("<a@[IPv6:2001:db8::1]>"), .local = "a", .domain = "[IPv6:2001:db8::1]"},
    {P("<a@[1.2.3.256]>"), MC_ANOM_SMTP_PATH_SYNTAX, 13},
    {P("<a@[1.2.3.4>"), MC_ANOM_SMTP_PATH_SYNTAX, 12},
    {P("<a@[1.2.3.4]x>"), MC_ANOM_SMTP_PATH_SYNTAX, 12},
    {P("<a@>"), MC_ANOM_SMTP_PATH_SYNTAX, 3},
    {P("<a@b..c>"), MC_ANOM_SMTP_PATH_SYNTAX, 5},
    {P("<a@-b>"), MC_ANOM_SMTP_PATH_SYNTAX, 3},
    {P("<a@b c>"), MC_ANOM_SMTP_PATH_SYNTAX, 4},
    {P("<a@b"), MC_ANOM_SMTP_PATH_SYNTAX, 4},
    {P("<a@b.>"), MC_ANOM_SMTP_PATH_SYNTAX, 4},
    {P("<a>"), MC_ANOM_SMTP_PATH_SYNTAX, 2},
    {P("<a"), MC_ANOM_SMTP_PATH_SYNTAX, 2},
    {P("<"), MC_ANOM_SMTP_PATH_SYNTAX, 1},
    {P(""), MC_ANOM_SMTP_PATH_SYNTAX, 0},
    {P("a@b"), MC_ANOM_SMTP_PATH_SYNTAX, 0},
    {P(" <a@b>"), MC_ANOM_SMTP_PATH_SYNTAX, 0},
    {P("<a@b\0>"), MC_ANOM_SMTP_PATH_SYNTAX, 4},
    /* RFC 6531: UTF-8 accepted and flagged */
    {P("<J\xc3\xb6rg@example.com>"), .flags = E8, .local = "J\xc3\xb6rg",
     .domain = "example.com"},
    {P("<a@b\xc3\xbc" "cher.de>"), .flags = E8, .local = "a", .domain = "b\xc3\xbc" "cher.de"},
    {P("<\"\xc3\xb6\"@x>"), .flags = E8, .local = "\"\xc3\xb6\"", .domain = "x"},
    {P("<@\xc3\xbc:a@b>"), .flags = E8 | SR, .local = "a", .domain = "b"},
    /* RFC 5321 s4.5.3.1: 64 / 255 / 256 */
    {P("<" L64 "@x>"), .local = L64, .domain = "x"},
    {P("<" L64 "a@x>"), MC_ANOM_SMTP_LOCAL_TOO_LONG, 65, .local = L64 "a", .domain = "x"},
    {P("<a@" D255 ">"), MC_ANOM_SMTP_PATH_TOO_LONG, 256, .local = "a", .domain = D255},
    {P("<@" D255 ":a@b>"), MC_ANOM_SMTP_PATH_TOO_LONG, 256, .flags = SR, .local = "a",
     .domain = "b"},
    /* 1 + 63 + 1 + 190 + 1 = 256 octets, then 257 */
    {P("<" D63 "@" D63 "." D63 "." A62 ">"), .local = D63, .domain = D63 "." D63 "." A62},
    {P("<" D63 "@" D63 "." D63 "." D63 ">"), MC_ANOM_SMTP_PATH_TOO_LONG, 256, .local = D63,
     .domain = D63 "." D63 "." D63},
    {P("<a@" D255 "a>"), MC_ANOM_SMTP_DOMAIN_TOO_LONG, 258, .local = "a", .domain = D255 "a"},
    {P("<" L64 "a@" D255 "a>"), MC_ANOM_SMTP_LOCAL_TOO_LONG, 65, .local = L64 "a",
     .domain = D255 "a"},
};

static void test_paths(void **state)
{
    struct th_guard g;
    int bad = 0;
    (void)state;
    th_guard_init(&g, 4096);
    for (size_t i = 0; i < TH_COUNT(paths); i++) {
        const struct pcase *tc = &paths[i];
        const uint8_t *s = th_guard_put(&g, tc->in, tc->len);
        struct mc_smtp_path out;
        size_t at = 12345;
        enum mc_anom a;
        bool good;
        char esc[96];
        memset(&out, 0xa5, sizeof(out));
        a = mc_smtp_parse_path(s, tc->len, &out, &at);
        good = a == tc->anom && (a == MC_ANOM_NONE || at == tc->bad);
        /* with a grammar error nothing else is promised */
        if (good && a != MC_ANOM_SMTP_PATH_SYNTAX) {
            size_t plen = tc->plen ? tc->plen : tc->len;
            size_t ll = tc->local ? strlen(tc->local) : 0, dl = tc->domain ? strlen(tc->domain) : 0;
            good = out.null_path == !!(tc->flags & NUL_) &&
                   out.source_route == !!(tc->flags & SR) &&
                   out.eight_bit == !!(tc->flags & E8) && out.postmaster == !!(tc->flags & PM) &&
                   out.len == plen && out.local_len == ll && out.domain_len == dl &&
                   (ll == 0 || memcmp(s + out.local_at, tc->local, ll) == 0) &&
                   (dl == 0 || memcmp(s + out.domain_at, tc->domain, dl) == 0);
        }
        if (!good) {
            mc_escape(esc, sizeof(esc), (const uint8_t *)tc->in, tc->len);
            print_error("path '%s': want %s bad=%zu, got %s bad=%zu null=%d sr=%d 8bit=%d pm=%d"
                        " len=%zu local=%zu+%zu domain=%zu+%zu\n",
                        esc, mc_anom_name(tc->anom), tc->bad, mc_anom_name(a), at,
                        out.null_path, out.source_route, out.eight_bit, out.postmaster, out.len,
                        out.local_at, out.local_len, out.domain_at, out.domain_len);
            bad++;
        }
    }
    th_guard_free(&g);
    assert_int_equal(bad, 0);
}

/* The limits are exact: every local-part length from 60 to 70 and every
 * domain length around 255 and path length around 256. */
static void test_path_limits(void **state)
{
    static uint8_t in[600];
    struct th_guard g;
    (void)state;
    th_guard_init(&g, sizeof(in));
    for (size_t ll = 60; ll <= 70; ll++) {
        struct mc_smtp_path out;
        size_t at = 0, n = th_build(in, sizeof(in), "<", 'l', ll, "@x>");
        enum mc_anom a = mc_smtp_parse_path(th_guard_put(&g, in, n), n, &out, &at);
        assert_int_equal(a, ll <= 64 ? MC_ANOM_NONE : MC_ANOM_SMTP_LOCAL_TOO_LONG);
        if (ll > 64)
            assert_int_equal(at, 1 + 64);
        assert_int_equal(out.local_len, ll);
        assert_int_equal(out.len, n);
    }
    /* "<a@" + domain + ">": the path is the domain + 4 octets. Domains of
     * one-letter labels, the first one two letters long for even lengths. */
    for (size_t dl = 250; dl <= 258; dl++) {
        struct mc_smtp_path out;
        size_t at = 0, n = 0;
        enum mc_anom a, want;
        memcpy(in, "<a@", 3);
        n = 3;
        in[n++] = 'x';
        if (dl % 2 == 0)
            in[n++] = 'y';
        while (n - 3 < dl) {
            in[n++] = '.';
            in[n++] = 'z';
        }
        in[n++] = '>';
        assert_int_equal(n, dl + 4);
        a = mc_smtp_parse_path(th_guard_put(&g, in, n), n, &out, &at);
        want = dl > 255 ? MC_ANOM_SMTP_DOMAIN_TOO_LONG
               : n > 256 ? MC_ANOM_SMTP_PATH_TOO_LONG : MC_ANOM_NONE;
        assert_int_equal(a, want);
        if (want == MC_ANOM_SMTP_DOMAIN_TOO_LONG)
            assert_int_equal(at, 3 + 255);
        if (want == MC_ANOM_SMTP_PATH_TOO_LONG)
            assert_int_equal(at, 256);
        assert_int_equal(out.domain_len, dl);
        assert_int_equal(out.len, n);
    }
    th_guard_free(&g);
}

/* ---- esmtp-keyword and xtext ---- */

struct kcase {
    const char *in;
    size_t len;
    bool ok;
    size_t bad;   /* xtext only */
};

static const struct kcase keywords[] = {
    {TH_IN("SIZE"), true},
    {TH_IN("8BITMIME"), true},
    {TH_IN("X-FOO"), true},
    {TH_IN("x"), true},
    {TH_IN("9"), true},
    {TH_IN("A-"), true},
    {TH_IN(""), false},
    {TH_IN("-X"), false},
    {TH_IN("AUTH=LOGIN"), false},
    {TH_IN("X_Y"), false},
    {TH_IN("X Y"), false},
    {TH_IN("\xc3\xbc"), false},
};

static const struct kcase xtexts[] = {
    {TH_IN(""), true},
    {TH_IN("QQ314159"), true},
    {TH_IN("rfc822;Jones@foo.com"), true},
    {TH_IN("a+2Bb"), true},
    {TH_IN("+2B"), true},
    {TH_IN("+3D+2B"), true},
    {TH_IN("<>"), true},
    {TH_IN("!~"), true},
    {TH_IN("a=b"), false, 1},
    {TH_IN("a b"), false, 1},
    {TH_IN("+2b"), false, 0},
    {TH_IN("x+2"), false, 1},
    {TH_IN("x+"), false, 1},
    {TH_IN("x+G0"), false, 1},
    {TH_IN("\x7f"), false, 0},
    {TH_IN("a\xc3\xbc"), false, 1},
    {TH_IN("ab\0"), false, 2},
};

static void test_keyword_xtext(void **state)
{
    struct th_guard g;
    int bad = 0;
    (void)state;
    th_guard_init(&g, 256);
    for (size_t i = 0; i < TH_COUNT(keywords); i++) {
        const struct kcase *tc = &keywords[i];
        if (mc_smtp_keyword_valid(th_guard_put(&g, tc->in, tc->len), tc->len) != tc->ok) {
            print_error("keyword '%s': want %s\n", tc->in, tc->ok ? "valid" : "invalid");
            bad++;
        }
    }
    for (size_t i = 0; i < TH_COUNT(xtexts); i++) {
        const struct kcase *tc = &xtexts[i];
        size_t at = 12345;
        bool ok = mc_smtp_xtext_valid(th_guard_put(&g, tc->in, tc->len), tc->len, &at);
        if (ok != tc->ok || (!ok && at != tc->bad)) {
            print_error("xtext '%s': want %s bad=%zu, got %s bad=%zu\n", tc->in,
                        tc->ok ? "valid" : "invalid", tc->bad, ok ? "valid" : "invalid", at);
            bad++;
        }
    }
    th_guard_free(&g);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_path_limits),
        cmocka_unit_test(test_keyword_xtext),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
