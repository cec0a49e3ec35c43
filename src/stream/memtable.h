/*
 * Memory tables (issue 12): what memory sinks write and ad-hoc SQL reads
 * (sl_context_sql, src/sql/mem_query.c). Each table holds its rows in
 * immutable, reference-counted segments (one per applied batch), so a
 * reader's snapshot shares them without copying; the table's lock is held
 * only to copy its segment list. The context owns the registry and the
 * query engine (one worker) that ad-hoc queries run on.
 */
#ifndef SL_STREAM_MEMTABLE_H
#define SL_STREAM_MEMTABLE_H

#include <sluice/sink.h>
#include <sluice/stream.h>

#include "core/core.h"

typedef struct sl__memreg sl__memreg;
typedef struct sl__memseg sl__memseg;

/* A new, empty registry (NULL: no memory); freed with the context. */
sl__memreg *sl__memreg_new(void);
/* Free every table and the query engine. NULL ok. */
void sl__memreg_free(sl__memreg *r);

/* One run of rows of a snapshot: rows[0..n) (borrowed from seg). */
typedef struct sl__mempart {
    sl__memseg *seg;
    const sl_value *rows;
    size_t n;
} sl__mempart;

/* A table as a snapshot saw it: its name, schema (a reference), and its
 * rows as parts, oldest first. */
typedef struct sl__memview {
    char *name;
    sl_schema *schema;
    sl__mempart *parts;
    size_t nparts, nrows;
} sl__memview;

typedef struct sl__memsnap {
    sl__memview *tables;
    size_t n;
} sl__memsnap;

/* A snapshot of every memory table of ctx (any thread): each table as
 * its last applied batch left it. SL_ENOMEM. */
sl_status sl__memtables_snapshot(sl_context *ctx, sl__memsnap **out);
/* Release a snapshot's references. NULL ok. */
void sl__memsnap_free(sl__memsnap *s);

/*
 * The query engine of ctx, made on first use (1 worker, the context's
 * logger), with the query lock taken: one ad-hoc query runs at a time
 * per context, so the engine's scope is never shared between threads.
 * sl__query_end clears the engine and releases the lock. SL_ENOMEM with
 * the lock released.
 */
sl_status sl__query_begin(sl_context *ctx, sl_engine **eng);
void sl__query_end(sl_context *ctx);
/* The memory sink's methods and the sink state of ctx's table `name`
 * (NULL: none), for tests that drive a sink's batches by hand (a batch
 * id written again, a commit called twice). */
const sl_sink_ops *sl__memtable_ops(void);
void *sl__memtable_state(sl_context *ctx, const char *name);
/* ctx's conf (borrowed), for the query limits. */
const sl_conf *sl__context_conf(const sl_context *ctx);

#endif /* SL_STREAM_MEMTABLE_H */
