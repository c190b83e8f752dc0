/*
 * imap_canon: a canonical printer for one IMAP server response (RFC 3501
 * s7 and s9), the round-trip oracle of fuzz_imap_resp and its unit test.
 * A test oracle, not product code: self-contained (no parser), it reads the
 * response's bytes as they came on the wire: its line segments with their
 * CRLFs and, in data responses, the literal data after each "{n}" / "~{n}"
 * header.
 *
 * The canonical form:
 * - every line segment ends in CRLF; one SP between items (none inside
 *   "()" / "[]"), none between the lists of an address list, of a
 *   multipart body before its subtype and of an RFC 2342 namespace
 *   (RFC 3501 s9 "1*address", "1*body"; RFC 2342 s5);
 * - upper case for what the grammar makes case-insensitive keywords: OK /
 *   NO / BAD / BYE / PREAUTH, the known untagged names (CAPABILITY, FETCH,
 *   LIST, ...), the known response codes (ALERT, UIDNEXT, ...), the known
 *   FETCH attribute names and the section-spec after BODY[ / BINARY[ /
 *   BINARY.SIZE[, the known STATUS attribute names, and NIL where the
 *   grammar wants an nstring (envelope, body structure, values of known
 *   FETCH attributes, LIST delimiter, NAMESPACE, ID). Everything else keeps
 *   its case: tags, flags, atoms, mailbox names, capability names, code
 *   arguments, text;
 * - the message number of "* n NAME" in decimal without leading zeros;
 *   every other number as it came;
 * - a quoted string whose value has no '"', '\', CR, LF, NUL or 8-bit
 *   octet stays quoted; any other quoted string becomes a synchronizing
 *   literal "{n}" CRLF value, except where RFC 3501 wants a quoted string
 *   (the hierarchy delimiter of LIST / LSUB and of a namespace), where it
 *   stays quoted with its escapes. A literal stays a literal with its count
 *   in decimal ("{007}" prints "{7}"), a literal8 stays "~{n}";
 * - status responses and continuations: tag, "+" or "*", the keyword, SP,
 *   "[" code "]" with the code upper-cased if known, the code's argument
 *   and the text as they came (resp-text is free text);
 * - CAPABILITY, ENABLED, FLAGS, SEARCH, EXISTS, RECENT and EXPUNGE without
 *   literals: the name canonical, the rest of the line as it came (the
 *   parser checks those exactly, one SP between items).
 */
#ifndef MC_FUZZ_IMAP_CANON_H
#define MC_FUZZ_IMAP_CANON_H

#include <stddef.h>
#include <stdint.h>

struct imap_canon {
    uint8_t *b;             /* the printed response (malloc'd) */
    size_t n, cap;
    unsigned literals;      /* literals and literal8s printed */
    size_t out_longest;     /* longest printed line segment, CRLF excluded */
    uint64_t out_line_len;  /* printed line segments with CRLFs, literal data excluded */
    size_t in_longest;      /* longest line segment of the input, CRLF excluded */
    unsigned in_literals;   /* literals found in the input */
    const char *why;        /* on failure: what could not be read */
};

/* Prints the canonical form of the one response in[0..len) into c (which
 * must be zeroed or previously used with this function). Returns 0, or -1
 * if the bytes are not one response the printer can read (c->why says
 * why; in_longest is set as far as the line segments could be split). */
int imap_canon_print(struct imap_canon *c, const uint8_t *in, size_t len);

void imap_canon_free(struct imap_canon *c);

#endif
