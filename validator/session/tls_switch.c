/* The switch to TLS shared by the protocol sessions (tls_switch.h). */
#include "tls_switch.h"

bool mc_tls_record_type(uint8_t c)
{
    return c >= 0x14 && c <= 0x18;
}

void mc_tls_go_opaque(struct mc_tls *t, const struct mc_tls_ops *ops, void *s, enum mc_dir d)
{
    t->opaque[d] = true;
    ops->went_opaque(s, d);
    if (t->opaque[MC_DIR_C2S] && t->opaque[MC_DIR_S2C])
        t->state = MC_TLS_OPAQUE;
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
            if (len == 0)
                return;
            if (t->opaque[d])
                goto records;
            /* a line damaged by a gap cannot be told from TLS: assume TLS */
            if (ops->resyncing(s, d) ||
                (ops->at_line_start(s, d) && mc_tls_record_type(buf[0]))) {
                mc_tls_go_opaque(t, ops, s, d);
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
