// SPDX-License-Identifier: MIT
// Exact accounting under load: 16 threads each make OPS mixed malloc/calloc/realloc/free calls
// (default one million) and hand blocks to each other through mutex queues, so about one block
// in six is freed by another thread than the one that allocated it.
//
//   usage: stress [OPS_PER_THREAD]        (the integration test passes a smaller count)
//
// Ground truth, counted by the program itself and printed as the last line:
//   allocations  every malloc, calloc and realloc call (realloc(p, n) of a live p counts as one
//                allocation and one free, as memtrace counts it: the old block is released and
//                a new one allocated, even when the address stays the same);
//   frees        every free of a block, plus the release half of each realloc(p, n);
//   leaked_*     the blocks kept on purpose at the end (the first LEAK_SLOTS slots of each
//                thread that hold a block), with their exact sizes; the workers' slots still
//                point to them at exit, so the leak check must call them all reachable.
// and on a second line, `memtrace-stress: cross_frees=C reused=R`: C blocks freed by another
// thread than the one that allocated them, R times malloc, calloc or realloc returned to a
// thread an address that another thread had freed last (address reuse across threads, which
// the log must order: that free before this allocation). R is a lower bound (a table of the
// last freer per address, overwritten on collisions) and depends on the allocator's timing.
// Sizes are never 0 and realloc never gets 0 or NULL, so no call has an ambiguous meaning.
// Each thread draws its operations from its own xorshift generator: the counts depend only on
// the queues' timing, which the counters follow exactly whatever it is.
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS 16
#define SLOTS 1024
#define QUEUE 4096
#define LEAK_SLOTS 4
#define FREERS (1u << 18)

typedef struct item {
    void *p;
    size_t size;
} item_t;

typedef struct queue {
    pthread_mutex_t lock;
    item_t v[QUEUE];
    size_t head, n;
} queue_t;

typedef struct worker {
    int id;
    uint64_t rng;
    item_t slots[SLOTS];
    uint64_t allocations, frees, leaked_bytes, leaked_blocks, cross_frees, reused;
} worker_t;

static queue_t queues[THREADS];
static worker_t workers[THREADS];
static long ops_per_thread = 1000000;
static pthread_barrier_t barrier;
/* The thread that freed an address last: (address >> 4) << 8 | thread, at a hash of the address.
 * Stored before the free, so that the thread malloc hands the address to next sees it. */
static _Atomic uint64_t last_freer[FREERS];

static size_t freer_slot(const void *p)
{
    return (size_t)(((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull >> 46) % FREERS;
}

static void note_free(const worker_t *w, const void *p)
{
    atomic_store_explicit(&last_freer[freer_slot(p)],
                          (uint64_t)((uintptr_t)p >> 4) << 8 | (uint64_t)w->id,
                          memory_order_relaxed);
}

static void note_alloc(worker_t *w, const void *p)
{
    uint64_t v = atomic_load_explicit(&last_freer[freer_slot(p)], memory_order_relaxed);
    if (v >> 8 == (uint64_t)((uintptr_t)p >> 4) && (int)(v & 0xff) != w->id)
        w->reused++;
}

static uint64_t next(worker_t *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

static size_t draw_size(worker_t *w)
{
    uint64_t r = next(w);
    return (r & 7) == 0 ? 1 + (size_t)(r >> 8) % 16384 : 1 + (size_t)(r >> 8) % 256;
}

static void die(const char *what)
{
    (void)!write(2, what, strlen(what));
    abort();
}

/* Puts a block into thread t's queue; false when it is full. */
static int hand_over(int t, item_t it)
{
    queue_t *q = &queues[t];
    pthread_mutex_lock(&q->lock);
    int ok = q->n < QUEUE;
    if (ok)
        q->v[(q->head + q->n++) % QUEUE] = it;
    pthread_mutex_unlock(&q->lock);
    return ok;
}

/* Frees up to max blocks other threads handed to w. */
__attribute__((noinline)) static void drain(worker_t *w, size_t max)
{
    queue_t *q = &queues[w->id];
    item_t got[64];
    size_t n = 0;
    pthread_mutex_lock(&q->lock);
    while (q->n > 0 && n < max && n < 64) {
        got[n++] = q->v[q->head];
        q->head = (q->head + 1) % QUEUE;
        q->n--;
    }
    pthread_mutex_unlock(&q->lock);
    for (size_t i = 0; i < n; i++) {
        note_free(w, got[i].p);
        free(got[i].p);
        w->frees++;
        w->cross_frees++;
    }
}

__attribute__((noinline)) static void one_op(worker_t *w)
{
    uint64_t r = next(w);
    item_t *s = &w->slots[(r >> 32) % SLOTS];
    unsigned op = (unsigned)(r % 100);
    if (!s->p) {
        size_t size = draw_size(w);
        if (op < 50) {
            s->p = malloc(size);
        } else if (op < 75) {
            size_t n = 1 + size % 8;
            size = (size + n - 1) / n;
            s->p = calloc(n, size);
            size *= n;
        } else {
            s->p = realloc(NULL, size); /* an allocation, nothing released */
        }
        if (!s->p)
            die("stress: out of memory\n");
        note_alloc(w, s->p);
        memset(s->p, 0x5a, size < 64 ? size : 64);
        s->size = size;
        w->allocations++;
    } else if (op < 30) {
        size_t size = draw_size(w);
        note_free(w, s->p);
        void *q = realloc(s->p, size);
        if (!q)
            die("stress: out of memory\n");
        note_alloc(w, q);
        s->p = q;
        s->size = size;
        w->frees++;
        w->allocations++;
    } else if (op < 70) {
        note_free(w, s->p);
        free(s->p);
        s->p = NULL;
        w->frees++;
    } else {
        int to = (int)((r >> 16) % THREADS);
        if (to != w->id && hand_over(to, *s)) {
            s->p = NULL; /* counted as freed by the receiver */
        } else {
            note_free(w, s->p);
            free(s->p);
            s->p = NULL;
            w->frees++;
        }
    }
}

static void *run_worker(void *arg)
{
    worker_t *w = arg;
    for (long i = 0; i < ops_per_thread; i++) {
        one_op(w);
        if ((i & 15) == 0)
            drain(w, 16);
    }
    pthread_barrier_wait(&barrier); /* nobody hands anything over after this */
    drain(w, SIZE_MAX);
    while (queues[w->id].n > 0)
        drain(w, SIZE_MAX);
    size_t kept = 0;
    for (size_t i = 0; i < SLOTS; i++) {
        if (!w->slots[i].p)
            continue;
        if (kept < LEAK_SLOTS) {
            kept++;
            w->leaked_bytes += w->slots[i].size;
            w->leaked_blocks++;
        } else {
            note_free(w, w->slots[i].p);
            free(w->slots[i].p);
            w->frees++;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        char *end;
        ops_per_thread = strtol(argv[1], &end, 10);
        if (*end || ops_per_thread < 1) {
            fprintf(stderr, "usage: stress [OPS_PER_THREAD]\n");
            return 2;
        }
    }
    pthread_t th[THREADS];
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (int t = 0; t < THREADS; t++) {
        pthread_mutex_init(&queues[t].lock, NULL);
        workers[t].id = t;
        workers[t].rng = 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1);
    }
    for (int t = 0; t < THREADS; t++)
        if (pthread_create(&th[t], NULL, run_worker, &workers[t]) != 0)
            die("stress: pthread_create failed\n");
    uint64_t allocations = 0, frees = 0, leaked_bytes = 0, leaked_blocks = 0, cross_frees = 0,
             reused = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        allocations += workers[t].allocations;
        frees += workers[t].frees;
        leaked_bytes += workers[t].leaked_bytes;
        leaked_blocks += workers[t].leaked_blocks;
        cross_frees += workers[t].cross_frees;
        reused += workers[t].reused;
    }
    char line[300];
    int n = snprintf(line, sizeof line,
                     "memtrace-sample: allocations=%llu frees=%llu leaked_bytes=%llu "
                     "leaked_blocks=%llu\nmemtrace-stress: cross_frees=%llu reused=%llu\n",
                     (unsigned long long)allocations, (unsigned long long)frees,
                     (unsigned long long)leaked_bytes, (unsigned long long)leaked_blocks,
                     (unsigned long long)cross_frees, (unsigned long long)reused);
    return write(1, line, (size_t)n) == n ? 0 : 1;
}
