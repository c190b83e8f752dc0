/*
 * imap_canon (fuzz/imap_canon.c): the canonical printer behind the round-
 * trip oracle of fuzz_imap_resp. For every case the input must parse
 * without anomalies; its canonical form must parse as one response without
 * anomalies, with the same kind, status, number and as many literals as
 * were printed, and must print as itself. Several cases also pin the
 * canonical text exactly.
 */
#include "test_harness.h"

#include <stdlib.h>

#include "imap/imap_resp.h"
#include "imap_canon.h"

struct parsed {
    unsigned responses, anoms;
    enum mc_imap_resp_kind kind;
    enum mc_imap_status status;
    bool has_number;
    uint64_t number;
    unsigned literals;
    char name[64];
};

/* Parses buf whole; the summary of its last response. */
static void parse(const uint8_t *buf, size_t len, struct parsed *out)
{
    static struct mc_imap_resp p;
    struct mc_imap_resp_ev ev;
    size_t i = 0;

    memset(out, 0, sizeof(*out));
    mc_imap_resp_init(&p);
    for (;;) {
        size_t used = 0;
        int rc = i < len ? mc_imap_resp_feed(&p, buf + i, len - i, &used, &ev)
                         : mc_imap_resp_finish(&p, &ev);
        i += used;
        if (rc != MC_EVENT)
            break;
        if (ev.type != MC_IMAP_RESP_RESPONSE)
            continue;
        out->responses++;
        out->anoms += ev.anoms.n + ev.anoms.dropped;
        out->kind = ev.kind;
        out->status = ev.status;
        out->has_number = ev.has_number;
        out->number = ev.number;
        out->literals = ev.literals;
        size_t n = ev.name.len < sizeof(out->name) - 1 ? ev.name.len : sizeof(out->name) - 1;
        for (size_t k = 0; k < n; k++) {
            char c = (char)ev.name.ptr[k];
            out->name[k] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
        }
        out->name[n] = '\0';
    }
}

/* The property, and the canonical text when want is not NULL. */
static void check_n(const char *in, size_t in_len, const char *want, size_t want_len)
{
    struct imap_canon c1 = {0}, c2 = {0};
    struct parsed a, b;

    parse((const uint8_t *)in, in_len, &a);
    if (a.responses != 1 || a.anoms != 0)
        fail_msg("input is not one clean response (%u responses, %u anomalies): %.*s",
                 a.responses, a.anoms, (int)in_len, in);
    if (imap_canon_print(&c1, (const uint8_t *)in, in_len) != 0)
        fail_msg("printer refused (%s): %.*s", c1.why, (int)in_len, in);
    if (want != NULL && (c1.n != want_len || memcmp(c1.b, want, want_len) != 0))
        fail_msg("canonical form\n  got:  '%.*s'\n  want: '%.*s'", (int)c1.n, (const char *)c1.b,
                 (int)want_len, want);
    assert_int_equal(c1.in_literals, a.literals);

    parse(c1.b, c1.n, &b);
    if (b.responses != 1 || b.anoms != 0)
        fail_msg("canonical form is not one clean response (%u, %u): %.*s", b.responses,
                 b.anoms, (int)c1.n, (const char *)c1.b);
    assert_int_equal(b.kind, a.kind);
    assert_int_equal(b.status, a.status);
    assert_int_equal(b.has_number, a.has_number);
    assert_int_equal(b.number, a.number);
    assert_int_equal(b.literals, c1.literals);
    assert_string_equal(b.name, a.name);

    assert_int_equal(imap_canon_print(&c2, c1.b, c1.n), 0);
    assert_int_equal(c2.n, c1.n);
    assert_memory_equal(c2.b, c1.b, c1.n);
    imap_canon_free(&c1);
    imap_canon_free(&c2);
}

#define CHECK(in, want) check_n(in, sizeof(in) - 1, want, sizeof(want) - 1)
#define PROP(in) check_n(in, sizeof(in) - 1, NULL, 0)

/* RFC 3501 s8, the server's lines (and the s6/s7 examples around them). */
static void test_rfc3501_sample(void **state)
{
    (void)state;
    PROP("* OK IMAP4rev1 Service Ready\r\n");
    PROP("* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI\r\n");
    PROP("abcd OK CAPABILITY completed\r\n");
    PROP("* 18 EXISTS\r\n");
    PROP("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n");
    PROP("* 2 RECENT\r\n");
    PROP("* OK [UNSEEN 17] Message 17 is the first unseen message\r\n");
    PROP("* OK [UIDVALIDITY 3857529045] UIDs valid\r\n");
    PROP("a002 OK [READ-WRITE] SELECT completed\r\n");
    PROP("* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
         "RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "
         "\"IMAP4rev1 WG mtg summary and minutes\" "
         "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
         "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
         "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
         "((NIL NIL \"imap\" \"cac.washington.edu\")) "
         "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")"
         "(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
         "\"<B27397-0100000@cac.washington.edu>\") "
         "BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n");
    PROP("a003 OK FETCH completed\r\n");
    PROP("* 12 FETCH (BODY[HEADER] {342}\r\n"
         "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
         "From: Terry Gray <gray@cac.washington.edu>\r\n"
         "Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
         "To: imap@cac.washington.edu\r\n"
         "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n"
         "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
         "\r\n"
         ")\r\n");
    PROP("a004 OK FETCH completed\r\n");
    PROP("* 12 FETCH (FLAGS (\\Seen \\Deleted))\r\n");
    PROP("a005 OK +FLAGS completed\r\n");
    PROP("* BYE IMAP4rev1 server terminating connection\r\n");
    PROP("A023 OK LOGOUT completed\r\n");
    PROP("* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n");
    PROP("* LSUB () \".\" #news.comp.mail.misc\r\n");
    PROP("* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n");
    PROP("* SEARCH 2 84 882\r\n");
    PROP("* SEARCH\r\n");
    PROP("* 22 EXPUNGE\r\n");
    PROP("* PREAUTH IMAP4rev1 server logged in as Smith\r\n");
    PROP("* NO Disk is 98% full, please delete unnecessary data\r\n");
    PROP("* BAD Command line too long\r\n");
    PROP("A001 NO [ALERT] Disk full\r\n");
}

static void test_keywords_case(void **state)
{
    (void)state;
    CHECK("* ok [unseen 17] Message 17 is the first unseen message\r\n",
          "* OK [UNSEEN 17] Message 17 is the first unseen message\r\n");
    /* unknown codes, code arguments, tags and text keep their case */
    CHECK("a1 ok [x-Code Arg] done  twice\r\n", "a1 OK [x-Code Arg] done  twice\r\n");
    CHECK("t2 bad [permanentflags (\\Seen \\*)] mixed Case\r\n",
          "t2 BAD [PERMANENTFLAGS (\\Seen \\*)] mixed Case\r\n");
    CHECK("* bye [alert] going\r\n", "* BYE [ALERT] going\r\n");
    /* flags and capabilities keep their case, names do not */
    CHECK("* flags (\\answered $Junk)\r\n", "* FLAGS (\\answered $Junk)\r\n");
    CHECK("* capability imap4rev1 Idle\r\n", "* CAPABILITY imap4rev1 Idle\r\n");
    CHECK("* 007 exists\r\n", "* 7 EXISTS\r\n");
    CHECK("* status blurdybloop (messages 231 uidnext 44292)\r\n",
          "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n");
    CHECK("* list (\\Noselect) nil inbox\r\n", "* LIST (\\Noselect) NIL inbox\r\n");
    /* an unknown response keeps its name and its data */
    CHECK("* 3 xyzzy (nil Foo)\r\n", "* 3 xyzzy (nil Foo)\r\n");
}

static void test_fetch(void **state)
{
    (void)state;
    /* att names and the section-spec upper-cased, header names kept */
    CHECK("* 0012 fetch (flags (\\Seen) body[header.fields (From to)]<0> {5}\r\nhello uid 7)\r\n",
          "* 12 FETCH (FLAGS (\\Seen) BODY[HEADER.FIELDS (From to)]<0> {5}\r\nhello UID 7)\r\n");
    CHECK("* 1 FETCH (BODY[] nil RFC822.SIZE 0)\r\n", "* 1 FETCH (BODY[] NIL RFC822.SIZE 0)\r\n");
    CHECK("* 1 FETCH (BODY[1.2.mime] \"x\")\r\n", "* 1 FETCH (BODY[1.2.MIME] \"x\")\r\n");
    /* an unknown att keeps its case and its value */
    CHECK("* 1 FETCH (X-Labels (nil Foo) uid 4)\r\n", "* 1 FETCH (X-Labels (nil Foo) UID 4)\r\n");
    /* ENVELOPE: NIL upper-cased, addresses side by side */
    CHECK("* 2 FETCH (ENVELOPE (nil \"subj\" ((nil nil \"a\" \"b\") (\"C\" nil \"c\" \"d\")) "
          "nil nil nil nil nil nil \"<id@x>\"))\r\n",
          "* 2 FETCH (ENVELOPE (NIL \"subj\" ((NIL NIL \"a\" \"b\")(\"C\" NIL \"c\" \"d\")) "
          "NIL NIL NIL NIL NIL NIL \"<id@x>\"))\r\n");
    /* multipart BODYSTRUCTURE: the parts side by side, SP before the subtype */
    CHECK("* 3 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") nil nil "
          "\"7BIT\" 10 1) (\"TEXT\" \"HTML\" nil NIL NIL \"7BIT\" 20 2) \"ALTERNATIVE\" "
          "(\"BOUNDARY\" \"xx\") nil nil))\r\n",
          "* 3 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL "
          "\"7BIT\" 10 1)(\"TEXT\" \"HTML\" NIL NIL NIL \"7BIT\" 20 2) \"ALTERNATIVE\" "
          "(\"BOUNDARY\" \"xx\") NIL NIL))\r\n");
    /* message/rfc822 with its envelope and body */
    PROP("* 4 FETCH (BODYSTRUCTURE (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 300 "
         "(NIL \"inner\" ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL NIL NIL) "
         "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 1) 12))\r\n");
    PROP("* 5 FETCH (BODY ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1)((\"IMAGE\" \"PNG\" "
         "NIL NIL NIL \"BASE64\" 8)(\"TEXT\" \"HTML\" NIL NIL NIL \"QP\" 2 1) \"RELATED\") "
         "\"MIXED\"))\r\n");
    PROP("* 6 FETCH (UID 9 MODSEQ (12345) FLAGS ())\r\n");
}

static void test_literals(void **state)
{
    (void)state;
    /* a literal stays a literal, its count in decimal */
    CHECK("* 1 FETCH (RFC822 {003}\r\nabc)\r\n", "* 1 FETCH (RFC822 {3}\r\nabc)\r\n");
    CHECK("* 1 FETCH (RFC822 {0}\r\n)\r\n", "* 1 FETCH (RFC822 {0}\r\n)\r\n");
    /* literal data holding CRLF, ")" and "{9}" */
    CHECK("* 1 FETCH (BODY[TEXT] {11}\r\na)\r\n{9}\r\n\"x UID 2)\r\n",
          "* 1 FETCH (BODY[TEXT] {11}\r\na)\r\n{9}\r\n\"x UID 2)\r\n");
    /* literal8 (RFC 3516) with binary data */
    CHECK("* 1 FETCH (BINARY[1] ~{4}\r\n\x01\x80\xff\x7f)\r\n",
          "* 1 FETCH (BINARY[1] ~{4}\r\n\x01\x80\xff\x7f)\r\n");
    /* two literals in one response, one of them an envelope field */
    PROP("* 7 FETCH (ENVELOPE (NIL {5}\r\nsub\"j NIL NIL NIL NIL NIL NIL NIL NIL) "
         "BODY[] {2}\r\nhi)\r\n");
    /* a literal as the mailbox of LIST and of STATUS */
    CHECK("* LIST () \"/\" {4}\r\na\"b/\r\n", "* LIST () \"/\" {4}\r\na\"b/\r\n");
    PROP("* STATUS {3}\r\nfoo (MESSAGES 1)\r\n");
    /* "{5}" ending a status response is text, not a literal */
    CHECK("* OK see {5}\r\n", "* OK see {5}\r\n");
    CHECK("+ {5}\r\n", "+ {5}\r\n");
}

static void test_quoted(void **state)
{
    (void)state;
    /* quoted with escapes, 8-bit or TAB-free CTLs: a literal if allowed there */
    CHECK("* LIST (\\Noselect) \"/\" \"a\\\"b\"\r\n", "* LIST (\\Noselect) \"/\" {3}\r\na\"b\r\n");
    CHECK("* LIST () \"/\" \"back\\\\slash\"\r\n", "* LIST () \"/\" {10}\r\nback\\slash\r\n");
    CHECK("* 1 FETCH (ENVELOPE (NIL \"caf\xc3\xa9\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n",
          "* 1 FETCH (ENVELOPE (NIL {5}\r\ncaf\xc3\xa9 NIL NIL NIL NIL NIL NIL NIL NIL))\r\n");
    /* the hierarchy delimiter must stay quoted (RFC 3501 s9 mailbox-list) */
    CHECK("* LIST () \"\\\\\" foo\r\n", "* LIST () \"\\\\\" foo\r\n");
    CHECK("* LSUB () \"\\\"\" foo\r\n", "* LSUB () \"\\\"\" foo\r\n");
    /* a quoted string that needs no escaping stays quoted, even empty */
    CHECK("* LIST () \"/\" \"\"\r\n", "* LIST () \"/\" \"\"\r\n");
    /* NAMESPACE: namespaces side by side, delimiters quoted */
    CHECK("* NAMESPACE ((\"\" \"/\")) nil ((\"#shared/\" \"/\") (\"#public/\" \"\\\\\"))\r\n",
          "* NAMESPACE ((\"\" \"/\")) NIL ((\"#shared/\" \"/\")(\"#public/\" \"\\\\\"))\r\n");
    CHECK("* ID (\"name\" \"Cyrus\" \"version\" nil)\r\n",
          "* ID (\"name\" \"Cyrus\" \"version\" NIL)\r\n");
}

static void test_codes_and_continuation(void **state)
{
    (void)state;
    PROP("* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n");
    PROP("* NO [BADCHARSET (UTF-8 \"X Y\")] no\r\n");
    PROP("* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n");
    CHECK("a OK [appenduid 38505 3955] APPEND completed\r\n",
          "a OK [APPENDUID 38505 3955] APPEND completed\r\n");
    CHECK("a OK [copyuid 38505 304,319:320 3956:3958] Done\r\n",
          "a OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n");
    CHECK("b NO [overquota] Sorry\r\n", "b NO [OVERQUOTA] Sorry\r\n");
    CHECK("* OK [READ-ONLY] x\r\n", "* OK [READ-ONLY] x\r\n");
    CHECK("+ Ready for literal data\r\n", "+ Ready for literal data\r\n");
    CHECK("+ \r\n", "+ \r\n");
    CHECK("+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzmeTxbc=\r\n",
          "+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzmeTxbc=\r\n");
    CHECK("+ [alert] read this\r\n", "+ [ALERT] read this\r\n");
}

/* What the printer refuses: not one response. */
static void test_refused(void **state)
{
    struct imap_canon c = {0};
    (void)state;
    assert_int_equal(imap_canon_print(&c, (const uint8_t *)"* OK a\r\n* OK b\r\n", 16), -1);
    assert_int_equal(imap_canon_print(&c, (const uint8_t *)"* 1 FETCH (X {9}\r\nab", 20), -1);
    assert_int_equal(imap_canon_print(&c, (const uint8_t *)"* 1 FETCH (X\nY)\r\n", 17), -1);
    assert_int_equal(imap_canon_print(&c, (const uint8_t *)"", 0), -1);
    imap_canon_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3501_sample),
        cmocka_unit_test(test_keywords_case),
        cmocka_unit_test(test_fetch),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_quoted),
        cmocka_unit_test(test_codes_and_continuation),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
