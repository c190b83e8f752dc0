/*
 * The switch from plaintext to TLS inside a protocol session (POP3 STLS,
 * SMTP and IMAP STARTTLS), shared so every protocol judges it the same way.
 *
 * After the server's go-ahead (+OK to STLS, 220 to STARTTLS) each direction
 * must turn to TLS records. Until it does, each line start is looked at: a
 * TLS record type (RFC 8446 s5.1, RFC 5246 s6.2.1: 20 to 24) means the
 * handshake began and the direction turns opaque; anything else is a
 * plaintext line where the handshake must be, and is parsed (the protocol
 * reports it as injection). Octets after an event that changed the state
 * are dispatched again under the new state, so where chunks were cut never
 * matters. A protocol session embeds struct mc_tls and hands its octets to
 * mc_tls_data() with a table of callbacks.
 *
 * When the session's caller decrypts TLS itself (a capture with a key log:
 * the session context's tls_turn is set, session.h), a direction that turns
 * to TLS records is handed over instead of skipped: the octets from its
 * first record on are the caller's, and what the caller feeds afterwards is
 * that direction's plaintext inside TLS, parsed like any other (plain[d]).
 * Once both directions turned, the session is inside TLS as after a
 * `! tls decrypted` marker (MC_TLS_PLAIN).
 */
#ifndef MC_TLS_SWITCH_H
#define MC_TLS_SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "finding.h"

enum mc_tls_state {
    MC_TLS_NONE,      /* plaintext */
    MC_TLS_STARTING,  /* the go-ahead was seen; each direction turns opaque in turn */
    MC_TLS_OPAQUE,    /* TLS running, records not decrypted: offsets only */
    MC_TLS_PLAIN,     /* TLS running, chunks are the decrypted plaintext */
    MC_TLS_MAYBE      /* the answer to STLS/STARTTLS may be lost in a gap: the
                         client's next line start settles it (a TLS record:
                         it was the go-ahead; plaintext: it was not); the
                         server's octets are parsed meanwhile */
};

struct mc_session_ctx;

struct mc_tls {
    enum mc_tls_state state;
    bool opaque[2];   /* STARTING: this direction turned to TLS records */
    bool plain[2];    /* ... and the caller feeds its decrypted plaintext */
    struct mc_session_ctx *ctx;   /* set by the protocol's init: the session's
                                     context, for its tls_turn */
};

/* What the switch needs from a protocol session s, per direction d. */
struct mc_tls_ops {
    /* Parses up to one event from buf; returns the octets used. */
    size_t (*feed_one)(void *s, enum mc_dir d, const uint8_t *buf, size_t len);
    /* An event is due without more input (SMTP: a complete BDAT chunk);
     * NULL if the protocol has none. */
    bool (*event_due)(const void *s, enum mc_dir d);
    /* The parser of d stands between lines (not inside a line, a
     * multi-line answer or message content): a TLS record could start. */
    bool (*at_line_start)(const void *s, enum mc_dir d);
    /* The parser of d skips a line damaged by a gap: plaintext and TLS
     * cannot be told apart there. */
    bool (*resyncing)(const void *s, enum mc_dir d);
    /* n octets of d are not looked into (TLS records or a gap). */
    void (*skip)(void *s, enum mc_dir d, uint64_t n);
    /* d turned to TLS records during MC_TLS_STARTING. */
    void (*went_opaque)(void *s, enum mc_dir d);
    /* MC_TLS_MAYBE was settled: tls true, TLS started (the switch goes on
     * as after a go-ahead); false, it did not (plaintext goes on). May be
     * NULL when the protocol never enters MC_TLS_MAYBE. */
    void (*maybe_settled)(void *s, bool tls);
};

/* Octets of direction d, dispatched by the TLS state. */
void mc_tls_data(struct mc_tls *t, const struct mc_tls_ops *ops, void *s, enum mc_dir d,
                 const uint8_t *buf, size_t len);

/* Direction d turns to TLS records (also after a gap where the handshake
 * should start: assume TLS). */
void mc_tls_go_opaque(struct mc_tls *t, const struct mc_tls_ops *ops, void *s, enum mc_dir d);

/* True for the first octet of a TLS record; never the first octet of a
 * POP3, IMAP or SMTP line. */
bool mc_tls_record_type(uint8_t c);

#endif
