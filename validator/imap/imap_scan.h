/*
 * Small readers over IMAP text the parsers already checked against the
 * grammar: the session uses them to look at values (a FETCH item's number,
 * SEARCH results, ID pairs, UID sets). They never trust their input: text
 * that does not have the expected shape gives "not found", never a crash,
 * and nothing is allocated.
 */
#ifndef MC_IMAP_SCAN_H
#define MC_IMAP_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The number after the top-level item `name` of a FETCH msg-att list
 * "(NAME value NAME value ...)" (e.g. "UID"). Strings, lists and sections
 * inside the list are skipped. Returns false when the item is absent or
 * its value is not a number. */
bool mc_imap_fetch_number(const uint8_t *p, size_t n, const char *name, uint64_t *out);

/* Calls fn for each number of a SEARCH response "1 5 9" (a trailing
 * "(MODSEQ n)" of RFC 7162 ends the list). Stops at the first octet that
 * is not a digit or SP. */
void mc_imap_each_number(const uint8_t *p, size_t n, void (*fn)(void *ctx, uint64_t v), void *ctx);

/* Number of UIDs in a uid-set "4:6,9" (a range a:b counts |a-b|+1);
 * saturates at UINT64_MAX. *range_same: some range is n:n. Returns false
 * when the set is not digits, ':' and ','. */
bool mc_imap_uid_set_count(const uint8_t *p, size_t n, uint64_t *count, bool *range_same);

/* RFC 2971 s3.3 limits of an ID parameter list "(\"f\" \"v\" ...)" or NIL:
 * returns a message naming the first limit broken (field over 30 octets,
 * value over 1024, more than 30 pairs, a field twice), or NULL when the
 * list keeps them or cannot be read (literals are not looked into). */
const char *mc_imap_id_limits(const uint8_t *p, size_t n, char *msg, size_t msg_size);

/* An order-independent digest of a space-separated capability list,
 * case-insensitive: equal lists give equal digests. */
uint64_t mc_imap_caps_digest(const uint8_t *p, size_t n);

/* True when the space-separated list holds `word` (case-insensitive). */
bool mc_imap_list_has(const uint8_t *p, size_t n, const uint8_t *word, size_t wlen);

#endif
