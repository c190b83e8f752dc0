/*
 * Report writers (validator/report): JSON and JSON Lines parse as strict
 * JSON with the field names DESIGN.md fixes, strings are escaped, text
 * output has its grep-friendly first line, exit codes follow fail_on.
 *
 * A small strict JSON parser (RFC 8259 grammar, UTF-8 checked) lives in this
 * file; it builds a tree so tests can look fields up by name.
 */
#define _GNU_SOURCE /* open_memstream */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/report.h"
#include "rules/policy.h"
#include "session/session.h"

/* ---- a minimal JSON parser -------------------------------------------- */

enum jt { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
    enum jt t;
    char *s;          /* J_STR: decoded (may hold NUL: use slen); J_NUM: raw text */
    size_t slen;
    bool b;
    struct jv **kids; /* J_ARR, J_OBJ */
    char **keys;      /* J_OBJ */
    size_t n;
};

struct jp {
    const char *p, *end;
    const char *err;
};

static void jv_free(struct jv *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        jv_free(v->kids[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->kids);
    free(v->keys);
    free(v->s);
    free(v);
}

static void ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return -1;
    }
    return v;
}

/* Length of one valid UTF-8 sequence at p (RFC 3629), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    size_t n;
    unsigned cp;
    if (p[0] < 0x80) return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) { n = 2; cp = p[0] & 0x1f; }
    else if (p[0] >= 0xe0 && p[0] <= 0xef) { n = 3; cp = p[0] & 0x0f; }
    else if (p[0] >= 0xf0 && p[0] <= 0xf4) { n = 4; cp = p[0] & 0x07; }
    else return 0;
    if ((size_t)(end - p) < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

static char *jstring(struct jp *j, size_t *len_out)
{
    size_t cap = 16, n = 0;
    char *o = malloc(cap);
    assert_non_null(o);
    j->p++; /* '"' */
    for (;;) {
        unsigned char c;
        if (n + 8 > cap) {
            cap *= 2;
            o = realloc(o, cap);
            assert_non_null(o);
        }
        if (j->p >= j->end) { j->err = "unterminated string"; break; }
        c = (unsigned char)*j->p;
        if (c == '"') { j->p++; o[n] = '\0'; *len_out = n; return o; }
        if (c < 0x20) { j->err = "raw control character in string"; break; }
        if (c == '\\') {
            if (j->p + 1 >= j->end) { j->err = "cut escape"; break; }
            char e = j->p[1];
            j->p += 2;
            switch (e) {
            case '"': o[n++] = '"'; break;
            case '\\': o[n++] = '\\'; break;
            case '/': o[n++] = '/'; break;
            case 'b': o[n++] = '\b'; break;
            case 'f': o[n++] = '\f'; break;
            case 'n': o[n++] = '\n'; break;
            case 'r': o[n++] = '\r'; break;
            case 't': o[n++] = '\t'; break;
            case 'u': {
                int v = j->end - j->p >= 4 ? hex4(j->p) : -1;
                if (v < 0) { j->err = "bad \\u escape"; goto fail; }
                j->p += 4;
                if (v >= 0xd800 && v <= 0xdfff) { j->err = "surrogate escape (not expected here)"; goto fail; }
                if (v < 0x80) o[n++] = (char)v;
                else if (v < 0x800) { o[n++] = (char)(0xc0 | (v >> 6)); o[n++] = (char)(0x80 | (v & 0x3f)); }
                else { o[n++] = (char)(0xe0 | (v >> 12)); o[n++] = (char)(0x80 | ((v >> 6) & 0x3f)); o[n++] = (char)(0x80 | (v & 0x3f)); }
                break;
            }
            default: j->err = "unknown escape"; goto fail;
            }
            continue;
        }
        {
            size_t k = utf8_len((const unsigned char *)j->p, (const unsigned char *)j->end);
            if (k == 0) { j->err = "invalid UTF-8 in string"; break; }
            memcpy(o + n, j->p, k);
            n += k;
            j->p += k;
        }
    }
fail:
    free(o);
    return NULL;
}

static struct jv *jvalue(struct jp *j, int depth);

static struct jv *jnew(enum jt t)
{
    struct jv *v = calloc(1, sizeof(*v));
    assert_non_null(v);
    v->t = t;
    return v;
}

static void jpush(struct jv *v, char *key, struct jv *kid)
{
    v->kids = realloc(v->kids, (v->n + 1) * sizeof(*v->kids));
    assert_non_null(v->kids);
    if (v->t == J_OBJ) {
        v->keys = realloc(v->keys, (v->n + 1) * sizeof(*v->keys));
        assert_non_null(v->keys);
        v->keys[v->n] = key;
    }
    v->kids[v->n++] = kid;
}

static struct jv *jcontainer(struct jp *j, int depth, bool obj)
{
    struct jv *v = jnew(obj ? J_OBJ : J_ARR);
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
        j->p++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        struct jv *kid;
        ws(j);
        if (obj) {
            size_t kl;
            if (j->p >= j->end || *j->p != '"') { j->err = "expected key"; break; }
            key = jstring(j, &kl);
            if (!key) break;
            ws(j);
            if (j->p >= j->end || *j->p != ':') { j->err = "expected ':'"; free(key); break; }
            j->p++;
        }
        kid = jvalue(j, depth + 1);
        if (!kid) { free(key); break; }
        jpush(v, key, kid);
        ws(j);
        if (j->p < j->end && *j->p == ',') { j->p++; continue; }
        if (j->p < j->end && *j->p == (obj ? '}' : ']')) { j->p++; return v; }
        j->err = "expected ',' or end of container";
        break;
    }
    jv_free(v);
    return NULL;
}

static struct jv *jvalue(struct jp *j, int depth)
{
    ws(j);
    if (depth > 32) { j->err = "too deep"; return NULL; }
    if (j->p >= j->end) { j->err = "unexpected end"; return NULL; }
    switch (*j->p) {
    case '{': return jcontainer(j, depth, true);
    case '[': return jcontainer(j, depth, false);
    case '"': {
        struct jv *v = jnew(J_STR);
        v->s = jstring(j, &v->slen);
        if (!v->s) { jv_free(v); return NULL; }
        return v;
    }
    case 'n':
        if (j->end - j->p >= 4 && memcmp(j->p, "null", 4) == 0) { j->p += 4; return jnew(J_NULL); }
        break;
    case 't':
        if (j->end - j->p >= 4 && memcmp(j->p, "true", 4) == 0) { struct jv *v = jnew(J_BOOL); v->b = true; j->p += 4; return v; }
        break;
    case 'f':
        if (j->end - j->p >= 5 && memcmp(j->p, "false", 5) == 0) { j->p += 5; return jnew(J_BOOL); }
        break;
    default: {
        /* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
        const char *s = j->p;
        if (j->p < j->end && *j->p == '-') j->p++;
        if (j->p < j->end && *j->p == '0') j->p++;
        else if (j->p < j->end && *j->p >= '1' && *j->p <= '9')
            while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
        else break;
        if (j->p < j->end && *j->p == '.') {
            j->p++;
            if (j->p >= j->end || *j->p < '0' || *j->p > '9') break;
            while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
        }
        if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
            j->p++;
            if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
            if (j->p >= j->end || *j->p < '0' || *j->p > '9') break;
            while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
        }
        struct jv *v = jnew(J_NUM);
        v->slen = (size_t)(j->p - s);
        v->s = strndup(s, v->slen);
        assert_non_null(v->s);
        return v;
    }
    }
    j->err = "unexpected character";
    return NULL;
}

/* Parses exactly one JSON text of len bytes; fails the test otherwise. */
static struct jv *json_parse(const char *buf, size_t len)
{
    struct jp j = {buf, buf + len, NULL};
    struct jv *v = jvalue(&j, 0);
    if (v) {
        ws(&j);
        if (j.p != j.end) {
            j.err = "trailing data";
            jv_free(v);
            v = NULL;
        }
    }
    if (!v) {
        print_error("invalid JSON (%s) at byte %td of:\n%.*s\n", j.err ? j.err : "?", j.p - buf, (int)len, buf);
        fail();
    }
    return v;
}

static const struct jv *jget(const struct jv *o, const char *key)
{
    assert_int_equal(o->t, J_OBJ);
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->keys[i], key) == 0)
            return o->kids[i];
    print_error("no field '%s'\n", key);
    fail();
    return NULL;
}

static bool jhas(const struct jv *o, const char *key)
{
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->keys[i], key) == 0)
            return true;
    return false;
}

static void assert_jstr(const struct jv *o, const char *key, const char *want)
{
    const struct jv *v = jget(o, key);
    assert_int_equal(v->t, J_STR);
    assert_int_equal(v->slen, strlen(want));
    assert_string_equal(v->s, want);
}

static void assert_jnum(const struct jv *o, const char *key, const char *want)
{
    const struct jv *v = jget(o, key);
    assert_int_equal(v->t, J_NUM);
    assert_string_equal(v->s, want);
}

static void test_json_parser_self_check(void **state)
{
    (void)state;
    /* the parser must reject what a broken writer would produce */
    static const char *const bad[] = {
        "{\"a\":\"x\ny\"}", "{\"a\":\"\\x41\"}", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":01}",
        "{\"a\":\"\xff\"}", "{a:1}", "[1 2]", "{\"a\":\"b\"", "\"\\u12\"",
    };
    static const char *const good[] = {
        "{}", "[]", "{\"a\":[1,-2.5e3,null,true,false,\"\\u0001\\\"\\\\\"]}", " {\"k\" : \"\xc3\xa9\"} ",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        jv_free(json_parse(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct jp j = {bad[i], bad[i] + strlen(bad[i]), NULL};
        struct jv *v = jvalue(&j, 0);
        if (v) {
            ws(&j);
            assert_true(j.p != j.end);
            jv_free(v);
        }
    }
}

/* ---- helpers ----------------------------------------------------------- */

struct out {
    char *buf;
    size_t len;
    FILE *f;
};

static void out_open(struct out *o)
{
    o->buf = NULL;
    o->len = 0;
    o->f = open_memstream(&o->buf, &o->len);
    assert_non_null(o->f);
}

static void out_close(struct out *o)
{
    fclose(o->f);
    o->f = NULL;
}

static struct mc_finding make_finding(enum mc_rule r, const char *excerpt, const char *message)
{
    const struct mc_rule_info *ri = mc_rule_info(r);
    struct mc_finding f;
    memset(&f, 0, sizeof(f));
    f.rule = r;
    f.severity = ri->severity;
    f.side = ri->side;
    f.proto = ri->proto;
    f.dir = ri->side == MC_SIDE_CLIENT ? MC_DIR_C2S : MC_DIR_S2C;
    f.session = "mail.example:110";
    f.offset = 42;
    f.origin.line = 7;
    snprintf(f.excerpt, sizeof(f.excerpt), "%s", excerpt);
    snprintf(f.message, sizeof(f.message), "%s", message);
    return f;
}

/* ---- JSON Lines -------------------------------------------------------- */

static void test_jsonl_fields(void **state)
{
    (void)state;
    struct out o;
    struct mc_report r;
    struct mc_finding f = make_finding(MC_R_POP3_STATUS_CASE, "+ok hi", "servers send +OK");
    struct jv *v;

    out_open(&o);
    mc_report_init(&r, o.f, MC_FMT_JSONL, MC_SEV_ERROR);
    r.input = "capture.mct";
    mc_report_begin(&r);
    mc_report_finding(&r, &f);
    mc_report_end(&r);
    out_close(&o);

    /* one object, one line */
    assert_true(o.len > 2);
    assert_int_equal(o.buf[o.len - 1], '\n');
    assert_ptr_equal(memchr(o.buf, '\n', o.len), o.buf + o.len - 1);
    v = json_parse(o.buf, o.len - 1);
    assert_int_equal(v->t, J_OBJ);
    /* the stable field names of DESIGN.md */
    assert_jstr(v, "rule", "POP3.STATUS.CASE");
    assert_jstr(v, "severity", "error");
    assert_jstr(v, "side", "server");
    assert_jstr(v, "protocol", "pop3");
    assert_jnum(v, "rfc", "1939");
    assert_jstr(v, "section", "3");
    assert_jstr(v, "session", "mail.example:110");
    assert_int_equal(jget(v, "frame")->t, J_NULL);
    assert_jnum(v, "offset", "42");
    assert_jstr(v, "excerpt", "+ok hi");
    assert_jstr(v, "message", "servers send +OK");
    /* extra fields this writer adds */
    assert_jstr(v, "input", "capture.mct");
    assert_jnum(v, "line", "7");
    assert_jstr(v, "direction", "server");
    assert_jstr(v, "level", "MUST");
    jv_free(v);
    free(o.buf);
}

static void test_jsonl_values(void **state)
{
    (void)state;
    /* client side, a frame number, an applied severity that is not the
     * rule's default, a big offset, no input and no line */
    struct out o;
    struct mc_report r;
    struct mc_finding f = make_finding(MC_R_POP3_PIPELINING_UNADVERTISED, "", "m");
    struct jv *v;

    f.severity = MC_SEV_ERROR;
    f.origin.frame = 123456;
    f.origin.line = 0;
    f.offset = UINT64_MAX;
    out_open(&o);
    mc_report_init(&r, o.f, MC_FMT_JSONL, MC_SEV_ERROR);
    mc_report_finding(&r, &f);
    mc_report_finding(&r, &f);
    out_close(&o);

    /* two lines, each a JSON object */
    char *nl = memchr(o.buf, '\n', o.len);
    assert_non_null(nl);
    assert_int_equal(o.buf[o.len - 1], '\n');
    v = json_parse(o.buf, (size_t)(nl - o.buf));
    assert_jstr(v, "rule", "POP3.PIPELINING.UNADVERTISED");
    assert_jstr(v, "severity", "error");
    assert_jstr(v, "side", "client");
    assert_jstr(v, "direction", "client");
    assert_jnum(v, "rfc", "2449");
    assert_jstr(v, "section", "6.6");
    assert_jnum(v, "frame", "123456");
    assert_jnum(v, "offset", "18446744073709551615");
    assert_jstr(v, "excerpt", "");
    assert_false(jhas(v, "input"));
    assert_false(jhas(v, "line"));
    jv_free(v);
    v = json_parse(nl + 1, o.len - (size_t)(nl + 1 - o.buf) - 1);
    jv_free(v);
    assert_int_equal(r.by_sev[MC_SEV_ERROR], 2);
    assert_int_equal(r.by_rule[MC_R_POP3_PIPELINING_UNADVERTISED], 2);
    free(o.buf);
}

static void test_json_string_escapes(void **state)
{
    (void)state;
    /* quotes, backslashes, every control character, DEL; decoded back
     * byte for byte */
    char ctl[40];
    size_t n = 0;
    struct out o;
    struct mc_report r;
    struct jv *v;
    struct mc_finding f;

    for (int c = 1; c < 0x20; c++)
        ctl[n++] = (char)c;
    ctl[n++] = 0x7f;
    ctl[n] = '\0';
    f = make_finding(MC_R_POP3_RESP_TEXT_CONTROL, "say \"hi\" \\ \\r\\n", ctl);
    f.session = "a\"b\\c\td";

    out_open(&o);
    mc_report_init(&r, o.f, MC_FMT_JSONL, MC_SEV_ERROR);
    r.input = "dir\\file \"x\".mct";
    mc_report_finding(&r, &f);
    out_close(&o);

    assert_ptr_equal(memchr(o.buf, '\n', o.len), o.buf + o.len - 1);
    for (size_t i = 0; i + 1 < o.len; i++)
        assert_true((unsigned char)o.buf[i] >= 0x20);
    v = json_parse(o.buf, o.len - 1);
    assert_jstr(v, "excerpt", "say \"hi\" \\ \\r\\n");
    assert_jstr(v, "message", ctl);
    assert_jstr(v, "session", "a\"b\\c\td");
    assert_jstr(v, "input", "dir\\file \"x\".mct");
    jv_free(v);
    free(o.buf);
}

/* ---- JSON document ----------------------------------------------------- */

static void test_json_document(void **state)
{
    (void)state;
    struct out o;
    struct mc_report r;
    struct mc_finding e = make_finding(MC_R_POP3_STATUS_CASE, "+ok", "x");
    struct mc_finding w = make_finding(MC_R_POP3_CMD_TOO_LONG, "USER aaaa...", "y\n");
    struct jv *v;
    const struct jv *fs, *sum;

    out_open(&o);
    mc_report_init(&r, o.f, MC_FMT_JSON, MC_SEV_ERROR);
    mc_report_begin(&r);
    mc_report_finding(&r, &e);
    mc_report_finding(&r, &w);
    mc_report_session(&r, "s1", MC_PROTO_POP3, true, 2, 0);
    mc_report_session(&r, "s2", MC_PROTO_IMAP, false, 0, 0);
    mc_report_end(&r);
    out_close(&o);

    v = json_parse(o.buf, o.len);
    assert_jstr(v, "tool", "mailconform");
    fs = jget(v, "findings");
    assert_int_equal(fs->t, J_ARR);
    assert_int_equal(fs->n, 2);
    assert_jstr(fs->kids[0], "rule", "POP3.STATUS.CASE");
    assert_jstr(fs->kids[1], "rule", "POP3.CMD.TOO_LONG");
    assert_jstr(fs->kids[1], "severity", "warning");
    assert_jstr(fs->kids[1], "message", "y\n");
    sum = jget(v, "summary");
    assert_jnum(sum, "sessions", "2");
    assert_jnum(sum, "validated", "1");
    assert_jnum(sum, "findings", "2");
    assert_jnum(sum, "error", "1");
    assert_jnum(sum, "warning", "1");
    assert_jnum(sum, "note", "0");
    assert_jnum(sum, "input_errors", "0");
    jv_free(v);
    free(o.buf);

    /* no findings at all */
    out_open(&o);
    mc_report_init(&r, o.f, MC_FMT_JSON, MC_SEV_ERROR);
    mc_report_begin(&r);
    mc_report_end(&r);
    out_close(&o);
    v = json_parse(o.buf, o.len);
    assert_int_equal(jget(v, "findings")->n, 0);
    assert_jnum(jget(v, "summary"), "findings", "0");
    jv_free(v);
    free(o.buf);
}

/* ---- text -------------------------------------------------------------- */

static void test_text_format(void **state)
{
    (void)state;
    struct out o;
    struct mc_report r;
    struct mc_finding f = make_finding(MC_R_POP3_STATUS_CASE, "+ok hi", "servers send +OK");
    struct mc_finding g = make_finding(MC_R_POP3_CMD_BARE_LF, "", "bare LF");

    g.origin.line = 0;
    g.origin.frame = 9;
    out_open(&o);
    mc_report_init(&r, o.f, MC_FMT_TEXT, MC_SEV_ERROR);
    r.input = "t.mct";
    mc_report_begin(&r);
    mc_report_finding(&r, &f);
    mc_report_finding(&r, &g);
    mc_report_session(&r, "s", MC_PROTO_POP3, true, 2, 0);
    mc_report_end(&r);
    out_close(&o);

    assert_non_null(strstr(o.buf, "t.mct:7: error POP3.STATUS.CASE (server, RFC 1939 \xc2\xa7" "3, server offset 42): "
                                  "servers send +OK\n    S: +ok hi\n"));
    assert_non_null(strstr(o.buf, "t.mct: frame 9: error POP3.CMD.BARE_LF (client, RFC 1939 \xc2\xa7" "3, client offset 42): bare LF\n"));
    assert_null(strstr(o.buf, "    C: \n"));   /* no excerpt line for an empty excerpt */
    assert_null(strstr(o.buf, "\033["));        /* no colour unless asked */
    assert_non_null(strstr(o.buf, "summary: 1 session (1 validated), 2 findings: 2 errors, 0 warnings, 0 notes\n"));
    free(o.buf);

    /* quiet: only the summary; colour codes when asked */
    out_open(&o);
    mc_report_init(&r, o.f, MC_FMT_TEXT, MC_SEV_ERROR);
    r.quiet = true;
    mc_report_finding(&r, &f);
    mc_report_session(&r, "s", MC_PROTO_IMAP, false, 0, 0);
    mc_report_end(&r);
    out_close(&o);
    assert_string_equal(o.buf, "summary: 1 session (0 validated), 1 finding: 1 error, 0 warnings, 0 notes\n");
    free(o.buf);

    out_open(&o);
    mc_report_init(&r, o.f, MC_FMT_TEXT, MC_SEV_ERROR);
    r.color = true;
    mc_report_finding(&r, &f);
    mc_report_session(&r, "imap-1", MC_PROTO_IMAP, false, 0, 0);
    out_close(&o);
    assert_non_null(strstr(o.buf, "\033[31merror\033[0m"));
    assert_non_null(strstr(o.buf, "mail.example:110:7: "));   /* no input: the session name */
    assert_non_null(strstr(o.buf, "session imap-1 (imap) not validated"));
    free(o.buf);
}

/* ---- exit codes -------------------------------------------------------- */

static int exit_code(enum mc_severity fail_on, unsigned notes, unsigned warnings, unsigned errors,
                     unsigned input_errors)
{
    struct mc_report r;
    FILE *devnull = fopen("/dev/null", "w");
    struct mc_finding n = make_finding(MC_R_POP3_UNKNOWN_COMMAND, "", "n");
    struct mc_finding w = make_finding(MC_R_POP3_CMD_TOO_LONG, "", "w");
    struct mc_finding e = make_finding(MC_R_POP3_STATUS_CASE, "", "e");
    int code;
    assert_non_null(devnull);
    assert_int_equal(n.severity, MC_SEV_NOTE);
    assert_int_equal(w.severity, MC_SEV_WARNING);
    assert_int_equal(e.severity, MC_SEV_ERROR);
    mc_report_init(&r, devnull, MC_FMT_JSONL, fail_on);
    for (unsigned i = 0; i < notes; i++) mc_report_finding(&r, &n);
    for (unsigned i = 0; i < warnings; i++) mc_report_finding(&r, &w);
    for (unsigned i = 0; i < errors; i++) mc_report_finding(&r, &e);
    for (unsigned i = 0; i < input_errors; i++)
        r.input_errors++; /* mc_report_input_error() without the stderr noise */
    code = mc_report_exit_code(&r);
    fclose(devnull);
    return code;
}

static void test_exit_codes(void **state)
{
    (void)state;
    /* fail_on error (the default) */
    assert_int_equal(exit_code(MC_SEV_ERROR, 0, 0, 0, 0), 0);
    assert_int_equal(exit_code(MC_SEV_ERROR, 5, 5, 0, 0), 0);
    assert_int_equal(exit_code(MC_SEV_ERROR, 0, 0, 1, 0), 1);
    /* fail_on warning */
    assert_int_equal(exit_code(MC_SEV_WARNING, 3, 0, 0, 0), 0);
    assert_int_equal(exit_code(MC_SEV_WARNING, 0, 1, 0, 0), 1);
    assert_int_equal(exit_code(MC_SEV_WARNING, 0, 0, 1, 0), 1);
    /* fail_on note */
    assert_int_equal(exit_code(MC_SEV_NOTE, 0, 0, 0, 0), 0);
    assert_int_equal(exit_code(MC_SEV_NOTE, 1, 0, 0, 0), 1);
    assert_int_equal(exit_code(MC_SEV_NOTE, 0, 1, 0, 0), 1);
    /* input errors win over everything */
    assert_int_equal(exit_code(MC_SEV_ERROR, 0, 0, 0, 1), 2);
    assert_int_equal(exit_code(MC_SEV_ERROR, 0, 0, 3, 1), 2);
    assert_int_equal(exit_code(MC_SEV_NOTE, 1, 1, 1, 2), 2);
}

static void test_input_error_counted(void **state)
{
    (void)state;
    /* mc_report_input_error() counts, and writes "mailconform: FILE:LINE:COL:
     * message" to stderr (docs/transcript.md); fd 2 is captured for it */
    struct mc_report r;
    FILE *devnull = fopen("/dev/null", "w");
    FILE *cap = tmpfile();
    char text[512];
    size_t n;
    int saved;
    assert_non_null(devnull);
    assert_non_null(cap);
    mc_report_init(&r, devnull, MC_FMT_TEXT, MC_SEV_ERROR);
    fflush(stderr);
    saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(cap), 2) >= 0);
    mc_report_input_error(&r, "f.mct", 3, 5, "bad escape");
    mc_report_input_error(&r, "f.mct", 4, 0, "x");
    mc_report_input_error(&r, "f.mct", 0, 0, "cannot open");
    fflush(stderr);
    assert_true(dup2(saved, 2) >= 0);
    close(saved);
    rewind(cap);
    n = fread(text, 1, sizeof(text) - 1, cap);
    text[n] = '\0';
    fclose(cap);
    assert_string_equal(text, "mailconform: f.mct:3:5: bad escape\n"
                              "mailconform: f.mct:4: x\n"
                              "mailconform: f.mct: cannot open\n");
    assert_int_equal(r.input_errors, 3);
    assert_int_equal(mc_report_exit_code(&r), 2);
    fclose(devnull);
}

static void test_format_parse(void **state)
{
    (void)state;
    enum mc_format f = MC_FMT_TEXT;
    assert_true(mc_format_parse("json", &f));
    assert_int_equal(f, MC_FMT_JSON);
    assert_true(mc_format_parse("jsonl", &f));
    assert_int_equal(f, MC_FMT_JSONL);
    assert_true(mc_format_parse("text", &f));
    assert_int_equal(f, MC_FMT_TEXT);
    assert_false(mc_format_parse("JSON", &f));
    assert_false(mc_format_parse("", &f));
    assert_false(mc_format_parse("sarif2", &f));
    assert_int_equal(f, MC_FMT_TEXT);
    assert_true(mc_format_parse("sarif", &f));
    assert_int_equal(f, MC_FMT_SARIF);
    assert_true(mc_format_parse("junit", &f));
    assert_int_equal(f, MC_FMT_JUNIT);
}

/* ---- rule listing ------------------------------------------------------ */

static void test_rules_listing(void **state)
{
    (void)state;
    struct out o;
    struct jv *v;
    size_t lines;

    out_open(&o);
    mc_report_rules(o.f, "json");
    out_close(&o);
    v = json_parse(o.buf, o.len);
    assert_int_equal(v->t, J_ARR);
    assert_int_equal(v->n, MC_RULE_COUNT);
    for (size_t i = 0; i < v->n; i++) {
        const struct mc_rule_info *ri = mc_rule_info((enum mc_rule)i);
        char rfc[16];
        snprintf(rfc, sizeof(rfc), "%u", ri->rfc);
        assert_jstr(v->kids[i], "id", ri->id);
        assert_jstr(v->kids[i], "protocol", mc_proto_name(ri->proto));
        assert_jstr(v->kids[i], "side", mc_side_name(ri->side));
        assert_jstr(v->kids[i], "level", mc_level_name(ri->level));
        assert_jstr(v->kids[i], "severity", mc_severity_name(ri->severity));
        assert_jnum(v->kids[i], "rfc", rfc);
        assert_jstr(v->kids[i], "section", ri->section);
        assert_jstr(v->kids[i], "summary", ri->summary);
    }
    jv_free(v);
    free(o.buf);

    out_open(&o);
    mc_report_rules(o.f, "md");
    out_close(&o);
    lines = 0;
    for (size_t i = 0; i < o.len; i++)
        lines += o.buf[i] == '\n' && i + 1 < o.len && o.buf[i + 1] == '|';
    assert_int_equal(lines, MC_RULE_COUNT + 2); /* header, separator, rows */
    assert_non_null(strstr(o.buf, "| [`POP3.STATUS.CASE`](#pop3statuscase) | pop3 | server | MUST | error | 1939 | 3 |"));
    assert_non_null(strstr(o.buf, "\n### `POP3.STATUS.CASE`\n"));   /* its section, with the examples */
    assert_non_null(strstr(o.buf, "Non-conformant:\n\n```\n"));
    free(o.buf);

    out_open(&o);
    mc_report_rules(o.f, "text");
    out_close(&o);
    lines = 0;
    for (size_t i = 0; i < o.len; i++)
        lines += o.buf[i] == '\n';
    assert_int_equal(lines, MC_RULE_COUNT);
    free(o.buf);
}

/* ---- regressions ----------------------------------------------------------- */

static void test_bug_json_non_utf8(void **state)
{
    (void)state;
    /* Session names come from '@ session NAME' (any octets) and input file
     * names are any octets; the output must still be UTF-8 JSON
     * (RFC 8259 s8.1). */
    struct out o;
    struct mc_report r;
    struct mc_finding f = make_finding(MC_R_POP3_STATUS_CASE, "x", "y");
    f.session = "caf\xe9";
    out_open(&o);
    mc_report_init(&r, o.f, MC_FMT_JSONL, MC_SEV_ERROR);
    r.input = "\xff.mct";
    mc_report_finding(&r, &f);
    out_close(&o);
    jv_free(json_parse(o.buf, o.len - 1));
    free(o.buf);
}

/* ---- policy: --rules and --severity ------------------------------------ */

static unsigned enabled_count(const struct mc_policy *p)
{
    unsigned n = 0;
    for (unsigned i = 0; i < MC_RULE_COUNT; i++)
        n += mc_policy_enabled(p, (enum mc_rule)i);
    return n;
}

static void test_policy_rules(void **state)
{
    (void)state;
    struct mc_policy p;
    char err[256];

    mc_policy_init(&p);
    assert_int_equal(enabled_count(&p), MC_RULE_COUNT);
    assert_true(mc_policy_enabled(NULL, MC_R_POP3_STATUS_CASE));

    /* deny-list: starts from everything */
    assert_true(mc_policy_rules(&p, "-pop3.*", err, sizeof(err)));
    assert_false(mc_policy_enabled(&p, MC_R_POP3_STATUS_CASE));
    assert_true(mc_policy_enabled(&p, MC_R_SMTP_CLEARTEXT_PASSWORD));
    /* later patterns win, the underscore form names the same rule */
    assert_true(mc_policy_rules(&p, "+POP3_STATUS_CASE", err, sizeof(err)));
    assert_true(mc_policy_enabled(&p, MC_R_POP3_STATUS_CASE));
    assert_false(mc_policy_enabled(&p, MC_R_POP3_CMD_BARE_LF));

    /* allow-list: a first pattern that enables leaves out everything else */
    mc_policy_init(&p);
    assert_true(mc_policy_rules(&p, "SMTP.CLEARTEXT.PASSWORD, *.STLS.*", err, sizeof(err)));
    assert_true(mc_policy_enabled(&p, MC_R_SMTP_CLEARTEXT_PASSWORD));
    assert_true(mc_policy_enabled(&p, MC_R_POP3_STLS_CMD_INJECTION));
    assert_false(mc_policy_enabled(&p, MC_R_POP3_STATUS_CASE));

    /* typos are errors, not silent no-ops */
    mc_policy_init(&p);
    assert_false(mc_policy_rules(&p, "SMTP.CLEARTXT.*", err, sizeof(err)));
    assert_non_null(strstr(err, "matches no rule"));
    assert_false(mc_policy_rules(&p, "", err, sizeof(err)));
    assert_false(mc_policy_rules(&p, "POP3.*,,", err, sizeof(err)));

    /* severities */
    mc_policy_init(&p);
    assert_int_equal(mc_policy_severity_of(&p, MC_R_POP3_STATUS_CASE), MC_SEV_ERROR);
    assert_true(mc_policy_severity(&p, "POP3.STATUS.*=note", err, sizeof(err)));
    assert_int_equal(mc_policy_severity_of(&p, MC_R_POP3_STATUS_CASE), MC_SEV_NOTE);
    assert_int_equal(mc_policy_severity_of(&p, MC_R_POP3_CMD_BARE_LF),
                     mc_rule_info(MC_R_POP3_CMD_BARE_LF)->severity);
    assert_false(mc_policy_severity(&p, "POP3.STATUS.CASE", err, sizeof(err)));
    assert_false(mc_policy_severity(&p, "POP3.STATUS.CASE=fatal", err, sizeof(err)));
    assert_false(mc_policy_severity(&p, "NOPE=note", err, sizeof(err)));
}

struct collected {
    unsigned n;
    struct mc_finding last;
};

static void collect(void *ctx, const struct mc_finding *f)
{
    struct collected *c = ctx;
    c->n++;
    c->last = *f;
}

/* A session with a policy: a left-out rule is neither reported nor
 * counted; an overridden severity is what the finding carries. */
static void test_policy_in_session(void **state)
{
    (void)state;
    static const char greeting[] = "+ok POP3 ready\r\n";
    struct mc_policy p;
    char err[256];
    for (int round = 0; round < 3; round++) {
        struct collected c = {0};
        struct mc_origin o = {0, 1};
        struct mc_session *s = mc_session_new("t", MC_PROTO_POP3, collect, &c);
        assert_non_null(s);
        mc_policy_init(&p);
        if (round == 1)
            assert_true(mc_policy_rules(&p, "-POP3.STATUS.CASE", err, sizeof(err)));
        if (round == 2)
            assert_true(mc_policy_severity(&p, "POP3.STATUS.CASE=warning", err, sizeof(err)));
        mc_session_set_policy(s, &p);
        mc_session_data(s, MC_DIR_S2C, (const uint8_t *)greeting, sizeof(greeting) - 1, &o);
        mc_session_finish(s);
        if (round == 1) {
            assert_int_equal(c.n, 0);
            assert_int_equal(mc_session_findings(s), 0);
        } else {
            assert_int_equal(c.n, 1);
            assert_int_equal(c.last.rule, MC_R_POP3_STATUS_CASE);
            assert_int_equal(c.last.severity, round == 2 ? MC_SEV_WARNING : MC_SEV_ERROR);
        }
        mc_session_free(s);
    }
}

/* ---- baselines --------------------------------------------------------- */

static void test_baseline(void **state)
{
    (void)state;
    struct mc_finding a = make_finding(MC_R_SMTP_CLEARTEXT_PASSWORD, "AUTH PLAIN <redacted>", "m");
    struct mc_finding a2 = a, b = a, c = a;
    char path[] = "/tmp/mc-baseline-XXXXXX", err[512];
    struct mc_baseline *bl;
    FILE *f;
    int fd;

    /* position and session do not matter; digits fold; rule, input and
     * text do */
    a2.origin.line = 99;
    a2.session = "other";
    a2.offset = 7;
    assert_int_equal(mc_finding_fingerprint(&a, "t.mct"), mc_finding_fingerprint(&a2, "t.mct"));
    snprintf(b.excerpt, sizeof(b.excerpt), "250 mail.example 4711");
    snprintf(c.excerpt, sizeof(c.excerpt), "250 mail.example 12");
    assert_int_equal(mc_finding_fingerprint(&b, "t.mct"), mc_finding_fingerprint(&c, "t.mct"));
    assert_int_not_equal(mc_finding_fingerprint(&a, "t.mct"), mc_finding_fingerprint(&a, "u.mct"));
    assert_int_not_equal(mc_finding_fingerprint(&a, "t.mct"), mc_finding_fingerprint(&b, "t.mct"));
    c.rule = MC_R_POP3_STATUS_CASE;
    assert_int_not_equal(mc_finding_fingerprint(&b, "t.mct"), mc_finding_fingerprint(&c, "t.mct"));

    /* written, read back: each line accepts one occurrence */
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    mc_baseline_write_header(f);
    mc_baseline_write(f, mc_finding_fingerprint(&a, "t.mct"), &a, "t.mct");
    mc_baseline_write(f, mc_finding_fingerprint(&a, "t.mct"), &a2, "t.mct");
    fclose(f);
    bl = mc_baseline_load(path, err, sizeof(err));
    assert_non_null(bl);
    assert_true(mc_baseline_take(bl, mc_finding_fingerprint(&a, "t.mct")));
    assert_true(mc_baseline_take(bl, mc_finding_fingerprint(&a, "t.mct")));
    assert_false(mc_baseline_take(bl, mc_finding_fingerprint(&a, "t.mct")));
    assert_false(mc_baseline_take(bl, mc_finding_fingerprint(&b, "t.mct")));
    mc_baseline_free(bl);

    /* a line longer than the read buffer: only its first field counts, and
     * the rest of it is not taken for further lines */
    f = fopen(path, "a");
    fprintf(f, "%016llx ", (unsigned long long)mc_finding_fingerprint(&b, "t.mct"));
    for (int i = 0; i < 3000; i++)
        fputs("0123456789abcdef ", f);
    fputc('\n', f);
    fclose(f);
    bl = mc_baseline_load(path, err, sizeof(err));
    assert_non_null(bl);
    assert_true(mc_baseline_take(bl, mc_finding_fingerprint(&b, "t.mct")));
    assert_false(mc_baseline_take(bl, 0x0123456789abcdefull));
    mc_baseline_free(bl);

    /* a damaged file names its line */
    f = fopen(path, "a");
    fputs("not-a-fingerprint POP3.STATUS.CASE\n", f);
    fclose(f);
    assert_null(mc_baseline_load(path, err, sizeof(err)));
    assert_non_null(strstr(err, ":6: expected a 16-digit hexadecimal fingerprint"));
    unlink(path);
    assert_null(mc_baseline_load(path, err, sizeof(err)));
    assert_non_null(strstr(err, "cannot read the baseline"));
}

/* The report leaves baselined findings out of output, totals and the exit
 * status, and says how many it left out. */
static void test_baseline_in_report(void **state)
{
    (void)state;
    struct mc_finding e = make_finding(MC_R_POP3_STATUS_CASE, "+ok hi", "e");
    struct mc_finding e2 = make_finding(MC_R_POP3_STATUS_CASE, "+ok there", "e");
    char path[] = "/tmp/mc-baseline-XXXXXX", err[512];
    struct out o;
    struct mc_report r;
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    mc_baseline_write(f, mc_finding_fingerprint(&e, "t.mct"), &e, "t.mct");
    fclose(f);

    out_open(&o);
    mc_report_init(&r, o.f, MC_FMT_TEXT, MC_SEV_ERROR);
    r.baseline = mc_baseline_load(path, err, sizeof(err));
    assert_non_null(r.baseline);
    mc_report_begin(&r);
    mc_report_input_begin(&r, "t.mct");
    mc_report_finding(&r, &e);
    assert_int_equal(mc_report_exit_code(&r), 0);
    mc_report_finding(&r, &e2);
    mc_report_session(&r, e.session, MC_PROTO_POP3, true, 2, 0);
    mc_report_input_end(&r);
    mc_report_end(&r);
    out_close(&o);
    assert_int_equal(mc_report_exit_code(&r), 1);
    assert_null(strstr(o.buf, "+ok hi"));
    assert_non_null(strstr(o.buf, "+ok there"));
    assert_non_null(strstr(o.buf, "1 findings (1 more in the baseline)"));
    assert_non_null(strstr(o.buf, "(1 findings left out: already in the baseline)"));
    mc_baseline_free(r.baseline);
    free(o.buf);
    unlink(path);
}

/* ---- SARIF ------------------------------------------------------------- */

static void test_sarif_document(void **state)
{
    (void)state;
    struct mc_finding t = make_finding(MC_R_POP3_STATUS_CASE, "+ok \"hi\"", "servers send +OK");
    struct mc_finding c = make_finding(MC_R_POP3_CMD_BARE_LF, "", "bare LF");
    struct out o;
    struct mc_report r;
    struct jv *v;
    const struct jv *run, *rules, *res, *loc;

    c.origin.line = 0;
    c.origin.frame = 9;
    out_open(&o);
    mc_report_init(&r, o.f, MC_FMT_SARIF, MC_SEV_ERROR);
    r.version = "1.2.3";
    mc_report_begin(&r);
    mc_report_input_begin(&r, "dir/a b.mct");
    mc_report_finding(&r, &t);
    mc_report_session(&r, t.session, MC_PROTO_POP3, true, 1, 0);
    mc_report_input_error(&r, "dir/a b.mct", 3, 1, "bad escape");
    mc_report_input_end(&r);
    mc_report_input_begin(&r, "cap.pcap");
    mc_report_finding(&r, &c);
    mc_report_input_end(&r);
    mc_report_end(&r);
    out_close(&o);

    v = json_parse(o.buf, o.len);
    assert_jstr(v, "version", "2.1.0");
    run = jget(v, "runs")->kids[0];
    assert_jstr(jget(jget(run, "tool"), "driver"), "name", "mailconform");
    rules = jget(jget(jget(run, "tool"), "driver"), "rules");
    assert_int_equal(rules->n, MC_RULE_COUNT);
    /* ruleIndex is the rule's position in that array */
    assert_jstr(rules->kids[MC_R_POP3_STATUS_CASE], "id", "POP3.STATUS.CASE");
    assert_jstr(rules->kids[MC_R_POP3_STATUS_CASE], "name", "Pop3StatusCase");
    assert_jstr(rules->kids[MC_R_POP3_STATUS_CASE], "helpUri",
                "https://www.rfc-editor.org/rfc/rfc1939#section-3");
    assert_true(jhas(rules->kids[MC_R_POP3_STATUS_CASE], "help"));

    res = jget(run, "results");
    assert_int_equal(res->n, 2);
    assert_jstr(res->kids[0], "ruleId", "POP3.STATUS.CASE");
    assert_jnum(res->kids[0], "ruleIndex", "6");
    assert_jstr(res->kids[0], "level", "error");
    loc = jget(jget(res->kids[0], "locations")->kids[0], "physicalLocation");
    assert_jstr(jget(loc, "artifactLocation"), "uri", "dir/a%20b.mct");
    assert_jnum(jget(loc, "artifactLocation"), "index", "0");
    assert_jnum(jget(loc, "region"), "startLine", "7");
    assert_jstr(jget(jget(loc, "region"), "snippet"), "text", "+ok \"hi\"");
    /* capture findings: no line, the frame in the properties */
    loc = jget(jget(res->kids[1], "locations")->kids[0], "physicalLocation");
    assert_false(jhas(loc, "region"));
    assert_jnum(jget(loc, "artifactLocation"), "index", "1");
    assert_jnum(jget(res->kids[1], "properties"), "frame", "9");

    assert_int_equal(jget(run, "artifacts")->n, 2);
    res = jget(jget(run, "invocations")->kids[0], "toolExecutionNotifications");
    assert_int_equal(res->n, 1);
    assert_jstr(jget(res->kids[0], "message"), "text", "bad escape");
    assert_false(jget(jget(run, "invocations")->kids[0], "executionSuccessful")->b);
    jv_free(v);
    free(o.buf);
}

/* ---- JUnit ------------------------------------------------------------- */

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void test_junit_document(void **state)
{
    (void)state;
    struct mc_finding e = make_finding(MC_R_POP3_STATUS_CASE, "+ok <b>&", "servers send +OK");
    struct mc_finding n = make_finding(MC_R_POP3_UNKNOWN_COMMAND, "XYZZY\x01", "unknown");
    struct out o;
    struct mc_report r;

    n.session = "s2";
    out_open(&o);
    mc_report_init(&r, o.f, MC_FMT_JUNIT, MC_SEV_WARNING);
    mc_report_begin(&r);
    mc_report_input_begin(&r, "t.mct");
    /* sessions interleave, as in a capture */
    mc_report_finding(&r, &e);
    mc_report_finding(&r, &n);
    mc_report_session(&r, "s2", MC_PROTO_POP3, true, 1, 0);
    mc_report_session(&r, e.session, MC_PROTO_POP3, true, 1, 250);
    mc_report_session(&r, "s3", MC_PROTO_UNKNOWN, false, 0, 0);
    mc_report_input_error(&r, "t.mct", 12, 3, "bad <escape>");
    mc_report_input_end(&r);
    mc_report_end(&r);
    out_close(&o);

    assert_non_null(strstr(o.buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"check\">\n"));
    assert_non_null(strstr(o.buf, "<testsuite name=\"t.mct\" tests=\"4\" failures=\"1\" errors=\"1\" "
                                  "skipped=\"1\" time=\"0\">"));
    /* the error finding fails its own session only; the note is output */
    assert_non_null(strstr(o.buf, "<testcase classname=\"mailconform.pop3\" name=\"mail.example:110\" "
                                  "time=\"0\">\n      <failure type=\"POP3.STATUS.CASE\""));
    assert_non_null(strstr(o.buf, "S: +ok &lt;b&gt;&amp;</failure>"));
    assert_non_null(strstr(o.buf, "name=\"s2\" time=\"0\">\n      <system-out>note POP3.UNKNOWN.COMMAND"));
    assert_non_null(strstr(o.buf, "C: XYZZY\xef\xbf\xbd\n</system-out>"));   /* no raw control */
    assert_non_null(strstr(o.buf, "250 more findings counted but not shown"));
    assert_non_null(strstr(o.buf, "<skipped message=\"protocol not recognised\"/>"));
    assert_non_null(strstr(o.buf, "<error type=\"input\" message=\"bad &lt;escape&gt;\"/>"));
    assert_int_equal(count_of(o.buf, "<testcase "), 4);
    assert_int_equal(count_of(o.buf, "</testcase>"), 4);
    assert_non_null(strstr(o.buf, "</testsuite>\n</testsuites>\n"));
    free(o.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_parser_self_check),
        cmocka_unit_test(test_jsonl_fields),
        cmocka_unit_test(test_jsonl_values),
        cmocka_unit_test(test_json_string_escapes),
        cmocka_unit_test(test_json_document),
        cmocka_unit_test(test_text_format),
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_input_error_counted),
        cmocka_unit_test(test_format_parse),
        cmocka_unit_test(test_rules_listing),
        cmocka_unit_test(test_bug_json_non_utf8),
        cmocka_unit_test(test_policy_rules),
        cmocka_unit_test(test_policy_in_session),
        cmocka_unit_test(test_baseline),
        cmocka_unit_test(test_baseline_in_report),
        cmocka_unit_test(test_sarif_document),
        cmocka_unit_test(test_junit_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
