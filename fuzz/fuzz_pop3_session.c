/*
 * fuzz_pop3_session: the POP3 session (validator/pop3/pop3_session.c) behind
 * the generic session (validator/session/session.c), driven by a scripted
 * conversation.
 *
 * Input: 2 option bytes, then records.
 *   byte 0  bits 0-1  how the second run re-cuts each data record: 0 = in two
 *                     at a chosen point, 1 = chunks of 1..8 octets,
 *                     2 = one octet at a time, 3 = chunks of 1..64
 *           bit 2     create the session with MC_PROTO_UNKNOWN (detection)
 *                     instead of MC_PROTO_POP3
 *           bits 3-7  seed for the cut points
 *   byte 1  more seed
 *   record  one header byte h, then its payload:
 *           bit 7     direction: 0 client (C2S), 1 server (S2C)
 *           bits 4-6  kind: 0-3 data, 4 "! tls", 5 "! tls decrypted",
 *                     6 gap, 7 close
 *           bits 0-3  L. data: payload length L if L < 14; 14 + next octet
 *                     if L = 14; 270 + next 2 octets (little endian) if
 *                     L = 15; a payload cut short by the end of the input
 *                     is used as is. gap: count L + 1, or for L = 15
 *                     16 + next 4 octets (little endian).
 *   After the last record the harness calls mc_session_finish().
 *
 * Oracles (abort() on failure):
 * - every finding has a rule < MC_RULE_COUNT, and its side, protocol,
 *   severity and direction agree with mc_rule_info(rule); its offset is at
 *   most the octets (data and gaps) the session has seen in that direction;
 *   excerpt and message are NUL-terminated; mc_session_findings() counts the
 *   callbacks;
 * - split invariance: the same records with every data record re-cut into
 *   pieces (same order, nothing else changed) give the identical list of
 *   findings (rule, direction, offset).
 */
#include "fuzz_common.h"

#include <stdbool.h>

#include "session/session.h"

#define SESSION_NAME "fuzz"

struct run {
    struct fz_sess c;
};

FZ_ORACLE
static void on_finding(void *ctx, const struct mc_finding *f)
{
    struct run *r = ctx;
    /* with detection the server's first octet may make it SMTP (the SMTP
     * target checks that session in depth; here it only must not break) */
    fz_sess_finding(&r->c, f, SESSION_NAME, NULL);
}

static void run_once(struct run *r, const uint8_t *data, size_t size, bool cut)
{
    struct fz_rng rng;
    const uint8_t opts = data[0];

    memset(r, 0, sizeof(*r));
    fz_sess_start(&r->c, data, size, SESSION_NAME, (opts & 4) ? MC_PROTO_UNKNOWN : MC_PROTO_POP3,
                  on_finding, r, &rng);
    fz_sess_records(&r->c, data, size, &rng, cut);
    fz_sess_finish(&r->c, SESSION_NAME);
    if (!(opts & 4))
        FZ_CHECK(mc_session_proto(r->c.s) == MC_PROTO_POP3 && mc_session_validated(r->c.s));
    fz_sess_free(&r->c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct run whole, cut;
    if (size < 2)
        return 0;
    run_once(&whole, data, size, false);
    run_once(&cut, data, size, true);
    if (!fz_log_same(&whole.c.log, &cut.c.log)) {
        fz_sess_print_diff(&whole.c, &cut.c);
        FZ_CHECK(!"re-cutting the data records changed the findings");
    }
    fz_log_free(&whole.c.log);
    fz_log_free(&cut.c.log);
    return 0;
}
