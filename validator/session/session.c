/* The generic session: protocol detection, origin tracking, dispatch. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Client octets held while the protocol is not yet known (the client may
 * speak first, e.g. a capture that starts mid-stream). Beyond this they are
 * dropped and announced to the protocol as a gap. */
#define MC_DETECT_HOLD 4096
/* Runs of held data (each with the gap after it) and chunk origins kept. */
#define MC_DETECT_RECORDS 64

struct held {
    uint32_t at, len;        /* a run of data in hold[] ... */
    uint64_t gap;            /* ... then this many octets missing */
    struct mc_origin gap_origin;
};

/* Where each held chunk came from (frame, transcript line), so findings in
 * held octets still name their own chunk; past the bound, later chunks
 * count as part of the one before (origins only, never the data). */
struct held_origin {
    uint32_t at;
    struct mc_origin o;
};

/* What is held before detection. Allocated by the first client octet or
 * gap that must wait and freed once replayed: most sessions know their
 * protocol from the start (a capture's port, a transcript's first server
 * line) and never need it, and it is a third of a session's size, which
 * counts when a capture keeps a thousand sessions open at once. */
struct detect_hold {
    uint8_t hold[MC_DETECT_HOLD];
    size_t hold_len;
    struct held held[MC_DETECT_RECORDS];
    unsigned n_held;
    struct held_origin origins[MC_DETECT_RECORDS];
    unsigned n_origins;
};

struct mc_session {
    struct mc_session_ctx ctx;
    const struct mc_proto_ops *ops;
    void *proto_state;
    bool detected;
    bool closed[2];
    bool finished;
    struct detect_hold *dh;    /* NULL until something must be held */
    uint64_t dh_lost;          /* octets to hold when dh could not be allocated */
    struct mc_origin dh_lost_origin;
    bool hold_full;            /* held octets overflowed into a gap */
    int pending_tls;           /* TLS marker before detection: 1 opaque, 2 decrypted */
    bool submission;
    unsigned version;        /* mc_session_set_version */
    void (*tls_turned)(void *arg, enum mc_dir d, uint64_t off);   /* mc_session_on_tls_turn */
    void *tls_turned_arg;
    bool turned[2];
    char name[128];
};

static void record_origin(struct mc_session_ctx *c, enum mc_dir d, const struct mc_origin *o)
{
    unsigned h;
    if (!o)
        return;
    c->current = *o;
    h = c->ring_head[d];
    c->ring[d][h].off = c->pos[d];
    c->ring[d][h].o = *o;
    c->ring_head[d] = (h + 1) % MC_ORIGIN_RING;
    if (c->ring_count[d] < MC_ORIGIN_RING)
        c->ring_count[d]++;
}

static struct mc_origin origin_of(const struct mc_session_ctx *c, enum mc_dir d, uint64_t off)
{
    struct mc_origin best = {0, 0};
    unsigned n = c->ring_count[d];
    /* newest first: the chunk with the largest start offset <= off */
    for (unsigned i = 0; i < n; i++) {
        unsigned idx = (c->ring_head[d] + MC_ORIGIN_RING - 1 - i) % MC_ORIGIN_RING;
        best = c->ring[d][idx].o;
        if (c->ring[d][idx].off <= off)
            break;
    }
    return best;
}

/* Reports a finding of rule r at offset off; origin NULL: the chunk that
 * carried off. */
static void emit_v(struct mc_session_ctx *c, enum mc_rule r, uint64_t off,
                   const struct mc_origin *origin, const char *excerpt, const char *fmt,
                   va_list ap)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 0)))
#endif
    ;
static void emit_v(struct mc_session_ctx *c, enum mc_rule r, uint64_t off,
                   const struct mc_origin *origin, const char *excerpt, const char *fmt,
                   va_list ap)
{
    const struct mc_rule_info *ri = mc_rule_info(r);
    struct mc_finding f;
    if (c->out_of_memory || !mc_policy_enabled(c->policy, r))
        return;
    if (c->per_rule[r] >= MC_FINDINGS_PER_RULE) {
        c->suppressed++;
        return;
    }
    c->per_rule[r]++;
    memset(&f, 0, sizeof(f));
    f.rule = r;
    f.severity = mc_policy_severity_of(c->policy, r);
    f.side = ri->side;
    f.proto = ri->proto;
    f.dir = ri->side == MC_SIDE_CLIENT ? MC_DIR_C2S : MC_DIR_S2C;
    f.session = c->name;
    f.offset = off;
    f.origin = origin ? *origin : origin_of(c, f.dir, off);
    if (excerpt)
        snprintf(f.excerpt, sizeof(f.excerpt), "%s", excerpt);
    if (fmt) {
        vsnprintf(f.message, sizeof(f.message), fmt, ap);
    } else {
        snprintf(f.message, sizeof(f.message), "%s", ri->summary);
    }
    if (c->per_rule[r] == MC_FINDINGS_PER_RULE) {
        size_t l = strlen(f.message);
        snprintf(f.message + l, sizeof(f.message) - l, " [%d findings of this rule; later ones "
                 "in this session are counted, not shown]", MC_FINDINGS_PER_RULE);
    }
    c->findings++;
    if (c->fn)
        c->fn(c->fn_ctx, &f);
}

void mc__emit(struct mc_session_ctx *c, enum mc_rule r, uint64_t off, const char *excerpt,
              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit_v(c, r, off, NULL, excerpt, fmt, ap);
    va_end(ap);
}

static void emit_at(struct mc_session_ctx *c, enum mc_rule r, uint64_t off,
                    const struct mc_origin *origin, const char *excerpt, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;
static void emit_at(struct mc_session_ctx *c, enum mc_rule r, uint64_t off,
                    const struct mc_origin *origin, const char *excerpt, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit_v(c, r, off, origin, excerpt, fmt, ap);
    va_end(ap);
}

void mc_session_report(struct mc_session *s, enum mc_rule r, const struct mc_origin *o,
                       uint64_t off, const char *excerpt, const char *msg)
{
    if (msg)
        emit_at(&s->ctx, r, off, o, excerpt, "%s", msg);
    else
        emit_at(&s->ctx, r, off, o, excerpt, NULL);
}

void mc__emit_line(struct mc_session_ctx *c, enum mc_rule r, uint64_t off,
                   const struct mc_span *line, const struct mc_span *secret, const char *msg)
{
    char ex[MC_EXCERPT_MAX];
    ex[0] = '\0';
    if (line && line->ptr)
        mc_excerpt(ex, line->ptr, line->len, line->off, secret ? secret->off : 0,
                   secret ? secret->len : 0);
    if (msg)
        mc__emit(c, r, off, ex[0] ? ex : NULL, "%s", msg);
    else
        mc__emit(c, r, off, ex[0] ? ex : NULL, NULL);
}

void mc__emit_anom(struct mc_session_ctx *c, enum mc_proto proto, enum mc_side side,
                   const struct mc_anom_hit *h, const struct mc_span *line,
                   const struct mc_span *secret)
{
    enum mc_rule r;
    enum mc_anom code = (enum mc_anom)h->code;
    char msg[MC_MESSAGE_MAX];
    if (!mc_rule_for_anom(code, proto, side, &r))
        return;
    snprintf(msg, sizeof(msg), "%s: %s", mc_rule_info(r)->summary, mc_anom_desc(code));
    mc__emit_line(c, r, h->off, line, secret, msg);
}

void mc__emit_anoms(struct mc_session_ctx *c, enum mc_proto proto, enum mc_side side,
                    const struct mc_anoms *a, const struct mc_span *line,
                    const struct mc_span *secret)
{
    for (unsigned i = 0; i < a->n; i++)
        mc__emit_anom(c, proto, side, &a->hit[i], line, secret);
}

void mc__out_of_memory(struct mc_session_ctx *c)
{
    if (c->out_of_memory)
        return;
    c->out_of_memory = true;
    c->oom_at = c->current;
}

static const struct mc_proto_ops *ops_for(enum mc_proto p)
{
    switch (p) {
    case MC_PROTO_POP3:
        return &mc_pop3_ops;
    case MC_PROTO_SMTP:
        return &mc_smtp_ops;
    case MC_PROTO_IMAP:
        return &mc_imap_ops;
    default:
        return NULL;
    }
}

static bool set_proto(struct mc_session *s, enum mc_proto p)
{
    s->ctx.proto = p;
    s->detected = true;
    s->ops = ops_for(p);
    if (!s->ops)
        return true;
    s->proto_state = calloc(1, s->ops->size);
    if (!s->proto_state) {
        s->ops = NULL;
        mc__out_of_memory(&s->ctx);
        return false;
    }
    s->ops->init(s->proto_state, &s->ctx);
    if (s->submission && s->ops->set_submission)
        s->ops->set_submission(s->proto_state, true);
    if (s->version && s->ops->set_version)
        s->ops->set_version(s->proto_state, s->version);
    if (s->pending_tls && s->ops->tls)
        s->ops->tls(s->proto_state, s->pending_tls == 2);
    return true;
}

/* Holds client octets (or a client gap) until the protocol is known. A
 * record is a run of data and the gap that follows it, so consecutive data
 * extends the last record and a gap is added to it: the records depend only
 * on the sequence of data and gaps, never on how the data was cut into
 * chunks. What does not fit (octets or records) becomes a gap, so offsets
 * stay exact and memory is bounded. */
static void hold_client(struct mc_session *s, const uint8_t *buf, size_t len, uint64_t gap,
                        const struct mc_origin *origin)
{
    struct detect_hold *dh = s->dh;
    struct held *last;
    size_t room, take;
    struct mc_origin o = origin ? *origin : (struct mc_origin){0, 0};

    if (!dh && !s->dh_lost) {
        dh = s->dh = malloc(sizeof(*dh));
        if (dh)
            dh->hold_len = dh->n_held = dh->n_origins = 0;   /* the rest is written before read */
    }
    if (!dh) {
        /* out of memory: everything until detection is one gap, so
         * offsets stay exact; the session stops at detection */
        if (!s->dh_lost)
            s->dh_lost_origin = o;
        s->dh_lost += len + gap;
        return;
    }
    last = dh->n_held ? &dh->held[dh->n_held - 1] : NULL;
    room = MC_DETECT_HOLD - dh->hold_len;
    take = len < room ? len : room;

    /* once octets became a gap, later ones must too (order is kept) */
    if (s->hold_full)
        take = 0;
    if (take > 0) {
        if (last && last->len && !last->gap) {
            last->len += (uint32_t)take;
        } else if (dh->n_held < MC_DETECT_RECORDS) {
            last = &dh->held[dh->n_held++];
            last->at = (uint32_t)dh->hold_len;
            last->len = (uint32_t)take;
            last->gap = 0;
        } else {
            take = 0;
        }
        if (take > 0 && dh->n_origins < MC_DETECT_RECORDS)
            dh->origins[dh->n_origins++] = (struct held_origin){(uint32_t)dh->hold_len, o};
        memcpy(dh->hold + dh->hold_len, buf, take);
        dh->hold_len += take;
    }
    if (len > take)
        s->hold_full = true;
    gap += len - take;
    if (gap == 0)
        return;
    if (!last) {
        last = &dh->held[dh->n_held++];
        memset(last, 0, sizeof(*last));
    }
    if (last->gap == 0)
        last->gap_origin = o;
    last->gap += gap;
}

struct mc_session *mc_session_new(const char *name, enum mc_proto proto, mc_finding_fn fn,
                                  void *fn_ctx)
{
    struct mc_session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    snprintf(s->name, sizeof(s->name), "%s", name ? name : "session");
    s->ctx.name = s->name;
    s->ctx.fn = fn;
    s->ctx.fn_ctx = fn_ctx;
    if (proto != MC_PROTO_UNKNOWN && !set_proto(s, proto)) {
        free(s);
        return NULL;
    }
    return s;
}

static enum mc_proto sniff(const uint8_t *b, size_t n)
{
    if (n >= 1 && (b[0] == '+' || b[0] == '-'))
        return MC_PROTO_POP3;
    if (n >= 1 && b[0] == '*')
        return MC_PROTO_IMAP;
    if (n >= 1 && b[0] >= '1' && b[0] <= '5')
        return MC_PROTO_SMTP;
    if (n >= 1 && b[0] == 0x16)
        return MC_PROTO_TLS;
    return MC_PROTO_UNKNOWN;
}

static void deliver(struct mc_session *s, enum mc_dir dir, const uint8_t *buf, size_t len,
                    const struct mc_origin *origin);
static void do_gap(struct mc_session *s, enum mc_dir dir, uint64_t n, const struct mc_origin *origin);

static void replay_held(struct mc_session *s)
{
    unsigned k = 0; /* next origin */
    struct mc_origin cur = {0, 0};
    struct detect_hold *dh = s->dh;
    if (!dh) {
        if (s->dh_lost) {
            /* the client's first octets could not be held */
            s->ctx.current = s->dh_lost_origin;
            mc__out_of_memory(&s->ctx);
        }
        s->dh_lost = 0;
        return;
    }
    for (unsigned i = 0; i < dh->n_held; i++) {
        const struct held *h = &dh->held[i];
        uint32_t at = h->at, end = h->at + h->len;
        /* the run, cut where its chunks began (each keeps its origin) */
        while (at < end) {
            uint32_t stop = end;
            while (k < dh->n_origins && dh->origins[k].at <= at)
                cur = dh->origins[k++].o;
            if (k < dh->n_origins && dh->origins[k].at < end)
                stop = dh->origins[k].at;
            deliver(s, MC_DIR_C2S, dh->hold + at, stop - at, &cur);
            at = stop;
        }
        if (h->gap)
            do_gap(s, MC_DIR_C2S, h->gap, &h->gap_origin);
    }
    free(dh);
    s->dh = NULL;
}

static void deliver(struct mc_session *s, enum mc_dir dir, const uint8_t *buf, size_t len,
                    const struct mc_origin *origin)
{
    record_origin(&s->ctx, dir, origin);
    s->ctx.pos[dir] += len;
    if (s->ops)
        s->ops->data(s->proto_state, dir, buf, len);
}

void mc_session_data(struct mc_session *s, enum mc_dir dir, const uint8_t *buf, size_t len,
                     const struct mc_origin *origin)
{
    if (len == 0 || s->finished || s->ctx.out_of_memory)
        return;
    if (!s->detected) {
        if (dir == MC_DIR_C2S) {
            hold_client(s, buf, len, 0, origin);
            return;
        }
        if (origin)
            s->ctx.current = *origin;   /* where a failure below stops it */
        if (!set_proto(s, sniff(buf, len)))
            return;
        /* Replay held client octets in order before the server's. */
        replay_held(s);
        if (s->ctx.out_of_memory)
            return;
    }
    deliver(s, dir, buf, len, origin);
}

void mc_session_set_policy(struct mc_session *s, const struct mc_policy *p)
{
    s->ctx.policy = p;
}

void mc_session_set_submission(struct mc_session *s)
{
    s->submission = true;
    if (s->ops && s->ops->set_submission)
        s->ops->set_submission(s->proto_state, true);
}

void mc_session_set_version(struct mc_session *s, unsigned rfc)
{
    s->version = rfc;
    if (s->ops && s->ops->set_version)
        s->ops->set_version(s->proto_state, rfc);
}

void mc_session_tls(struct mc_session *s, bool decrypted, const struct mc_origin *origin)
{
    (void)origin;
    if (!s->detected) {
        /* implicit TLS (POP3S with a key log): applied once detected */
        s->pending_tls = decrypted ? 2 : 1;
        return;
    }
    if (s->ops && s->ops->tls)
        s->ops->tls(s->proto_state, decrypted);
}

/* The TLS switch of the protocol session found where d turned to TLS
 * records (session.h, tls_turn). */
static void tls_turn(struct mc_session_ctx *c, enum mc_dir d, uint64_t off)
{
    struct mc_session *s = (struct mc_session *)c;   /* ctx is the first member */
    s->turned[d] = true;
    if (s->tls_turned)
        s->tls_turned(s->tls_turned_arg, d, off);
    /* both sides are inside TLS: as after a `! tls decrypted` marker */
    if (s->turned[MC_DIR_C2S] && s->turned[MC_DIR_S2C] && s->ops && s->ops->tls)
        s->ops->tls(s->proto_state, true);
}

void mc_session_on_tls_turn(struct mc_session *s,
                            void (*turned)(void *arg, enum mc_dir d, uint64_t off), void *arg)
{
    s->tls_turned = turned;
    s->tls_turned_arg = arg;
    s->ctx.tls_turn = turned ? tls_turn : NULL;
}

uint64_t mc_session_offset(const struct mc_session *s, enum mc_dir d)
{
    return s->ctx.pos[d];
}

static void do_gap(struct mc_session *s, enum mc_dir dir, uint64_t n, const struct mc_origin *origin)
{
    record_origin(&s->ctx, dir, origin);
    s->ctx.pos[dir] += n;
    if (s->ops)
        s->ops->gap(s->proto_state, dir, n);
}

void mc_session_gap(struct mc_session *s, enum mc_dir dir, uint64_t n, const struct mc_origin *origin)
{
    if (n == 0 || s->finished || s->ctx.out_of_memory)
        return;
    if (!s->detected) {
        if (dir == MC_DIR_C2S)
            hold_client(s, NULL, 0, n, origin);
        else
            s->ctx.pos[dir] += n; /* before the first server byte: nothing to resync */
        return;
    }
    do_gap(s, dir, n, origin);
}

void mc_session_close(struct mc_session *s, enum mc_dir dir, const struct mc_origin *origin)
{
    if (s->closed[dir] || s->ctx.out_of_memory)
        return;
    s->closed[dir] = true;
    /* a side that closed without sending anything: findings about it
     * (a server that closed without a greeting) name the close itself */
    if (s->ctx.ring_count[dir] == 0)
        record_origin(&s->ctx, dir, origin);
    if (s->ops)
        s->ops->close(s->proto_state, dir);
}

void mc_session_mark(struct mc_session *s, const struct mc_origin *origin)
{
    for (int d = 0; d < 2; d++)
        if (s->ctx.ring_count[d] == 0)
            record_origin(&s->ctx, (enum mc_dir)d, origin);
}

void mc_session_finish(struct mc_session *s)
{
    if (s->finished)
        return;
    s->ctx.finishing = true;
    mc_session_close(s, MC_DIR_C2S, NULL);
    mc_session_close(s, MC_DIR_S2C, NULL);
    s->finished = true;
}

void mc_session_free(struct mc_session *s)
{
    if (!s)
        return;
    if (s->proto_state && s->ops && s->ops->release)
        s->ops->release(s->proto_state);
    free(s->proto_state);
    free(s->dh);
    free(s);
}

enum mc_proto mc_session_proto(const struct mc_session *s)
{
    return s->ctx.proto;
}

bool mc_session_in_tls(const struct mc_session *s)
{
    return s->ops && s->ops->in_tls && s->ops->in_tls(s->proto_state);
}

bool mc_session_validated(const struct mc_session *s)
{
    return s->ops != NULL;
}

const char *mc_session_name(const struct mc_session *s)
{
    return s->name;
}

void mc_session_abandon(struct mc_session *s, const struct mc_origin *at)
{
    if (at)
        s->ctx.current = *at;
    mc__out_of_memory(&s->ctx);
}

bool mc_session_out_of_memory(const struct mc_session *s, struct mc_origin *at)
{
    if (at)
        *at = s->ctx.oom_at;
    return s->ctx.out_of_memory;
}

uint64_t mc_session_findings(const struct mc_session *s)
{
    return s->ctx.findings;
}

uint64_t mc_session_suppressed(const struct mc_session *s)
{
    return s->ctx.suppressed;
}
