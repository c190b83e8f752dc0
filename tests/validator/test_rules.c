/*
 * The rule catalogue (validator/rules/rules.def through rules.h): metadata
 * complete and well-formed, ids unique, lookups in both spellings, every
 * anomaly mapping consistent, severity names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "rules/rules.h"
#include "session/finding.h"

static const enum mc_proto protos[] = {MC_PROTO_UNKNOWN, MC_PROTO_POP3, MC_PROTO_IMAP,
                                       MC_PROTO_SMTP, MC_PROTO_TLS};
static const enum mc_side sides[] = {MC_SIDE_CLIENT, MC_SIDE_SERVER};

/* The underscore form: every '.' of the dotted id back to '_'. */
static void underscore(const char *dotted, char *out, size_t cap)
{
    size_t i;
    for (i = 0; dotted[i] && i + 1 < cap; i++)
        out[i] = dotted[i] == '.' ? '_' : dotted[i];
    out[i] = '\0';
}

/* "3", "6.6", "2.3": digits separated by single dots; an appendix starts
 * with its letter: "F", "F.1". */
static bool section_ok(const char *s)
{
    bool digit = false;
    if (!*s)
        return false;
    if (*s >= 'A' && *s <= 'Z') {
        s++;
        if (!*s)
            return true;
        if (*s != '.')
            return false;
        s++;
    }
    for (; *s; s++) {
        if (isdigit((unsigned char)*s)) {
            digit = true;
        } else if (*s == '.' && digit) {
            digit = false;
        } else {
            return false;
        }
    }
    return digit;
}

static void test_metadata_complete(void **state)
{
    (void)state;
    assert_true(MC_RULE_COUNT > 0);
    for (unsigned r = 0; r < MC_RULE_COUNT; r++) {
        const struct mc_rule_info *ri = mc_rule_info((enum mc_rule)r);
        size_t n;
        assert_non_null(ri);
        assert_non_null(ri->id);
        assert_non_null(ri->summary);
        assert_non_null(ri->section);
        assert_true(ri->id[0] != '\0');
        assert_true(ri->summary[0] != '\0');
        if (!section_ok(ri->section)) {
            print_error("%s: section '%s' is not N or N.N\n", ri->id, ri->section);
            fail();
        }
        assert_true(ri->rfc > 0);
        assert_true(ri->proto != MC_PROTO_UNKNOWN);
        assert_true(ri->proto <= MC_PROTO_TLS);
        assert_true(ri->side == MC_SIDE_CLIENT || ri->side == MC_SIDE_SERVER);
        assert_true(ri->level <= MC_LEVEL_INTEROP);
        assert_true(ri->severity <= MC_SEV_ERROR);
        assert_string_not_equal(mc_level_name(ri->level), "?");
        assert_string_not_equal(mc_severity_name(ri->severity), "?");
        /* summaries are one line without stray blanks; with an anomaly
         * description appended they must still fit a message */
        n = strlen(ri->summary);
        assert_false(isspace((unsigned char)ri->summary[0]));
        assert_false(isspace((unsigned char)ri->summary[n - 1]));
        assert_null(strchr(ri->summary, '\n'));
        assert_true(n < MC_MESSAGE_MAX);
        /* the same pointer every time (outputs compare ids) */
        assert_ptr_equal(mc_rule_info((enum mc_rule)r)->id, ri->id);
    }
    assert_null(mc_rule_info(MC_RULE_COUNT));
}

static void test_id_format(void **state)
{
    (void)state;
    for (unsigned r = 0; r < MC_RULE_COUNT; r++) {
        const struct mc_rule_info *ri = mc_rule_info((enum mc_rule)r);
        const char *id = ri->id;
        const char *p1 = strchr(id, '.');
        const char *p2 = p1 ? strchr(p1 + 1, '.') : NULL;
        char proto[16];
        size_t i;

        /* PROTO.OBJECT.PROBLEM: two dots, upper case, digits and '_' */
        for (i = 0; id[i]; i++)
            assert_true(isupper((unsigned char)id[i]) || isdigit((unsigned char)id[i]) ||
                        id[i] == '_' || id[i] == '.');
        if (!p1 || !p2 || strchr(p2 + 1, '.') || p1 == id || p2 == p1 + 1 || p2[1] == '\0') {
            print_error("id '%s' is not PROTO.OBJECT.PROBLEM\n", id);
            fail();
        }
        /* the first component is the protocol, and no '_' precedes the
         * second dot (the first two '_' of the enum name became dots) */
        for (i = 0; mc_proto_name(ri->proto)[i] && i + 1 < sizeof(proto); i++)
            proto[i] = (char)toupper((unsigned char)mc_proto_name(ri->proto)[i]);
        proto[i] = '\0';
        assert_int_equal((size_t)(p1 - id), strlen(proto));
        assert_memory_equal(id, proto, strlen(proto));
        assert_null(memchr(id, '_', (size_t)(p2 - id)));
    }
}

static void test_ids_unique(void **state)
{
    (void)state;
    for (unsigned a = 0; a < MC_RULE_COUNT; a++)
        for (unsigned b = a + 1; b < MC_RULE_COUNT; b++)
            if (strcmp(mc_rule_info((enum mc_rule)a)->id, mc_rule_info((enum mc_rule)b)->id) == 0) {
                print_error("duplicate id %s\n", mc_rule_info((enum mc_rule)a)->id);
                fail();
            }
}

static void test_lookup(void **state)
{
    (void)state;
    enum mc_rule r;
    char raw[128];
    for (unsigned i = 0; i < MC_RULE_COUNT; i++) {
        const char *id = mc_rule_info((enum mc_rule)i)->id;
        r = MC_RULE_COUNT;
        assert_true(mc_rule_lookup(id, &r));
        assert_int_equal(r, i);
        underscore(id, raw, sizeof(raw));
        r = MC_RULE_COUNT;
        assert_true(mc_rule_lookup(raw, &r));
        assert_int_equal(r, i);
    }
    assert_true(mc_rule_lookup("POP3.STATUS.CASE", &r));
    assert_int_equal(r, MC_R_POP3_STATUS_CASE);
    assert_true(mc_rule_lookup("POP3_STATUS_CASE", &r));
    assert_int_equal(r, MC_R_POP3_STATUS_CASE);
    assert_true(mc_rule_lookup("POP3.STLS.ADVERTISED_IN_TLS", &r));
    assert_int_equal(r, MC_R_POP3_STLS_ADVERTISED_IN_TLS);
    assert_string_equal(mc_rule_info(MC_R_POP3_STLS_ADVERTISED_IN_TLS)->id, "POP3.STLS.ADVERTISED_IN_TLS");

    /* unknown ids leave the output alone */
    r = MC_RULE_COUNT;
    assert_false(mc_rule_lookup("", &r));
    assert_false(mc_rule_lookup("POP3", &r));
    assert_false(mc_rule_lookup("POP3.STATUS", &r));
    assert_false(mc_rule_lookup("POP3.STATUS.CASEX", &r));
    assert_false(mc_rule_lookup("POP3.STATUS.CAS", &r));
    assert_false(mc_rule_lookup("POP3.STATUS.CASE ", &r));
    assert_false(mc_rule_lookup("SMTP.STATUS.CASE", &r));
    assert_int_equal(r, MC_RULE_COUNT);
}

static bool is_line_anom(enum mc_anom a)
{
    return a == MC_ANOM_BARE_LF || a == MC_ANOM_BARE_CR || a == MC_ANOM_LINE_TOO_LONG ||
           a == MC_ANOM_NUL_BYTE || a == MC_ANOM_UNTERMINATED_LINE;
}

static void test_anom_mappings(void **state)
{
    (void)state;
    enum mc_rule r;
    for (unsigned a = 0; a < MC_ANOM_COUNT; a++) {
        unsigned pop3_sides = 0, smtp_sides = 0, imap_sides = 0;
        for (size_t p = 0; p < sizeof(protos) / sizeof(protos[0]); p++) {
            for (size_t s = 0; s < 2; s++) {
                if (!mc_rule_for_anom((enum mc_anom)a, protos[p], sides[s], &r))
                    continue;
                const struct mc_rule_info *ri = mc_rule_info(r);
                assert_non_null(ri);
                if (ri->proto != protos[p] || ri->side != sides[s]) {
                    print_error("anomaly %s for %s/%s maps to %s (%s/%s)\n",
                                mc_anom_name((enum mc_anom)a), mc_proto_name(protos[p]),
                                mc_side_name(sides[s]), ri->id, mc_proto_name(ri->proto),
                                mc_side_name(ri->side));
                    fail();
                }
                if (protos[p] == MC_PROTO_POP3)
                    pop3_sides++;
                if (protos[p] == MC_PROTO_SMTP)
                    smtp_sides++;
                if (protos[p] == MC_PROTO_IMAP)
                    imap_sides++;
            }
        }
        /* no anomaly is lost: every POP3 anomaly maps for POP3, and the
         * line layer's for both POP3 directions */
        if (a == MC_ANOM_NONE)
            assert_int_equal(pop3_sides, 0);
        else if (is_line_anom((enum mc_anom)a))
            assert_int_equal(pop3_sides, 2);
        else if (strncmp(mc_anom_name((enum mc_anom)a), "POP3_", 5) == 0 && pop3_sides == 0) {
            print_error("POP3 anomaly %s maps to no rule\n", mc_anom_name((enum mc_anom)a));
            fail();
        }
        if (is_line_anom((enum mc_anom)a))
            assert_int_equal(smtp_sides, 2);
        /* SMTP anomalies map to a rule, except the few the session judges
         * with what it knows (advertised extensions, the EHLO keyword) */
        else if (strncmp(mc_anom_name((enum mc_anom)a), "SMTP_", 5) == 0 && smtp_sides == 0 &&
                 a != MC_ANOM_SMTP_PATH_8BIT && a != MC_ANOM_SMTP_BODY_8BIT &&
                 a != MC_ANOM_SMTP_EHLO_PARAM_VALUE) {
            print_error("SMTP anomaly %s maps to no rule\n", mc_anom_name((enum mc_anom)a));
            fail();
        }
        /* every IMAP anomaly maps for IMAP, the line layer's for both
         * directions */
        if (is_line_anom((enum mc_anom)a))
            assert_int_equal(imap_sides, 2);
        else if (strncmp(mc_anom_name((enum mc_anom)a), "IMAP_", 5) == 0 && imap_sides == 0) {
            print_error("IMAP anomaly %s maps to no rule\n", mc_anom_name((enum mc_anom)a));
            fail();
        }
    }
    /* spot checks */
    assert_true(mc_rule_for_anom(MC_ANOM_BARE_LF, MC_PROTO_POP3, MC_SIDE_SERVER, &r));
    assert_int_equal(r, MC_R_POP3_RESP_BARE_LF);
    assert_true(mc_rule_for_anom(MC_ANOM_BARE_LF, MC_PROTO_POP3, MC_SIDE_CLIENT, &r));
    assert_int_equal(r, MC_R_POP3_CMD_BARE_LF);
    assert_true(mc_rule_for_anom(MC_ANOM_POP3_ARG_ZERO, MC_PROTO_POP3, MC_SIDE_CLIENT, &r));
    assert_int_equal(r, MC_R_POP3_ARG_NOT_NUMBER);
    assert_true(mc_rule_for_anom(MC_ANOM_BARE_LF, MC_PROTO_SMTP, MC_SIDE_CLIENT, &r));
    assert_int_equal(r, MC_R_SMTP_CMD_BARE_LF);
    assert_true(mc_rule_for_anom(MC_ANOM_SMTP_BODY_BARE_LF, MC_PROTO_SMTP, MC_SIDE_CLIENT, &r));
    assert_int_equal(r, MC_R_SMTP_BODY_BARE_LF);
    assert_true(mc_rule_for_anom(MC_ANOM_BARE_LF, MC_PROTO_IMAP, MC_SIDE_SERVER, &r));
    assert_int_equal(r, MC_R_IMAP_RESP_BARE_LF);
    assert_true(mc_rule_for_anom(MC_ANOM_IMAP_CMD_LITERAL_EARLY, MC_PROTO_IMAP, MC_SIDE_CLIENT, &r));
    assert_int_equal(r, MC_R_IMAP_LITERAL_EARLY);
    r = MC_RULE_COUNT;
    assert_false(mc_rule_for_anom(MC_ANOM_POP3_STATUS_CASE, MC_PROTO_POP3, MC_SIDE_CLIENT, &r));
    assert_false(mc_rule_for_anom(MC_ANOM_IMAP_CMD_LITERAL_EARLY, MC_PROTO_IMAP, MC_SIDE_SERVER, &r));
    assert_false(mc_rule_for_anom(MC_ANOM_BARE_LF, MC_PROTO_TLS, MC_SIDE_SERVER, &r));
    assert_false(mc_rule_for_anom(MC_ANOM_COUNT, MC_PROTO_POP3, MC_SIDE_SERVER, &r));
    assert_int_equal(r, MC_RULE_COUNT);
}

static void test_anom_messages_fit(void **state)
{
    (void)state;
    /* pop3_session.c reports a mapped anomaly as "summary: description";
     * it must not be cut at MC_MESSAGE_MAX */
    enum mc_rule r;
    for (unsigned a = 1; a < MC_ANOM_COUNT; a++)
        for (size_t s = 0; s < 2; s++)
            if (mc_rule_for_anom((enum mc_anom)a, MC_PROTO_POP3, sides[s], &r)) {
                size_t n = strlen(mc_rule_info(r)->summary) + 2 + strlen(mc_anom_desc((enum mc_anom)a));
                assert_true(n < MC_MESSAGE_MAX);
            }
}

static void test_severity(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum mc_severity sev;
    } ok[] = {{"note", MC_SEV_NOTE}, {"warning", MC_SEV_WARNING}, {"error", MC_SEV_ERROR}};
    static const char *const bad[] = {"", "Error", "ERROR", "warn", "errors", "info", "fatal", " error",
                                      "error ", "notes"};
    enum mc_severity s;
    /* ordered by weight (rules.h) */
    assert_true(MC_SEV_NOTE < MC_SEV_WARNING && MC_SEV_WARNING < MC_SEV_ERROR);
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        s = (enum mc_severity)99;
        assert_true(mc_severity_parse(ok[i].name, &s));
        assert_int_equal(s, ok[i].sev);
        assert_string_equal(mc_severity_name(ok[i].sev), ok[i].name);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s = MC_SEV_WARNING;
        assert_false(mc_severity_parse(bad[i], &s));
        assert_int_equal(s, MC_SEV_WARNING);
    }
    assert_string_equal(mc_severity_name((enum mc_severity)7), "?");
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(mc_proto_name(MC_PROTO_UNKNOWN), "unknown");
    assert_string_equal(mc_proto_name(MC_PROTO_POP3), "pop3");
    assert_string_equal(mc_proto_name(MC_PROTO_IMAP), "imap");
    assert_string_equal(mc_proto_name(MC_PROTO_SMTP), "smtp");
    assert_string_equal(mc_proto_name(MC_PROTO_TLS), "tls");
    assert_string_equal(mc_proto_name((enum mc_proto)42), "unknown");
    assert_string_equal(mc_side_name(MC_SIDE_CLIENT), "client");
    assert_string_equal(mc_side_name(MC_SIDE_SERVER), "server");
    assert_string_equal(mc_level_name(MC_LEVEL_MUST), "MUST");
    assert_string_equal(mc_level_name(MC_LEVEL_SHOULD), "SHOULD");
    assert_string_equal(mc_level_name(MC_LEVEL_MAY), "MAY");
    assert_string_equal(mc_level_name(MC_LEVEL_LIMIT), "LIMIT");
    assert_string_equal(mc_level_name(MC_LEVEL_INTEROP), "INTEROP");
    assert_string_equal(mc_level_name((enum mc_level)42), "?");
}

static void test_known_rows(void **state)
{
    (void)state;
    /* a few rows checked field by field against rules.def */
    const struct mc_rule_info *ri = mc_rule_info(MC_R_POP3_STATUS_CASE);
    assert_string_equal(ri->id, "POP3.STATUS.CASE");
    assert_int_equal(ri->proto, MC_PROTO_POP3);
    assert_int_equal(ri->side, MC_SIDE_SERVER);
    assert_int_equal(ri->level, MC_LEVEL_MUST);
    assert_int_equal(ri->severity, MC_SEV_ERROR);
    assert_int_equal(ri->rfc, 1939);
    assert_string_equal(ri->section, "3");

    ri = mc_rule_info(MC_R_POP3_PIPELINING_UNADVERTISED);
    assert_string_equal(ri->id, "POP3.PIPELINING.UNADVERTISED");
    assert_int_equal(ri->side, MC_SIDE_CLIENT);
    assert_int_equal(ri->level, MC_LEVEL_INTEROP);
    assert_int_equal(ri->severity, MC_SEV_NOTE);
    assert_int_equal(ri->rfc, 2449);
    assert_string_equal(ri->section, "6.6");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata_complete),
        cmocka_unit_test(test_id_format),
        cmocka_unit_test(test_ids_unique),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_anom_mappings),
        cmocka_unit_test(test_anom_messages_fit),
        cmocka_unit_test(test_severity),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_known_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
