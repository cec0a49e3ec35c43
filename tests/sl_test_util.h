/*
 * Helpers shared by the test programs (compiled into each by sl_test() in
 * tests/CMakeLists.txt): engine and context constructors, a growable text
 * buffer, values as canonical JSON text, files, a failing allocator and
 * the per-record functions several suites run.
 */
#ifndef SL_TEST_UTIL_H
#define SL_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/sluice.h>

/* ------------------------------------------------ engines and contexts */

/*
 * An engine or a context made from settings: name, value pairs ending with
 * NULL, set in order on a new conf. Returns SL_OK, the status of the first
 * setting that failed, or SL_ENOMEM when the conf or the constructor could
 * not be made; err says why. Nothing is left allocated on failure.
 */
sl_status sl_test_engine_open(const char *const *settings, sl_engine **out,
                              char *err, size_t errlen);
sl_status sl_test_context_open(const char *const *settings, sl_context **out,
                               char *err, size_t errlen);

/* An engine of `workers` workers logging errors only, or NULL (the reason
 * is printed). Free it with sl_engine_free. */
sl_engine *sl_test_engine(size_t workers);

/* A logger that drops everything, for tests that provoke failures. */
void sl_test_quiet_log(sl_log_level level, const char *msg, void *user);

/* ----------------------------------------------------------- text */

/* A growable string; {0} is an empty buffer. Aborts when out of memory. */
typedef struct sl_test_buf {
    char *p;
    size_t n, cap;
} sl_test_buf;

void sl_test_buf_put(sl_test_buf *b, const char *s, size_t n);
void sl_test_buf_puts(sl_test_buf *b, const char *s);
void sl_test_buf_printf(sl_test_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The text so far, "" when empty (borrowed from b). */
const char *sl_test_buf_str(const sl_test_buf *b);
/* The text, never NULL; the caller frees it and b is empty again. */
char *sl_test_buf_take(sl_test_buf *b);
void sl_test_buf_free(sl_test_buf *b);

/* strcmp for qsort over an array of char *. */
int sl_test_cmp_str(const void *a, const void *b);

/* strs[0..n-1] joined by sep, sorted first when asked; frees each strs[i]
 * and returns a string the caller frees. */
char *sl_test_join(char **strs, size_t n, const char *sep, bool sorted);

/* v as sl_value_format_json writes it (the caller frees). */
char *sl_test_json(const sl_value *v);

/* The canonical text of records: their JSON joined by sep, sorted when
 * their order does not matter (the caller frees). */
char *sl_test_json_join(const sl_value *v, size_t n, const char *sep,
                        bool sorted);

/* A pair whose two items live in a ring shared by the program: fine for
 * input that parallelize or a queue push copies right away, as a slot is
 * reused once the ring wraps. sl_test_pair_reset starts the ring again. */
sl_value sl_test_pair(sl_value k, sl_value v);
void sl_test_pair_reset(void);

/* ------------------------------------------- files and processes */

/* The whole file at path (the caller frees), its size in *len; NULL when
 * it cannot be opened. */
char *sl_test_read_file(const char *path, size_t *len);
/* Remove path and everything below it. */
void sl_test_remove_tree(const char *path);
/* A new empty directory /tmp/<prefix>XXXXXX, its name for the caller to
 * free (and the tree to remove); NULL, a failed check, when it cannot be
 * made. */
char *sl_test_tmpdir(const char *prefix);
/* path holds the n bytes at p afterwards (created or truncated); a failed
 * check when it cannot be written. */
void sl_test_write_file(const char *path, const void *p, size_t n);
/*
 * Run fn(arg) in a child process that an alarm ends after `seconds`, so
 * that a crash or a hang fails one test rather than the whole program.
 * Returns false when fork failed; else *status is the child's waitpid
 * status (its exit code is fn's result).
 */
bool sl_test_run_in_child(int (*fn)(void *), void *arg, unsigned seconds,
                          int *status);

/* ------------------------------------------------ failing allocator */

/*
 * An allocation hook that lets sl_test_fail_after's count of allocations
 * through, then fails every one until the count is set again (n < 0: never
 * fail, the start). Not thread-safe: for single-threaded unit tests.
 */
const sl_allocator *sl_test_failing_allocator(void);
void sl_test_fail_after(long n);

/* ------------------------------------------------ per-record functions */

/*
 * Functions several suites run, over int records where they compute. Use
 * the library's sl_fn_pair_one (x -> (x, 1), also the first (sum, count)
 * combiner of a value) and sl_fn_sum where those fit.
 */

/* map: x -> x */
sl_status sl_test_fn_identity(sl_task *t, const sl_value *in, sl_value *out,
                              void *user);
/* map: x -> 10 x */
sl_status sl_test_fn_times10(sl_task *t, const sl_value *in, sl_value *out,
                             void *user);
/* combine_by_key over (sum, count) combiners: add a value, merge two. */
sl_status sl_test_fn_sum_count_add(sl_task *t, const sl_value *c,
                                   const sl_value *v, sl_value *out,
                                   void *user);
sl_status sl_test_fn_sum_count_merge(sl_task *t, const sl_value *a,
                                     const sl_value *b, sl_value *out,
                                     void *user);
/* map_partitions: a partition -> its record count */
sl_status sl_test_fn_part_count(sl_task *t, sl_iter *it, void *user);

#endif /* SL_TEST_UTIL_H */
