/*
 * fuzz_smtp_session: the SMTP session (validator/smtp/smtp_session.c) behind
 * the generic session (validator/session/session.c), driven by a scripted
 * conversation. The record layout is that of fuzz_pop3_session, so
 * fuzz/session2mct.py prints these inputs too (its "@ protocol" line says
 * pop3; read it as smtp, or as submission when option bit 3 is set).
 *
 * Input: 2 option bytes, then records.
 *   byte 0  bits 0-1  how the second run re-cuts each data record: 0 = in two
 *                     at a chosen point, 1 = chunks of 1..8 octets,
 *                     2 = one octet at a time, 3 = chunks of 1..64
 *           bit 2     create the session with MC_PROTO_UNKNOWN (detection)
 *                     instead of MC_PROTO_SMTP
 *           bit 3     message submission (mc_session_set_submission, RFC 6409)
 *           bits 4-7  seed for the cut points
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
 *   After the last record the harness calls mc_session_finish() (twice: it
 *   must be idempotent).
 *
 * Oracles (abort() on failure):
 * - every finding has a rule < MC_RULE_COUNT, and its side, protocol,
 *   severity and direction agree with mc_rule_info(rule); the protocol is
 *   SMTP (with detection: the protocol the session detected, POP3 or SMTP);
 *   its offset is at most the octets (data and gaps) the session has seen
 *   in that direction; excerpt and message are NUL-terminated and the
 *   message is not empty; mc_session_findings() counts the callbacks and
 *   no rule is reported more than MC_FINDINGS_PER_RULE times;
 * - after a "! tls" record the session is in TLS (mc_session_in_tls);
 * - split invariance: the same records with every data record re-cut into
 *   pieces (same order, nothing else changed) give the identical list of
 *   findings (rule, direction, offset), the same count of findings
 *   suppressed by the per-rule cap and the same TLS state at the end.
 */
#include "fuzz_common.h"

#include <stdbool.h>

#include "session/session.h"

#define SESSION_NAME "fuzz-smtp"

struct run {
    struct fz_sess c;
    uint32_t per_rule[MC_RULE_COUNT];
};

FZ_ORACLE
static void on_finding(void *ctx, const struct mc_finding *f)
{
    struct run *r = ctx;
    enum mc_proto proto = mc_session_proto(r->c.s);

    /* with detection the server's first octet may make it POP3 or IMAP
     * (their own targets check those in depth) */
    FZ_CHECK(proto == MC_PROTO_SMTP || proto == MC_PROTO_POP3 || proto == MC_PROTO_IMAP);
    fz_sess_finding(&r->c, f, SESSION_NAME, r->per_rule);
}

static void run_once(struct run *r, const uint8_t *data, size_t size, bool cut)
{
    struct fz_rng rng;
    const uint8_t opts = data[0];
    bool saw_tls;

    memset(r, 0, sizeof(*r));
    fz_sess_start(&r->c, data, size, SESSION_NAME, (opts & 4) ? MC_PROTO_UNKNOWN : MC_PROTO_SMTP,
                  on_finding, r, &rng);
    if (opts & 8)
        mc_session_set_submission(r->c.s);
    saw_tls = fz_sess_records(&r->c, data, size, &rng, cut);
    fz_sess_finish(&r->c, SESSION_NAME);
    /* findings over the per-rule cap are counted: they must agree too */
    fz_log_u64(&r->c.log, 0x5b5b5b5bull);
    fz_log_u64(&r->c.log, mc_session_suppressed(r->c.s));
    if (!(opts & 4)) {
        FZ_CHECK(mc_session_proto(r->c.s) == MC_PROTO_SMTP && mc_session_validated(r->c.s));
        /* a TLS marker switches the session to TLS for good */
        if (saw_tls)
            FZ_CHECK(mc_session_in_tls(r->c.s));
    }
    fz_log_u64(&r->c.log, mc_session_in_tls(r->c.s));
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
