/*
 * SMTP session validation through the generic session API
 * (validator/session/session.h, validator/smtp/smtp_session.c).
 *
 * A conversation is a table of steps (client chunk, server chunk, TLS
 * marker, gap, close, submission mode), fed to mc_session_* exactly as the
 * transcript reader, the relay and the capture reader do. Every finding is
 * recorded (rule, offset, side, direction, origin line, excerpt, message)
 * and compared with the expected list "RULE@offset" in order. The origin
 * line of a chunk is its 1-based index in the step table, as a transcript
 * would number it.
 *
 * Every run also checks invariants that hold for all findings: session name,
 * default severity, protocol, direction matching the rule's side, and no
 * offset inside a gap (docs/transcript.md: "nothing inside the gap is blamed").
 *
 * The split-invariance test feeds every conversation here, every rule
 * trigger and every golden transcript of tests/data/smtp whole, byte by byte
 * and split at every position of every chunk (at a sample of positions in
 * long chunks); the findings must not change.
 *
 * Tests named test_bug_* are regressions for defects found while writing
 * this file and the golden transcripts (doubled findings, a smuggling server
 * missed when the client sent everything at once, DATA/BDAT mixes accepted
 * unseen, binary BDAT content judged as text, ...).
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

#define SESSION_PROTO MC_PROTO_SMTP
#define SESSION_RULE_PROTO MC_PROTO_SMTP
#define SESSION_NEXT_CUT(k, len) session_cut_sampled((k), (len))
#include "session_harness.h"

/* ---- SMTP pieces of conversations ---------------------------------------- */

#define GREET "220 mx.example.com\r\n"                          /* 20 */
#define EHLO "EHLO c.example\r\n"                               /* 16 */
#define EHLO_OK "250 mx.example.com\r\n"                        /* 20 */
#define EHLO_PIPE "250-mx.example.com\r\n250 PIPELINING\r\n"    /* 36 */
#define MAIL "MAIL FROM:<a@b.example>\r\n"                      /* 25 */
#define RCPT "RCPT TO:<c@d.example>\r\n"                        /* 23 */
#define OK "250 OK\r\n"                                         /* 8 */
/* Greeted and EHLO answered: client offset 16, server offset 40. */
#define HELLO S(GREET), C(EHLO), S(EHLO_OK)
#define EHLO_TLS "250-mx.example.com\r\n250-STARTTLS\r\n250 AUTH CRAM-MD5\r\n"   /* 53 */
/* The same with PIPELINING: client 16, server 56. */
#define HELLO_PIPE S(GREET), C(EHLO), S(EHLO_PIPE)
/* MAIL and RCPT accepted: client +48, server +16. */
#define TX C(MAIL), S(OK), C(RCPT), S(OK)

#define X10 "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define B100 "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
/* Two TLS records that hold CRLF, LF, NUL and reply/command-like text. */
#define TLS_CLIENT "\x16\x03\x01\x00\x2e\x01\x00\x00\x2a\x03\x03\r\n\x00QUIT\nMAIL FROM:<x>\r\n"
#define TLS_SERVER "\x16\x03\x03\x00\x0a\x02\x00\x00\x06\r\n250 OK\n\x00\x14\x03\x03"

/* ---- expectations ------------------------------------------------------ */

/* Runs sc whole and compares the findings with w, in order. */
static void expect(const struct step *sc, const struct want *w)
{
    static struct flog l_store;
    struct flog *l = &l_store;
    run(sc, MC_PROTO_SMTP, l);
    assert_log(l, w);
}

/* ---- conformant conversations ------------------------------------------ */

/* A whole pipelined session: two transactions, the second one's MAIL in
 * the same group as the first one's final "." (RFC 2920 s3.1), dot-stuffed
 * lines, HELP, VRFY, NOOP and RSET. */
static const struct step conv_full[] = {
    S("220 mx.example.com ESMTP ready\r\n"),
    C("EHLO client.example.org\r\n"),
    S("250-mx.example.com Hello\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n"
      "250-ENHANCEDSTATUSCODES\r\n250-DSN\r\n250-HELP\r\n250 CHUNKING\r\n"),
    C("HELP\r\n"),
    S("214-2.0.0 Commands:\r\n214 2.0.0 EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP VRFY\r\n"),
    C("VRFY postmaster\r\n"),
    S("252 2.0.0 Cannot VRFY user, but will accept message\r\n"),
    C("MAIL FROM:<alice@example.org> SIZE=200 BODY=8BITMIME RET=HDRS ENVID=QQ314159\r\n"
      "RCPT TO:<bob@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.com\r\n"
      "RCPT TO:<carol@example.com>\r\nDATA\r\n"),
    S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"),
    C("Subject: hi\r\n\r\n..leading dot\r\n..\r\n...\r\n.. \r\n\xc3\xa9t\xc3\xa9\r\n.\r\n"
      "RSET\r\nMAIL FROM:<>\r\nRCPT TO:<Postmaster>\r\nDATA\r\n"),
    S("250 2.0.0 Ok: queued as 1\r\n250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
      "354 End data\r\n"),
    C("\r\n.\r\nNOOP\r\n"),
    S("250 2.0.0 Ok: queued as 2\r\n250 2.0.0 Ok\r\n"),
    C("QUIT\r\n"),
    S("221 2.0.0 Bye\r\n"),
    CLOSES,
    CLOSEC,
    END,
};

/* RFC 5321 D.1 without pipelining, HELO instead of EHLO. */
static const struct step conv_helo[] = {
    S("220 foo.com Simple Mail Transfer Service Ready\r\n"),
    C("HELO bar.com\r\n"),
    S("250 foo.com\r\n"),
    C("MAIL FROM:<Smith@bar.com>\r\n"),
    S("250 OK\r\n"),
    C("RCPT TO:<Jones@foo.com>\r\n"),
    S("250 OK\r\n"),
    C("RCPT TO:<Green@foo.com>\r\n"),
    S("550 No such user here\r\n"),
    C("DATA\r\n"),
    S("354 Start mail input; end with <CRLF>.<CRLF>\r\n"),
    C("Blah blah blah...\r\n...etc. etc. etc.\r\n.\r\n"),
    S("250 OK\r\n"),
    C("QUIT\r\n"),
    S("221 foo.com Service closing transmission channel\r\n"),
    END,
};

/* Message content in awkward chunks: the terminator spread over three,
 * look-alike prefixes that turn out fine ("\r\n." then "."), a long but
 * legal 998-octet line. */
static const struct step conv_data_chunks[] = {
    HELLO,
    TX,
    C("DATA\r\n"),
    S("354 go\r\n"),
    C("a\r"),
    C("\n."),
    C(".b\r\n" X100 X100 X100 X100 X100 X100 X100 X100 X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 "xxxxxxxx"
      "\r\n\r"),
    C("\n"),
    C("."),
    C("\r"),
    C("\n"),
    S("250 OK\r\n"),
    C("QUIT\r\n"),
    S("221 bye\r\n"),
    END,
};

/* BDAT: chunks that hold what would end DATA or look like commands, a
 * chunk spread over segments, pipelined chunks, "BDAT 0 LAST". */
static const struct step conv_bdat[] = {
    S(GREET),
    C(EHLO),
    S("250-mx.example.com\r\n250-PIPELINING\r\n250 CHUNKING\r\n"),
    C(MAIL RCPT "BDAT 23\r\nSubject: x\r\n\r\n.\r\nQUIT\r\n"),
    S("250 OK\r\n250 OK\r\n250 23 octets\r\n"),
    C("BDAT 10\r\nDATA\r\n"),
    C(".\r\n\r"),                       /* a CR ends this chunk, its LF starts the next */
    C("BDAT 4\r\n\n.\r\n"),
    C("BDAT 0 LAST\r\n"),
    S("250 10 octets\r\n250 4 octets\r\n250 Message OK\r\n"),
    C(MAIL RCPT "BDAT 4 LAST\r\nab\r\n"),
    S("250 OK\r\n250 OK\r\n250 Message OK\r\n"),
    C("QUIT\r\n"),
    S("221 bye\r\n"),
    END,
};

/* BODY=BINARYMIME with BDAT: NUL, bare CR and LF, long lines, 8-bit
 * octets and CRLF.CRLF are all fine in binary content (RFC 3030 s3). */
static const struct step conv_binarymime[] = {
    S(GREET),
    C(EHLO),
    S("250-mx.example.com\r\n250-PIPELINING\r\n250-BINARYMIME\r\n250 CHUNKING\r\n"),
    C("MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n" RCPT),
    S("250 OK\r\n250 OK\r\n"),
    C("BDAT 1033\r\n\x00\x01\r\n.\r\n\n\r" X100 X100 X100 X100 X100 X100 X100 X100 X100 X100 X10 X10
      "\xff\xfe\x00"),
    C("\r"),
    C("BDAT 2 LAST\r\n\r\r"),
    S("250 1033 octets\r\n250 Message OK\r\n"),
    C("QUIT\r\n"),
    S("221 bye\r\n"),
    END,
};

/* STARTTLS with the plaintext inside TLS; PLAIN is offered and used only
 * inside TLS; a SASL exchange with two challenges. */
static const struct step conv_starttls_decrypted[] = {
    S(GREET),
    C(EHLO),
    S("250-mx.example.com\r\n250-STARTTLS\r\n250 AUTH CRAM-MD5\r\n"),
    C("STARTTLS\r\n"),
    S("220 Ready to start TLS\r\n"),
    TLSD,
    C(EHLO),
    S("250-mx.example.com\r\n250-PIPELINING\r\n250 AUTH LOGIN PLAIN\r\n"),
    C("AUTH LOGIN\r\n"),
    S("334 VXNlcm5hbWU6\r\n"),
    C("YWxpY2U=\r\n"),
    S("334 UGFzc3dvcmQ6\r\n"),
    C("czNjcmV0IQ==\r\n"),
    S("235 Authentication successful\r\n"),
    C(MAIL RCPT "DATA\r\n"),
    S("250 OK\r\n250 OK\r\n354 go\r\n"),
    C("hi\r\n.\r\nQUIT\r\n"),
    S("250 OK\r\n221 bye\r\n"),
    END,
};

/* STARTTLS with TLS records that are not looked into (no marker: the
 * first octet of the client's and the server's next data tells). */
static const struct step conv_starttls_opaque[] = {
    S(GREET),
    C(EHLO),
    S("250-mx.example.com\r\n250 STARTTLS\r\n"),
    C("STARTTLS\r\n"),
    S("220 go ahead\r\n"),
    C(TLS_CLIENT),
    S(TLS_SERVER),
    C(TLS_CLIENT),
    GAPS(100),
    S(TLS_SERVER),
    GAPC(7),
    C("\x17\x03\x03\x00\x05QUIT"),   /* ends inside a "line": no UNTERMINATED */
    CLOSEC,
    S("\x17\x03\x03\x00\x02\r"),
    CLOSES,
    END,
};

/* AUTH exchanges: PLAIN with an empty challenge, a cancelled exchange
 * refused with 501, CRAM-MD5, EXTERNAL with "=", and a SASL response
 * longer than a command line (allowed, RFC 4954 s4). */
static const struct step conv_auth[] = {
    TLSD,
    S(GREET),
    C(EHLO),
    S("250-mx.example.com\r\n250 AUTH PLAIN CRAM-MD5 EXTERNAL\r\n"),
    C("AUTH PLAIN\r\n"),
    S("334 \r\n"),
    C("*\r\n"),
    S("501 5.7.0 Authentication cancelled\r\n"),
    C("AUTH CRAM-MD5\r\n"),
    S("334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
    C(B100 B100 B100 B100 B100 B100 "\r\n"),
    S("535 5.7.8 Authentication failed\r\n"),
    C("AUTH EXTERNAL =\r\n"),
    S("235 2.7.0 Authentication successful\r\n"),
    C("QUIT\r\n"),
    S("221 bye\r\n"),
    END,
};

/* Message submission (port 587): STARTTLS, AUTH PLAIN with an initial
 * response, then MAIL. */
static const struct step conv_submission[] = {
    SUBMISSION,
    S(GREET),
    C(EHLO),
    S("250-mx.example.com\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
    C("STARTTLS\r\n"),
    S("220 go\r\n"),
    TLSD,
    C(EHLO),
    S("250-mx.example.com\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n"),
    C("AUTH PLAIN AGFsaWNlAHMzY3JldCE=\r\n" MAIL RCPT "DATA\r\n"),
    S("235 OK\r\n250 OK\r\n250 OK\r\n354 go\r\n"),
    C("hi\r\n.\r\nQUIT\r\n"),
    S("250 OK\r\n221 bye\r\n"),
    END,
};

/* A 421 shutdown answering a command; one sent with nothing asked (s3.8:
 * "if necessary, asynchronously from command receipt"); a 421 greeting. */
static const struct step conv_421[] = {
    HELLO,
    C(MAIL),
    S("421 mx.example.com shutting down\r\n"),
    CLOSES,
    CLOSEC,
    END,
};

static const struct step conv_421_idle[] = {
    HELLO,
    S("421 mx.example.com idle for too long, closing\r\n"),
    CLOSES,
    C("NOOP\r\n"),
    CLOSEC,
    END,
};

static const struct step conv_421_greeting[] = {
    S("421 mx.example.com too busy, try later\r\n"),
    CLOSES,
    CLOSEC,
    END,
};

/* A 554 greeting: only QUIT. */
static const struct step conv_554[] = {
    S("554 mx.example.com no service\r\n"),
    C("QUIT\r\n"),
    S("221 bye\r\n"),
    CLOSES,
    CLOSEC,
    END,
};

/* Pipelined MAIL, RCPT, DATA: the only recipient is refused, so is DATA;
 * the client had sent DATA before it knew (RFC 2920 s3.1). */
static const struct step conv_rcpt_rejected[] = {
    HELLO_PIPE,
    C(MAIL RCPT "DATA\r\n"),
    S("250 OK\r\n550 no such user\r\n554 no valid recipients\r\n"),
    C("RSET\r\n"),
    S("250 OK\r\n"),
    C("QUIT\r\n"),
    S("221 bye\r\n"),
    END,
};

/* Capture loss in every place: inside the EHLO reply, inside a command,
 * inside message content, across the end of a BDAT chunk. Nothing is
 * blamed on what the gaps cut. */
static const struct step conv_gaps[] = {
    S(GREET),
    C(EHLO),
    S("250-mx.example.com\r\n250-PIPE"),
    GAPS(30),
    S("LINING\r\n250-CHUNKING\r\n250 8BITMIME\r\n"),
    C("MAIL FR"),
    GAPC(20),
    C("xample>\r\n"),
    S("250 OK\r\n"),
    C(RCPT "DATA\r\n"),
    S("250 OK\r\n354 go\r\n"),
    C("a\r\nb"),
    GAPC(500),
    C("c\r\nd\r\n.\r\n"),
    S("250 OK\r\n"),
    C(MAIL RCPT "BDAT 100\r\nabc"),
    GAPC(110),
    C("\r\nRSET\r\n"),
    S("250 OK\r\n250 OK\r\n250 100 octets\r\n250 OK\r\n"),
    C("QUIT\r\n"),
    S("221 bye\r\n"),
    END,
};

/* ---- conversations with findings --------------------------------------- */

/* SMTP smuggling, a vulnerable server: the client's content holds "\n.\n"
 * and a second transaction; the server answers at the look-alike (while
 * the content goes on) and then answers the smuggled commands. */
static const struct step conv_smuggle_vulnerable[] = {
    HELLO,                                         /* c 16, s 40 */
    TX,                                            /* c 64, s 56 */
    C("DATA\r\n"),                                 /* c 64 */
    S("354 go\r\n"),                               /* s 56 */
    C("hi\r\n\n.\n"),                              /* c 70: LF at 74, "." 75, LF 76 */
    S("250 OK queued as 1\r\n"),                   /* s 64 */
    C(MAIL RCPT "DATA\r\nforged\r\n.\r\n"),
    S("250 OK\r\n250 OK\r\n354 go\r\n250 OK queued as 2\r\n"),
    C("QUIT\r\n"),
    S("221 bye\r\n"),
    END,
};

/* ... the same, all client data in one segment with QUIT behind it: the
 * surplus replies give the server away. */
static const struct step conv_smuggle_one_segment[] = {
    HELLO_PIPE,
    TX,
    C("DATA\r\n"),
    S("354 go\r\n"),                               /* s 72 */
    C("hi\r\n\n.\n" MAIL RCPT "DATA\r\nforged\r\n.\r\nQUIT\r\n"),
    S("250 OK queued as 1\r\n"                     /* s 80 */
      "250 OK\r\n"                                 /* s 100: answers nothing sent */
      "250 OK\r\n354 go\r\n250 OK queued as 2\r\n221 bye\r\n"),
    END,
};

/* ... a conformant server: one reply, after the real CRLF.CRLF. Only the
 * client is blamed. */
static const struct step conv_smuggle_conformant[] = {
    HELLO,
    TX,
    C("DATA\r\n"),
    S("354 go\r\n"),
    C("hi\r\n\n.\n"),
    C(MAIL RCPT "DATA\r\nforged\r\n.\r\n"),
    S("250 OK queued as 1\r\n"),
    C("QUIT\r\n"),
    S("221 bye\r\n"),
    END,
};

/* ... conformant, everything in one segment. */
static const struct step conv_smuggle_conformant_one_segment[] = {
    HELLO_PIPE,
    C(MAIL RCPT "DATA\r\n"),
    S("250 OK\r\n250 OK\r\n354 go\r\n"),
    C("hi\r\n\n.\n" MAIL RCPT "DATA\r\nforged\r\n.\r\nQUIT\r\n"),
    S("250 OK queued as 1\r\n221 bye\r\n"),
    END,
};

/* STARTTLS: a command pipelined behind it (client), discarded by the
 * server, which then answers inside TLS only what the client sends there. */
static const struct step conv_starttls_injection[] = {
    S(GREET),
    C(EHLO),
    S("250-mx.example.com\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
    C("STARTTLS\r\n" EHLO),                        /* c 16, EHLO at 26 */
    S("220 go\r\n"),
    TLSD,
    C(EHLO),
    S(EHLO_OK),
    C("QUIT\r\n"),
    S("221 bye\r\n"),
    END,
};

/* ... a vulnerable server answers the injected command inside TLS. */
static const struct step conv_starttls_injection_tls_answered[] = {
    S(GREET),
    C(EHLO),
    S("250-mx.example.com\r\n250 STARTTLS\r\n"),  /* s 20 */
    C("STARTTLS\r\nNOOP\r\n"),                     /* c 16, NOOP at 26 */
    S("220 go\r\n"),                               /* s 54 */
    TLSD,
    S("250 OK\r\n"),                               /* s 62 */
    C(EHLO),
    S(EHLO_OK),
    END,
};

/* ... a vulnerable server answers it in plaintext, in the same segment as
 * its 220. */
static const struct step conv_starttls_injection_answered_same_segment[] = {
    S(GREET),
    C(EHLO),
    S("250-mx.example.com\r\n250 STARTTLS\r\n"),
    C("STARTTLS\r\nNOOP\r\n"),                     /* NOOP at c 26 */
    S("220 go\r\n250 OK\r\n"),                     /* s 54; "250" at 62 */
    C(TLS_CLIENT),
    S(TLS_SERVER),
    END,
};

/* ... plaintext injected into the server's stream after its 220: a
 * multi-line reply; the finding is at its first line. */
static const struct step conv_starttls_response_injection[] = {
    S(GREET),
    C(EHLO),
    S("250-mx.example.com\r\n250 STARTTLS\r\n"),
    C("STARTTLS\r\n"),
    S("220 go\r\n250-mx.example.com\r\n250 AUTH PLAIN\r\n"),   /* s 54; injection at 62 */
    C(TLS_CLIENT),
    S(TLS_SERVER),
    END,
};

/* ---- basic API ----------------------------------------------------------- */

static void test_api_basics(void **state)
{
    (void)state;
    struct mc_session *s = mc_session_new("name", MC_PROTO_UNKNOWN, NULL, NULL);
    assert_non_null(s);
    /* a digit first: SMTP */
    mc_session_data(s, MC_DIR_S2C, (const uint8_t *)"250 hi\r\n", 8, NULL);
    assert_int_equal(mc_session_proto(s), MC_PROTO_SMTP);
    assert_true(mc_session_validated(s));
    assert_int_equal(mc_session_findings(s), 1);   /* SMTP.GREETING.CODE */
    assert_false(mc_session_in_tls(s));
    mc_session_finish(s);
    mc_session_free(s);

    /* in_tls follows STARTTLS */
    s = mc_session_new("name", MC_PROTO_SMTP, NULL, NULL);
    assert_non_null(s);
    mc_session_data(s, MC_DIR_S2C, (const uint8_t *)GREET, strlen(GREET), NULL);
    mc_session_data(s, MC_DIR_C2S, (const uint8_t *)"STARTTLS\r\n", 10, NULL);
    assert_false(mc_session_in_tls(s));
    mc_session_data(s, MC_DIR_S2C, (const uint8_t *)"220 go\r\n", 8, NULL);
    assert_true(mc_session_in_tls(s));
    mc_session_finish(s);
    assert_int_equal(mc_session_findings(s), 0);
    mc_session_free(s);
}

/* ---- conformant sessions are silent ------------------------------------ */

static void test_conformant_sessions(void **state)
{
    (void)state;
    const struct step *const convs[] = {
        conv_full, conv_helo, conv_data_chunks, conv_bdat, conv_binarymime,
        conv_starttls_decrypted, conv_starttls_opaque, conv_auth, conv_submission, conv_421,
        conv_421_idle, conv_421_greeting, conv_554, conv_rcpt_rejected, conv_gaps,
    };
    static struct flog l_store;
    struct flog *l = &l_store;
    for (size_t i = 0; i < sizeof(convs) / sizeof(convs[0]); i++) {
        expect(convs[i], NONE);
        /* detected from the greeting's digit as well */
        run(convs[i], MC_PROTO_UNKNOWN, l);
        assert_int_equal(l->proto, MC_PROTO_SMTP);
        assert_log(l, NONE);
    }
}

/* ---- pipelining ------------------------------------------------------------ */

static void test_pipelining(void **state)
{
    (void)state;
    /* without PIPELINING: reported once, at the first command sent early */
    expect(SCRIPT(HELLO, C(MAIL RCPT), S(OK OK), C("RSET\r\nNOOP\r\n"), S(OK OK)),
           WANT(W(SMTP_PIPELINING_UNADVERTISED, 41)));
    /* the next command before the final reply to the message */
    expect(SCRIPT(HELLO, TX, C("DATA\r\n"), S("354 go\r\n"), C("x\r\n.\r\nQUIT\r\n"),
                  S("250 OK\r\n221 bye\r\n")),
           WANT(W(SMTP_PIPELINING_UNADVERTISED, 76)));
    /* PIPELINING learnt from the EHLO reply only once it arrived */
    expect(SCRIPT(S(GREET), C(EHLO MAIL), S(EHLO_PIPE OK)),
           WANT(W(SMTP_PIPELINING_UNADVERTISED, 16)));
    /* each command that ends a group, followed by RSET in the same group */
    static const char *const enders[] = {
        "EHLO c.example\r\n", "HELO c.example\r\n", "DATA\r\n", "VRFY bob\r\n", "EXPN list\r\n",
        "NOOP\r\n", "QUIT\r\n", "STARTTLS\r\n", "AUTH LOGIN YWxpY2U=\r\n", "XFOO\r\n", "TURN\r\n",
    };
    static struct flog l_store;
    struct flog *l = &l_store;
    for (size_t i = 0; i < sizeof(enders) / sizeof(enders[0]); i++) {
        char buf[64];
        size_t n = strlen(enders[i]);
        snprintf(buf, sizeof(buf), "%sRSET\r\n", enders[i]);
        struct step sc[] = {HELLO_PIPE, {K_C, buf, n + 6, 0}, END};
        run(sc, MC_PROTO_SMTP, l);
        if (strncmp(enders[i], "STARTTLS", 8) == 0) {
            assert_true(has(l, MC_R_SMTP_STARTTLS_CMD_INJECTION, 16 + n));
            assert_false(has(l, MC_R_SMTP_PIPELINING_NOT_LAST, 16 + n));
        } else if (strncmp(enders[i], "DATA", 4) == 0) {
            /* behind DATA, before the 354, octets are content */
            assert_true(has(l, MC_R_SMTP_CONTENT_BEFORE_354, 16 + n));
        } else if (!has(l, MC_R_SMTP_PIPELINING_NOT_LAST, 16 + n)) {
            print_error("%s", enders[i]);
            print_log("got", l);
            fail();
        }
    }
    /* RSET, MAIL, RCPT, and AUTH PLAIN with its initial response, may be
     * followed at once; the message content may start a group, and the
     * next transaction may follow its "." (RFC 2920 s3.1) */
    expect(SCRIPT(S(GREET), C(EHLO), S("250-mx.example.com\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
                  C("STARTTLS\r\n"), S("220 go\r\n"), TLSD, C(EHLO),
                  S("250-mx.example.com\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n"),
                  C("AUTH PLAIN AGEAYg==\r\nRSET\r\n" MAIL RCPT "DATA\r\n"),
                  S("235 OK\r\n250 OK\r\n250 OK\r\n250 OK\r\n354 go\r\n"),
                  C("x\r\n.\r\nRSET\r\n" MAIL RCPT "DATA\r\n"),
                  S("250 OK\r\n250 OK\r\n250 OK\r\n250 OK\r\n354 go\r\n"),
                  C("y\r\n.\r\nQUIT\r\n"), S("250 OK\r\n221 bye\r\n")),
           NONE);
    /* replies come in order (RFC 2920 s3.2 (1)): a 354 first answers MAIL,
     * which it cannot; so MAIL failed and the 250 to RCPT is out of order */
    expect(SCRIPT(HELLO_PIPE, C(MAIL RCPT "DATA\r\n"), S("354 go\r\n250 OK\r\n250 OK\r\n")),
           WANT(W(SMTP_REPLY_UNEXPECTED_CODE, 56), W(SMTP_OUT_OF_ORDER_ACCEPTED, 64),
                W(SMTP_REPLY_UNEXPECTED_CODE, 72)));
}

/* ---- message content ----------------------------------------------------- */

static void test_data_content(void **state)
{
    (void)state;
    /* the content is judged the same however it is cut (split invariance
     * checks every cut); here the findings themselves */
    expect(SCRIPT(HELLO, TX, C("DATA\r\n"), S("354 go\r\n"),
                  C("a\r\n.\nb\r\nc\n.\r\nd\r.\r\ne\r\n.\rf\r\n..\r\n.x\r\n.\r\n"), S(OK)),
           /* content starts at c 70 */
           WANT(W(SMTP_BODY_BARE_LF, 74), W(SMTP_BODY_DOT_LOOKALIKE, 73),
                W(SMTP_BODY_BARE_LF, 79), W(SMTP_BODY_DOT_LOOKALIKE, 80),
                W(SMTP_BODY_BARE_CR, 84), W(SMTP_BODY_DOT_LOOKALIKE, 85),
                W(SMTP_BODY_BARE_CR, 92), W(SMTP_BODY_DOT_LOOKALIKE, 91),
                W(SMTP_BODY_UNSTUFFED_DOT, 100)));
    /* DATA refused before any content: commands again */
    /* (DATA after a refused RCPT is allowed, RFC 5321 s3.3: no finding) */
    expect(SCRIPT(HELLO, C(MAIL), S(OK), C(RCPT), S("550 no\r\n"), C("DATA\r\n"),
                  S("554 no valid recipients\r\n"), C("RSET\r\n"), S(OK)),
           NONE);
    /* ... and refused after the client had sent content early: the
     * content is read to its end, not taken for commands */
    expect(SCRIPT(HELLO, TX, C("DATA\r\nXFOO\r\n.\r\n"), S("554 no\r\n"), C("QUIT\r\n"),
                  S("221 bye\r\n")),
           WANT(W(SMTP_CONTENT_BEFORE_354, 70)));
    /* the 8-bit check waits for the end of the message */
    expect(SCRIPT(S(GREET), C(EHLO), S("250-mx.example.com\r\n250 8BITMIME\r\n"),
                  C("MAIL FROM:<a@b.example> BODY=8BITMIME\r\n"), S(OK), C(RCPT), S(OK),
                  C("DATA\r\n"), S("354 go\r\n"), C("\xe9\r\n.\r\n"), S(OK)),
           NONE);
    /* a reply during the content, then the client's "." is not blamed */
    expect(SCRIPT(HELLO, TX, C("DATA\r\n"), S("354 go\r\n"), C("abc\r\n"),
                  S("451 timeout\r\n"), C(".\r\n"), C("QUIT\r\n"), S("221 bye\r\n")),
           WANT(W(SMTP_REPLY_DURING_DATA, 64)));
    /* ... except a 421, which may come at any time (s3.8) */
    expect(SCRIPT(HELLO, TX, C("DATA\r\n"), S("354 go\r\n"), C("abc\r\n"),
                  S("421 shutting down\r\n"), CLOSES, CLOSEC),
           NONE);
}

/* ---- BDAT ------------------------------------------------------------------ */

static void test_bdat(void **state)
{
    (void)state;
    /* text sent with BDAT is still canonical (RFC 3030 s2): bare LF, NUL */
    expect(SCRIPT(S(GREET), C(EHLO), S("250-mx.example.com\r\n250 CHUNKING\r\n"), TX,
                  C("BDAT 6 LAST\r\na\nb\x00\r\n"), S(OK)),
           /* chunk at c 77 */
           WANT(W(SMTP_BODY_BARE_LF, 78), W(SMTP_BODY_NUL, 80)));
    /* a BDAT command line with a bad size carries no chunk */
    expect(SCRIPT(S(GREET), C(EHLO), S("250-mx.example.com\r\n250 CHUNKING\r\n"), TX,
                  C("BDAT x\r\n"), S("501 bad size\r\n"), C("RSET\r\n"), S(OK)),
           WANT(W(SMTP_CMD_SYNTAX, 69)));
    /* BDAT then DATA, refused (client blamed), and accepted (both) */
    expect(SCRIPT(S(GREET), C(EHLO), S("250-mx.example.com\r\n250 CHUNKING\r\n"), TX,
                  C("BDAT 1\r\nx"), S(OK), C("DATA\r\n"), S("503 no\r\n"), C("RSET\r\n"), S(OK)),
           WANT(W(SMTP_BDAT_DATA_MIXED, 73)));
    /* BDAT after BDAT LAST: the BDAT rule, not "BDAT without MAIL" */
    expect(SCRIPT(S(GREET), C(EHLO), S("250-mx.example.com\r\n250 CHUNKING\r\n"), TX,
                  C("BDAT 1 LAST\r\nx"), S(OK), C("BDAT 1\r\ny"), S("503 no\r\n")),
           WANT(W(SMTP_BDAT_DATA_MIXED, 78)));
    /* ... and after RSET, a BDAT is a BDAT without MAIL again */
    expect(SCRIPT(S(GREET), C(EHLO), S("250-mx.example.com\r\n250 CHUNKING\r\n"), TX,
                  C("BDAT 1 LAST\r\nx"), S(OK), C("RSET\r\n"), S(OK), C("BDAT 1\r\ny"),
                  S("503 no\r\n")),
           WANT(W(SMTP_RCPT_BEFORE_MAIL, 84)));
    /* BINARYMIME content sent with DATA is judged as text */
    expect(SCRIPT(S(GREET), C(EHLO),
                  S("250-mx.example.com\r\n250-BINARYMIME\r\n250 CHUNKING\r\n"),
                  C("MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n"), S(OK), C(RCPT), S(OK),
                  C("DATA\r\n"), S("354 go\r\n"), C("a\nb\r\n.\r\n"), S(OK)),
           WANT(W(SMTP_BINARYMIME_WITH_DATA, 80), W(SMTP_BINARYMIME_DATA_ACCEPTED, 86),
                W(SMTP_BODY_BARE_LF, 87)));
}

/* ---- AUTH ------------------------------------------------------------------ */

static void test_auth(void **state)
{
    (void)state;
    /* responses are not commands: "QUIT" is a (base64) response here, and
     * the 535 answers the AUTH, not a QUIT */
    expect(SCRIPT(TLSD, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 AUTH LOGIN\r\n"),
                  C("AUTH LOGIN\r\n"), S("334 VXNlcm5hbWU6\r\n"), C("QUIT\r\n"),
                  S("535 authentication failed\r\n"), C("QUIT\r\n"), S("221 bye\r\n")),
           NONE);
    /* an initial response the server answers with a challenge: the next
     * line is a response */
    expect(SCRIPT(TLSD, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 AUTH PLAIN\r\n"),
                  C("AUTH PLAIN =\r\n"), S("334 \r\n"), C("AGEAYg==\r\n"), S("235 OK\r\n")),
           NONE);
    /* a bad initial response */
    expect(SCRIPT(TLSD, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 AUTH PLAIN\r\n"),
                  C("AUTH PLAIN !!\r\n"), S("501 bad\r\n")),
           WANT(W(SMTP_AUTH_RESPONSE_SYNTAX, 27)));
    /* a refused AUTH ends the exchange: the next line is a command */
    expect(SCRIPT(HELLO, C("AUTH GSSAPI\r\n"), S("504 unrecognized\r\n"), C("NOOP\r\n"),
                  S(OK)),
           WANT(W(SMTP_AUTH_UNADVERTISED, 21)));
    /* the cleartext finding once per session; LOGIN outside TLS although
     * STARTTLS was offered */
    expect(SCRIPT(S(GREET), C(EHLO), S("250-mx.example.com\r\n250-STARTTLS\r\n250 AUTH LOGIN\r\n"),
                  C("AUTH LOGIN\r\n"), S("334 VXNlcm5hbWU6\r\n"), C("YQ==\r\n"),
                  S("535 no\r\n"), C("AUTH LOGIN\r\n"), S("334 VXNlcm5hbWU6\r\n"), C("*\r\n"),
                  S("501 cancelled\r\n")),
           WANT(W(SMTP_PLAINTEXT_AUTH_OFFERED, 63), W(SMTP_CLEARTEXT_PASSWORD, 16)));
    /* no STARTTLS offered (and none asked for): plain SMTP; offering LOGIN
     * there is the server's business (SMTP.PLAINTEXT.AUTH_OFFERED) */
    expect(SCRIPT(S(GREET), C(EHLO), S("250-mx.example.com\r\n250 AUTH LOGIN\r\n"),
                  C("AUTH LOGIN\r\n"), S("334 VXNlcm5hbWU6\r\n"), C("YQ==\r\n"),
                  S("535 no\r\n")),
           WANT(W(SMTP_PLAINTEXT_AUTH_OFFERED, 49)));
    /* a 334 with a bad challenge, then the exchange goes on */
    expect(SCRIPT(HELLO, C("AUTH CRAM-MD5\r\n"), S("334 <1.2@x>\r\n"), C("YQ==\r\n"),
                  S("535 no\r\n")),
           WANT(W(SMTP_AUTH_UNADVERTISED, 21), W(SMTP_AUTH_CHALLENGE_SYNTAX, 44)));
}

/* ---- STARTTLS ---------------------------------------------------------------- */

static void test_starttls(void **state)
{
    (void)state;
    expect(conv_starttls_injection, WANT(W(SMTP_STARTTLS_CMD_INJECTION, 26)));
    expect(conv_starttls_injection_tls_answered,
           WANT(W(SMTP_STARTTLS_CMD_INJECTION, 26), W(SMTP_STARTTLS_INJECTION_ANSWERED, 62)));
    expect(conv_starttls_injection_answered_same_segment,
           WANT(W(SMTP_STARTTLS_CMD_INJECTION, 26), W(SMTP_STARTTLS_INJECTION_ANSWERED, 62)));
    expect(conv_starttls_response_injection, WANT(W(SMTP_STARTTLS_RESPONSE_INJECTION, 62)));
    /* plaintext from the client after the 220, where its handshake starts */
    expect(SCRIPT(S(GREET), C(EHLO), S("250-mx.example.com\r\n250 STARTTLS\r\n"),
                  C("STARTTLS\r\n"), S("220 go\r\n"), C("NOOP\r\n"), S(TLS_SERVER)),
           WANT(W(SMTP_STARTTLS_CMD_INJECTION, 26)));
    /* a refused STARTTLS: plaintext goes on, no injection */
    expect(SCRIPT(S(GREET), C(EHLO), S("250-mx.example.com\r\n250 STARTTLS\r\n"),
                  C("STARTTLS\r\n"), S("454 TLS not available\r\n"), C("QUIT\r\n"),
                  S("221 bye\r\n")),
           NONE);
    /* what was learnt before TLS is void: PIPELINING must be learnt again */
    expect(SCRIPT(S(GREET), C(EHLO), S("250-mx.example.com\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
                  C("STARTTLS\r\n"), S("220 go\r\n"), TLSD, C(EHLO MAIL), S(EHLO_OK OK)),
           WANT(W(SMTP_PIPELINING_UNADVERTISED, 42)));
    /* implicit TLS: STARTTLS offered inside TLS, and sent */
    expect(SCRIPT(TLSD, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 STARTTLS\r\n"),
                  C("STARTTLS\r\n"), S("454 already in TLS\r\n")),
           WANT(W(SMTP_STARTTLS_ADVERTISED_IN_TLS, 44), W(SMTP_STARTTLS_IN_TLS, 16)));
}

/* ---- SMTP smuggling ------------------------------------------------------------ */

static void test_smuggling(void **state)
{
    (void)state;
    /* content of the first message at c 70: "hi\r\n" then "\n.\n" */
    expect(conv_smuggle_vulnerable,
           WANT(W(SMTP_BODY_BARE_LF, 74), W(SMTP_BODY_BARE_LF, 76), W(SMTP_BODY_DOT_LOOKALIKE, 75),
                W(SMTP_SMUGGLING_ACCEPTED, 64)));
    expect(conv_smuggle_one_segment,
           WANT(W(SMTP_BODY_BARE_LF, 74), W(SMTP_BODY_BARE_LF, 76), W(SMTP_BODY_DOT_LOOKALIKE, 75),
                W(SMTP_SMUGGLING_ACCEPTED, 100)));
    expect(conv_smuggle_conformant,
           WANT(W(SMTP_BODY_BARE_LF, 74), W(SMTP_BODY_BARE_LF, 76), W(SMTP_BODY_DOT_LOOKALIKE, 75)));
    /* pipelined: content at c 70 as well */
    expect(conv_smuggle_conformant_one_segment,
           WANT(W(SMTP_BODY_BARE_LF, 74), W(SMTP_BODY_BARE_LF, 76), W(SMTP_BODY_DOT_LOOKALIKE, 75)));
    /* "\r\n.\r" followed by no LF: a receiver that ends lines at CR */
    expect(SCRIPT(HELLO, TX, C("DATA\r\n"), S("354 go\r\n"), C("a\r\n.\rMAIL\r\n.\r\n"),
                  S(OK)),
           WANT(W(SMTP_BODY_BARE_CR, 74), W(SMTP_BODY_DOT_LOOKALIKE, 73)));
}

/* ---- greeting, order, closing --------------------------------------------------- */

static void test_session_order(void **state)
{
    (void)state;
    /* before the greeting: reported once */
    expect(SCRIPT(C(EHLO "NOOP\r\n"), S(GREET), S(EHLO_OK OK)),
           WANT(W(SMTP_CMD_BEFORE_GREETING, 0)));
    /* MAIL inside a transaction; RCPT after a refused MAIL (the client
     * knew); DATA after the transaction ended */
    expect(SCRIPT(HELLO, C(MAIL), S(OK), C(MAIL), S("503 nested\r\n"), C("RSET\r\n"), S(OK),
                  C(MAIL), S("550 no\r\n"), C(RCPT), S("503 need MAIL\r\n")),
           WANT(W(SMTP_MAIL_IN_TRANSACTION, 41), W(SMTP_RCPT_BEFORE_MAIL, 97)));
    /* a 554 greeting: the client closing without QUIT is fine, but the
     * server waits for its QUIT (RFC 5321 s3.1) */
    expect(SCRIPT(S("554 go away\r\n"), CLOSEC, CLOSES), NONE);
    expect(SCRIPT(S("554 go away\r\n"), CLOSES, CLOSEC), WANT(W(SMTP_SERVER_CLOSED, 13)));
    /* the server closes first: the client is not blamed */
    expect(SCRIPT(HELLO, CLOSES, CLOSEC), WANT(W(SMTP_SERVER_CLOSED, 40)));
    /* the capture just ends: nobody is blamed */
    expect(SCRIPT(HELLO, C("NOO")), NONE);
    /* 421 to a command, then closing */
    expect(SCRIPT(HELLO, C("NOOP\r\n"), S("421 bye\r\n"), CLOSES, CLOSEC), NONE);
    /* QUIT answered with an error, then closing */
    expect(SCRIPT(HELLO, C("QUIT\r\n"), S("500 what\r\n"), CLOSES, CLOSEC),
           WANT(W(SMTP_QUIT_REPLY, 40)));
}

/* ---- gaps ------------------------------------------------------------------------ */

static void test_gaps(void **state)
{
    (void)state;
    /* a reply whose start is lost is not unsolicited; the next command's
     * reply is matched again */
    expect(SCRIPT(HELLO, C("NOOP\r\n"), GAPS(5), S("OK\r\n"), C("NOOP\r\n"), S(OK)), NONE);
    /* the 220 to STARTTLS lost in a gap: the client's TLS record says the
     * handshake began (not plaintext injection, nor TLS parsed as SMTP) */
    expect(SCRIPT(S(GREET), C(EHLO), S("250-mx.example.com\r\n250 STARTTLS\r\n"),
                  C("STARTTLS\r\n"), GAPS(14), C(TLS_CLIENT), S(TLS_SERVER)),
           NONE);
    /* ... or it was refused: the client goes on in plaintext */
    expect(SCRIPT(S(GREET), C(EHLO), S("250-mx.example.com\r\n250 STARTTLS\r\n"),
                  C("STARTTLS\r\n"), GAPS(14), C("QUIT\r\n"), S("221 bye\r\n")),
           NONE);
    /* a gap before the greeting */
    expect(SCRIPT(GAPS(10), S("ESMTP\r\n"), C(EHLO), S(EHLO_OK)), NONE);
    /* a lost command: its reply is not unsolicited */
    expect(SCRIPT(HELLO, GAPC(6), S(OK), C("NOOP\r\n"), S(OK)), NONE);
}

/* ---- origin lines ------------------------------------------------------------------ */

static void test_origin_lines(void **state)
{
    (void)state;
    static struct flog l_store;
    struct flog *l = &l_store;
    run(conv_smuggle_vulnerable, MC_PROTO_SMTP, l);
    assert_int_equal(l->n, 4);
    /* HELLO is 3 steps, TX 4, then DATA (8), 354 (9), content (10), 250 (11) */
    assert_int_equal(l->r[0].line, 10);
    assert_int_equal(l->r[2].line, 10);
    assert_int_equal(l->r[3].line, 11);
}

/* ---- stripping and downgrade (RFC 8314 s5.2) ------------------------------ */

static const struct step conv_starttls_refused_auth[] = {
    S(GREET), C(EHLO), S(EHLO_TLS), C("STARTTLS\r\n"), S("454 TLS not available\r\n"),
    C("AUTH CRAM-MD5\r\n"), S("334 PDEyMzQ+\r\n"), C("YSBi\r\n"), S("235 ok\r\n"), /* AUTH at c 26 */
    END};
static const struct step conv_starttls_goahead_auth[] = {
    S(GREET), C(EHLO), S(EHLO_TLS), C("STARTTLS\r\n"), S("220 go\r\n"),
    C("AUTH PLAIN AGEAYg==\r\n"),                                               /* c 26 */
    END};
static const struct step conv_starttls_goahead_close[] = {
    S(GREET), C(EHLO), S(EHLO_TLS), C("STARTTLS\r\n"), S("220 go\r\n"), CLOSEC, CLOSES, END};
/* a 250 injected after the 220 (s 81); inside TLS the client sends MAIL
 * (c 42) before the reply to its EHLO: it took the injected 250 for it */
static const struct step conv_starttls_injected_used[] = {
    S(GREET), C(EHLO), S(EHLO_TLS), C("STARTTLS\r\n"), S("220 go\r\n250 injected\r\n"),
    TLSD, C(EHLO), C(MAIL), S(EHLO_OK), S(OK), END};

static const struct step conv_starttls_answered_after_hello[] = {
    HELLO, C("STARTTLS\r\nNOOP\r\n"), S("220 go\r\n"), TLS, C("\x16\x03\x01\x00\x05hello"),
    S(OK), END};                                                             /* 250 at s 48 */

static void test_starttls_downgrade(void **state)
{
    (void)state;
    expect(conv_starttls_refused_auth, WANT(W(SMTP_STARTTLS_REFUSED_CREDENTIALS, 26)));
    /* STARTTLS not advertised, asked for anyway and refused: the same */
    expect(SCRIPT(HELLO, C("STARTTLS\r\n"), S("502 no\r\n"), C("AUTH LOGIN\r\n"),
                  S("504 no\r\n")),
           WANT(W(SMTP_STARTTLS_REFUSED_CREDENTIALS, 26), W(SMTP_AUTH_UNADVERTISED, 31)));
    /* EXTERNAL and ANONYMOUS carry no secret */
    expect(SCRIPT(S(GREET), C(EHLO), S("250-mx.example.com\r\n250-STARTTLS\r\n250 AUTH ANONYMOUS\r\n"),
                  C("STARTTLS\r\n"), S("454 no\r\n"), C("AUTH ANONYMOUS\r\n"), S("334 \r\n"),
                  C("YQ==\r\n"), S("235 ok\r\n")),
           NONE);
    /* the 220, then AUTH in plaintext: injection, and the password is out */
    expect(conv_starttls_goahead_auth,
           WANT(W(SMTP_STARTTLS_CMD_INJECTION, 26), W(SMTP_CLEARTEXT_PASSWORD, 26)));
    expect(conv_starttls_goahead_close, WANT(W(SMTP_STARTTLS_NO_HANDSHAKE, 26)));
    /* the server closed first, or the capture just ended: nothing to say
     * about the handshake */
    expect(SCRIPT(S(GREET), C(EHLO), S(EHLO_TLS), C("STARTTLS\r\n"), S("220 go\r\n")), NONE);
    expect(conv_starttls_injected_used,
           WANT(W(SMTP_STARTTLS_RESPONSE_INJECTION, 81), W(SMTP_STARTTLS_INJECTED_RESPONSE_USED, 42)));
    /* the client waits for the reply inside TLS: only the server is at fault */
    expect(SCRIPT(S(GREET), C(EHLO), S(EHLO_TLS), C("STARTTLS\r\n"), S("220 go\r\n250 injected\r\n"),
                  TLSD, C(EHLO), S(EHLO_OK), C(MAIL), S(OK)),
           WANT(W(SMTP_STARTTLS_RESPONSE_INJECTION, 81)));
    /* '! tls' at the client's ClientHello (as the relay writes it), then
     * the server answers the injected NOOP in plaintext: still seen */
    expect(conv_starttls_answered_after_hello,
           WANT(W(SMTP_STARTTLS_CMD_INJECTION, 26), W(SMTP_STARTTLS_INJECTION_ANSWERED, 48)));
    check_split_invariance("starttls answered after hello", conv_starttls_answered_after_hello,
                           MC_PROTO_SMTP, true);
    check_split_invariance("starttls refused", conv_starttls_refused_auth, MC_PROTO_SMTP, true);
    check_split_invariance("starttls plaintext", conv_starttls_goahead_auth, MC_PROTO_SMTP, true);
    check_split_invariance("starttls close", conv_starttls_goahead_close, MC_PROTO_SMTP, true);
    check_split_invariance("starttls injected used", conv_starttls_injected_used, MC_PROTO_SMTP, true);
}

/* ---- one trigger per rule ------------------------------------------------ */

static const struct trigger triggers[] = {
    /* server */
    T(SMTP_REPLY_BARE_LF, 18, S("220 mx.example.com\n")),
    T(SMTP_REPLY_BARE_CR, 18, S("220 mx.example.com\rx\r\n")),
    T(SMTP_REPLY_NUL, 18, S("220 mx.example.com\x00\r\n")),
    T(SMTP_REPLY_TOO_LONG, 510, S("220 mx.example.com " X100 X100 X100 X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 "xxx\r\n")),
    T(SMTP_REPLY_UNTERMINATED, 47, HELLO, C("QUIT\r\n"), S("221 bye"), CLOSES),
    T(SMTP_REPLY_CODE_SYNTAX, 2, S("22x mx.example.com\r\n")),
    T(SMTP_REPLY_CODE_RANGE, 41, HELLO, C("NOOP\r\n"), S("260 OK\r\n")),
    T(SMTP_REPLY_SEPARATOR, 43, HELLO, C("NOOP\r\n"), S("250_OK\r\n")),
    T(SMTP_REPLY_NO_SPACE, 43, HELLO, C("NOOP\r\n"), S("250\r\n")),
    T(SMTP_REPLY_CODE_MISMATCH, 40, S(GREET), C(EHLO), S("250-mx.example.com\r\n251 SIZE\r\n")),
    T(SMTP_REPLY_TEXT_CHARS, 45, HELLO, C("NOOP\r\n"), S("250 O\x01K\r\n")),
    T(SMTP_REPLY_MULTILINE_UNTERMINATED, 49, HELLO, C("QUIT\r\n"), S("221-bye\r\n"), CLOSES),
    T(SMTP_ESC_SYNTAX, 72, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 ENHANCEDSTATUSCODES\r\n"), C("NOOP\r\n"), S("250 2.0x OK\r\n")),
    T(SMTP_ESC_CLASS, 69, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 ENHANCEDSTATUSCODES\r\n"), C("NOOP\r\n"), S("250 5.0.0 OK\r\n")),
    T(SMTP_ESC_NO_SPACE, 74, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 ENHANCEDSTATUSCODES\r\n"), C("NOOP\r\n"), S("250 2.0.0OK\r\n")),
    T(SMTP_ESC_LINE_MISMATCH, 82, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 ENHANCEDSTATUSCODES\r\n"), C("HELP\r\n"), S("214-2.0.0 a\r\n214 2.0.1 b\r\n")),
    T(SMTP_ESC_MISSING, 69, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 ENHANCEDSTATUSCODES\r\n"), C("NOOP\r\n"), S(OK)),
    T(SMTP_GREETING_CODE, 0, S(EHLO_OK)),
    T(SMTP_GREETING_DOMAIN, 4, S("220 -- ready\r\n")),
    T(SMTP_EHLO_REPLY_DOMAIN, 24, S(GREET), C(EHLO), S("250 Hello!\r\n")),
    T(SMTP_EHLO_LINE_SYNTAX, 45, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 X_Y\r\n")),
    T(SMTP_EHLO_SIZE_SYNTAX, 49, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 SIZE big\r\n")),
    T(SMTP_EHLO_AUTH_SYNTAX, 53, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 AUTH CRAM/MD5\r\n")),
    T(SMTP_EHLO_AUTH_EQUALS, 44, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 AUTH=CRAM-MD5\r\n")),
    T(SMTP_UNSOLICITED_REPLY, 20, S(GREET), S(OK)),
    T(SMTP_REPLY_UNEXPECTED_CODE, 40, HELLO, C(MAIL), S("251 OK\r\n")),
    T(SMTP_OUT_OF_ORDER_ACCEPTED, 40, HELLO, C(RCPT), S(OK)),
    T(SMTP_DATA_NO_RCPT_ACCEPTED, 72, HELLO_PIPE, C("MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"), S("250 OK\r\n550 no\r\n354 go\r\n")),
    T(SMTP_BDAT_MIX_ACCEPTED, 78, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 CHUNKING\r\n"), TX, C("BDAT 1\r\nx"), S(OK), C("DATA\r\n"), S("354 go\r\n")),
    T(SMTP_SERVER_CLOSED, 48, HELLO, C("NOOP\r\n"), S(OK), CLOSES),
    T(SMTP_QUIT_REPLY, 40, HELLO, C("QUIT\r\n"), S("250 bye\r\n")),
    T(SMTP_RSET_REPLY, 40, HELLO, C("RSET\r\n"), S("502 no\r\n")),
    T(SMTP_NOOP_REPLY, 40, HELLO, C("NOOP\r\n"), S("502 no\r\n")),
    T(SMTP_REPLY_DURING_DATA, 64, HELLO, TX, C("DATA\r\n"), S("354 go\r\n"), C("abc\r\n"), S("554 no\r\n")),
    T(SMTP_SMUGGLING_ACCEPTED, 64, HELLO, TX, C("DATA\r\n"), S("354 go\r\n"), C("a\r\n\n.\n"), S(OK)),
    T(SMTP_STARTTLS_ADVERTISED_IN_TLS, 44, TLSD, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 STARTTLS\r\n")),
    T(SMTP_STARTTLS_RESPONSE_INJECTION, 48, HELLO, C("STARTTLS\r\n"), S("220 go\r\n250 OK\r\n")),
    T(SMTP_STARTTLS_INJECTION_ANSWERED, 48, HELLO, C("STARTTLS\r\nNOOP\r\n"), S("220 go\r\n250 OK\r\n")),
    T(SMTP_AUTH_CHALLENGE_SYNTAX, 44, HELLO, C("AUTH LOGIN\r\n"), S("334 ?\r\n")),
    T(SMTP_AUTH_CANCEL_ACCEPTED, 58, HELLO, C("AUTH LOGIN\r\n"), S("334 VXNlcm5hbWU6\r\n"), C("*\r\n"), S("235 OK\r\n")),
    T(SMTP_AUTH_REPEAT_ACCEPTED, 48, HELLO, C("AUTH EXTERNAL =\r\n"), S("235 OK\r\n"), C("AUTH EXTERNAL =\r\n"), S("235 OK\r\n")),
    T(SMTP_AUTH_IN_TRANSACTION_ACCEPTED, 48, HELLO, C(MAIL), S(OK), C("AUTH EXTERNAL =\r\n"), S("235 OK\r\n")),
    T(SMTP_PLAINTEXT_AUTH_OFFERED, 49, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 AUTH LOGIN\r\n")),
    T(SMTP_SUBMISSION_UNAUTH_MAIL, 40, SUBMISSION, HELLO, C(MAIL), S(OK)),
    T(SMTP_INVALID_ARG_ACCEPTED, 40, HELLO, C("MAIL FROM:<a@b_c.example>\r\n"), S(OK)),
    T(SMTP_HELO_EXTENDED_REPLY, 40, S(GREET), C("HELO client.example.org\r\n"),
      S("250-mx.example.com\r\n250 8BITMIME\r\n")),
    T(SMTP_BINARYMIME_DATA_ACCEPTED, 86, S(GREET), C(EHLO), S("250-mx.example.com\r\n250-BINARYMIME\r\n250 CHUNKING\r\n"),
      C("MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n"), S(OK), C(RCPT), S(OK), C("DATA\r\n"), S("354 go\r\n")),
    /* client */
    T(SMTP_CMD_BARE_LF, 4, S(GREET), C("QUIT\n")),
    T(SMTP_CMD_BARE_CR, 4, S(GREET), C("QUIT\r\r\n")),
    T(SMTP_CMD_NUL, 6, S(GREET), C("NOOP x\x00\r\n")),
    T(SMTP_CMD_TOO_LONG, 510, S(GREET), C("NOOP " X100 X100 X100 X100 X100 "xxxxxx\r\n")),
    T(SMTP_CMD_UNTERMINATED, 4, S(GREET), C("QUIT"), CLOSEC),
    T(SMTP_CMD_SYNTAX, 4, S(GREET), C("QUIT now\r\n")),
    T(SMTP_CMD_UNKNOWN, 0, S(GREET), C("XFOO\r\n")),
    T(SMTP_CMD_OBSOLETE, 16, HELLO, C("TURN\r\n")),
    T(SMTP_EHLO_DOMAIN_SYNTAX, 6, S(GREET), C("EHLO a_b\r\n")),
    T(SMTP_PATH_SYNTAX, 29, HELLO, C("MAIL FROM:<a@@b>\r\n")),
    T(SMTP_PATH_SPACE, 26, HELLO, C("MAIL FROM: <a@b.example>\r\n")),
    T(SMTP_PATH_NO_BRACKETS, 26, HELLO, C("MAIL FROM:a@b.example\r\n")),
    T(SMTP_PATH_SOURCE_ROUTE, 50, HELLO, C(MAIL), S(OK), C("RCPT TO:<@r.example:c@d.example>\r\n")),
    T(SMTP_LOCAL_TOO_LONG, 91, HELLO, C("MAIL FROM:<" X10 X10 X10 X10 X10 X10 "xxxxx@b.example>\r\n")),
    T(SMTP_DOMAIN_TOO_LONG, 284, HELLO, C("MAIL FROM:<a@" X10 X10 X10 X10 X10 X10 "." X10 X10 X10 X10 X10 X10 "." X10 X10 X10 X10 X10 X10 "." X10 X10 X10 X10 X10 X10 "." X10 "xxxxxx.example>\r\n")),
    T(SMTP_PATH_TOO_LONG, 282, HELLO, C("MAIL FROM:<" X10 X10 X10 X10 X10 X10 "@" X10 X10 X10 X10 X10 X10 "." X10 X10 X10 X10 X10 X10 "." X10 X10 X10 X10 X10 X10 "." X10 "x>\r\n")),
    T(SMTP_UTF8_UNADVERTISED, 26, HELLO, C("MAIL FROM:<\xc3\xa9@b.example>\r\n")),
    T(SMTP_UTF8_UNDECLARED, 26, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 SMTPUTF8\r\n"), C("MAIL FROM:<\xc3\xa9@b.example>\r\n")),
    T(SMTP_PARAM_SYNTAX, 39, HELLO, C("MAIL FROM:<a@b.example> \r\n")),
    T(SMTP_PARAM_VALUE, 45, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 SIZE\r\n"), C("MAIL FROM:<a@b.example> SIZE=x\r\n")),
    T(SMTP_PARAM_DUPLICATE, 47, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 SIZE\r\n"), C("MAIL FROM:<a@b.example> SIZE=1 SIZE=1\r\n")),
    T(SMTP_PARAM_UNADVERTISED, 40, HELLO, C("MAIL FROM:<a@b.example> SIZE=1\r\n")),
    T(SMTP_SIZE_EXCEEDS_LIMIT, 45, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 SIZE 100\r\n"), C("MAIL FROM:<a@b.example> SIZE=101\r\n")),
    T(SMTP_BODY_8BIT_UNADVERTISED, 73, HELLO, TX, C("DATA\r\n"), S("354 go\r\n"), C("\xe9\r\n.\r\n")),
    T(SMTP_BODY_8BIT_UNDECLARED, 73, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 8BITMIME\r\n"), TX, C("DATA\r\n"), S("354 go\r\n"), C("\xe9\r\n.\r\n")),
    T(SMTP_BODY_BARE_LF, 71, HELLO, TX, C("DATA\r\n"), S("354 go\r\n"), C("a\nb\r\n")),
    T(SMTP_BODY_BARE_CR, 71, HELLO, TX, C("DATA\r\n"), S("354 go\r\n"), C("a\rb\r\n")),
    T(SMTP_BODY_NUL, 71, HELLO, TX, C("DATA\r\n"), S("354 go\r\n"), C("a\x00 b\r\n")),
    T(SMTP_BODY_LINE_TOO_LONG, 1068, HELLO, TX, C("DATA\r\n"), S("354 go\r\n"), C(X100 X100 X100 X100 X100 X100 X100 X100 X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 "xxxxxxxxx\r\n")),
    T(SMTP_BODY_DOT_LOOKALIKE, 73, HELLO, TX, C("DATA\r\n"), S("354 go\r\n"), C("a\r\n.\nb\r\n")),
    T(SMTP_BODY_UNSTUFFED_DOT, 70, HELLO, TX, C("DATA\r\n"), S("354 go\r\n"), C(".x\r\n")),
    T(SMTP_BODY_UNTERMINATED, 73, HELLO, TX, C("DATA\r\n"), S("354 go\r\n"), C("abc"), CLOSEC),
    T(SMTP_BINARYMIME_WITH_DATA, 80, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 BINARYMIME\r\n"), C("MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n"), S(OK), C(RCPT), S(OK), C("DATA\r\n")),
    T(SMTP_BDAT_UNADVERTISED, 64, HELLO, TX, C("BDAT 1 LAST\r\nx")),
    T(SMTP_BDAT_DATA_MIXED, 73, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 CHUNKING\r\n"), TX, C("BDAT 1\r\nx"), S(OK), C("DATA\r\n")),
    T(SMTP_MAIL_BEFORE_EHLO, 0, S(GREET), C(MAIL)),
    T(SMTP_RCPT_BEFORE_MAIL, 16, HELLO, C(RCPT)),
    T(SMTP_DATA_WITHOUT_RCPT, 41, HELLO, C(MAIL), S(OK), C("DATA\r\n")),
    T(SMTP_MAIL_IN_TRANSACTION, 41, HELLO, C(MAIL), S(OK), C(MAIL)),
    T(SMTP_CMD_BEFORE_GREETING, 0, C(EHLO), S(GREET)),
    T(SMTP_CMD_AFTER_QUIT, 22, HELLO, C("QUIT\r\n"), S("221 bye\r\n"), C("NOOP\r\n")),
    T(SMTP_CLOSE_WITHOUT_QUIT, 22, HELLO, C("NOOP\r\n"), CLOSEC),
    T(SMTP_PIPELINING_UNADVERTISED, 41, HELLO, C("MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n")),
    T(SMTP_PIPELINING_NOT_LAST, 22, HELLO_PIPE, C("NOOP\r\nMAIL FROM:<a@b.example>\r\n")),
    T(SMTP_CONTENT_BEFORE_354, 70, HELLO, TX, C("DATA\r\nx")),
    T(SMTP_STARTTLS_CMD_INJECTION, 26, HELLO, C("STARTTLS\r\nNOOP\r\n")),
    T(SMTP_STARTTLS_IN_TLS, 16, TLSD, HELLO, C("STARTTLS\r\n")),
    T(SMTP_STARTTLS_NO_EHLO, 26, HELLO, C("STARTTLS\r\n"), S("220 go\r\n"), TLSD, C(MAIL)),
    T(SMTP_AUTH_RESPONSE_SYNTAX, 29, HELLO, C("AUTH LOGIN\r\n"), S("334 VXNlcm5hbWU6\r\n"), C("a!\r\n")),
    T(SMTP_AUTH_UNADVERTISED, 21, HELLO, C("AUTH EXTERNAL =\r\n")),
    T(SMTP_AUTH_REPEAT, 33, HELLO, C("AUTH EXTERNAL =\r\n"), S("235 OK\r\n"), C("AUTH EXTERNAL =\r\n")),
    T(SMTP_AUTH_IN_TRANSACTION, 41, HELLO, C(MAIL), S(OK), C("AUTH EXTERNAL =\r\n")),
    T(SMTP_AUTH_IR_TOO_LONG, 526, TLSD, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 AUTH PLAIN\r\n"), C("AUTH PLAIN " B100 B100 B100 B100 B100 "\r\n")),
    T(SMTP_CLEARTEXT_PASSWORD, 16, S(GREET), C(EHLO), S("250-mx.example.com\r\n250 STARTTLS\r\n"),
      C("AUTH LOGIN\r\n")),
    T(SMTP_STARTTLS_REFUSED_CREDENTIALS, 26, S(GREET), C(EHLO), S(EHLO_TLS), C("STARTTLS\r\n"),
      S("454 TLS not available\r\n"), C("AUTH CRAM-MD5\r\n")),
    T(SMTP_STARTTLS_NO_HANDSHAKE, 26, S(GREET), C(EHLO), S(EHLO_TLS), C("STARTTLS\r\n"),
      S("220 go\r\n"), CLOSEC),
    T(SMTP_STARTTLS_INJECTED_RESPONSE_USED, 42, S(GREET), C(EHLO), S(EHLO_TLS), C("STARTTLS\r\n"),
      S("220 go\r\n250 injected\r\n"), TLSD, C(EHLO), C(MAIL)),
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
    /* every SMTP rule in the catalogue has a trigger above */
    check_rule_coverage(triggers, NTRIGGERS, MC_PROTO_SMTP, "test_smtp_session.c");
}

/* ---- credentials ------------------------------------------------------- */

static const char *const secrets[] = {
    "AGFsaWNlAHMzY3JldCE=",   /* "\0alice\0s3cret!" */
    "czNjcmV0IQ==",           /* "s3cret!" (LOGIN) */
    "AGFsaWNl",
    "czNjcmV0",
    "s3cret",
};

static void assert_no_secret(const struct flog *l, const char *how)
{
    for (size_t i = 0; i < l->n; i++)
        for (size_t k = 0; k < sizeof(secrets) / sizeof(secrets[0]); k++)
            if (strstr(l->r[i].excerpt, secrets[k]) || strstr(l->r[i].message, secrets[k])) {
                print_error("%s: secret '%s' leaks in %s\n", how, secrets[k],
                            mc_rule_info(l->r[i].rule)->id);
                print_log("findings", l);
                fail();
            }
}

/* Credentials in AUTH lines and SASL responses, in every place a finding
 * can quote them. */
static const struct step cred_auth[] = {
    C("AUTH PLAIN AGFsaWNlAHMzY3JldCE=\r\n"),      /* before the greeting, unadvertised */
    S(GREET),
    S("503 no\r\n"),
    C(EHLO),
    S("250-mx.example.com\r\n250 AUTH PLAIN LOGIN\r\n"),
    C("AUTH PLAIN AGFsaWNlAHMzY3JldCE=\n"),        /* bare LF, cleartext */
    S("535 no\r\n"),
    C("AUTH LOGIN\r\n"),
    S("334 VXNlcm5hbWU6\r\n"),
    C("YWxpY2U=\r\n"),
    S("334 UGFzc3dvcmQ6\r\n"),
    C("czNjcmV0IQ==\n"),                           /* bare LF in a response */
    S("235 OK\r\n"),
    C("AUTH PLAIN AGFsaWNlAHMzY3JldCE=\r\n"),      /* repeated */
    S("503 already\r\n"),
    C("STARTTLS\r\nAUTH PLAIN AGFsaWNlAHMzY3JldCE=\r\n"),   /* injected */
    S("220 go\r\n"),
    TLSD,
    S("235 OK\r\n"),
    C("AUTH PLAIN AGFsaWNlAHMzY3JldCE=\r"),        /* NUL-free, unterminated, after TLS */
    END,
};

static void test_credentials_redacted(void **state)
{
    (void)state;
    static struct flog l_store;
    struct flog *l = &l_store;
    size_t redacted = 0;
    run(cred_auth, MC_PROTO_SMTP, l);
    assert_no_secret(l, "whole");
    for (size_t i = 0; i < l->n; i++)
        redacted += strstr(l->r[i].excerpt, "<redacted>") != NULL;
    if (redacted < 4) {
        print_error("only %zu redacted excerpts\n", redacted);
        print_log("findings", l);
        fail();
    }
    run_mode(cred_auth, MC_PROTO_SMTP, M_BYTES, 0, 0, l);
    assert_no_secret(l, "bytes");
    for (size_t i = 0; cred_auth[i].kind != K_END; i++)
        for (size_t k = 1; k < cred_auth[i].len; k++) {
            run_mode(cred_auth, MC_PROTO_SMTP, M_SPLIT, i, k, l);
            assert_no_secret(l, "split");
        }
}

/* ---- split invariance -------------------------------------------------- */

struct conv {
    const char *name;
    const struct step *sc;
};

static const struct conv split_convs[] = {
    {"full", conv_full},
    {"helo", conv_helo},
    {"data chunks", conv_data_chunks},
    {"bdat", conv_bdat},
    {"binarymime", conv_binarymime},
    {"starttls decrypted", conv_starttls_decrypted},
    {"starttls opaque", conv_starttls_opaque},
    {"auth", conv_auth},
    {"submission", conv_submission},
    {"421", conv_421},
    {"421 idle", conv_421_idle},
    {"421 greeting", conv_421_greeting},
    {"554", conv_554},
    {"rcpt rejected", conv_rcpt_rejected},
    {"gaps", conv_gaps},
    {"smuggle vulnerable", conv_smuggle_vulnerable},
    {"smuggle one segment", conv_smuggle_one_segment},
    {"smuggle conformant", conv_smuggle_conformant},
    {"smuggle conformant one segment", conv_smuggle_conformant_one_segment},
    {"starttls injection", conv_starttls_injection},
    {"starttls injection tls answered", conv_starttls_injection_tls_answered},
    {"starttls injection same segment", conv_starttls_injection_answered_same_segment},
    {"starttls response injection", conv_starttls_response_injection},
    {"credentials", cred_auth},
};

static void test_split_invariance(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(split_convs) / sizeof(split_convs[0]); i++)
        check_split_invariance(split_convs[i].name, split_convs[i].sc, MC_PROTO_SMTP, false);
    for (size_t i = 0; i < NTRIGGERS; i++)
        check_split_invariance(mc_rule_info(triggers[i].rule)->id, triggers[i].sc,
                               triggers[i].proto, false);
}

/* ---- the golden transcripts, split ------------------------------------------ */

static void test_golden_split_invariance(void **state)
{
    (void)state;
    /* the golden set is there (98 rules, the RFC examples) */
    check_golden_split_invariance(__FILE__, "smtp", MC_PROTO_SMTP, 100);
}

/* ---- regressions ----------------------------------------------------------- */

static void test_bug_invalid_code_judged(void **state)
{
    (void)state;
    /* A reply code outside the grammar was judged as a code as well: "260"
     * to NOOP gave SMTP.REPLY.UNEXPECTED_CODE and SMTP.NOOP.REPLY next to
     * SMTP.REPLY.CODE_RANGE. */
    expect(SCRIPT(HELLO, C("NOOP\r\n"), S("260 OK\r\n")), WANT(W(SMTP_REPLY_CODE_RANGE, 41)));
    expect(SCRIPT(HELLO, C("NOOP\r\n"), S("25 OK\r\n")), WANT(W(SMTP_REPLY_CODE_SYNTAX, 42)));
    /* an unreadable greeting is not a wrong greeting code as well */
    expect(SCRIPT(S("2x0 mx.example.com\r\n"), C(EHLO), S(EHLO_OK)),
           WANT(W(SMTP_REPLY_CODE_SYNTAX, 1)));
}

static void test_bug_reply_rules_doubled(void **state)
{
    (void)state;
    /* RSET, NOOP and QUIT have their own reply rules; a wrong positive
     * code was also SMTP.REPLY.UNEXPECTED_CODE, and 421 was blamed */
    expect(SCRIPT(HELLO, C("RSET\r\n"), S("251 OK\r\n")), WANT(W(SMTP_RSET_REPLY, 40)));
    expect(SCRIPT(HELLO, C("NOOP\r\n"), S("421 shutting down\r\n"), CLOSES), NONE);
    /* QUIT answered with 250, then closing: the close is not blamed too */
    expect(SCRIPT(HELLO, C("QUIT\r\n"), S("250 bye\r\n"), CLOSES, CLOSEC),
           WANT(W(SMTP_QUIT_REPLY, 40)));
    /* a NOOP with a bad argument is not judged by the NOOP rule */
    expect(SCRIPT(HELLO, C("NOOP \x01\r\n"), S("501 bad\r\n")), WANT(W(SMTP_CMD_SYNTAX, 20)));
}

static void test_bug_bdat_mix_accepted_unseen(void **state)
{
    (void)state;
    /* DATA accepted after a BDAT that was not LAST went unseen; BDAT
     * accepted after BDAT LAST was "no transaction" */
    expect(SCRIPT(S(GREET), C(EHLO), S("250-mx.example.com\r\n250 CHUNKING\r\n"), TX,
                  C("BDAT 1\r\nx"), S(OK), C("DATA\r\n"), S("354 go\r\n"), C(".\r\n"), S(OK)),
           WANT(W(SMTP_BDAT_DATA_MIXED, 73), W(SMTP_BDAT_MIX_ACCEPTED, 78)));
    expect(SCRIPT(S(GREET), C(EHLO), S("250-mx.example.com\r\n250 CHUNKING\r\n"), TX,
                  C("BDAT 1 LAST\r\nx"), S(OK), C("BDAT 1\r\ny"), S(OK)),
           WANT(W(SMTP_BDAT_DATA_MIXED, 78), W(SMTP_BDAT_MIX_ACCEPTED, 78)));
}

static void test_bug_smuggling_one_segment(void **state)
{
    (void)state;
    /* With the whole message, the smuggled commands and QUIT in one
     * segment, the surplus replies were matched with QUIT
     * (SMTP.QUIT.REPLY) instead of showing the smuggling. */
    static struct flog l_store;
    struct flog *l = &l_store;
    run(conv_smuggle_one_segment, MC_PROTO_SMTP, l);
    assert_true(has(l, MC_R_SMTP_SMUGGLING_ACCEPTED, 100));
    assert_false(has(l, MC_R_SMTP_QUIT_REPLY, 100));
}

static void test_bug_no_ehlo_doubled(void **state)
{
    (void)state;
    /* MAIL first inside TLS was SMTP.STARTTLS.NO_EHLO and
     * SMTP.MAIL.BEFORE_EHLO */
    expect(SCRIPT(S(GREET), C(EHLO), S("250-mx.example.com\r\n250 STARTTLS\r\n"),
                  C("STARTTLS\r\n"), S("220 go\r\n"), TLSD, C(MAIL), S("503 EHLO first\r\n")),
           WANT(W(SMTP_STARTTLS_NO_EHLO, 26)));
}

static void test_bug_binary_content_judged(void **state)
{
    (void)state;
    /* BODY=BINARYMIME chunks were judged as text (bare LF, NUL, long
     * lines) */
    expect(conv_binarymime, NONE);
}

static void test_bug_unterminated_body_and_quit(void **state)
{
    (void)state;
    /* a client cut off inside the message was blamed for the missing QUIT
     * as well */
    expect(SCRIPT(HELLO, TX, C("DATA\r\n"), S("354 go\r\n"), C("abc"), CLOSEC),
           WANT(W(SMTP_BODY_UNTERMINATED, 73)));
}

static void test_bug_injected_reply_offset(void **state)
{
    (void)state;
    /* a multi-line reply injected after the 220 to STARTTLS was reported
     * at its last line */
    expect(conv_starttls_response_injection, WANT(W(SMTP_STARTTLS_RESPONSE_INJECTION, 62)));
}

static void test_bug_tls_marker_resync(void **state)
{
    (void)state;
    /* A greeting that never ends ("220-") shifts every reply; the TLS
     * marker says STARTTLS was answered, so inside TLS the session is in
     * step again instead of blaming every later reply. */
    expect(SCRIPT(S("220-mx.example.com\r\n"), C(EHLO),
                  S("250-mx.example.com\r\n250 STARTTLS\r\n"), C("STARTTLS\r\n"),
                  S("220 go\r\n"), TLSD, C(EHLO), S(EHLO_OK), C("QUIT\r\n"), S("221 bye\r\n")),
           WANT(W(SMTP_CMD_BEFORE_GREETING, 0), W(SMTP_REPLY_CODE_MISMATCH, 20),
                W(SMTP_REPLY_CODE_MISMATCH, 40), W(SMTP_PIPELINING_UNADVERTISED, 16),
                W(SMTP_REPLY_UNEXPECTED_CODE, 54)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_basics),
        cmocka_unit_test(test_conformant_sessions),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_data_content),
        cmocka_unit_test(test_bdat),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_starttls),
        cmocka_unit_test(test_smuggling),
        cmocka_unit_test(test_session_order),
        cmocka_unit_test(test_gaps),
        cmocka_unit_test(test_origin_lines),
        cmocka_unit_test(test_starttls_downgrade),
        cmocka_unit_test(test_rule_triggers),
        cmocka_unit_test(test_rule_coverage),
        cmocka_unit_test(test_credentials_redacted),
        cmocka_unit_test(test_split_invariance),
        cmocka_unit_test(test_golden_split_invariance),
        cmocka_unit_test(test_bug_invalid_code_judged),
        cmocka_unit_test(test_bug_reply_rules_doubled),
        cmocka_unit_test(test_bug_bdat_mix_accepted_unseen),
        cmocka_unit_test(test_bug_smuggling_one_segment),
        cmocka_unit_test(test_bug_no_ehlo_doubled),
        cmocka_unit_test(test_bug_binary_content_judged),
        cmocka_unit_test(test_bug_unterminated_body_and_quit),
        cmocka_unit_test(test_bug_injected_reply_offset),
        cmocka_unit_test(test_bug_tls_marker_resync),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
