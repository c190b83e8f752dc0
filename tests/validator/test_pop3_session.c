/*
 * POP3 session validation through the generic session API
 * (validator/session/session.h, validator/pop3/pop3_session.c).
 *
 * A conversation is a table of steps (client chunk, server chunk, TLS
 * marker, gap, close), fed to mc_session_* exactly as the transcript reader,
 * the relay and the capture reader do. Every finding is recorded (rule,
 * offset, side, direction, origin line, excerpt, message) and compared with
 * the expected list "RULE@offset" in order. The origin line of a chunk is its
 * 1-based index in the step table, as a transcript would number it.
 *
 * Every run also checks invariants that hold for all findings: session name,
 * default severity, protocol, direction matching the rule's side, and no
 * offset inside a gap (docs/transcript.md: "nothing inside the gap is blamed").
 *
 * The split-invariance test feeds every conversation whole, byte by byte, and
 * split at every position of every chunk; the findings must not change.
 *
 * Tests named test_bug_* are regressions for defects found while writing
 * this file (split-dependent STLS findings, held chunks' origins, implicit
 * TLS markers, credential leaks, gap false positives).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session/session.h"

#define SESSION_PROTO MC_PROTO_POP3
#include "session_harness.h"

/* ---- POP3 pieces of conversations ---------------------------------------- */

/* 16 octets */
#define GREET "+OK POP3 ready\r\n"
/* greeting with an APOP timestamp (RFC 1939 s7 example) */
#define GREET_TS "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"
/* Logged in: client offset 16, server offset 26 afterwards. */
#define LOGIN S(GREET), C("USER a\r\n"), S("+OK\r\n"), C("PASS b\r\n"), S("+OK\r\n")

#define A10 "aaaaaaaaaa"
#define A100 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10
/* Two TLS records that hold CRLF, LF, NUL and status-like text. */
#define TLS_CLIENT "\x16\x03\x01\x00\x2e\x01\x00\x00\x2a\x03\x03\r\n\x00+OK\nUSER x\r\n"
#define TLS_SERVER "\x16\x03\x03\x00\x0a\x02\x00\x00\x06\r\n-ERR\n\x00\x14\x03\x03"

/* ---- expectations ------------------------------------------------------ */

/* Runs sc whole and compares the findings with w, in order. */
static void expect(const struct step *sc, enum mc_proto proto, const struct want *w)
{
    static struct flog l_store;
    struct flog *l = &l_store;
    run(sc, proto, l);
    assert_log(l, w);
}

/* ---- conversations shared by several tests ----------------------------- */

static const struct step conv_full[] = {
    S(GREET_TS),
    C("CAPA\r\n"),
    S("+OK Capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nRESP-CODES\r\nSASL PLAIN\r\n.\r\n"),
    C("USER alice\r\n"),
    S("+OK\r\n"),
    C("PASS s3cr3t\r\n"),
    S("+OK [IN-USE/X] 2 messages\r\n"),
    C("STAT\r\n"),
    S("+OK 2 320\r\n"),
    C("LIST\r\n"),
    S("+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n"),
    C("LIST 2\r\n"),
    S("+OK 2 200\r\n"),
    C("UIDL\r\n"),
    S("+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n"),
    C("UIDL 1\r\n"),
    S("+OK 1 whqtswO00WBw418f9t5JxYwZ\r\n"),
    C("TOP 1 0\r\n"),
    S("+OK\r\nSubject: hi\r\n\r\n.\r\n"),
    C("RETR 1\r\n"),
    S("+OK 120 octets\r\nSubject: hi\r\n\r\n..dot-stuffed\r\n.\r\n"),
    C("DELE 1\r\n"),
    S("+OK message 1 deleted\r\n"),
    C("LIST\r\n"),
    S("+OK\r\n2 200\r\n.\r\n"),
    C("RSET\r\n"),
    S("+OK maildrop has 2 messages\r\n"),
    C("NOOP\r\n"),
    S("+OK\r\n"),
    C("RETR 1\r\n"),
    S("+OK\r\nx\r\n.\r\n"),
    C("DELE 2\r\n"),
    S("+OK\r\n"),
    C("QUIT\r\n"),
    S("+OK dewey POP3 server signing off\r\n"),
    CLOSEC,
    CLOSES,
    END,
};

static const struct step conv_apop[] = {
    S(GREET_TS),
    C("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"),
    S("+OK mrose's maildrop has 2 messages (320 octets)\r\n"),
    C("STAT\r\n"),
    S("+OK 2 320\r\n"),
    C("QUIT\r\n"),
    S("+OK\r\n"),
    END,
};

static const struct step conv_auth[] = {
    S(GREET),
    C("CAPA\r\n"),
    S("+OK\r\nSASL PLAIN LOGIN\r\n.\r\n"),
    C("AUTH PLAIN\r\n"),
    S("+ \r\n"),
    C("AGFsaWNlAHMzY3IzdA==\r\n"),
    S("+OK\r\n"),
    C("LIST\r\n"),
    S("+OK\r\n.\r\n"),
    C("QUIT\r\n"),
    S("+OK\r\n"),
    END,
};

static const struct step conv_auth_login[] = {
    S(GREET),
    C("AUTH LOGIN\r\n"),
    S("+ VXNlcm5hbWU6\r\n"),
    C("YWxpY2U=\r\n"),
    S("+ UGFzc3dvcmQ6\r\n"),
    C("czNjcjN0\r\n"),
    S("+OK\r\n"),
    C("QUIT\r\n"),
    S("+OK\r\n"),
    END,
};

static const struct step conv_auth_ir[] = {
    S(GREET),
    C("AUTH PLAIN AGFsaWNlAHMzY3IzdA==\r\n"),
    S("+OK\r\n"),
    C("AUTH PLAIN =\r\n"), /* wrong state, but '=' is a valid initial response */
    S("-ERR\r\n"),
    END,
};

static const struct step conv_stls_opaque[] = {
    S(GREET),
    C("CAPA\r\n"),
    S("+OK\r\nSTLS\r\nUSER\r\n.\r\n"),
    C("STLS\r\n"),
    S("+OK Begin TLS negotiation\r\n"),
    C(TLS_CLIENT),
    S(TLS_SERVER),
    C(TLS_CLIENT),
    GAPS(100),
    S(TLS_SERVER),
    GAPC(7),
    C("\x17\x03\x03\x00\x05PASS"), /* ends inside a "line": no UNTERMINATED */
    CLOSEC,
    S("\x17\x03\x03\x00\x02\r"),
    CLOSES,
    END,
};

static const struct step conv_stls_decrypted[] = {
    S(GREET),
    C("CAPA\r\n"),
    S("+OK\r\nSTLS\r\nUSER\r\n.\r\n"),
    C("STLS\r\n"),
    S("+OK\r\n"),
    TLSD,
    C("CAPA\r\n"),
    S("+OK\r\nUSER\r\nPIPELINING\r\n.\r\n"),
    C("USER a\r\nPASS b\r\n"),
    S("+OK\r\n+OK\r\n"),
    C("QUIT\r\n"),
    S("+OK\r\n"),
    END,
};

static const struct step conv_client_first[] = {
    C("CAPA\r\n"),   /* 0 */
    C("XYZW\r\n"),   /* 6 */
    S("+OK hi\r\n"),
    S("+OK\r\n.\r\n"),
    S("-ERR\r\n"),
    C("NOOP\r\n"),   /* 12 */
    S("-ERR\r\n"),
    END,
};

static const struct step conv_wrong_state[] = {
    S(GREET),                        /* s 0 */
    C("RETR 1\r\n"),                 /* c 0 */
    S("-ERR not yet\r\n"),           /* s 16 */
    C("RETR 1\r\n"),                 /* c 8 */
    S("+OK\r\nbody\r\n.\r\n"),       /* s 30 */
    C("STAT\r\n"),                   /* c 16 */
    S("+OK 0 0\r\n"),                /* s 44 */
    END,
};

static const struct step conv_pass_without_user[] = {
    S(GREET),                        /* s 0 */
    C("PASS b\r\n"),                 /* c 0 */
    S("-ERR\r\n"),                   /* s 16 */
    C("USER a\r\n"),                 /* c 8 */
    S("-ERR no such user\r\n"),      /* s 22 */
    C("PASS b\r\n"),                 /* c 16 */
    S("+OK\r\n"),                    /* s 41 */
    C("USER a\r\n"),                 /* c 24 */
    S("+OK\r\n"),                    /* s 46 */
    C("CAPA\r\n"),                   /* c 32 */
    S("+OK\r\n.\r\n"),               /* s 51 */
    C("PASS b\r\n"),                 /* c 38: not right after USER */
    S("-ERR\r\n"),                   /* s 59 */
    END,
};

static const struct step conv_listings[] = {
    LOGIN,
    C("STAT\r\n"),                                     /* c 16 */
    S("+OK 2 x\r\n"),                                  /* s 26 */
    C("LIST 1\r\n"),                                   /* c 22 */
    S("+OK 2 120\r\n"),                                /* s 35 */
    C("LIST\r\n"),                                     /* c 30 */
    S("+OK\r\n1 120\r\n2 1x0\r\n.\r\n"),               /* s 46 */
    C("UIDL\r\n"),                                     /* c 36 */
    S("+OK\r\n1 abc\r\n2 abc\r\n3 \r\n.\r\n"),         /* s 68 */
    C("UIDL 2\r\n"),                                   /* c 42 */
    S("+OK 3 abc\r\n"),                                /* s 94 */
    C("UIDL 1\r\n"),                                   /* c 50 */
    S("+OK 1\r\n"),                                    /* s 105 */
    C("LIST 1\r\n"),                                   /* c 58 */
    S("+OK 1 120 extra words\r\n"),                    /* s 112: text after the size is allowed */
    END,
};

static const struct step conv_deleted[] = {
    LOGIN,
    C("DELE 1\r\n"),                                   /* c 16 */
    S("+OK\r\n"),                                      /* s 26 */
    C("RETR 1\r\n"),                                   /* c 24 */
    S("-ERR message 1 deleted\r\n"),                   /* s 31 */
    C("RETR 1\r\n"),                                   /* c 32 */
    S("+OK\r\nx\r\n.\r\n"),                            /* s 55 */
    C("LIST\r\n"),                                     /* c 40 */
    S("+OK\r\n1 5\r\n2 7\r\n.\r\n"),                   /* s 66 */
    C("RSET\r\n"),                                     /* c 46 */
    S("+OK\r\n"),                                      /* s 84 */
    C("RETR 1\r\n"),                                   /* c 52 */
    S("+OK\r\nx\r\n.\r\n"),                            /* s 89 */
    C("DELE 1\r\n"),                                   /* c 60 */
    S("+OK\r\n"),                                      /* s 100 */
    C("DELE 1\r\n"),                                   /* c 68 */
    S("-ERR already deleted\r\n"),                     /* s 105 */
    C("UIDL\r\n"),                                     /* c 76 */
    S("+OK\r\n1 a\r\n.\r\n"),                          /* s 127 */
    C("TOP 1 0\r\n"),                                  /* c 82 */
    S("-ERR\r\n"),                                     /* s 140 */
    END,
};

static const struct step conv_quit[] = {
    LOGIN,
    C("QUIT\r\n"),                                     /* c 16 */
    S("+OK bye\r\n"),                                  /* s 26 */
    C("NOOP\r\n"),                                     /* c 22 */
    S("+OK\r\n"),                                      /* s 35 */
    C("STAT\r\n"),                                     /* c 28 */
    S("-ERR\r\n"),                                     /* s 40 */
    END,
};

static const struct step conv_pipelining_unadvertised[] = {
    LOGIN,
    C("STAT\r\nLIST 1\r\n"),                           /* c 16, 22 */
    S("+OK 1 5\r\n+OK 1 5\r\n"),
    C("NOOP\r\nNOOP\r\n"),                             /* reported once per session */
    S("+OK\r\n+OK\r\n"),
    END,
};

static const struct step conv_pipelining_advertised[] = {
    S(GREET),
    C("CAPA\r\n"),
    S("+OK\r\nPIPELINING\r\nUSER\r\n.\r\n"),
    C("USER a\r\nPASS b\r\n"),
    S("+OK\r\n+OK\r\n"),
    C("STAT\r\nLIST 1\r\nUIDL 1\r\nNOOP\r\n"),
    S("+OK 1 5\r\n+OK 1 5\r\n+OK 1 u1\r\n+OK\r\n"),
    END,
};

static const struct step conv_pipelining_before_capa[] = {
    S(GREET),
    C("CAPA\r\nUSER a\r\n"),                           /* c 6: PIPELINING not known yet */
    S("+OK\r\nPIPELINING\r\n.\r\n+OK\r\n"),
    END,
};

static const struct step conv_stls_injection[] = {
    S(GREET),                                          /* s 0 */
    C("CAPA\r\n"),                                     /* c 0 */
    S("+OK\r\nSTLS\r\n.\r\n"),                         /* s 16 */
    C("STLS\r\nCAPA\r\n"),                             /* c 6, 12 */
    S("+OK Begin TLS\r\n"),                            /* s 30 */
    C(TLS_CLIENT),
    S(TLS_SERVER),
    END,
};

static const struct step conv_stls_injection_answered[] = {
    S(GREET),
    C("CAPA\r\n"),
    S("+OK\r\nSTLS\r\n.\r\n"),
    C("STLS\r\nCAPA\r\n"),                             /* c 6, 12 */
    S("+OK Begin TLS\r\n"),                            /* s 30 */
    S("+OK\r\nSTLS\r\n.\r\n"),                         /* s 45: answers the injected CAPA */
    C(TLS_CLIENT),
    S(TLS_SERVER),
    END,
};

/* decrypted TLS after an injection: a conformant server discarded the
 * injected command, so the first answer inside TLS belongs to CAPA */
static const struct step conv_stls_injection_tls_discarded[] = {
    S(GREET),
    C("STLS\r\nXYZW\r\n"),                             /* c 6 */
    S("+OK\r\n"),
    TLSD,
    C("CAPA\r\n"),
    S("+OK\r\nUSER\r\n.\r\n"),
    C("USER a\r\n"),
    S("+OK\r\n"),
    END,
};

/* ... and a server that answers the injected command inside TLS */
static const struct step conv_stls_injection_tls_answered[] = {
    S(GREET),
    C("STLS\r\nNOOP\r\n"),                             /* c 6 */
    S("+OK\r\n"),
    TLSD,
    S("-ERR\r\n"),                                     /* s 21 */
    C("CAPA\r\n"),
    S("+OK\r\nUSER\r\n.\r\n"),
    END,
};

static const struct step conv_stls_response_injection[] = {
    S(GREET),
    C("STLS\r\n"),
    S("+OK\r\n"),                                      /* s 16 */
    S("-ERR injected\r\n"),                            /* s 21 */
    C(TLS_CLIENT),
    S(TLS_SERVER),
    END,
};

static const struct step conv_tls_no_capa[] = {
    S(GREET),
    C("CAPA\r\n"),                                     /* c 0 */
    S("+OK\r\nSTLS\r\nUSER\r\n.\r\n"),
    C("STLS\r\n"),                                     /* c 6 */
    S("+OK\r\n"),
    TLSD,
    C("USER a\r\n"),                                   /* c 12 */
    S("+OK\r\n"),
    C("PASS b\r\n"),                                   /* c 20: reported once */
    S("+OK\r\n"),
    END,
};

static const struct step conv_stls_in_tls[] = {
    S(GREET),
    C("CAPA\r\n"),
    S("+OK\r\nSTLS\r\nUSER\r\n.\r\n"),                 /* s 16 */
    C("STLS\r\n"),
    S("+OK\r\n"),                                      /* s 36 */
    TLSD,
    C("CAPA\r\n"),                                     /* c 12 */
    S("+OK\r\nSTLS\r\n.\r\n"),                         /* s 41; "STLS" at 46 */
    END,
};

static const struct step conv_cleartext[] = {
    S(GREET),
    C("CAPA\r\n"),
    S("+OK\r\nSTLS\r\n.\r\n"),
    C("USER a\r\n"),                                   /* c 6 */
    S("+OK\r\n"),
    C("PASS b\r\n"),                                   /* c 14 */
    S("+OK\r\n"),
    END,
};

static const struct step conv_cleartext_auth[] = {
    S(GREET),
    C("CAPA\r\n"),
    S("+OK\r\nSTLS\r\nSASL PLAIN CRAM-MD5\r\n.\r\n"),
    C("AUTH CRAM-MD5\r\n"),                            /* not a password mechanism */
    S("-ERR\r\n"),
    C("AUTH PLAIN AGFsaWNlAHMzY3IzdA==\r\n"),          /* c 21 */
    S("+OK\r\n"),
    END,
};

static const struct step conv_gap_client_tail[] = {
    LOGIN,
    C("NOOP\r\nNO\x01"),                               /* damaged line: dropped */
    GAPC(10),
    CLOSEC,
    S("+OK\r\n"),
    END,
};

static const struct step conv_gap_server_body[] = {
    LOGIN,
    C("RETR 1\r\n"),
    S("+OK\r\nline1\r\nli"),
    GAPS(100),
    S("ne\x00" "b\rad\r\nmore\r\n.\r\n"),              /* rest of the damaged line: dropped */
    C("NOOP\r\n"),
    S("+OK\r\n"),
    END,
};

static const struct step conv_gap_server_capa[] = {
    S(GREET),
    C("CAPA\r\n"),
    S("+OK\r\nTOP\r\nUS"),
    GAPS(7),
    S("  bad..\r\nUIDL\r\nPIPELINING\r\n.\r\n"),
    C("USER a\r\nPASS b\r\n"),                         /* PIPELINING was still read */
    S("+OK\r\n+OK\r\n"),
    END,
};

static const struct step conv_unterminated[] = {
    LOGIN,
    C("RETR 1\r\n"),
    S("+OK\r\nabc\r\n"),                               /* s 26; ends at 36 */
    C("NOOP"),                                         /* c 24; ends at 28 */
    CLOSES,                                            /* server goes first */
    CLOSEC,
    END,
};

/* ---- basic API ----------------------------------------------------------- */

static void test_api_basics(void **state)
{
    (void)state;
    struct mc_session *s = mc_session_new("name", MC_PROTO_UNKNOWN, NULL, NULL);
    assert_non_null(s);
    assert_string_equal(mc_session_name(s), "name");
    assert_int_equal(mc_session_proto(s), MC_PROTO_UNKNOWN);
    assert_false(mc_session_in_tls(s));
    /* a NULL callback is allowed: findings are still counted */
    mc_session_data(s, MC_DIR_S2C, (const uint8_t *)"-ERR no\r\n", 9, NULL);
    assert_int_equal(mc_session_proto(s), MC_PROTO_POP3);
    assert_true(mc_session_validated(s));
    assert_int_equal(mc_session_findings(s), 1);
    mc_session_finish(s);
    mc_session_finish(s);
    /* after finish, input is ignored */
    mc_session_data(s, MC_DIR_S2C, (const uint8_t *)"bogus\n", 6, NULL);
    assert_int_equal(mc_session_findings(s), 1);
    mc_session_free(s);
    mc_session_free(NULL);

    s = mc_session_new(NULL, MC_PROTO_POP3, NULL, NULL);
    assert_non_null(s);
    assert_non_null(mc_session_name(s));
    assert_int_equal(mc_session_proto(s), MC_PROTO_POP3);
    mc_session_free(s);
}

/* What is not a mail protocol with a validator is detected and counted,
 * not checked (SMTP and IMAP detection: their own tests and goldens). */
static void test_detect_other_protocols(void **state)
{
    (void)state;
    static const struct {
        const char *greeting;
        enum mc_proto proto;
    } cases[] = {
        {"\x16\x03\x03\x00\x10", MC_PROTO_TLS},
        {"hello\r\n", MC_PROTO_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        static struct flog l_store;
    struct flog *l = &l_store;
        struct step sc[] = {
            C("garbage before\n"),
            {K_S, cases[i].greeting, strlen(cases[i].greeting), 0},
            C("\x01\x02\x03\n"),
            END,
        };
        run(sc, MC_PROTO_UNKNOWN, l);
        assert_int_equal(l->proto, cases[i].proto);
        assert_false(l->validated);
        assert_int_equal(l->n, 0);
    }
}

/* ---- conformant sessions are silent ------------------------------------ */

static void test_conformant_sessions(void **state)
{
    (void)state;
    const struct step *const convs[] = {
        conv_full, conv_apop, conv_auth, conv_auth_login, conv_stls_opaque, conv_stls_decrypted,
        conv_pipelining_advertised,
    };
    for (size_t i = 0; i < sizeof(convs) / sizeof(convs[0]); i++) {
        expect(convs[i], MC_PROTO_POP3, NONE);
        expect(convs[i], MC_PROTO_UNKNOWN, NONE);
    }
    expect(conv_auth_ir, MC_PROTO_POP3, WANT(W(POP3_CMD_WRONG_STATE, 33)));
}

/* ---- protocol detection ------------------------------------------------ */

static void test_detect_client_first(void **state)
{
    (void)state;
    static struct flog l_store;
    struct flog *l = &l_store;
    run(conv_client_first, MC_PROTO_UNKNOWN, l);
    assert_int_equal(l->proto, MC_PROTO_POP3);
    assert_true(l->validated);
    /* held octets replayed in order, before the greeting; offsets continue
     * correctly afterwards (NOOP at 12) */
    assert_log(l, WANT(W(POP3_CMD_BEFORE_GREETING, 0), W(POP3_UNKNOWN_COMMAND, 6),
                       W(POP3_CMD_WRONG_STATE, 12)));
    assert_int_equal(l->r[0].line, 1);
    assert_int_equal(l->r[2].line, 6);

    /* the same with the protocol given */
    expect(conv_client_first, MC_PROTO_POP3,
           WANT(W(POP3_CMD_BEFORE_GREETING, 0), W(POP3_UNKNOWN_COMMAND, 6),
                W(POP3_CMD_WRONG_STATE, 12)));
}

static void test_detect_hold_overflow(void **state)
{
    (void)state;
    /* More than the detection hold (4096 octets) before the greeting: the
     * excess becomes a gap, and later offsets still count every octet. */
    static char flood[700 * 6 + 1];
    for (int i = 0; i < 700; i++)
        memcpy(flood + 6 * i, "NOOP\r\n", 6);
    struct step sc[] = {
        C("CAPA\r\n"),                      /* 0 */
        {K_C, flood, 700 * 6, 0},           /* 6 .. 4206 */
        S(GREET),
        C("XYZW\r\n"),                      /* 4206: swallowed by the resync after the gap */
        C("ABCD\r\n"),                      /* 4212 */
        END,
    };
    static struct flog l_store;
    struct flog *l = &l_store;
    run(sc, MC_PROTO_UNKNOWN, l);
    assert_log(l, WANT(W(POP3_CMD_BEFORE_GREETING, 0), W(POP3_UNKNOWN_COMMAND, 4212),
                       W(POP3_PIPELINING_UNADVERTISED, 4212)));
}

/* ---- greeting and state machine ---------------------------------------- */

static void test_greeting(void **state)
{
    (void)state;
    expect(SCRIPT(S("-ERR go away\r\n")), MC_PROTO_UNKNOWN, WANT(W(POP3_GREETING_NOT_OK, 0)));
    expect(SCRIPT(S("OK hi\r\n")), MC_PROTO_POP3,
           WANT(W(POP3_STATUS_INVALID, 0), W(POP3_GREETING_NOT_OK, 0)));
    expect(SCRIPT(S("+ok hi\r\n")), MC_PROTO_POP3, WANT(W(POP3_STATUS_CASE, 0)));
    expect(SCRIPT(S("+OK ready <nodomain>\r\n")), MC_PROTO_POP3, WANT(W(POP3_TIMESTAMP_SYNTAX, 10)));
    expect(SCRIPT(S(GREET_TS)), MC_PROTO_POP3, NONE);
    /* a second status line with nothing asked */
    expect(SCRIPT(S(GREET), S("+OK\r\n")), MC_PROTO_POP3, WANT(W(POP3_UNSOLICITED_RESPONSE, 16)));
}

static void test_wrong_state(void **state)
{
    (void)state;
    expect(conv_wrong_state, MC_PROTO_POP3,
           WANT(W(POP3_CMD_WRONG_STATE, 0), W(POP3_CMD_WRONG_STATE, 8),
                W(POP3_OK_IN_WRONG_STATE, 30), W(POP3_CMD_WRONG_STATE, 16),
                W(POP3_OK_IN_WRONG_STATE, 44)));
}

static void test_user_pass(void **state)
{
    (void)state;
    /* accepted login moves to TRANSACTION: USER is now out of state, STAT fine */
    expect(SCRIPT(LOGIN, C("USER a\r\n"), S("-ERR\r\n"), C("STAT\r\n"), S("+OK 0 0\r\n")),
           MC_PROTO_POP3, WANT(W(POP3_CMD_WRONG_STATE, 16)));
    /* a refused PASS keeps AUTHORIZATION */
    expect(SCRIPT(S(GREET), C("USER a\r\n"), S("+OK\r\n"), C("PASS b\r\n"), S("-ERR\r\n"),
                  C("STAT\r\n"), S("-ERR\r\n")),
           MC_PROTO_POP3, WANT(W(POP3_CMD_WRONG_STATE, 16)));
    expect(conv_pass_without_user, MC_PROTO_POP3,
           WANT(W(POP3_PASS_WITHOUT_USER, 0), W(POP3_PASS_WITHOUT_USER, 16),
                W(POP3_OK_IN_WRONG_STATE, 41), W(POP3_PASS_WITHOUT_USER, 38)));
    /* a syntactically invalid command accepted */
    expect(SCRIPT(LOGIN, C("RETR x\r\n"), S("+OK\r\nx\r\n.\r\n")), MC_PROTO_POP3,
           WANT(W(POP3_ARG_NOT_NUMBER, 21), W(POP3_OK_TO_INVALID, 26)));
}

static void test_apop(void **state)
{
    (void)state;
    expect(conv_apop, MC_PROTO_POP3, NONE);
    expect(SCRIPT(S(GREET), C("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"), S("+OK\r\n")),
           MC_PROTO_POP3, WANT(W(POP3_APOP_NO_TIMESTAMP, 16)));
    /* refused without a timestamp: nothing wrong */
    expect(SCRIPT(S(GREET), C("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"), S("-ERR\r\n")),
           MC_PROTO_POP3, NONE);
    expect(SCRIPT(S(GREET_TS), C("APOP mrose C4C9334BAC560ECC979E58001B3E22FB\r\n"), S("-ERR\r\n")),
           MC_PROTO_POP3, WANT(W(POP3_APOP_DIGEST_SYNTAX, 11)));
    expect(SCRIPT(S(GREET_TS), C("APOP mrose C4C9334BAC560ECC979E58001B3E22FB\r\n"), S("+OK\r\n")),
           MC_PROTO_POP3, WANT(W(POP3_APOP_DIGEST_SYNTAX, 11), W(POP3_OK_TO_INVALID, 57)));
}

static void test_auth(void **state)
{
    (void)state;
    expect(conv_auth, MC_PROTO_POP3, NONE);
    expect(conv_auth_login, MC_PROTO_POP3, NONE);
    /* cancelled and refused: fine; cancelled and accepted: server error */
    expect(SCRIPT(S(GREET), C("AUTH PLAIN\r\n"), S("+ \r\n"), C("*\r\n"), S("-ERR cancelled\r\n")),
           MC_PROTO_POP3, NONE);
    expect(SCRIPT(S(GREET), C("AUTH PLAIN\r\n"), S("+ \r\n"), C("*\r\n"), S("+OK\r\n")),
           MC_PROTO_POP3, WANT(W(POP3_AUTH_CANCEL_ACCEPTED, 20)));
    /* challenge syntax */
    expect(SCRIPT(S(GREET), C("AUTH LOGIN\r\n"), S("+ not base64!\r\n"), C("*\r\n"), S("-ERR\r\n")),
           MC_PROTO_POP3, WANT(W(POP3_SASL_CHALLENGE_SYNTAX, 21)));
    expect(SCRIPT(S(GREET), C("AUTH LOGIN\r\n"), S("+\r\n"), C("*\r\n"), S("-ERR\r\n")),
           MC_PROTO_POP3, WANT(W(POP3_SASL_CHALLENGE_SYNTAX, 17)));
    /* response syntax, after a challenge and as initial response */
    expect(SCRIPT(S(GREET), C("AUTH PLAIN\r\n"), S("+ \r\n"), C("abc!\r\n"), S("-ERR\r\n")),
           MC_PROTO_POP3, WANT(W(POP3_SASL_RESPONSE_SYNTAX, 15)));
    expect(SCRIPT(S(GREET), C("AUTH PLAIN abc\r\n"), S("-ERR\r\n")), MC_PROTO_POP3,
           WANT(W(POP3_SASL_RESPONSE_SYNTAX, 14)));
    /* a '+' with no AUTH running */
    expect(SCRIPT(S(GREET), C("NOOP\r\n"), S("+ \r\n"), S("-ERR\r\n")), MC_PROTO_POP3,
           WANT(W(POP3_UNSOLICITED_RESPONSE, 16), W(POP3_CMD_WRONG_STATE, 0)));
    /* after the exchange the client is parsed as commands again */
    expect(SCRIPT(S(GREET), C("AUTH PLAIN\r\n"), S("+ \r\n"), C("AGFsaWNlAHMzY3IzdA==\r\n"),
                  S("+OK\r\n"), C("XYZW\r\n"), S("-ERR\r\n")),
           MC_PROTO_POP3, WANT(W(POP3_UNKNOWN_COMMAND, 34)));
}

static void test_listings(void **state)
{
    (void)state;
    expect(conv_listings, MC_PROTO_POP3,
           WANT(W(POP3_LISTING_SYNTAX, 32), W(POP3_LISTING_WRONG_MSG, 39), W(POP3_LISTING_SYNTAX, 61),
                W(POP3_UID_DUPLICATE, 82), W(POP3_UID_INVALID, 89), W(POP3_LISTING_WRONG_MSG, 98),
                W(POP3_UIDL_SYNTAX, 110)));
}

static void test_deleted_messages(void **state)
{
    (void)state;
    expect(conv_deleted, MC_PROTO_POP3,
           WANT(W(POP3_CMD_DELETED_MSG, 24), W(POP3_CMD_DELETED_MSG, 32), W(POP3_OK_FOR_DELETED, 55),
                W(POP3_LISTING_DELETED, 71), W(POP3_CMD_DELETED_MSG, 68), W(POP3_LISTING_DELETED, 132),
                W(POP3_CMD_DELETED_MSG, 82)));
}

static void test_quit(void **state)
{
    (void)state;
    expect(conv_quit, MC_PROTO_POP3,
           WANT(W(POP3_CMD_AFTER_QUIT, 22), W(POP3_CMD_WRONG_STATE, 22), W(POP3_OK_IN_WRONG_STATE, 35),
                W(POP3_CMD_WRONG_STATE, 28)));
    /* QUIT in AUTHORIZATION is fine too */
    expect(SCRIPT(S(GREET), C("QUIT\r\n"), S("+OK\r\n"), CLOSEC, CLOSES), MC_PROTO_POP3, NONE);
}

static void test_pipelining(void **state)
{
    (void)state;
    expect(conv_pipelining_unadvertised, MC_PROTO_POP3, WANT(W(POP3_PIPELINING_UNADVERTISED, 22)));
    expect(conv_pipelining_advertised, MC_PROTO_POP3, NONE);
    expect(conv_pipelining_before_capa, MC_PROTO_POP3, WANT(W(POP3_PIPELINING_UNADVERTISED, 6)));
}

/* ---- STLS --------------------------------------------------------------- */

static void test_stls_command_injection(void **state)
{
    (void)state;
    static struct flog l_store;
    struct flog *l = &l_store;
    run(conv_stls_injection, MC_PROTO_POP3, l);
    assert_log(l, WANT(W(POP3_STLS_CMD_INJECTION, 12)));
    assert_true(l->in_tls);
    expect(conv_stls_injection_answered, MC_PROTO_POP3,
           WANT(W(POP3_STLS_CMD_INJECTION, 12), W(POP3_STLS_INJECTION_ANSWERED, 45)));
    /* STLS refused: the command behind it is still an injection attempt,
     * but plaintext goes on and is checked */
    expect(SCRIPT(S(GREET), C("STLS\r\nXYZW\r\n"), S("-ERR\r\n-ERR\r\n"), C("NOOP\r\n"),
                  S("-ERR\r\n")),
           MC_PROTO_POP3,
           WANT(W(POP3_UNKNOWN_COMMAND, 6), W(POP3_STLS_CMD_INJECTION, 6), W(POP3_CMD_WRONG_STATE, 12)));
    /* decrypted TLS: injected commands are not waiting for an answer */
    expect(conv_stls_injection_tls_discarded, MC_PROTO_POP3,
           WANT(W(POP3_UNKNOWN_COMMAND, 6), W(POP3_STLS_CMD_INJECTION, 6)));
    expect(conv_stls_injection_tls_answered, MC_PROTO_POP3,
           WANT(W(POP3_STLS_CMD_INJECTION, 6), W(POP3_STLS_INJECTION_ANSWERED, 21)));
}

static void test_stls_response_injection(void **state)
{
    (void)state;
    static struct flog l_store;
    struct flog *l = &l_store;
    run(conv_stls_response_injection, MC_PROTO_POP3, l);
    assert_log(l, WANT(W(POP3_STLS_RESPONSE_INJECTION, 21)));
    assert_true(l->in_tls);
}

static void test_stls_opaque_tls(void **state)
{
    (void)state;
    /* After +OK to STLS everything is TLS records: CRLF, NUL, "+OK" inside
     * them, gaps and an unterminated last record produce nothing. */
    static struct flog l_store;
    struct flog *l = &l_store;
    run(conv_stls_opaque, MC_PROTO_POP3, l);
    assert_log(l, NONE);
    assert_true(l->in_tls);
    /* the same with an explicit '! tls' marker after the +OK */
    run(SCRIPT(S(GREET), C("STLS\r\n"), S("+OK\r\n"), TLS, C(TLS_CLIENT), S(TLS_SERVER),
               C("\x15\x03\x03\x00\x02\x01\x00"), CLOSEC, CLOSES),
        MC_PROTO_POP3, l);
    assert_log(l, NONE);
    assert_true(l->in_tls);
    /* -ERR to STLS: no TLS, the plaintext is still checked */
    run(SCRIPT(S(GREET), C("STLS\r\n"), S("-ERR\r\n"), C("XYZW\r\n"), S("-ERR\r\n")), MC_PROTO_POP3, l);
    assert_log(l, WANT(W(POP3_UNKNOWN_COMMAND, 6)));
    assert_false(l->in_tls);
}

static void test_stls_decrypted(void **state)
{
    (void)state;
    expect(conv_stls_decrypted, MC_PROTO_POP3, NONE);
    expect(conv_tls_no_capa, MC_PROTO_POP3, WANT(W(POP3_CAPA_NOT_REISSUED, 12)));
    expect(conv_stls_in_tls, MC_PROTO_POP3, WANT(W(POP3_STLS_ADVERTISED_IN_TLS, 46)));
    /* capabilities from before TLS are void: PIPELINING must be re-learned */
    expect(SCRIPT(S(GREET), C("CAPA\r\n"), S("+OK\r\nSTLS\r\nPIPELINING\r\n.\r\n"), C("STLS\r\n"),
                  S("+OK\r\n"), TLSD, C("NOOP\r\nNOOP\r\n"), S("-ERR\r\n-ERR\r\n")),
           MC_PROTO_POP3, WANT(W(POP3_PIPELINING_UNADVERTISED, 18), W(POP3_CMD_WRONG_STATE, 12),
                               W(POP3_CMD_WRONG_STATE, 18)));
}

static void test_cleartext_password(void **state)
{
    (void)state;
    expect(conv_cleartext, MC_PROTO_POP3, WANT(W(POP3_CLEARTEXT_PASSWORD, 14)));
    expect(conv_cleartext_auth, MC_PROTO_POP3, WANT(W(POP3_CLEARTEXT_PASSWORD, 21)));
    /* no STLS offered: nothing to say */
    expect(SCRIPT(S(GREET), C("CAPA\r\n"), S("+OK\r\nUSER\r\n.\r\n"), C("USER a\r\n"), S("+OK\r\n"),
                  C("PASS b\r\n"), S("+OK\r\n")),
           MC_PROTO_POP3, NONE);
}

/* Stripping and downgrade (RFC 8314 s5.2): the client asked for TLS and was
 * refused, or was told to start TLS and did not. */
static const struct step conv_stls_refused_pass[] = {
    S(GREET), C("STLS\r\n"), S("-ERR TLS not available\r\n"),
    C("USER a\r\n"), S("+OK\r\n"), C("PASS b\r\n"), S("+OK\r\n"),   /* PASS at c 14 */
    END};
static const struct step conv_stls_goahead_plaintext[] = {
    S(GREET), C("STLS\r\n"), S("+OK begin TLS\r\n"),
    C("USER a\r\n"), C("PASS b\r\n"),                                    /* c 6, 14 */
    END};
static const struct step conv_stls_goahead_close[] = {
    S(GREET), C("STLS\r\n"), S("+OK begin TLS\r\n"), CLOSEC, CLOSES, END};
/* an injected "+OK" after the go-ahead; inside TLS the client sends USER
 * before the answer to its CAPA: it took the injected line for that answer */
static const struct step conv_stls_injected_used[] = {
    S(GREET), C("STLS\r\n"), S("+OK\r\n+OK injected\r\n"),            /* injected at s 21 */
    TLSD, C("CAPA\r\n"), C("USER a\r\n"),                                /* c 6, 12 */
    S("+OK\r\nUSER\r\n.\r\n+OK\r\n"), END};

static const struct step conv_stls_answered_after_hello[] = {
    S(GREET), C("STLS\r\nCAPA\r\n"), S("+OK\r\n"), TLS, C("\x16\x03\x01\x00\x05hello"),
    S("+OK\r\nUSER\r\n.\r\n"), END};                                      /* answer at s 21 */

static void test_stls_downgrade(void **state)
{
    (void)state;
    expect(conv_stls_refused_pass, MC_PROTO_POP3, WANT(W(POP3_STLS_REFUSED_CREDENTIALS, 14)));
    /* APOP and password-derived SASL are credentials too; EXTERNAL is not */
    expect(SCRIPT(S(GREET), C("STLS\r\n"), S("-ERR\r\n"),
                  C("APOP a c4c9334bac560ecc979e58001b3e22fb\r\n"), S("-ERR\r\n")),
           MC_PROTO_POP3, WANT(W(POP3_STLS_REFUSED_CREDENTIALS, 6)));
    expect(SCRIPT(S(GREET), C("STLS\r\n"), S("-ERR\r\n"), C("AUTH SCRAM-SHA-256\r\n"),
                  S("-ERR\r\n")),
           MC_PROTO_POP3, WANT(W(POP3_STLS_REFUSED_CREDENTIALS, 6)));
    expect(SCRIPT(S(GREET), C("STLS\r\n"), S("-ERR\r\n"), C("AUTH EXTERNAL =\r\n"),
                  S("-ERR\r\n")),
           MC_PROTO_POP3, NONE);
    /* no STLS asked for and none offered: POP3-Plain, nothing to say */
    expect(SCRIPT(LOGIN), MC_PROTO_POP3, NONE);
    /* the +OK to STLS, then plaintext: injection, and the password is out */
    expect(conv_stls_goahead_plaintext, MC_PROTO_POP3,
           WANT(W(POP3_STLS_CMD_INJECTION, 6), W(POP3_STLS_CMD_INJECTION, 14),
                W(POP3_CLEARTEXT_PASSWORD, 14)));
    expect(conv_stls_goahead_close, MC_PROTO_POP3, WANT(W(POP3_STLS_NO_HANDSHAKE, 6)));
    /* the server went first, or the capture just ended: nothing */
    expect(SCRIPT(S(GREET), C("STLS\r\n"), S("+OK\r\n"), CLOSES, CLOSEC), MC_PROTO_POP3, NONE);
    expect(SCRIPT(S(GREET), C("STLS\r\n"), S("+OK\r\n")), MC_PROTO_POP3, NONE);
    /* a TLS handshake, then the close: nothing */
    expect(SCRIPT(S(GREET), C("STLS\r\n"), S("+OK\r\n"), C("\x16\x03\x01\x00\x05hello"),
                  CLOSEC, CLOSES),
           MC_PROTO_POP3, NONE);
    expect(conv_stls_injected_used, MC_PROTO_POP3,
           WANT(W(POP3_STLS_RESPONSE_INJECTION, 21), W(POP3_STLS_INJECTED_RESPONSE_USED, 12)));
    /* the client waits for the answer inside TLS: only the server is at fault */
    expect(SCRIPT(S(GREET), C("STLS\r\n"), S("+OK\r\n+OK injected\r\n"), TLSD,
                  C("CAPA\r\n"), S("+OK\r\nUSER\r\n.\r\n"), C("USER a\r\n"), S("+OK\r\n")),
           MC_PROTO_POP3, WANT(W(POP3_STLS_RESPONSE_INJECTION, 21)));
    /* '! tls' at the client's ClientHello (as the relay writes it), then
     * the server answers the injected CAPA in plaintext: still seen */
    expect(conv_stls_answered_after_hello, MC_PROTO_POP3,
           WANT(W(POP3_STLS_CMD_INJECTION, 6), W(POP3_STLS_INJECTION_ANSWERED, 21)));
    check_split_invariance("stls answered after hello", conv_stls_answered_after_hello,
                           MC_PROTO_POP3, true);
    check_split_invariance("stls refused", conv_stls_refused_pass, MC_PROTO_POP3, true);
    check_split_invariance("stls plaintext", conv_stls_goahead_plaintext, MC_PROTO_POP3, true);
    check_split_invariance("stls close", conv_stls_goahead_close, MC_PROTO_POP3, true);
    check_split_invariance("stls injected used", conv_stls_injected_used, MC_PROTO_POP3, true);
}

static void test_stls_wrong_state(void **state)
{
    (void)state;
    expect(SCRIPT(LOGIN, C("STLS\r\n"), S("-ERR\r\n")), MC_PROTO_POP3,
           WANT(W(POP3_STLS_WRONG_STATE, 16)));
}

/* ---- gaps and end of input --------------------------------------------- */

static void test_gaps(void **state)
{
    (void)state;
    expect(conv_gap_client_tail, MC_PROTO_POP3, NONE);
    expect(conv_gap_server_body, MC_PROTO_POP3, NONE);
    expect(conv_gap_server_capa, MC_PROTO_POP3, NONE);
    /* the +OK to STLS lost in a gap: the client's TLS record says the
     * handshake began (not plaintext injection, nor TLS parsed as POP3) */
    expect(SCRIPT(S(GREET), C("CAPA\r\n"), S("+OK\r\nSTLS\r\nUSER\r\n.\r\n"), C("STLS\r\n"),
                  GAPS(6), C(TLS_CLIENT), S(TLS_SERVER)),
           MC_PROTO_POP3, NONE);
    /* ... or it was -ERR: the client goes on in plaintext, not injection */
    expect(SCRIPT(S(GREET), C("CAPA\r\n"), S("+OK\r\nSTLS\r\nUSER\r\n.\r\n"), C("STLS\r\n"),
                  GAPS(7), C("QUIT\r\n"), S("+OK bye\r\n")),
           MC_PROTO_POP3, NONE);
    /* the same damage without the gap would be reported */
    expect(SCRIPT(LOGIN, C("RETR 1\r\n"), S("+OK\r\nline1\r\nline\x00" "b\rad\r\n.\r\n")),
           MC_PROTO_POP3, WANT(W(POP3_RESP_NUL, 42)));  /* a lone CR is legal content */
}

static void test_unterminated(void **state)
{
    (void)state;
    expect(conv_unterminated, MC_PROTO_POP3,
           WANT(W(POP3_MULTILINE_UNTERMINATED, 36)));  /* NOOP never ended: not a command */
    expect(SCRIPT(S("+OK hi"), CLOSES), MC_PROTO_POP3, WANT(W(POP3_RESP_UNTERMINATED, 6)));
    /* the capture just ends, or the peer had closed first: nobody to blame */
    expect(SCRIPT(S("+OK hi")), MC_PROTO_POP3, WANT_NONE);
    expect(SCRIPT(S(GREET), C("NOOP"), CLOSES, CLOSEC), MC_PROTO_POP3, WANT_NONE);
    /* closing one side only finishes that side */
    expect(SCRIPT(S(GREET), C("NOOP"), CLOSEC, S("-ERR\r\n")), MC_PROTO_POP3,
           WANT(W(POP3_CMD_UNTERMINATED, 4), W(POP3_CMD_WRONG_STATE, 0)));
}

static void test_origin_lines(void **state)
{
    (void)state;
    /* each finding names the chunk (transcript line) holding its offset */
    static struct flog l_store;
    struct flog *l = &l_store;
    run(conv_wrong_state, MC_PROTO_POP3, l);
    assert_int_equal(l->n, 5);
    assert_int_equal(l->r[0].line, 2);  /* RETR at c 0 */
    assert_int_equal(l->r[1].line, 4);  /* RETR at c 8 */
    assert_int_equal(l->r[2].line, 5);  /* +OK at s 30 */
    assert_int_equal(l->r[3].line, 6);  /* STAT at c 16 */
    assert_int_equal(l->r[4].line, 7);  /* +OK at s 44 */
}

/* ---- one trigger per rule ------------------------------------------------ */

static const struct trigger triggers[] = {
    /* server */
    T(POP3_RESP_BARE_LF, 6, S("+OK hi\n")),
    T(POP3_RESP_BARE_CR, 5, S("+OK h\ri\r\n")),
    T(POP3_RESP_NUL, 5, S("+OK h\0i\r\n")),
    T(POP3_RESP_TOO_LONG, 510, S("+OK " A100 A100 A100 A100 A100 A100 "\r\n")),
    T(POP3_RESP_UNTERMINATED, 6, S("+OK hi"), CLOSES),
    T(POP3_CAPA_LINE_TOO_LONG, 531,
      S(GREET), C("CAPA\r\n"), S("+OK\r\nX-LONG " A100 A100 A100 A100 A100 A100 "\r\n.\r\n")),
    T(POP3_STATUS_CASE, 0, S("+ok hi\r\n")),
    T(POP3_STATUS_INVALID, 0, S("OK hi\r\n")),
    T(POP3_STATUS_NO_SPACE, 3, S("+OKhi\r\n")),
    T(POP3_RESP_CODE_SYNTAX, 24, S(GREET), C("USER a\r\n"), S("-ERR [IN USE] busy\r\n")),
    T(POP3_RESP_TEXT_CONTROL, 5, S("+OK a\x01" "b\r\n")),
    T(POP3_GREETING_NOT_OK, 0, S("-ERR no\r\n")),
    T(POP3_TIMESTAMP_SYNTAX, 10, S("+OK ready <nodomain>\r\n")),
    T(POP3_MULTILINE_UNTERMINATED, 36, LOGIN, C("RETR 1\r\n"), S("+OK\r\nabc\r\n"), CLOSES),
    T(POP3_LISTING_SYNTAX, 30, LOGIN, C("STAT\r\n"), S("+OK x\r\n")),
    T(POP3_UIDL_SYNTAX, 31, LOGIN, C("UIDL\r\n"), S("+OK\r\nx abc\r\n.\r\n")),
    T(POP3_UID_INVALID, 103, LOGIN, C("UIDL\r\n"),
      S("+OK\r\n1 " A10 A10 A10 A10 A10 A10 A10 "a\r\n.\r\n")),
    T(POP3_UID_DUPLICATE, 38, LOGIN, C("UIDL\r\n"), S("+OK\r\n1 a\r\n2 a\r\n.\r\n")),
    T(POP3_LISTING_WRONG_MSG, 30, LOGIN, C("LIST 1\r\n"), S("+OK 2 5\r\n")),
    T(POP3_LISTING_DELETED, 36, LOGIN, C("DELE 1\r\n"), S("+OK\r\n"), C("LIST\r\n"),
      S("+OK\r\n1 5\r\n.\r\n")),
    T(POP3_CAPA_SYNTAX, 26, S(GREET), C("CAPA\r\n"), S("+OK\r\nSASL  PLAIN\r\n.\r\n")),
    T(POP3_SASL_CHALLENGE_SYNTAX, 21, S(GREET), C("AUTH LOGIN\r\n"), S("+ not base64!\r\n")),
    T(POP3_UNSOLICITED_RESPONSE, 16, S(GREET), S("+OK\r\n")),
    T(POP3_OK_TO_INVALID, 26, LOGIN, C("RETR x\r\n"), S("+OK\r\nx\r\n.\r\n")),
    T(POP3_OK_IN_WRONG_STATE, 16, S(GREET), C("STAT\r\n"), S("+OK 0 0\r\n")),
    T(POP3_OK_FOR_DELETED, 31, LOGIN, C("DELE 1\r\n"), S("+OK\r\n"), C("DELE 1\r\n"), S("+OK\r\n")),
    T(POP3_APOP_NO_TIMESTAMP, 16, S(GREET), C("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"),
      S("+OK\r\n")),
    T(POP3_AUTH_CANCEL_ACCEPTED, 20, S(GREET), C("AUTH PLAIN\r\n"), S("+ \r\n"), C("*\r\n"),
      S("+OK\r\n")),
    T(POP3_STLS_ADVERTISED_IN_TLS, 26, S(GREET), C("STLS\r\n"), S("+OK\r\n"), TLSD, C("CAPA\r\n"),
      S("+OK\r\nSTLS\r\n.\r\n")),
    T(POP3_STLS_RESPONSE_INJECTION, 21, S(GREET), C("STLS\r\n"), S("+OK\r\n"), S("+OK\r\n")),
    T(POP3_STLS_INJECTION_ANSWERED, 21, S(GREET), C("STLS\r\nNOOP\r\n"), S("+OK\r\n"), S("-ERR\r\n")),
    /* client */
    T(POP3_CMD_BARE_LF, 4, S(GREET), C("NOOP\n")),
    T(POP3_CMD_BARE_CR, 2, S(GREET), C("NO\rOP\r\n")),
    T(POP3_CMD_UNTERMINATED, 4, S(GREET), C("NOOP"), CLOSEC),
    T(POP3_CMD_NON_PRINTABLE, 6, S(GREET), C("USER a\0b\r\n")),
    T(POP3_CMD_TOO_LONG, 253, S(GREET), C("USER " A100 A100 A100 "\r\n")),
    T(POP3_CMD_EMPTY, 0, S(GREET), C("\r\n")),
    T(POP3_KEYWORD_SYNTAX, 0, S(GREET), C("NOOPS\r\n")),
    T(POP3_ARG_SPACING, 20, LOGIN, C("LIST  1\r\n")),
    T(POP3_ARG_COUNT, 4, S(GREET), C("USER\r\n")),
    T(POP3_ARG_NOT_NUMBER, 21, LOGIN, C("RETR x\r\n")),
    T(POP3_ARG_TOO_LONG, 45, S(GREET), C("USER " A10 A10 A10 A10 "a\r\n")),
    T(POP3_APOP_DIGEST_SYNTAX, 11, S(GREET), C("APOP mrose XYZ\r\n")),
    T(POP3_SASL_RESPONSE_SYNTAX, 14, S(GREET), C("AUTH PLAIN abc\r\n")),
    T(POP3_UNKNOWN_COMMAND, 0, S(GREET), C("XTND\r\n")),
    T(POP3_CMD_WRONG_STATE, 0, S(GREET), C("STAT\r\n"), S("-ERR\r\n")),
    T(POP3_PASS_WITHOUT_USER, 0, S(GREET), C("PASS b\r\n"), S("-ERR\r\n")),
    T(POP3_CMD_DELETED_MSG, 24, LOGIN, C("DELE 1\r\n"), S("+OK\r\n"), C("RETR 1\r\n"), S("-ERR\r\n")),
    T(POP3_CMD_BEFORE_GREETING, 0, C("CAPA\r\n"), S(GREET)),
    T(POP3_CMD_AFTER_QUIT, 6, S(GREET), C("QUIT\r\n"), S("+OK\r\n"), C("NOOP\r\n")),
    T(POP3_PIPELINING_UNADVERTISED, 6, S(GREET), C("CAPA\r\nUSER a\r\n")),
    T(POP3_STLS_WRONG_STATE, 16, LOGIN, C("STLS\r\n"), S("-ERR\r\n")),
    T(POP3_STLS_CMD_INJECTION, 6, S(GREET), C("STLS\r\nNOOP\r\n")),
    T(POP3_CAPA_NOT_REISSUED, 6, S(GREET), C("STLS\r\n"), S("+OK\r\n"), TLSD, C("USER a\r\n")),
    T(POP3_CLEARTEXT_PASSWORD, 14, S(GREET), C("CAPA\r\n"), S("+OK\r\nSTLS\r\n.\r\n"),
      C("USER a\r\n"), S("+OK\r\n"), C("PASS b\r\n")),
    T(POP3_STLS_REFUSED_CREDENTIALS, 14, S(GREET), C("STLS\r\n"), S("-ERR\r\n"), C("USER a\r\n"),
      S("+OK\r\n"), C("PASS b\r\n")),
    T(POP3_STLS_NO_HANDSHAKE, 6, S(GREET), C("STLS\r\n"), S("+OK\r\n"), CLOSEC),
    T(POP3_STLS_INJECTED_RESPONSE_USED, 12, S(GREET), C("STLS\r\n"), S("+OK\r\n+OK\r\n"), TLSD,
      C("CAPA\r\n"), C("USER a\r\n")),
};
#define NTRIGGERS (sizeof(triggers) / sizeof(triggers[0]))

static void test_rule_triggers(void **state)
{
    (void)state;
    check_rule_triggers(triggers, NTRIGGERS);
}

static void test_rule_coverage(void **state)
{
    (void)state;
    /* every POP3 rule in the catalogue has a trigger above */
    check_rule_coverage(triggers, NTRIGGERS, MC_PROTO_POP3, "test_pop3_session.c");
}

/* ---- credentials ------------------------------------------------------- */

static const char *const secrets[] = {
    "Sekr1tPass",
    "AHVzZXIAU2VrcjF0UGFzcw==",          /* "\0user\0Sekr1tPass" */
    "U2VrcjF0UGFzcw",                    /* "Sekr1tPass" (LOGIN) */
    "c4c9334bac560ecc979e58001b3e22fb",
    "C4C9334BAC560ECC979E58001B3E22FB",
    "c4c9334b",
    "C4C9334B",
    "Sekr",
    "r1tPass",
    "U2Vy",
};

static const struct step cred_pass[] = {
    S(GREET),
    C("CAPA\r\n"),
    S("+OK\r\nSTLS\r\n.\r\n"),
    C("PASS Sekr1tPass\n"),                          /* without USER, bare LF, clear text */
    S("-ERR\r\n"),
    C("USER a\r\nPASS Sekr1tPass\r\n"),              /* pipelined */
    S("+OK\r\n-ERR\r\n"),
    C("USER a\r\n"),
    S("+OK\r\n"),
    C("PASS my Sekr1tPass\x01phrase\r\n"),           /* control octet */
    S("-ERR\r\n"),
    C("USER a\r\n"),
    S("+OK\r\n"),
    C("pass Sekr1tPass" A100 A100 A100 "\r\n"),      /* too long, lower case */
    S("-ERR\r\n"),
    C("PASS  Sekr1tPass\r\n"),                       /* two spaces */
    S("-ERR\r\n"),
    C("PASS Sek\0r1tPass\r"),                        /* NUL, bare CR, unterminated */
    END,
};

static const struct step cred_pass_states[] = {
    C("PASS Sekr1tPass\r\n"),                        /* before the greeting */
    S(GREET),
    S("-ERR\r\n"),
    LOGIN,
    C("PASS Sekr1tPass\r\n"),                        /* wrong state */
    S("+OK\r\n"),
    C("QUIT\r\n"),
    S("+OK\r\n"),
    C("PASS Sekr1tPass\r\n"),                        /* after QUIT */
    S("-ERR\r\n"),
    END,
};

static const struct step cred_pass_stls[] = {
    S(GREET),
    C("STLS\r\nPASS Sekr1tPass\r\n"),                /* injected behind STLS */
    S("+OK\r\n"),
    S("-ERR\r\n"),
    END,
};

static const struct step cred_pass_tls[] = {
    S(GREET),
    C("STLS\r\n"),
    S("+OK\r\n"),
    TLSD,
    C("PASS Sekr1tPass\r\n"),                        /* CAPA not re-issued */
    S("-ERR\r\n"),
    END,
};

static const struct step cred_auth_ir[] = {
    S(GREET),
    C("CAPA\r\n"),
    S("+OK\r\nSTLS\r\nSASL PLAIN\r\n.\r\n"),
    C("AUTH PLAIN AHVzZXIAU2VrcjF0UGFzcw==\n"),      /* clear text, bare LF */
    S("-ERR\r\n"),
    C("AUTH PLAIN AHVzZXIAU2VrcjF0UGFzcw==!\r\n"),   /* bad base64 */
    S("+OK\r\n"),
    C("AUTH PLAIN AHVzZXIAU2VrcjF0UGFzcw==\r\n"),    /* wrong state */
    S("-ERR\r\n"),
    END,
};

static const struct step cred_sasl_lines[] = {
    S(GREET),
    C("AUTH LOGIN\r\n"),
    S("+ VXNlcm5hbWU6\r\n"),
    C("dXNlcg==\r\n"),
    S("+ UGFzc3dvcmQ6\r\n"),
    C("U2VrcjF0UGFzcw==\n"),                         /* bare LF */
    S("-ERR\r\n"),
    C("AUTH LOGIN\r\n"),
    S("+ VXNlcm5hbWU6\r\n"),
    C("dXNlcg==\r\n"),
    S("+ UGFzc3dvcmQ6\r\n"),
    C("U2VrcjF0UGFzcw=!\r\n"),                       /* bad base64 */
    S("-ERR\r\n"),
    C("AUTH PLAIN\r\n"),
    S("+ \r\n"),
    C("AHVzZXIAU2Vr\rcjF0UGFzcw==\0\r\n"),           /* bare CR, NUL */
    S("+OK\r\n"),
    END,
};

static const struct step cred_apop[] = {
    S(GREET),
    C("APOP mrose C4C9334BAC560ECC979E58001B3E22FB\r\n"),   /* bad digest, no timestamp */
    S("+OK\r\n"),
    C("APOP mrose c4c9334bac560ecc979e58001b3e22fb\n"),     /* wrong state, bare LF */
    S("-ERR\r\n"),
    C("APOP mrose c4c9334bac560ecc979e58001b3e22fb extra\r\n"),
    S("-ERR\r\n"),
    END,
};

static void assert_no_secret(const struct flog *l, const char *what)
{
    for (size_t i = 0; i < l->n; i++) {
        for (size_t k = 0; k < sizeof(secrets) / sizeof(secrets[0]); k++) {
            if (strstr(l->r[i].excerpt, secrets[k]) || strstr(l->r[i].message, secrets[k])) {
                print_error("%s: secret '%s' shown by %s@%llu\n", what, secrets[k],
                            mc_rule_info(l->r[i].rule)->id, (unsigned long long)l->r[i].off);
                print_log("findings", l);
                fail();
            }
        }
    }
}

static void check_credentials(const struct step *sc, enum mc_proto proto, size_t min_redacted)
{
    static struct flog l_store;
    struct flog *l = &l_store;
    size_t redacted = 0;
    run(sc, proto, l);
    assert_no_secret(l, "whole");
    /* the test is only meaningful if findings show the secret's line */
    for (size_t i = 0; i < l->n; i++)
        redacted += strstr(l->r[i].excerpt, "<redacted>") != NULL;
    if (redacted < min_redacted) {
        print_error("only %zu redacted excerpts, want at least %zu\n", redacted, min_redacted);
        print_log("findings", l);
        fail();
    }
    run_mode(sc, proto, M_BYTES, 0, 0, l);
    assert_no_secret(l, "bytes");
    for (size_t i = 0; sc[i].kind != K_END; i++)
        for (size_t k = 1; k < sc[i].len; k++) {
            run_mode(sc, proto, M_SPLIT, i, k, l);
            assert_no_secret(l, "split");
        }
}

static void test_credentials_redacted(void **state)
{
    (void)state;
    check_credentials(cred_pass, MC_PROTO_POP3, 7);  /* one PASS is batched: not blamed */
    check_credentials(cred_pass_states, MC_PROTO_UNKNOWN, 3);
    check_credentials(cred_pass_stls, MC_PROTO_POP3, 1);
    check_credentials(cred_pass_tls, MC_PROTO_POP3, 2);
    check_credentials(cred_auth_ir, MC_PROTO_POP3, 3);
    check_credentials(cred_sasl_lines, MC_PROTO_POP3, 3);
    check_credentials(cred_apop, MC_PROTO_POP3, 2);
    check_credentials(conv_full, MC_PROTO_POP3, 0);
}

/* ---- split invariance -------------------------------------------------- */

struct conv {
    const char *name;
    const struct step *sc;
    enum mc_proto proto;
};

static const struct conv split_convs[] = {
    {"full", conv_full, MC_PROTO_POP3},
    {"full (detected)", conv_full, MC_PROTO_UNKNOWN},
    {"apop", conv_apop, MC_PROTO_POP3},
    {"auth", conv_auth, MC_PROTO_POP3},
    {"auth login", conv_auth_login, MC_PROTO_POP3},
    {"auth ir", conv_auth_ir, MC_PROTO_POP3},
    {"stls opaque", conv_stls_opaque, MC_PROTO_POP3},
    {"stls decrypted", conv_stls_decrypted, MC_PROTO_POP3},
    {"client first", conv_client_first, MC_PROTO_UNKNOWN},
    {"wrong state", conv_wrong_state, MC_PROTO_POP3},
    {"pass without user", conv_pass_without_user, MC_PROTO_POP3},
    {"listings", conv_listings, MC_PROTO_POP3},
    {"deleted", conv_deleted, MC_PROTO_POP3},
    {"quit", conv_quit, MC_PROTO_POP3},
    {"pipelining unadvertised", conv_pipelining_unadvertised, MC_PROTO_POP3},
    {"pipelining advertised", conv_pipelining_advertised, MC_PROTO_POP3},
    {"pipelining before capa", conv_pipelining_before_capa, MC_PROTO_POP3},
    {"stls injection", conv_stls_injection, MC_PROTO_POP3},
    {"stls injection answered", conv_stls_injection_answered, MC_PROTO_POP3},
    {"stls response injection", conv_stls_response_injection, MC_PROTO_POP3},
    {"stls injection, tls discarded", conv_stls_injection_tls_discarded, MC_PROTO_POP3},
    {"stls injection, tls answered", conv_stls_injection_tls_answered, MC_PROTO_POP3},
    {"tls no capa", conv_tls_no_capa, MC_PROTO_POP3},
    {"stls in tls", conv_stls_in_tls, MC_PROTO_POP3},
    {"cleartext", conv_cleartext, MC_PROTO_POP3},
    {"cleartext auth", conv_cleartext_auth, MC_PROTO_POP3},
    {"gap client tail", conv_gap_client_tail, MC_PROTO_POP3},
    {"gap server body", conv_gap_server_body, MC_PROTO_POP3},
    {"gap server capa", conv_gap_server_capa, MC_PROTO_POP3},
    {"unterminated", conv_unterminated, MC_PROTO_POP3},
    {"cred pass", cred_pass, MC_PROTO_POP3},
    {"cred pass states", cred_pass_states, MC_PROTO_UNKNOWN},
    {"cred pass stls", cred_pass_stls, MC_PROTO_POP3},
    {"cred pass tls", cred_pass_tls, MC_PROTO_POP3},
    {"cred auth ir", cred_auth_ir, MC_PROTO_POP3},
    {"cred sasl lines", cred_sasl_lines, MC_PROTO_POP3},
    {"cred apop", cred_apop, MC_PROTO_POP3},
};

static void test_split_invariance(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(split_convs) / sizeof(split_convs[0]); i++)
        check_split_invariance(split_convs[i].name, split_convs[i].sc, split_convs[i].proto, false);
    for (size_t i = 0; i < NTRIGGERS; i++)
        check_split_invariance(mc_rule_info(triggers[i].rule)->id, triggers[i].sc,
                               triggers[i].proto, false);
}

/* ---- regressions ----------------------------------------------------------- */

static void test_bug_stls_same_chunk(void **state)
{
    (void)state;
    /* A server that answers the command injected behind STLS in the same
     * TCP segment as its +OK (the usual CVE-2011-0411 shape). Whole: no
     * finding, the answer is parsed as plaintext; byte by byte: reported. */
    static const struct step answered[] = {
        S(GREET), C("CAPA\r\n"), S("+OK\r\nSTLS\r\n.\r\n"),
        C("STLS\r\nCAPA\r\n"),
        S("+OK Begin TLS\r\n+OK\r\nSTLS\r\n.\r\n"),     /* s 30; answer at 45 */
        C(TLS_CLIENT), END,
    };
    /* plaintext injected after +OK to STLS in the same segment */
    static const struct step injected[] = {
        S(GREET), C("STLS\r\n"),
        S("+OK\r\n-ERR injected\r\n"),                  /* s 16; injection at 21 */
        C(TLS_CLIENT), END,
    };
    expect(answered, MC_PROTO_POP3,
           WANT(W(POP3_STLS_CMD_INJECTION, 12), W(POP3_STLS_INJECTION_ANSWERED, 45)));
    expect(injected, MC_PROTO_POP3, WANT(W(POP3_STLS_RESPONSE_INJECTION, 21)));
    check_split_invariance("stls answered same chunk", answered, MC_PROTO_POP3, false);
    check_split_invariance("stls injected same chunk", injected, MC_PROTO_POP3, false);
}

static void test_bug_stls_lost_answer_resync(void **state)
{
    (void)state;
    /* The answer to STLS is lost in a gap and so are client octets; the
     * client's parser resyncs at the next LF. Whole, it read on into the
     * next line without an event, so the TLS switch (MC_TLS_MAYBE) never
     * saw that line's first octet, a TLS record start, and parsed the
     * record as a command; byte by byte it turned to TLS there (found by
     * the AFL++ smoke run). */
    static const struct step lost[] = {
        S(GREET),
        C("STLS\r\n"),
        GAPS(5),                                        /* the +OK */
        GAPC(12),
        C("damaged\n\x16\x03\x01\x00\x05he\nlo"),   /* c 18; record at 26 */
        END,
    };
    expect(lost, MC_PROTO_POP3, NONE);
    check_split_invariance("stls lost answer resync", lost, MC_PROTO_POP3, false);
}

static void test_bug_stls_excerpt_depends_on_chunks(void **state)
{
    (void)state;
    /* The STLS-injection excerpt is cut from the current chunk, not the
     * line: "-" byte by byte, "-ERR injected\r\n" whole. */
    check_split_invariance("stls response injection", conv_stls_response_injection, MC_PROTO_POP3,
                           true);
}

static void test_bug_held_origin(void **state)
{
    (void)state;
    /* Client chunks held before detection are replayed under the origin of
     * the first one: XYZW (line 2) is reported on line 1. */
    static struct flog l_store;
    struct flog *l = &l_store;
    run(conv_client_first, MC_PROTO_UNKNOWN, l);
    assert_int_equal(l->n, 3);
    assert_int_equal(l->r[1].line, 2);
}

static void count_bare_lf(void *ctx, const struct mc_finding *f)
{
    if (f->rule == MC_R_POP3_RESP_BARE_LF)
        ++*(unsigned *)ctx;
}

static void test_findings_capped_per_rule(void **state)
{
    (void)state;
    /* A hostile server cannot flood the output: after MC_FINDINGS_PER_RULE
     * findings of one rule the rest are counted, not reported. */
    unsigned bare = 0;
    struct mc_session *ss = mc_session_new("cap", MC_PROTO_POP3, count_bare_lf, &bare);
    assert_non_null(ss);
    mc_session_data(ss, MC_DIR_S2C, (const uint8_t *)"+OK hi\r\n", 8, NULL);
    for (int i = 0; i < 3 * MC_FINDINGS_PER_RULE; i++)
        mc_session_data(ss, MC_DIR_S2C, (const uint8_t *)"+OK\n", 4, NULL);
    mc_session_finish(ss);
    assert_int_equal(bare, MC_FINDINGS_PER_RULE);
    /* BARE_LF and UNSOLICITED_RESPONSE each lose 2 * cap */
    assert_int_equal(mc_session_suppressed(ss), 4 * MC_FINDINGS_PER_RULE);
    mc_session_free(ss);
}

static void test_bug_gap_before_detection(void **state)
{
    (void)state;
    /* A client gap before the protocol is known stays in place: the line
     * it damaged (XYZW) is dropped, NOOP after detection is parsed. NOOP
     * goes out before USER's answer: that is pipelining, and the state it
     * meets depends on that answer, so the client is not blamed for it. */
    expect(SCRIPT(C("USER a\r\n"), GAPC(4), C("XYZW\r\n"), S(GREET), C("NOOP\r\n"), S("-ERR\r\n"),
                  S("-ERR\r\n")),
           MC_PROTO_UNKNOWN,
           WANT(W(POP3_CMD_BEFORE_GREETING, 0), W(POP3_PIPELINING_UNADVERTISED, 18)));
}

static void test_bug_implicit_tls_decrypted(void **state)
{
    (void)state;
    /* '! tls decrypted' before any data (POP3S with a key log): the session
     * drops the marker while the protocol is unknown, so the plaintext is
     * checked as if no TLS ran. */
    static const struct step sc[] = {
        TLSD, S(GREET), C("CAPA\r\n"), S("+OK\r\nSTLS\r\nUSER\r\n.\r\n"),   /* STLS at 21 */
        C("USER a\r\n"), S("+OK\r\n"), C("PASS b\r\n"), S("+OK\r\n"), END,
    };
    static struct flog l_store;
    struct flog *l = &l_store;
    run(sc, MC_PROTO_UNKNOWN, l);
    assert_true(l->in_tls);
    assert_log(l, WANT(W(POP3_STLS_ADVERTISED_IN_TLS, 21)));
}

/* A decrypting caller (a capture with a key log, mc_session_on_tls_turn):
 * after the +OK to STLS each direction turns at its first TLS record; the
 * session reports where and takes none of the records; what is fed after
 * is the plaintext inside TLS, judged as after '! tls decrypted'. Plaintext
 * before a direction's first record is still judged as before. */
struct turns {
    unsigned n;
    enum mc_dir d[4];
    uint64_t off[4];
};

static void on_turn(void *arg, enum mc_dir d, uint64_t off)
{
    struct turns *t = arg;
    assert_true(t->n < 4);
    t->d[t->n] = d;
    t->off[t->n++] = off;
}

static void feed(struct mc_session *s, enum mc_dir d, const char *p, size_t n, uint64_t frame)
{
    struct mc_origin o = {frame, 0};
    mc_session_data(s, d, (const uint8_t *)p, n, &o);
}
#define FEED(s, d, lit, frame) feed((s), (d), (lit), sizeof(lit) - 1, (frame))

/* cut: where the chunk that holds the turn is split (0: not split); the
 * caller's side of the contract is played as a capture plays it: what
 * follows the turn offset in a chunk goes to the TLS engine, not here. */
static void run_turn(size_t cut)
{
    static const char turn_chunk[] = "NOOP\r\n\x16\x03\x01\x00\x02zz";
    static struct flog l_store;
    struct flog *l = &l_store;
    struct turns t = {0};
    struct mc_session *s;
    memset(l, 0, sizeof(*l));
    s = mc_session_new("test-session", MC_PROTO_POP3, collect, l);
    assert_non_null(s);
    mc_session_on_tls_turn(s, on_turn, &t);
    FEED(s, MC_DIR_S2C, GREET, 1);                       /* server 0..16 */
    FEED(s, MC_DIR_C2S, "STLS\r\n", 2);                 /* client 0..6 */
    FEED(s, MC_DIR_S2C, "+OK go\r\n", 3);                /* server 16..24 */
    /* a plaintext command behind STLS, then the ClientHello */
    if (cut == 0) {
        feed(s, MC_DIR_C2S, turn_chunk, sizeof(turn_chunk) - 1, 4);
    } else {
        feed(s, MC_DIR_C2S, turn_chunk, cut, 4);
        if (t.n == 0)   /* the second part is the session's only before the turn */
            feed(s, MC_DIR_C2S, turn_chunk + cut, sizeof(turn_chunk) - 1 - cut, 5);
    }
    assert_int_equal(t.n, 1);
    assert_int_equal(t.d[0], MC_DIR_C2S);
    assert_int_equal(t.off[0], 12);
    assert_int_equal(mc_session_offset(s, MC_DIR_C2S), 12);   /* the record is not the session's */
    FEED(s, MC_DIR_S2C, "\x16\x03\x03\x00\x01z", 6);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.d[1], MC_DIR_S2C);
    assert_int_equal(t.off[1], 24);
    assert_true(mc_session_in_tls(s));
    /* the decrypted plaintext: judged inside TLS */
    FEED(s, MC_DIR_C2S, "CAPA\r\n", 7);                 /* client 12..18 */
    FEED(s, MC_DIR_S2C, "+OK\r\nUSER\r\n.\r\n", 8);    /* server 24..38 */
    FEED(s, MC_DIR_C2S, "USER a\r\n", 9);
    FEED(s, MC_DIR_S2C, "+ok\r\n", 10);                 /* server 38 */
    mc_session_finish(s);
    mc_session_free(s);
    assert_true(has(l, MC_R_POP3_STLS_CMD_INJECTION, 6));
    assert_true(has(l, MC_R_POP3_STATUS_CASE, 38));
    assert_int_equal(l->n, 2);
}

static void test_tls_turn_hook(void **state)
{
    (void)state;
    for (size_t cut = 0; cut < sizeof("NOOP\r\n\x16\x03\x01\x00\x02zz") - 1; cut++)
        run_turn(cut);
}

static void test_bug_sasl_before_challenge_leaks(void **state)
{
    (void)state;
    /* SASL data sent before the server's "+ " is parsed as a command, and
     * its excerpt (KEYWORD_SYNTAX, PIPELINING_UNADVERTISED) shows it. */
    static struct flog l_store;
    struct flog *l = &l_store;
    run(SCRIPT(S(GREET), C("AUTH PLAIN\r\nAHVzZXIAU2VrcjF0UGFzcw==\r\n"), S("+ \r\n"), S("+OK\r\n")),
        MC_PROTO_POP3, l);
    assert_no_secret(l, "sasl before challenge");
}

static void test_bug_pass_tab_leaks(void **state)
{
    (void)state;
    /* "PASS\t<password>" is one malformed keyword; KEYWORD_SYNTAX shows the
     * whole line, password included. */
    static struct flog l_store;
    struct flog *l = &l_store;
    run(SCRIPT(S(GREET), C("PASS\tSekr1tPass\r\n"), S("-ERR\r\n")), MC_PROTO_POP3, l);
    assert_true(l->n >= 1);
    assert_no_secret(l, "PASS with TAB");
}

static void test_bug_gap_false_positives(void **state)
{
    (void)state;
    /* A command lost in a client gap: its answer is blamed on the server. */
    expect(SCRIPT(LOGIN, C("NOOP\r\nNO"), GAPC(4), C("\r\n"), S("+OK\r\n"), S("+OK\r\n")),
           MC_PROTO_POP3, NONE);
    /* The greeting lost in a server gap: the client is blamed for talking
     * first, and the CAPA answer is taken for the greeting. */
    expect(SCRIPT(S("+OK PO"), GAPS(5), S("dy\r\n"), C("CAPA\r\n"), S("+OK\r\n.\r\n")), MC_PROTO_POP3,
           NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_basics),
        cmocka_unit_test(test_detect_other_protocols),
        cmocka_unit_test(test_conformant_sessions),
        cmocka_unit_test(test_detect_client_first),
        cmocka_unit_test(test_detect_hold_overflow),
        cmocka_unit_test(test_greeting),
        cmocka_unit_test(test_wrong_state),
        cmocka_unit_test(test_user_pass),
        cmocka_unit_test(test_apop),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_listings),
        cmocka_unit_test(test_deleted_messages),
        cmocka_unit_test(test_quit),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_stls_downgrade),
        cmocka_unit_test(test_stls_command_injection),
        cmocka_unit_test(test_stls_response_injection),
        cmocka_unit_test(test_stls_opaque_tls),
        cmocka_unit_test(test_stls_decrypted),
        cmocka_unit_test(test_cleartext_password),
        cmocka_unit_test(test_stls_wrong_state),
        cmocka_unit_test(test_gaps),
        cmocka_unit_test(test_unterminated),
        cmocka_unit_test(test_origin_lines),
        cmocka_unit_test(test_rule_triggers),
        cmocka_unit_test(test_rule_coverage),
        cmocka_unit_test(test_credentials_redacted),
        cmocka_unit_test(test_split_invariance),
        cmocka_unit_test(test_bug_stls_same_chunk),
        cmocka_unit_test(test_bug_stls_lost_answer_resync),
        cmocka_unit_test(test_bug_stls_excerpt_depends_on_chunks),
        cmocka_unit_test(test_bug_held_origin),
        cmocka_unit_test(test_findings_capped_per_rule),
        cmocka_unit_test(test_bug_gap_before_detection),
        cmocka_unit_test(test_bug_implicit_tls_decrypted),
        cmocka_unit_test(test_bug_sasl_before_challenge_leaks),
        cmocka_unit_test(test_tls_turn_hook),
        cmocka_unit_test(test_bug_pass_tab_leaks),
        cmocka_unit_test(test_bug_gap_false_positives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
