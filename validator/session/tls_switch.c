/* The switch to TLS shared by the protocol sessions (tls_switch.h). */
#include "tls_switch.h"
#include "session.h"

#include <string.h>

bool mc_tls_record_type(uint8_t c)
{
    return c >= 0x14 && c <= 0x18;
}

/* d turns to TLS records; rest: octets of the chunk being fed from the
 * first record on (0 after a gap). With a decrypting caller they are
 * handed over (true: the caller has them, the session forgets them). */
static bool turn(struct mc_tls *t, const struct mc_tls_ops *ops, void *s, enum mc_dir d,
                 size_t rest)
{
    struct mc_session_ctx *c = t->ctx;
    bool decrypting = c && c->tls_turn;
    uint64_t off;
    if (t->opaque[d])
        return decrypting;
    t->opaque[d] = true;
    t->plain[d] = decrypting;
    ops->went_opaque(s, d);
    if (t->opaque[MC_DIR_C2S] && t->opaque[MC_DIR_S2C])
        t->state = t->plain[MC_DIR_C2S] && t->plain[MC_DIR_S2C] ? MC_TLS_PLAIN : MC_TLS_OPAQUE;
    if (!decrypting)
        return false;
    /* the records are not the session's: its offsets go on with the
     * plaintext the caller feeds back */
    off = c->pos[d] - rest;
    c->pos[d] = off;
    c->tls_turn(c, d, off);
    return true;
}

void mc_tls_go_opaque(struct mc_tls *t, const struct mc_tls_ops *ops, void *s, enum mc_dir d)
{
    (void)turn(t, ops, s, d, 0);
}

void mc_tls_data(struct mc_tls *t, const struct mc_tls_ops *ops, void *s, enum mc_dir d,
                 const uint8_t *buf, size_t len)
{
    for (;;) {
        size_t used;
        switch (t->state) {
        case MC_TLS_NONE:
        case MC_TLS_PLAIN:
            if (len == 0 && !(ops->event_due && ops->event_due(s, d)))
                return;
            break;
        case MC_TLS_STARTING:
            if (t->plain[d]) {   /* decrypted plaintext of a direction that turned */
                if (len == 0 && !(ops->event_due && ops->event_due(s, d)))
                    return;
                break;
            }
            if (len == 0)
                return;
            if (t->opaque[d])
                goto records;
            /* a line damaged by a gap cannot be told from TLS: assume TLS */
            if (ops->resyncing(s, d) ||
                (ops->at_line_start(s, d) && mc_tls_record_type(buf[0]))) {
                if (turn(t, ops, s, d, len))
                    return;   /* handed over to the decrypting caller */
                goto records;
            }
            break;
        case MC_TLS_OPAQUE:
            goto records;
        case MC_TLS_MAYBE:
            if (len == 0)
                return;
            /* settled by the client alone: after a go-ahead it sends its
             * ClientHello, after a refusal its next command. The server's
             * octets are parsed meanwhile (they may be the answer itself);
             * deciding on them would depend on how the server's data was
             * cut, since a parser skipping a damaged line reads on into
             * the next one without an event. */
            if (d == MC_DIR_C2S && !ops->resyncing(s, d) && ops->at_line_start(s, d)) {
                bool tls = mc_tls_record_type(buf[0]);
                t->state = tls ? MC_TLS_STARTING : MC_TLS_NONE;
                if (ops->maybe_settled)
                    ops->maybe_settled(s, tls);
                continue;
            }
            /* a client parser skipping a damaged line reads on into the
             * next one without an event: stop it at the line's end so the
             * next line's first octet is looked at here, however the
             * client's data was cut */
            if (d == MC_DIR_C2S && ops->resyncing(s, d)) {
                const uint8_t *nl = memchr(buf, '\n', len);
                if (nl) {
                    used = ops->feed_one(s, d, buf, (size_t)(nl - buf) + 1);
                    buf += used;
                    len -= used;
                    continue;
                }
            }
            break;
        }
        /* one event; the loop then looks at the state it left */
        used = ops->feed_one(s, d, buf, len);
        buf += used;
        len -= used;
    }
records:
    if (len > 0)
        ops->skip(s, d, len);
}
