/*
 * Sessions: one conversation between a client and a server, fed as ordered
 * chunks (direction, bytes, origin) plus markers (TLS starts, bytes missing,
 * a side closed). A session knows nothing of where bytes came from
 * (transcript, relay, capture, probe); it detects the protocol if not told,
 * drives that protocol's state machine and reports findings to a callback.
 */
#ifndef MC_SESSION_H
#define MC_SESSION_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include "finding.h"
#include "rules/policy.h"

#define MC_ORIGIN_RING 256
/* Findings of one rule reported per session; the rest are counted, not
 * printed, so a hostile peer cannot flood the output. */
#define MC_FINDINGS_PER_RULE 100

/* What every protocol session shares: identity, output, offset bookkeeping. */
struct mc_session_ctx {
    const char *name;
    enum mc_proto proto;
    mc_finding_fn fn;
    void *fn_ctx;
    uint64_t pos[2];                       /* octets seen per direction */
    struct { uint64_t off; struct mc_origin o; } ring[2][MC_ORIGIN_RING];
    unsigned ring_head[2], ring_count[2];
    uint64_t findings;
    uint64_t suppressed;
    bool finishing;                        /* input ended (not a close by a peer) */
    uint32_t per_rule[MC_RULE_COUNT];
    const struct mc_policy *policy;        /* NULL: every rule, own severity */
    /* Set when the caller decrypts TLS (mc_session_on_tls_turn): the TLS
     * switch (tls_switch.h) calls it when direction d turns to TLS records
     * after a STARTTLS go-ahead, at absolute offset off; the octets from
     * there on are not the session's (the switch rewinds pos[d] to off). */
    void (*tls_turn)(struct mc_session_ctx *c, enum mc_dir d, uint64_t off);
    struct mc_origin current;              /* of the chunk being fed */
    /* An allocation failed (mc__out_of_memory): the session stopped at
     * oom_at; what came later was neither judged nor reported. */
    bool out_of_memory;
    struct mc_origin oom_at;
};

/* A protocol session could not allocate what it needs to follow the
 * conversation: judging on would blame a peer for our missing state (an
 * untracked IMAP tag completed, "unknown"). So the session stops here:
 * no finding is reported from now on and no input is looked at; the
 * caller reports the stop as out of memory (mc_session_out_of_memory). */
void mc__out_of_memory(struct mc_session_ctx *c);

/* Reports rule r at absolute offset off of the direction the rule's side
 * sends. The excerpt may be NULL. The message is printf-formatted; NULL
 * uses the rule's summary. */
void mc__emit(struct mc_session_ctx *c, enum mc_rule r, uint64_t off, const char *excerpt,
              const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* Reports rule r with an excerpt of line (the secret range redacted;
 * either may be NULL). msg NULL: the rule's summary. */
void mc__emit_line(struct mc_session_ctx *c, enum mc_rule r, uint64_t off,
                   const struct mc_span *line, const struct mc_span *secret, const char *msg);
/* Reports the rule a parser anomaly breaks for proto and side (none: it is
 * skipped), with the anomaly's description appended to the summary. */
void mc__emit_anom(struct mc_session_ctx *c, enum mc_proto proto, enum mc_side side,
                   const struct mc_anom_hit *h, const struct mc_span *line,
                   const struct mc_span *secret);
/* The same for every anomaly of a. */
void mc__emit_anoms(struct mc_session_ctx *c, enum mc_proto proto, enum mc_side side,
                    const struct mc_anoms *a, const struct mc_span *line,
                    const struct mc_span *secret);

struct mc_session;

/* name is copied. proto MC_PROTO_UNKNOWN: detect from the first server bytes
 * ("+OK"/"-ERR" POP3, "* " IMAP, "NNN" SMTP). Returns NULL on allocation
 * failure. */
struct mc_session *mc_session_new(const char *name, enum mc_proto proto, mc_finding_fn fn,
                                  void *fn_ctx);
void mc_session_data(struct mc_session *s, enum mc_dir dir, const uint8_t *buf, size_t len,
                     const struct mc_origin *origin);
/* The session is SMTP message submission (RFC 6409, port 587): submission
 * rules apply. Call before the first data. */
void mc_session_set_submission(struct mc_session *s);
/* Rules to leave out and severities to change (--rules, --severity); the
 * policy must outlive the session. A disabled rule is not counted either. */
void mc_session_set_policy(struct mc_session *s, const struct mc_policy *p);
/* The RFC a protocol is judged by where its versions differ; 0 (default):
 * from what the peers announce. IMAP: 2060, 3501 (IMAP4rev1) or 9051
 * (IMAP4rev2). Call before the first data. */
void mc_session_set_version(struct mc_session *s, unsigned rfc);
/* TLS starts. decrypted: the chunks that follow are the plaintext inside
 * TLS (a key log, a probe, a hand-written test); otherwise they are TLS
 * records the session does not look into. */
void mc_session_tls(struct mc_session *s, bool decrypted, const struct mc_origin *origin);
/* The caller decrypts what follows a STARTTLS/STLS go-ahead (a capture
 * with a key log). When a direction d turns to TLS records (its first
 * record where a line could start, or a gap there), turned(arg, d, off) is
 * called during the mc_session_data or mc_session_gap call that got there:
 * off is d's absolute offset of the record (as mc_session_offset counts).
 * The session takes none of d's octets from off on (the rest of the chunk
 * being fed is the caller's to decrypt); what the caller feeds for d
 * afterwards is the plaintext inside TLS. Once both directions turned, the
 * session is inside TLS as after mc_session_tls(s, true, ...). Call before
 * the first data; turned NULL turns it off (TLS records stay opaque). */
void mc_session_on_tls_turn(struct mc_session *s,
                            void (*turned)(void *arg, enum mc_dir d, uint64_t off), void *arg);
/* Octets of direction d fed so far (data and gaps), the offsets findings
 * carry. Client octets held before the protocol is known do not count yet. */
uint64_t mc_session_offset(const struct mc_session *s, enum mc_dir d);
/* Reports rule r, found outside the session's parsers (the TLS records of
 * a capture), at origin o and offset off of the rule's side; the policy and
 * the per-rule limit apply as to any finding. excerpt and msg may be NULL
 * (msg NULL: the rule's summary). */
void mc_session_report(struct mc_session *s, enum mc_rule r, const struct mc_origin *o,
                       uint64_t off, const char *excerpt, const char *msg);
void mc_session_gap(struct mc_session *s, enum mc_dir dir, uint64_t n,
                    const struct mc_origin *origin);
void mc_session_close(struct mc_session *s, enum mc_dir dir, const struct mc_origin *origin);
/* The input reached origin (a capture's last frame for this connection):
 * a direction that carried nothing takes it as the origin of its
 * findings, so that every finding names a frame or line. */
void mc_session_mark(struct mc_session *s, const struct mc_origin *origin);
/* End of input: closes both directions; reports what is left open. */
void mc_session_finish(struct mc_session *s);
void mc_session_free(struct mc_session *s);

enum mc_proto mc_session_proto(const struct mc_session *s);
/* True once the protocol has switched to TLS (e.g. after +OK to STLS). */
bool mc_session_in_tls(const struct mc_session *s);
/* False when the protocol has no validator yet (counted, not checked). */
bool mc_session_validated(const struct mc_session *s);
const char *mc_session_name(const struct mc_session *s);
uint64_t mc_session_findings(const struct mc_session *s);
/* True when the session stopped for lack of memory (mc__out_of_memory, or
 * its own state could not be allocated); *at: the frame or line it
 * stopped at (0 when unknown). The caller reports it: the validation of
 * this session is incomplete. */
bool mc_session_out_of_memory(const struct mc_session *s, struct mc_origin *at);
/* The caller lost the session's input from `at` on for lack of memory
 * (a transcript reader that stopped): the session stops there as if it
 * had run out of memory itself, so finishing it judges nothing it did
 * not see. */
void mc_session_abandon(struct mc_session *s, const struct mc_origin *at);
/* Findings not reported because their rule hit MC_FINDINGS_PER_RULE. */
uint64_t mc_session_suppressed(const struct mc_session *s);

/* A protocol's session machine, plugged into the generic session. */
struct mc_proto_ops {
    enum mc_proto proto;
    size_t size;
    void (*init)(void *p, struct mc_session_ctx *c);
    void (*data)(void *p, enum mc_dir dir, const uint8_t *buf, size_t len);
    void (*tls)(void *p, bool decrypted);
    void (*gap)(void *p, enum mc_dir dir, uint64_t n);
    void (*close)(void *p, enum mc_dir dir);
    bool (*in_tls)(const void *p);
    /* SMTP: the session is message submission (RFC 6409); may be NULL */
    void (*set_submission)(void *p, bool on);
    /* see mc_session_set_version; may be NULL */
    void (*set_version)(void *p, unsigned rfc);
    /* frees what the state allocated beyond its `size` octets (tables
     * allocated only when a session needs them); may be NULL */
    void (*release)(void *p);
};

extern const struct mc_proto_ops mc_pop3_ops;
extern const struct mc_proto_ops mc_smtp_ops;
extern const struct mc_proto_ops mc_imap_ops;

#endif
