/*
 * IMAP session validation through the generic session API
 * (validator/session/session.h, validator/imap/imap_session.c).
 *
 * A conversation is a table of steps (client chunk, server chunk, TLS
 * marker, gap, close), fed to mc_session_* exactly as the transcript
 * reader, the relay and the capture reader do. Every finding is recorded
 * (rule, offset, side, direction, origin line, excerpt, message) and
 * compared with the expected list "RULE@offset" in order. The origin line
 * of a chunk is its 1-based index in the step table, as a transcript would
 * number it.
 *
 * Every run also checks invariants that hold for all findings: session
 * name, default severity, protocol (IMAP, and every rule an IMAP rule),
 * direction matching the rule's side, and no offset inside a gap
 * (docs/transcript.md: "nothing inside the gap is blamed").
 *
 * Conformant conversations (the RFC 3501 and RFC 9051 s8 samples with the
 * responses their own normative text requires added, STARTTLS
 * with CAPABILITY asked again, AUTHENTICATE with continuations, IDLE/DONE,
 * APPEND with a synchronizing literal, LITERAL+, UID FETCH, pipelined
 * commands completed out of order, EXISTS/EXPUNGE bookkeeping) must be
 * silent; every IMAP rule of the catalogue has a trigger below.
 *
 * The split-invariance test feeds every conversation here and every rule
 * trigger whole, byte by byte and split at every position of every chunk
 * (at a sample of positions in long chunks), and every single-session
 * golden transcript of tests/data/imap the same way; the findings (and,
 * for the conversations here, their excerpts and messages) must not change.
 * IMAP_TRIGGER_DUMP=1 prints every trigger's findings.
 *
 * The defects found while writing this file (false positives after capture
 * gaps, passwords and SASL responses in excerpts) are fixed; their cases
 * stay as regression tests (test_server_gap_keeps_commands,
 * test_gap_hides_continuation, test_login_literal_password_redacted, ...).
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

#define SESSION_PROTO MC_PROTO_IMAP
#define SESSION_RULE_PROTO MC_PROTO_IMAP
#define SESSION_NEXT_CUT(k, len) session_cut_sampled((k), (len))
#include "session_harness.h"

/* ---- IMAP pieces of conversations ---------------------------------------- */

#define GREET "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"           /* 46 */
#define GREET_TLS "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n" /* 58 */
#define GREET_ST "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\r\n"      /* 55 */
#define GREET_IDLE "* OK [CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN] ready\r\n"      /* 51 */
/* Greeted and logged in: client offset 21, server offset 69. */
#define LOGIN S(GREET), C("a1 LOGIN mrc secret\r\n"), S("a1 OK LOGIN completed\r\n")
/* A SELECT with every response RFC 3501 s6.3.1 lists: client +17, server
 * +219 +37; selected: client offset 38, server offset 325. */
#define SELECT_CMD "a2 SELECT INBOX\r\n"
#define SELECT_RESP                                                                           \
    "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* 5 EXISTS\r\n* 0 RECENT\r\n" \
    "* OK [UNSEEN 3] first unseen\r\n"                                                        \
    "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] limited\r\n"                                \
    "* OK [UIDVALIDITY 42] UIDs valid\r\n* OK [UIDNEXT 6] predicted\r\n"
#define SELECT_OK "a2 OK [READ-WRITE] SELECT completed\r\n"
#define SELECT C(SELECT_CMD), S(SELECT_RESP), S(SELECT_OK)
/* Logged in and INBOX (5 messages) selected. */
#define SELECTED LOGIN, SELECT
/* The same with IDLE advertised: client 38, server 330. */
#define SELECTED_IDLE S(GREET_IDLE), C("a1 LOGIN mrc secret\r\n"), S("a1 OK LOGIN completed\r\n"), SELECT
/* An IMAP4rev2-only server (RFC 9051 s1): greeting 46, logged in 69 / 21. */
#define GREET2 "* OK [CAPABILITY IMAP4rev2 AUTH=PLAIN] ready\r\n"
#define LOGIN2 S(GREET2), C("a1 LOGIN mrc secret\r\n"), S("a1 OK LOGIN completed\r\n")
#define SELECT2_RESP(mbox)                                                                     \
    "* FLAGS (\\Seen \\Deleted)\r\n* 5 EXISTS\r\n* OK [PERMANENTFLAGS (\\Seen \\Deleted)] ok\r\n" \
    "* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 6] ok\r\n* LIST () \"/\" " mbox "\r\n"
#define SELECTED2 LOGIN2, C(SELECT_CMD), S(SELECT2_RESP("INBOX")), S(SELECT_OK)
#define LOGOUT C("a9 LOGOUT\r\n"), S("* BYE logging out\r\na9 OK LOGOUT completed\r\n"), CLOSES, CLOSEC

#define X10 "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define X1000 X100 X100 X100 X100 X100 X100 X100 X100 X100 X100
#define P10 "(((((((((("
#define Q10 "))))))))))"
#define M10 " \"MIXED\")" " \"MIXED\")" " \"MIXED\")" " \"MIXED\")" " \"MIXED\")" \
            " \"MIXED\")" " \"MIXED\")" " \"MIXED\")" " \"MIXED\")" " \"MIXED\")"
/* Two TLS records that hold CRLF, LF, NUL and command/response-like text. */
#define TLS_CLIENT "\x16\x03\x01\x00\x2e\x01\x00\x00\x2a\x03\x03\r\n\x00" "a3 LOGIN a b\na4 NOOP\r\n"
#define TLS_SERVER "\x16\x03\x03\x00\x0a\x02\x00\x00\x06\r\na3 OK\n\x00\x14\x03\x03"

/* ---- expectations ------------------------------------------------------ */

/* Runs sc whole and compares the findings with w, in order. */
static void expect(const struct step *sc, const struct want *w)
{
    static struct flog l_store;
    struct flog *l = &l_store;
    run(sc, MC_PROTO_IMAP, l);
    assert_log(l, w);
}

/* ---- conformant conversations ------------------------------------------ */

/* The RFC 3501 / RFC 9051 s8 sample connections, verbatim (the lines the
 * RFCs break "for editorial clarity" joined with single spaces), as
 * tests/data/imap/rfc3501-s8-sample.mct and rfc9051-s8-sample.mct. Neither
 * is conformant to its own RFC's normative text: both SELECTs lack the
 * OK [UIDNEXT] and OK [PERMANENTFLAGS] responses RFC 3501 s6.3.1 and
 * RFC 9051 s6.3.1 list as REQUIRED, and the RFC 9051 client does not ask
 * for the capabilities again after STARTTLS (s6.2.1). The *_fixed variants
 * add exactly those and must be silent. */
#define S8_ADDRS                                                                                   \
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "                                      \
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "                                      \
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "                                      \
    "((NIL NIL \"imap\" \"cac.washington.edu\")) "                                                 \
    "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\") (\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) "
#define S8_FETCH_FULL(rev, msgid)                                                                  \
    S("* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 "   \
      "ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev" rev                         \
      " WG mtg summary and minutes\" " S8_ADDRS "NIL NIL \"" msgid "\") "                          \
      "BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n")
#define S8_FETCH_HEADER(rev)                                                                       \
    S("* 12 FETCH (BODY[HEADER] {342}\r\n"                                                         \
      "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"                                            \
      "From: Terry Gray <gray@cac.washington.edu>\r\n"                                             \
      "Subject: IMAP4rev" rev " WG mtg summary and minutes\r\n"                                    \
      "To: imap@cac.washington.edu\r\n"                                                            \
      "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n"                          \
      "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"                                        \
      "MIME-Version: 1.0\r\n"                                                                      \
      "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"                                             \
      "\r\n"                                                                                       \
      ")\r\n")
#define S8_3501_GREET_LOGIN                                                                        \
    S("* OK IMAP4rev1 Service Ready\r\n"), C("a001 login mrc secret\r\n"),                         \
        S("a001 OK LOGIN completed\r\n"), C("a002 select inbox\r\n")
#define S8_3501_SELECT                                                                             \
    "* 18 EXISTS\r\n* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* 2 RECENT\r\n"    \
    "* OK [UNSEEN 17] Message 17 is the first unseen message\r\n"                                 \
    "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
#define S8_3501_REST                                                                               \
    S("a002 OK [READ-WRITE] SELECT completed\r\n"), C("a003 fetch 12 full\r\n"),                   \
        S8_FETCH_FULL("1", "<B27397-0100000@cac.washington.edu>"),                                 \
        S("a003 OK FETCH completed\r\n"), C("a004 fetch 12 body[header]\r\n"),                     \
        S8_FETCH_HEADER("1"), S("a004 OK FETCH completed\r\n"),                                    \
        C("a005 store 12 +flags \\deleted\r\n"), S("* 12 FETCH (FLAGS (\\Seen \\Deleted))\r\n"),   \
        S("a005 OK +FLAGS completed\r\n"), C("a006 logout\r\n"),                                   \
        S("* BYE IMAP4rev1 server terminating connection\r\n"),                                    \
        S("a006 OK LOGOUT completed\r\n"), CLOSES, CLOSEC

static const struct step conv_rfc3501_s8[] = {
    S8_3501_GREET_LOGIN,
    S(S8_3501_SELECT),
    S8_3501_REST,
    END,
};

static const struct step conv_rfc3501_s8_fixed[] = {
    S8_3501_GREET_LOGIN,
    S(S8_3501_SELECT "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n"
                     "* OK [UIDNEXT 4392] Predicted next UID\r\n"),
    S8_3501_REST,
    END,
};

/* RFC 9051 s8: STARTTLS, AUTHENTICATE SCRAM-SHA-256 with an initial
 * response, two challenges and the empty last response, ENABLE, SELECT
 * with a LIST response, FETCH, STORE, LOGOUT. */
#define S8_9051_STARTTLS                                                                           \
    S("* OK [CAPABILITY STARTTLS AUTH=SCRAM-SHA-256 LOGINDISABLED IMAP4rev2] IMAP4rev2 Service Ready\r\n"), \
        C("a000 starttls\r\n"), S("a000 OK Proceed with TLS negotiation\r\n"), TLSD
#define S8_9051_AUTH                                                                               \
    C("A001 AUTHENTICATE SCRAM-SHA-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=\r\n"),          \
        S("+ cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE5sRiRrMCxzPVcyMlphSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwOTY=\r\n"), \
        C("Yz1iaXdzLHI9ck9wck5HZndFYmVSV2diTkVrcU8laHZZRHBXVWEyUmFUQ0FmdXhGSWxqKWhObEYkazAscD1kSHpiWmFwV0lrNGpVaE4rVXRlOXl0YWc5empmTUhnc3FtbWl6N0FuZFZRPQ==\r\n"), \
        S("+ dj02cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5NUc0PQ==\r\n"), C("\r\n"),    \
        S("A001 OK SCRAM-SHA-256 authentication successful\r\n"),                                  \
        C("babc ENABLE IMAP4rev2\r\n"), S("* ENABLED IMAP4rev2\r\n"),                              \
        S("babc OK Some capabilities enabled\r\n"), C("a002 select inbox\r\n")
#define S8_9051_SELECT                                                                             \
    "* 18 EXISTS\r\n* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"                   \
    "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"                                                 \
    "* LIST () \"/\" INBOX (\"OLDNAME\" (\"inbox\"))\r\n"
#define S8_9051_REST                                                                               \
    S("a002 OK [READ-WRITE] SELECT completed\r\n"), C("a003 fetch 12 full\r\n"),                   \
        S8_FETCH_FULL("2", "<B27397-0100000@cac.washington.ed>"),                                  \
        S("a003 OK FETCH completed\r\n"), C("a004 fetch 12 body[header]\r\n"),                     \
        S8_FETCH_HEADER("2"), S("a004 OK FETCH completed\r\n"),                                    \
        C("a005 store 12 +flags \\deleted\r\n"), S("* 12 FETCH (FLAGS (\\Seen \\Deleted))\r\n"),   \
        S("a005 OK +FLAGS completed\r\n"), C("a006 logout\r\n"),                                   \
        S("* BYE IMAP4rev2 server terminating connection\r\n"),                                    \
        S("a006 OK LOGOUT completed\r\n"), CLOSES, CLOSEC

static const struct step conv_rfc9051_s8[] = {
    S8_9051_STARTTLS,
    S8_9051_AUTH,
    S(S8_9051_SELECT),
    S8_9051_REST,
    END,
};

static const struct step conv_rfc9051_s8_fixed[] = {
    S8_9051_STARTTLS,
    C("a0001 CAPABILITY\r\n"),
    S("* CAPABILITY IMAP4rev2 AUTH=SCRAM-SHA-256\r\na0001 OK CAPABILITY completed\r\n"),
    S8_9051_AUTH,
    S(S8_9051_SELECT "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n"
                     "* OK [UIDNEXT 4392] Predicted next UID\r\n"),
    S8_9051_REST,
    END,
};

/* RFC 9051 s6.2.1 STARTTLS example: the capabilities asked for again
 * inside TLS (without STARTTLS and LOGINDISABLED), AUTHENTICATE PLAIN with
 * an initial response, then LOGOUT. */
static const struct step conv_starttls[] = {
    S("* OK IMAP4rev2 server ready\r\n"),
    C("a001 CAPABILITY\r\n"),
    S("* CAPABILITY IMAP4rev2 STARTTLS LOGINDISABLED\r\n"),
    S("a001 OK CAPABILITY completed\r\n"),
    C("a002 STARTTLS\r\n"),
    S("a002 OK Begin TLS negotiation now\r\n"),
    TLSD,
    C("a003 CAPABILITY\r\n"),
    S("* CAPABILITY IMAP4rev2 AUTH=PLAIN\r\n"),
    S("a003 OK CAPABILITY completed\r\n"),
    C("a004 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n"),
    S("a004 OK Success (tls protection)\r\n"),
    C("a006 LOGOUT\r\n"),
    S("* BYE logging out\r\na006 OK LOGOUT completed\r\n"),
    CLOSES,
    CLOSEC,
    END,
};

/* STARTTLS with TLS records that are not looked into (no marker: the
 * first octet of each side's next data tells), a gap among the records. */
static const struct step conv_starttls_opaque[] = {
    S(GREET_TLS),
    C("a1 STARTTLS\r\n"),
    S("a1 OK Begin TLS negotiation now\r\n"),
    C(TLS_CLIENT),
    S(TLS_SERVER),
    C(TLS_CLIENT),
    GAPS(100),
    S(TLS_SERVER),
    GAPC(7),
    C("\x17\x03\x03\x00\x05NOOP"),
    CLOSEC,
    S("\x17\x03\x03\x00\x02\r"),
    CLOSES,
    END,
};

/* The same with the recording's '! tls' marker. */
static const struct step conv_starttls_marker[] = {
    S(GREET_TLS),
    C("a1 STARTTLS\r\n"),
    S("a1 OK Begin TLS negotiation now\r\n"),
    TLS,
    C(TLS_CLIENT),
    S(TLS_SERVER),
    CLOSEC,
    CLOSES,
    END,
};

/* AUTHENTICATE with continuations: PLAIN with an empty challenge, a
 * cancelled exchange refused with BAD, a two-step exchange (LOGIN), and an
 * empty response. */
static const struct step conv_authenticate[] = {
    TLSD,
    S("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN AUTH=EXTERNAL] ready\r\n"),
    C("a1 AUTHENTICATE PLAIN\r\n"),
    S("+ \r\n"),
    C("*\r\n"),
    S("a1 BAD AUTHENTICATE cancelled\r\n"),
    C("a2 AUTHENTICATE LOGIN\r\n"),
    S("+ VXNlcm5hbWU6\r\n"),
    C("YWxpY2U=\r\n"),
    S("+ UGFzc3dvcmQ6\r\n"),
    C("czNjcmV0IQ==\r\n"),
    S("a2 NO [AUTHENTICATIONFAILED] Authentication failed\r\n"),
    C("a3 AUTHENTICATE EXTERNAL\r\n"),
    S("+ \r\n"),
    C("\r\n"),
    S("a3 OK [CAPABILITY IMAP4rev1 IDLE] EXTERNAL authentication successful\r\n"),
    C("a4 NOOP\r\n"),
    S("a4 OK NOOP completed\r\n"),
    LOGOUT,
    END,
};

/* RFC 2177 s3 IDLE example, corrected ("* OK [UIDVALIDITY 1]" gets its
 * text, "FETCH (...)" is filled in), with IDLE advertised. */
static const struct step conv_idle[] = {
    S("* OK [CAPABILITY IMAP4rev1 IDLE] Service Ready\r\n"),
    C("A000 LOGIN mrc secret\r\n"),
    S("A000 OK LOGIN completed\r\n"),
    C("A001 SELECT INBOX\r\n"),
    S("* FLAGS (Deleted Seen)\r\n"),
    S("* 3 EXISTS\r\n"),
    S("* 0 RECENT\r\n"),
    S("* OK [PERMANENTFLAGS (Deleted Seen \\*)] limited\r\n"),
    S("* OK [UIDVALIDITY 1] UIDs valid\r\n"),
    S("* OK [UIDNEXT 4] predicted\r\n"),
    S("A001 OK [READ-WRITE] SELECT completed\r\n"),
    C("A002 IDLE\r\n"),
    S("+ idling\r\n"),
    S("* 4 EXISTS\r\n"),
    C("DONE\r\n"),
    S("A002 OK IDLE terminated\r\n"),
    C("A003 FETCH 4 ALL\r\n"),
    S("* 4 FETCH (FLAGS () INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 44 "
      "ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n"),
    S("A003 OK FETCH completed\r\n"),
    C("A004 IDLE\r\n"),
    S("* 2 EXPUNGE\r\n"),
    S("* 3 EXISTS\r\n"),
    S("+ idling\r\n"),
    S("* 3 EXPUNGE\r\n"),
    S("* 2 EXISTS\r\n"),
    S("* 3 EXISTS\r\n"),
    C("DONE\r\n"),
    S("A004 OK IDLE terminated\r\n"),
    C("A005 FETCH 3 ALL\r\n"),
    S("* 3 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 44 "
      "ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n"),
    S("A005 OK FETCH completed\r\n"),
    C("A006 LOGOUT\r\n"),
    S("* BYE logging out\r\nA006 OK LOGOUT completed\r\n"),
    CLOSES,
    CLOSEC,
    END,
};

/* RFC 3501 s6.3.11 APPEND example: a 310-octet synchronizing literal sent
 * after "+", in two chunks; a second APPEND whose literal is refused with
 * NO (its data never follows). */
static const struct step conv_append[] = {
    S("* OK IMAP4rev1 Service Ready\r\n"),
    C("A001 LOGIN mrc secret\r\n"),
    S("A001 OK LOGIN completed\r\n"),
    C("A003 APPEND saved-messages (\\Seen) {310}\r\n"),
    S("+ Ready for literal data\r\n"),
    C("Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n"
      "From: Fred Foobar <foobar@Blurdybloop.COM>\r\n"
      "Subject: afternoon meeting\r\n"
      "To: mooch@owatagu.siam.edu\r\n"
      "Message-Id: <B27397-0100000@Blurdybloop.COM>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
      "\r\n"),
    C("Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n\r\n"),
    S("A003 OK APPEND completed\r\n"),
    C("A004 APPEND saved-messages {99999999}\r\n"),
    S("A004 NO [TOOBIG] message too big\r\n"),
    C("A005 LOGOUT\r\n"),
    S("* BYE logging out\r\nA005 OK LOGOUT completed\r\n"),
    CLOSES,
    CLOSEC,
    END,
};

/* RFC 7888 LITERAL+: non-synchronizing literals in LOGIN and APPEND. */
static const struct step conv_literal_plus[] = {
    S("* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n"),
    C("a1 LOGIN {3+}\r\nmrc {6+}\r\nsecret\r\n"),
    S("a1 OK LOGIN completed\r\n"),
    C("a2 APPEND INBOX {12+}\r\nHello Joe!\r\n\r\n"),
    S("a2 OK APPEND completed\r\n"),
    C("a3 LOGOUT\r\n"),
    S("* BYE logging out\r\na3 OK LOGOUT completed\r\n"),
    CLOSES,
    CLOSEC,
    END,
};

/* RFC 7888 LITERAL-: a non-synchronizing literal of at most 4096 octets. */
static const struct step conv_literal_minus[] = {
    S("* OK [CAPABILITY IMAP4rev1 LITERAL-] ready\r\n"),
    C("a1 LOGIN mrc secret\r\n"),
    S("a1 OK LOGIN completed\r\n"),
    C("a2 APPEND INBOX {4096+}\r\n" X1000 X1000 X1000 X1000 X10 X10 X10 X10 X10 X10 X10 X10 X10
      "xxxxxx\r\n"),
    S("a2 OK APPEND completed\r\n"),
    C("a3 LOGOUT\r\n"),
    S("* BYE logging out\r\na3 OK LOGOUT completed\r\n"),
    CLOSES,
    CLOSEC,
    END,
};

/* RFC 3501 s6.4.8 UID FETCH example (UID in every FETCH response), a UID
 * STORE, an EXPUNGE during UID SEARCH (allowed by s7.4.1), CLOSE. */
static const struct step conv_uid_fetch[] = {
    S("* OK IMAP4rev1 Service Ready\r\n"),
    C("A001 LOGIN mrc secret\r\n"),
    S("A001 OK LOGIN completed\r\n"),
    C("A002 SELECT INBOX\r\n"),
    S("* 25 EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen \\Deleted)\r\n"
      "* OK [PERMANENTFLAGS (\\Seen \\Deleted)] limited\r\n"
      "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n* OK [UIDNEXT 4828443] predicted\r\n"),
    S("A002 OK [READ-WRITE] SELECT completed\r\n"),
    C("A999 UID FETCH 4827313:4828442 FLAGS\r\n"),
    S("* 23 FETCH (FLAGS (\\Seen) UID 4827313)\r\n"),
    S("* 24 FETCH (FLAGS (\\Seen) UID 4827943)\r\n"),
    S("* 25 FETCH (UID 4828442 FLAGS (\\Seen))\r\n"),
    S("A999 OK UID FETCH completed\r\n"),
    C("A1000 UID STORE 4828442 +FLAGS (\\Deleted)\r\n"),
    S("* 25 FETCH (FLAGS (\\Seen \\Deleted) UID 4828442)\r\n"),
    S("A1000 OK UID STORE completed\r\n"),
    C("A1001 UID SEARCH DELETED\r\n"),
    S("* 25 EXPUNGE\r\n* SEARCH\r\n"),
    S("A1001 OK UID SEARCH completed\r\n"),
    C("A1002 CLOSE\r\n"),
    S("A1002 OK CLOSE completed\r\n"),
    C("A1003 LOGOUT\r\n"),
    S("* BYE logging out\r\nA1003 OK LOGOUT completed\r\n"),
    CLOSES,
    CLOSEC,
    END,
};

/* Pipelined commands completed out of order (RFC 3501 s5.5): FETCH, STATUS
 * and NOOP sent at once, STATUS and NOOP completed before FETCH; two
 * commands in one chunk answered in one chunk; implicit TLS (IMAPS) with
 * PREAUTH. */
static const struct step conv_pipelined[] = {
    TLSD,
    S("* PREAUTH IMAP4rev1 server logged in as Smith\r\n"),
    C("a1 SELECT INBOX\r\n"),
    S("* 2 EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen)\r\n* OK [PERMANENTFLAGS (\\Seen)] ok\r\n"
      "* OK [UIDVALIDITY 7] UIDs valid\r\n* OK [UIDNEXT 3] predicted\r\n"),
    S("a1 OK [READ-WRITE] SELECT completed\r\n"),
    C("a2 FETCH 1 FLAGS\r\na3 STATUS Drafts (MESSAGES)\r\na4 NOOP\r\n"),
    S("* STATUS Drafts (MESSAGES 0)\r\n"),
    S("a3 OK STATUS completed\r\na4 OK NOOP completed\r\n"),
    S("* 1 FETCH (FLAGS ())\r\n"),
    S("a2 OK FETCH completed\r\n"),
    C("a5 FETCH 2 FLAGS\r\na6 FETCH 1 UID\r\n"),
    S("* 1 FETCH (UID 1)\r\na6 OK done\r\n* 2 FETCH (FLAGS (\\Seen))\r\na5 OK done\r\n"),
    C("a7 LOGOUT\r\n"),
    S("* BYE logging out\r\na7 OK LOGOUT completed\r\n"),
    CLOSES,
    CLOSEC,
    END,
};

/* SELECT, EXPUNGE and EXISTS bookkeeping: EXPUNGE responses that lower the
 * count one by one (each within the count at its time), new messages
 * announced by EXISTS, an EXPUNGE command, CLOSE, EXAMINE of another
 * mailbox with a new count, a failed SELECT. */
static const struct step conv_bookkeeping[] = {
    SELECTED,                                                       /* 5 messages */
    C("a3 NOOP\r\n"),
    S("* 5 EXPUNGE\r\n* 4 EXPUNGE\r\n* 3 EXPUNGE\r\n* 7 EXISTS\r\na3 OK NOOP completed\r\n"),
    C("a4 STORE 1:7 +FLAGS.SILENT (\\Deleted)\r\n"),
    S("a4 OK STORE completed\r\n"),
    C("a5 EXPUNGE\r\n"),
    S("* 7 EXPUNGE\r\n* 6 EXPUNGE\r\n* 5 EXPUNGE\r\n* 4 EXPUNGE\r\n* 3 EXPUNGE\r\n"
      "* 2 EXPUNGE\r\n* 1 EXPUNGE\r\na5 OK EXPUNGE completed\r\n"),
    C("a6 NOOP\r\n"),
    S("* 1 EXISTS\r\n* 1 RECENT\r\na6 OK NOOP completed\r\n"),
    C("a7 CLOSE\r\n"),
    S("a7 OK CLOSE completed\r\n"),
    C("a8 EXAMINE Archive\r\n"),
    S("* FLAGS (\\Seen)\r\n* 30 EXISTS\r\n* 0 RECENT\r\n* OK [PERMANENTFLAGS ()] none\r\n"
      "* OK [UIDVALIDITY 9] UIDs valid\r\n* OK [UIDNEXT 31] predicted\r\n"),
    S("a8 OK [READ-ONLY] EXAMINE completed\r\n"),
    C("b1 NOOP\r\n"),
    S("* 30 EXPUNGE\r\n* 12 EXPUNGE\r\nb1 OK NOOP completed\r\n"),
    C("b2 SELECT Nonexistent\r\n"),
    S("b2 NO [NONEXISTENT] no such mailbox\r\n"),
    C("b3 SELECT INBOX\r\n"),
    S("* FLAGS (\\Seen)\r\n* 0 EXISTS\r\n* 0 RECENT\r\n* OK [PERMANENTFLAGS (\\Seen)] ok\r\n"
      "* OK [UIDVALIDITY 42] UIDs valid\r\n* OK [UIDNEXT 9] predicted\r\n"),
    S("b3 OK [READ-WRITE] SELECT completed\r\n"),
    LOGOUT,
    END,
};

/* Capture loss everywhere: inside a response, inside a command, inside a
 * literal, across a whole completion. Nothing inside a gap is blamed. */
static const struct step conv_gaps[] = {
    S("* OK [CAPABILITY IMAP4rev1 AUTH"),
    GAPS(10),
    S("AIN] ready\r\n"),
    C("a1 LOGIN mrc secret\r\n"),
    S("a1 OK LOGIN completed\r\n"),
    SELECT,
    C("a3 FETCH 1 (FL"),
    GAPC(5),
    C("ENVELOPE)\r\n"),
    S("* 1 FETCH (FLAGS (\\Seen) ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n"),
    S("a3 OK FETCH completed\r\n"),
    C("a4 APPEND INBOX {20}\r\n"),
    S("+ go\r\n"),
    C("0123456"),
    GAPC(6),
    C("3456789\r\n"),
    S("* 6 EXISTS\r\na4 OK APPEND completed\r\n"),
    C("a5 NOOP\r\n"),
    S("* 3 FETCH (FL"),
    GAPS(40),
    C("a6 FETCH 1 FLAGS\r\n"),
    S("* 1 FETCH (FLAGS (\\Seen))\r\na6 OK FETCH completed\r\n"),
    LOGOUT,
    END,
};

/* ---- conversations with findings --------------------------------------- */

/* STARTTLS with a command pipelined behind it that the server answers in
 * plaintext after its OK (CVE-2011-0411 shape). */
static const struct step conv_starttls_injection[] = {
    S(GREET_TLS),
    C("a1 STARTTLS\r\na2 CAPABILITY\r\n"),           /* a2 at c 13 */
    S("a1 OK Begin TLS negotiation now\r\n"),        /* s 58 */
    TLSD,
    S("a2 OK CAPABILITY completed\r\n"),             /* s 91 */
    C("a9 LOGOUT\r\n"),
    S("* BYE logging out\r\na9 OK LOGOUT completed\r\n"),
    CLOSES,
    CLOSEC,
    END,
};

/* ... answered in the same segment as the OK, before the TLS records. */
static const struct step conv_starttls_injection_same_segment[] = {
    S(GREET_TLS),
    C("a1 STARTTLS\r\na2 NOOP\r\n"),                                       /* a2 at c 13 */
    S("a1 OK Begin TLS negotiation now\r\na2 OK NOOP completed\r\n"),      /* a2 at s 91 */
    C(TLS_CLIENT),
    S(TLS_SERVER),
    END,
};

/* ... plaintext injected after the OK to STARTTLS. */
static const struct step conv_starttls_response_injection[] = {
    S(GREET_TLS),
    C("a1 STARTTLS\r\n"),
    S("a1 OK Begin TLS negotiation now\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] still plaintext\r\n"),
    C(TLS_CLIENT),
    S(TLS_SERVER),
    END,
};

/* ---- basic API ----------------------------------------------------------- */

static void test_api_basics(void **state)
{
    (void)state;
    static struct flog l_store;
    struct flog *l = &l_store;
    struct mc_session *s = mc_session_new("name", MC_PROTO_UNKNOWN, NULL, NULL);
    assert_non_null(s);
    /* "* " first: IMAP */
    mc_session_data(s, MC_DIR_S2C, (const uint8_t *)GREET, strlen(GREET), NULL);
    assert_int_equal(mc_session_proto(s), MC_PROTO_IMAP);
    assert_true(mc_session_validated(s));
    assert_false(mc_session_in_tls(s));
    assert_int_equal(mc_session_findings(s), 0);
    mc_session_finish(s);
    mc_session_free(s);

    /* IMAP told: a greeting that is not an IMAP one */
    s = mc_session_new("name", MC_PROTO_IMAP, NULL, NULL);
    assert_non_null(s);
    mc_session_data(s, MC_DIR_S2C, (const uint8_t *)"* NO go away\r\n", 14, NULL);
    assert_int_equal(mc_session_proto(s), MC_PROTO_IMAP);
    assert_int_equal(mc_session_findings(s), 1);   /* IMAP.GREETING.INVALID */
    mc_session_finish(s);
    mc_session_free(s);

    /* in_tls follows the OK to STARTTLS */
    s = mc_session_new("name", MC_PROTO_IMAP, NULL, NULL);
    assert_non_null(s);
    mc_session_data(s, MC_DIR_S2C, (const uint8_t *)GREET_TLS, strlen(GREET_TLS), NULL);
    mc_session_data(s, MC_DIR_C2S, (const uint8_t *)"a1 STARTTLS\r\n", 13, NULL);
    assert_false(mc_session_in_tls(s));
    mc_session_data(s, MC_DIR_S2C, (const uint8_t *)"a1 OK go\r\n", 10, NULL);
    assert_true(mc_session_in_tls(s));
    mc_session_finish(s);
    assert_int_equal(mc_session_findings(s), 0);
    mc_session_free(s);

    /* a NO to STARTTLS leaves the session in plaintext */
    run(SCRIPT(S(GREET_TLS), C("a1 STARTTLS\r\n"), S("a1 NO not now\r\n"), C("a2 NOOP\r\n"),
               S("a2 OK NOOP completed\r\n")),
        MC_PROTO_IMAP, l);
    assert_false(l->in_tls);
    assert_true(l->validated);
    assert_log(l, NONE);
}

/* ---- conformant sessions are silent ------------------------------------ */

static const struct step *const conformant[] = {
    conv_rfc3501_s8_fixed, conv_rfc9051_s8_fixed, conv_starttls, conv_starttls_opaque, conv_starttls_marker,
    conv_authenticate, conv_idle, conv_append, conv_literal_plus, conv_literal_minus,
    conv_uid_fetch, conv_pipelined, conv_bookkeeping,
};

static void test_conformant_sessions(void **state)
{
    (void)state;
    static struct flog l_store;
    struct flog *l = &l_store;
    for (size_t i = 0; i < sizeof(conformant) / sizeof(conformant[0]); i++) {
        run(conformant[i], MC_PROTO_IMAP, l);
        if (!log_matches(l, NONE)) {
            print_error("conformant conversation %zu\n", i);
            assert_log(l, NONE);
        }
        assert_int_equal(l->proto, MC_PROTO_IMAP);
        /* detected from the greeting's "*" as well, unless TLS came first */
        if (conformant[i][0].kind == K_S) {
            run(conformant[i], MC_PROTO_UNKNOWN, l);
            assert_int_equal(l->proto, MC_PROTO_IMAP);
            assert_log(l, NONE);
        }
    }
}

/* The RFC samples verbatim: the findings their deviations bring. */
static void test_rfc_samples(void **state)
{
    (void)state;
    expect(conv_rfc3501_s8,
           WANT(W(IMAP_SELECT_NO_UIDNEXT, 231), W(IMAP_SELECT_NO_PERMANENTFLAGS, 231)));
    expect(conv_rfc9051_s8, WANT(W(IMAP_CAPABILITY_NOT_REFRESHED, 20),
                                 W(IMAP_SELECT_NO_UIDNEXT, 576),
                                 W(IMAP_SELECT_NO_PERMANENTFLAGS, 576)));
}

static void test_tls_state(void **state)
{
    (void)state;
    static struct flog l_store;
    struct flog *l = &l_store;
    run(conv_starttls, MC_PROTO_IMAP, l);
    assert_true(l->in_tls);
    run(conv_starttls_opaque, MC_PROTO_IMAP, l);
    assert_true(l->in_tls);
    run(conv_starttls_marker, MC_PROTO_IMAP, l);
    assert_true(l->in_tls);
    run(conv_rfc3501_s8, MC_PROTO_IMAP, l);
    assert_false(l->in_tls);
}

/* ---- tags and completions ------------------------------------------------ */

static void test_tags(void **state)
{
    (void)state;
    /* a completion with a tag no command carries */
    expect(SCRIPT(LOGIN, C("a2 NOOP\r\n"), S("a2 OK NOOP completed\r\nz7 OK done\r\n")),
           WANT(W(IMAP_TAG_UNKNOWN, 91)));
    /* a tag reused while the first command is in progress; again once it
     * is complete is fine */
    expect(SCRIPT(LOGIN, C("a2 NOOP\r\na2 NOOP\r\n"), S("a2 OK NOOP completed\r\n"),
                  S("a2 OK NOOP completed\r\n"), C("a2 NOOP\r\n"), S("a2 OK NOOP completed\r\n")),
           WANT(W(IMAP_TAG_REUSED, 30)));
    /* tags are case-sensitive: "A2" does not complete "a2" */
    expect(SCRIPT(LOGIN, C("a2 NOOP\r\n"), S("A2 OK NOOP completed\r\n"), CLOSES),
           WANT(W(IMAP_TAG_UNKNOWN, 69), W(IMAP_CMD_NO_COMPLETION, 91)));
    /* the server closes with two commands outstanding: both reported */
    expect(SCRIPT(LOGIN, C("a2 NOOP\r\na3 CAPABILITY\r\n"), CLOSES),
           WANT(W(IMAP_CMD_NO_COMPLETION, 69), W(IMAP_CMD_NO_COMPLETION, 69)));
    /* ... after an untagged BYE: nothing owed */
    expect(SCRIPT(LOGIN, C("a2 NOOP\r\n"), S("* BYE shutting down\r\n"), CLOSES), NONE);
    /* the capture just ends: nobody is blamed */
    expect(SCRIPT(LOGIN, C("a2 NOOP\r\n")), NONE);
}

/* ---- states ---------------------------------------------------------------- */

static void test_states(void **state)
{
    (void)state;
    /* FETCH before login: the client is blamed, the server's BAD is right */
    expect(SCRIPT(S(GREET), C("a1 FETCH 1 FLAGS\r\n"), S("a1 BAD not authenticated\r\n")),
           WANT(W(IMAP_CMD_WRONG_STATE, 3)));
    /* ... accepted by the server */
    expect(SCRIPT(S(GREET), C("a1 SELECT INBOX\r\n"), S("* 0 EXISTS\r\n"),
                  S("a1 OK SELECT completed\r\n")),
           WANT(W(IMAP_CMD_WRONG_STATE, 3), W(IMAP_OK_IN_WRONG_STATE, 58)));
    /* a command sent while LOGIN is outstanding is not judged: the client
     * could not know the state yet */
    expect(SCRIPT(S(GREET), C("a1 LOGIN mrc secret\r\na2 SELECT INBOX\r\n"),
                  S("a1 OK LOGIN completed\r\n"), S(SELECT_RESP), S(SELECT_OK)),
           NONE);
    /* after CLOSE, FETCH is for the selected state only */
    expect(SCRIPT(SELECTED, C("a3 CLOSE\r\n"), S("a3 OK CLOSE completed\r\n"),
                  C("a4 FETCH 1 FLAGS\r\n"), S("a4 BAD no mailbox selected\r\n")),
           WANT(W(IMAP_CMD_WRONG_STATE, 51)));
    /* a failed SELECT leaves no mailbox selected */
    expect(SCRIPT(LOGIN, C("a2 SELECT Nonexistent\r\n"), S("a2 NO no such mailbox\r\n"),
                  C("a3 FETCH 1 FLAGS\r\n"), S("a3 BAD no mailbox selected\r\n")),
           WANT(W(IMAP_CMD_WRONG_STATE, 47)));
    /* LOGOUT without BYE */
    expect(SCRIPT(LOGIN, C("a9 LOGOUT\r\n"), S("a9 OK LOGOUT completed\r\n"), CLOSES, CLOSEC),
           WANT(W(IMAP_LOGOUT_NO_BYE, 69)));
    /* greetings: PREAUTH in cleartext, PREAUTH inside TLS, BYE */
    expect(SCRIPT(S("* PREAUTH IMAP4rev1 logged in\r\n"), C("a1 LOGOUT\r\n"),
                  S("* BYE logging out\r\na1 OK LOGOUT completed\r\n")),
           WANT(W(IMAP_PREAUTH_CLEARTEXT, 0)));
    expect(SCRIPT(TLSD, S("* PREAUTH IMAP4rev1 logged in\r\n"), C("a1 LOGOUT\r\n"),
                  S("* BYE logging out\r\na1 OK LOGOUT completed\r\n")),
           NONE);
    expect(SCRIPT(S("* BYE too busy\r\n"), CLOSES, CLOSEC), NONE);
    expect(SCRIPT(S("a1 OK hello\r\n")), WANT(W(IMAP_GREETING_INVALID, 0)));
}

/* ---- literals, AUTHENTICATE, IDLE ----------------------------------------- */

static void test_literals(void **state)
{
    (void)state;
    /* a synchronizing literal sent before "+" */
    expect(SCRIPT(S(GREET), C("a1 LOGIN {3}\r\nmrc secret\r\n"), S("+ ready\r\n"),
                  S("a1 OK LOGIN completed\r\n")),
           WANT(W(IMAP_LITERAL_EARLY, 14)));
    /* the literal refused with NO: the next line is a new command */
    expect(SCRIPT(LOGIN, C("a2 APPEND INBOX {500}\r\n"), S("a2 NO [TOOBIG] too big\r\n"),
                  C("a3 NOOP\r\n"), S("a3 OK NOOP completed\r\n")),
           NONE);
    /* non-synchronizing without LITERAL+/LITERAL- */
    expect(SCRIPT(S(GREET), C("a1 LOGIN {3+}\r\nmrc secret\r\n"), S("a1 OK LOGIN completed\r\n")),
           WANT(W(IMAP_LITERAL_NONSYNC_UNADVERTISED, 0)));
    /* LITERAL+ learnt from a CAPABILITY response, then used */
    expect(SCRIPT(S(GREET), C("a1 CAPABILITY\r\n"),
                  S("* CAPABILITY IMAP4rev1 LITERAL+\r\na1 OK done\r\n"),
                  C("a2 LOGIN {3+}\r\nmrc secret\r\n"), S("a2 OK LOGIN completed\r\n")),
           NONE);
    /* a literal in a response (FETCH BODY[]) holds CRLF, NUL and "+" lines */
    expect(SCRIPT(SELECTED, C("a3 FETCH 1 BODY[]\r\n"),
                  S("* 1 FETCH (BODY[] {20}\r\n+ x\r\na3 OK \x00\n* BYE\r\n)\r\n"),
                  S("a3 OK FETCH completed\r\n")),
           NONE);
}

static void test_authenticate(void **state)
{
    (void)state;
    /* cancelled with "*" and yet accepted */
    expect(SCRIPT(S(GREET), C("a1 AUTHENTICATE PLAIN\r\n"), S("+ \r\n"), C("*\r\n"),
                  S("a1 OK authenticated\r\n")),
           WANT(W(IMAP_AUTH_CANCEL_ACCEPTED, 50)));
    /* ... refused with NO instead of BAD */
    expect(SCRIPT(S(GREET), C("a1 AUTHENTICATE PLAIN\r\n"), S("+ \r\n"), C("*\r\n"),
                  S("a1 NO cancelled\r\n")),
           WANT(W(IMAP_AUTH_CANCEL_ACCEPTED, 50)));
    /* a response that is not base64 */
    expect(SCRIPT(S(GREET), C("a1 AUTHENTICATE PLAIN\r\n"), S("+ \r\n"), C("not base64!\r\n"),
                  S("a1 BAD invalid response\r\n")),
           WANT(W(IMAP_SASL_RESPONSE_SYNTAX, 26)));
}

static void test_idle(void **state)
{
    (void)state;
    /* a command instead of DONE */
    expect(SCRIPT(SELECTED_IDLE, C("a3 IDLE\r\n"), S("+ idling\r\n"), C("a4 NOOP\r\n"),
                  S("a3 BAD expected DONE\r\n")),
           WANT(W(IMAP_IDLE_NOT_DONE, 47)));
    /* IDLE refused: no "+", the next line is a command */
    expect(SCRIPT(SELECTED_IDLE, C("a3 IDLE\r\n"), S("a3 BAD unknown command\r\n"), C("a4 NOOP\r\n"),
                  S("a4 OK NOOP completed\r\n")),
           NONE);
    /* "+" answering nothing */
    expect(SCRIPT(LOGIN, C("a2 NOOP\r\n"), S("+ go on\r\n"), S("a2 OK NOOP completed\r\n")),
           WANT(W(IMAP_CONT_UNEXPECTED, 69)));
}

/* ---- mailbox bookkeeping -------------------------------------------------- */

static void test_expunge(void **state)
{
    (void)state;
    /* EXPUNGE with no command in progress */
    expect(SCRIPT(SELECTED, S("* 3 EXPUNGE\r\n")), WANT(W(IMAP_EXPUNGE_NO_COMMAND, 325)));
    /* ... during FETCH, STORE, SEARCH; allowed during UID variants and NOOP */
    expect(SCRIPT(SELECTED, C("a3 FETCH 1 FLAGS\r\n"),
                  S("* 1 FETCH (FLAGS (\\Seen))\r\n* 3 EXPUNGE\r\na3 OK FETCH completed\r\n")),
           WANT(W(IMAP_EXPUNGE_DURING_FETCH, 352)));
    expect(SCRIPT(SELECTED, C("a3 STORE 1 +FLAGS (\\Seen)\r\n"),
                  S("* 3 EXPUNGE\r\na3 OK STORE completed\r\n")),
           WANT(W(IMAP_EXPUNGE_DURING_FETCH, 325)));
    expect(SCRIPT(SELECTED, C("a3 SEARCH ALL\r\n"),
                  S("* 3 EXPUNGE\r\n* SEARCH 1 2 3 4\r\na3 OK SEARCH completed\r\n")),
           WANT(W(IMAP_EXPUNGE_DURING_FETCH, 325)));
    expect(SCRIPT(SELECTED, C("a3 UID FETCH 1:* FLAGS\r\n"),
                  S("* 3 EXPUNGE\r\na3 OK UID FETCH completed\r\n")),
           NONE);
    /* beyond the message count; after the count dropped by EXPUNGE */
    expect(SCRIPT(SELECTED, C("a3 NOOP\r\n"), S("* 9 EXPUNGE\r\na3 OK NOOP completed\r\n")),
           WANT(W(IMAP_EXPUNGE_OUT_OF_RANGE, 325)));
    expect(SCRIPT(SELECTED, C("a3 NOOP\r\n"),
                  S("* 5 EXPUNGE\r\n* 5 EXPUNGE\r\na3 OK NOOP completed\r\n")),
           WANT(W(IMAP_EXPUNGE_OUT_OF_RANGE, 338)));
    /* EXISTS raises the count */
    expect(SCRIPT(SELECTED, C("a3 NOOP\r\n"),
                  S("* 8 EXISTS\r\n* 8 EXPUNGE\r\na3 OK NOOP completed\r\n")),
           NONE);
}

static void test_uid_fetch(void **state)
{
    (void)state;
    expect(SCRIPT(SELECTED, C("a3 UID FETCH 1:* FLAGS\r\n"), S("* 1 FETCH (FLAGS (\\Seen))\r\n"),
                  S("a3 OK UID FETCH completed\r\n")),
           WANT(W(IMAP_FETCH_UID_MISSING, 325)));
    expect(SCRIPT(SELECTED, C("a3 UID STORE 1 +FLAGS (\\Seen)\r\n"),
                  S("* 1 FETCH (FLAGS (\\Seen))\r\n"), S("a3 OK UID STORE completed\r\n")),
           WANT(W(IMAP_FETCH_UID_MISSING, 325)));
    /* "UID" inside a nested list or a quoted string does not count */
    expect(SCRIPT(SELECTED, C("a3 UID FETCH 1:* (FLAGS ENVELOPE)\r\n"),
                  S("* 1 FETCH (FLAGS (\\Seen) ENVELOPE (\"UID 4\" NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n"),
                  S("a3 OK UID FETCH completed\r\n")),
           WANT(W(IMAP_FETCH_UID_MISSING, 325)));
    /* a plain FETCH outstanding as well: the response may be its */
    expect(SCRIPT(SELECTED, C("a3 UID FETCH 1:* FLAGS\r\na4 FETCH 1 FLAGS\r\n"),
                  S("* 1 FETCH (FLAGS (\\Seen))\r\n* 1 FETCH (FLAGS (\\Seen) UID 1)\r\n"),
                  S("a4 OK FETCH completed\r\na3 OK UID FETCH completed\r\n")),
           NONE);
}

/* The mailbox model: UIDs, UIDNEXT and counts are per mailbox and follow
 * EXPUNGE and EXISTS. */
static void test_mailbox_model(void **state)
{
    (void)state;
    /* STATUS of another mailbox with a lower UIDNEXT */
    expect(SCRIPT(SELECTED, C("a3 STATUS Drafts (UIDNEXT MESSAGES)\r\n"),
                  S("* STATUS Drafts (UIDNEXT 2 MESSAGES 1)\r\na3 OK STATUS completed\r\n")),
           NONE);
    /* another mailbox with the same UIDVALIDITY value and a lower UIDNEXT */
    expect(SCRIPT(SELECTED, C("a3 SELECT Drafts\r\n"),
                  S("* FLAGS (\\Seen)\r\n* 1 EXISTS\r\n* 0 RECENT\r\n* OK [PERMANENTFLAGS (\\Seen)] ok\r\n"
                    "* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 2] ok\r\n"),
                  S("a3 OK [READ-WRITE] SELECT completed\r\n"), C("a4 FETCH 1 UID\r\n"),
                  S("* 1 FETCH (UID 1)\r\na4 OK done\r\n")),
           NONE);
    /* a new message (EXISTS) may carry UIDNEXT's value and above */
    expect(SCRIPT(SELECTED, C("a3 NOOP\r\n"), S("* 6 EXISTS\r\na3 OK NOOP completed\r\n"),
                  C("a4 FETCH 6 UID\r\n"), S("* 6 FETCH (UID 6)\r\na4 OK done\r\n")),
           NONE);
    expect(SCRIPT(SELECTED, C("a3 APPEND INBOX {2}\r\n"), S("+ go\r\n"), C("hi\r\n"),
                  S("* 6 EXISTS\r\na3 OK [APPENDUID 42 6] APPEND completed\r\n"),
                  C("a4 UID FETCH 6 FLAGS\r\n"), S("* 6 FETCH (UID 6 FLAGS ())\r\na4 OK done\r\n")),
           NONE);
    /* UIDs ascend with sequence numbers across an EXPUNGE */
    expect(SCRIPT(SELECTED, C("a3 FETCH 1:3 UID\r\n"),
                  S("* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 3)\r\n* 3 FETCH (UID 4)\r\na3 OK done\r\n"),
                  C("a4 NOOP\r\n"), S("* 1 EXPUNGE\r\na4 OK done\r\n"), C("a5 FETCH 1:2 UID\r\n"),
                  S("* 1 FETCH (UID 3)\r\n* 2 FETCH (UID 4)\r\na5 OK done\r\n")),
           NONE);
    /* RECENT judged when it comes, not when EXPUNGE lowers the count */
    expect(SCRIPT(LOGIN, C(SELECT_CMD),
                  S("* FLAGS (\\Seen)\r\n* 5 EXISTS\r\n* 5 RECENT\r\n* OK [PERMANENTFLAGS (\\Seen)] ok\r\n"
                    "* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 6] ok\r\n"),
                  S(SELECT_OK), C("a3 EXPUNGE\r\n"),
                  S("* 5 EXPUNGE\r\n* 4 EXPUNGE\r\na3 OK EXPUNGE completed\r\n"), C("a4 NOOP\r\n"),
                  S("* 3 RECENT\r\na4 OK done\r\n")),
           NONE);
    /* EXISTS before the SEARCH results that use it */
    expect(SCRIPT(SELECTED, C("a3 SEARCH ALL\r\n"),
                  S("* 7 EXISTS\r\n* SEARCH 1 2 3 4 5 6 7\r\na3 OK SEARCH completed\r\n")),
           NONE);
    /* UID SEARCH results are UIDs, not sequence numbers */
    expect(SCRIPT(SELECTED, C("a3 UID SEARCH ALL\r\n"),
                  S("* SEARCH 1 3 4 5 999\r\na3 OK SEARCH completed\r\n")),
           NONE);
    /* EXPUNGE during UID STORE and UID SEARCH is allowed (RFC 3501 s7.4.1) */
    expect(SCRIPT(SELECTED, C("a3 UID STORE 1 +FLAGS (\\Deleted)\r\n"),
                  S("* 1 FETCH (FLAGS (\\Deleted) UID 1)\r\n* 2 EXPUNGE\r\na3 OK done\r\n")),
           NONE);
    /* ENABLE IMAP4rev2 on a server offering both: IMAP4rev2 from then on
     * (no RECENT needed; LIST required) */
    expect(SCRIPT(S("* OK [CAPABILITY IMAP4rev1 IMAP4rev2 ENABLE AUTH=PLAIN] ready\r\n"),
                  C("a1 LOGIN mrc secret\r\n"), S("a1 OK LOGIN completed\r\n"),
                  C("a2 ENABLE IMAP4rev2\r\n"), S("* ENABLED IMAP4rev2\r\na2 OK done\r\n"),
                  C("a3 SELECT INBOX\r\n"), S(SELECT2_RESP("INBOX")),
                  S("a3 OK [READ-WRITE] SELECT completed\r\n"), C("a4 NOOP\r\n"),
                  S("* 1 FETCH (UID 1 FLAGS (\\Seen))\r\na4 OK done\r\n"), C("a5 SELECT Drafts\r\n"),
                  S("* OK [CLOSED] INBOX closed\r\n" SELECT2_RESP("Drafts")),
                  S("a5 OK [READ-WRITE] SELECT completed\r\n")),
           NONE);
    /* a rev2 server's empty resp-text is allowed (RFC 9051 Appendix E) */
    expect(SCRIPT(LOGIN2, C("a2 NOOP\r\n"), S("* OK [ALERT]\r\na2 OK\r\n")), NONE);
}

/* ---- capabilities ------------------------------------------------------------ */

static void test_capabilities(void **state)
{
    (void)state;
    expect(SCRIPT(S(GREET), C("a1 CAPABILITY\r\n"), S("* CAPABILITY IDLE AUTH=PLAIN\r\n"),
                  S("a1 OK CAPABILITY completed\r\n")),
           WANT(W(IMAP_CAPABILITY_NO_REV, 74)));
    expect(SCRIPT(S(GREET), C("a1 CAPABILITY\r\n"), S("* CAPABILITY IMAP4rev1 LITERAL+ LITERAL-\r\n"),
                  S("a1 OK CAPABILITY completed\r\n")),
           WANT(W(IMAP_CAPABILITY_LITERAL_BOTH, 59)));
    /* LOGINDISABLED: LOGIN sent, refused / accepted */
    expect(SCRIPT(S(GREET_TLS), C("a1 LOGIN mrc secret\r\n"), S("a1 NO LOGIN disabled\r\n")),
           WANT(W(IMAP_LOGIN_DISABLED, 3)));
    expect(SCRIPT(S(GREET_TLS), C("a1 LOGIN mrc secret\r\n"), S("a1 OK LOGIN completed\r\n")),
           WANT(W(IMAP_LOGIN_DISABLED, 3), W(IMAP_LOGIN_DISABLED_ACCEPTED, 58)));
    /* inside TLS the old list is void: LOGIN is fine */
    expect(SCRIPT(S(GREET_TLS), C("a1 STARTTLS\r\n"), S("a1 OK go\r\n"), TLSD,
                  C("a2 CAPABILITY\r\n"), S("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na2 OK done\r\n"),
                  C("a3 LOGIN mrc secret\r\n"), S("a3 OK LOGIN completed\r\n")),
           NONE);
}

/* ---- STARTTLS ------------------------------------------------------------------ */

static void test_starttls(void **state)
{
    (void)state;
    expect(conv_starttls_injection,
           WANT(W(IMAP_STARTTLS_CMD_INJECTION, 13), W(IMAP_STARTTLS_INJECTION_ANSWERED, 91)));
    expect(conv_starttls_injection_same_segment,
           WANT(W(IMAP_STARTTLS_CMD_INJECTION, 13), W(IMAP_STARTTLS_INJECTION_ANSWERED, 91)));
    expect(conv_starttls_response_injection, WANT(W(IMAP_STARTTLS_RESPONSE_INJECTION, 91)));
    /* injected behind STARTTLS but discarded by the server: client only */
    expect(SCRIPT(S(GREET_TLS), C("a1 STARTTLS\r\na2 CAPABILITY\r\n"),
                  S("a1 OK Begin TLS negotiation now\r\n"), TLSD, C("a3 CAPABILITY\r\n"),
                  S("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na3 OK done\r\n")),
           WANT(W(IMAP_STARTTLS_CMD_INJECTION, 13)));
    /* STARTTLS advertised again inside TLS */
    expect(SCRIPT(S(GREET_TLS), C("a1 STARTTLS\r\n"), S("a1 OK go\r\n"), TLSD,
                  C("a2 CAPABILITY\r\n"), S("* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\n"),
                  S("a2 OK CAPABILITY completed\r\n")),
           WANT(W(IMAP_STARTTLS_ADVERTISED_IN_TLS, 91)));
    /* the TLS marker answers a STARTTLS whose OK the capture missed */
    expect(SCRIPT(S(GREET_TLS), C("a1 STARTTLS\r\n"), TLSD, C("a2 CAPABILITY\r\n"),
                  S("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na2 OK done\r\n"), CLOSES, CLOSEC),
           NONE);
}

/* ---- line layer and syntax ---------------------------------------------------- */

static void test_line_layer(void **state)
{
    (void)state;
    expect(SCRIPT(LOGIN, C("a2 NOOP\n"), S("a2 OK NOOP completed\r\n")),
           WANT(W(IMAP_CMD_BARE_LF, 28)));
    expect(SCRIPT(LOGIN, C("a2 NOOP\r\n"), S("a2 OK NOOP completed\n")),
           WANT(W(IMAP_RESP_BARE_LF, 89)));
    /* the connection ends inside a line */
    expect(SCRIPT(LOGIN, C("a2 NOOP"), CLOSEC), WANT(W(IMAP_CMD_UNTERMINATED, 28)));
    expect(SCRIPT(LOGIN, C("a2 NOOP\r\n"), S("* BYE server shutting down"), CLOSES),
           WANT(W(IMAP_RESP_UNTERMINATED, 95)));
    /* ... inside a literal */
    expect(SCRIPT(LOGIN, C("a2 APPEND INBOX {10}\r\n"), S("+ go\r\n"), C("abc"), CLOSEC),
           WANT(W(IMAP_CMD_UNTERMINATED, 46)));
}

/* ---- gaps ------------------------------------------------------------------------ */

static void test_gaps(void **state)
{
    (void)state;
    static struct flog l_store;
    struct flog *l = &l_store;
    /* a server gap that swallows the end of a literal: the message text
     * after it is not judged as responses, parsing resumes at the next
     * line that looks like a response (here a3's completion) */
    expect(SCRIPT(SELECTED, C("a3 FETCH 1 BODY[]\r\n"), S("* 1 FETCH (BODY[] {40}\r\nabc"),
                  GAPS(60), S("line of text\r\nSubject: more text\r\n)\r\na3 OK done\r\n")),
           NONE);
    /* the same for a client gap inside an APPEND literal: the rest of the
     * message is not judged as commands */
    expect(SCRIPT(LOGIN, C("a2 APPEND INBOX {40}\r\n"), S("+ go\r\n"), C("abc"), GAPC(60),
                  C("line of text\r\nSubject: more\r\n\r\n"), S("a2 OK done\r\n"),
                  C("a3 NOOP\r\n"), S("a3 OK done\r\n")),
           NONE);
    /* run() checks that no finding lies inside a gap */
    run(conv_gaps, MC_PROTO_IMAP, l);
    assert_log(l, NONE);
    /* a completion lost in a server gap: the command is not owed one */
    expect(SCRIPT(LOGIN, C("a2 NOOP\r\n"), GAPS(22), CLOSES, CLOSEC), NONE);
    /* a command lost in a client gap: its completion is not unknown */
    expect(SCRIPT(LOGIN, GAPC(9), S("a2 OK NOOP completed\r\n")), NONE);
    /* a gap inside a bad response: the rest of it is not judged (a2's
     * completion is lost in the second gap; see test_server_gap_keeps_commands for
     * one that arrives) */
    expect(SCRIPT(LOGIN, C("a2 NOOP\r\n"), S("* 5 "), GAPS(3), S("  EXISTS\r\n"),
                  GAPS(22), C("a3 NOOP\r\n"), S("a3 OK NOOP completed\r\n")),
           NONE);
    /* findings around a gap still land outside it */
    run(SCRIPT(LOGIN, C("a2 NOOP\n"), GAPC(4), C("a3 NOOP\n"), S("a2 OK\r\na3 OK\r\n")),
        MC_PROTO_IMAP, l);
    assert_true(l->n >= 1);
}

/* ---- origin lines ------------------------------------------------------------ */

static void test_origin_lines(void **state)
{
    (void)state;
    static struct flog l_store;
    struct flog *l = &l_store;
    /* a finding carries the origin of the chunk that held the line */
    run(SCRIPT(LOGIN, C("a2 NOOP\r\n"), S("a2 OK NOOP\x00"), S("completed\r\n")), MC_PROTO_IMAP,
        l);
    assert_log(l, WANT(W(IMAP_RESP_NUL, 79)));
    assert_int_equal(l->r[0].line, 5);
    assert_int_equal(l->r[0].side, MC_SIDE_SERVER);
    run(SCRIPT(LOGIN, C("a2 NOOP\n")), MC_PROTO_IMAP, l);
    assert_log(l, WANT(W(IMAP_CMD_BARE_LF, 28)));
    assert_int_equal(l->r[0].line, 4);
    assert_int_equal(l->r[0].side, MC_SIDE_CLIENT);
}

/* ---- stripping and downgrade (RFC 8314 s5.2) ------------------------------ */

static const struct step conv_starttls_refused_login[] = {
    S(GREET_ST), C("a1 STARTTLS\r\n"), S("a1 NO TLS not available\r\n"),
    C("a2 LOGIN mrc secret\r\n"), S("a2 OK LOGIN completed\r\n"),             /* LOGIN at c 13 */
    END};
static const struct step conv_starttls_goahead_login[] = {
    S(GREET_ST), C("a1 STARTTLS\r\n"), S("a1 OK go\r\n"),
    C("a2 LOGIN mrc secret\r\n"),                                               /* c 13 */
    END};
static const struct step conv_starttls_goahead_close[] = {
    S(GREET_ST), C("a1 STARTTLS\r\n"), S("a1 OK go\r\n"), CLOSEC, CLOSES, END};
/* "a2 OK" injected after the OK to STARTTLS (s 65); inside TLS the client
 * sends a2, then a3 (c 28) before a2's completion: it took the injected
 * one for it */
static const struct step conv_starttls_injected_used[] = {
    S(GREET_ST), C("a1 STARTTLS\r\n"), S("a1 OK go\r\na2 OK injected\r\n"), TLSD,
    C("a2 CAPABILITY\r\n"), C("a3 LOGIN mrc secret\r\n"),
    S("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na2 OK done\r\na3 OK done\r\n"), END};

static const struct step conv_starttls_answered_after_hello[] = {
    S(GREET_ST), C("a1 STARTTLS\r\na2 CAPABILITY\r\n"), S("a1 OK go\r\n"), TLS,
    C("\x16\x03\x01\x00\x05hello"), S("* CAPABILITY IMAP4rev1\r\na2 OK done\r\n"), /* a2 at s 89 */
    END};

static void test_starttls_downgrade(void **state)
{
    (void)state;
    /* STARTTLS offered, not used, a password in the clear */
    expect(SCRIPT(S(GREET_ST), C("a1 LOGIN mrc secret\r\n"), S("a1 OK LOGIN completed\r\n")),
           WANT(W(IMAP_CLEARTEXT_PASSWORD, 0)));
    expect(SCRIPT(S(GREET_ST), C("a1 AUTHENTICATE PLAIN AGEAYg==\r\n"), S("a1 OK done\r\n")),
           WANT(W(IMAP_CLEARTEXT_PASSWORD, 0)));
    /* not offered: IMAP over plain TCP, nothing to say; offered with
     * LOGINDISABLED: IMAP.LOGIN.DISABLED says it */
    expect(SCRIPT(LOGIN), NONE);
    /* implicit TLS: protected from the first octet */
    expect(SCRIPT(TLSD, LOGIN), NONE);
    expect(SCRIPT(S(GREET_TLS), C("a1 LOGIN mrc secret\r\n"), S("a1 NO disabled\r\n")),
           WANT(W(IMAP_LOGIN_DISABLED, 3)));
    /* a password-derived mechanism is not the password in the clear */
    expect(SCRIPT(S(GREET_ST), C("a1 AUTHENTICATE CRAM-MD5\r\n"), S("+ PDEyMzQ+\r\n"),
                  C("YSBi\r\n"), S("a1 OK done\r\n")),
           NONE);
    expect(conv_starttls_refused_login, WANT(W(IMAP_STARTTLS_REFUSED_CREDENTIALS, 13)));
    expect(SCRIPT(S(GREET_ST), C("a1 STARTTLS\r\n"), S("a1 BAD no\r\n"),
                  C("a2 AUTHENTICATE SCRAM-SHA-256\r\n"), S("a2 NO no\r\n")),
           WANT(W(IMAP_STARTTLS_REFUSED_CREDENTIALS, 13)));
    expect(SCRIPT(S(GREET_ST), C("a1 STARTTLS\r\n"), S("a1 NO no\r\n"),
                  C("a2 AUTHENTICATE EXTERNAL =\r\n"), S("a2 NO no\r\n")),
           NONE);
    /* a cleartext PREAUTH rules STARTTLS out; credentials after it */
    expect(SCRIPT(S("* PREAUTH IMAP4rev1 hi\r\n"), C("a1 AUTHENTICATE DIGEST-MD5\r\n"),
                  S("a1 BAD already authenticated\r\n")),
           WANT(W(IMAP_PREAUTH_CLEARTEXT, 0), W(IMAP_STARTTLS_REFUSED_CREDENTIALS, 0),
                W(IMAP_CMD_WRONG_STATE, 3)));
    expect(conv_starttls_goahead_login,
           WANT(W(IMAP_STARTTLS_CMD_INJECTION, 13), W(IMAP_CLEARTEXT_PASSWORD, 13)));
    expect(conv_starttls_goahead_close, WANT(W(IMAP_STARTTLS_NO_HANDSHAKE, 13)));
    expect(SCRIPT(S(GREET_ST), C("a1 STARTTLS\r\n"), S("a1 OK go\r\n")), NONE);
    expect(conv_starttls_injected_used,
           WANT(W(IMAP_STARTTLS_RESPONSE_INJECTION, 65), W(IMAP_STARTTLS_INJECTED_RESPONSE_USED, 28)));
    /* the client waits for a2's completion inside TLS: only the server is at fault */
    expect(SCRIPT(S(GREET_ST), C("a1 STARTTLS\r\n"), S("a1 OK go\r\na2 OK injected\r\n"), TLSD,
                  C("a2 CAPABILITY\r\n"), S("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na2 OK done\r\n"),
                  C("a3 LOGIN mrc secret\r\n"), S("a3 OK done\r\n")),
           WANT(W(IMAP_STARTTLS_RESPONSE_INJECTION, 65)));
    /* '! tls' at the client's ClientHello (as the relay writes it), then
     * the server answers the injected CAPABILITY in plaintext: still seen,
     * its untagged data as part of the answer */
    expect(conv_starttls_answered_after_hello,
           WANT(W(IMAP_STARTTLS_CMD_INJECTION, 13), W(IMAP_STARTTLS_INJECTION_ANSWERED, 89)));
    check_split_invariance("starttls answered after hello", conv_starttls_answered_after_hello,
                           MC_PROTO_IMAP, true);
    check_split_invariance("starttls refused", conv_starttls_refused_login, MC_PROTO_IMAP, true);
    check_split_invariance("starttls plaintext", conv_starttls_goahead_login, MC_PROTO_IMAP, true);
    check_split_invariance("starttls close", conv_starttls_goahead_close, MC_PROTO_IMAP, true);
    check_split_invariance("starttls injected used", conv_starttls_injected_used, MC_PROTO_IMAP, true);
}

/* ---- one trigger per rule -------------------------------------------------------- */

static const struct trigger triggers[] = {
    /* server */
    T(IMAP_RESP_BARE_LF, 89, LOGIN, C("a2 NOOP\r\n"), S("a2 OK NOOP completed\n")),
    T(IMAP_RESP_BARE_CR, 79, LOGIN, C("a2 NOOP\r\n"), S("a2 OK NOOP\rcompleted\r\n")),
    T(IMAP_RESP_NUL, 79, LOGIN, C("a2 NOOP\r\n"), S("a2 OK NOOP\x00" "completed\r\n")),
    T(IMAP_RESP_TOO_LONG, 8261, LOGIN, C("a2 NOOP\r\n"),
      S("* OK " X1000 X1000 X1000 X1000 X1000 X1000 X1000 X1000 X100 X100 X100 "\r\n"),
      S("a2 OK NOOP completed\r\n")),
    T(IMAP_RESP_UNTERMINATED, 95, LOGIN, C("a2 NOOP\r\n"), S("* BYE server shutting down"), CLOSES),
    T(IMAP_RESP_SYNTAX, 73, LOGIN, C("a2 NOOP\r\n"), S("* 5  EXISTS\r\n"), S("a2 OK NOOP completed\r\n")),
    T(IMAP_RESP_TAG_SYNTAX, 70, LOGIN, C("a2 NOOP\r\n"), S("a%2 OK NOOP completed\r\n")),
    T(IMAP_RESP_TAGGED_STATUS, 72, LOGIN, C("a2 NOOP\r\n"), S("a2 PREAUTH done\r\n")),
    T(IMAP_RESP_TEXT_MISSING, 81, LOGIN, C("a2 NOOP\r\n"), S("* OK [ALERT]\r\n"),
      S("a2 OK NOOP completed\r\n")),
    T(IMAP_RESP_CONT_SYNTAX, 47, S(GREET), C("a1 LOGIN {3}\r\n"), S("+\r\n"), C("mrc secret\r\n"),
      S("a1 OK LOGIN completed\r\n")),
    T(IMAP_RESP_CODE_SYNTAX, 93, LOGIN, C(SELECT_CMD),
      S("* 5 EXISTS\r\n* OK [UNSEEN] first unseen\r\n"), S(SELECT_OK)),
    T(IMAP_RESP_NUMBER, 71, LOGIN, C("a2 NOOP\r\n"), S("* 99999999999 EXISTS\r\n"),
      S("a2 OK NOOP completed\r\n")),
    T(IMAP_RESP_DATA_SYNTAX, 359, SELECTED, C("a3 FETCH 1 INTERNALDATE\r\n"),
      S("* 1 FETCH (INTERNALDATE \"17-Jul-96 02:44:25 -0700\")\r\n"), S("a3 OK FETCH completed\r\n")),
    T(IMAP_RESP_NEST_TOO_DEEP, 381, SELECTED, C("a3 FETCH 1 BODYSTRUCTURE\r\n"),
      S("* 1 FETCH (BODYSTRUCTURE " P10 P10 P10 P10
        "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1)" M10 M10 M10 " \"MIXED\"" Q10 ")\r\n"),
      S("a3 OK FETCH completed\r\n")),
    T(IMAP_CAPABILITY_NO_REV, 74, S(GREET), C("a1 CAPABILITY\r\n"),
      S("* CAPABILITY IDLE AUTH=PLAIN\r\n"), S("a1 OK CAPABILITY completed\r\n")),
    T(IMAP_GREETING_INVALID, 0, S("* NO not today\r\n"), C("a1 LOGOUT\r\n"),
      S("* BYE logging out\r\na1 OK LOGOUT completed\r\n")),
    T(IMAP_TAG_UNKNOWN, 91, LOGIN, C("a2 NOOP\r\n"), S("a2 OK NOOP completed\r\n"), S("z7 OK done\r\n")),
    T(IMAP_CMD_NO_COMPLETION, 69, LOGIN, C("a2 NOOP\r\n"), CLOSES),
    T(IMAP_CONT_UNEXPECTED, 69, LOGIN, C("a2 NOOP\r\n"), S("+ go on\r\n"), S("a2 OK NOOP completed\r\n")),
    T(IMAP_OK_IN_WRONG_STATE, 58, S(GREET), C("a1 SELECT INBOX\r\n"), S("* 0 EXISTS\r\n"),
      S("a1 OK SELECT completed\r\n")),
    T(IMAP_LOGOUT_NO_BYE, 69, LOGIN, C("a9 LOGOUT\r\n"), S("a9 OK LOGOUT completed\r\n"), CLOSES, CLOSEC),
    T(IMAP_EXPUNGE_NO_COMMAND, 325, SELECTED, S("* 3 EXPUNGE\r\n")),
    T(IMAP_EXPUNGE_DURING_FETCH, 352, SELECTED, C("a3 FETCH 1 FLAGS\r\n"),
      S("* 1 FETCH (FLAGS (\\Seen))\r\n* 3 EXPUNGE\r\n"), S("a3 OK FETCH completed\r\n")),
    T(IMAP_EXPUNGE_OUT_OF_RANGE, 325, SELECTED, C("a3 NOOP\r\n"), S("* 9 EXPUNGE\r\n"),
      S("a3 OK NOOP completed\r\n")),
    T(IMAP_FETCH_UID_MISSING, 325, SELECTED, C("a3 UID FETCH 1:* FLAGS\r\n"),
      S("* 1 FETCH (FLAGS (\\Seen))\r\n"), S("a3 OK UID FETCH completed\r\n")),
    T(IMAP_CAPABILITY_LITERAL_BOTH, 59, S(GREET), C("a1 CAPABILITY\r\n"),
      S("* CAPABILITY IMAP4rev1 LITERAL+ LITERAL-\r\n"), S("a1 OK CAPABILITY completed\r\n")),
    T(IMAP_PREAUTH_CLEARTEXT, 0, S("* PREAUTH IMAP4rev1 server logged in as Smith\r\n"),
      C("a1 LOGOUT\r\n"), S("* BYE logging out\r\na1 OK LOGOUT completed\r\n")),
    T(IMAP_LOGIN_DISABLED_ACCEPTED, 58, S(GREET_TLS), C("a1 LOGIN mrc secret\r\n"),
      S("a1 OK LOGIN completed\r\n")),
    T(IMAP_AUTH_CANCEL_ACCEPTED, 50, S(GREET), C("a1 AUTHENTICATE PLAIN\r\n"), S("+ \r\n"), C("*\r\n"),
      S("a1 OK authenticated\r\n")),
    T(IMAP_STARTTLS_ADVERTISED_IN_TLS, 91, S(GREET_TLS), C("a1 STARTTLS\r\n"), S("a1 OK go\r\n"), TLSD,
      C("a2 CAPABILITY\r\n"), S("* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\n"),
      S("a2 OK CAPABILITY completed\r\n")),
    T(IMAP_STARTTLS_RESPONSE_INJECTION, 91, S(GREET_TLS), C("a1 STARTTLS\r\n"),
      S("a1 OK Begin TLS negotiation now\r\n"), S("* OK still plaintext\r\n"), TLS),
    T(IMAP_STARTTLS_INJECTION_ANSWERED, 91, S(GREET_TLS), C("a1 STARTTLS\r\na2 CAPABILITY\r\n"),
      S("a1 OK Begin TLS negotiation now\r\n"), TLSD, S("a2 OK CAPABILITY completed\r\n")),
    /* client */
    T(IMAP_CMD_BARE_LF, 28, LOGIN, C("a2 NOOP\n"), S("a2 OK NOOP completed\r\n")),
    T(IMAP_CMD_BARE_CR, 17, S(GREET), C("a1 LOGIN mrc \"sec\rret\"\r\n"), S("a1 BAD invalid\r\n")),
    T(IMAP_CMD_NUL, 16, S(GREET), C("a1 LOGIN mrc sec\x00ret\r\n"), S("a1 BAD invalid\r\n")),
    T(IMAP_CMD_TOO_LONG, 8190, S(GREET),
      C("a1 LOGIN mrc " X1000 X1000 X1000 X1000 X1000 X1000 X1000 X1000 X100 X100 X100 "\r\n"),
      S("a1 NO LOGIN failed\r\n")),
    T(IMAP_CMD_UNTERMINATED, 28, LOGIN, C("a2 NOOP"), CLOSEC),
    T(IMAP_CMD_SYNTAX, 30, LOGIN, C("a2 SELECT\r\n"), S("a2 BAD missing argument\r\n")),
    T(IMAP_CMD_TAG_SYNTAX, 22, LOGIN, C("a(2 NOOP\r\n"), S("* BAD invalid tag\r\n")),
    T(IMAP_CMD_NEST_TOO_DEEP, 80, SELECTED, C("a3 SEARCH " P10 P10 P10 P10 "SEEN" Q10 Q10 Q10 Q10 "\r\n"),
      S("* SEARCH\r\n"), S("a3 OK SEARCH completed\r\n")),
    T(IMAP_CMD_QUOTED_8BIT, 36, LOGIN, C("a2 SELECT \"Entw\xc3\xbcrfe\"\r\n"), S("a2 NO no such mailbox\r\n")),
    T(IMAP_LITERAL_EARLY, 14, S(GREET), C("a1 LOGIN {3}\r\nmrc secret\r\n"), S("+ ready\r\n"),
      S("a1 OK LOGIN completed\r\n")),
    T(IMAP_SASL_RESPONSE_SYNTAX, 26, S(GREET), C("a1 AUTHENTICATE PLAIN\r\n"), S("+ \r\n"),
      C("not base64!\r\n"), S("a1 BAD invalid response\r\n")),
    T(IMAP_IDLE_NOT_DONE, 47, SELECTED_IDLE, C("a3 IDLE\r\n"), S("+ idling\r\n"), C("a4 NOOP\r\n"),
      S("a3 BAD expected DONE\r\n")),
    T(IMAP_CMD_WRONG_STATE, 3, S(GREET), C("a1 FETCH 1 FLAGS\r\n"), S("a1 BAD not authenticated\r\n")),
    T(IMAP_TAG_REUSED, 30, LOGIN, C("a2 NOOP\r\na2 NOOP\r\n"), S("a2 OK NOOP completed\r\n"),
      S("a2 OK NOOP completed\r\n")),
    T(IMAP_LOGIN_DISABLED, 3, S(GREET_TLS), C("a1 LOGIN mrc secret\r\n"), S("a1 NO LOGIN disabled\r\n")),
    T(IMAP_LITERAL_NONSYNC_UNADVERTISED, 0, S(GREET), C("a1 LOGIN {3+}\r\nmrc secret\r\n"),
      S("a1 OK LOGIN completed\r\n")),
    T(IMAP_LITERAL_MINUS_TOO_BIG, 21, S("* OK [CAPABILITY IMAP4rev1 LITERAL-] ready\r\n"),
      C("a1 LOGIN mrc secret\r\n"), S("a1 OK LOGIN completed\r\n"),
      C("a2 APPEND INBOX {5000+}\r\n" X1000 X1000 X1000 X1000 X1000 "\r\n"),
      S("a2 BAD [TOOBIG] literal too big\r\n")),
    T(IMAP_CLEARTEXT_PASSWORD, 0, S(GREET_ST), C("a1 LOGIN mrc secret\r\n")),
    T(IMAP_STARTTLS_REFUSED_CREDENTIALS, 13, S(GREET_ST), C("a1 STARTTLS\r\n"), S("a1 NO no\r\n"),
      C("a2 LOGIN mrc secret\r\n")),
    T(IMAP_STARTTLS_NO_HANDSHAKE, 13, S(GREET_ST), C("a1 STARTTLS\r\n"), S("a1 OK go\r\n"), CLOSEC),
    T(IMAP_STARTTLS_INJECTED_RESPONSE_USED, 28, S(GREET_ST), C("a1 STARTTLS\r\n"),
      S("a1 OK go\r\na2 OK injected\r\n"), TLSD, C("a2 CAPABILITY\r\n"), C("a3 LOGIN mrc secret\r\n")),
    T(IMAP_STARTTLS_CMD_INJECTION, 13, S(GREET_TLS), C("a1 STARTTLS\r\na2 CAPABILITY\r\n"),
      S("a1 OK Begin TLS negotiation now\r\n"), TLSD, C("a3 CAPABILITY\r\n"),
      S("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n"), S("a3 OK CAPABILITY completed\r\n")),
    /* rules added while this file was written (mailbox bookkeeping, SELECT
     * responses, command results, ENABLE, IMAP4rev2, UIDPLUS, ID) */
    T(IMAP_EXISTS_DECREASED, 325, SELECTED, C("a3 NOOP\r\n"), S("* 3 EXISTS\r\n"),
      S("a3 OK NOOP completed\r\n")),
    T(IMAP_FETCH_OUT_OF_RANGE, 325, SELECTED, C("a3 FETCH 1:* FLAGS\r\n"),
      S("* 9 FETCH (FLAGS (\\Seen))\r\n"), S("a3 OK FETCH completed\r\n")),
    T(IMAP_SEARCH_OUT_OF_RANGE, 325, SELECTED, C("a3 SEARCH ALL\r\n"), S("* SEARCH 1 9\r\n"),
      S("a3 OK SEARCH completed\r\n")),
    T(IMAP_RECENT_ABOVE_EXISTS, 191, LOGIN, C(SELECT_CMD),
      S("* FLAGS (\\Seen)\r\n* 5 EXISTS\r\n* 7 RECENT\r\n* OK [PERMANENTFLAGS (\\Seen)] ok\r\n"
        "* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 6] ok\r\n"),
      S(SELECT_OK)),
    T(IMAP_UNSEEN_OUT_OF_RANGE, 211, LOGIN, C(SELECT_CMD),
      S("* FLAGS (\\Seen)\r\n* 5 EXISTS\r\n* 0 RECENT\r\n* OK [UNSEEN 9] ok\r\n"
        "* OK [PERMANENTFLAGS (\\Seen)] ok\r\n* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 6] ok\r\n"),
      S(SELECT_OK)),
    T(IMAP_UID_NOT_ASCENDING, 344, SELECTED, C("a3 FETCH 1:2 UID\r\n"),
      S("* 1 FETCH (UID 4)\r\n* 2 FETCH (UID 3)\r\n"), S("a3 OK FETCH completed\r\n")),
    T(IMAP_UID_ABOVE_UIDNEXT, 325, SELECTED, C("a3 FETCH 1 UID\r\n"), S("* 1 FETCH (UID 9)\r\n"),
      S("a3 OK FETCH completed\r\n")),
    T(IMAP_UIDNEXT_DECREASED, 325, SELECTED, C("a3 NOOP\r\n"), S("* OK [UIDNEXT 4] predicted\r\n"),
      S("a3 OK NOOP completed\r\n")),
    T(IMAP_SELECT_NO_FLAGS, 174, LOGIN, C(SELECT_CMD),
      S("* 5 EXISTS\r\n* 0 RECENT\r\n* OK [PERMANENTFLAGS (\\Seen)] ok\r\n"
        "* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 6] ok\r\n"),
      S(SELECT_OK)),
    T(IMAP_SELECT_NO_EXISTS, 179, LOGIN, C(SELECT_CMD),
      S("* FLAGS (\\Seen)\r\n* 0 RECENT\r\n* OK [PERMANENTFLAGS (\\Seen)] ok\r\n"
        "* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 6] ok\r\n"),
      S(SELECT_OK)),
    T(IMAP_SELECT_NO_RECENT, 179, LOGIN, C(SELECT_CMD),
      S("* FLAGS (\\Seen)\r\n* 5 EXISTS\r\n* OK [PERMANENTFLAGS (\\Seen)] ok\r\n"
        "* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 6] ok\r\n"),
      S(SELECT_OK)),
    T(IMAP_SELECT_NO_UIDVALIDITY, 165, LOGIN, C(SELECT_CMD),
      S("* FLAGS (\\Seen)\r\n* 5 EXISTS\r\n* 0 RECENT\r\n* OK [PERMANENTFLAGS (\\Seen)] ok\r\n"
        "* OK [UIDNEXT 6] ok\r\n"),
      S(SELECT_OK)),
    T(IMAP_SELECT_NO_UIDNEXT, 170, LOGIN, C(SELECT_CMD),
      S("* FLAGS (\\Seen)\r\n* 5 EXISTS\r\n* 0 RECENT\r\n* OK [PERMANENTFLAGS (\\Seen)] ok\r\n"
        "* OK [UIDVALIDITY 42] ok\r\n"),
      S(SELECT_OK)),
    T(IMAP_SELECT_NO_PERMANENTFLAGS, 157, LOGIN, C(SELECT_CMD),
      S("* FLAGS (\\Seen)\r\n* 5 EXISTS\r\n* 0 RECENT\r\n"
        "* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 6] ok\r\n"),
      S(SELECT_OK)),
    T(IMAP_SELECT_NO_LIST, 179, LOGIN2, C(SELECT_CMD),
      S("* FLAGS (\\Seen)\r\n* 5 EXISTS\r\n* OK [PERMANENTFLAGS (\\Seen)] ok\r\n"
        "* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 6] ok\r\n"),
      S(SELECT_OK)),
    T(IMAP_SELECT_NO_CLOSED, 405, SELECTED2, C("a3 SELECT Drafts\r\n"), S(SELECT2_RESP("Drafts")),
      S("a3 OK [READ-WRITE] SELECT completed\r\n")),
    T(IMAP_EXAMINE_NOT_READ_ONLY, 288, LOGIN, C("a2 EXAMINE INBOX\r\n"), S(SELECT_RESP),
      S("a2 OK [READ-WRITE] EXAMINE completed\r\n")),
    T(IMAP_CLOSE_SENT_EXPUNGE, 325, SELECTED, C("a3 CLOSE\r\n"), S("* 1 EXPUNGE\r\n"),
      S("a3 OK CLOSE completed\r\n")),
    T(IMAP_CAPABILITY_NO_RESPONSE, 46, S(GREET), C("a1 CAPABILITY\r\n"),
      S("a1 OK CAPABILITY completed\r\n")),
    T(IMAP_SEARCH_NO_RESPONSE, 325, SELECTED, C("a3 SEARCH ALL\r\n"), S("a3 OK SEARCH completed\r\n")),
    T(IMAP_STATUS_NO_RESPONSE, 69, LOGIN, C("a2 STATUS Drafts (MESSAGES)\r\n"),
      S("a2 OK STATUS completed\r\n")),
    T(IMAP_NAMESPACE_NO_RESPONSE, 69, LOGIN, C("a2 NAMESPACE\r\n"), S("a2 OK NAMESPACE completed\r\n")),
    T(IMAP_ENABLE_NO_RESPONSE, 69, LOGIN, C("a2 ENABLE CONDSTORE\r\n"), S("a2 OK ENABLE completed\r\n")),
    T(IMAP_ENABLED_UNSOLICITED, 69, LOGIN, C("a2 NOOP\r\n"), S("* ENABLED CONDSTORE\r\n"),
      S("a2 OK NOOP completed\r\n")),
    T(IMAP_ENABLED_NOT_REQUESTED, 89, LOGIN, C("a2 ENABLE CONDSTORE\r\n"),
      S("* ENABLED CONDSTORE QRESYNC\r\n"), S("a2 OK ENABLE completed\r\n")),
    T(IMAP_CAPABILITY_CHANGED_BY_ENABLE, 168, LOGIN, C("a2 CAPABILITY\r\n"),
      S("* CAPABILITY IMAP4rev1 ENABLE CONDSTORE\r\na2 OK done\r\n"), C("a3 ENABLE CONDSTORE\r\n"),
      S("* ENABLED CONDSTORE\r\na3 OK done\r\n"), C("a4 CAPABILITY\r\n"),
      S("* CAPABILITY IMAP4rev1 ENABLE\r\na4 OK done\r\n")),
    T(IMAP_VANISHED_OUT_OF_TURN, 325, SELECTED, S("* VANISHED 3\r\n")),
    T(IMAP_FETCH_UNSOLICITED_NO_UID, 255, SELECTED2, C("a3 NOOP\r\n"), S("* 1 FETCH (FLAGS (\\Seen))\r\n"),
      S("a3 OK NOOP completed\r\n")),
    T(IMAP_STARTTLS_OK_IN_TLS, 115, S(GREET_TLS), C("a1 STARTTLS\r\n"), S("a1 OK go\r\n"), TLSD,
      C("a2 CAPABILITY\r\n"), S("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na2 OK done\r\n"),
      C("a3 STARTTLS\r\n"), S("a3 OK go again\r\n")),
    T(IMAP_LOGINDISABLED_IN_TLS, 102, S(GREET_TLS), C("a1 STARTTLS\r\n"), S("a1 OK go\r\n"), TLSD,
      C("a2 CAPABILITY\r\n"), S("* CAPABILITY IMAP4rev1 AUTH=PLAIN LOGINDISABLED\r\na2 OK done\r\n")),
    T(IMAP_ID_RESP_LIMITS, 69, LOGIN, C("a2 ID NIL\r\n"),
      S("* ID (\"name-of-this-field-is-too-long-xx\" \"x\")\r\n"), S("a2 OK ID completed\r\n")),
    T(IMAP_COPYUID_MISMATCH, 325, SELECTED, C("a3 UID COPY 1:2 Drafts\r\n"),
      S("a3 OK [COPYUID 9 1:2 7] COPY completed\r\n")),
    T(IMAP_APPENDUID_RANGE, 75, LOGIN, C("a2 APPEND INBOX {2}\r\n"), S("+ go\r\n"), C("hi\r\n"),
      S("a2 OK [APPENDUID 42 6:6] APPEND completed\r\n")),
    /* capabilities after login: the OK of LOGIN carries them */
    T(IMAP_IDLE_UNADVERTISED, 41, S(GREET), C("a1 LOGIN mrc secret\r\n"),
      S("a1 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] LOGIN completed\r\n"), SELECT, C("a3 IDLE\r\n"), S("+ idling\r\n"), C("DONE\r\n"),
      S("a3 OK IDLE terminated\r\n")),
    T(IMAP_ENABLE_AFTER_SELECT, 51, SELECTED, C("a3 CLOSE\r\n"), S("a3 OK CLOSE completed\r\n"),
      C("a4 ENABLE CONDSTORE\r\n"), S("* ENABLED CONDSTORE\r\na4 OK done\r\n")),
    T(IMAP_CHECK_IN_REV2, 41, SELECTED2, C("a3 CHECK\r\n"), S("a3 OK CHECK completed\r\n")),
    T(IMAP_LSUB_IN_REV2, 24, LOGIN2, C("a2 LSUB \"\" *\r\n"), S("a2 OK LSUB completed\r\n")),
    T(IMAP_CAPABILITY_NOT_REFRESHED, 16, S(GREET_TLS), C("a1 STARTTLS\r\n"), S("a1 OK go\r\n"), TLSD,
      C("a2 NOOP\r\n"), S("a2 OK NOOP completed\r\n")),
    T(IMAP_STATUS_SELECTED_MAILBOX, 48, SELECTED, C("a3 STATUS INBOX (MESSAGES)\r\n"),
      S("* STATUS INBOX (MESSAGES 5)\r\n"), S("a3 OK STATUS completed\r\n")),
    T(IMAP_CMD_UNKNOWN, 21, LOGIN, C("a2 XFROB INBOX\r\n"), S("a2 BAD unknown command\r\n")),
    T(IMAP_ID_CMD_LIMITS, 24, LOGIN, C("a2 ID (\"name-of-this-field-is-too-long-xx\" \"x\")\r\n"),
      S("* ID NIL\r\n"), S("a2 OK ID completed\r\n")),
};
#define NTRIGGERS (sizeof(triggers) / sizeof(triggers[0]))

static void test_rule_triggers(void **state)
{
    (void)state;
    if (getenv("IMAP_TRIGGER_DUMP")) {
        static struct flog l_store;
        for (size_t i = 0; i < NTRIGGERS; i++) {
            run(triggers[i].sc, triggers[i].proto, &l_store);
            print_log(mc_rule_info(triggers[i].rule)->id, &l_store);
        }
    }
    check_rule_triggers(triggers, NTRIGGERS);
}

static void test_rule_coverage(void **state)
{
    (void)state;
    /* every IMAP rule in the catalogue has a trigger above */
    check_rule_coverage(triggers, NTRIGGERS, MC_PROTO_IMAP, "test_imap_session.c");
}

/* ---- credentials ------------------------------------------------------- */

static const char *const secrets[] = {
    "s3cret",
    "AGFsaWNlAHMzY3JldCE=",   /* "\0alice\0s3cret!" */
    "czNjcmV0IQ==",           /* "s3cret!" */
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

/* Credentials in LOGIN lines and SASL responses, in lines that get
 * findings. */
static const struct step cred_login[] = {
    S(GREET_TLS),
    C("a1 LOGIN alice s3cret\r\n"),                        /* LOGINDISABLED */
    S("a1 OK LOGIN completed\r\n"),
    C("a2 LOGIN alice s3cret\n"),                          /* bare LF, wrong state */
    S("a2 BAD already\r\n"),
    C("a3 AUTHENTICATE PLAIN AGFsaWNlAHMzY3JldCE=\r\na3 NOOP\r\n"),   /* tag reused */
    S("a3 NO failed\r\na3 OK NOOP completed\r\n"),
    C("a4 AUTHENTICATE LOGIN\r\n"),
    S("+ UGFzc3dvcmQ6\r\n"),
    C("czNjcmV0IQ==\n"),                                   /* bare LF in a response */
    S("a4 NO failed\r\n"),
    C("a5 LOGIN alice s3cret"),
    CLOSEC,
    END,
};

static void test_credentials_redacted(void **state)
{
    (void)state;
    static struct flog l_store;
    struct flog *l = &l_store;
    run(cred_login, MC_PROTO_IMAP, l);
    assert_true(l->n >= 4);
    assert_no_secret(l, "whole");
    run_mode(cred_login, MC_PROTO_IMAP, M_BYTES, 0, 0, l);
    assert_no_secret(l, "bytes");
    for (size_t i = 0; cred_login[i].kind != K_END; i++)
        for (size_t k = 1; k < cred_login[i].len; k++) {
            run_mode(cred_login, MC_PROTO_IMAP, M_SPLIT, i, k, l);
            assert_no_secret(l, "split");
        }
}

/* ---- split invariance -------------------------------------------------- */

struct conv {
    const char *name;
    const struct step *sc;
};

static const struct conv split_convs[] = {
    {"rfc3501 s8", conv_rfc3501_s8},
    {"rfc3501 s8 fixed", conv_rfc3501_s8_fixed},
    {"rfc9051 s8", conv_rfc9051_s8},
    {"rfc9051 s8 fixed", conv_rfc9051_s8_fixed},
    {"starttls", conv_starttls},
    {"starttls opaque", conv_starttls_opaque},
    {"starttls marker", conv_starttls_marker},
    {"authenticate", conv_authenticate},
    {"idle", conv_idle},
    {"append", conv_append},
    {"literal+", conv_literal_plus},
    {"literal-", conv_literal_minus},
    {"uid fetch", conv_uid_fetch},
    {"pipelined", conv_pipelined},
    {"bookkeeping", conv_bookkeeping},
    {"gaps", conv_gaps},
    {"starttls injection", conv_starttls_injection},
    {"starttls injection same segment", conv_starttls_injection_same_segment},
    {"starttls response injection", conv_starttls_response_injection},
    {"credentials", cred_login},
};

static void test_split_invariance(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(split_convs) / sizeof(split_convs[0]); i++)
        check_split_invariance(split_convs[i].name, split_convs[i].sc, MC_PROTO_IMAP, true);
    for (size_t i = 0; i < NTRIGGERS; i++)
        check_split_invariance(mc_rule_info(triggers[i].rule)->id, triggers[i].sc,
                               triggers[i].proto, true);
}

/* ---- the golden transcripts, split ------------------------------------------ */

static void test_golden_split_invariance(void **state)
{
    (void)state;
    /* the golden set is there (a trigger per rule, the RFC examples) */
    check_golden_split_invariance(__FILE__, "imap", MC_PROTO_IMAP, 50);
}

/* ---- suspected defects ------------------------------------------------------ */

static void test_server_gap_keeps_commands(void **state)
{
    (void)state;
    /* Three octets of an untagged response lost in a server gap: the
     * commands outstanding are kept, so the intact completion of a2 that
     * follows the gap is correlated (the session once forgot them all and
     * reported IMAP.TAG.UNKNOWN). */
    expect(SCRIPT(LOGIN, C("a2 NOOP\r\n"), S("* 5 EX"), GAPS(3), S("S\r\n"),
                  S("a2 OK NOOP completed\r\n")),
           NONE);
    /* ... a gap inside the literal of a FETCH response */
    expect(SCRIPT(SELECTED, C("a3 FETCH 1 BODY[]\r\n"), S("* 1 FETCH (BODY[] {20}\r\nabc"),
                  GAPS(10), S("defghij)\r\na3 OK done\r\n")),
           NONE);
    /* the same with the gap in a response to an earlier command */
    expect(SCRIPT(LOGIN, C("a2 NOOP\r\na3 NOOP\r\n"), S("a2 OK NO"), GAPS(4),
                  S("completed\r\na3 OK NOOP completed\r\n")),
           NONE);
}

static void test_client_gap_state_unknown(void **state)
{
    (void)state;
    /* A SELECT lost in a client gap: the server's OK to it is not
     * correlated (its tag is unknown while resynchronising), so the state
     * the session tracks is stale: the OK to the next FETCH is not blamed
     * as IMAP.OK.IN_WRONG_STATE (it once was). */
    expect(SCRIPT(LOGIN, C("a2 SEL"), GAPC(5), C("INBOX\r\n"), S(SELECT_RESP SELECT_OK),
                  C("a3 FETCH 1 FLAGS\r\n"),
                  S("* 1 FETCH (FLAGS (\\Seen))\r\na3 OK FETCH completed\r\n")),
           NONE);
}

static void test_gap_hides_continuation(void **state)
{
    (void)state;
    /* The server's "+" lost in a server gap: the client, which may have
     * seen it, is not blamed for what follows (it once was). */
    /* a synchronizing literal: IMAP.LITERAL.EARLY */
    expect(SCRIPT(SELECTED, C("a3 APPEND INBOX {5}\r\n"), GAPS(6), C("hello\r\n"),
                  S("a3 OK done\r\n")),
           NONE);
    /* IDLE: DONE is parsed as a command, IMAP.CMD.TAG_SYNTAX */
    expect(SCRIPT(SELECTED_IDLE, C("a3 IDLE\r\n"), GAPS(10), C("DONE\r\n"), S("a3 OK done\r\n")),
           NONE);
    /* AUTHENTICATE: the SASL response is parsed as a command,
     * IMAP.CMD.TAG_SYNTAX, and its excerpt shows the credentials */
    expect(SCRIPT(S(GREET), C("a1 AUTHENTICATE PLAIN\r\n"), GAPS(4),
                  C("AGFsaWNlAHMzY3JldCE=\r\n"), S("a1 OK done\r\n")),
           NONE);
}

static void test_gap_starttls_answer_lost(void **state)
{
    (void)state;
    /* The OK to STARTTLS lost in a server gap, no TLS marker: after a gap
     * with STARTTLS outstanding, a TLS record (0x16 0x03) is the
     * negotiation, as it is once the OK was seen (both sides' records were
     * once parsed as IMAP: 13 findings). */
    expect(SCRIPT(S(GREET_TLS), C("a1 STARTTLS\r\n"), GAPS(30), C(TLS_CLIENT), S(TLS_SERVER)),
           NONE);
}

static void test_idle_done_in_client_gap(void **state)
{
    (void)state;
    /* "DON" of DONE lost in a client gap: once the server completed the
     * IDLE, the next line is a command again (it was once
     * IMAP.IDLE.NOT_DONE). */
    expect(SCRIPT(SELECTED_IDLE, C("a3 IDLE\r\n"), S("+ idling\r\n"), GAPC(3), C("E\r\n"),
                  S("a3 OK done\r\n"), C("a4 NOOP\r\n"), S("a4 OK done\r\n")),
           NONE);
}

/* No excerpt or message of l shows the start of the password. */
static void assert_no_password(const struct flog *l, const char *pw)
{
    for (size_t i = 0; i < l->n; i++)
        if (strstr(l->r[i].excerpt, pw) || strstr(l->r[i].message, pw)) {
            print_error("password prefix '%s' leaks in %s\n", pw, mc_rule_info(l->r[i].rule)->id);
            print_log("findings", l);
            fail();
        }
}

static void test_login_literal_password_redacted(void **state)
{
    (void)state;
    static struct flog l_store;
    struct flog *l = &l_store;
    /* LOGIN with the user name as a literal: the password is redacted in
     * every finding that quotes the line (the redacted range once started
     * late: "a1 LOGIN {5} Sekr1tP<redacted>"). */
    run(SCRIPT(S(GREET), C("a1 LOGIN {5}\r\nalice Sekr1tPass\r\n"), S("+ go\r\n"),
               S("a1 OK done\r\n")),
        MC_PROTO_IMAP, l);
    assert_true(has(l, MC_R_IMAP_LITERAL_EARLY, 14));
    assert_no_password(l, "Sekr1");
    run(SCRIPT(S(GREET), C("a1 LOGIN {5+}\r\nalice Sekr1tPass\r\n"), S("a1 OK done\r\n")),
        MC_PROTO_IMAP, l);
    assert_true(has(l, MC_R_IMAP_LITERAL_NONSYNC_UNADVERTISED, 0));
    assert_no_password(l, "Sekr1");
    run(SCRIPT(S(GREET_TLS), C("a1 LOGIN {5}\r\n"), S("+ go\r\n"), C("alice Sekr1tPass\r\n"),
               S("a1 NO disabled\r\n")),
        MC_PROTO_IMAP, l);
    assert_true(has(l, MC_R_IMAP_LOGIN_DISABLED, 3));
    assert_no_password(l, "Sekr1");
    run(SCRIPT(S(GREET), C("a1 LOGIN {5}\r\n"), S("+ go\r\n"), C("alice \"Sekr1tPass\"\n"),
               S("a1 OK done\r\n")),
        MC_PROTO_IMAP, l);
    assert_true(has(l, MC_R_IMAP_CMD_BARE_LF, 32));
    assert_no_password(l, "Sekr1");
}

static void test_sasl_before_continuation_redacted(void **state)
{
    (void)state;
    static struct flog l_store;
    struct flog *l = &l_store;
    /* A SASL response sent before the server's "+" belongs to the exchange
     * (it was once parsed as a command whose excerpt showed it). */
    run(SCRIPT(S(GREET), C("a1 AUTHENTICATE PLAIN\r\nAGFsaWNlAHMzY3JldCE=\r\n"), S("+ \r\n"),
               S("a1 OK done\r\n")),
        MC_PROTO_IMAP, l);
    assert_no_secret(l, "sasl before continuation");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_basics),
        cmocka_unit_test(test_conformant_sessions),
        cmocka_unit_test(test_rfc_samples),
        cmocka_unit_test(test_tls_state),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_states),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_authenticate),
        cmocka_unit_test(test_idle),
        cmocka_unit_test(test_expunge),
        cmocka_unit_test(test_uid_fetch),
        cmocka_unit_test(test_mailbox_model),
        cmocka_unit_test(test_capabilities),
        cmocka_unit_test(test_starttls),
        cmocka_unit_test(test_line_layer),
        cmocka_unit_test(test_gaps),
        cmocka_unit_test(test_origin_lines),
        cmocka_unit_test(test_starttls_downgrade),
        cmocka_unit_test(test_rule_triggers),
        cmocka_unit_test(test_rule_coverage),
        cmocka_unit_test(test_credentials_redacted),
        cmocka_unit_test(test_split_invariance),
        cmocka_unit_test(test_golden_split_invariance),
        cmocka_unit_test(test_server_gap_keeps_commands),
        cmocka_unit_test(test_client_gap_state_unknown),
        cmocka_unit_test(test_gap_hides_continuation),
        cmocka_unit_test(test_gap_starttls_answer_lost),
        cmocka_unit_test(test_idle_done_in_client_gap),
        cmocka_unit_test(test_login_literal_password_redacted),
        cmocka_unit_test(test_sasl_before_continuation_redacted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
